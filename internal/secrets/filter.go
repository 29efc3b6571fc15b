package secrets

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Filter is one ListSecrets / BatchGetSecretValue filter: a key and up to ten
// values. A value starting with "!" is negated.
type Filter struct {
	Key    string
	Values []string
}

// Filter keys (botocore FilterNameStringType).
const (
	fltKeyDescription   = "description"
	fltKeyName          = "name"
	fltKeyTagKey        = "tag-key"
	fltKeyTagValue      = "tag-value"
	fltKeyPrimaryRegion = "primary-region"
	fltKeyOwningService = "owning-service"
	fltKeyAll           = "all"
)

// fltKeyEnum is the enum list exactly as AWS's validation framework prints
// it (model order).
const fltKeyEnum = "[description, name, tag-key, tag-value, primary-region, owning-service, all]"

// Messages. The enum text is AWS's framework format (spec §1, §3.8); the
// other two are moto's texts (spec §3.8, unverified against AWS).
const (
	msgInvalidFilterKey    = "Invalid filter key"
	msgInvalidFilterValues = "Invalid filter values for key: "
)

// CompileFilters validates filters and returns a predicate that reports
// whether a secret passes all of them. The predicate is safe for concurrent
// use, does not allocate and does not retain the secret. Deleted secrets,
// sorting and paging are the caller's business.
//
// Semantics (sources: spec/aws-api.md §3.8; [LS] = LocalStack
// test_list_secrets_filtering and [MOTO] = moto test_list_secrets.py
// aws_verified tests, both recorded against AWS):
//
//   - Different filters are ANDed, even with the same key [LS, MOTO
//     test_with_duplicate_filter_keys]; the values of one filter are ORed
//     [MOTO test_with_all_filter_special_characters, "AppBeta", "prod"].
//   - A value starting with "!" is the exact complement of the value without
//     it: "!v" matches precisely the secrets "v" does not match [LS "!/" and
//     "!a" are the complements of "/" and "a"]. For tag filters that means
//     "no tag matches", so untagged secrets pass a negated tag filter
//     (Coffer's decision; AWS unrecorded). One "!" is stripped: "!!a" negates
//     the literal "!a".
//   - name, tag-key, tag-value, primary-region, owning-service: plain prefix
//     match on the whole string, case-sensitive [model Filter.Key doc; LS
//     name "testing1 one" does not match "testing1/one-…", so name is not
//     word-wise]. A tag filter matches if any tag's key (value) has the
//     prefix. A secret without the attribute (no tags, no region) never
//     matches a positive value, not even "".
//   - description: the value is split into words and every word must be a
//     case-insensitive prefix of some word of the description [LS "a secret"
//     matches "an secret" but not "asecret"; MOTO "o t"; user guide "My
//     Description" matches "Description of my secret"].
//   - all: the value is split into words and every word must be a
//     case-insensitive prefix of some word of the name, the description, a
//     tag key or a tag value [MOTO test_with_all_filter*: "SomeSecret" and
//     "d t" show the words are ANDed]. The words may come from different
//     attributes (Coffer's decision; AWS unrecorded).
//   - Words are maximal runs of letters and digits; any other character
//     (space / _ + = . @ - : …) separates words. A run is further split
//     before an upper case letter that follows a lower case one ("MyTest" →
//     My, Test) and before the last letter of an upper case run that is
//     followed by a lower case letter ("COMPANYthings" → COMPAN, Ythings)
//     [MOTO: "Ythings" matches, "things", "N", "pany" do not]. Digits do not
//     split words. A value without words (a lone "+") matches nothing
//     [MOTO]; negated, it matches everything.
//
// Errors: keys outside the enum → ErrValidation with AWS's framework text,
// all such keys reported ("N validation errors detected: …; …"), before any
// other check, as AWS's framework runs before the service; an empty key →
// ErrInvalidParameter "Invalid filter key"; a filter without values →
// ErrInvalidParameter "Invalid filter values for key: <key>" (both texts
// moto's, unverified). Model constraints on counts, lengths and the value
// pattern are the edge's job.
func CompileFilters(filters []Filter) (func(s *Secret) bool, error) {
	// The validation framework runs before the service, so enum violations
	// win over the service-level checks below, whatever their order.
	var bad []string
	for i, f := range filters {
		if f.Key != "" && !fltKnownKey(f.Key) {
			bad = append(bad, "Value '"+f.Key+"' at 'filters."+strconv.Itoa(i+1)+
				".member.key' failed to satisfy constraint: Member must satisfy enum value set: "+fltKeyEnum)
		}
	}
	if len(bad) > 0 {
		return nil, &Error{Kind: ErrValidation, Message: fltValidationMessage(bad)}
	}

	compiled := make([]fltCompiled, 0, len(filters))
	for _, f := range filters {
		if f.Key == "" {
			return nil, &Error{Kind: ErrInvalidParameter, Message: msgInvalidFilterKey}
		}
		if len(f.Values) == 0 {
			return nil, &Error{Kind: ErrInvalidParameter, Message: msgInvalidFilterValues + f.Key}
		}
		c := fltCompiled{key: f.Key, values: make([]fltValue, len(f.Values))}
		for j, raw := range f.Values {
			v := fltValue{}
			v.text, v.neg = strings.CutPrefix(raw, "!")
			if f.Key == fltKeyDescription || f.Key == fltKeyAll {
				v.words = fltLowerWords(v.text)
			}
			c.values[j] = v
		}
		compiled = append(compiled, c)
	}

	return func(s *Secret) bool {
		for i := range compiled {
			if !compiled[i].match(s) {
				return false
			}
		}
		return true
	}, nil
}

