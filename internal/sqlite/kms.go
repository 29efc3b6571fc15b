package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/coffer-dev/coffer/internal/kms"
)

var _ kms.Store = (*DB)(nil)

// kmsCache caches keys and aliases (there are few). Same discipline as
// secretCache: writers publish after commit; readers fill only if no write
// happened since they started.
type kmsCache struct {
	mu      sync.RWMutex
	keys    map[string]*kms.Key
	aliases map[string]*kms.Alias
	epoch   uint64
}

func (c *kmsCache) init() {
	c.keys = make(map[string]*kms.Key)
	c.aliases = make(map[string]*kms.Alias)
}

func (c *kmsCache) currentEpoch() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.epoch
}

func (db *DB) Key(ctx context.Context, id string) (*kms.Key, error) {
	return cachedDoc(ctx, db, "k:", db.kms.keys, "SELECT doc FROM kms_keys WHERE id = ?", id, kms.ErrNoSuchKey, "key")
}

func (db *DB) Alias(ctx context.Context, name string) (*kms.Alias, error) {
	return cachedDoc(ctx, db, "a:", db.kms.aliases, "SELECT doc FROM kms_aliases WHERE name = ?", name, kms.ErrNoSuchAlias, "alias")
}

// cachedDoc reads a KMS document by key: what the unit in ctx staged under
// prefix+key first, then the cache m, then the database (the one-column
// query), caching what it read unless the cache was cleared meanwhile. No
// document is notFound.
func cachedDoc[T any](ctx context.Context, db *DB, prefix string, m map[string]*T, query, key string, notFound error, what string) (*T, error) {
	if u := db.stagedUnit(ctx); u != nil {
		if v, ok := u.lookup(prefix + key); ok {
			if v.(*T) == nil {
				return nil, notFound
			}
			return v.(*T), nil
		}
	}
	c := &db.kms
	c.mu.RLock()
	v := m[key]
	c.mu.RUnlock()
	if v != nil {
		return v, nil
	}
	e := c.currentEpoch()
	var doc []byte
	err := db.read.QueryRowContext(ctx, query, key).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound
	}
	if err != nil {
		return nil, err
	}
	v = new(T)
	if err := json.Unmarshal(doc, v); err != nil {
		return nil, fmt.Errorf("sqlite: corrupt %s document %s: %w", what, key, err)
	}
	c.mu.Lock()
	if c.epoch == e {
		m[key] = v
	}
	c.mu.Unlock()
	return v, nil
}

func (db *DB) UpdateKey(ctx context.Context, id string, fn func(cur *kms.Key) (*kms.Key, error)) error {
	u, own := db.unitFor(ctx)
	if own {
		defer u.Rollback()
		ctx = context.WithValue(ctx, unitKey{}, u)
	}
	if err := u.lock(ctx, "k:"+id); err != nil {
		return err
	}
	cur, err := db.Key(ctx, id)
	if errors.Is(err, kms.ErrNoSuchKey) {
		cur, err = nil, nil
	}
	if err != nil {
		return err
	}
	var arg *kms.Key
	if cur != nil {
		arg = cur.Clone()
	}
	next, err := fn(arg)
	if err != nil {
		return err
	}
	if next != nil && next == arg {
		// unchanged
	} else if next == nil {
		if cur != nil {
			u.exec("DELETE FROM kms_keys WHERE id = ?", id)
			u.stage("k:"+id, (*kms.Key)(nil))
			db.publishKey(u, id, nil)
		}
	} else {
		if next.ID != id {
			return fmt.Errorf("sqlite: key %s staged under id %s", next.ID, id)
		}
		doc, err := json.Marshal(next)
		if err != nil {
			return err
		}
		u.exec("INSERT INTO kms_keys (id, doc, due_ms) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET doc = excluded.doc, due_ms = excluded.due_ms", id, doc, dueMillis(next))
		u.stage("k:"+id, next)
		db.publishKey(u, id, next)
	}
	if own {
		return u.Commit()
	}
	return nil
}

func (db *DB) publishKey(u *Unit, id string, k *kms.Key) {
	c := &db.kms
	u.after = append(u.after, func() {
		c.mu.Lock()
		c.epoch++
		if k == nil {
			delete(c.keys, id)
		} else {
			c.keys[id] = k
		}
		c.mu.Unlock()
	})
}

func (db *DB) UpdateAlias(ctx context.Context, name string, fn func(cur *kms.Alias) (*kms.Alias, error)) error {
	u, own := db.unitFor(ctx)
	if own {
		defer u.Rollback()
		ctx = context.WithValue(ctx, unitKey{}, u)
	}
	if err := u.lock(ctx, "a:"+name); err != nil {
		return err
	}
	cur, err := db.Alias(ctx, name)
	if errors.Is(err, kms.ErrNoSuchAlias) {
		cur, err = nil, nil
	}
	if err != nil {
		return err
	}
	var arg *kms.Alias
	if cur != nil {
		c := *cur
		arg = &c
	}
	next, err := fn(arg)
	if err != nil {
		return err
	}
	c := &db.kms
	switch {
	case next != nil && next == arg:
	case next == nil:
		if cur != nil {
			u.exec("DELETE FROM kms_aliases WHERE name = ?", name)
			u.stage("a:"+name, (*kms.Alias)(nil))
			u.after = append(u.after, func() {
				c.mu.Lock()
				c.epoch++
				delete(c.aliases, name)
				c.mu.Unlock()
			})
		}
	default:
		doc, err := json.Marshal(next)
		if err != nil {
			return err
		}
		u.exec("INSERT INTO kms_aliases (name, doc) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET doc = excluded.doc", name, doc)
		u.stage("a:"+name, next)
		u.after = append(u.after, func() {
			c.mu.Lock()
			c.epoch++
			c.aliases[name] = next
			c.mu.Unlock()
		})
	}
	if own {
		return u.Commit()
	}
	return nil
}

func (db *DB) ListKeys(ctx context.Context, after string, limit int) ([]*kms.Key, error) {
	return queryDocs[kms.Key](ctx, db, "SELECT doc FROM kms_keys WHERE id > ? ORDER BY id LIMIT ?", after, limit)
}

func (db *DB) ListAliases(ctx context.Context, after string, limit int) ([]*kms.Alias, error) {
	return queryDocs[kms.Alias](ctx, db, "SELECT doc FROM kms_aliases WHERE name > ? ORDER BY name LIMIT ?", after, limit)
}
