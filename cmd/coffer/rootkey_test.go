package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coffer-dev/coffer/internal/identity"
	"github.com/coffer-dev/coffer/internal/keyring"
	"github.com/coffer-dev/coffer/internal/kms"
	"github.com/coffer-dev/coffer/internal/postgres"
	"github.com/coffer-dev/coffer/internal/postgres/pgtest"
	"github.com/coffer-dev/coffer/internal/secrets"
	"github.com/coffer-dev/coffer/internal/sigv4"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// dataset is what a rotation must keep readable.
type dataset struct {
	creds    *identity.Credentials
	blob     []byte // KMS ciphertext made before the rotation (old material)
	blobKey  string
	secretID string
}

// populate fills a data dir: a customer KMS key rotated once, a secret
// under it and one under the default key, and the root access key.
func populate(t *testing.T, c appConfig) dataset {
	t.Helper()
	ctx := context.Background()
	app, err := openApp(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	creds, err := app.identity.EnsureRoot(ctx, nil)
	if err != nil || creds == nil {
		t.Fatalf("EnsureRoot: %v", err)
	}
	k, err := app.kms.CreateKey(ctx, kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := app.kms.Encrypt(ctx, kms.CryptoInput{KeyRef: k.ID}, []byte("old material"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.kms.RotateOnDemand(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	for _, in := range []secrets.CreateInput{
		{Name: "cmk", Token: "00000000-0000-4000-8000-000000000001", KmsKeyID: k.ARN, Value: &secrets.Value{Data: []byte("under cmk")}},
		{Name: "default", Token: "00000000-0000-4000-8000-000000000002", Value: &secrets.Value{Data: []byte("under default")}},
	} {
		if _, err := app.secrets.Create(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	return dataset{creds: creds, blob: res.Blob, blobKey: k.ID, secretID: "cmk"}
}

// verify opens the data dir with c and checks that everything reads.
func verify(t *testing.T, c appConfig, d dataset) {
	t.Helper()
	ctx := context.Background()
	app, err := openApp(ctx, c)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer app.Close()
	for name, want := range map[string]string{"cmk": "under cmk", "default": "under default"} {
		sec, err := app.secrets.Lookup(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		v, err := app.secrets.GetValue(ctx, sec, "", "")
		if err != nil || string(v.Value.Data) != want {
			t.Fatalf("secret %s: %v", name, err)
		}
	}
	out, err := app.kms.Decrypt(ctx, kms.CryptoInput{}, d.blob)
	if err != nil || string(out.Plaintext) != "old material" {
		t.Fatalf("KMS ciphertext: %v", err)
	}
	key, _, err := app.identity.SigningKey(ctx, d.creds.AccessKeyID, "20260101", "us-east-1", "kms")
	if err != nil || !bytes.Equal(key, sigv4.SigningKey(d.creds.SecretAccessKey, "20260101", "us-east-1", "kms")) {
		t.Fatalf("access key: %v", err)
	}
}

func newKeyFile(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if _, err := keyring.GenerateFile(p); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRootKeyRotateFileToFile(t *testing.T) {
	dir := t.TempDir()
	oldKey := newKeyFile(t, "old.key")
	c := appConfig{dataDir: dir, rootKeyFile: oldKey, log: quiet}
	d := populate(t, c)
	newKey := filepath.Join(t.TempDir(), "new.key") // created by rotate
	res, err := rotateRootKey(context.Background(), rotateOptions{dataDir: dir, old: rootKeyFlags{file: oldKey}, newFile: newKey, log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if res.materials != 3 || res.accessKeys != 1 { // cmk (2) + default key (1)
		t.Fatalf("rotated %d materials, %d access keys", res.materials, res.accessKeys)
	}
	verify(t, appConfig{dataDir: dir, rootKeyFile: newKey, log: quiet}, d)
	if _, err := openApp(context.Background(), c); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Fatalf("old root key after rotation: %v", err)
	}
	// Rotating onto the same key is refused.
	if _, err := rotateRootKey(context.Background(), rotateOptions{dataDir: dir, old: rootKeyFlags{file: newKey}, newFile: newKey, log: quiet}); err == nil {
		t.Fatal("rotation onto the current key accepted")
	}
}

// TestRootKeyRotateInterrupted injects failures midway: nothing changes,
// the old root key keeps working, and a later rotation succeeds.
func TestRootKeyRotateInterrupted(t *testing.T) {
	dir := t.TempDir()
	oldKey := newKeyFile(t, "old.key")
	c := appConfig{dataDir: dir, rootKeyFile: oldKey, log: quiet}
	d := populate(t, c)
	boom := errors.New("injected failure")
	for _, at := range []int{1, 2, 3} { // after the first key, the second key, the access key
		newKey := newKeyFile(t, "new.key")
		_, err := rotateRootKey(context.Background(), rotateOptions{dataDir: dir, old: rootKeyFlags{file: oldKey}, newFile: newKey, log: quiet,
			fail: func(n int) error {
				if n == at {
					return boom
				}
				return nil
			}})
		if !errors.Is(err, boom) {
			t.Fatalf("fail at %d: %v", at, err)
		}
		verify(t, c, d)
		if _, err := openApp(context.Background(), appConfig{dataDir: dir, rootKeyFile: newKey, log: quiet}); err == nil {
			t.Fatalf("fail at %d: the new root key opens the data dir", at)
		}
	}
	newKey := newKeyFile(t, "final.key")
	if _, err := rotateRootKey(context.Background(), rotateOptions{dataDir: dir, old: rootKeyFlags{file: oldKey}, newFile: newKey, log: quiet}); err != nil {
		t.Fatal(err)
	}
	verify(t, appConfig{dataDir: dir, rootKeyFile: newKey, log: quiet}, d)
}

// TestRootKeyRotateDevKeyAndPendingRename rotates the development key and
// checks that start-up finishes a rename an interruption left undone.
func TestRootKeyRotateDevKeyAndPendingRename(t *testing.T) {
	t.Setenv(envRootKey, "")
	dir := t.TempDir()
	c := appConfig{dataDir: dir, log: quiet}
	d := populate(t, c)
	devPath := filepath.Join(dir, devKeyFile)
	before, _ := os.ReadFile(devPath)
	if _, err := rotateRootKey(context.Background(), rotateOptions{dataDir: dir, log: quiet}); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(devPath)
	if bytes.Equal(before, after) {
		t.Fatal("development key file unchanged")
	}
	if _, err := os.Stat(devPath + pendingSuffix); err == nil {
		t.Fatal("pending key file left behind")
	}
	verify(t, c, d)

	// Simulate a crash between the commit and the rename: the new key is
	// still pending, the old one in place.
	if err := os.Rename(devPath, devPath+pendingSuffix); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(devPath, before, 0o600); err != nil {
		t.Fatal(err)
	}
	verify(t, c, d) // start-up puts the pending key in place
	if now, _ := os.ReadFile(devPath); !bytes.Equal(now, after) {
		t.Fatal("start-up did not finish the pending rename")
	}
	// A pending key of a rotation that did not commit is removed.
	os.WriteFile(devPath+pendingSuffix, before, 0o600)
	verify(t, c, d)
	if _, err := os.Stat(devPath + pendingSuffix); err == nil {
		t.Fatal("stale pending key kept")
	}
}

func TestRootKeyCommandUsage(t *testing.T) {
	var out, errb bytes.Buffer
	if err := runRootKey(context.Background(), []string{"-h"}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"coffer root-key rotate", "--new-root-key-file", "--new-root-key-kms-key-id", "database transaction"} {
		if !strings.Contains(errb.String(), want) {
			t.Fatalf("usage lacks %q:\n%s", want, errb.String())
		}
	}
	if err := runRootKey(context.Background(), []string{"spin"}, &out, &errb); err != errUsage {
		t.Fatalf("unknown subcommand: %v", err)
	}
}

// On PostgreSQL: the rotation refuses to run while a node is running, then
// re-wraps everything; a node left running with the old root key can no
// longer store anything wrapped by it.
func TestRootKeyRotatePostgres(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.Schema(t, pgtest.DSN(t))
	dir := t.TempDir()
	oldKey := newKeyFile(t, "old.key")
	c := appConfig{dataDir: dir, storage: dsn, rootKeyFile: oldKey, log: quiet}
	d := populate(t, c)
	newKey := filepath.Join(t.TempDir(), "new.key")
	opts := rotateOptions{dataDir: dir, storage: dsn, old: rootKeyFlags{file: oldKey}, newFile: newKey, log: quiet}

	node, err := openApp(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if err := node.db.(*postgres.DB).AnnounceNode(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := rotateRootKey(ctx, opts); err == nil || !strings.Contains(err.Error(), "1 Coffer server node(s) are running") {
		t.Fatalf("rotation with a node running: %v", err)
	}
	node.Close()
	verify(t, c, d) // nothing changed

	// A node that is not shown as running (say it lost its lease session)
	// and keeps the old root key in memory.
	stale, err := openApp(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	defer stale.Close()

	res, err := rotateRootKey(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.materials != 3 || res.accessKeys != 1 || !strings.Contains(res.next, "Start every node with --root-key-file") {
		t.Fatalf("rotated %d materials, %d access keys; %q", res.materials, res.accessKeys, res.next)
	}
	cNew := c
	cNew.rootKeyFile = newKey
	verify(t, cNew, d)
	if _, err := openApp(ctx, c); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Fatalf("old root key after rotation: %v", err)
	}

	// The stale node's writes of root-wrapped items fail; nothing lands.
	if _, err := stale.kms.CreateKey(ctx, kms.CreateKeyInput{}); !errors.Is(err, postgres.ErrRootKeyRotated) {
		t.Fatalf("CreateKey on a node with the old root key: %v", err)
	}
	if _, err := stale.kms.RotateOnDemand(ctx, d.blobKey); !errors.Is(err, postgres.ErrRootKeyRotated) {
		t.Fatalf("RotateKeyOnDemand on a node with the old root key: %v", err)
	}
	if _, err := stale.identity.EnsureRoot(ctx, &identity.Credentials{AccessKeyID: "AKIASTALENODE0000001", SecretAccessKey: "stale-node-secret-key-0000000000000000000"}); !errors.Is(err, postgres.ErrRootKeyRotated) {
		t.Fatalf("access key stored by a node with the old root key: %v", err)
	}
	app, err := openApp(ctx, cNew)
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	keys, err := app.db.ListKeys(ctx, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	aks, err := app.db.(rootKeyStore).AllAccessKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || len(aks) != 1 {
		t.Fatalf("after the stale node's writes: %d KMS keys (want 2), %d access keys (want 1)", len(keys), len(aks))
	}
	verify(t, cNew, d)
}
