package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/coffer-dev/coffer/internal/kms"
)

var _ kms.Store = (*DB)(nil)

func (db *DB) Key(ctx context.Context, id string) (*kms.Key, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	doc, err := cached(ctx, db, kindKMS, id, func(q querier) ([]byte, error) {
		return loadDocBytes(ctx, q, selectKeyDoc, id, kms.ErrNoSuchKey)
	})
	if err != nil {
		return nil, err
	}
	return decodeJSON[kms.Key](doc, id, "key")
}

const selectKeyDoc = "SELECT doc FROM kms_keys WHERE id = $1"

func loadKey(ctx context.Context, q querier, id string) (*kms.Key, error) {
	return loadJSON[kms.Key](ctx, q, selectKeyDoc, id, kms.ErrNoSuchKey, "key")
}

// loadJSON reads the JSON document the one-column query returns for key
// into a new T; no row is notFound.
func loadJSON[T any](ctx context.Context, q querier, query, key string, notFound error, what string) (*T, error) {
	doc, err := loadDocBytes(ctx, q, query, key, notFound)
	if err != nil {
		return nil, err
	}
	return decodeJSON[T](doc, key, what)
}

// loadDocBytes reads the document the one-column query returns for key;
// no row is notFound.
func loadDocBytes(ctx context.Context, q querier, query, key string, notFound error) ([]byte, error) {
	var doc []byte
	err := q.QueryRow(ctx, query, key).Scan(&doc)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound
	}
	return doc, err
}

// decodeJSON decodes a stored document into a new T.
func decodeJSON[T any](doc []byte, key, what string) (*T, error) {
	v := new(T)
	if err := json.Unmarshal(doc, v); err != nil {
		return nil, fmt.Errorf("postgres: corrupt %s document %s: %w", what, key, err)
	}
	return v, nil
}

func (db *DB) Alias(ctx context.Context, name string) (*kms.Alias, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	return loadAlias(ctx, db.reader(ctx), name)
}

func loadAlias(ctx context.Context, q querier, name string) (*kms.Alias, error) {
	return loadJSON[kms.Alias](ctx, q, "SELECT doc FROM kms_aliases WHERE name = $1", name, kms.ErrNoSuchAlias, "alias")
}

// UpdateKey holds key id's advisory lock until the unit ends and reads the
// key through the transaction after the lock is granted.
func (db *DB) UpdateKey(ctx context.Context, id string, fn func(cur *kms.Key) (*kms.Key, error)) error {
	return db.write(ctx, "k:"+id, func(ctx context.Context, tx pgx.Tx) error {
		cur, err := loadKey(ctx, tx, id)
		if errors.Is(err, kms.ErrNoSuchKey) {
			cur, err = nil, nil
		}
		if err != nil {
			return err
		}
		// cur was decoded for this call alone: it is fn's private copy.
		next, err := fn(cur)
		switch {
		case err != nil:
			return err
		case next != nil && next == cur:
			return nil // unchanged
		case next == nil:
			if cur == nil {
				return nil
			}
			_, err := tx.Exec(ctx, "DELETE FROM kms_keys WHERE id = $1", id)
			return err
		}
		if next.ID != id {
			return fmt.Errorf("postgres: key %s staged under id %s", next.ID, id)
		}
		if err := db.checkRootKeyIDs(ctx, tx, materialRootKeyIDs(next)...); err != nil {
			return err
		}
		doc, err := json.Marshal(next)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "INSERT INTO kms_keys (id, doc, due_ms) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET doc = excluded.doc, due_ms = excluded.due_ms", id, doc, dueMillis(next))
		return err
	})
}

// materialRootKeyIDs lists the distinct root key ids k's material is
// wrapped by.
func materialRootKeyIDs(k *kms.Key) []string {
	var ids []string
	for _, m := range k.Materials {
		if !slices.Contains(ids, m.RootKeyID) {
			ids = append(ids, m.RootKeyID)
		}
	}
	return ids
}

// dueMillis is the indexed form of k.DueAt (0 = never due).
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

// DueKeys implements kms.Store: keys whose DueAt is set and not after now,
// earliest first (the background job then re-reads each under its lock).
func (db *DB) DueKeys(ctx context.Context, now time.Time, limit int) ([]*kms.Key, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	rows, err := db.reader(ctx).Query(ctx, "SELECT doc FROM kms_keys WHERE due_ms > 0 AND due_ms <= $1 ORDER BY due_ms, id LIMIT $2", now.UnixMilli(), limit)
	if err != nil {
		return nil, err
	}
	return decodeKeys(rows)
}

// UpdateAlias is UpdateKey for aliases.
func (db *DB) UpdateAlias(ctx context.Context, name string, fn func(cur *kms.Alias) (*kms.Alias, error)) error {
	return db.write(ctx, "a:"+name, func(ctx context.Context, tx pgx.Tx) error {
		cur, err := loadAlias(ctx, tx, name)
		if errors.Is(err, kms.ErrNoSuchAlias) {
			cur, err = nil, nil
		}
		if err != nil {
			return err
		}
		next, err := fn(cur)
		switch {
		case err != nil:
			return err
		case next != nil && next == cur:
			return nil
		case next == nil:
			if cur == nil {
				return nil
			}
			_, err := tx.Exec(ctx, "DELETE FROM kms_aliases WHERE name = $1", name)
			return err
		}
		doc, err := json.Marshal(next)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "INSERT INTO kms_aliases (name, doc) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET doc = excluded.doc", name, doc)
		return err
	})
}

func (db *DB) ListKeys(ctx context.Context, after string, limit int) ([]*kms.Key, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	rows, err := db.reader(ctx).Query(ctx, "SELECT doc FROM kms_keys WHERE id > $1 ORDER BY id LIMIT $2", after, limit)
	if err != nil {
		return nil, err
	}
	return decodeKeys(rows)
}

func decodeKeys(rows pgx.Rows) ([]*kms.Key, error) {
	docs, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return nil, err
	}
	out := make([]*kms.Key, 0, len(docs))
	for _, doc := range docs {
		k := new(kms.Key)
		if err := json.Unmarshal(doc, k); err != nil {
			return nil, fmt.Errorf("postgres: corrupt key document: %w", err)
		}
		out = append(out, k)
	}
	return out, nil
}

func (db *DB) ListAliases(ctx context.Context, after string, limit int) ([]*kms.Alias, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	rows, err := db.reader(ctx).Query(ctx, "SELECT doc FROM kms_aliases WHERE name > $1 ORDER BY name LIMIT $2", after, limit)
	if err != nil {
		return nil, err
	}
	docs, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return nil, err
	}
	out := make([]*kms.Alias, 0, len(docs))
	for _, doc := range docs {
		a := new(kms.Alias)
		if err := json.Unmarshal(doc, a); err != nil {
			return nil, fmt.Errorf("postgres: corrupt alias document: %w", err)
		}
		out = append(out, a)
	}
	return out, nil
}
