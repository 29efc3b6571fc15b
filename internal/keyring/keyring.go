// Package keyring owns Coffer's root of trust: where the root key comes from
// (KeyProvider: a file, an environment variable, later an external KMS) and
// how everything directly below it — KMS key material, internal secrets such
// as IAM secret access keys — is wrapped under it.
//
// The root key is never written to the database. What the database holds is
// a check value (a blob sealed under the root key) so that a server started
// with the wrong root key refuses to start instead of failing later or,
// worse, writing data nobody can read.
package keyring

import (
	"context"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/coffer-dev/coffer/internal/envelope"
)

// KeyProvider yields the 32-byte root key.
type KeyProvider interface {
	// RootKey returns the raw root key. The caller zeroes it after use.
	RootKey(ctx context.Context) ([]byte, error)
	// String describes where the key comes from, for logs (never the key).
	String() string
}

// ErrWrongRootKey means the root key does not match the data it is meant to
// protect.
var ErrWrongRootKey = errors.New("the root key does not match this data directory's key material (wrong root key?)")

// Root is the unsealed root key, ready to wrap and unwrap. It is safe for
// concurrent use.
type Root struct {
	key *envelope.Key
	id  string
	// derive is HKDF input keying material for purpose-specific subkeys.
	prk []byte
}

// NewRoot prepares a raw 32-byte root key. raw may be zeroed afterwards.
func NewRoot(raw []byte) (*Root, error) {
	if len(raw) != envelope.KeySize {
		return nil, fmt.Errorf("root key must be %d bytes, got %d", envelope.KeySize, len(raw))
	}
	k, err := envelope.NewKey(raw)
	if err != nil {
		return nil, err
	}
	m := hmac.New(sha256.New, raw)
	m.Write([]byte("coffer root key id v1"))
	id := "rk-" + hex.EncodeToString(m.Sum(nil)[:8])
	prk, err := hkdf.Extract(sha256.New, raw, []byte("coffer root key v1"))
	if err != nil {
		return nil, err
	}
	return &Root{key: k, id: id, prk: prk}, nil
}

// ID is a non-secret fingerprint of the root key, stored next to what it
// wraps so that root-key rotation knows what is left to re-wrap.
func (r *Root) ID() string { return r.id }

// Wrap seals plaintext under the root key, bound to purpose and id so that a
// wrapped blob cannot be swapped for another one.
func (r *Root) Wrap(purpose, id string, plaintext []byte) []byte {
	return r.key.Seal(plaintext, envelope.AppendPairs(nil, "purpose", purpose, "id", id))
}

// Unwrap opens a blob made by Wrap with the same purpose and id.
func (r *Root) Unwrap(purpose, id string, blob []byte) ([]byte, error) {
	pt, err := r.key.Open(blob, envelope.AppendPairs(nil, "purpose", purpose, "id", id))
	if err != nil {
		return nil, fmt.Errorf("unwrap %s %s: %w", purpose, id, ErrWrongRootKey)
	}
	return pt, nil
}

// Derive returns a 32-byte subkey for a fixed purpose label (HKDF-SHA256).
// Different labels give independent keys.
func (r *Root) Derive(label string) []byte {
	k, err := hkdf.Expand(sha256.New, r.prk, "coffer/"+label, 32)
	if err != nil {
		panic(err) // only for lengths HKDF cannot produce
	}
	return k
}

const checkPurpose = "root-check"

// NewCheck returns a check value for this root key, to be stored with the data.
func (r *Root) NewCheck() []byte {
	return r.Wrap(checkPurpose, "v1", []byte("coffer root key check"))
}

// VerifyCheck reports ErrWrongRootKey if check was not made by this root key.
func (r *Root) VerifyCheck(check []byte) error {
	if _, err := r.Unwrap(checkPurpose, "v1", check); err != nil {
		return ErrWrongRootKey
	}
	return nil
}

// ParseKey decodes a root key given as base64 (standard or URL alphabet,
// padded or not), or as 64 hex digits. Surrounding whitespace is ignored.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == envelope.KeySize {
			return b, nil
		}
	}
	if b, err := hex.DecodeString(s); err == nil && len(b) == envelope.KeySize {
		return b, nil
	}
	return nil, errors.New("root key must be 32 bytes, encoded as base64 (or 64 hex digits)")
}

// EncodeKey encodes a raw key the way ParseKey reads it (standard base64).
func EncodeKey(raw []byte) string { return base64.StdEncoding.EncodeToString(raw) }

// Rewrap re-seals a blob made by from.Wrap(purpose, id, …) under to, for
// root-key rotation; the plaintext exists only inside this call. A blob
// that to already opens (a rotation that is being repeated) is re-sealed
// under to as well, so rewrapping is idempotent.
func Rewrap(from, to *Root, purpose, id string, blob []byte) ([]byte, error) {
	pt, err := from.Unwrap(purpose, id, blob)
	if err != nil {
		var err2 error
		if pt, err2 = to.Unwrap(purpose, id, blob); err2 != nil {
			return nil, err
		}
	}
	defer envelope.Zero(pt)
	return to.Wrap(purpose, id, pt), nil
}
