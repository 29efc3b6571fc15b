// Package kmsunseal is the root-key provider backed by an external KMS
// ("auto-unseal"): AWS KMS, or another Coffer. The root key lives in the
// data directory only wrapped by a KMS key (a small file, by default
// <data-dir>/root.key.kms); it is created once with GenerateDataKey and
// unwrapped with Decrypt at every start, so the server's disk never holds
// it in plain text.
//
// The KMS endpoint and credentials come from the usual AWS settings
// (aws-sdk-go-v2's default config loader: AWS_REGION, AWS_ENDPOINT_URL_KMS
// or AWS_ENDPOINT_URL, environment or shared-file credentials, …).
package kmsunseal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"

	"github.com/coffer-dev/coffer/internal/envelope"
	"github.com/coffer-dev/coffer/internal/keyring"
)

// API is the part of the KMS client the provider uses.
type API interface {
	GenerateDataKey(ctx context.Context, in *kms.GenerateDataKeyInput, opts ...func(*kms.Options)) (*kms.GenerateDataKeyOutput, error)
	Decrypt(ctx context.Context, in *kms.DecryptInput, opts ...func(*kms.Options)) (*kms.DecryptOutput, error)
}

// encryptionContext binds the wrapped root key to its purpose.
var encryptionContext = map[string]string{"coffer:purpose": "root-key"}

// ErrNoWrappedKey means the wrapped root key file does not exist and the
// provider was not allowed to create one.
var ErrNoWrappedKey = errors.New("no wrapped root key")

// Provider is a keyring.KeyProvider that unwraps the root key with KMS.
type Provider struct {
	// KeyID is the KMS key (id, ARN, alias name or alias ARN) that wraps
	// the root key.
	KeyID string
	// Path is the wrapped root key file.
	Path string
	// Create allows RootKey to create the file (with a new root key) when
	// it does not exist: only for a data directory without data.
	Create bool
	// Client talks to KMS; New sets it from the default AWS config.
	Client API
	// Endpoint describes where the client goes, for messages.
	Endpoint string
}

var _ keyring.KeyProvider = (*Provider)(nil)

// New returns a Provider whose client uses the default AWS configuration.
func New(ctx context.Context, keyID, path string) (*Provider, error) {
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRetryMaxAttempts(3))
	if err != nil {
		return nil, fmt.Errorf("AWS configuration for the root key KMS: %w", err)
	}
	endpoint := "AWS KMS in " + cfg.Region
	c := kms.NewFromConfig(cfg, func(o *kms.Options) {
		if o.BaseEndpoint != nil {
			endpoint = aws.ToString(o.BaseEndpoint)
		}
	})
	return &Provider{KeyID: keyID, Path: path, Client: c, Endpoint: endpoint}, nil
}

func (p *Provider) String() string {
	return fmt.Sprintf("KMS key %s (%s), wrapped root key %s", p.KeyID, p.Endpoint, p.Path)
}

// file is the wrapped root key file (JSON).
type file struct {
	Version int `json:"version"`
	// KeyID is the ARN KMS reported for the wrapping key.
	KeyID          string `json:"kmsKeyId"`
	CiphertextBlob []byte `json:"ciphertextBlob"`
}

// RootKey unwraps (or, the first time, creates) the root key.
func (p *Provider) RootKey(ctx context.Context) ([]byte, error) {
	b, err := os.ReadFile(p.Path)
	if errors.Is(err, fs.ErrNotExist) {
		if !p.Create {
			return nil, fmt.Errorf("%s: %w", p.Path, ErrNoWrappedKey)
		}
		return p.create(ctx)
	}
	if err != nil {
		return nil, err
	}
	var f file
	if err := json.Unmarshal(b, &f); err != nil || f.Version != 1 || len(f.CiphertextBlob) == 0 {
		return nil, fmt.Errorf("%s is not a wrapped root key file", p.Path)
	}
	return p.Unwrap(ctx, f.CiphertextBlob)
}

// Unwrap decrypts a wrapped root key with the provider's KMS key.
func (p *Provider) Unwrap(ctx context.Context, blob []byte) ([]byte, error) {
	out, err := p.Client.Decrypt(ctx, &kms.DecryptInput{
		CiphertextBlob: blob, KeyId: aws.String(p.KeyID), EncryptionContext: encryptionContext,
	})
	if err != nil {
		return nil, p.explain("unwrap the root key", err)
	}
	if len(out.Plaintext) != envelope.KeySize {
		envelope.Zero(out.Plaintext)
		return nil, fmt.Errorf("KMS key %s returned a %d-byte root key; want %d", p.KeyID, len(out.Plaintext), envelope.KeySize)
	}
	return out.Plaintext, nil
}

// Generate makes a new root key wrapped by the provider's KMS key and
// returns it with the file content that stores it. Nothing is written.
func (p *Provider) Generate(ctx context.Context) (raw, content []byte, err error) {
	out, err := p.Client.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{
		KeyId: aws.String(p.KeyID), KeySpec: types.DataKeySpecAes256, EncryptionContext: encryptionContext,
	})
	if err != nil {
		return nil, nil, p.explain("generate a root key", err)
	}
	if len(out.Plaintext) != envelope.KeySize {
		envelope.Zero(out.Plaintext)
		return nil, nil, fmt.Errorf("KMS key %s returned a %d-byte data key; want %d", p.KeyID, len(out.Plaintext), envelope.KeySize)
	}
	content, err = json.MarshalIndent(file{Version: 1, KeyID: aws.ToString(out.KeyId), CiphertextBlob: out.CiphertextBlob}, "", "  ")
	if err != nil {
		envelope.Zero(out.Plaintext)
		return nil, nil, err
	}
	return out.Plaintext, append(content, '\n'), nil
}

func (p *Provider) create(ctx context.Context) ([]byte, error) {
	raw, content, err := p.Generate(ctx)
	if err != nil {
		return nil, err
	}
	if err := WriteNew(p.Path, content); err != nil {
		envelope.Zero(raw)
		return nil, err
	}
	return raw, nil
}

// WriteNew writes a wrapped root key file that must not exist yet (mode
// 0600, synced).
func WriteNew(path string, content []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(content); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	return f.Close()
}

// KeyIDOf returns the KMS key ARN recorded in a wrapped root key file.
func KeyIDOf(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	var f file
	if err := json.Unmarshal(b, &f); err != nil {
		return "", fmt.Errorf("%s is not a wrapped root key file", path)
	}
	return f.KeyID, nil
}

// explain turns a KMS failure into a message an operator can act on.
func (p *Provider) explain(what string, err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return fmt.Errorf("cannot %s with KMS key %s at %s: %s: %s", what, p.KeyID, p.Endpoint, ae.ErrorCode(), ae.ErrorMessage())
	}
	return fmt.Errorf("cannot %s with KMS key %s at %s: %w", what, p.KeyID, p.Endpoint, err)
}
