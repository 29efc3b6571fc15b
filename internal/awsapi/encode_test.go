package awsapi

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/coffer-dev/coffer/internal/awsapi/awsjson"
	"github.com/coffer-dev/coffer/internal/awsapi/smapi"
	"github.com/coffer-dev/coffer/internal/secrets"
)

// stdJSON is what the edge's encoding/json path writes for v.
func stdJSON(t testing.TB, v any) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.NewEncoder(&b).Encode(v); err != nil {
		t.Fatal(err)
	}
	return string(bytes.TrimRight(b.Bytes(), "\n"))
}

var trickyStrings = []string{
	"", "plain", `{"password":"hunter2"}`, "<script>&amp;</script>", "tab\tnl\ncr\rbs\bff\f",
	"\x00\x01\x1f\x7f", `back\slash "quote"`, "é ü ✓ 😀", "bad \xff utf8 \xc3", "\u2028\u2029",
	"truncated \xe2\x82", "\xed\xa0\x80 surrogate",
}

func TestAppendJSONStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range trickyStrings {
		want := stdJSON(t, s)
		if got := string(appendJSONString(nil, s)); got != want {
			t.Errorf("string %q: got %s, want %s", s, got, want)
		}
		if got := string(appendJSONString(nil, []byte(s))); got != want {
			t.Errorf("[]byte %q: got %s, want %s", s, got, want)
		}
	}
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range trickyStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := string(appendJSONString(nil, s)), stdJSON(t, s); got != want {
			t.Fatalf("%q: got %s, want %s", s, got, want)
		}
	})
}

// oldGetSecretValueOutput is how smGetSecretValue built its output before
// it rendered itself: the reference for the wire bytes.
func oldGetSecretValueOutput(v *secrets.SecretValue) *smapi.GetSecretValueOutput {
	out := &smapi.GetSecretValueOutput{ARN: &v.ARN, Name: &v.Name, VersionId: &v.VersionID,
		VersionStages: v.Stages, CreatedDate: awsjson.TimeOf(v.CreatedAt)}
	if v.Value.Binary {
		out.SecretBinary = v.Value.Data
	} else {
		out.SecretString = ptr(string(v.Value.Data))
	}
	return out
}

func TestSecretValueOutMatchesEncodingJSON(t *testing.T) {
	created := time.Date(2026, 11, 23, 5, 30, 1, 123456789, time.UTC)
	base := secrets.SecretValue{ARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-AbCdEf", Name: "app/db",
		VersionID: "00000000-0000-4000-8000-000000000001", Stages: []string{"AWSCURRENT"}, CreatedAt: created}
	cases := map[string]func(v *secrets.SecretValue){
		"string":       func(v *secrets.SecretValue) { v.Value = secrets.Value{Data: []byte(`{"user":"a","password":"<&>"}`)} },
		"binary":       func(v *secrets.SecretValue) { v.Value = secrets.Value{Data: []byte{0, 1, 2, 0xff}, Binary: true} },
		"binary nil":   func(v *secrets.SecretValue) { v.Value = secrets.Value{Binary: true} },
		"string empty": func(v *secrets.SecretValue) { v.Value = secrets.Value{Data: []byte{}} },
		"string nil":   func(v *secrets.SecretValue) { v.Value = secrets.Value{} },
		"no stages":    func(v *secrets.SecretValue) { v.Stages = nil; v.Value = secrets.Value{Data: []byte("x")} },
		"empty stages": func(v *secrets.SecretValue) { v.Stages = []string{}; v.Value = secrets.Value{Data: []byte("x")} },
		"two stages": func(v *secrets.SecretValue) {
			v.Stages = []string{"AWSPREVIOUS", "custom<1>"}
			v.Value = secrets.Value{Data: []byte("x")}
		},
		"whole second": func(v *secrets.SecretValue) {
			v.CreatedAt = created.Truncate(time.Second)
			v.Value = secrets.Value{Data: []byte("x")}
		},
		"zero time": func(v *secrets.SecretValue) { v.CreatedAt = time.Time{}; v.Value = secrets.Value{Data: []byte("x")} },
		"empty ids": func(v *secrets.SecretValue) {
			v.ARN, v.Name, v.VersionID = "", "", ""
			v.Value = secrets.Value{Data: []byte("x")}
		},
		"tricky strings": func(v *secrets.SecretValue) {
			v.Name = trickyStrings[9]
			v.Value = secrets.Value{Data: []byte(trickyStrings[8])}
		},
	}
	for name, mod := range cases {
		t.Run(name, func(t *testing.T) {
			v := base
			mod(&v)
			want := stdJSON(t, oldGetSecretValueOutput(&v))
			out := (*secretValueOut)(&v)
			if got := string(out.appendJSON(nil)); got != want {
				t.Errorf("got  %s\nwant %s", got, want)
			}
			out.wipe()
			for _, b := range v.Value.Data {
				if b != 0 {
					t.Fatalf("wipe left the value: %q", v.Value.Data)
				}
			}
		})
	}
}
