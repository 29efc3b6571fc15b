package postgres

import (
	"context"
	"errors"
	"fmt"
	"iter"

	"github.com/jackc/pgx/v5"

	"github.com/coffer-dev/coffer/internal/audit"
)

// Copies of the audit log (`coffer migrate`, `backup`, `restore`): the log
// moves between stores through these methods, whatever each store's
// layout, and is checked on the way in.

// AuditCheckpoints returns every stored checkpoint, by size. Within
// ReadSnapshot it reads that snapshot.
func (db *DB) AuditCheckpoints(ctx context.Context) ([]audit.StoredCheckpoint, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	rows, err := db.auditReader(ctx).Query(ctx, "SELECT size, root, note, created_ms FROM audit_checkpoints ORDER BY size")
	if err != nil {
		return nil, fmt.Errorf("postgres: read audit checkpoints: %w", err)
	}
	defer rows.Close()
	out, err := audit.ScanCheckpoints(rows)
	if err != nil && !errors.Is(err, audit.ErrCheckpoint) {
		return nil, fmt.Errorf("postgres: read audit checkpoints: %w", err)
	}
	return out, err
}

// importChunk is how many records one multi-row INSERT writes.
const importChunk = 1000

// ImportAudit writes a whole audit log — recs from seq 1, in order, and
// the checkpoints cps — into this store's audit log, which must be empty
// (ErrNotEmpty otherwise), in one transaction. The log must be intact and
// every checkpoint must match it (audit.CheckImport); otherwise nothing is
// written. It holds the chain lock meanwhile, so nodes that record
// requests wait (a store being restored should not be serving). recs may
// be slow (read from another store or a file): there is no storage
// timeout, only ctx.
func (db *DB) ImportAudit(ctx context.Context, recs iter.Seq2[audit.Record, error], cps []audit.StoredCheckpoint) error {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, "SET LOCAL lock_timeout = 0; SET LOCAL idle_in_transaction_session_timeout = 0"); err != nil {
		return err
	}
	var blob []byte
	if err := tx.QueryRow(ctx, "SELECT state FROM audit_state WHERE id = 1 FOR UPDATE").Scan(&blob); err != nil {
		return fmt.Errorf("audit: lock the chain: %w", err)
	}
	var st audit.ChainState
	if err := st.UnmarshalBinary(blob); err != nil {
		return err
	}
	var records, checkpoints bool
	if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM audit_records), EXISTS (SELECT 1 FROM audit_checkpoints)").Scan(&records, &checkpoints); err != nil {
		return err
	}
	if st.Size != 0 || records || checkpoints {
		return fmt.Errorf("%w (the audit log has %d records)", ErrNotEmpty, st.Size)
	}

	var rows auditRows
	flush := func() error {
		if rows.len() == 0 {
			return nil
		}
		b := &pgx.Batch{}
		rows.queueInsert(b)
		err := tx.SendBatch(ctx, b).Close()
		rows = auditRows{}
		return err
	}
	st, err = audit.CheckImport(recs, cps, func(r *audit.Record) error {
		c, err := parseAuditCols(r.Body)
		if err != nil {
			return fmt.Errorf("%w: seq %d: %w", audit.ErrImport, r.Seq, err)
		}
		rows.addRecord(r, &c)
		if rows.len() >= importChunk {
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
	b := &pgx.Batch{}
	for _, c := range cps {
		b.Queue("INSERT INTO audit_checkpoints (size, root, note, created_ms) VALUES ($1, $2, $3, $4)",
			int64(c.Size), c.Root[:], c.Note, c.Created.UnixMilli())
	}
	state, err := st.MarshalBinary()
	if err != nil {
		return err
	}
	b.Queue("UPDATE audit_state SET state = $1 WHERE id = 1", state)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return err
	}
	return tx.Commit(ctx)
}
