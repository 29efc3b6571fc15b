// Package envelope owns Coffer's authenticated encryption primitives: the
// AES-256-GCM seal/open of values and keys, fresh random data keys, and the
// canonical encoding of an encryption context used as additional data.
//
// Blob format (version 1):
//
//	0x01 || nonce (12 bytes) || AES-256-GCM ciphertext || tag (16 bytes)
//
// The version byte is authenticated as part of the additional data, so a
// blob cannot be replayed under another format. Each data key seals exactly
// one message in Coffer, so random 96-bit nonces are far from their limits;
// long-lived keys (KMS key material, the root key) also use random nonces and
// their owners bound the number of seals per key.
package envelope

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// KeySize is the size of every key this package uses (AES-256).
const KeySize = 32

const (
	version1  = 0x01
	nonceSize = 12
	tagSize   = 16
	// Overhead is the number of bytes Seal adds to a plaintext.
	Overhead = 1 + nonceSize + tagSize
)

// ErrOpen is returned when a blob fails authentication: wrong key, wrong
// additional data, truncated or modified. It deliberately says nothing more.
var ErrOpen = errors.New("envelope: message authentication failed")

// ErrKeySize is returned for keys that are not KeySize bytes long.
var ErrKeySize = errors.New("envelope: key must be 32 bytes")

// Key is an AES-256-GCM key ready for use. A Key is safe for concurrent use.
// Build it once per key and reuse it: the key schedule costs about a
// microsecond, the seal or open of a small message a quarter of that.
type Key struct {
	aead cipher.AEAD
}

// NewKey prepares a 32-byte key. The caller may zero raw afterwards.
func NewKey(raw []byte) (*Key, error) {
	if len(raw) != KeySize {
		return nil, ErrKeySize
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, fmt.Errorf("envelope: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("envelope: %w", err)
	}
	return &Key{aead: aead}, nil
}

// NewDataKey returns KeySize fresh random bytes from crypto/rand.
func NewDataKey() []byte {
	k := make([]byte, KeySize)
	rand.Read(k) // never returns an error (crypto/rand, Go ≥ 1.24)
	return k
}

// Seal encrypts plaintext and binds aad; the result is a version-1 blob.
func (k *Key) Seal(plaintext, aad []byte) []byte {
	return k.SealAppend(nil, plaintext, aad)
}

// SealAppend is Seal appending the blob to dst.
func (k *Key) SealAppend(dst, plaintext, aad []byte) []byte {
	dst = slices.Grow(dst, Overhead+len(plaintext))
	start := len(dst)
	dst = append(dst, version1)
	dst = dst[:start+1+nonceSize]
	rand.Read(dst[start+1:])
	nonce := dst[start+1 : start+1+nonceSize]
	return k.aead.Seal(dst, nonce, plaintext, withVersion(aad))
}

// Open authenticates and decrypts a blob made by Seal with the same aad.
func (k *Key) Open(blob, aad []byte) ([]byte, error) {
	if len(blob) < Overhead || blob[0] != version1 {
		return nil, ErrOpen
	}
	nonce := blob[1 : 1+nonceSize]
	pt, err := k.aead.Open(nil, nonce, blob[1+nonceSize:], withVersion(aad))
	if err != nil {
		return nil, ErrOpen
	}
	return pt, nil
}

// withVersion prefixes aad with the format version so that it is
// authenticated. Small aads are the norm; the copy is cheap.
func withVersion(aad []byte) []byte {
	out := make([]byte, 0, 1+len(aad))
	out = append(out, version1)
	return append(out, aad...)
}

// Seal is a one-shot helper: NewKey(key) then Seal.
func Seal(key, plaintext, aad []byte) ([]byte, error) {
	k, err := NewKey(key)
	if err != nil {
		return nil, err
	}
	return k.Seal(plaintext, aad), nil
}

// Open is a one-shot helper: NewKey(key) then Open.
func Open(key, blob, aad []byte) ([]byte, error) {
	k, err := NewKey(key)
	if err != nil {
		return nil, err
	}
	return k.Open(blob, aad)
}

// Zero overwrites b with zeros. Use it on plaintext keys once they are no
// longer needed.
func Zero(b []byte) { clear(b) }

// ContextAAD returns the canonical encoding of an encryption context: the
// pairs sorted by key, each key and value length-prefixed (uvarint), so that
// no two different contexts encode alike and map order never matters.
func ContextAAD(ctx map[string]string) []byte {
	return AppendContext(nil, ctx)
}

// AppendContext appends the canonical encoding of ctx to dst.
func AppendContext(dst []byte, ctx map[string]string) []byte {
	switch len(ctx) {
	case 0:
		return dst
	case 1:
		for k, v := range ctx {
			return appendPair(dst, k, v)
		}
	}
	keys := make([]string, 0, len(ctx))
	for k := range ctx {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		dst = appendPair(dst, k, ctx[k])
	}
	return dst
}

// AppendPairs appends the canonical encoding of an encryption context given
// as already-sorted key/value pairs (kv[0], kv[1], kv[2], ...). It encodes
// exactly what AppendContext would for the equivalent map, without building
// one; callers on hot paths use it with fixed key sets.
func AppendPairs(dst []byte, kv ...string) []byte {
	for i := 0; i+1 < len(kv); i += 2 {
		dst = appendPair(dst, kv[i], kv[i+1])
	}
	return dst
}

func appendPair(dst []byte, k, v string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(k)))
	dst = append(dst, k...)
	dst = binary.AppendUvarint(dst, uint64(len(v)))
	return append(dst, v...)
}

// Must panics if err is not nil; for tests and package-level constants only.
func Must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
