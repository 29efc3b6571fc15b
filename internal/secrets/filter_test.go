package secrets_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-dev/coffer/internal/secrets"
)

// sec builds a secret for filter tests. tags alternate key, value.
func sec(name, desc string, tags ...string) *secrets.Secret {
	s := &secrets.Secret{Name: name, Description: desc}
	for i := 0; i+1 < len(tags); i += 2 {
		s.Tags = append(s.Tags, secrets.Tag{Key: tags[i], Value: tags[i+1]})
	}
	return s
}

func f(key string, values ...string) secrets.Filter {
	return secrets.Filter{Key: key, Values: values}
}

// names returns the names of the secrets that pass the filters, in order.
func names(t *testing.T, set []*secrets.Secret, filters ...secrets.Filter) []string {
	t.Helper()
	pred, err := secrets.CompileFilters(filters)
	if err != nil {
		t.Fatalf("CompileFilters(%v): %v", filters, err)
	}
	out := []string{}
	for _, s := range set {
		if pred(s) {
			out = append(out, s.Name)
		}
	}
	return out
}

type filterCase struct {
	name    string
	filters []secrets.Filter
	want    []string
}

func runFilterCases(t *testing.T, set []*secrets.Secret, cases []filterCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, names(t, set, tc.filters...)); diff != "" {
				t.Errorf("filters %v: matched secrets (-want +got):\n%s", tc.filters, diff)
			}
		})
	}
}

// LocalStack test_list_secrets_filtering, recorded against AWS
// (spec §3.8 [LS]).
func TestFilterLocalStackAWSValidated(t *testing.T) {
	const (
		n1 = "testing1/one-12345"
		n2 = "/testing2/two-12345"
		n3 = "testing3/three-12345"
		n4 = "/testing4/four-12345"
	)
	set := []*secrets.Secret{
		sec(n1, "a secret"),
		sec(n2, "an secret"),
		sec(n3, "asecret"),
		sec(n4, "thesecret"),
	}
	runFilterCases(t, set, []filterCase{
		{"name slash", []secrets.Filter{f("name", "/")}, []string{n2, n4}},
		{"name not slash", []secrets.Filter{f("name", "!/")}, []string{n1, n3}},
		{"name is a plain prefix, not words", []secrets.Filter{f("name", "testing1 one")}, []string{}},
		{"description a", []secrets.Filter{f("description", "a")}, []string{n1, n2, n3}},
		{"description not a", []secrets.Filter{f("description", "!a")}, []string{n4}},
		{"description all words", []secrets.Filter{f("description", "a secret")}, []string{n1, n2}},
		{"description and name ANDed", []secrets.Filter{f("description", "a"), f("name", "secret")}, []string{}},
		{"description and name an", []secrets.Filter{f("description", "a"), f("name", "an")}, []string{}},
		{"description not c", []secrets.Filter{f("description", "!c")}, []string{n1, n2, n3, n4}},
	})
}

// moto test_with_all_filter, aws_verified (spec §3.8 [MOTO]). The suffix is
// a random hex string in the original; try several shapes.
func TestFilterAllMotoAWSVerified(t *testing.T) {
	for _, u := range []string{"3f2a1c", "d3f2a1", "0d9e8f", "abcdef", "123456"} {
		t.Run(u, func(t *testing.T) {
			first := "SecretOne" + u
			second := "SecretTwo" + u
			third := "Thirdsecret" + u
			tagKey := "SecretFTag" + u
			tagVal := "SecretFValue" + u
			none := "none" + u
			set := []*secrets.Secret{
				sec(first, ""),
				sec(second, "DescTwo"),
				sec(third, ""),
				sec(tagKey, "", "1", "foo"),
				sec(tagVal, "", "foo", "v"),
				sec(none, ""),
			}
			all := func(v ...string) []secrets.Filter { return []secrets.Filter{f("all", v...)} }
			runFilterCases(t, set, []filterCase{
				{"full match", all("SecretOne"), []string{first}},
				{"search in tags", all("foo"), []string{tagKey, tagVal}},
				{"starts with full word", all("Secret"), []string{first, second, tagKey, tagVal}},
				{"lower case", all("secret"), []string{first, second, tagKey, tagVal}},
				{"inside a word", all("ret"), []string{}},
				{"partial word", all("sec"), []string{first, second, tagKey, tagVal}},
				{"unknown", all("SomeSecret"), []string{}},
				{"single letter", all("d"), []string{second}},
				{"two words ANDed", all("d t"), []string{second}},
				{"camel parts", all("t"), []string{second, third, tagKey}},
			})
		})
	}
}

