package kmsunseal_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/smithy-go"

	"github.com/coffer-dev/coffer/internal/keyring/kmsunseal"
)

// fakeKMS "wraps" by XOR with a pad, and can be switched off.
type fakeKMS struct {
	disabled bool
	calls    []string
}

var pad = bytes.Repeat([]byte{0x5a}, 32)

func xor(b []byte) []byte {
	out := make([]byte, len(b))
	for i := range b {
		out[i] = b[i] ^ pad[i%len(pad)]
	}
	return out
}

func (f *fakeKMS) GenerateDataKey(_ context.Context, in *kms.GenerateDataKeyInput, _ ...func(*kms.Options)) (*kms.GenerateDataKeyOutput, error) {
	f.calls = append(f.calls, "GenerateDataKey")
	if in.EncryptionContext["coffer:purpose"] != "root-key" {
		return nil, errors.New("no encryption context")
	}
	pt := bytes.Repeat([]byte{7}, 32)
	return &kms.GenerateDataKeyOutput{Plaintext: pt, CiphertextBlob: xor(pt), KeyId: aws.String("arn:aws:kms:us-east-1:111122223333:key/k")}, nil
}

func (f *fakeKMS) Decrypt(_ context.Context, in *kms.DecryptInput, _ ...func(*kms.Options)) (*kms.DecryptOutput, error) {
	f.calls = append(f.calls, "Decrypt")
	if f.disabled {
		return nil, &smithy.GenericAPIError{Code: "DisabledException", Message: "arn:aws:kms:us-east-1:111122223333:key/k is disabled."}
	}
	return &kms.DecryptOutput{Plaintext: xor(in.CiphertextBlob)}, nil
}

func TestProvider(t *testing.T) {
	dir := t.TempDir()
	f := &fakeKMS{}
	p := &kmsunseal.Provider{KeyID: "alias/root", Path: filepath.Join(dir, "root.key.kms"), Client: f, Endpoint: "test"}
	if _, err := p.RootKey(context.Background()); !errors.Is(err, kmsunseal.ErrNoWrappedKey) {
		t.Fatalf("without Create: %v", err)
	}
	p.Create = true
	k1, err := p.RootKey(context.Background())
	if err != nil || len(k1) != 32 {
		t.Fatalf("create: %v", err)
	}
	fi, err := os.Stat(p.Path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("wrapped key file: %v %v", fi.Mode(), err)
	}
	b, _ := os.ReadFile(p.Path)
	if bytes.Contains(b, k1) {
		t.Fatal("the file holds the root key in plain text")
	}
	if id, _ := kmsunseal.KeyIDOf(p.Path); id != "arn:aws:kms:us-east-1:111122223333:key/k" {
		t.Fatalf("KeyIDOf = %q", id)
	}
	k2, err := p.RootKey(context.Background())
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatalf("unwrap: %v", err)
	}
	if got := strings.Join(f.calls, ","); got != "GenerateDataKey,Decrypt" {
		t.Fatalf("calls %s", got)
	}
	f.disabled = true
	_, err = p.RootKey(context.Background())
	if err == nil || !strings.Contains(err.Error(), "cannot unwrap the root key with KMS key alias/root at test: DisabledException: arn:aws:kms:us-east-1:111122223333:key/k is disabled.") {
		t.Fatalf("disabled key: %v", err)
	}
	os.WriteFile(p.Path, []byte("junk"), 0o600)
	if _, err := p.RootKey(context.Background()); err == nil {
		t.Fatal("junk file accepted")
	}
}
