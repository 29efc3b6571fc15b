package sqlite

import (
	"context"

	"github.com/coffer-dev/coffer/internal/identity"
)

// The methods below serve root-key rotation (coffer root-key rotate),
// which rewrites everything wrapped by the root key in one unit of work.

// AllAccessKeys returns every stored access key (of all users), in id
// order.
func (db *DB) AllAccessKeys(ctx context.Context) ([]*identity.AccessKey, error) {
	return queryDocs[identity.AccessKey](ctx, db, "SELECT doc FROM access_keys ORDER BY id")
}

// PutMeta stores value under key in the unit of work in ctx (or on its
// own when there is none), so that it commits together with the unit.
func (db *DB) PutMeta(ctx context.Context, key string, value []byte) error {
	u, own := db.unitFor(ctx)
	if own {
		defer u.Rollback()
	}
	u.exec("INSERT INTO meta (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v", key, value)
	if own {
		return u.Commit()
	}
	return nil
}
