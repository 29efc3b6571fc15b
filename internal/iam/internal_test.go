package iam

import (
	"strings"
	"testing"
	"time"
)

// White-box tests of the matcher, the date parser and the JSON reader.

func TestGlob(t *testing.T) {
	cases := []struct {
		pat, s string
		fold   bool
		want   bool
	}{
		{"*", "", false, true},
		{"", "", false, true},
		{"", "a", false, false},
		{"a", "a", false, true},
		{"a", "A", false, false},
		{"a", "A", true, true},
		{"a*", "abc", false, true},
		{"*c", "abc", false, true},
		{"*b*", "abc", false, true},
		{"a**c", "abc", false, true},
		{"a?c", "abc", false, true},
		{"a?c", "ac", false, false},
		{"???", "héé", false, true},
		{"*x", "abc", false, false},
		{"a*b*c*d", "aXbXcXd", false, true},
		{"a*b*c*d", "aXbXcX", false, false},
		{"*a*a*a*a*b", strings.Repeat("a", 200), false, false},
		{"GET*", "getsecretvalue", true, true},
		{"*VALUE", "getsecretvalue", true, true},
		{"straße", "STRASSE", true, false}, // simple folding only
		{"k", "\u212a", true, true},        // Kelvin sign folds to k
		{"arn:aws:s3:::*", "arn:aws:s3:::b/k:x", false, true},
	}
	for _, c := range cases {
		p := compilePattern(c.pat, true, false)
		if got := p.match(c.s, c.fold, isASCII(c.s)); got != c.want {
			t.Errorf("match(%q, %q, fold=%v) = %v, want %v (mode %d)", c.pat, c.s, c.fold, got, c.want, p.mode)
		}
	}
}

func TestPatternModes(t *testing.T) {
	cases := []struct {
		raw  string
		wild bool
		vars bool
		mode patMode
	}{
		{"*", true, false, pmAny},
		{"**", true, false, pmAny},
		{"abc", true, false, pmExact},
		{"a*", true, false, pmPrefix},
		{"a*b", true, false, pmGlob},
		{"a*", false, false, pmExact},
		{"${aws:username}", true, true, pmVar},
		{"${aws:username}", true, false, pmExact},
		{"a${*}", true, true, pmExact},
		{"${?}*", true, true, pmPrefix},
	}
	for _, c := range cases {
		if p := compilePattern(c.raw, c.wild, c.vars); p.mode != c.mode {
			t.Errorf("%q wild=%v vars=%v: mode %d, want %d", c.raw, c.wild, c.vars, p.mode, c.mode)
		}
	}
	// More variables than the fixed array holds: the rest stay literal.
	many := strings.Repeat("${aws:username}", maxVars+2)
	p := compilePattern(many, true, true)
	if p.nvar != maxVars {
		t.Fatalf("nvar %d", p.nvar)
	}
}

func TestParseVar(t *testing.T) {
	cases := []struct {
		in     string
		key    string
		def    string
		hasDef bool
		n      int
		ok     bool
	}{
		{"${aws:username}", "aws:username", "", false, 15, true},
		{"${ aws:PrincipalTag/Team }x", "aws:principaltag/team", "", false, 26, true},
		{"${aws:PrincipalTag/team, 'dflt'}", "aws:principaltag/team", "dflt", true, 32, true},
		{"${aws:PrincipalTag/team,'a}b'}rest", "aws:principaltag/team", "a}b", true, 30, true},
		{"${aws:x, dflt}", "", "", false, 0, false},
		{"${aws:x, 'open}", "", "", false, 0, false},
		{"${}", "", "", false, 0, false},
		{"${aws:x", "", "", false, 0, false},
	}
	for _, c := range cases {
		tok, n, ok := parseVar(c.in)
		if ok != c.ok || (ok && (tok.s != c.key || tok.def != c.def || tok.hasDef != c.hasDef || n != c.n)) {
			t.Errorf("parseVar(%q) = %+v, %d, %v", c.in, tok, n, ok)
		}
	}
}

func TestParseDate(t *testing.T) {
	utc := func(y, mo, d, h, mi, s, ns int) time.Time {
		return time.Date(y, time.Month(mo), d, h, mi, s, ns, time.UTC)
	}
	good := []struct {
		in   string
		want time.Time
	}{
		{"2020-01-01", utc(2020, 1, 1, 0, 0, 0, 0)},
		{"2020-01-01T00:00:00Z", utc(2020, 1, 1, 0, 0, 0, 0)},
		{"2020-02-29T23:59:59z", utc(2020, 2, 29, 23, 59, 59, 0)},
		{"2016-12-13t2:00:00.593194+23", utc(2016, 12, 12, 3, 0, 0, 593194000)},
		{"2016-12-13T21:20:37.593194+00:00", utc(2016, 12, 13, 21, 20, 37, 593194000)},
		{"2020-01-01T05:30+0530", utc(2020, 1, 1, 0, 0, 0, 0)},
		{"2020-01-01T10", utc(2020, 1, 1, 10, 0, 0, 0)},
		{"2020-01-01 10:00:00Z", utc(2020, 1, 1, 10, 0, 0, 0)},
		{"0", utc(1970, 1, 1, 0, 0, 0, 0)},
		{"1577836800", utc(2020, 1, 1, 0, 0, 0, 0)},
		{"-86400", utc(1969, 12, 31, 0, 0, 0, 0)},
	}
	for _, c := range good {
		got, ok := parseDate(c.in)
		if !ok || !got.Equal(c.want) {
			t.Errorf("parseDate(%q) = %v, %v; want %v", c.in, got, ok, c.want)
		}
	}
	for _, in := range []string{"", "-", "sdfdsf", "234-13", "2020-13-01", "2019-02-29", "2020-01-32", "2020-1-01",
		"2020-01-01T24:00:00Z", "2020-01-01T10:60", "2020-01-01T10:00:00.Z", "2020-01-01T10:00:00.1234567890Z",
		"2016-12-13t2:00:00.593194+1", "2020-01-01T00:00:00+10:60", "2020-01-01T00:00:00Zjunk", "9223372036854775808", "01T"} {
		if got, ok := parseDate(in); ok {
			t.Errorf("parseDate(%q) = %v, want failure", in, got)
		}
	}
}