// moto test_with_all_filter_special_characters, aws_verified.
func TestFilterAllSpecialCharactersMotoAWSVerified(t *testing.T) {
	const u = "7c4e1a"
	specials := []string{
		"prod/AppBeta/" + u,
		"prod_AppBeta_" + u,
		"prod+AppBeta+" + u,
		"prod=AppBeta=" + u,
		"prod.AppBeta." + u,
		"prod@AppBeta@" + u,
		"prod-AppBeta-" + u,
	}
	fullUpper := "uat/COMPANY/" + u
	partialUpper := "uat/COMPANYthings/" + u
	var set []*secrets.Secret
	for _, n := range specials {
		set = append(set, sec(n, ""))
	}
	set = append(set, sec(fullUpper, ""), sec(partialUpper, ""))
	all := func(v ...string) []secrets.Filter { return []secrets.Filter{f("all", v...)} }
	runFilterCases(t, set, []filterCase{
		{"AppBeta", all("AppBeta"), specials},
		{"Beta", all("Beta"), specials},
		{"values ORed", all("AppBeta", "prod"), specials},
		{"lone special character", all("+"), []string{}},
		{"unique suffix", all(u), append(append([]string{}, specials...), fullUpper, partialUpper)},
		{"company", all("company"), []string{fullUpper}},
		{"things is not a word", all("things"), []string{}},
		{"Ythings is a word", all("Ythings"), []string{partialUpper}},
		{"single upper case letter", all("N"), []string{}},
		{"inside an upper case word", all("pany"), []string{}},
		// Not in the recorded test; follow from the same splitting.
		{"value split like attributes", all("COMPANYthings"), []string{partialUpper}},
		{"value with separators", all("prod/AppBeta"), specials},
		{"negated lone special character", all("!+"), append(append([]string{}, specials...), fullUpper, partialUpper)},
	})
}

// moto test_with_filter_with_value_with_multiple_words and
// test_with_duplicate_filter_keys, aws_verified.
func TestFilterDescriptionMotoAWSVerified(t *testing.T) {
	set := []*secrets.Secret{
		sec("foo", "one two"),
		sec("bar", "one and two"),
		sec("baz", "one"),
		sec("qux", "two"),
		sec("none", "unrelated"),
	}
	runFilterCases(t, set, []filterCase{
		{"all words", []secrets.Filter{f("description", "one two")}, []string{"foo", "bar"}},
		{"word prefixes", []secrets.Filter{f("description", "o t")}, []string{"foo", "bar"}},
		{"one word prefix", []secrets.Filter{f("description", "t")}, []string{"foo", "bar", "qux"}},
	})

	dup := []*secrets.Secret{
		sec("foo", "one two"),
		sec("bar", "one"),
		sec("baz", "two"),
		sec("qux", "unrelated"),
	}
	runFilterCases(t, dup, []filterCase{
		{"duplicate keys ANDed", []secrets.Filter{f("description", "one"), f("description", "two")}, []string{"foo"}},
	})
}

