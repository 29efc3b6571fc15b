package main

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"iter"

	"github.com/coffer-dev/coffer/internal/audit"
)

// The audit log in copies of a store (migrate, backup, restore). It moves
// through the stores' audit copy methods (auditCopier), not as table rows,
// so that each store keeps it in its own layout, and it is checked on the
// way: the source's records against its chain state while they are read,
// the whole log and every checkpoint by the destination's ImportAudit, and
// at the end the destination's head and checkpoints against the source's.
//
// A copy never deletes or replaces an audit log, even with --force: the
// destination's log must be empty, or already be exactly the source's (a
// copy interrupted after the log was imported and run again).

// auditSummary identifies an audit log: its head and its checkpoints.
type auditSummary struct {
	Records uint64 `json:"records"`
	Last    string `json:"last"` // hex of the last record's hash
	Root    string `json:"root"` // hex of the Merkle root of all records
	// Checkpoints is the number of stored checkpoints; CheckpointSum the
	// SHA-256 of their sizes, roots and notes in size order.
	Checkpoints   int    `json:"checkpoints"`
	CheckpointSum string `json:"checkpoint_sum"`
}

func summarize(head audit.ChainState, cps []audit.StoredCheckpoint) auditSummary {
	last, root := head.Last, head.Root()
	h := sha256.New()
	var n [binary.MaxVarintLen64]byte
	for _, c := range cps {
		h.Write(n[:binary.PutUvarint(n[:], c.Size)])
		h.Write(c.Root[:])
		h.Write(n[:binary.PutUvarint(n[:], uint64(len(c.Note)))])
		h.Write(c.Note)
	}
	return auditSummary{Records: head.Size, Last: hex.EncodeToString(last[:]), Root: hex.EncodeToString(root[:]),
		Checkpoints: len(cps), CheckpointSum: hex.EncodeToString(h.Sum(nil))}
}

func (s auditSummary) empty() bool { return s.Records == 0 && s.Checkpoints == 0 }

// auditLogReader is what reading a store's log for a copy needs.
type auditLogReader interface {
	AuditHead(ctx context.Context) (audit.ChainState, error)
	AuditCheckpoints(ctx context.Context) ([]audit.StoredCheckpoint, error)
	AllAuditRecords(ctx context.Context) iter.Seq2[audit.Record, error]
}

// logCopy is an audit log on its way to another store: its head and
// checkpoints are read first, its records as they are consumed.
type logCopy struct {
	sum  auditSummary
	cps  []audit.StoredCheckpoint
	recs iter.Seq2[audit.Record, error] // checked: exactly the records up to the head
}

// readLog prepares the copy of db's audit log. Call it in the same read
// snapshot as the copy of the tables (see readSnapshot), so that the log
// holds the record of every change the tables hold.
func readLog(ctx context.Context, db auditLogReader) (*logCopy, error) {
	head, err := db.AuditHead(ctx)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	cps, err := db.AuditCheckpoints(ctx)
	if err != nil {
		return nil, fmt.Errorf("audit checkpoints: %w", err)
	}
	for _, c := range cps {
		if c.Size > head.Size {
			return nil, fmt.Errorf("the source holds an audit checkpoint of %d records but its log has %d", c.Size, head.Size)
		}
	}
	sum := summarize(head, cps)
	return &logCopy{sum: sum, cps: cps, recs: checkedRecords(db.AllAuditRecords(ctx), sum, "the source's")}, nil
}

