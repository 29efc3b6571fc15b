package awsapi_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-dev/coffer/internal/audit"
)

// get walks a dotted path ("userIdentity.type", "resources.0.ARN") in
// decoded JSON.
func get(v any, path string) any {
	for _, p := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		case []any:
			i := 0
			for _, c := range p {
				i = i*10 + int(c-'0')
			}
			if i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// checkEvent compares chosen fields of an event.
func checkEvent(t *testing.T, ev map[string]any, want map[string]any) {
	t.Helper()
	for path, w := range want {
		if diff := cmp.Diff(w, get(ev, path)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", path, diff)
		}
	}
}

const smTarget = "secretsmanager."

func TestAuditEventSecretsManager(t *testing.T) {
	e := newTestEdge(t, true)
	created := e.ok(smTarget+"CreateSecret", `{"Name":"db/password","SecretString":"s3cr3t-value","ClientRequestToken":"11111111-2222-3333-4444-555555555555"}`)
	arn := created["ARN"].(string)
	ev := e.lastEvent()
	checkEvent(t, ev, map[string]any{
		"eventVersion":                         "1.08",
		"eventSource":                          "secretsmanager.amazonaws.com",
		"eventName":                            "CreateSecret",
		"eventType":                            "AwsApiCall",
		"eventCategory":                        "Management",
		"managementEvent":                      true,
		"awsRegion":                            testRegion,
		"recipientAccountId":                   testAccount,
		"readOnly":                             false,
		"sourceIPAddress":                      "192.0.2.1",
		"userAgent":                            "coffer-test/1.0",
		"userIdentity.type":                    "Root",
		"userIdentity.arn":                     "arn:aws:iam::" + testAccount + ":root",
		"userIdentity.accountId":               testAccount,
		"userIdentity.principalId":             testAccount,
		"userIdentity.accessKeyId":             rootKeyID,
		"requestParameters.name":               "db/password",
		"requestParameters.secretString":       nil,
		"requestParameters.clientRequestToken": e.hasher.HMAC("11111111-2222-3333-4444-555555555555"),
		"responseElements.arn":                 arn,
		"responseElements.name":                "db/password",
		"responseElements.versionId":           "11111111-2222-3333-4444-555555555555",
		"resources.0.ARN":                      arn,
		"resources.0.type":                     "AWS::SecretsManager::Secret",
		"resources.0.accountId":                testAccount,
		"errorCode":                            nil,
	})

	w := e.do(rootCreds, smTarget+"GetSecretValue", `{"SecretId":"db/password"}`)
	if w.Code != http.StatusOK {
		t.Fatal(w.Body)
	}
	ev = e.lastEvent()
	checkEvent(t, ev, map[string]any{
		"eventName":                   "GetSecretValue",
		"readOnly":                    true,
		"requestParameters":           map[string]any{"secretId": "db/password"},
		"responseElements":            nil,
		"resources.0.ARN":             arn,
		"requestID":                   w.Header().Get("x-amzn-RequestId"),
		"userIdentity.accessKeyId":    rootKeyID,
		"additionalEventData":         nil,
		"errorMessage":                nil,
		"userIdentity.sessionContext": nil,
	})

	// Validation error: recorded with the parameters that decoded.
	w = e.do(rootCreds, smTarget+"GetSecretValue", `{"VersionStage":""}`)
	if w.Code != http.StatusBadRequest {
		t.Fatal(w.Code, w.Body)
	}
	checkEvent(t, e.lastEvent(), map[string]any{
		"eventName":         "GetSecretValue",
		"errorCode":         "ValidationException",
		"requestParameters": map[string]any{"versionStage": ""},
		"responseElements":  nil,
		"userIdentity.type": "Root",
	})

	// A body that does not decode: no parameters.
	e.do(rootCreds, smTarget+"PutSecretValue", `{"SecretId":`)
	checkEvent(t, e.lastEvent(), map[string]any{
		"eventName":         "PutSecretValue",
		"errorCode":         "SerializationException",
		"requestParameters": nil,
	})

	// Denied: an IAM user without permissions.
	w = e.do(creds{aliceKeyID, aliceSecret, ""}, smTarget+"GetSecretValue", `{"SecretId":"db/password"}`)
	if w.Code != http.StatusBadRequest {
		t.Fatal(w.Code, w.Body)
	}
	checkEvent(t, e.lastEvent(), map[string]any{
		"errorCode":                "AccessDeniedException",
		"userIdentity.type":        "IAMUser",
		"userIdentity.userName":    "alice",
		"userIdentity.arn":         "arn:aws:iam::" + testAccount + ":user/alice",
		"userIdentity.accessKeyId": aliceKeyID,
		"resources.0.ARN":          arn,
		"responseElements":         nil,
	})

	// Unauthenticated: an unknown key, with a session token.
	const token = "FQoGZXIvYXdzEXAMPLETOKEN-must-never-appear"
	w = e.do(creds{"AKIAUNKNOWNUNKNOWN01", "whatever", token}, smTarget+"GetSecretValue", `{"SecretId":"db/password"}`)
	if w.Code == http.StatusOK {
		t.Fatal("unknown key accepted")
	}
	ev = e.lastEvent()
	checkEvent(t, ev, map[string]any{
		"userIdentity":        map[string]any{"type": "Unknown", "accessKeyId": "AKIAUNKNOWNUNKNOWN01"},
		"errorCode":           "UnrecognizedClientException",
		"requestParameters":   nil,
		"additionalEventData": map[string]any{"securityToken": e.hasher.HMAC(token)},
		"resources":           nil,
	})
	if bytes.Contains(e.allBytes(), []byte(token)) {
		t.Error("session token in the audit log")
	}

	// A write that names a version: response elements, no value.
	e.ok(smTarget+"PutSecretValue", `{"SecretId":"db/password","SecretString":"another-s3cr3t","ClientRequestToken":"`+newToken()+`"}`)
	ev = e.lastEvent()
	if get(ev, "responseElements.versionStages") == nil || get(ev, "requestParameters.secretString") != nil {
		t.Errorf("PutSecretValue event: %v", ev)
	}
	for _, v := range []string{"s3cr3t-value", "another-s3cr3t"} {
		if bytes.Contains(e.allBytes(), []byte(v)) {
			t.Errorf("secret value %q in the audit log", v)
		}
	}
}

func TestAuditEventUnroutable(t *testing.T) {
	e := newTestEdge(t, true)
	// An operation nobody serves (KMS operations answer like this until
	// the KMS API lands), and an unknown target.
	e.do(rootCreds, "TrentService.NoSuchOperation", `{}`)
	checkEvent(t, e.lastEvent(), map[string]any{
		"eventSource": "kms.amazonaws.com",
		"eventName":   "NoSuchOperation",
		"errorCode":   "UnknownOperationException",
		"readOnly":    false,
	})
	e.do(rootCreds, "Bogus.<script>", `{}`)
	checkEvent(t, e.lastEvent(), map[string]any{
		"eventSource": "unknown",
		"eventName":   "script",
		"errorCode":   "UnknownOperationException",
	})
}

func TestAuditEventKMS(t *testing.T) {
	e := newTestEdge(t, true)
	w := e.do(rootCreds, "TrentService.CreateKey", `{"Description":"audit test"}`)
	if w.Code != http.StatusOK {
		checkEvent(t, e.lastEvent(), map[string]any{"eventSource": "kms.amazonaws.com", "eventName": "CreateKey"})
		t.Skipf("the KMS API is not served yet: %s", w.Body)
	}
	var created struct{ KeyMetadata struct{ KeyId, Arn string } }
	json.Unmarshal(w.Body.Bytes(), &created)
	checkEvent(t, e.lastEvent(), map[string]any{
		"eventSource":                        "kms.amazonaws.com",
		"eventName":                          "CreateKey",
		"readOnly":                           false,
		"responseElements.keyMetadata.keyId": created.KeyMetadata.KeyId,
		"resources.0.type":                   "AWS::KMS::Key",
	})
	const pt = "kms-plaintext-never-logged"
	w = e.do(rootCreds, "TrentService.Encrypt", `{"KeyId":"`+created.KeyMetadata.KeyId+`","Plaintext":"`+base64.StdEncoding.EncodeToString([]byte(pt))+`"}`)
	if w.Code != http.StatusOK {
		t.Fatal(w.Body)
	}
	checkEvent(t, e.lastEvent(), map[string]any{
		"eventName":                   "Encrypt",
		"responseElements":            nil,
		"resources.0.ARN":             created.KeyMetadata.Arn,
		"requestParameters.plaintext": nil,
	})
	w = e.do(rootCreds, "TrentService.GenerateDataKey", `{"KeyId":"`+created.KeyMetadata.KeyId+`","KeySpec":"AES_256"}`)
	var dk struct{ Plaintext []byte }
	json.Unmarshal(w.Body.Bytes(), &dk)
	all := e.allBytes()
	for _, v := range [][]byte{[]byte(pt), []byte(base64.StdEncoding.EncodeToString([]byte(pt))), dk.Plaintext, []byte(base64.StdEncoding.EncodeToString(dk.Plaintext))} {
		if len(v) > 0 && bytes.Contains(all, v) {
			t.Errorf("KMS plaintext in the audit log")
		}
	}
	// Denied and validation errors.
	e.do(creds{aliceKeyID, aliceSecret, ""}, "TrentService.DescribeKey", `{"KeyId":"`+created.KeyMetadata.KeyId+`"}`)
	checkEvent(t, e.lastEvent(), map[string]any{"errorCode": "AccessDeniedException", "userIdentity.userName": "alice"})
	e.do(rootCreds, "TrentService.DescribeKey", `{}`)
	checkEvent(t, e.lastEvent(), map[string]any{"errorCode": "ValidationException", "eventName": "DescribeKey"})
}

func TestAuditChainAndCheckpoint(t *testing.T) {
	e := newTestEdge(t, true)
	e.ok(smTarget+"CreateSecret", `{"Name":"a","SecretString":"x","ClientRequestToken":"`+newToken()+`"}`)
	for range 5 {
		e.ok(smTarget+"GetSecretValue", `{"SecretId":"a"}`)
	}
	recs := e.records()
	head, _ := e.db.AuditHead(context.Background())
	if head.Size != uint64(len(recs)) || len(recs) != 6 {
		t.Fatalf("head %d, %d records", head.Size, len(recs))
	}
	seq := func(yield func(audit.Record, error) bool) {
		for _, r := range recs {
			if !yield(r, nil) {
				return
			}
		}
	}
	res, err := audit.VerifyWith(seq, audit.VerifyOptions{Checkpoints: []audit.Checkpoint{{Size: head.Size, Root: head.Root()}}})
	if err != nil || res.Records != 6 {
		t.Fatal(res, err)
	}
}

// A unit whose store transaction fails after its audit records were
// written to the segment log: the request fails, the frames are erased,
// the store is unchanged. (Failures of the log itself, for reads too, are
// in test/integration's TestAuditFailClosed.)
func TestAuditFailClosed(t *testing.T) {
	e := newTestEdge(t, true)
	e.ok(smTarget+"CreateSecret", `{"Name":"app","SecretString":"old-value","ClientRequestToken":"`+newToken()+`"}`)
	// A second connection adds triggers that make the store transaction's
	// audit bookkeeping (the audit_log row) fail.
	raw, err := sql.Open("sqlite3", "file:"+e.path+"?_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`CREATE TRIGGER audit_fail_u BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit sink broken'); END;
		CREATE TRIGGER audit_fail_i BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'audit sink broken'); END`); err != nil {
		t.Fatal(err)
	}
	before := len(e.records())
	w := e.do(rootCreds, smTarget+"PutSecretValue", `{"SecretId":"app","SecretString":"new-value","ClientRequestToken":"`+newToken()+`"}`)
	if w.Code != http.StatusInternalServerError || w.Header().Get("x-amzn-ErrorType") != "InternalServiceError" || strings.Contains(w.Body.String(), "broken") {
		t.Fatalf("PutSecretValue with a failing store commit: %d %s", w.Code, w.Body)
	}
	if _, err := raw.Exec(`DROP TRIGGER audit_fail_u; DROP TRIGGER audit_fail_i`); err != nil {
		t.Fatal(err)
	}
	out := e.ok(smTarget+"GetSecretValue", `{"SecretId":"app"}`)
	if out["SecretString"] != "old-value" {
		t.Fatalf("value after failed put: %v", out["SecretString"])
	}
	versions := e.ok(smTarget+"ListSecretVersionIds", `{"SecretId":"app"}`)
	if n := len(versions["Versions"].([]any)); n != 1 {
		t.Fatalf("%d versions after the failed put", n)
	}
	// The failed put's own record was erased; its failure is recorded (a
	// unit of its own, log only); no gap.
	recs := e.records()
	if len(recs) != before+3 {
		t.Fatalf("%d records, want %d", len(recs), before+3)
	}
	for _, r := range recs {
		if strings.Contains(string(r.Body), "new-value") {
			t.Fatalf("a record holds the value: %s", r.Body)
		}
	}
	var failed struct{ EventName, ErrorCode string }
	if err := json.Unmarshal(recs[before].Body, &failed); err != nil || failed.EventName != "PutSecretValue" || failed.ErrorCode != "InternalServiceError" {
		t.Fatalf("record of the failed put: %+v %v: %s", failed, err, recs[before].Body)
	}
	if _, err := audit.VerifyWith(func(yield func(audit.Record, error) bool) {
		for _, r := range recs {
			if !yield(r, nil) {
				return
			}
		}
	}, audit.VerifyOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestAuditOff(t *testing.T) {
	e := newTestEdge(t, false)
	e.ok(smTarget+"CreateSecret", `{"Name":"a","SecretString":"x","ClientRequestToken":"`+newToken()+`"}`)
	if n := len(e.records()); n != 0 {
		t.Fatalf("%d records with audit off", n)
	}
	w := e.do(rootCreds, "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents", `{}`)
	if w.Header().Get("x-amzn-ErrorType") != "OperationNotPermittedException" {
		t.Fatal(w.Code, w.Body)
	}
}

const lookupTarget = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents"

func TestLookupEvents(t *testing.T) {
	e := newTestEdge(t, true)
	arnA := e.ok(smTarget+"CreateSecret", `{"Name":"a","SecretString":"x","ClientRequestToken":"`+newToken()+`"}`)["ARN"].(string)
	e.ok(smTarget+"CreateSecret", `{"Name":"b","SecretString":"y","ClientRequestToken":"`+newToken()+`"}`)
	for range 3 {
		e.ok(smTarget+"GetSecretValue", `{"SecretId":"a"}`)
	}
	e.ok(smTarget+"GetSecretValue", `{"SecretId":"b"}`)

	type event struct {
		EventId, EventName, ReadOnly, AccessKeyId, EventSource, Username, CloudTrailEvent string
		EventTime                                                                         float64
		Resources                                                                         []struct{ ResourceType, ResourceName string }
	}
	type page struct {
		Events    []event
		NextToken string
	}
	lookup := func(body string) page {
		t.Helper()
		w := e.do(rootCreds, lookupTarget, body)
		if w.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", body, w.Code, w.Body)
		}
		var p page
		if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	names := func(p page) (out []string) {
		for _, ev := range p.Events {
			out = append(out, ev.EventName)
		}
		return out
	}

	p := lookup(`{"LookupAttributes":[{"AttributeKey":"EventName","AttributeValue":"GetSecretValue"}]}`)
	if len(p.Events) != 4 || p.NextToken != "" {
		t.Fatalf("by EventName: %+v", p)
	}
	ev := p.Events[0]
	if ev.ReadOnly != "true" || ev.Username != "root" || ev.AccessKeyId != rootKeyID || ev.EventSource != "secretsmanager.amazonaws.com" ||
		ev.EventTime == 0 || ev.EventId == "" || len(ev.Resources) != 1 || ev.Resources[0].ResourceType != "AWS::SecretsManager::Secret" {
		t.Errorf("event: %+v", ev)
	}
	var full map[string]any
	if err := json.Unmarshal([]byte(ev.CloudTrailEvent), &full); err != nil || full["eventID"] != ev.EventId {
		t.Errorf("CloudTrailEvent %q: %v", ev.CloudTrailEvent, err)
	}

	p = lookup(`{"LookupAttributes":[{"AttributeKey":"ResourceName","AttributeValue":"` + arnA + `"}]}`)
	if diff := cmp.Diff([]string{"GetSecretValue", "GetSecretValue", "GetSecretValue", "CreateSecret"}, names(p)); diff != "" {
		t.Errorf("by ResourceName (-want +got):\n%s", diff)
	}

	// Pagination, newest first; the LookupEvents calls themselves are
	// recorded too.
	var all []string
	body := `{"MaxResults":3}`
	for i := 0; ; i++ {
		p := lookup(body)
		all = append(all, names(p)...)
		if p.NextToken == "" {
			break
		}
		if i > 10 {
			t.Fatal("pagination does not end")
		}
		body = `{"MaxResults":3,"NextToken":"` + p.NextToken + `"}`
	}
	if len(all) < 8 || all[len(all)-1] != "CreateSecret" || all[0] != "LookupEvents" {
		t.Errorf("all pages: %v", all)
	}

	for _, tc := range []struct{ body, errType string }{
		{`{"MaxResults":51}`, "InvalidMaxResultsException"},
		{`{"MaxResults":0}`, "InvalidMaxResultsException"},
		{`{"LookupAttributes":[{"AttributeKey":"EventName","AttributeValue":"x"},{"AttributeKey":"Username","AttributeValue":"y"}]}`, "InvalidLookupAttributesException"},
		{`{"LookupAttributes":[{"AttributeKey":"Color","AttributeValue":"x"}]}`, "InvalidLookupAttributesException"},
		{`{"LookupAttributes":[{"AttributeKey":"ReadOnly","AttributeValue":"maybe"}]}`, "InvalidLookupAttributesException"},
		{`{"LookupAttributes":[{"AttributeKey":"EventName","AttributeValue":""}]}`, "InvalidLookupAttributesException"},
		{`{"StartTime":1700000100,"EndTime":1700000000}`, "InvalidTimeRangeException"},
		{`{"NextToken":"bogus"}`, "InvalidNextTokenException"},
		{`{"EventCategory":"data"}`, "InvalidEventCategoryException"},
	} {
		w := e.do(rootCreds, lookupTarget, tc.body)
		if got := w.Header().Get("x-amzn-ErrorType"); got != tc.errType {
			t.Errorf("%s: %s %s, want %s", tc.body, got, w.Body, tc.errType)
		}
	}
	// A token is bound to its query.
	first := lookup(`{"MaxResults":1}`)
	w := e.do(rootCreds, lookupTarget, `{"MaxResults":1,"NextToken":"`+first.NextToken+`","LookupAttributes":[{"AttributeKey":"EventName","AttributeValue":"GetSecretValue"}]}`)
	if w.Header().Get("x-amzn-ErrorType") != "InvalidNextTokenException" {
		t.Errorf("token of another query: %s", w.Body)
	}
	if p := lookup(`{"EventCategory":"insight"}`); len(p.Events) != 0 {
		t.Errorf("insight events: %v", p.Events)
	}
	// Time range.
	if p := lookup(`{"EndTime":1000000000}`); len(p.Events) != 0 {
		t.Errorf("events before 2001: %v", names(p))
	}
	// Only the root may look up events today.
	w = e.do(creds{aliceKeyID, aliceSecret, ""}, lookupTarget, `{}`)
	if w.Header().Get("x-amzn-ErrorType") != "AccessDeniedException" {
		t.Errorf("alice: %d %s", w.Code, w.Body)
	}
	checkEvent(t, e.lastEvent(), map[string]any{
		"eventSource": "cloudtrail.amazonaws.com", "eventName": "LookupEvents", "errorCode": "AccessDeniedException", "readOnly": true,
	})
}
