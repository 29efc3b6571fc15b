package postgres

import (
	"context"
	"sync"
	"sync/atomic"
)

// The read cache: rows that requests read outside a transaction (secrets,
// KMS keys, IAM documents, access keys), kept on the node so that a request reads one
// row of counters instead of every row it needs, and still never sees a
// state older than the latest commit before it began.
//
// data_version (migrations/0005) holds one counter per kind in one row,
// bumped in the same transaction as every change to that kind's tables (by
// triggers).
// A unit of work reads the counters once, on its first cached read
// (cacheVersion, into Unit.vers). A row read at counter value v is stored under v; it
// holds the state of some moment after v was read, so it reflects every
// commit up to v (and perhaps later ones). A unit that read counter v
// takes only rows stored under exactly v: as its counters were read after
// it began, every change acknowledged before the request began is in
// them. When a unit sees a counter higher than the cache's, that kind's
// rows are dropped. Reads inside a unit's transaction (writes, locks)
// always go to the database.
//
// The rows are kept as read (the bytes of the JSON documents) and decoded
// for every caller, exactly as a read from the database is, so no caller
// shares a decoded value with another.

// Kinds of cached rows: the counters of data_version.
const (
	kindIAM = iota
	kindKMS
	kindSecrets
	numKinds
)

// maxCachedRows bounds each kind's rows; a full kind is emptied.
const maxCachedRows = 10000

type readCache struct {
	hits atomic.Int64 // for tests
	mu   sync.Mutex
	kind [numKinds]kindRows
}

// kindRows are the rows of one kind, all read at counter value ver.
type kindRows struct {
	ver  int64
	rows map[string]any
}

// at reports whether a unit that read counter ver may use k, dropping the
// rows first if ver is newer than theirs.
func (k *kindRows) at(ver int64) bool {
	if ver > k.ver {
		k.ver, k.rows = ver, nil
	}
	return ver == k.ver
}

// get returns the row stored under key for a unit that read counter ver.
func (c *readCache) get(kind int, ver int64, key string) (any, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := &c.kind[kind]
	if !k.at(ver) {
		return nil, false
	}
	v, ok := k.rows[key]
	if ok {
		c.hits.Add(1)
	}
	return v, ok
}

// put stores a row read by a unit that read counter ver.
func (c *readCache) put(kind int, ver int64, key string, row any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := &c.kind[kind]
	if !k.at(ver) {
		return
	}
	if k.rows == nil || len(k.rows) >= maxCachedRows {
		k.rows = make(map[string]any)
	}
	k.rows[key] = row
}

// cacheVersion returns the counter of kind that the unit in ctx reads the
// cache with, reading the counters on the unit's first call; ok is false
// when the read must go to the database (no unit, or a unit inside its
// transaction).
func (db *DB) cacheVersion(ctx context.Context, kind int) (ver int64, ok bool, err error) {
	u := db.unitIn(ctx)
	if u == nil || u.tx != nil {
		return 0, false, nil
	}
	if !u.versOK {
		v := &u.vers
		err := db.pool.QueryRow(ctx, "SELECT iam, kms, secrets FROM data_version").Scan(&v[kindIAM], &v[kindKMS], &v[kindSecrets])
		if err != nil {
			return 0, false, err
		}
		u.versOK = true
	}
	return u.vers[kind], true, nil
}

// cached returns the row key of kind, from the cache if the unit in ctx
// may take it from there, else from load (and stores it for the units
// that read the same counter). Errors (not found included) are not
// cached.
func cached[T any](ctx context.Context, db *DB, kind int, key string, load func(q querier) (T, error)) (T, error) {
	ver, ok, err := db.cacheVersion(ctx, kind)
	if err != nil {
		var zero T
		return zero, err
	}
	if !ok {
		return load(db.reader(ctx))
	}
	if row, hit := db.rcache.get(kind, ver, key); hit {
		return row.(T), nil
	}
	row, err := load(db.pool)
	if err == nil {
		db.rcache.put(kind, ver, key, row)
	}
	return row, err
}
