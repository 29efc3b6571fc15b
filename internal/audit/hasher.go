package audit

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"sync"
)

// HMACPrefix starts every hashed value, as in Vault/OpenBao audit logs.
const HMACPrefix = "hmac-sha256:"

// HasherKeySize is the size of the audit HMAC key.
const HasherKeySize = 32

// ErrHasherKey is returned by NewHasher for a key of the wrong size.
var ErrHasherKey = errors.New("audit: hmac key must be 32 bytes")

// Hasher computes keyed digests of sensitive identifiers so that equal
// values correlate across records without the value being recoverable. The
// key should be derived (HKDF) from the server's root key for this purpose
// only; rotating it breaks correlation with older records, by design.
//
// A Hasher is safe for concurrent use.
type Hasher struct {
	pool sync.Pool // of *hmacState
}

// hmacState is a keyed HMAC-SHA256 with scratch space, so that HMAC does
// not allocate beyond its result.
type hmacState struct {
	mac hash.Hash
	in  []byte
	sum []byte
}

// NewHasher returns a Hasher keyed with key, which must be
// HasherKeySize bytes. The key is copied.
func NewHasher(key []byte) (*Hasher, error) {
	if len(key) != HasherKeySize {
		return nil, ErrHasherKey
	}
	k := bytes.Clone(key)
	h := &Hasher{}
	h.pool.New = func() any {
		return &hmacState{mac: hmac.New(sha256.New, k), sum: make([]byte, 0, sha256.Size)}
	}
	return h, nil
}

// HMAC returns "hmac-sha256:" followed by the lowercase hex HMAC-SHA256 of s.
func (h *Hasher) HMAC(s string) string {
	sum := macSum(h, s)
	var out [len(HMACPrefix) + 2*sha256.Size]byte
	copy(out[:], HMACPrefix)
	hex.Encode(out[len(HMACPrefix):], sum[:])
	return string(out[:])
}

// appendHMAC appends the HMAC form of s to dst.
func appendHMAC[T string | []byte](h *Hasher, dst []byte, s T) []byte {
	sum := macSum(h, s)
	dst = append(dst, HMACPrefix...)
	return hex.AppendEncode(dst, sum[:])
}

// macSum returns the HMAC-SHA256 of s.
func macSum[T string | []byte](h *Hasher, s T) (sum [sha256.Size]byte) {
	st := h.pool.Get().(*hmacState)
	st.mac.Reset()
	st.in = append(st.in[:0], s...)
	st.mac.Write(st.in)
	st.sum = st.mac.Sum(st.sum[:0])
	copy(sum[:], st.sum)
	if cap(st.in) <= 4<<10 {
		clear(st.in[:cap(st.in)]) // do not keep the last value around
		h.pool.Put(st)
	}
	return sum
}

// DefaultDropParams returns the parameter names to drop from request
// parameters and response elements by default: values that are secrets, or
// that would let a reader obtain one. Each call returns a fresh slice.
func DefaultDropParams() []string {
	return []string{
		"SecretString", "SecretBinary", // Secrets Manager values
		"RandomPassword",           // GetRandomPassword output
		"Plaintext", "KeyMaterial", // KMS plaintext and imported key material
		"SecretAccessKey", "SecretKey", // credentials
		"Password", "NewPassword", "OldPassword",
		"PrivateKey", "PrivateKeyPlaintext",
		"WebIdentityToken", "SAMLAssertion", // bearer assertions (JWT, SAML)
	}
}

// DefaultHMACParams returns the parameter names to HMAC by default:
// identifiers that are sensitive but useful to correlate (session tokens,
// idempotency tokens). Each call returns a fresh slice.
func DefaultHMACParams() []string {
	return []string{"SessionToken", "SecurityToken", "ClientRequestToken"}
}
