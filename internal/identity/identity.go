// Package identity owns who can call Coffer: principals (the account root,
// IAM users, roles and their sessions), access keys and the secret keys
// behind them, and the lookup that turns a SigV4 access key id into a
// signing key and a caller.
//
// Secret access keys are stored only wrapped by the root key. What stays in
// memory is the derived SigV4 signing key (per access key, day, region and
// service), never the secret key itself.
package identity

import (
	"context"
	"crypto/rand"
	"errors"
	"time"
)

// Principal types as IAM policy evaluation and CloudTrail name them.
const (
	TypeRoot        = "Root"
	TypeUser        = "IAMUser"
	TypeAssumedRole = "AssumedRole"
)

// AccessKey is a stored access key.
type AccessKey struct {
	ID string `json:"id"`
	// UserName is the IAM user owning the key; empty for the account root.
	UserName string `json:"userName,omitempty"`
	// PrincipalARN is the ARN of the principal the key authenticates.
	PrincipalARN string    `json:"principalArn"`
	Status       string    `json:"status"` // Active | Inactive
	CreatedAt    time.Time `json:"createdAt"`
	// SecretWrapped is the secret access key wrapped by the root key.
	SecretWrapped []byte `json:"secretWrapped"`
	RootKeyID     string `json:"rootKeyId"`
}

// Store persists identity records. Implementations: sqlite, postgres.
type Store interface {
	// AccessKey returns the access key with this id, or ErrNoSuchAccessKey.
	AccessKey(ctx context.Context, id string) (*AccessKey, error)
	// PutAccessKey creates or replaces an access key.
	PutAccessKey(ctx context.Context, k *AccessKey) error
	// DeleteAccessKey removes an access key (no error if absent).
	DeleteAccessKey(ctx context.Context, id string) error
	// ListAccessKeys returns the keys of a user ("" = the account root).
	ListAccessKeys(ctx context.Context, userName string) ([]*AccessKey, error)
}

// ErrNoSuchAccessKey is what a Store returns for a missing access key.
var ErrNoSuchAccessKey = errors.New("identity: no such access key")

// Authentication failures, mapped by the edge to AWS error types.
var (
	// ErrUnrecognized: unknown or inactive access key, or a session token
	// that does not belong to it (UnrecognizedClientException /
	// InvalidClientTokenId).
	ErrUnrecognized = errors.New("The security token included in the request is invalid.")
	// ErrExpired: temporary credentials past their expiry
	// (ExpiredTokenException / ExpiredToken).
	ErrExpired = errors.New("The security token included in the request is expired")
)

const base32Upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

// NewAccessKeyID returns a new long-term access key id: "AKIA" followed by
// 16 random characters of [A-Z2-7], as AWS's look.
func NewAccessKeyID() string { return "AKIA" + randomString(base32Upper, 16) }

// NewSecretAccessKey returns a new 40-character secret access key.
func NewSecretAccessKey() string {
	return randomString("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 40)
}

func randomString(alphabet string, n int) string {
	out := make([]byte, n)
	limit := 256 - 256%len(alphabet)
	var b [1]byte
	for i := range out {
		for {
			rand.Read(b[:])
			if int(b[0]) < limit {
				out[i] = alphabet[int(b[0])%len(alphabet)]
				break
			}
		}
	}
	return string(out)
}
