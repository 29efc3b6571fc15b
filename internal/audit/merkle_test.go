package audit_test

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"testing"

	"github.com/coffer-dev/coffer/internal/audit"
)

// refMTH is a direct transcription of RFC 6962 section 2.1's definition of
// the Merkle Tree Hash over leaf *data* (here: record hashes), used as an
// independent reference for the package's incremental implementation.
func refMTH(data [][]byte) [32]byte {
	switch n := len(data); n {
	case 0:
		return sha256.Sum256(nil)
	case 1:
		return sha256.Sum256(append([]byte{0x00}, data[0]...))
	default:
		k := 1
		for k*2 < n {
			k *= 2
		}
		l, r := refMTH(data[:k]), refMTH(data[k:])
		return sha256.Sum256(append(append([]byte{0x01}, l[:]...), r[:]...))
	}
}

// testLog builds n records with distinct bodies and returns them with
// their Merkle leaf hashes.
func testLog(t testing.TB, n int) ([]audit.Record, [][32]byte) {
	t.Helper()
	c, err := audit.NewChain(audit.ChainState{})
	if err != nil {
		t.Fatal(err)
	}
	recs := make([]audit.Record, n)
	leaves := make([][32]byte, n)
	for i := range n {
		body := fmt.Appendf(nil, `{"eventName":"GetSecretValue","i":%d}`, i)
		if recs[i], err = c.Append(body); err != nil {
			t.Fatal(err)
		}
		leaves[i] = audit.LeafHash(recs[i].Hash)
	}
	return recs, leaves
}

func TestMerkleRootMatchesReference(t *testing.T) {
	c, err := audit.NewChain(audit.ChainState{})
	if err != nil {
		t.Fatal(err)
	}
	var data [][]byte
	var leaves [][32]byte
	for n := 0; n <= 300; n++ {
		want := refMTH(data)
		if got := c.Root(); got != want {
			t.Fatalf("size %d: chain root %x, reference %x", n, got, want)
		}
		if got := c.State().Root(); got != want {
			t.Fatalf("size %d: state root %x, reference %x", n, got, want)
		}
		if got := audit.MerkleRoot(leaves); got != want {
			t.Fatalf("size %d: MerkleRoot %x, reference %x", n, got, want)
		}
		rec, err := c.Append(fmt.Appendf(nil, `{"n":%d}`, n))
		if err != nil {
			t.Fatal(err)
		}
		data = append(data, rec.Hash[:])
		leaves = append(leaves, audit.LeafHash(rec.Hash))
	}
	if audit.EmptyRoot() != sha256.Sum256(nil) {
		t.Fatal("EmptyRoot is not SHA-256 of the empty string")
	}
}

// proofSizes are the tree sizes proofs are exhaustively tested at.
func proofSizes() []int {
	var s []int
	for n := 1; n <= 70; n++ {
		s = append(s, n)
	}
	return append(s, 127, 128, 129, 255, 256, 257, 300)
}

