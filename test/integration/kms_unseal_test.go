package integration

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// kmsClientEnv is the environment that points a Coffer's root-key KMS
// client at server s (and nothing else on this machine).
func kmsClientEnv(s *server) []string {
	return []string{
		"AWS_ENDPOINT_URL_KMS=" + s.URL,
		"AWS_ACCESS_KEY_ID=" + s.KeyID,
		"AWS_SECRET_ACCESS_KEY=" + s.Secret,
		"AWS_SESSION_TOKEN=",
		"AWS_REGION=us-east-1",
		"AWS_PROFILE=",
		"AWS_CONFIG_FILE=" + filepath.Join(os.TempDir(), "coffer-no-aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(os.TempDir(), "coffer-no-aws-credentials"),
		"AWS_EC2_METADATA_DISABLED=true",
		"COFFER_ROOT_KEY=",
	}
}

// runCoffer runs the binary to completion (for runs expected to fail).
func runCofferOut(t *testing.T, env []string, args ...string) (string, error) {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(c, binary, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestKMSAutoUnseal: a second Coffer keeps its root key wrapped by a KMS key
// of the first one.
func TestKMSAutoUnseal(t *testing.T) {
	a := startServer(t, serverOpts{})
	ka := a.kms()
	key := newKMSKey(t, ka, "root key of b")

	env := kmsClientEnv(a)
	args := []string{"--root-key-kms-key-id", aws.ToString(key.Arn)}
	b := startServer(t, serverOpts{args: args, env: env})
	if _, err := os.Stat(filepath.Join(b.DataDir, "root.key")); err == nil {
		t.Fatal("b wrote a plain root key into its data dir")
	}
	wrapped, err := os.ReadFile(filepath.Join(b.DataDir, "root.key.kms"))
	if err != nil || !strings.Contains(string(wrapped), aws.ToString(key.Arn)) {
		t.Fatalf("root.key.kms: %v\n%s", err, wrapped)
	}
	sm := b.sm()
	if _, err := sm.CreateSecret(ctx(t), &secretsmanager.CreateSecretInput{Name: aws.String("unsealed"), SecretString: aws.String("s3cr3t")}); err != nil {
		t.Fatal(err)
	}

	// Restart: the root key is unwrapped again through a.
	b.restart(syscall.SIGTERM)
	v, err := b.sm().GetSecretValue(ctx(t), &secretsmanager.GetSecretValueInput{SecretId: aws.String("unsealed")})
	if err != nil || aws.ToString(v.SecretString) != "s3cr3t" {
		t.Fatalf("read after restart: %v", err)
	}
	b.stop(syscall.SIGTERM)

	serverArgs := append([]string{"server", "--listen", "127.0.0.1:0", "--data-dir", b.DataDir}, args...)
	// The wrapping key disabled: b refuses to start, and says why.
	call(t, ka.DisableKey, &kms.DisableKeyInput{KeyId: key.KeyId})
	out, err := runCofferOut(t, env, serverArgs...)
	if err == nil || !strings.Contains(out, "cannot unwrap the root key with KMS key "+aws.ToString(key.Arn)) ||
		!strings.Contains(out, "DisabledException: "+aws.ToString(key.Arn)+" is disabled.") {
		t.Fatalf("start with the wrapping key disabled: %v\n%s", err, out)
	}
	// Started without the KMS setting: refused with a pointer to it.
	out, err = runCofferOut(t, nil, "server", "--listen", "127.0.0.1:0", "--data-dir", b.DataDir)
	if err == nil || !strings.Contains(out, "--root-key-kms-key-id") {
		t.Fatalf("start without --root-key-kms-key-id: %v\n%s", err, out)
	}
	// Re-enabled: b starts and serves its secrets.
	call(t, ka.EnableKey, &kms.EnableKeyInput{KeyId: key.KeyId})
	b.start()
	v, err = b.sm().GetSecretValue(ctx(t), &secretsmanager.GetSecretValueInput{SecretId: aws.String("unsealed")})
	if err != nil || aws.ToString(v.SecretString) != "s3cr3t" {
		t.Fatalf("read after re-enabling the key: %v", err)
	}
}
