package auditlog_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-dev/coffer/internal/audit"
	"github.com/coffer-dev/coffer/internal/auditlog"
)

// attrs is Attrs as plain values, for comparisons.
type attrs struct {
	Time, ID, Name, Source, AccessKey, User string
	ReadOnly, HasReadOnly                   bool
	Resources                               [][2]string
}

func fromAttrs(a *auditlog.Attrs) attrs {
	out := attrs{Time: string(a.Time), ID: string(a.EventID), Name: string(a.EventName), Source: string(a.EventSource),
		AccessKey: string(a.AccessKeyID), User: string(a.Username()), ReadOnly: a.ReadOnly, HasReadOnly: a.HasReadOnly}
	for _, r := range a.Resources {
		out.Resources = append(out.Resources, [2]string{string(r.ARN), string(r.Type)})
	}
	return out
}

// reference reads the same attributes with encoding/json.
func reference(body []byte) (attrs, bool) {
	if t := bytes.TrimLeft(body, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return attrs{}, false
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		return attrs{}, false
	}
	str := func(m map[string]any, k string) string { s, _ := m[k].(string); return s }
	var a attrs
	a.Time, a.ID, a.Name, a.Source = str(m, "eventTime"), str(m, "eventID"), str(m, "eventName"), str(m, "eventSource")
	a.ReadOnly, a.HasReadOnly = m["readOnly"].(bool)
	if ui, ok := m["userIdentity"].(map[string]any); ok {
		a.AccessKey = str(ui, "accessKeyId")
		u := audit.UserIdentity{Type: str(ui, "type"), UserName: str(ui, "userName"), ARN: str(ui, "arn")}
		a.User = u.LookupName()
	}
	if rs, ok := m["resources"].([]any); ok {
		for _, r := range rs {
			if rm, ok := r.(map[string]any); ok {
				a.Resources = append(a.Resources, [2]string{str(rm, "ARN"), str(rm, "type")})
			}
		}
	}
	return a, true
}

func marshal(t testing.TB, ev *audit.Event) []byte {
	b, err := ev.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sampleEvents(t testing.TB) [][]byte {
	ev := audit.NewAPICallEvent(time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC))
	ev.EventSource, ev.EventName, ev.ReadOnly = audit.SourceSecretsManager, "GetSecretValue", true
	ev.UserIdentity = audit.UserIdentity{Type: audit.IdentityIAMUser, UserName: "bench", ARN: "arn:aws:iam::123456789012:user/bench", AccessKeyID: "AKIAEXAMPLE"}
	ev.RequestParams = json.RawMessage(`{"secretId":"coffer-bench/1","eventName":"decoy","resources":[{"ARN":"decoy"}]}`)
	ev.Resources = []audit.Resource{{ARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:a-AbCdEf", Type: "AWS::SecretsManager::Secret"}}
	ev.AdditionalEventData = json.RawMessage(`{"securityToken":"hmac-sha256:00"}`)
	one := marshal(t, ev)

	role := audit.NewAPICallEvent(time.Date(2025, 3, 4, 5, 6, 8, 0, time.UTC))
	role.EventName, role.ErrorCode, role.ErrorMessage = "PutSecretValue", "AccessDenied", `user "x\y" denied`
	role.UserIdentity = audit.UserIdentity{Type: audit.IdentityAssumedRole, ARN: "arn:aws:sts::1:assumed-role/app/sess-é\u2028", AccessKeyID: "ASIA1",
		SessionContext: &audit.SessionContext{SessionIssuer: &audit.SessionIssuer{Type: "Role", UserName: "app"}, WebIDFederationData: &audit.WebIDFederationData{}}}
	role.Resources = []audit.Resource{{ARN: "arn:1"}, {ARN: "arn:2", Type: "AWS::KMS::Key"}}
	two := marshal(t, role)

	root := audit.NewAPICallEvent(time.Date(2025, 3, 4, 5, 6, 9, 0, time.UTC))
	root.UserIdentity = audit.UserIdentity{Type: audit.IdentityRoot}
	three := marshal(t, root)
	return [][]byte{one, two, three}
}

func TestAttrs(t *testing.T) {
	bodies := sampleEvents(t)
	var a auditlog.Attrs
	for i, b := range bodies {
		if err := a.Parse(b); err != nil {
			t.Fatal(err)
		}
		want, _ := reference(b)
		if diff := cmp.Diff(want, fromAttrs(&a)); diff != "" {
			t.Errorf("event %d (-encoding/json +scanner):\n%s", i, diff)
		}
	}
	a.Parse(bodies[0])
	if got := fromAttrs(&a); got.Name != "GetSecretValue" || got.User != "bench" || len(got.Resources) != 1 || a.Unix() != time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC).Unix() {
		t.Errorf("first event: %+v", got)
	}
	for _, m := range []struct {
		key, value string
		want       bool
	}{
		{"EventName", "GetSecretValue", true},
		{"EventName", "decoy", false},
		{"Username", "bench", true},
		{"ReadOnly", "true", true},
		{"ReadOnly", "false", false},
		{"ReadOnly", "yes", false},
		{"ResourceName", "arn:aws:secretsmanager:us-east-1:123456789012:secret:a-AbCdEf", true},
		{"ResourceName", "decoy", false},
		{"ResourceType", "AWS::SecretsManager::Secret", true},
		{"AccessKeyId", "AKIAEXAMPLE", true},
		{"EventSource", "secretsmanager.amazonaws.com", true},
		{"EventName", "", false},
		{"Bogus", "x", false},
	} {
		if got := a.Match(m.key, m.value); got != m.want {
			t.Errorf("Match(%s, %q) = %v", m.key, m.value, got)
		}
	}
	a.Parse(bodies[1])
	if u := string(a.Username()); u != "sess-é\u2028" {
		t.Errorf("session user %q", u)
	}
	a.Parse(bodies[2])
	if u := string(a.Username()); u != "root" {
		t.Errorf("root user %q", u)
	}
	for _, bad := range []string{``, `[]`, `null`, `{"a":`, `{"eventName":"x"`, `{"a":1}x`} {
		if err := a.Parse([]byte(bad)); err == nil {
			t.Errorf("parsed %q", bad)
		}
	}
}

func TestParseEventTime(t *testing.T) {
	for in, want := range map[string]int64{
		"2025-03-04T05:06:07Z":      time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC).Unix(),
		"2025-03-04T05:06:07+01:00": time.Date(2025, 3, 4, 4, 6, 7, 0, time.UTC).Unix(),
		"2025-02-31T05:06:07Z":      0,
		"yesterday":                 0,
	} {
		if got := auditlog.ParseEventTime([]byte(in)); got != want {
			t.Errorf("%s: %d, want %d", in, got, want)
		}
	}
}

