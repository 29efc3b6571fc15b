package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/coffer-dev/coffer/internal/audit"
)

// Copies of the audit log (`coffer migrate`, `backup`, `restore`): the log
// moves between stores through these three methods, whatever each store's
// layout, and is checked on the way in. A store being copied is held by
// the copying process alone (the database lock), so what these read is
// consistent with a Snapshot taken alongside.

// AuditCheckpoints returns every stored checkpoint, by size.
func (db *DB) AuditCheckpoints(ctx context.Context) ([]audit.StoredCheckpoint, error) {
	rows, err := db.read.QueryContext(ctx, "SELECT size, root, note, created_ms FROM audit_checkpoints ORDER BY size")
	if err != nil {
		return nil, fmt.Errorf("sqlite: read audit checkpoints: %w", err)
	}
	defer rows.Close()
	var out []audit.StoredCheckpoint
	for rows.Next() {
		var size, created int64
		var root, note []byte
		if err := rows.Scan(&size, &root, &note, &created); err != nil {
			return nil, fmt.Errorf("sqlite: read audit checkpoints: %w", err)
		}
		if size <= 0 || len(root) != 32 {
			return nil, fmt.Errorf("%w: checkpoint row of size %d is malformed", audit.ErrCheckpoint, size)
		}
		out = append(out, audit.StoredCheckpoint{Size: uint64(size), Root: [32]byte(root), Note: note, Created: time.UnixMilli(created).UTC()})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: read audit checkpoints: %w", err)
	}
	return out, nil
}

// AllAuditRecords iterates over the whole log in seq order, as stored
// (nothing is checked here). It stops after yielding an error.
func (db *DB) AllAuditRecords(ctx context.Context) iter.Seq2[audit.Record, error] {
	return auditRecordIter(ctx, db.read)
}

// ImportAudit writes a whole audit log — recs from seq 1, in order, and
// the checkpoints cps — into this store's audit log, which must be empty
// (ErrNotEmpty otherwise), in one transaction (through the committer). The
// log must be intact and every checkpoint must match it
// (audit.CheckImport); otherwise nothing is written. recs is read inside
// the committer, so it must not use this DB.
func (db *DB) ImportAudit(ctx context.Context, recs iter.Seq2[audit.Record, error], cps []audit.StoredCheckpoint) error {
	a := db.audit
	ran := false
	u := db.newUnit()
	defer u.Rollback()
	u.ops = append(u.ops, op{fn: func(tx *sql.Tx) error {
		if ran {
			return errors.New("sqlite: an audit import cannot be retried")
		}
		ran = true
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM audit_records) + EXISTS (SELECT 1 FROM audit_checkpoints)").Scan(&n); err != nil {
			return err
		}
		if size := a.chain.Size(); size != 0 || n != 0 {
			return fmt.Errorf("%w (the audit log has %d records)", ErrNotEmpty, size)
		}
		var buf []audit.Record
		flush := func() error {
			for len(buf) > 0 {
				k := chunkSize(len(buf))
				args := make([]any, 0, 4*k)
				for i := range buf[:k] {
					r := &buf[i]
					args = append(args, int64(r.Seq), r.Prev[:], r.Hash[:], r.Body)
				}
				if _, err := tx.StmtContext(ctx, a.recStmts[k]).ExecContext(ctx, args...); err != nil {
					return fmt.Errorf("audit: insert records: %w", err)
				}
				buf = buf[k:]
			}
			buf = nil
			return nil
		}
		st, err := audit.CheckImport(recs, cps, func(r *audit.Record) error {
			buf = append(buf, *r)
			if len(buf) >= auditChunk {
				return flush()
			}
			return nil
		})
		if err != nil {
			return err
		}
		if err := flush(); err != nil {
			return err
		}
		for _, c := range cps {
			if _, err := tx.ExecContext(ctx, "INSERT INTO audit_checkpoints (size, root, note, created_ms) VALUES (?, ?, ?, ?)",
				int64(c.Size), c.Root[:], c.Note, c.Created.UnixMilli()); err != nil {
				return fmt.Errorf("audit: insert checkpoints: %w", err)
			}
		}
		state, err := st.MarshalBinary()
		if err != nil {
			return err
		}
		if _, err := tx.StmtContext(ctx, a.stateSt).ExecContext(ctx, state); err != nil {
			return fmt.Errorf("audit: write chain state: %w", err)
		}
		// The committer's chain continues from the imported log; if the
		// batch fails, its abort hook puts the chain back.
		return a.chain.Reset(st)
	}})
	u.after = append(u.after, func() {
		// In the committer, after the commit: the chain is what is committed.
		st := a.chain.State()
		a.mu.Lock()
		a.committed = st
		a.mu.Unlock()
		select {
		case a.notify <- struct{}{}:
		default:
		}
	})
	return u.Commit()
}