func TestSplitArn(t *testing.T) {
	p, ok := splitArn("arn:aws:iam::${aws:PrincipalAccount}:role/${a:b}", true)
	if !ok || p[4] != "${aws:PrincipalAccount}" || p[5] != "role/${a:b}" {
		t.Fatalf("%q %v", p, ok)
	}
	p, ok = splitArn("arn:aws:s3:::bucket/a:b:c", false)
	if !ok || p[5] != "bucket/a:b:c" {
		t.Fatalf("%q", p)
	}
	if _, ok := splitArn("arn:aws:s3::b", false); ok {
		t.Fatal("five parts split")
	}
}

func TestJSON(t *testing.T) {
	good := []string{`{}`, `[]`, `""`, `0`, `-0.5e+10`, `true`, `null`, `{"a":[1,{"b":"\u00e9\n\"\\\/"}]}`, ` [ 1 , 2 ] `, `"\ud83d\ude00"`, `"\ud800"`}
	for _, s := range good {
		if _, err := parseJSON(s); err != nil {
			t.Errorf("parseJSON(%q): %v", s, err)
		}
	}
	bad := []string{``, `{`, `[1,]`, `{"a":1,}`, `{"a" 1}`, `{a:1}`, `01`, `1.`, `.5`, `1e`, `-`, `"abc`, "\"a\nb\"", `"\x"`, `"\u12"`, `tru`, `nul`, `{"a":1}{}`, `{"a":1,"a":2}`, `"\ud83d\u12"`}
	for _, s := range bad {
		if _, err := parseJSON(s); err == nil {
			t.Errorf("parseJSON(%q) succeeded", s)
		}
	}
	v, _ := parseJSON(`"\ud83d\ude00 \u00e9"`)
	if v.str != "😀 é" {
		t.Errorf("unicode escapes: %q", v.str)
	}
	v, _ = parseJSON(`{"n": 10.50}`)
	if v.obj[0].val.str != "10.50" {
		t.Errorf("number text %q", v.obj[0].val.str)
	}
}

func TestKeyEq(t *testing.T) {
	cases := []struct {
		a, b string
		want bool
	}{
		{"aws:SourceIp", "aws:sourceip", true},
		{"aws:SourceIp", "aws:sourceipx", false},
		{"aws:ResourceTag/Ünïcode", "aws:resourcetag/ünïcode", true},
		{"aws:ResourceTag/\u212a", "aws:resourcetag/k", true},
		{"a", "b", false},
		{"", "", true},
	}
	for _, c := range cases {
		if got := keyEq(c.a, c.b); got != c.want {
			t.Errorf("keyEq(%q, %q) = %v", c.a, c.b, got)
		}
	}
}

// TestEvaluateDoesNotAllocate guards the hot path.
func TestEvaluateDoesNotAllocate(t *testing.T) {
	p, err := Parse(`{"Version":"2012-10-17","Statement":[
		{"Effect":"Deny","Action":"secretsmanager:Delete*","Resource":"*"},
		{"Effect":"Allow","Action":["secretsmanager:GetSecretValue","secretsmanager:DescribeSecret"],"Resource":"arn:aws:secretsmanager:*:*:secret:${aws:PrincipalTag/team}/*",
		 "Condition":{"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}"},"IpAddress":{"aws:SourceIp":"10.0.0.0/8"},"Bool":{"aws:SecureTransport":"true"},"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}}]}`, KindIdentity)
	if err != nil {
		t.Fatal(err)
	}
	pr := &Principal{Type: PrincipalAssumedRole, ARN: "arn:aws:sts::111122223333:assumed-role/R/s", Account: "111122223333", RoleARN: "arn:aws:iam::111122223333:role/R", UserID: "AROAEXAMPLEEXAMPLE12:s", Tags: map[string]string{"team": "payments"}}
	var v Values
	v.Set("aws:ResourceTag/team", "payments")
	v.Set("aws:SourceIp", "10.1.2.3")
	v.Set("aws:SecureTransport", "true")
	v.Set("aws:CurrentTime", "2026-11-23T10:00:00Z")
	req := &Request{Principal: pr, Action: "secretsmanager:GetSecretValue", Resource: "arn:aws:secretsmanager:us-east-1:111122223333:secret:payments/db-AbCdEf", Context: &v}
	set := &Set{Identity: []Labeled{{Label: "p", Policy: p}}}
	if d := Evaluate(req, set); !d.Allowed {
		t.Fatalf("not allowed: %s", d.Reason)
	}
	if n := testing.AllocsPerRun(100, func() { Evaluate(req, set) }); n != 0 {
		t.Fatalf("Evaluate allocates %v times", n)
	}
}
