package audit

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"math/bits"
)

// This file implements the RFC 6962 (section 2.1) Merkle tree over record
// hashes: leaf hash = SHA-256(0x00 || record hash), interior node =
// SHA-256(0x01 || left || right), the tree of n leaves splitting at the
// largest power of two smaller than n, and the empty tree's root being
// SHA-256 of the empty string. Proof verification follows RFC 9162
// sections 2.1.3.2 and 2.1.4.2.

// Errors returned by proof generation and verification.
var (
	ErrProofIndex   = errors.New("audit: merkle: index or size out of range")
	ErrProofInvalid = errors.New("audit: merkle: proof does not verify")
)

var emptyRoot = sha256.Sum256(nil)

// EmptyRoot returns the root hash of the empty tree, SHA-256("").
func EmptyRoot() [32]byte { return emptyRoot }

// LeafHash returns the RFC 6962 leaf hash of a record hash.
func LeafHash(recordHash [32]byte) [32]byte {
	var b [1 + 32]byte
	b[0] = 0x00
	copy(b[1:], recordHash[:])
	return sha256.Sum256(b[:])
}

// NodeHash returns the RFC 6962 interior node hash of two children.
func NodeHash(left, right [32]byte) [32]byte {
	var b [1 + 64]byte
	b[0] = 0x01
	copy(b[1:], left[:])
	copy(b[33:], right[:])
	return sha256.Sum256(b[:])
}

// compactAppend adds leaf (a leaf hash) to the compact range rng of a tree
// of size n and returns the compact range of the tree of size n+1. The
// compact range of size n is the list, left to right, of the roots of the
// perfect subtrees given by the binary decomposition of n (one per set
// bit, largest first); its length is popcount(n).
func compactAppend(rng [][32]byte, n uint64, leaf [32]byte) [][32]byte {
	rng = append(rng, leaf)
	for s := n; s&1 == 1; s >>= 1 {
		k := len(rng)
		rng[k-2] = NodeHash(rng[k-2], rng[k-1])
		rng = rng[:k-1]
	}
	return rng
}

// compactRoot folds a compact range into the tree root.
func compactRoot(rng [][32]byte) [32]byte {
	if len(rng) == 0 {
		return emptyRoot
	}
	r := rng[len(rng)-1]
	for i := len(rng) - 2; i >= 0; i-- {
		r = NodeHash(rng[i], r)
	}
	return r
}

// splitPoint returns the largest power of two strictly smaller than n (n ≥ 2).
func splitPoint(n uint64) uint64 {
	return 1 << (bits.Len64(n-1) - 1)
}

// MerkleRoot returns the root of the tree whose leaf hashes are leaves
// (already [LeafHash]ed). It runs in O(n) time and O(log n) space.
func MerkleRoot(leaves [][32]byte) [32]byte {
	var rng [][32]byte
	for i, l := range leaves {
		rng = compactAppend(rng, uint64(i), l)
	}
	return compactRoot(rng)
}

// InclusionProof returns the audit path (RFC 6962 PATH) proving that leaf
// index (0-based; record Seq-1) is in the tree made of leaves.
func InclusionProof(index uint64, leaves [][32]byte) ([][32]byte, error) {
	if index >= uint64(len(leaves)) {
		return nil, fmt.Errorf("%w: leaf %d of %d", ErrProofIndex, index, len(leaves))
	}
	return inclusionPath(index, leaves, nil), nil
}

func inclusionPath(m uint64, d [][32]byte, out [][32]byte) [][32]byte {
	n := uint64(len(d))
	if n <= 1 {
		return out
	}
	k := splitPoint(n)
	if m < k {
		out = inclusionPath(m, d[:k], out)
		return append(out, MerkleRoot(d[k:]))
	}
	out = inclusionPath(m-k, d[k:], out)
	return append(out, MerkleRoot(d[:k]))
}

