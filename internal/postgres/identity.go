package postgres

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"

	"github.com/coffer-dev/coffer/internal/identity"
)

var _ identity.Store = (*DB)(nil)

// accessKeyCache keeps decoded access keys keyed by their stored bytes:
// every lookup still reads the row, but returns the same *AccessKey while
// the row is unchanged, which keeps identity.Service's signing-key cache
// (keyed on the record pointer) effective. A changed row on any node gives
// a new pointer at once.
type accessKeyCache struct {
	mu sync.Mutex
	m  map[string]accessKeyEntry
}

type accessKeyEntry struct {
	doc []byte
	k   *identity.AccessKey
}

const maxCachedAccessKeys = 10000

func (c *accessKeyCache) get(id string, doc []byte) (*identity.AccessKey, error) {
	c.mu.Lock()
	e, ok := c.m[id]
	c.mu.Unlock()
	if ok && bytes.Equal(e.doc, doc) {
		return e.k, nil
	}
	k := new(identity.AccessKey)
	if err := json.Unmarshal(doc, k); err != nil {
		return nil, fmt.Errorf("postgres: corrupt access key document: %w", err)
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxCachedAccessKeys {
		c.m = make(map[string]accessKeyEntry)
	}
	c.m[id] = accessKeyEntry{doc: doc, k: k}
	c.mu.Unlock()
	return k, nil
}

func (db *DB) AccessKey(ctx context.Context, id string) (*identity.AccessKey, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	// Through the read cache (readcache.go), under a key no IAM document
	// kind has.
	doc, err := cached(ctx, db, kindIAM, "\x01access-key\x00"+id, func(q querier) ([]byte, error) {
		return loadDocBytes(ctx, q, "SELECT doc FROM access_keys WHERE id = $1", id, identity.ErrNoSuchAccessKey)
	})
	if err != nil {
		return nil, err
	}
	return db.ak.get(id, doc)
}

func (db *DB) PutAccessKey(ctx context.Context, k *identity.AccessKey) error {
	doc, err := json.Marshal(k)
	if err != nil {
		return err
	}
	return db.write(ctx, "", func(ctx context.Context, tx pgx.Tx) error {
		if err := db.checkRootKeyIDs(ctx, tx, k.RootKeyID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO access_keys (id, user_name, doc) VALUES ($1, $2, $3)
			ON CONFLICT (id) DO UPDATE SET user_name = excluded.user_name, doc = excluded.doc`, k.ID, k.UserName, doc)
		return err
	})
}

func (db *DB) DeleteAccessKey(ctx context.Context, id string) error {
	return db.write(ctx, "", func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, "DELETE FROM access_keys WHERE id = $1", id)
		return err
	})
}

func (db *DB) ListAccessKeys(ctx context.Context, userName string) ([]*identity.AccessKey, error) {
	return db.queryAccessKeys(ctx, "SELECT doc FROM access_keys WHERE user_name = $1 ORDER BY id", userName)
}

// queryAccessKeys decodes the access key documents a query returns.
func (db *DB) queryAccessKeys(ctx context.Context, query string, args ...any) ([]*identity.AccessKey, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	rows, err := db.reader(ctx).Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	docs, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return nil, err
	}
	out := make([]*identity.AccessKey, 0, len(docs))
	for _, doc := range docs {
		k := new(identity.AccessKey)
		if err := json.Unmarshal(doc, k); err != nil {
			return nil, fmt.Errorf("postgres: corrupt access key document: %w", err)
		}
		out = append(out, k)
	}
	return out, nil
}