func TestInclusionProofs(t *testing.T) {
	_, all := testLog(t, 300)
	for _, n := range proofSizes() {
		leaves := all[:n]
		root := audit.MerkleRoot(leaves)
		for i := range n {
			idx := uint64(i)
			proof, err := audit.InclusionProof(idx, leaves)
			if err != nil {
				t.Fatalf("size %d index %d: %v", n, i, err)
			}
			if err := audit.VerifyInclusion(idx, uint64(n), leaves[i], proof, root); err != nil {
				t.Fatalf("size %d index %d: valid proof rejected: %v", n, i, err)
			}
			// Tampering: wrong leaf, wrong index, altered proof element,
			// truncated or extended proof. (A wrong size is not always
			// detectable from the proof alone: size and root come together
			// from a signed checkpoint.)
			other := leaves[(i+1)%n]
			if n > 1 && audit.VerifyInclusion(idx, uint64(n), other, proof, root) == nil {
				t.Fatalf("size %d index %d: wrong leaf accepted", n, i)
			}
			if n > 1 && audit.VerifyInclusion(uint64((i+1)%n), uint64(n), leaves[i], proof, root) == nil {
				t.Fatalf("size %d index %d: wrong index accepted", n, i)
			}
			for j := range proof {
				bad := append([][32]byte(nil), proof...)
				bad[j][0] ^= 1
				if audit.VerifyInclusion(idx, uint64(n), leaves[i], bad, root) == nil {
					t.Fatalf("size %d index %d: altered proof[%d] accepted", n, i, j)
				}
			}
			if len(proof) > 0 && audit.VerifyInclusion(idx, uint64(n), leaves[i], proof[:len(proof)-1], root) == nil {
				t.Fatalf("size %d index %d: truncated proof accepted", n, i)
			}
			if audit.VerifyInclusion(idx, uint64(n), leaves[i], append(proof, root), root) == nil {
				t.Fatalf("size %d index %d: extended proof accepted", n, i)
			}
		}
	}
	if _, err := audit.InclusionProof(3, all[:3]); !errors.Is(err, audit.ErrProofIndex) {
		t.Errorf("index beyond size: got %v", err)
	}
	if err := audit.VerifyInclusion(0, 0, all[0], nil, audit.EmptyRoot()); !errors.Is(err, audit.ErrProofIndex) {
		t.Errorf("empty tree: got %v", err)
	}
}

func TestConsistencyProofs(t *testing.T) {
	_, all := testLog(t, 300)
	roots := make([][32]byte, 301)
	for n := range roots {
		roots[n] = audit.MerkleRoot(all[:n])
	}
	for _, n := range proofSizes() {
		for m := 0; m <= n; m++ {
			proof, err := audit.ConsistencyProof(uint64(m), all[:n])
			if err != nil {
				t.Fatalf("%d→%d: %v", m, n, err)
			}
			if err := audit.VerifyConsistency(uint64(m), uint64(n), roots[m], roots[n], proof); err != nil {
				t.Fatalf("%d→%d: valid proof rejected: %v", m, n, err)
			}
			if m == 0 {
				continue // everything is consistent with the empty tree
			}
			// A rewritten old tree: its root differs.
			if audit.VerifyConsistency(uint64(m), uint64(n), roots[m-1], roots[n], proof) == nil && roots[m-1] != roots[m] {
				t.Fatalf("%d→%d: wrong old root accepted", m, n)
			}
			if m < n {
				if audit.VerifyConsistency(uint64(m), uint64(n), roots[m], roots[n-1], proof) == nil {
					t.Fatalf("%d→%d: wrong new root accepted", m, n)
				}
				for j := range proof {
					bad := append([][32]byte(nil), proof...)
					bad[j][31] ^= 0x80
					if audit.VerifyConsistency(uint64(m), uint64(n), roots[m], roots[n], bad) == nil {
						t.Fatalf("%d→%d: altered proof[%d] accepted", m, n, j)
					}
				}
				if audit.VerifyConsistency(uint64(m), uint64(n), roots[m], roots[n], proof[:len(proof)-1]) == nil {
					t.Fatalf("%d→%d: truncated proof accepted", m, n)
				}
				if audit.VerifyConsistency(uint64(m), uint64(n), roots[m], roots[n], append(proof, roots[0])) == nil {
					t.Fatalf("%d→%d: extended proof accepted", m, n)
				}
			}
		}
	}
	// A fork: the same first m leaves, a different leaf after.
	forked := append([][32]byte(nil), all[:20]...)
	forked[15][0] ^= 1
	proof, _ := audit.ConsistencyProof(10, forked)
	if audit.VerifyConsistency(10, 20, roots[10], roots[20], proof) == nil {
		t.Error("proof from a forked tree accepted")
	}
	if _, err := audit.ConsistencyProof(5, all[:4]); !errors.Is(err, audit.ErrProofIndex) {
		t.Errorf("old size beyond new: got %v", err)
	}
}
