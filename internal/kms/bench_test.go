package kms_test

import (
	"context"
	"testing"

	"github.com/coffer-dev/coffer/internal/kms"
)

var benchContext = map[string]string{
	"SecretARN":       "arn:aws:secretsmanager:us-east-1:111122223333:secret:app/db-AbCdEf",
	"SecretVersionId": "3f1c3a2e-5c1b-4a77-9f0e-1d2b3c4d5e6f",
}

// BenchmarkEncrypt measures Encrypt of a 32-byte data key under a cached
// key (the Secrets Manager write path's KMS part).
func BenchmarkEncrypt(b *testing.B) {
	f := newFixture(b)
	ctx := context.Background()
	k := f.key(b)
	pt := make([]byte, 32)
	in := kms.CryptoInput{KeyRef: k.ID, Context: benchContext}
	if _, err := f.svc.Encrypt(ctx, in, pt); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.svc.Encrypt(ctx, in, pt); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecrypt measures Decrypt of a data key (the Secrets Manager
// read path's KMS part).
func BenchmarkDecrypt(b *testing.B) {
	f := newFixture(b)
	ctx := context.Background()
	k := f.key(b)
	res, err := f.svc.Encrypt(ctx, kms.CryptoInput{KeyRef: k.ID, Context: benchContext}, make([]byte, 32))
	if err != nil {
		b.Fatal(err)
	}
	in := kms.CryptoInput{Context: benchContext}
	b.ReportAllocs()
	for b.Loop() {
		out, err := f.svc.Decrypt(ctx, in, res.Blob)
		if err != nil {
			b.Fatal(err)
		}
		clear(out.Plaintext)
	}
}
