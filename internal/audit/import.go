package audit

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"iter"
	"slices"
	"time"
)

// StoredCheckpoint is a signed checkpoint as a store keeps it: the tree
// size and root it covers, the signed note (see [Signer.SignCheckpoint])
// and when it was stored. Stores hand them over with the records when a
// log is copied to another store.
type StoredCheckpoint struct {
	Size    uint64
	Root    [32]byte
	Note    []byte
	Created time.Time
}

// ErrImport matches (errors.Is) every error of [CheckImport] about the
// log or checkpoints being imported (not the store's write errors).
var ErrImport = errors.New("audit: the log to import is not intact")

// Validate checks that the note is a checkpoint note naming exactly Size
// and Root. It does not check the signature (that needs the verifier key;
// `coffer audit verify` does it).
func (c StoredCheckpoint) Validate() error {
	i := bytes.LastIndex(c.Note, []byte("\n\n"))
	if i < 0 {
		return fmt.Errorf("%w: checkpoint %d: the note is not a signed note", ErrCheckpoint, c.Size)
	}
	cp, err := ParseCheckpoint(c.Note[:i+1])
	if err != nil {
		return fmt.Errorf("checkpoint %d: %w", c.Size, err)
	}
	if cp.Size != c.Size || cp.Root != c.Root {
		return fmt.Errorf("%w: checkpoint %d: the note names size %d and another root", ErrCheckpoint, c.Size, cp.Size)
	}
	return nil
}

// CheckImport checks a log being imported into an empty store while the
// store writes it: every record of recs is passed to write, in order,
// after its body was checked ([ValidBody]); the records must form an
// intact log from Seq 1 (seq, hash chain, hashes), and every checkpoint of
// cps must be valid ([StoredCheckpoint.Validate]), unique by size, and
// match the records (the Merkle root of the first Size records is Root;
// the log reaches every checkpoint's size). It returns the chain state of
// the whole log, which the store saves with it.
//
// The store writes inside one transaction and discards it if CheckImport
// returns an error: write may see records that later turn out to be bad.
// An error from write or recs is returned as it is; problems with the log
// or checkpoints match ErrImport (and ErrTampered when a *VerifyError
// names the first bad record).
func CheckImport(recs iter.Seq2[Record, error], cps []StoredCheckpoint, write func(*Record) error) (ChainState, error) {
	cps = slices.Clone(cps)
	slices.SortFunc(cps, func(a, b StoredCheckpoint) int { return cmp.Compare(a.Size, b.Size) })
	trusted := make([]Checkpoint, 0, len(cps))
	for i, c := range cps {
		if err := c.Validate(); err != nil {
			return ChainState{}, fmt.Errorf("%w: %w", ErrImport, err)
		}
		if i > 0 && cps[i-1].Size == c.Size {
			return ChainState{}, fmt.Errorf("%w: two checkpoints of size %d", ErrImport, c.Size)
		}
		if c.Size == 0 {
			return ChainState{}, fmt.Errorf("%w: a checkpoint of size 0", ErrImport)
		}
		trusted = append(trusted, Checkpoint{Origin: "import", Size: c.Size, Root: c.Root})
	}
	var stop error // from recs or write: returned as it is
	tee := func(yield func(Record, error) bool) {
		for r, err := range recs {
			if err != nil {
				stop = err
				return
			}
			if !ValidBody(r.Body) {
				stop = fmt.Errorf("%w: seq %d: %w", ErrImport, r.Seq, ErrBody)
				return
			}
			if err := write(&r); err != nil {
				stop = err
				return
			}
			if !yield(r, nil) {
				return
			}
		}
	}
	res, err := VerifyWith(tee, VerifyOptions{Checkpoints: trusted})
	if stop != nil {
		return ChainState{}, stop
	}
	if err != nil {
		return ChainState{}, fmt.Errorf("%w: %w", ErrImport, err)
	}
	return res.State, nil
}

// Rows is what the stores' row sets (database/sql's and pgx's) have in
// common.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// ScanCheckpoints reads stored checkpoints from rows of (size, root, note,
// created_ms), as both stores keep them, checking each row's shape.
func ScanCheckpoints(rows Rows) ([]StoredCheckpoint, error) {
	var out []StoredCheckpoint
	for rows.Next() {
		var size, created int64
		var root, note []byte
		if err := rows.Scan(&size, &root, &note, &created); err != nil {
			return nil, err
		}
		if size <= 0 || len(root) != 32 {
			return nil, fmt.Errorf("%w: checkpoint row of size %d is malformed", ErrCheckpoint, size)
		}
		out = append(out, StoredCheckpoint{Size: uint64(size), Root: [32]byte(root), Note: note, Created: time.UnixMilli(created).UTC()})
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}
