package sqlite

import (
	"context"
	"time"

	"github.com/coffer-dev/coffer/internal/kms"
)

// dueMillis is the indexed form of k.DueAt (0 = not due ever).
func dueMillis(k *kms.Key) int64 {
	t := k.DueAt()
	if t.IsZero() {
		return 0
	}
	if ms := t.UnixMilli(); ms > 0 {
		return ms
	}
	return 1
}

// DueKeys implements kms.Store.
func (db *DB) DueKeys(ctx context.Context, now time.Time, limit int) ([]*kms.Key, error) {
	return queryDocs[kms.Key](ctx, db, "SELECT doc FROM kms_keys WHERE due_ms > 0 AND due_ms <= ? ORDER BY due_ms, id LIMIT ?", now.UnixMilli(), limit)
}
