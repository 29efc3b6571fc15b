package awsapi

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-dev/coffer/internal/audit"
	"github.com/coffer-dev/coffer/internal/awsapi/awsjson"
	"github.com/coffer-dev/coffer/internal/awsapi/smapi"
)

func TestLowerCamel(t *testing.T) {
	for in, want := range map[string]string{
		"ARN": "arn", "KeyId": "keyId", "AWSAccountId": "awsAccountId", "VersionId": "versionId",
		"name": "name", "KMSKeyId": "kmsKeyId", "": "",
	} {
		if got := lowerCamel(in); got != want {
			t.Errorf("lowerCamel(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestARNParts(t *testing.T) {
	for _, tc := range []struct{ arn, account, typ string }{
		{"arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf", "123456789012", "AWS::SecretsManager::Secret"},
		{"arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab", "123456789012", "AWS::KMS::Key"},
		{"arn:aws:kms:us-east-1:123456789012:alias/app", "123456789012", "AWS::KMS::Alias"},
		{"arn:aws:iam::123456789012:user/alice", "123456789012", "AWS::IAM::User"},
		{"arn:aws:iam::123456789012:role/app", "123456789012", "AWS::IAM::Role"},
		{"arn:aws:iam::123456789012:root", "123456789012", "AWS::IAM::Root"},
		{"arn:aws:s3:::bucket", "", ""},
		{"arn:aws:x", "", ""},
		{"not-an-arn", "", ""},
	} {
		account, typ := arnParts(tc.arn)
		if account != tc.account || typ != tc.typ {
			t.Errorf("arnParts(%q) = %q, %q; want %q, %q", tc.arn, account, typ, tc.account, tc.typ)
		}
	}
}

// Response elements keep identifying members only: never a value, a blob,
// or a member nobody allowed.
func TestResponseElements(t *testing.T) {
	v := "v1"
	got := responseElements(&smapi.PutSecretValueOutput{ARN: ptr("arn:x"), Name: ptr("db"), VersionId: &v, VersionStages: []string{"AWSCURRENT"}})
	want := map[string]any{"arn": ptr("arn:x"), "name": ptr("db"), "versionId": &v, "versionStages": []string{"AWSCURRENT"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("PutSecretValue (-want +got):\n%s", diff)
	}
	if got := responseElements(&smapi.GetSecretValueOutput{ARN: ptr("arn:x"), SecretString: ptr("hunter2"), SecretBinary: []byte{1}}); len(got) != 1 {
		t.Errorf("GetSecretValue output: %v", got)
	}
	if got := responseElements(&smapi.GetRandomPasswordOutput{RandomPassword: ptr("pw")}); got != nil {
		t.Errorf("GetRandomPassword output: %v", got)
	}
	type keyMetadata struct {
		KeyId        *string
		Arn          *string
		CreationDate *awsjson.Time
		Tags         map[string]string // not allowed
	}
	type credentials struct {
		AccessKeyId     *string
		SecretAccessKey *string
		SessionToken    *string
	}
	type out struct {
		KeyMetadata *keyMetadata
		Credentials *credentials
		Plaintext   []byte
		Name        struct{ Secret string } // allowed name, not a plain value
		KeyId       *string
	}
	got = responseElements(&out{
		KeyMetadata: &keyMetadata{KeyId: ptr("k"), Arn: ptr("arn:k"), Tags: map[string]string{"a": "b"}},
		Credentials: &credentials{AccessKeyId: ptr("ASIA"), SecretAccessKey: ptr("secret"), SessionToken: ptr("tok")},
		Plaintext:   []byte("pt"), Name: struct{ Secret string }{"s"}, KeyId: ptr("k"),
	})
	want = map[string]any{
		"keyMetadata": map[string]any{"keyId": ptr("k"), "arn": ptr("arn:k")},
		"credentials": map[string]any{"accessKeyId": ptr("ASIA"), "sessionToken": ptr("tok")}, // HMAC'd by auditJSON
		"keyId":       ptr("k"),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("nested (-want +got):\n%s", diff)
	}
}

func TestEventNameOfUnroutedRequest(t *testing.T) {
	for target, want := range map[string]string{
		"secretsmanager.GetSecretValue": "GetSecretValue",
		"TrentService.Bogus<x>":         "Bogusx",
		"":                              "UnknownOperation",
		"a.b.c.日本":                      "UnknownOperation",
	} {
		r := httptest.NewRequest("POST", "/", nil)
		r.Header.Set("X-Amz-Target", target)
		c := &call{r: r}
		if got := c.eventName(); got != want {
			t.Errorf("eventName(%q) = %q, want %q", target, got, want)
		}
	}
	r := httptest.NewRequest("GET", "/?Action=GetCallerIdentity&Version=2011-06-15", nil)
	if got := (&call{r: r}).eventName(); got != "GetCallerIdentity" {
		t.Errorf("query action: %q", got)
	}
}

func TestAuditHelpers(t *testing.T) {
	for s, want := range map[string]bool{
		"AKIAIOSFODNN7EXAMPLE": true, "ASIA0123456789ABCDEF": true,
		"short": false, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY": false, "akiaiosfodnn7example": false,
	} {
		if got := looksLikeAccessKeyID(s); got != want {
			t.Errorf("looksLikeAccessKeyID(%q) = %v", s, got)
		}
	}
	if got := clip("héllo", 2); got != "h" {
		t.Errorf("clip: %q", got)
	}
	r := httptest.NewRequest("GET", "/?X-Amz-Security-Token=tok%2B1&Action=x", nil)
	if got := securityToken(r); got != "tok+1" {
		t.Errorf("presigned token: %q", got)
	}
}

func TestLookupToken(t *testing.T) {
	fp := lookupFingerprint("EventName", "GetSecretValue", time.Time{}, time.Unix(1700000000, 0))
	tok := lookupToken(42, fp)
	if seq, ok := parseLookupToken(tok, fp); !ok || seq != 42 {
		t.Fatalf("round trip: %d %v", seq, ok)
	}
	other := lookupFingerprint("EventName", "PutSecretValue", time.Time{}, time.Unix(1700000000, 0))
	if _, ok := parseLookupToken(tok, other); ok {
		t.Error("token accepted for another query")
	}
	for _, bad := range []string{"", "x", tok + "A", lookupToken(0, fp)} {
		if _, ok := parseLookupToken(bad, fp); ok {
			t.Errorf("accepted %q", bad)
		}
	}
}

// FuzzLookupToken: NextToken comes from clients.
func FuzzLookupToken(f *testing.F) {
	fp := lookupFingerprint("", "", time.Time{}, time.Time{})
	f.Add(lookupToken(7, fp))
	f.Add("AQAAAAAAAAAHAAAAAAAAAAA")
	f.Add("")
	f.Fuzz(func(t *testing.T, tok string) {
		seq, ok := parseLookupToken(tok, fp)
		if ok && (seq == 0 || lookupToken(seq, fp) != tok) {
			t.Fatalf("accepted %q as %d", tok, seq)
		}
	})
}

func TestAuditJSONScrubs(t *testing.T) {
	h, err := audit.NewHasher(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	got, err := auditJSON(h, map[string]any{
		"secretId": "db", "clientRequestToken": "tok", "grantTokens": []string{"g1"}, "tokenCode": "123456",
		"nested": map[string]any{"secretString": "hunter2", "sessionToken": "st"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"clientRequestToken":"` + h.HMAC("tok") + `","grantTokens":["` + h.HMAC("g1") + `"],"nested":{"sessionToken":"` + h.HMAC("st") + `"},"secretId":"db"}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	// Flat string parameters take the short way (audit.ScrubParams): same rules.
	got, err = auditJSON(h, map[string]any{"secretId": "db", "ClientRequestToken": "tok", "secretString": "hunter2"})
	if want := `{"ClientRequestToken":"` + h.HMAC("tok") + `","secretId":"db"}`; err != nil || string(got) != want {
		t.Errorf("flat: got %s %v\nwant %s", got, err, want)
	}
	if got, err := auditJSON(h, nil); got != nil || err != nil {
		t.Errorf("empty: %s %v", got, err)
	}
}

func TestQueryAuditParams(t *testing.T) {
	q := &qparams{v: url.Values{
		"Action": {"CreateRole"}, "Version": {"2010-05-08"}, "X-Amz-Signature": {"sig"},
		"RoleName": {"app"}, "Tags.member.1.Key": {"team"}, "Tags.member.1.Value": {"blue"},
		"Tags.member.2.Key": {"env"}, "Tags.member.2.Value": {"prod"},
		"PolicyArns.member.1.arn": {"arn:aws:iam::aws:policy/x"}, "Password": {"hunter2"},
	}}
	want := map[string]any{
		"roleName":   "app",
		"tags":       []any{map[string]any{"key": "team", "value": "blue"}, map[string]any{"key": "env", "value": "prod"}},
		"policyArns": []any{map[string]any{"arn": "arn:aws:iam::aws:policy/x"}},
		"password":   "hunter2", // dropped by auditJSON
	}
	if diff := cmp.Diff(want, q.AuditParams()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	h, _ := audit.NewHasher(make([]byte, 32))
	b, err := auditJSON(h, q.AuditParams())
	if err != nil || strings.Contains(string(b), "hunter2") {
		t.Errorf("scrubbed: %s %v", b, err)
	}
	if p := (&qparams{v: url.Values{"Action": {"GetCallerIdentity"}, "Version": {"2011-06-15"}}}).AuditParams(); p != nil {
		t.Errorf("no parameters: %v", p)
	}
	if p := (&qparams{v: url.Values{"1": {"x"}}}).AuditParams(); p != nil {
		t.Errorf("numeric top level: %v", p)
	}
}