// The remaining semantics: moto's mock tests, the user guide's examples and
// Coffer's documented decisions.
func TestFilterSemantics(t *testing.T) {
	set := []*secrets.Secret{
		sec("foo", "one two", "right", "right"),
		sec("bar", "one and two", "right", "wrong"),
		sec("baz", "one", "wrong", "right"),
		sec("qux", "two", "wrong", "wrong"),
		sec("none", ""),
	}
	runFilterCases(t, set, []filterCase{
		{"no filters", nil, []string{"foo", "bar", "baz", "qux", "none"}},
		{"name values ORed", []secrets.Filter{f("name", "foo", "bar")}, []string{"foo", "bar"}},
		{"name case-sensitive", []secrets.Filter{f("name", "Foo")}, []string{}},
		{"name prefix", []secrets.Filter{f("name", "ba")}, []string{"bar", "baz"}},
		{"tag-key and tag-value ANDed", []secrets.Filter{f("tag-key", "right"), f("tag-value", "right")}, []string{"foo"}},
		{"tag-key prefix", []secrets.Filter{f("tag-key", "ri")}, []string{"foo", "bar"}},
		{"tag-key case-sensitive", []secrets.Filter{f("tag-key", "Right")}, []string{}},
		{"tag-key negated includes untagged", []secrets.Filter{f("tag-key", "!right")}, []string{"baz", "qux", "none"}},
		{"tag-value negated", []secrets.Filter{f("tag-value", "!wrong")}, []string{"foo", "baz", "none"}},
		{"tag-value prefix is whole value", []secrets.Filter{f("tag-value", "ight")}, []string{}},
		{"empty tag-key matches tagged secrets", []secrets.Filter{f("tag-key", "")}, []string{"foo", "bar", "baz", "qux"}},
		{"description case-insensitive", []secrets.Filter{f("description", "ONE")}, []string{"foo", "bar", "baz"}},
		{"mixed positive and negated values ORed", []secrets.Filter{f("description", "one", "!two")}, []string{"foo", "bar", "baz", "none"}},
		{"description negated word", []secrets.Filter{f("description", "!o")}, []string{"qux", "none"}},
		{"no description word starts with u", []secrets.Filter{f("description", "u")}, []string{}},
		{"empty description matches every negated value", []secrets.Filter{f("description", "!u")}, []string{"foo", "bar", "baz", "qux", "none"}},
		{"description without words matches nothing", []secrets.Filter{f("description", "/")}, []string{}},
		{"description without words negated", []secrets.Filter{f("description", "!/")}, []string{"foo", "bar", "baz", "qux", "none"}},
		{"empty name prefix matches all", []secrets.Filter{f("name", "")}, []string{"foo", "bar", "baz", "qux", "none"}},
		{"lone bang on name matches none", []secrets.Filter{f("name", "!")}, []string{}},
		{"double bang negates literal", []secrets.Filter{f("name", "!!foo")}, []string{"foo", "bar", "baz", "qux", "none"}},
		{"primary-region matches nothing", []secrets.Filter{f("primary-region", "us-east-1")}, []string{}},
		{"primary-region negated matches all", []secrets.Filter{f("primary-region", "!us")}, []string{"foo", "bar", "baz", "qux", "none"}},
		{"owning-service n/a", []secrets.Filter{f("owning-service", "n/a")}, []string{}},
		{"owning-service empty value", []secrets.Filter{f("owning-service", "")}, []string{}},
		{"owning-service negated", []secrets.Filter{f("owning-service", "!rds")}, []string{"foo", "bar", "baz", "qux", "none"}},
		{"all over tags and description", []secrets.Filter{f("all", "wrong")}, []string{"bar", "baz", "qux"}},
		{"all words across attributes", []secrets.Filter{f("all", "baz wrong")}, []string{"baz"}},
		{"all negated", []secrets.Filter{f("all", "!two")}, []string{"baz", "none"}},
		{"all and name ANDed", []secrets.Filter{f("all", "one"), f("name", "b")}, []string{"bar", "baz"}},
	})
}

