package integration

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/coffer-dev/coffer/internal/envelope"
	"github.com/coffer-dev/coffer/internal/keyring"
	"github.com/coffer-dev/coffer/internal/sqlite"
)

// TestKMSDataDirHoldsNoKeysInPlainText scans every file of a data dir
// (database, WAL, …) for the root key, every KMS key material, data keys
// handed out by GenerateDataKey and secret values, raw and encoded.
func TestKMSDataDirHoldsNoKeysInPlainText(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "root.key")
	if _, err := keyring.GenerateFile(keyFile); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, serverOpts{args: []string{"--root-key-file", keyFile}})
	c, sm := s.kms(), s.sm()
	secrets := map[string][]byte{} // what must not appear → its name
	add := func(name string, b []byte) { secrets[name] = bytes.Clone(b) }

	var keyIDs []string
	for i := 0; i < 3; i++ {
		md := newKMSKey(t, c, fmt.Sprint("key ", i))
		keyIDs = append(keyIDs, aws.ToString(md.KeyId))
		for j := 0; j < 3; j++ {
			dk := call(t, c.GenerateDataKey, &kms.GenerateDataKeyInput{KeyId: md.KeyId, KeySpec: types.DataKeySpecAes256})
			add(fmt.Sprintf("data key %d/%d", i, j), dk.Plaintext)
		}
		call(t, c.RotateKeyOnDemand, &kms.RotateKeyOnDemandInput{KeyId: md.KeyId})
		dk := call(t, c.GenerateDataKey, &kms.GenerateDataKeyInput{KeyId: md.KeyId, NumberOfBytes: aws.Int32(48)})
		add(fmt.Sprintf("data key %d after rotation", i), dk.Plaintext)
		value := fmt.Sprintf("secret-value-%d-%x", i, envelope.NewDataKey()[:8])
		if _, err := sm.CreateSecret(ctx(t), &secretsmanager.CreateSecretInput{Name: aws.String(fmt.Sprint("scan-", i)), SecretString: aws.String(value), KmsKeyId: md.Arn}); err != nil {
			t.Fatal(err)
		}
		add(fmt.Sprint("secret value ", i), []byte(value))
	}
	if _, err := sm.CreateSecret(ctx(t), &secretsmanager.CreateSecretInput{Name: aws.String("scan-default"), SecretString: aws.String("default-key-secret-value-0123456789")}); err != nil {
		t.Fatal(err)
	}
	add("secret value under the default key", []byte("default-key-secret-value-0123456789"))
	s.stop(syscall.SIGTERM)

	// The root key, and every key material unwrapped with it.
	raw, err := keyring.FileProvider{Path: keyFile}.RootKey(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	add("root key", raw)
	root, err := keyring.NewRoot(raw)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(filepath.Join(s.DataDir, "coffer.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := db.ListKeys(context.Background(), "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	materials := 0
	for _, k := range keys {
		for _, m := range k.Materials {
			pt, err := root.Unwrap("kms-material", fmt.Sprintf("%s/%d", k.ID, m.Seq), m.Wrapped)
			if err != nil {
				t.Fatalf("unwrap material %s/%d: %v", k.ID, m.Seq, err)
			}
			add(fmt.Sprintf("key material %s/%d", k.ID, m.Seq), pt)
			materials++
		}
	}
	db.Close()
	if materials != 2*len(keyIDs)+1 { // two per customer key, one for the default key
		t.Fatalf("found %d materials", materials)
	}

	files := 0
	err = filepath.WalkDir(s.DataDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		for name, v := range secrets {
			for enc, needle := range map[string][]byte{
				"raw":    v,
				"base64": []byte(base64.StdEncoding.EncodeToString(v)),
				"hex":    []byte(hex.EncodeToString(v)),
			} {
				if bytes.Contains(b, needle) {
					t.Errorf("%s holds %s (%s)", path, name, enc)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("scanned %d files for %d secrets (%d key materials), 3 encodings each", files, len(secrets), materials)
}