// fltValidationMessage renders framework validation errors the way AWS does:
// "1 validation error detected: X" or "2 validation errors detected: X; Y".
func fltValidationMessage(errs []string) string {
	noun := " validation errors detected: "
	if len(errs) == 1 {
		noun = " validation error detected: "
	}
	return strconv.Itoa(len(errs)) + noun + strings.Join(errs, "; ")
}

func fltKnownKey(k string) bool {
	switch k {
	case fltKeyDescription, fltKeyName, fltKeyTagKey, fltKeyTagValue,
		fltKeyPrimaryRegion, fltKeyOwningService, fltKeyAll:
		return true
	}
	return false
}

// fltPrimaryRegion and fltOwningService are the secret's attributes for the
// primary-region and owning-service filters. Coffer is single-region and has
// no managed secrets, so Secret has no such fields yet and both are empty:
// a positive filter matches nothing, a negated one everything. When the
// fields are added, return them here.
func fltPrimaryRegion(*Secret) string { return "" }
func fltOwningService(*Secret) string { return "" }

type fltCompiled struct {
	key    string
	values []fltValue
}

type fltValue struct {
	neg   bool
	text  string   // the value without its "!"
	words []string // description/all: the value's words, lower-cased
}

// match reports whether s passes the filter: any value matches (ORed).
func (c *fltCompiled) match(s *Secret) bool {
	for i := range c.values {
		v := &c.values[i]
		if c.matchValue(s, v) != v.neg {
			return true
		}
	}
	return false
}

// matchValue is the positive (un-negated) match of one value.
func (c *fltCompiled) matchValue(s *Secret, v *fltValue) bool {
	switch c.key {
	case fltKeyName:
		return strings.HasPrefix(s.Name, v.text)
	case fltKeyTagKey:
		for i := range s.Tags {
			if strings.HasPrefix(s.Tags[i].Key, v.text) {
				return true
			}
		}
		return false
	case fltKeyTagValue:
		for i := range s.Tags {
			if strings.HasPrefix(s.Tags[i].Value, v.text) {
				return true
			}
		}
		return false
	case fltKeyPrimaryRegion:
		return fltPrefixNonEmpty(fltPrimaryRegion(s), v.text)
	case fltKeyOwningService:
		return fltPrefixNonEmpty(fltOwningService(s), v.text)
	case fltKeyDescription:
		if len(v.words) == 0 {
			return false
		}
		for _, w := range v.words {
			if !fltHasWordWithPrefix(s.Description, w) {
				return false
			}
		}
		return true
	case fltKeyAll:
		if len(v.words) == 0 {
			return false
		}
		for _, w := range v.words {
			if !fltAnyAttrHasWord(s, w) {
				return false
			}
		}
		return true
	}
	return false // unreachable: keys are validated
}