// The user guide's examples (manage_search-secret.md).
func TestFilterUserGuideExamples(t *testing.T) {
	runFilterCases(t, []*secrets.Secret{
		sec("DatabaseSecret", ""), sec("databaseSecret", ""), sec("MyData", ""),
	}, []filterCase{{"name Data", []secrets.Filter{f("name", "Data")}, []string{"DatabaseSecret"}}})

	runFilterCases(t, []*secrets.Secret{
		sec("a", "", "Production", "x"), sec("b", "", "Prod1", "x"), sec("c", "", "prod", "x"), sec("d", "", "1 Prod", "x"),
		sec("e", "", "x", "Production"), sec("f", "", "x", "Prod1"), sec("g", "", "x", "prod"), sec("h", "", "x", "1 Prod"),
	}, []filterCase{
		{"tag key Prod", []secrets.Filter{f("tag-key", "Prod")}, []string{"a", "b"}},
		{"tag value Prod", []secrets.Filter{f("tag-value", "Prod")}, []string{"e", "f"}},
	})

	runFilterCases(t, []*secrets.Secret{
		sec("1", "My Description"), sec("2", "my description"), sec("3", "My basic description"),
		sec("4", "Description of my secret"), sec("5", "Mine"), sec("6", "a description"),
	}, []filterCase{
		{"description My Description", []secrets.Filter{f("description", "My Description")}, []string{"1", "2", "3", "4"}},
	})

	// "credsDatabase#892 searches for creds, Database, and 892".
	runFilterCases(t, []*secrets.Secret{
		sec("app/creds", "Database 892"), sec("app/creds2", "Database"), sec("x", "", "creds", "DatabaseHost-892"),
	}, []filterCase{
		{"all credsDatabase 892", []secrets.Filter{f("all", "credsDatabase 892")}, []string{"app/creds", "x"}},
	})
}

func TestFilterUnicodeAttributes(t *testing.T) {
	set := []*secrets.Secret{
		sec("a", "Ärger über ÖlPreise"),
		sec("b", "straße"),
	}
	runFilterCases(t, set, []filterCase{
		{"folded prefix", []secrets.Filter{f("all", "ärg")}, []string{"a"}},
		{"camel split on non-ASCII", []secrets.Filter{f("description", "preise")}, []string{"a"}},
		{"ascii value vs non-ascii word", []secrets.Filter{f("description", "stra")}, []string{"b"}},
	})
}

func TestCompileFiltersErrors(t *testing.T) {
	const enum = "[description, name, tag-key, tag-value, primary-region, owning-service, all]"
	cases := []struct {
		name    string
		filters []secrets.Filter
		kind    error
		msg     string
	}{
		{
			name:    "invalid key",
			filters: []secrets.Filter{f("invalid", "foo")},
			kind:    secrets.ErrValidation,
			msg:     "1 validation error detected: Value 'invalid' at 'filters.1.member.key' failed to satisfy constraint: Member must satisfy enum value set: " + enum,
		},
		{
			name:    "key is case-sensitive",
			filters: []secrets.Filter{f("name", "x"), f("Name", "x")},
			kind:    secrets.ErrValidation,
			msg:     "1 validation error detected: Value 'Name' at 'filters.2.member.key' failed to satisfy constraint: Member must satisfy enum value set: " + enum,
		},
		{
			name:    "two invalid keys",
			filters: []secrets.Filter{f("a", "x"), f("name", "x"), f("b", "x")},
			kind:    secrets.ErrValidation,
			msg: "2 validation errors detected: " +
				"Value 'a' at 'filters.1.member.key' failed to satisfy constraint: Member must satisfy enum value set: " + enum + "; " +
				"Value 'b' at 'filters.3.member.key' failed to satisfy constraint: Member must satisfy enum value set: " + enum,
		},
		{
			name:    "validation before missing values",
			filters: []secrets.Filter{f("description"), f("invalid", "x")},
			kind:    secrets.ErrValidation,
			msg:     "1 validation error detected: Value 'invalid' at 'filters.2.member.key' failed to satisfy constraint: Member must satisfy enum value set: " + enum,
		},
		{
			name:    "missing values",
			filters: []secrets.Filter{f("description")},
			kind:    secrets.ErrInvalidParameter,
			msg:     "Invalid filter values for key: description",
		},
		{
			name:    "empty values list",
			filters: []secrets.Filter{f("name", "x"), {Key: "tag-key", Values: []string{}}},
			kind:    secrets.ErrInvalidParameter,
			msg:     "Invalid filter values for key: tag-key",
		},
		{
			name:    "missing key",
			filters: []secrets.Filter{{Values: []string{"foo"}}},
			kind:    secrets.ErrInvalidParameter,
			msg:     "Invalid filter key",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pred, err := secrets.CompileFilters(tc.filters)
			if err == nil {
				t.Fatal("CompileFilters succeeded, want an error")
			}
			if pred != nil {
				t.Error("predicate returned together with an error")
			}
			if !errors.Is(err, tc.kind) {
				t.Errorf("error kind: got %v, want %v", err, tc.kind)
			}
			var e *secrets.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T is not *secrets.Error", err)
			}
			if e.Message != tc.msg {
				t.Errorf("message:\n got %q\nwant %q", e.Message, tc.msg)
			}
		})
	}
}

