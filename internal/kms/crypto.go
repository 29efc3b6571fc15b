package kms

import (
	"context"
	"crypto/rand"

	"github.com/coffer-dev/coffer/internal/envelope"
)

// AlgorithmSymmetric is the only encryption algorithm of symmetric keys.
const AlgorithmSymmetric = "SYMMETRIC_DEFAULT"

// CryptoResult is the outcome of a cryptographic operation. Plaintext,
// when set, is a fresh buffer the caller must zero once it has been sent.
type CryptoResult struct {
	Blob      []byte
	Plaintext []byte
	Key       *Key
	Material  *Material
	// SourceKey and SourceMaterial are set by ReEncrypt.
	SourceKey      *Key
	SourceMaterial *Material
}

// CryptoInput holds the parameters shared by the cryptographic operations.
type CryptoInput struct {
	// KeyRef names the key (any form; optional for Decrypt).
	KeyRef string
	// Context is the encryption context.
	Context map[string]string
	// Algorithm is the EncryptionAlgorithm parameter ("" = default).
	Algorithm string
	// DryRun answers DryRunOperationException after every check passed.
	DryRun bool
}

var errDryRun = &Error{Kind: ErrDryRun, Message: "The request would have succeeded, but the DryRun option is set."}

// checkAlgorithm accepts only SYMMETRIC_DEFAULT with symmetric keys.
func checkAlgorithm(k *Key, algo string) error {
	if algo != "" && algo != AlgorithmSymmetric {
		return errf(ErrInvalidKeyUsage, "Algorithm %s is incompatible with key spec %s.", algo, k.Spec)
	}
	return nil
}

// encryptingKey resolves the key of an encrypting operation and checks it
// can be used by the caller (AWS managed keys only through Secrets
// Manager), is symmetric and usable.
func (s *Service) encryptingKey(ctx context.Context, in CryptoInput, action string) (*Key, error) {
	k, err := s.Resolve(ctx, in.KeyRef, true)
	if err != nil {
		return nil, err
	}
	if k.AWSManaged() {
		return nil, managedDenied(ctx, action, k.ARN)
	}
	if err := usable(k); err != nil {
		return nil, err
	}
	if err := symmetric(k, action); err != nil {
		return nil, err
	}
	if err := checkAlgorithm(k, in.Algorithm); err != nil {
		return nil, err
	}
	return k, nil
}

// Encrypt encrypts up to 4096 bytes under a key.
func (s *Service) Encrypt(ctx context.Context, in CryptoInput, plaintext []byte) (*CryptoResult, error) {
	k, err := s.encryptingKey(ctx, in, "Encrypt")
	if err != nil {
		return nil, err
	}
	if in.DryRun {
		return nil, errDryRun
	}
	blob, err := s.seal(k, plaintext, in.Context)
	if err != nil {
		return nil, err
	}
	return &CryptoResult{Blob: blob, Key: k, Material: k.Current()}, nil
}

// Decrypt decrypts a blob made by Encrypt, GenerateDataKey* or ReEncrypt.
// KeyRef, when given, must name the key the blob was made with.
func (s *Service) Decrypt(ctx context.Context, in CryptoInput, blob []byte) (*CryptoResult, error) {
	want, err := s.decryptingKey(ctx, in.KeyRef, blob, "Decrypt")
	if err != nil {
		return nil, err
	}
	pt, k, m, err := s.open(ctx, blob, in.Context, want)
	if err != nil {
		return nil, err
	}
	if err := s.afterOpen(ctx, k, in, "Decrypt"); err != nil {
		envelope.Zero(pt)
		return nil, err
	}
	return &CryptoResult{Plaintext: pt, Key: k, Material: m}, nil
}

// decryptingKey resolves the optional KeyId of Decrypt/ReEncrypt.
func (s *Service) decryptingKey(ctx context.Context, ref string, blob []byte, action string) (*Key, error) {
	if ref == "" {
		return nil, nil
	}
	k, err := s.Resolve(ctx, ref, true)
	if err != nil {
		return nil, err
	}
	if id, err := BlobKeyID(blob); err == nil && id != k.ID {
		return nil, errIncorrectKey
	}
	return k, nil
}

