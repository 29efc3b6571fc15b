package sqlite

import (
	"context"
	"encoding/json"
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
	rows, err := db.read.QueryContext(ctx, "SELECT doc FROM kms_keys WHERE due_ms > 0 AND due_ms <= ? ORDER BY due_ms, id LIMIT ?", now.UnixMilli(), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*kms.Key
	for rows.Next() {
		var doc []byte
		if err := rows.Scan(&doc); err != nil {
			return nil, err
		}
		k := new(kms.Key)
		if err := json.Unmarshal(doc, k); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}
