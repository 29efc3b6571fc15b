package integration

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/coffer-dev/coffer/internal/keyring"
)

// TestKMSRootKeyRotate rotates a data dir's root key offline with the
// binary: from a key file to another, then to a KMS key of another Coffer.
// Afterwards the server starts with the new key only, and every secret,
// KMS ciphertext and access key works.
func TestKMSRootKeyRotate(t *testing.T) {
	keys := t.TempDir()
	oldKey := filepath.Join(keys, "old.key")
	if _, err := keyring.GenerateFile(oldKey); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, serverOpts{args: []string{"--root-key-file", oldKey}})
	c, sm := s.kms(), s.sm()
	key := newKMSKey(t, c, "data key")
	enc := call(t, c.Encrypt, &kms.EncryptInput{KeyId: key.KeyId, Plaintext: []byte("kms data")})
	call(t, c.RotateKeyOnDemand, &kms.RotateKeyOnDemandInput{KeyId: key.KeyId})
	for name, kid := range map[string]*string{"with-cmk": key.Arn, "with-default": nil} {
		if _, err := sm.CreateSecret(ctx(t), &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String("value of " + name), KmsKeyId: kid}); err != nil {
			t.Fatal(err)
		}
	}
	check := func(s *server) {
		t.Helper()
		for _, name := range []string{"with-cmk", "with-default"} {
			v, err := s.sm().GetSecretValue(ctx(t), &secretsmanager.GetSecretValueInput{SecretId: aws.String(name)})
			if err != nil || aws.ToString(v.SecretString) != "value of "+name {
				t.Fatalf("secret %s: %v", name, err)
			}
		}
		dec := call(t, s.kms().Decrypt, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob})
		if string(dec.Plaintext) != "kms data" {
			t.Fatal("KMS ciphertext after root-key rotation")
		}
	}

	// Refused while the server runs.
	newKey := filepath.Join(keys, "new.key")
	out, err := runCofferOut(t, nil, "root-key", "rotate", "--data-dir", s.DataDir, "--root-key-file", oldKey, "--new-root-key-file", newKey)
	if err == nil || !strings.Contains(out, "stop the server") {
		t.Fatalf("rotate while serving: %v\n%s", err, out)
	}
	s.stop(syscall.SIGTERM)
	out, err = runCofferOut(t, nil, "root-key", "rotate", "--data-dir", s.DataDir, "--root-key-file", oldKey, "--new-root-key-file", newKey)
	if err != nil || !strings.Contains(out, "Root key rotated: 3 KMS key materials and 1 access keys re-wrapped") {
		t.Fatalf("rotate: %v\n%s", err, out)
	}
	t.Log(strings.TrimSpace(out))
	// The old key no longer opens the data dir; the new one does.
	out, err = runCofferOut(t, nil, "server", "--listen", "127.0.0.1:0", "--data-dir", s.DataDir, "--root-key-file", oldKey)
	if err == nil || !strings.Contains(out, "does not match the data") {
		t.Fatalf("start with the old root key: %v\n%s", err, out)
	}
	s.args = []string{"--root-key-file", newKey}
	s.start() // also signs every request with the re-wrapped access key
	check(s)
	s.stop(syscall.SIGTERM)

	// Now to a KMS key of another Coffer (auto-unseal).
	unsealer := startServer(t, serverOpts{})
	wrapKey := newKMSKey(t, unsealer.kms(), "wraps the root key")
	env := kmsClientEnv(unsealer)
	out, err = runCofferOut(t, env, "root-key", "rotate", "--data-dir", s.DataDir, "--root-key-file", newKey, "--new-root-key-kms-key-id", aws.ToString(wrapKey.Arn))
	if err != nil || !strings.Contains(out, "--root-key-kms-key-id "+aws.ToString(wrapKey.Arn)) {
		t.Fatalf("rotate to KMS: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(s.DataDir, "root.key.kms")); err != nil {
		t.Fatal(err)
	}
	s.args = []string{"--root-key-kms-key-id", aws.ToString(wrapKey.Arn)}
	s.env = env
	s.start()
	check(s)
}