// afterOpen applies the checks of a decrypting operation that need the
// key the blob named.
func (s *Service) afterOpen(ctx context.Context, k *Key, in CryptoInput, action string) error {
	if k.AWSManaged() {
		return managedDenied(ctx, action, k.ARN)
	}
	if err := checkAlgorithm(k, in.Algorithm); err != nil {
		return err
	}
	if in.DryRun {
		return errDryRun
	}
	return nil
}

// ReEncrypt decrypts a blob and encrypts its plaintext under another key
// (or the same), without exposing the plaintext.
func (s *Service) ReEncrypt(ctx context.Context, src, dst CryptoInput, blob []byte) (*CryptoResult, error) {
	want, err := s.decryptingKey(ctx, src.KeyRef, blob, "ReEncryptFrom")
	if err != nil {
		return nil, err
	}
	dk, err := s.encryptingKey(ctx, CryptoInput{KeyRef: dst.KeyRef, Algorithm: dst.Algorithm}, "ReEncryptTo")
	if err != nil {
		return nil, err
	}
	pt, sk, sm, err := s.open(ctx, blob, src.Context, want)
	if err != nil {
		return nil, err
	}
	defer envelope.Zero(pt)
	if err := s.afterOpen(ctx, sk, CryptoInput{Algorithm: src.Algorithm, DryRun: src.DryRun || dst.DryRun}, "ReEncryptFrom"); err != nil {
		return nil, err
	}
	out, err := s.seal(dk, pt, dst.Context)
	if err != nil {
		return nil, err
	}
	return &CryptoResult{Blob: out, Key: dk, Material: dk.Current(), SourceKey: sk, SourceMaterial: sm}, nil
}

// DataKeySize returns the size GenerateDataKey* makes from NumberOfBytes
// or KeySpec (exactly one of them).
func DataKeySize(numberOfBytes int, keySpec string) (int, error) {
	switch {
	case numberOfBytes != 0 && keySpec != "", numberOfBytes == 0 && keySpec == "":
		return 0, errf(ErrValidation, "Please specify either number of bytes or key spec.")
	case keySpec == "AES_256":
		return 32, nil
	case keySpec == "AES_128":
		return 16, nil
	case keySpec != "":
		return 0, errf(ErrValidation, "1 validation error detected: Value '%s' at 'keySpec' failed to satisfy constraint: Member must satisfy enum value set: [AES_256, AES_128]", keySpec)
	}
	return numberOfBytes, nil
}

// GenerateDataKey makes size random bytes and returns them with their
// encryption under a key. Without withPlaintext (the WithoutPlaintext
// variant) the plaintext is zeroed and not returned.
func (s *Service) GenerateDataKey(ctx context.Context, in CryptoInput, size int, withPlaintext bool) (*CryptoResult, error) {
	action := "GenerateDataKey"
	if !withPlaintext {
		action = "GenerateDataKeyWithoutPlaintext"
	}
	k, err := s.encryptingKey(ctx, in, action)
	if err != nil {
		return nil, err
	}
	if in.DryRun {
		return nil, errDryRun
	}
	pt := make([]byte, size)
	rand.Read(pt)
	blob, err := s.seal(k, pt, in.Context)
	if err != nil {
		envelope.Zero(pt)
		return nil, err
	}
	res := &CryptoResult{Blob: blob, Key: k, Material: k.Current()}
	if withPlaintext {
		res.Plaintext = pt
	} else {
		envelope.Zero(pt)
	}
	return res, nil
}

// GenerateRandom returns n random bytes (1–1024).
func GenerateRandom(n int) ([]byte, error) {
	if n == 0 {
		return nil, errf(ErrValidation, "NumberOfBytes is required.")
	}
	b := make([]byte, n)
	rand.Read(b)
	return b, nil
}
