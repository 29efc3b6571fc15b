package audit

import (
	"cmp"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strconv"
)

// ErrTampered matches (errors.Is) every *VerifyError: the log is not intact.
var ErrTampered = errors.New("audit: log verification failed")

// ErrVerifyOptions is returned for unusable VerifyOptions (not a finding
// about the log).
var ErrVerifyOptions = errors.New("audit: invalid verify options")

// Reason names what is wrong with the first bad record.
type Reason string

// Reasons reported in VerifyError.
const (
	// ReasonMalformed: the record could not be read or decoded (Err says why).
	ReasonMalformed Reason = "malformed record"
	// ReasonHashMismatch: the stored hash is not the hash of the record's
	// seq, prev and body (the body or the hash was edited).
	ReasonHashMismatch Reason = "hash mismatch"
	// ReasonBrokenChain: the record's prev is not the previous record's hash.
	ReasonBrokenChain Reason = "broken chain"
	// ReasonGap: the expected seq is missing (deleted records).
	ReasonGap Reason = "gap"
	// ReasonOutOfOrder: the expected seq appears later in the log (records
	// were reordered).
	ReasonOutOfOrder Reason = "out of order"
	// ReasonDuplicate: a seq already seen appears again.
	ReasonDuplicate Reason = "duplicate"
	// ReasonTruncated: the log ends before the size a checkpoint commits to.
	ReasonTruncated Reason = "truncated"
	// ReasonRootMismatch: the records up to a checkpoint's size chain
	// correctly but their Merkle root differs from the signed one (the log
	// was rewritten, chain and all).
	ReasonRootMismatch Reason = "root mismatch"
	// ReasonBadCheckpoint: the checkpoint is malformed or its signature
	// does not verify (Seq is 0).
	ReasonBadCheckpoint Reason = "bad checkpoint"
)

// VerifyError reports the first place where the log is not intact.
type VerifyError struct {
	// Seq is the log position that is wrong: the Seq the record there
	// should have. For hash, chain and malformed records it is that
	// record's Seq; for gaps, reordering and duplicates it is the Seq that
	// was expected; for truncation the first missing Seq; for a root
	// mismatch the checkpoint's size (its last record).
	Seq uint64
	// Found is the Seq of the record actually found at that position
	// (0 if none or unreadable).
	Found  uint64
	Reason Reason
	// Detail is a human-readable explanation (hashes, sizes; never a body).
	Detail string
	// Err is the underlying error for ReasonMalformed and ReasonBadCheckpoint.
	Err error
}