// FuzzCompileFilters: arbitrary keys and values never panic; a compiled
// predicate never panics; "!v" is always the complement of "v".
func FuzzCompileFilters(f *testing.F) {
	f.Add("name", "/|!/", "description", "a secret")
	f.Add("all", "COMPANYthings", "tag-key", "!Prod")
	f.Add("all", "+|!", "tag-value", "")
	f.Add("description", "Ärger ÖlPreise", "owning-service", "!rds")
	f.Add("invalid", "x", "", "y")
	f.Add("primary-region", "us-east-1", "all", "a\xffb É")
	set := []*secrets.Secret{
		sec("prod/AppBeta/3f2a1c", "DescTwo", "Env", "Prod", "owner", "team-a@example.com"),
		sec("uat/COMPANYthings/x", "Ärger über ÖlPreise", "k\xff", "\x00v"),
		sec("a", ""),
		{},
	}
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		split := func(v string) []string {
			if v == "" {
				return nil
			}
			return strings.Split(v, "|")
		}
		filters := []secrets.Filter{{Key: k1, Values: split(v1)}, {Key: k2, Values: split(v2)}}
		pred, err := secrets.CompileFilters(filters)
		if err != nil {
			if !errors.Is(err, secrets.ErrValidation) && !errors.Is(err, secrets.ErrInvalidParameter) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		for _, s := range set {
			pred(s)
		}
		// Complement: one filter, one value without its own "!" (a leading
		// "!" is stripped once, so "!!x" negates the literal "!x").
		for _, v := range split(v1) {
			if strings.HasPrefix(v, "!") {
				continue
			}
			pos, err1 := secrets.CompileFilters([]secrets.Filter{{Key: k1, Values: []string{v}}})
			neg, err2 := secrets.CompileFilters([]secrets.Filter{{Key: k1, Values: []string{"!" + v}}})
			if err1 != nil || err2 != nil {
				t.Fatalf("single-value filters failed: %v, %v", err1, err2)
			}
			for _, s := range set {
				if pos(s) == neg(s) {
					t.Fatalf("key %q value %q: negation is not the complement on %q", k1, v, s.Name)
				}
			}
		}
	})
}

func BenchmarkFilterAll(b *testing.B) {
	s := sec("prod/payments/AppBeta-db-credentials", "Database credentials for the payments service",
		"Environment", "Production", "Team", "payments", "CostCenter", "cc-1234", "Owner", "alice@example.com", "app", "AppBeta")
	pred, err := secrets.CompileFilters([]secrets.Filter{f("all", "payments AppBeta alice")})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if !pred(s) {
			b.Fatal("no match")
		}
	}
}
