package kms_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/coffer-dev/coffer/internal/kms"
)

// FuzzDecryptBlob feeds arbitrary ciphertext blobs to Decrypt (the parser
// of untrusted ciphertext): it must never panic, and nothing but an
// unmodified blob may decrypt.
func FuzzDecryptBlob(f *testing.F) {
	fx := newFixture(f)
	ctx := context.Background()
	k := fx.key(f)
	ec := map[string]string{"a": "b"}
	var valid [][]byte
	for _, pt := range []string{"x", "hello world", string(bytes.Repeat([]byte{0}, 64))} {
		res, err := fx.svc.Encrypt(ctx, kms.CryptoInput{KeyRef: k.ID, Context: ec}, []byte(pt))
		if err != nil {
			f.Fatal(err)
		}
		valid = append(valid, res.Blob)
		f.Add(res.Blob)
	}
	fx.svc.RotateOnDemand(ctx, k.ID)
	res, _ := fx.svc.Encrypt(ctx, kms.CryptoInput{KeyRef: k.ID, Context: ec}, []byte("rotated"))
	valid = append(valid, res.Blob)
	f.Add(res.Blob)
	f.Add([]byte{})
	f.Add([]byte{0x01})
	f.Add(bytes.Repeat([]byte{0x01}, 50))
	f.Fuzz(func(t *testing.T, blob []byte) {
		id, err := kms.BlobKeyID(blob)
		if err == nil && len(id) != 36 {
			t.Fatalf("BlobKeyID = %q", id)
		}
		out, err := fx.svc.Decrypt(ctx, kms.CryptoInput{Context: ec}, blob)
		if err != nil {
			return
		}
		for _, v := range valid {
			if bytes.Equal(v, blob) {
				return
			}
		}
		t.Fatalf("a modified blob decrypted to %q", out.Plaintext)
	})
}
