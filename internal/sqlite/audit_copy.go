package sqlite

import (
	"context"
	"fmt"
	"iter"

	"github.com/coffer-dev/coffer/internal/audit"
)

// Copies of the audit log (`coffer migrate`, `backup`, `restore`): the log
// moves between stores through AuditCheckpoints, AllAuditRecords (see
// audit_read.go) and ImportAudit, whatever each store's layout, and is
// checked on the way in. A store being copied is held by the copying
// process alone (the database lock), so what these read is consistent
// with a Snapshot taken alongside.

// AuditCheckpoints returns every stored checkpoint, by size.
func (db *DB) AuditCheckpoints(ctx context.Context) ([]audit.StoredCheckpoint, error) {
	return storedCheckpoints(ctx, db.read)
}

// ImportAudit writes a whole audit log — recs from seq 1, in order, and
// the checkpoints cps — into this store's audit log, which must be empty
// (ErrNotEmpty otherwise): the records go into the segment log as one
// batch and the chain state and checkpoints commit in one transaction
// (see importLog). The log must be intact and every checkpoint valid and
// matching it (errors match audit.ErrImport); otherwise nothing stays
// written. It has the committer's state to itself while it runs.
func (db *DB) ImportAudit(ctx context.Context, recs iter.Seq2[audit.Record, error], cps []audit.StoredCheckpoint) error {
	for _, c := range cps {
		if err := c.Validate(); err != nil {
			return fmt.Errorf("%w: %w", audit.ErrImport, err)
		}
	}
	db.com.excl.Lock()
	defer db.com.excl.Unlock()
	var n int
	if err := db.write.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM audit_checkpoints)").Scan(&n); err != nil {
		return fmt.Errorf("sqlite: read audit checkpoints: %w", err)
	}
	if size := db.audit.chain.Size(); size != 0 || n != 0 {
		return fmt.Errorf("%w (the audit log has %d records)", ErrNotEmpty, size)
	}
	if err := db.audit.importLog(ctx, recs, cps, true, nil); err != nil {
		return err
	}
	select {
	case db.audit.notify <- struct{}{}:
	default:
	}
	return nil
}
