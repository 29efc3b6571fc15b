package keyring_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/coffer-dev/coffer/internal/envelope"
	"github.com/coffer-dev/coffer/internal/keyring"
)

func TestWrapUnwrap(t *testing.T) {
	r, err := keyring.NewRoot(envelope.NewDataKey())
	if err != nil {
		t.Fatal(err)
	}
	blob := r.Wrap("kms-material", "key1/1", []byte("material"))
	if got, err := r.Unwrap("kms-material", "key1/1", blob); err != nil || string(got) != "material" {
		t.Fatalf("Unwrap = %q, %v", got, err)
	}
	if _, err := r.Unwrap("kms-material", "key2/1", blob); !errors.Is(err, keyring.ErrWrongRootKey) {
		t.Fatalf("swapped id: %v", err)
	}
	other, _ := keyring.NewRoot(envelope.NewDataKey())
	if _, err := other.Unwrap("kms-material", "key1/1", blob); err == nil {
		t.Fatal("other root key unwrapped")
	}
	if err := other.VerifyCheck(r.NewCheck()); !errors.Is(err, keyring.ErrWrongRootKey) {
		t.Fatalf("VerifyCheck with wrong key: %v", err)
	}
	if err := r.VerifyCheck(r.NewCheck()); err != nil {
		t.Fatal(err)
	}
	if r.ID() == other.ID() || r.ID()[:3] != "rk-" {
		t.Fatalf("ids %q %q", r.ID(), other.ID())
	}
	if bytes.Equal(r.Derive("audit-hmac"), r.Derive("audit-sign")) {
		t.Fatal("derived keys collide")
	}
}

func TestProviders(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "root.key")
	created, err := keyring.GenerateFile(path)
	if err != nil || !created {
		t.Fatalf("GenerateFile = %v, %v", created, err)
	}
	if created, _ := keyring.GenerateFile(path); created {
		t.Fatal("GenerateFile overwrote")
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode())
	}
	k1, err := keyring.FileProvider{Path: path}.RootKey(context.Background())
	if err != nil || len(k1) != 32 {
		t.Fatalf("file provider: %v", err)
	}
	t.Setenv("TEST_ROOT", keyring.EncodeKey(k1))
	k2, err := keyring.EnvProvider{Var: "TEST_ROOT"}.RootKey(context.Background())
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatalf("env provider: %v", err)
	}
	os.Chmod(path, 0o644)
	if _, err := (keyring.FileProvider{Path: path}).RootKey(context.Background()); err == nil {
		t.Fatal("world-readable key file accepted")
	}
	t.Setenv("TEST_ROOT", "c2hvcnQ=")
	if _, err := (keyring.EnvProvider{Var: "TEST_ROOT"}).RootKey(context.Background()); err == nil {
		t.Fatal("short key accepted")
	}
}
