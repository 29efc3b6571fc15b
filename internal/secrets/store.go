package secrets

import (
	"context"
	"errors"
	"time"

	"github.com/coffer-dev/coffer/internal/envelope"
)

// ErrNoSuchSecret is what a Store returns for a missing secret. It carries
// no AWS message; the Service turns it into one.
var ErrNoSuchSecret = errors.New("secrets: no such secret")

// Store persists Secret aggregates and their sealed version payloads.
// Implementations: sqlite, postgres; internal/storetest is the contract.
//
// Writes made while the context carries a unit of work (see
// docs/ARCHITECTURE.md) are staged into it and become visible to other
// requests only when it commits; reads with the same context see them.
type Store interface {
	// SecretByName returns the secret with exactly this name (pending
	// deletion or not), or ErrNoSuchSecret.
	SecretByName(ctx context.Context, name string) (*Secret, error)
	// SecretByARN returns the secret with exactly this full ARN, or ErrNoSuchSecret.
	SecretByARN(ctx context.Context, arn string) (*Secret, error)
	// Payload returns the sealed payload of one version, or ErrNoSuchSecret.
	Payload(ctx context.Context, arn, versionID string) ([]byte, error)

	// Update runs fn on a private copy of the secret named name (nil if
	// none exists) while holding that name's lock — until the unit of work
	// commits, when there is one — and applies the Change fn returns. A nil
	// Change writes nothing.
	Update(ctx context.Context, name string, fn func(cur *Secret) (*Change, error)) error

	// Touch records that a version was read on day (midnight UTC): the
	// secret's and the version's LastAccessedAt. Cheap and idempotent.
	Touch(ctx context.Context, name, arn, versionID string, day time.Time) error

	// List returns secrets in the query's order, starting after q.After,
	// keeping those q.Match accepts, until q.Limit are found or the
	// secrets run out. It reports whether more secrets might follow.
	List(ctx context.Context, q ListQuery) (page []*Secret, more bool, err error)

	// DueForPurge returns the names of up to limit secrets scheduled for
	// deletion whose PurgeAt is not after now.
	DueForPurge(ctx context.Context, now time.Time, limit int) ([]string, error)
}

// Change is what an Update writes.
type Change struct {
	// Secret is the new state of the aggregate; nil deletes the secret and
	// every payload it has.
	Secret *Secret
	// Payloads to insert or replace, by version id.
	Payloads map[string][]byte
	// Drop lists version ids whose payloads are deleted.
	Drop []string
}

// SortKey orders ListSecrets.
type SortKey int

const (
	SortCreated SortKey = iota
	SortLastAccessed
	SortLastChanged
	SortName
)

// Cursor is a position in a List order: the sort value of the last secret
// returned (unix milliseconds for dates, unused for SortName) and its name,
// which breaks ties.
type Cursor struct {
	Value int64  `json:"v,omitempty"`
	Name  string `json:"n"`
}

// ListQuery selects and orders secrets.
type ListQuery struct {
	Sort           SortKey
	Desc           bool
	IncludeDeleted bool
	After          *Cursor
	Limit          int
	// Match filters secrets (nil accepts all).
	Match func(*Secret) bool
}

// SortValue returns s's value for the sort key, as a Cursor stores it.
func SortValue(s *Secret, k SortKey) int64 {
	switch k {
	case SortCreated:
		return s.CreatedAt.UnixMilli()
	case SortLastAccessed:
		if s.LastAccessedAt.IsZero() {
			return 0
		}
		return s.LastAccessedAt.UnixMilli()
	case SortLastChanged:
		return s.LastChangedAt.UnixMilli()
	}
	return 0
}

// DataKeys is what secrets needs from KMS: fresh data keys wrapped under a
// KMS key, and their unwrapping, both bound to an encryption context.
// *kms.Service satisfies it.
//
// An error that is the key's or the caller's fault (a disabled, missing or
// pending-deletion key, a ciphertext that does not open) rather than a
// server failure has a method ClientFault() returning true; see
// IsClientFault. BatchGetSecretValue reports such failures per secret.
type DataKeys interface {
	// DataKey returns a new 32-byte data key and its wrapped form under the
	// key keyRef names ("" = the default aws/secretsmanager key).
	DataKey(ctx context.Context, keyRef string, encCtx map[string]string) (plaintext, wrapped []byte, keyARN string, err error)
	// DecryptDataKey unwraps a data key made by DataKey.
	DecryptDataKey(ctx context.Context, wrapped []byte, encCtx map[string]string) (plaintext []byte, keyARN string, err error)
	// DataKeyAEAD unwraps a data key made by DataKey and returns it ready
	// for use; encCtx is the encryption context's canonical encoding
	// (envelope.AppendPairs). The read path uses it: no map, and the
	// plaintext data key stays inside the implementation.
	DataKeyAEAD(ctx context.Context, wrapped, encCtx []byte) (key *envelope.Key, keyARN string, err error)
}

// IsClientFault reports whether err is a domain failure to report to the
// client (a *Error, or an error carrying ClientFault() == true), as opposed
// to a server failure.
func IsClientFault(err error) bool {
	var de *Error
	if errors.As(err, &de) {
		return true
	}
	var cf interface{ ClientFault() bool }
	return errors.As(err, &cf) && cf.ClientFault()
}
