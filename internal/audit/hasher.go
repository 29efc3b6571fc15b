package audit

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"strings"
	"sync"
)

// HMACPrefix starts every hashed value, as in Vault/OpenBao audit logs.
const HMACPrefix = "hmac-sha256:"

// HasherKeySize is the size of the audit HMAC key.
const HasherKeySize = 32

// ErrHasherKey is returned by NewHasher for a key of the wrong size.
var ErrHasherKey = errors.New("audit: hmac key must be 32 bytes")

// ErrScrubInput is returned by ScrubJSON for input that is not JSON.
var ErrScrubInput = errors.New("audit: request parameters are not valid json")

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
	st := h.pool.Get().(*hmacState)
	st.mac.Reset()
	st.in = append(st.in[:0], s...)
	st.mac.Write(st.in)
	st.sum = st.mac.Sum(st.sum[:0])

	var out [len(HMACPrefix) + 2*sha256.Size]byte
	copy(out[:], HMACPrefix)
	hex.Encode(out[len(HMACPrefix):], st.sum)
	if cap(st.in) <= 4<<10 {
		clear(st.in[:cap(st.in)]) // do not keep the last value around
		h.pool.Put(st)
	}
	return string(out[:])
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

// ScrubJSON returns params (a JSON value, normally the request-parameters
// object) with every member whose name is in drop removed entirely, key and
// value, and every member whose name is in hmacNames replaced by its
// [Hasher.HMAC]: a string value is hashed; for an object or array every
// string inside it is hashed (keys are kept); numbers, booleans and null pass
// through. Names match case-insensitively (so both the wire "SecretString"
// and CloudTrail's "secretString" match) at any nesting depth; drop wins
// over hmacNames.
//
// Object keys come out sorted; numbers keep their text. Empty input or
// "null" returns nil (which an Event renders as null). Invalid input returns
// ErrScrubInput and no part of the input.
func (h *Hasher) ScrubJSON(params []byte, drop, hmacNames []string) (json.RawMessage, error) {
	params = bytes.TrimSpace(params)
	if len(params) == 0 || string(params) == "null" {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(params))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, ErrScrubInput
	}
	if _, err := dec.Token(); err == nil {
		return nil, ErrScrubInput // trailing data
	}
	v = h.scrub(v, drop, hmacNames)

	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("audit: scrub: %w", err)
	}
	b := buf.Bytes()
	return b[:len(b)-1], nil
}

func (h *Hasher) scrub(v any, drop, hmacNames []string) any {
	switch t := v.(type) {
	case map[string]any:
		for k, val := range t {
			switch {
			case nameIn(k, drop):
				delete(t, k)
			case nameIn(k, hmacNames):
				t[k] = h.hashAll(val, drop)
			default:
				t[k] = h.scrub(val, drop, hmacNames)
			}
		}
	case []any:
		for i := range t {
			t[i] = h.scrub(t[i], drop, hmacNames)
		}
	}
	return v
}

// hashAll HMACs every string in v; members named in drop are still removed,
// so a dropped value never appears, not even hashed.
func (h *Hasher) hashAll(v any, drop []string) any {
	switch t := v.(type) {
	case string:
		return h.HMAC(t)
	case map[string]any:
		for k, val := range t {
			if nameIn(k, drop) {
				delete(t, k)
				continue
			}
			t[k] = h.hashAll(val, drop)
		}
	case []any:
		for i := range t {
			t[i] = h.hashAll(t[i], drop)
		}
	}
	return v
}

func nameIn(k string, names []string) bool {
	for _, n := range names {
		if strings.EqualFold(k, n) {
			return true
		}
	}
	return false
}
