package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

type lookupOutput struct {
	Events []struct {
		EventId, EventName, ReadOnly, AccessKeyId, EventSource, Username, CloudTrailEvent string
		Resources                                                                         []struct{ ResourceType, ResourceName string }
	}
	NextToken string
}

// `aws cloudtrail lookup-events` returns the events of a scripted session.
func TestAuditCloudTrailLookupEventsCLI(t *testing.T) {
	requireTool(t, "/usr/bin/aws")
	s := startServer(t, serverOpts{})
	c := ctx(t)
	sm := s.sm()
	start := time.Now().Add(-time.Minute)
	var arns []string
	for _, name := range []string{"ct/one", "ct/two"} {
		out, err := sm.CreateSecret(c, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String("v")})
		if err != nil {
			t.Fatal(err)
		}
		arns = append(arns, *out.ARN)
	}
	for i := range 3 {
		if _, err := sm.PutSecretValue(c, &secretsmanager.PutSecretValueInput{SecretId: aws.String("ct/one"), SecretString: aws.String(fmt.Sprint(i))}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := sm.GetSecretValue(c, &secretsmanager.GetSecretValueInput{SecretId: aws.String("ct/two")}); err != nil {
		t.Fatal(err)
	}
	sm.GetSecretValue(c, &secretsmanager.GetSecretValueInput{SecretId: aws.String("ct/missing")})

	lookup := func(args ...string) lookupOutput {
		t.Helper()
		out, err := s.rootCLI(t, append([]string{"cloudtrail", "lookup-events"}, args...)...)
		if err != nil {
			t.Fatalf("aws cloudtrail lookup-events %v: %v", args, err)
		}
		var o lookupOutput
		if err := json.Unmarshal([]byte(out), &o); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		return o
	}

	// By event name.
	o := lookup("--lookup-attributes", "AttributeKey=EventName,AttributeValue=PutSecretValue")
	if len(o.Events) != 3 {
		t.Fatalf("PutSecretValue events: %+v", o)
	}
	for _, ev := range o.Events {
		if ev.EventName != "PutSecretValue" || ev.Username != "root" || ev.ReadOnly != "false" || ev.AccessKeyId != s.KeyID ||
			ev.EventSource != "secretsmanager.amazonaws.com" || len(ev.Resources) != 1 || ev.Resources[0].ResourceName != arns[0] {
			t.Errorf("event: %+v", ev)
		}
		var full map[string]any
		if err := json.Unmarshal([]byte(ev.CloudTrailEvent), &full); err != nil || full["eventID"] != ev.EventId {
			t.Errorf("CloudTrailEvent: %v", err)
		}
	}
	// By resource name: the second secret's create and read, newest first.
	o = lookup("--lookup-attributes", "AttributeKey=ResourceName,AttributeValue="+arns[1])
	var names []string
	for _, ev := range o.Events {
		names = append(names, ev.EventName)
	}
	if strings.Join(names, ",") != "GetSecretValue,CreateSecret" {
		t.Errorf("events of %s: %v", arns[1], names)
	}
	// Time range and small pages (the CLI follows NextToken).
	o = lookup("--start-time", start.UTC().Format(time.RFC3339), "--end-time", time.Now().Add(time.Minute).UTC().Format(time.RFC3339), "--page-size", "2")
	if len(o.Events) < 7 {
		t.Errorf("session events in range: %d", len(o.Events))
	}
	o = lookup("--end-time", start.Add(-time.Hour).UTC().Format(time.RFC3339))
	if len(o.Events) != 0 {
		t.Errorf("events before the session: %d", len(o.Events))
	}
	// Failures are events too; read-only filter.
	o = lookup("--lookup-attributes", "AttributeKey=ReadOnly,AttributeValue=true", "--max-items", "50")
	failed := 0
	for _, ev := range o.Events {
		if ev.ReadOnly != "true" {
			t.Errorf("read-only lookup returned %+v", ev)
		}
		if strings.Contains(ev.CloudTrailEvent, `"errorCode":"ResourceNotFoundException"`) {
			failed++
		}
	}
	if failed != 1 {
		t.Errorf("%d failed reads found", failed)
	}
	// The lookups were recorded as CloudTrail events.
	o = lookup("--lookup-attributes", "AttributeKey=EventSource,AttributeValue=cloudtrail.amazonaws.com")
	if len(o.Events) == 0 || o.Events[0].EventName != "LookupEvents" {
		t.Errorf("LookupEvents events: %+v", o.Events)
	}
	// A bad request gets CloudTrail's error type.
	if _, err := s.rootCLI(t, "cloudtrail", "lookup-events", "--lookup-attributes", "AttributeKey=EventName,AttributeValue=a", "AttributeKey=Username,AttributeValue=b"); err == nil ||
		!strings.Contains(err.Error(), "InvalidLookupAttributesException") {
		t.Errorf("two attributes: %v", err)
	}
}

// Checkpoints are signed periodically (and every N records) while the
// server runs; `coffer audit checkpoint` exports the newest one while the
// server holds the database.
func TestAuditCheckpointWhileRunning(t *testing.T) {
	s := startServer(t, serverOpts{args: []string{"--audit-checkpoint-every", "100ms", "--audit-checkpoint-records", "3"}})
	c := ctx(t)
	sm := s.sm()
	if _, err := sm.CreateSecret(c, &secretsmanager.CreateSecretInput{Name: aws.String("cp/app"), SecretString: aws.String("v")}); err != nil {
		t.Fatal(err)
	}
	for range 4 {
		sm.GetSecretValue(c, &secretsmanager.GetSecretValueInput{SecretId: aws.String("cp/app")})
	}
	cp := filepath.Join(t.TempDir(), "cp.txt")
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, errOut, code := cofferRun(t, nil, "audit", "checkpoint", "--data-dir", s.DataDir, "--out", cp)
		if code == 0 && strings.Contains(errOut, "size 5 ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no checkpoint of 5 records: %d %s", code, errOut)
		}
		time.Sleep(100 * time.Millisecond)
	}
	b, _ := os.ReadFile(cp)
	if !strings.HasPrefix(string(b), "coffer-audit/") || !strings.Contains(string(b), "\n\ncoffer-audit/") || !strings.Contains(string(b), "\n— coffer-audit/") {
		t.Errorf("checkpoint file:\n%s", b)
	}
	// Verify the live store against it, then stop and check the log grew
	// past it and is covered by the shutdown checkpoint.
	expectVerify(t, "live store", 0, "", "--data-dir", s.DataDir, "--checkpoint", cp)
	sm.GetSecretValue(c, &secretsmanager.GetSecretValueInput{SecretId: aws.String("cp/app")})
	s.stop(syscall.SIGTERM)
	out, _, code := cofferRun(t, nil, "audit", "verify", "--data-dir", s.DataDir)
	if code != 0 || !strings.Contains(out, "size 6 verified") {
		t.Errorf("after shutdown:\n%s", out)
	}
	// Tools never create a root key: without one they say so.
	_, errOut, code := cofferRun(t, nil, "audit", "verify", "--data-dir", t.TempDir())
	if code == 0 {
		t.Errorf("verify of an empty directory succeeded: %s", errOut)
	}
}