// FuzzAttrs holds the scanner to encoding/json on any valid JSON object,
// and to no panic on anything else.
func FuzzAttrs(f *testing.F) {
	for _, b := range sampleEvents(f) {
		f.Add(b)
	}
	for _, s := range []string{
		`{"eventName":"a","eventName":"b"}`,
		`{"eventName":"a","eventName":5}`,
		`{"userIdentity":{"userName":"a"},"userIdentity":{"type":"Root"}}`,
		`{"userIdentity":"x","readOnly":"true"}`,
		`{"resources":[1,{"ARN":"a","ARN":"b","type":null},[{"ARN":"c"}]]}`,
		`{"ev\u0065ntName":"esc\"aped\\","eventID":"\ud83d\ude00","eventSource":"bad\xff"}`,
		` { "readOnly" : false , "x" : [ { "}" : "]" } ] } `,
		`{"a":"\\","eventName":"ok"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var a auditlog.Attrs
		err := a.Parse(b)
		want, ok := reference(b)
		if !ok || !json.Valid(b) {
			return
		}
		if err != nil {
			t.Fatalf("valid object %q: %v", b, err)
		}
		if diff := cmp.Diff(want, fromAttrs(&a)); diff != "" {
			t.Fatalf("%q (-encoding/json +scanner):\n%s", b, diff)
		}
	})
}

func TestSummary(t *testing.T) {
	s := auditlog.NewSummary()
	var a auditlog.Attrs
	for _, b := range sampleEvents(t) {
		a.Parse(b)
		s.Add(&a)
	}
	for _, k := range []struct{ key, value string }{
		{"EventName", "GetSecretValue"}, {"EventName", "PutSecretValue"}, {"Username", "root"}, {"Username", "sess-é\u2028"},
		{"ResourceName", "arn:2"}, {"ResourceType", "AWS::KMS::Key"}, {"ReadOnly", "true"}, {"ReadOnly", "false"},
		{"AccessKeyId", "ASIA1"}, {"EventSource", "secretsmanager.amazonaws.com"},
	} {
		kind, ok := auditlog.LookupKind(k.key)
		if !ok || !s.Bloom.Has(kind, k.value) {
			t.Errorf("%s=%s missing", k.key, k.value)
		}
	}
	misses := 0
	for i := range 10000 {
		if s.Bloom.Has(auditlog.KindEventName, "absent"+strings.Repeat("x", i%7)+string(rune('a'+i%26))+string(rune(i))) {
			misses++
		}
	}
	if misses > 100 {
		t.Errorf("%d false positives of 10000 in a nearly empty filter", misses)
	}
	s.Reset()
	if s.Bloom.Has(auditlog.KindEventName, "GetSecretValue") || s.Keys != 0 {
		t.Error("reset kept keys")
	}
}
