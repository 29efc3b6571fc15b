package postgres

import (
	"context"
	"errors"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/coffer-dev/coffer/internal/identity"
)

// Root-key rotation on a shared database (coffer root-key rotate).
//
// Several nodes share the database, each holding the root key in memory.
// Two mechanisms keep a rotation from losing data:
//
//   - Fence: every write of an item wrapped by the root key (KMS key
//     material, access keys) takes the transaction-level advisory lock
//     rootFence shared and checks the item's root key id against
//     meta[root_key_id]; the rotation takes it exclusive and sets that row
//     in its transaction. A node still running with the old root key after
//     a rotation therefore fails such writes (ErrRootKeyRotated) instead of
//     storing items nobody can unwrap any more, and a write that commits
//     before the rotation takes the lock is re-wrapped by it.
//   - Announcement: every running server holds a shared session-level
//     advisory lock on its lease session (AnnounceNode), so the rotation
//     can refuse to start while nodes run (RunningNodes): they would keep
//     serving with a root key that no longer opens the data.

// metaRootKeyID is the id of the root key the cluster's items are wrapped
// by; absent until the first rotation (every item has the same one then).
const metaRootKeyID = "root_key_id"

// ErrRootKeyRotated is returned for a write of an item wrapped by a root key
// that is no longer the cluster's.
var ErrRootKeyRotated = errors.New("the root key was rotated while this node was running: restart it with the new root key")

func (db *DB) rootFence() int64 { return db.lockKey("root-key-fence") }

// checkRootKeyIDs waits for a rotation in progress and fails if any of ids
// (the root key ids of the items being written; "" for items from before
// root key ids were recorded, which are not checked) is not the cluster's.
// The lock and the read are two statements: under READ COMMITTED a
// statement sees the commits before it began, so the read must begin after
// the lock is granted to see a rotation that committed meanwhile.
func (db *DB) checkRootKeyIDs(ctx context.Context, tx pgx.Tx, ids ...string) error {
	ids = slices.DeleteFunc(ids, func(id string) bool { return id == "" })
	if len(ids) == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock_shared($1)", db.rootFence()); err != nil {
		return err
	}
	var cur string
	err := tx.QueryRow(ctx, "SELECT convert_from(v, 'UTF8') FROM meta WHERE k = $1", metaRootKeyID).Scan(&cur)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, id := range ids {
		if id != cur {
			return ErrRootKeyRotated
		}
	}
	return nil
}

// BeginRootKeyRotation must be the first call in the rotation's unit of
// work: it waits for writes of root-wrapped items in flight, holds new
// ones off until the unit ends, and records newID as the cluster's root
// key id when the unit commits.
func (db *DB) BeginRootKeyRotation(ctx context.Context, newID string) error {
	return db.write(ctx, "", func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", db.rootFence()); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "INSERT INTO meta (k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = excluded.v", metaRootKeyID, []byte(newID))
		return err
	})
}

// AllAccessKeys returns every stored access key (of all users and
// sessions), in id order.
func (db *DB) AllAccessKeys(ctx context.Context) ([]*identity.AccessKey, error) {
	return db.queryAccessKeys(ctx, "SELECT doc FROM access_keys ORDER BY id")
}

// PutMeta stores value under key in the unit of work in ctx (or on its own
// when there is none).
func (db *DB) PutMeta(ctx context.Context, key string, value []byte) error {
	return db.SetMeta(ctx, key, value)
}

// nodeLease is the lease-session lock every running server holds shared.
const nodeLease = "coffer-node"

// AnnounceNode marks this process as a running server of the cluster for
// as long as it runs (see RunningNodes); the lease session re-takes the
// mark if it has to reconnect.
func (db *DB) AnnounceNode(ctx context.Context) error {
	l := &db.lease
	l.mu.Lock()
	defer l.mu.Unlock()
	l.announce, l.reopenOK = true, true
	ctx, cancel := db.bound(ctx)
	defer cancel()
	return l.connect(ctx)
}

// RunningNodes counts the servers that announced themselves and are
// still connected.
func (db *DB) RunningNodes(ctx context.Context) (int, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	var n int
	err := db.pool.QueryRow(ctx, `SELECT count(DISTINCT pid) FROM pg_locks WHERE locktype = 'advisory'
		AND classid = $1::int4::oid AND objid = $2::int4::oid AND objsubid = 2 AND granted`,
		int32(leaseClass), db.leaseKey(nodeLease)).Scan(&n)
	return n, err
}
