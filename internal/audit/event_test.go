package audit_test

import (
	"bytes"
	"encoding/json"
	"regexp"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-dev/coffer/internal/audit"
)

var when = time.Date(2024, 1, 2, 3, 4, 5, 987654321, time.FixedZone("X", 3600))

// assumedRoleEvent is a GetSecretValue call by an IRSA role session.
func assumedRoleEvent() *audit.Event {
	ev := audit.NewAPICallEvent(when)
	ev.EventID = "8f4c8a56-3b1e-4b8e-9d7e-0123456789ab"
	ev.UserIdentity = audit.UserIdentity{
		Type:        audit.IdentityAssumedRole,
		PrincipalID: "AROAEXAMPLEID:botocore-session-1",
		ARN:         "arn:aws:sts::123456789012:assumed-role/app/botocore-session-1",
		AccountID:   "123456789012",
		AccessKeyID: "ASIAEXAMPLEKEY",
		SessionContext: &audit.SessionContext{
			SessionIssuer: &audit.SessionIssuer{
				Type:        "Role",
				PrincipalID: "AROAEXAMPLEID",
				ARN:         "arn:aws:iam::123456789012:role/app",
				AccountID:   "123456789012",
				UserName:    "app",
			},
			WebIDFederationData: &audit.WebIDFederationData{
				FederatedProvider: "arn:aws:iam::123456789012:oidc-provider/kubernetes.default.svc",
			},
			Attributes: audit.SessionAttributes{CreationDate: audit.TimeOf(when.Add(-time.Hour))},
		},
	}
	ev.EventSource = audit.SourceSecretsManager
	ev.EventName = "GetSecretValue"
	ev.AWSRegion = "us-east-1"
	ev.SourceIPAddress = "10.0.0.7"
	ev.UserAgent = "aws-sdk-go-v2/1.47.7 <&>"
	ev.RequestParams = json.RawMessage(`{"secretId":"prod/db"}`)
	ev.RequestID = "c0ffee00-0000-4000-8000-000000000001"
	ev.ReadOnly = true
	ev.RecipientAccountID = "123456789012"
	ev.TLSDetails = &audit.TLSDetails{TLSVersion: "TLSv1.3", CipherSuite: "TLS_AES_128_GCM_SHA256", ClientProvidedHostHeader: "localhost:8443"}
	return ev
}

func TestEventJSONShape(t *testing.T) {
	got, err := assumedRoleEvent().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"eventVersion":"1.08",` +
		`"userIdentity":{"type":"AssumedRole","principalId":"AROAEXAMPLEID:botocore-session-1",` +
		`"arn":"arn:aws:sts::123456789012:assumed-role/app/botocore-session-1","accountId":"123456789012",` +
		`"accessKeyId":"ASIAEXAMPLEKEY","sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROAEXAMPLEID",` +
		`"arn":"arn:aws:iam::123456789012:role/app","accountId":"123456789012","userName":"app"},` +
		`"webIdFederationData":{"federatedProvider":"arn:aws:iam::123456789012:oidc-provider/kubernetes.default.svc"},` +
		`"attributes":{"creationDate":"2024-01-02T01:04:05Z","mfaAuthenticated":"false"}}},` +
		`"eventTime":"2024-01-02T02:04:05Z","eventSource":"secretsmanager.amazonaws.com","eventName":"GetSecretValue",` +
		`"awsRegion":"us-east-1","sourceIPAddress":"10.0.0.7","userAgent":"aws-sdk-go-v2/1.47.7 <&>",` +
		`"requestParameters":{"secretId":"prod/db"},"responseElements":null,` +
		`"requestID":"c0ffee00-0000-4000-8000-000000000001","eventID":"8f4c8a56-3b1e-4b8e-9d7e-0123456789ab",` +
		`"readOnly":true,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"123456789012",` +
		`"eventCategory":"Management",` +
		`"tlsDetails":{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"localhost:8443"}}`
	if string(got) != want {
		t.Errorf("event JSON:\n got %s\nwant %s", got, want)
	}
	if !audit.ValidBody(got) {
		t.Error("marshalled event is not a valid record body")
	}

	// Round trip through encoding/json.
	var back audit.Event
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatal(err)
	}
	again, _ := back.Marshal()
	if !bytes.Equal(got, again) {
		t.Errorf("round trip changed the JSON:\n%s\n%s", got, again)
	}
}

func TestEventDeniedUnknownCaller(t *testing.T) {
	ev := audit.NewAPICallEvent(when)
	ev.UserIdentity = audit.UserIdentity{Type: audit.IdentityUnknown, AccessKeyID: "AKIANOTFOUND"}
	ev.EventSource = audit.SourceKMS
	ev.EventName = "Decrypt"
	ev.ErrorCode = "UnrecognizedClientException"
	ev.ErrorMessage = "The security token included in the request is invalid."
	ev.Resources = []audit.Resource{{ARN: "arn:aws:kms:us-east-1:123456789012:key/k", AccountID: "123456789012", Type: "AWS::KMS::Key"}}
	b, err := ev.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m["requestParameters"] != nil || m["responseElements"] != nil {
		t.Errorf("params/response should be null: %s", b)
	}
	for _, k := range []string{"requestParameters", "responseElements", "readOnly", "managementEvent", "errorCode", "errorMessage", "resources"} {
		if _, ok := m[k]; !ok {
			t.Errorf("%s missing: %s", k, b)
		}
	}
	for _, k := range []string{"tlsDetails", "additionalEventData", "apiVersion", "sharedEventID", "requestID"} {
		if _, ok := m[k]; ok {
			t.Errorf("empty %s should be omitted: %s", k, b)
		}
	}
	ui := m["userIdentity"].(map[string]any)
	if diff := cmp.Diff(map[string]any{"type": "Unknown", "accessKeyId": "AKIANOTFOUND"}, ui); diff != "" {
		t.Errorf("userIdentity (-want +got):\n%s", diff)
	}
	res := m["resources"].([]any)[0].(map[string]any)
	if res["ARN"] == nil || res["accountId"] == nil || res["type"] == nil {
		t.Errorf("resource keys: %v", res)
	}
}

func TestTime(t *testing.T) {
	tm := audit.TimeOf(when)
	if tm.String() != "2024-01-02T02:04:05Z" {
		t.Errorf("String() = %s", tm)
	}
	for in, want := range map[string]string{
		`"2024-01-02T02:04:05Z"`:           "2024-01-02T02:04:05Z",
		`"2024-01-02T03:04:05.9+01:00"`:    "2024-01-02T02:04:05Z",
		`"20131102T010628Z"`:               "2013-11-02T01:06:28Z",
		`"2024-01-02T02:04:05.123456789Z"`: "2024-01-02T02:04:05Z",
	} {
		var got audit.Time
		if err := json.Unmarshal([]byte(in), &got); err != nil || got.String() != want {
			t.Errorf("Unmarshal(%s) = %s, %v; want %s", in, got, err, want)
		}
	}
	for _, in := range []string{`"yesterday"`, `12`, `"2024-01-02"`} {
		var got audit.Time
		if err := json.Unmarshal([]byte(in), &got); err == nil {
			t.Errorf("Unmarshal(%s) accepted", in)
		}
	}
}

func TestNewEventID(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for range 1000 {
		id := audit.NewEventID()
		if !re.MatchString(id) {
			t.Fatalf("%q is not a v4 UUID", id)
		}
		if seen[id] {
			t.Fatalf("duplicate %q", id)
		}
		seen[id] = true
	}
}
