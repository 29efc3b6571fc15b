package integration

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// When the audit record cannot be written, the request fails with an
// AWS-shaped error and leaves nothing behind; reads fail too, and keep
// failing (the log refuses records after a write it could not undo) until
// the server restarts.
func TestAuditFailClosed(t *testing.T) {
	s := startServer(t, serverOpts{})
	c := ctx(t)
	sm := s.sm()
	if _, err := sm.CreateSecret(c, &secretsmanager.CreateSecretInput{Name: aws.String("fc/app"), SecretString: aws.String("old-value")}); err != nil {
		t.Fatal(err)
	}
	before := len(s.auditEvents(t))

	// Break the log while the server runs: make its files and directory
	// immutable, which fails writes through the server's open descriptor
	// (EPERM), for root too. (A read-only file mode would not stop root.)
	logDir := filepath.Join(s.DataDir, "audit")
	files, _ := filepath.Glob(filepath.Join(logDir, "*.seg"))
	files = append(files, logDir)
	chattr := func(flag string) error {
		out, err := exec.Command("chattr", append([]string{flag}, files...)...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("chattr %s: %v: %s", flag, err, out)
		}
		return nil
	}
	if err := chattr("+i"); err != nil {
		t.Skipf("cannot make the audit log immutable here (needs chattr and CAP_LINUX_IMMUTABLE): %v", err)
	}
	defer chattr("-i")
	_, err := sm.PutSecretValue(c, &secretsmanager.PutSecretValueInput{SecretId: aws.String("fc/app"), SecretString: aws.String("new-value")})
	if apiCode(err) != "InternalServiceError" {
		t.Fatalf("PutSecretValue with a broken audit log: %v", err)
	}
	_, err = sm.GetSecretValue(c, &secretsmanager.GetSecretValueInput{SecretId: aws.String("fc/app")})
	if apiCode(err) != "InternalServiceError" {
		t.Fatalf("GetSecretValue with a broken audit log: %v", err)
	}
	if strings.Contains(err.Error(), "old-value") || strings.Contains(err.Error(), "operation not permitted") {
		t.Errorf("error shows internals: %v", err)
	}
	_, err = sm.CreateSecret(c, &secretsmanager.CreateSecretInput{Name: aws.String("fc/other"), SecretString: aws.String("x")})
	if apiCode(err) != "InternalServiceError" {
		t.Fatalf("CreateSecret with a broken audit log: %v", err)
	}
	if err := chattr("-i"); err != nil {
		t.Fatal(err)
	}
	// The failed write could not be erased: no more records until a restart.
	_, err = sm.GetSecretValue(c, &secretsmanager.GetSecretValueInput{SecretId: aws.String("fc/app")})
	if apiCode(err) != "InternalServiceError" {
		t.Fatalf("GetSecretValue after the log broke: %v", err)
	}
	if !strings.Contains(s.logs.String(), "audit") {
		t.Errorf("nothing about the audit log in the server's log:\n%s", s.logs)
	}
	s.restart(syscall.SIGTERM)
	c = ctx(t)
	sm = s.sm()

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
		t.Errorf("%d events after, %d before (want the 3 requests since the restart)", len(evs), before)
	}
	for i, ev := range evs {
		if ev["_seq"] != float64(i+1) {
			t.Fatalf("event %d has seq %v", i, ev["_seq"])
		}
	}
	s.stop(syscall.SIGTERM)
	expectVerify(t, "log after the outage", 0, "", "--data-dir", s.DataDir)
}