func (e *VerifyError) Error() string {
	s := "audit: log verification failed"
	if e.Seq != 0 {
		s += " at seq " + strconv.FormatUint(e.Seq, 10)
	}
	s += ": " + string(e.Reason)
	if e.Found != 0 && e.Found != e.Seq {
		s += " (found seq " + strconv.FormatUint(e.Found, 10) + ")"
	}
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Is makes every VerifyError match ErrTampered.
func (e *VerifyError) Is(target error) bool { return target == ErrTampered }

// Unwrap returns the underlying error, if any.
func (e *VerifyError) Unwrap() error { return e.Err }

// VerifyOptions configures VerifyWith.
type VerifyOptions struct {
	// Start is the trusted state before the first record; the zero value
	// means the records start at Seq 1.
	Start ChainState
	// Checkpoints are trusted checkpoints (already signature-verified, e.g.
	// by VerifyCheckpoint), in any order. Each is checked when the log
	// reaches its size; a log shorter than the largest is truncated.
	Checkpoints []Checkpoint
	// FromFirst trusts the first record's Seq and Prev as the starting
	// point instead of Start: for mirrors whose oldest files were pruned.
	// Only the chain is checked then (no Merkle root, no checkpoints).
	FromFirst bool
}

// VerifyResult describes what was verified.
type VerifyResult struct {
	// State is the chain state after the last good record: on success, the
	// state of the whole log (a store can rebuild its ChainState from it).
	// With FromFirst its Range is nil.
	State ChainState
	// Records is the number of records that verified.
	Records uint64
	// CheckpointSize is the largest checkpoint size whose root matched.
	CheckpointSize uint64
}

// Verify checks that records (in log order, starting at Seq 1) form an
// intact log consistent with signedCheckpoint, a checkpoint note that must
// verify under pub (see VerifyCheckpoint): every record hash and chain link
// is recomputed, the Merkle root at the checkpoint's size must equal the
// signed root, and records beyond it must chain correctly. It stops at the
// first problem and returns it as a *VerifyError (errors.Is ErrTampered).
//
// Records appended after the newest checkpoint can be removed from the tail
// without detection; checkpoint often.
func Verify(records iter.Seq2[Record, error], signedCheckpoint []byte, pub ed25519.PublicKey) (VerifyResult, error) {
	cp, err := VerifyCheckpoint(signedCheckpoint, pub)
	if err != nil {
		return VerifyResult{}, &VerifyError{Reason: ReasonBadCheckpoint, Err: err}
	}
	return VerifyWith(records, VerifyOptions{Checkpoints: []Checkpoint{cp}})
}

// VerifyWith is Verify with already trusted checkpoints (possibly none:
// chain-only verification) and an optional trusted starting state.
func VerifyWith(records iter.Seq2[Record, error], opts VerifyOptions) (VerifyResult, error) {
	if err := opts.Start.Validate(); err != nil {
		return VerifyResult{}, fmt.Errorf("%w: start: %w", ErrVerifyOptions, err)
	}
	if opts.FromFirst && (len(opts.Checkpoints) > 0 || opts.Start.Size != 0) {
		return VerifyResult{}, fmt.Errorf("%w: FromFirst excludes Start and Checkpoints", ErrVerifyOptions)
	}
	cps := slices.Clone(opts.Checkpoints)
	slices.SortFunc(cps, func(a, b Checkpoint) int { return cmp.Compare(a.Size, b.Size) })

	v := verifier{tree: !opts.FromFirst, cps: cps}
	if err := v.chain.Reset(opts.Start); err != nil {
		return VerifyResult{}, err
	}
	if len(cps) > 0 && cps[0].Size < opts.Start.Size {
		return VerifyResult{}, fmt.Errorf("%w: checkpoint size %d precedes start %d", ErrVerifyOptions, cps[0].Size, opts.Start.Size)
	}
	if fail := v.checkCheckpoints(); fail != nil {
		return v.result(), fail
	}

	first := true
	var fail *VerifyError
	scanning := false // after a gap: looking ahead for the missing seq
	for rec, err := range records {
		if scanning {
			if err != nil {
				break
			}
			if rec.Seq == fail.Seq {
				fail.Reason = ReasonOutOfOrder
				fail.Detail = "seq " + strconv.FormatUint(fail.Seq, 10) + " appears later in the log"
				break
			}
			continue
		}
		expected := v.chain.st.Size + 1
		if err != nil {
			fail = &VerifyError{Seq: expected, Reason: ReasonMalformed, Err: err}
			break
		}
		if rec.Seq == 0 {
			fail = &VerifyError{Seq: expected, Reason: ReasonMalformed, Detail: "seq 0"}
			break
		}
		if first && opts.FromFirst {
			v.chain.st = ChainState{Size: rec.Seq - 1, Last: rec.Prev}
			expected = rec.Seq
		}
		first = false
		switch {
		case rec.Seq > expected:
			fail = &VerifyError{Seq: expected, Found: rec.Seq, Reason: ReasonGap,
				Detail: "seq " + strconv.FormatUint(expected, 10) + " is missing"}
			scanning = true
			continue
		case rec.Seq < expected:
			d := "seq " + strconv.FormatUint(rec.Seq, 10) + " already seen"
			if rec.Hash == v.chain.st.Last {
				d = "previous record repeated"
			}
			fail = &VerifyError{Seq: expected, Found: rec.Seq, Reason: ReasonDuplicate, Detail: d}
		case rec.Prev != v.chain.st.Last:
			fail = &VerifyError{Seq: expected, Found: rec.Seq, Reason: ReasonBrokenChain,
				Detail: "prev " + short(rec.Prev) + " is not the hash of seq " +
					strconv.FormatUint(expected-1, 10) + " (" + short(v.chain.st.Last) + ")"}
		case RecordHash(rec.Seq, rec.Prev, rec.Body) != rec.Hash:
			fail = &VerifyError{Seq: expected, Found: rec.Seq, Reason: ReasonHashMismatch,
				Detail: "stored hash " + short(rec.Hash) + " does not match the record's contents"}
		}
		if fail != nil {
			break
		}
		v.add(rec)
		if fail = v.checkCheckpoints(); fail != nil {
			break
		}
	}
	if fail != nil {
		return v.result(), fail
	}
	if len(v.cps) > 0 {
		cp := v.cps[len(v.cps)-1]
		return v.result(), &VerifyError{Seq: v.chain.st.Size + 1, Reason: ReasonTruncated,
			Detail: "log ends at seq " + strconv.FormatUint(v.chain.st.Size, 10) +
				" but a checkpoint covers " + strconv.FormatUint(cp.Size, 10) + " records"}
	}
	return v.result(), nil
}

type verifier struct {
	chain   Chain
	tree    bool // maintain the Merkle compact range
	cps     []Checkpoint
	records uint64
	cpSize  uint64
}

func (v *verifier) add(rec Record) {
	st := &v.chain.st
	if v.tree {
		st.Range = compactAppend(st.Range, st.Size, LeafHash(rec.Hash))
	}
	st.Size = rec.Seq
	st.Last = rec.Hash
	v.records++
}

// checkCheckpoints compares the root with every pending checkpoint of the
// current size.
func (v *verifier) checkCheckpoints() *VerifyError {
	st := &v.chain.st
	for len(v.cps) > 0 && v.cps[0].Size == st.Size {
		cp := v.cps[0]
		if root := st.Root(); root != cp.Root {
			return &VerifyError{Seq: cp.Size, Found: cp.Size, Reason: ReasonRootMismatch,
				Detail: "merkle root " + short(root) + " of " + strconv.FormatUint(cp.Size, 10) +
					" records is not the signed root " + short(cp.Root)}
		}
		v.cpSize = cp.Size
		v.cps = v.cps[1:]
	}
	return nil
}

func (v *verifier) result() VerifyResult {
	st := v.chain.State()
	if !v.tree {
		st.Range = nil
	}
	return VerifyResult{State: st, Records: v.records, CheckpointSize: v.cpSize}
}

// short renders the first 8 bytes of a hash for messages.
func short(h [32]byte) string { return hex.EncodeToString(h[:8]) }