// checkedRecords yields the records of recs up to the log's head in sum,
// recomputing each record's hash and link, and fails if they do not end
// exactly at that head. Records past the head (committed after the read
// snapshot, for stores without one) are left out.
func checkedRecords(recs iter.Seq2[audit.Record, error], sum auditSummary, whose string) iter.Seq2[audit.Record, error] {
	return func(yield func(audit.Record, error) bool) {
		chain, _ := audit.NewChain(audit.ChainState{})
		if sum.Records > 0 {
			for r, err := range recs {
				if err != nil {
					yield(audit.Record{}, err)
					return
				}
				seq := chain.Size() + 1
				want, err := chain.Append(r.Body)
				if err != nil || want.Seq != r.Seq || want.Prev != r.Prev || want.Hash != r.Hash {
					yield(audit.Record{}, fmt.Errorf("%w: %s audit log does not verify at seq %d (found seq %d); `coffer audit verify` names the first bad record",
						audit.ErrTampered, whose, seq, r.Seq))
					return
				}
				if !yield(r, nil) {
					return
				}
				if chain.Size() == sum.Records {
					break
				}
			}
		}
		st := chain.State()
		last, root := st.Last, st.Root()
		if st.Size != sum.Records || hex.EncodeToString(last[:]) != sum.Last || hex.EncodeToString(root[:]) != sum.Root {
			yield(audit.Record{}, fmt.Errorf("%w: %s audit log ends at seq %d, which is not the head it names (%d records)", audit.ErrTampered, whose, st.Size, sum.Records))
		}
	}
}

// withProgress counts the records on p as they pass.
func withProgress(recs iter.Seq2[audit.Record, error], p *progress, total uint64) iter.Seq2[audit.Record, error] {
	return func(yield func(audit.Record, error) bool) {
		p.start("audit log", int64(total))
		defer p.finish()
		for r, err := range recs {
			if err == nil {
				p.row()
			}
			if !yield(r, err) {
				return
			}
		}
	}
}

// storeLog summarizes a store's audit log.
func storeLog(ctx context.Context, db auditLogReader) (auditSummary, error) {
	head, err := db.AuditHead(ctx)
	if err != nil {
		return auditSummary{}, fmt.Errorf("audit log: %w", err)
	}
	cps, err := db.AuditCheckpoints(ctx)
	if err != nil {
		return auditSummary{}, fmt.Errorf("audit checkpoints: %w", err)
	}
	return summarize(head, cps), nil
}

// errOtherLog refuses a copy into a store that holds another audit log.
var errOtherLog = errors.New("the destination holds another audit log")

// planLog decides what a copy does with the audit log: import it (the
// destination's log is empty), or nothing (it is already exactly the
// source's). Any other log at the destination is refused.
func planLog(src, dst auditSummary) (importIt bool, err error) {
	switch {
	case dst.empty():
		return !src.empty(), nil
	case dst == src:
		return false, nil
	}
	return false, fmt.Errorf("%w (%d records, %d checkpoints): a copy never deletes an audit log, not even with --force; copy into a new store (a new data directory or PostgreSQL schema)",
		errOtherLog, dst.Records, dst.Checkpoints)
}

// compareLog prints the audit log lines of the verification table and
// reports whether the destination holds exactly the source's log.
func compareLog(w io.Writer, want, got auditSummary) error {
	mark := func(ok bool, detail string) string {
		if ok {
			return "ok"
		}
		return "MISMATCH (destination: " + detail + ")"
	}
	logOK := got.Records == want.Records && got.Last == want.Last && got.Root == want.Root
	cpOK := got.Checkpoints == want.Checkpoints && got.CheckpointSum == want.CheckpointSum
	fmt.Fprintf(w, "%-18s %10d  %.16s  %s\n", "audit log", want.Records, want.Root,
		mark(logOK, fmt.Sprintf("%d records, root %.16s", got.Records, got.Root)))
	fmt.Fprintf(w, "%-18s %10d  %.16s  %s\n", "audit checkpoints", want.Checkpoints, want.CheckpointSum,
		mark(cpOK, fmt.Sprintf("%d checkpoints, %.16s", got.Checkpoints, got.CheckpointSum)))
	if !logOK || !cpOK {
		return errors.New("verification failed for the audit log: the destination does not hold exactly the source's")
	}
	return nil
}

// readSnapshot runs fn in one read snapshot of db if db is written by
// others meanwhile (PostgreSQL); a SQLite store is held by this process
// alone, so every read of it is consistent anyway.
func readSnapshot(ctx context.Context, db any, fn func(ctx context.Context) error) error {
	if rs, ok := db.(readSnapshotter); ok {
		return rs.ReadSnapshot(ctx, fn)
	}
	return fn(ctx)
}
