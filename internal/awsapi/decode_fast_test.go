package awsapi

import (
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-dev/coffer/internal/awsapi/awsjson"
	"github.com/coffer-dev/coffer/internal/awsapi/smapi"
)

// fastCases are the operations with a fast decoder: the decoder, a fresh
// input for awsjson.Decode, and the member names the decoder knows.
var fastCases = []struct {
	name    string
	fast    func([]byte) validator
	input   func() validator
	members flatMembers
}{
	{"GetSecretValue", fastGetSecretValue, func() validator { return new(smapi.GetSecretValueInput) }, getSecretValueMembers},
	{"DescribeSecret", fastDescribeSecret, func() validator { return new(smapi.DescribeSecretInput) }, describeSecretMembers},
}

// The decoders must know every member of their input: an unknown one
// would be ignored where encoding/json fills it.
func TestFastDecodeKnowsEveryMember(t *testing.T) {
	for _, fc := range fastCases {
		typ := reflect.TypeOf(fc.input()).Elem()
		var names []string
		for i := range typ.NumField() {
			tag, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
			if typ.Field(i).Type != reflect.TypeFor[*string]() {
				t.Errorf("%s.%s is not a *string", typ.Name(), typ.Field(i).Name)
			}
			names = append(names, tag)
		}
		if diff := cmp.Diff([]string(fc.members), names); diff != "" {
			t.Errorf("%s members (-decoder +struct):\n%s", fc.name, diff)
		}
	}
}

var fastBodies = []struct {
	body string
	fast bool // the fast path takes it
}{
	{`{"SecretId":"app/db"}`, true},
	{" \t\r\n{ \"SecretId\" : \"app/db\" , \"VersionStage\":\"AWSCURRENT\" }\n", true},
	{`{"SecretId":"arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-AbCdEf","VersionId":"00000000-0000-4000-8000-000000000001"}`, true},
	{`{}`, true},
	{`{"Unknown":"x","SecretId":"a"}`, true},
	{`{"SecretId":"a","SecretId":"b"}`, true},
	{`{"SecretId":""}`, true},
	{``, false},
	{`null`, false},
	{`{"secretid":"a"}`, false},
	{`{"SECRETID":"a","SecretId":"b"}`, false},
	{`{"SecretId":"a\"b"}`, false},
	{`{"SecretId":"a\u0062"}`, false},
	{`{"SecretId":"é"}`, false},
	{`{"SecretId":null}`, false},
	{`{"SecretId":1}`, false},
	{`{"Other":{"x":1},"SecretId":"a"}`, false},
	{`{"SecretId":"a"} x`, false},
	{`{"SecretId":"a"}{}`, false},
	{`{"SecretId":"a",}`, false},
	{`{"SecretId":"a"`, false},
	{`{"SecretId":"a`, false},
	{`{"SecretId":`, false},
	{`{"SecretId"`, false},
	{`{"Secret` + "\x00" + `Id":"a"}`, false},
	{`[]`, false},
	{`"SecretId"`, false},
}

func TestFastDecode(t *testing.T) {
	for _, fc := range fastCases {
		for _, tc := range fastBodies {
			got := fc.fast([]byte(tc.body))
			if (got != nil) != tc.fast {
				t.Errorf("%s %q: fast path taken = %v, want %v", fc.name, tc.body, got != nil, tc.fast)
			}
			checkFastDecode(t, fc.name, fc.input, got, []byte(tc.body))
		}
	}
}

// checkFastDecode checks that a body the fast path took decodes to the
// same input with awsjson.Decode, without error.
func checkFastDecode(t *testing.T, op string, input func() validator, got validator, body []byte) {
	t.Helper()
	if got == nil {
		return
	}
	want := input()
	if err := awsjson.Decode(body, want); err != nil {
		t.Fatalf("%s %q: fast path took a body awsjson.Decode rejects: %v", op, body, err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("%s %q: (-awsjson +fast):\n%s", op, body, diff)
	}
}

func FuzzDecodeFlat(f *testing.F) {
	for _, tc := range fastBodies {
		f.Add([]byte(tc.body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, fc := range fastCases {
			checkFastDecode(t, fc.name, fc.input, fc.fast(body), body)
		}
	})
}

// BenchmarkDecodeInput compares encoding/json (awsjson.Decode) with the
// fast path on a typical GetSecretValue body.
func BenchmarkDecodeInput(b *testing.B) {
	body := []byte(`{"SecretId":"coffer-bench/v200/0007"}`)
	b.Run("awsjson", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			in := new(smapi.GetSecretValueInput)
			if err := awsjson.Decode(body, in); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if fastGetSecretValue(body) == nil {
				b.Fatal("not taken")
			}
		}
	})
}