// VerifyInclusion checks that leaf (a leaf hash) is at index in the tree of
// the given size and root, using proof from InclusionProof.
func VerifyInclusion(index, size uint64, leaf [32]byte, proof [][32]byte, root [32]byte) error {
	if index >= size {
		return fmt.Errorf("%w: leaf %d of %d", ErrProofIndex, index, size)
	}
	fn, sn := index, size-1
	r := leaf
	for _, p := range proof {
		if sn == 0 {
			return fmt.Errorf("%w: proof too long", ErrProofInvalid)
		}
		if fn&1 == 1 || fn == sn {
			r = NodeHash(p, r)
			for fn&1 == 0 && fn != 0 {
				fn >>= 1
				sn >>= 1
			}
		} else {
			r = NodeHash(r, p)
		}
		fn >>= 1
		sn >>= 1
	}
	if sn != 0 {
		return fmt.Errorf("%w: proof too short", ErrProofInvalid)
	}
	if r != root {
		return fmt.Errorf("%w: root mismatch", ErrProofInvalid)
	}
	return nil
}

// ConsistencyProof returns the RFC 6962 consistency proof between the tree
// of the first oldSize leaves and the tree of all leaves. The proof is
// empty when oldSize is 0 or equals len(leaves).
func ConsistencyProof(oldSize uint64, leaves [][32]byte) ([][32]byte, error) {
	n := uint64(len(leaves))
	if oldSize > n {
		return nil, fmt.Errorf("%w: size %d of %d", ErrProofIndex, oldSize, n)
	}
	if oldSize == 0 || oldSize == n {
		return nil, nil
	}
	return subproof(oldSize, leaves, true, nil), nil
}

func subproof(m uint64, d [][32]byte, complete bool, out [][32]byte) [][32]byte {
	n := uint64(len(d))
	if m == n {
		if complete {
			return out
		}
		return append(out, MerkleRoot(d))
	}
	k := splitPoint(n)
	if m <= k {
		out = subproof(m, d[:k], complete, out)
		return append(out, MerkleRoot(d[k:]))
	}
	out = subproof(m-k, d[k:], false, out)
	return append(out, MerkleRoot(d[:k]))
}

// VerifyConsistency checks that the tree of newSize leaves with root newRoot
// extends the tree of oldSize leaves with root oldRoot, using proof from
// ConsistencyProof. Every tree is consistent with the empty tree.
func VerifyConsistency(oldSize, newSize uint64, oldRoot, newRoot [32]byte, proof [][32]byte) error {
	switch {
	case oldSize > newSize:
		return fmt.Errorf("%w: size %d of %d", ErrProofIndex, oldSize, newSize)
	case oldSize == newSize:
		if len(proof) != 0 {
			return fmt.Errorf("%w: proof for equal sizes must be empty", ErrProofInvalid)
		}
		if oldRoot != newRoot {
			return fmt.Errorf("%w: root mismatch", ErrProofInvalid)
		}
		return nil
	case oldSize == 0:
		if len(proof) != 0 {
			return fmt.Errorf("%w: proof from the empty tree must be empty", ErrProofInvalid)
		}
		return nil
	}
	if len(proof) == 0 {
		return fmt.Errorf("%w: empty proof", ErrProofInvalid)
	}
	if oldSize&(oldSize-1) == 0 { // a power of two: the old root is a node of the new tree
		proof = append([][32]byte{oldRoot}, proof...)
	}
	fn, sn := oldSize-1, newSize-1
	for fn&1 == 1 {
		fn >>= 1
		sn >>= 1
	}
	fr, sr := proof[0], proof[0]
	for _, c := range proof[1:] {
		if sn == 0 {
			return fmt.Errorf("%w: proof too long", ErrProofInvalid)
		}
		if fn&1 == 1 || fn == sn {
			fr = NodeHash(c, fr)
			sr = NodeHash(c, sr)
			for fn&1 == 0 && fn != 0 {
				fn >>= 1
				sn >>= 1
			}
		} else {
			sr = NodeHash(sr, c)
		}
		fn >>= 1
		sn >>= 1
	}
	if sn != 0 {
		return fmt.Errorf("%w: proof too short", ErrProofInvalid)
	}
	if fr != oldRoot || sr != newRoot {
		return fmt.Errorf("%w: root mismatch", ErrProofInvalid)
	}
	return nil
}
