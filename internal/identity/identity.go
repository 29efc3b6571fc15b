// Package identity owns who can call Coffer and what they may do: the
// account root, IAM users and their access keys, roles with trust
// policies, customer managed policies, OpenID Connect identity providers,
// and role sessions (STS temporary credentials); the lookup that turns a
// SigV4 access key id (and session token) into a signing key and a caller;
// and the compiled policy view of a caller that the edge evaluates with
// the iam package.
//
// Secret access keys are stored only wrapped by the root key; session
// tokens are stored only as a keyed hash. What stays in memory is the
// derived SigV4 signing key (per access key, day, region and service),
// never the secret key itself.
//
// Persistence is a small contract (Store): access-key records plus typed
// JSON documents (users, roles, managed policies, OIDC providers) read,
// updated under a lock, and listed by kind. The service keeps compiled
// policies in memory keyed by each document's revision, so the request
// path parses nothing.
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
	// Session is set for temporary credentials (ASIA… keys made by STS);
	// UserName is then SessionOwner.
	Session *Session `json:"session,omitempty"`
}

// SessionOwner is the UserName of every session access key. IAM user names
// cannot contain ':', so it never names a user.
const SessionOwner = "sts:"

// Doc is one stored identity document: a JSON record of a given kind
// (DocUser, DocRole, DocPolicy, DocOIDC) under a name unique within the
// kind. Rev is opaque to the store: the service sets a fresh random value
// on every write and caches what it compiled from a document by (kind,
// name, Rev); the store persists Rev with the body and returns it as is.
type Doc struct {
	Kind string
	Name string
	Rev  int64
	Body []byte
}

// Document kinds.
const (
	DocUser   = "user"
	DocRole   = "role"
	DocPolicy = "policy"
	DocOIDC   = "oidc"
	// DocLock is never written: UpdateDoc(ctx, DocLock, "iam", …) returning
	// cur serializes IAM writes for the rest of the unit of work.
	DocLock = "lock"
)

// Store persists identity records. Implementations: sqlite, postgres.
type Store interface {
	// AccessKey returns the access key with this id, or ErrNoSuchAccessKey.
	AccessKey(ctx context.Context, id string) (*AccessKey, error)
	// PutAccessKey creates or replaces an access key.
	PutAccessKey(ctx context.Context, k *AccessKey) error
	// DeleteAccessKey removes an access key (no error if absent).
	DeleteAccessKey(ctx context.Context, id string) error
	// ListAccessKeys returns the keys of a user ("" = the account root;
	// SessionOwner = every session key).
	ListAccessKeys(ctx context.Context, userName string) ([]*AccessKey, error)

	// Doc returns the document (kind, name), or ErrNoSuchDoc. Returned
	// documents are shared and read-only. Reads with a context carrying a
	// unit of work see that unit's staged writes.
	Doc(ctx context.Context, kind, name string) (*Doc, error)
	// UpdateDoc takes the lock of (kind, name) — held until the unit of
	// work in ctx commits (or until UpdateDoc returns, without one), also
	// when the document does not exist and when nothing is written — then
	// runs fn on the current document (nil if none) and stores what fn
	// returns: a *Doc to create or replace (its Kind and Name are those
	// given here), nil to delete, or cur itself (pointer-equal, also nil
	// when cur was nil) to write nothing. An error from fn is returned and
	// nothing is written.
	UpdateDoc(ctx context.Context, kind, name string, fn func(cur *Doc) (*Doc, error)) error
	// ListDocs returns every document of a kind, ordered by name.
	ListDocs(ctx context.Context, kind string) ([]*Doc, error)
}

// ErrNoSuchAccessKey is what a Store returns for a missing access key.
var ErrNoSuchAccessKey = errors.New("identity: no such access key")

// ErrNoSuchDoc is what a Store returns for a missing document.
var ErrNoSuchDoc = errors.New("identity: no such document")

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

// NewSessionKeyID returns a new temporary access key id ("ASIA…").
func NewSessionKeyID() string { return "ASIA" + randomString(base32Upper, 16) }

// newUniqueID returns an IAM unique id: prefix (AIDA, AROA, ANPA) and 17
// characters of [A-Z2-7].
func newUniqueID(prefix string) string { return prefix + randomString(base32Upper, 17) }

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