// fltPrefixNonEmpty is a case-sensitive prefix match on an optional
// attribute: a secret without the attribute never matches (not even "").
func fltPrefixNonEmpty(attr, prefix string) bool {
	return attr != "" && strings.HasPrefix(attr, prefix)
}

// fltAnyAttrHasWord reports whether any attribute the all filter searches
// has a word starting with lw (lower-cased). The attributes are the ones
// AWS's console guide lists for keyword search: name, description, tag keys
// and tag values.
func fltAnyAttrHasWord(s *Secret, lw string) bool {
	if fltHasWordWithPrefix(s.Name, lw) || fltHasWordWithPrefix(s.Description, lw) {
		return true
	}
	for i := range s.Tags {
		if fltHasWordWithPrefix(s.Tags[i].Key, lw) || fltHasWordWithPrefix(s.Tags[i].Value, lw) {
			return true
		}
	}
	return false
}

// fltHasWordWithPrefix reports whether some word of attr starts with lw,
// compared case-insensitively (lw is already lower-cased).
func fltHasWordWithPrefix(attr, lw string) bool {
	for i := 0; ; {
		start, end := fltNextWord(attr, i)
		if start == end {
			return false
		}
		if fltFoldHasPrefix(attr[start:end], lw) {
			return true
		}
		i = end
	}
}

// fltLowerWords splits s into words (on its original case) and lower-cases
// each word.
func fltLowerWords(s string) []string {
	var words []string
	for i := 0; ; {
		start, end := fltNextWord(s, i)
		if start == end {
			return words
		}
		words = append(words, strings.ToLower(s[start:end]))
		i = end
	}
}

// fltNextWord returns the byte bounds of the first word of s at or after
// byte offset i; start == end means there is none. See CompileFilters for
// what a word is.
func fltNextWord(s string, i int) (start, end int) {
	for i < len(s) {
		r, n := fltRune(s, i)
		if fltIsWordRune(r) {
			break
		}
		i += n
	}
	start = i
	if i == len(s) {
		return start, start
	}
	prev, n := fltRune(s, i)
	i += n
	for i < len(s) {
		r, n := fltRune(s, i)
		if !fltIsWordRune(r) {
			break
		}
		if fltIsUpper(r) {
			if fltIsLower(prev) {
				break // myTest: split before T
			}
			if fltIsUpper(prev) && i+n < len(s) {
				if next, _ := fltRune(s, i+n); fltIsLower(next) {
					break // COMPANYthings: split before Y
				}
			}
		}
		prev = r
		i += n
	}
	return start, i
}

// fltFoldHasPrefix reports whether word starts with lw, comparing each rune
// of word lower-cased (the same mapping strings.ToLower applied to lw).
func fltFoldHasPrefix(word, lw string) bool {
	i := 0
	for j := 0; j < len(lw); {
		if i >= len(word) {
			return false
		}
		pr, pn := fltRune(lw, j)
		wr, wn := fltRune(word, i)
		if fltToLower(wr) != pr {
			return false
		}
		i += wn
		j += pn
	}
	return true
}

// Rune helpers with an ASCII fast path (values are ASCII by the model's
// pattern; names are ASCII; descriptions and tags may be any Unicode).

func fltRune(s string, i int) (rune, int) {
	if c := s[i]; c < utf8.RuneSelf {
		return rune(c), 1
	}
	return utf8.DecodeRuneInString(s[i:])
}

func fltIsWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

func fltIsUpper(r rune) bool {
	if r < utf8.RuneSelf {
		return 'A' <= r && r <= 'Z'
	}
	return unicode.IsUpper(r)
}

func fltIsLower(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z'
	}
	return unicode.IsLower(r)
}

func fltToLower(r rune) rune {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		return r
	}
	return unicode.ToLower(r)
}
