package kms

import (
	"bytes"
	"context"
	"encoding/binary"
	"sync"

	"github.com/coffer-dev/coffer/internal/envelope"
)

// DefaultDataKeyCache is a suggested number of ready data-key AEADs kept
// per generation of the data-key cache when it is turned on (at most
// twice as many in all, ≈ 1.1 KB each). The cache is off unless
// Config.DataKeyCache (`coffer server --data-key-cache`) turns it on.
const DefaultDataKeyCache = 2048

// The data-key cache.
//
// Every GetSecretValue unwraps the version's data key with its KMS key
// (an AES-GCM open) and sets up AES-GCM for the data key (the AES key
// schedule and GHASH tables) before it can open the value: together
// ≈ 1.5 µs and six allocations, the largest cryptographic cost of a read
// after SigV4. DataKeyAEAD keeps the ready AEADs of recently used data
// keys, keyed by the wrapped data key (the bytes stored in the version's
// payload) together with the encryption context it was opened under.
//
// What is checked on every request, cached or not: the caller's
// authorization (the edge, before the service runs), and here the KMS
// key's existence and state (disabled, pending deletion: refused at once)
// and that the material the blob names still exists — exactly the checks
// of an uncached unwrap. What a hit skips is only the cryptography whose
// result cannot change: key material is immutable, and a wrapped data key
// opened once under an encryption context opens again to the same key.
// A different context misses (the context is compared, not trusted).
//
// The security trade-off: a data key's AES key schedule stays in memory
// for as long as its entry lives (a bounded number: two generations of
// DataKeyCache entries, least recently used first out), instead of for
// one request. Go's crypto/aes offers no way to wipe a schedule, so an
// evicted entry is left to the garbage collector, as the KMS material
// AEADs already are. Someone who can read this process's memory learns
// no more from it than from the material AEADs beside it, which unwrap
// every data key. No secret value is cached: values are opened anew on
// every request and their buffers zeroed by the edge.
type dataKeyCache struct {
	mu       sync.RWMutex
	cur, old map[string]*dataKeyEntry // by wrapped data key
	max      int                      // entries per generation; 0 disables
}

type dataKeyEntry struct {
	encCtx []byte // canonical encryption context it was opened under
	keyID  string
	seq    uint32 // material
	aead   *envelope.Key
}

func (c *dataKeyCache) init(max int) {
	c.max = max
	c.cur = make(map[string]*dataKeyEntry)
}

// get returns the entry of a wrapped data key, if cached; an entry found
// in the old generation moves to the current one.
func (c *dataKeyCache) get(wrapped []byte) *dataKeyEntry {
	if c.max <= 0 {
		return nil
	}
	c.mu.RLock()
	e, fromOld := c.cur[string(wrapped)], false
	if e == nil {
		e = c.old[string(wrapped)]
		fromOld = e != nil
	}
	c.mu.RUnlock()
	if fromOld {
		c.mu.Lock()
		if c.old[string(wrapped)] == e {
			delete(c.old, string(wrapped))
			c.addLocked(string(wrapped), e)
		}
		c.mu.Unlock()
	}
	return e
}

func (c *dataKeyCache) put(wrapped []byte, e *dataKeyEntry) {
	if c.max <= 0 {
		return
	}
	c.mu.Lock()
	c.addLocked(string(wrapped), e)
	c.mu.Unlock()
}

// addLocked adds an entry to the current generation; a full generation
// becomes the old one, and the old one is dropped.
func (c *dataKeyCache) addLocked(k string, e *dataKeyEntry) {
	c.cur[k] = e
	if len(c.cur) >= c.max {
		c.old, c.cur = c.cur, make(map[string]*dataKeyEntry, c.max)
	}
}

// dropKey forgets every entry of a KMS key (when the key is purged).
func (c *dataKeyCache) dropKey(keyID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range []map[string]*dataKeyEntry{c.cur, c.old} {
		for k, e := range m {
			if e.keyID == keyID {
				delete(m, k)
			}
		}
	}
}

// DataKeyAEAD unwraps a data key made by DataKey and returns it ready for
// use, given the encryption context in its canonical encoding
// (envelope.AppendPairs or AppendContext: no map to build). The plaintext
// data key never leaves this package; recently used data keys are served
// from the data-key cache (see dataKeyCache for what is still checked).
// It satisfies secrets.DataKeys.
func (s *Service) DataKeyAEAD(ctx context.Context, wrapped, encCtx []byte) (*envelope.Key, string, error) {
	if e := s.dataKeys.get(wrapped); e != nil && bytes.Equal(e.encCtx, encCtx) {
		k, _, err := s.blobKey(ctx, e.keyID, e.seq, nil)
		if err != nil {
			return nil, "", during(OpDecrypt, err)
		}
		return e.aead, k.ARN, nil
	}
	pt, k, m, err := s.openEncoded(ctx, wrapped, encCtx, nil)
	if err != nil {
		return nil, "", during(OpDecrypt, err)
	}
	defer envelope.Zero(pt)
	ek, err := envelope.NewKey(pt)
	if err != nil {
		return nil, "", err
	}
	s.dataKeys.put(wrapped, &dataKeyEntry{encCtx: bytes.Clone(encCtx), keyID: k.ID, seq: m.Seq, aead: ek})
	return ek, k.ARN, nil
}

// blobSeq returns the material sequence number a well-formed blob names.
func blobSeq(blob []byte) uint32 { return binary.BigEndian.Uint32(blob[17:21]) }
