package integration

import (
	"database/sql"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	_ "github.com/mattn/go-sqlite3"

)

// When the audit record cannot be written, the request fails with an
// AWS-shaped error and leaves nothing behind; reads fail too.
func TestAuditFailClosed(t *testing.T) {
	s := startServer(t, serverOpts{})
	c := ctx(t)
	sm := s.sm()
	if _, err := sm.CreateSecret(c, &secretsmanager.CreateSecretInput{Name: aws.String("fc/app"), SecretString: aws.String("old-value")}); err != nil {
		t.Fatal(err)
	}
	before := len(s.auditEvents(t))

	// Break the sink while the server runs: a second connection (what an
	// operator's sqlite3 shell would be) adds a trigger that refuses every
	// audit insert.
	raw, err := sql.Open("sqlite3", "file:"+filepath.Join(s.DataDir, "coffer.db")+"?_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`CREATE TRIGGER audit_broken BEFORE INSERT ON audit_records BEGIN SELECT RAISE(ABORT, 'audit sink unavailable'); END`); err != nil {
		t.Fatal(err)
	}
	_, err = sm.PutSecretValue(c, &secretsmanager.PutSecretValueInput{SecretId: aws.String("fc/app"), SecretString: aws.String("new-value")})
	if apiCode(err) != "InternalServiceError" {
		t.Fatalf("PutSecretValue with a broken audit sink: %v", err)
	}
	_, err = sm.GetSecretValue(c, &secretsmanager.GetSecretValueInput{SecretId: aws.String("fc/app")})
	if apiCode(err) != "InternalServiceError" {
		t.Fatalf("GetSecretValue with a broken audit sink: %v", err)
	}
	if strings.Contains(err.Error(), "old-value") || strings.Contains(err.Error(), "audit sink unavailable") {
		t.Errorf("error shows internals: %v", err)
	}
	_, err = sm.CreateSecret(c, &secretsmanager.CreateSecretInput{Name: aws.String("fc/other"), SecretString: aws.String("x")})
	if apiCode(err) != "InternalServiceError" {
		t.Fatalf("CreateSecret with a broken audit sink: %v", err)
	}

	if _, err := raw.Exec(`DROP TRIGGER audit_broken`); err != nil {
		t.Fatal(err)
	}
	got, err := sm.GetSecretValue(c, &secretsmanager.GetSecretValueInput{SecretId: aws.String("fc/app")})
	if err != nil || *got.SecretString != "old-value" {
		t.Fatalf("after the failed put: %v %v", got, err)
	}
	versions, err := sm.ListSecretVersionIds(c, &secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String("fc/app")})
	if err != nil || len(versions.Versions) != 1 {
		t.Fatalf("versions after the failed put: %v %v", versions, err)
	}
	if _, err := sm.DescribeSecret(c, &secretsmanager.DescribeSecretInput{SecretId: aws.String("fc/other")}); apiCode(err) != "ResourceNotFoundException" {
		t.Fatalf("the failed create left a secret: %v", err)
	}
	// The failed requests left no record; the log has no gap and verifies.
	evs := s.auditEvents(t)
	if len(evs) != before+3 {
		t.Errorf("%d events after, %d before (want the 3 requests since)", len(evs), before)
	}
	for i, ev := range evs {
		if ev["_seq"] != float64(i+1) {
			t.Fatalf("event %d has seq %v", i, ev["_seq"])
		}
	}
	s.stop(syscall.SIGTERM)
	expectVerify(t, "log after the outage", 0, "", "--data-dir", s.DataDir)
}