// A root-key rotation re-wraps the audit keys: HMACs stay comparable and
// checkpoints exported before still verify the log after.
func TestAuditSurvivesRootKeyRotation(t *testing.T) {
	s := startServer(t, serverOpts{})
	c := ctx(t)
	sm := s.sm()
	const token = "11111111-2222-4333-8444-555555555555"
	put := func() {
		t.Helper()
		if _, err := sm.PutSecretValue(c, &secretsmanager.PutSecretValueInput{SecretId: aws.String("rk/app"), SecretString: aws.String("v2"), ClientRequestToken: aws.String(token)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := sm.CreateSecret(c, &secretsmanager.CreateSecretInput{Name: aws.String("rk/app"), SecretString: aws.String("v1")}); err != nil {
		t.Fatal(err)
	}
	put()
	s.stop(syscall.SIGTERM)
	cp := filepath.Join(t.TempDir(), "cp.txt")
	if _, errOut, code := cofferRun(t, nil, "audit", "checkpoint", "--data-dir", s.DataDir, "--out", cp); code != 0 {
		t.Fatal(errOut)
	}
	if out, errOut, code := cofferRun(t, nil, "root-key", "rotate", "--data-dir", s.DataDir); code != 0 {
		t.Fatalf("rotate: %s%s", out, errOut)
	}
	s.start()
	sm = s.sm() // a new port
	put()       // same token again: an idempotent retry
	s.stop(syscall.SIGTERM)
	var hmacs []any
	for _, ev := range s.auditEvents(t) {
		if ev["eventName"] == "PutSecretValue" {
			hmacs = append(hmacs, jsonPath(ev, "requestParameters.clientRequestToken"))
		}
	}
	if len(hmacs) != 2 || hmacs[0] != hmacs[1] {
		t.Errorf("token HMACs before and after rotation: %v", hmacs)
	}
	expectVerify(t, "old checkpoint after rotation", 0, "", "--data-dir", s.DataDir, "--checkpoint", cp)
	expectVerify(t, "store after rotation", 0, "", "--data-dir", s.DataDir)
}
