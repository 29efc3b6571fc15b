package integration

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// checkFields compares chosen fields of an event.
func checkFields(t *testing.T, what string, ev map[string]any, want map[string]any) {
	t.Helper()
	if ev == nil {
		t.Errorf("%s: no such event", what)
		return
	}
	for k, w := range want {
		if got := jsonPath(ev, k); got != w {
			t.Errorf("%s: %s = %v, want %v", what, k, got, w)
		}
	}
}

// Each API family records a success, a denial (an unauthenticated caller
// until IAM policies land) and a validation error.
func TestAuditEventsSecretsManager(t *testing.T) {
	s := startServer(t, serverOpts{})
	c := ctx(t)
	sm := s.sm()
	out, err := sm.CreateSecret(c, &secretsmanager.CreateSecretInput{Name: aws.String("audit/db"), SecretString: aws.String("pw-1")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sm.GetSecretValue(c, &secretsmanager.GetSecretValueInput{SecretId: aws.String("audit/db")}); err != nil {
		t.Fatal(err)
	}
	// Validation error (the SDK lets an empty id through).
	_, err = sm.GetSecretValue(c, &secretsmanager.GetSecretValueInput{SecretId: aws.String("")})
	if apiCode(err) != "ValidationException" {
		t.Fatalf("empty SecretId: %v", err)
	}
	// Denied: an access key the server does not know …
	cfg := s.awsConfig()
	cfg.Credentials = credentials.NewStaticCredentialsProvider("AKIAUNKNOWNUNKNOWN99", "secret", "")
	stranger := secretsmanager.NewFromConfig(cfg, func(o *secretsmanager.Options) { o.BaseEndpoint = aws.String(s.URL) })
	if _, err := stranger.GetSecretValue(c, &secretsmanager.GetSecretValueInput{SecretId: aws.String("audit/db")}); apiCode(err) != "UnrecognizedClientException" {
		t.Fatalf("unknown key: %v", err)
	}
	// … and the root's key with a wrong secret.
	cfg.Credentials = credentials.NewStaticCredentialsProvider(s.KeyID, "not-the-secret", "")
	forger := secretsmanager.NewFromConfig(cfg, func(o *secretsmanager.Options) { o.BaseEndpoint = aws.String(s.URL) })
	if _, err := forger.DescribeSecret(c, &secretsmanager.DescribeSecretInput{SecretId: aws.String("audit/db")}); apiCode(err) != "InvalidSignatureException" {
		t.Fatalf("bad signature: %v", err)
	}

	evs := s.auditEvents(t)
	common := map[string]any{
		"eventVersion": "1.08", "eventSource": "secretsmanager.amazonaws.com", "awsRegion": "us-east-1",
		"eventType": "AwsApiCall", "eventCategory": "Management", "managementEvent": true, "sourceIPAddress": "127.0.0.1",
	}
	ok := findEvent(evs, map[string]any{"eventName": "GetSecretValue", "errorCode": nil})
	checkFields(t, "success", ok, common)
	checkFields(t, "success", ok, map[string]any{
		"userIdentity.type": "Root", "userIdentity.accessKeyId": s.KeyID, "readOnly": true,
		"requestParameters.secretId": "audit/db", "responseElements": nil, "resources.0.ARN": *out.ARN,
		"resources.0.type": "AWS::SecretsManager::Secret",
	})
	if ua, _ := jsonPath(ok, "userAgent").(string); !strings.Contains(ua, "aws-sdk-go-v2") {
		t.Errorf("userAgent %q", ua)
	}
	created := findEvent(evs, map[string]any{"eventName": "CreateSecret"})
	checkFields(t, "create", created, map[string]any{
		"readOnly": false, "responseElements.arn": *out.ARN, "responseElements.name": "audit/db",
		"responseElements.versionId": *out.VersionId, "requestParameters.secretString": nil,
	})
	if tok, _ := jsonPath(created, "requestParameters.clientRequestToken").(string); !strings.HasPrefix(tok, "hmac-sha256:") {
		t.Errorf("clientRequestToken recorded as %q", tok)
	}
	checkFields(t, "validation", findEvent(evs, map[string]any{"errorCode": "ValidationException"}), map[string]any{
		"eventName": "GetSecretValue", "userIdentity.type": "Root", "requestParameters.secretId": "",
	})
	checkFields(t, "unknown key", findEvent(evs, map[string]any{"errorCode": "UnrecognizedClientException"}), map[string]any{
		"eventName": "GetSecretValue", "userIdentity.type": "Unknown", "userIdentity.accessKeyId": "AKIAUNKNOWNUNKNOWN99",
		"userIdentity.arn": nil, "requestParameters": nil,
	})
	checkFields(t, "bad signature", findEvent(evs, map[string]any{"errorCode": "InvalidSignatureException"}), map[string]any{
		"eventName": "DescribeSecret", "userIdentity.type": "Unknown", "userIdentity.accessKeyId": s.KeyID,
	})
	// Every event has its own id and the request id the client saw.
	ids := map[any]bool{}
	for _, ev := range evs {
		if ids[ev["eventID"]] || ev["requestID"] == nil {
			t.Errorf("event %v: duplicate id or no request id", ev["_seq"])
		}
		ids[ev["eventID"]] = true
	}
}

func TestAuditEventsKMS(t *testing.T) {
	s := startServer(t, serverOpts{})
	c := ctx(t)
	k := s.kms()
	key, err := k.CreateKey(c, &kms.CreateKeyInput{Description: aws.String("audit")})
	if apiCode(err) == "UnknownOperationException" || apiCode(err) == "InvalidRequestException" {
		checkFields(t, "unserved KMS operation", findEvent(s.auditEvents(t), map[string]any{"eventName": "CreateKey"}), map[string]any{
			"eventSource": "kms.amazonaws.com", "errorCode": apiCode(err),
		})
		t.Skip("the KMS API is not served by this build yet; its requests are recorded as failures")
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.DescribeKey(c, &kms.DescribeKeyInput{KeyId: key.KeyMetadata.KeyId}); err != nil {
		t.Fatal(err)
	}
	_, err = k.DescribeKey(c, &kms.DescribeKeyInput{KeyId: aws.String("")})
	if apiCode(err) != "ValidationException" {
		t.Fatalf("empty KeyId: %v", err)
	}
	cfg := s.awsConfig()
	cfg.Credentials = credentials.NewStaticCredentialsProvider("AKIAUNKNOWNUNKNOWN98", "secret", "")
	stranger := kms.NewFromConfig(cfg, func(o *kms.Options) { o.BaseEndpoint = aws.String(s.URL) })
	if _, err := stranger.DescribeKey(c, &kms.DescribeKeyInput{KeyId: key.KeyMetadata.KeyId}); err == nil {
		t.Fatal("unknown key accepted")
	}
	evs := s.auditEvents(t)
	checkFields(t, "create", findEvent(evs, map[string]any{"eventName": "CreateKey"}), map[string]any{
		"eventSource": "kms.amazonaws.com", "readOnly": false, "responseElements.keyMetadata.keyId": *key.KeyMetadata.KeyId,
		"resources.0.ARN": *key.KeyMetadata.Arn, "resources.0.type": "AWS::KMS::Key",
	})
	checkFields(t, "describe", findEvent(evs, map[string]any{"eventName": "DescribeKey", "errorCode": nil}), map[string]any{
		"readOnly": true, "responseElements": nil, "resources.0.ARN": *key.KeyMetadata.Arn,
	})
	checkFields(t, "validation", findEvent(evs, map[string]any{"eventName": "DescribeKey", "errorCode": "ValidationException"}), map[string]any{
		"userIdentity.type": "Root",
	})
	checkFields(t, "unknown key", findEvent(evs, map[string]any{"eventName": "DescribeKey", "errorCode": "UnrecognizedClientException"}), map[string]any{
		"userIdentity.type": "Unknown", "userIdentity.accessKeyId": "AKIAUNKNOWNUNKNOWN98",
	})
}

// coffer audit query and tail, for humans.
func TestAuditQueryAndTail(t *testing.T) {
	s := startServer(t, serverOpts{})
	c := ctx(t)
	sm := s.sm()
	for _, name := range []string{"q/a", "q/b"} {
		if _, err := sm.CreateSecret(c, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String("v")}); err != nil {
			t.Fatal(err)
		}
		if _, err := sm.GetSecretValue(c, &secretsmanager.GetSecretValueInput{SecretId: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
	}
	out, errOut, code := cofferRun(t, nil, "audit", "query", "--data-dir", s.DataDir, "--event-name", "GetSecretValue", "--user", "root", "--since", "1h")
	if code != 0 {
		t.Fatalf("query: %d %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "GetSecretValue root") || !strings.Contains(lines[0], ":secret:q/b-") {
		t.Errorf("query output:\n%s", out)
	}
	out, _, _ = cofferRun(t, nil, "audit", "query", "--data-dir", s.DataDir, "--event-name", "GetSecretValue", "--since", time.Now().Add(time.Hour).Format(time.RFC3339))
	if strings.TrimSpace(out) != "" {
		t.Errorf("query of the future:\n%s", out)
	}
	out, _, code = cofferRun(t, nil, "audit", "tail", "--data-dir", s.DataDir, "-n", "2")
	lines = strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 2 || !strings.Contains(lines[1], "GetSecretValue") || !strings.Contains(lines[0], "CreateSecret") {
		t.Errorf("tail -n 2:\n%s", out)
	}
	// tail -f prints events committed after it started.
	cmd := exec.Command(binary, "audit", "tail", "--data-dir", s.DataDir, "-n", "0", "-f", "--poll", "50ms")
	var buf syncBuffer
	cmd.Stdout = &buf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	time.Sleep(300 * time.Millisecond)
	if _, err := sm.DescribeSecret(c, &secretsmanager.DescribeSecretInput{SecretId: aws.String("q/a")}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(buf.String(), "DescribeSecret") {
		if time.Now().After(deadline) {
			t.Fatalf("tail -f printed:\n%s", buf.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
