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
	if u := db.stagedUnit(ctx); u != nil {
		if v, ok := u.lookup("k:" + id); ok {
			if v.(*kms.Key) == nil {
				return nil, kms.ErrNoSuchKey
			}
			return v.(*kms.Key), nil
		}
	}
	c := &db.kms
	c.mu.RLock()
	k := c.keys[id]
	c.mu.RUnlock()
	if k != nil {
		return k, nil
	}
	e := c.currentEpoch()
	var doc []byte
	err := db.read.QueryRowContext(ctx, "SELECT doc FROM kms_keys WHERE id = ?", id).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, kms.ErrNoSuchKey
	}
	if err != nil {
		return nil, err
	}
	k = new(kms.Key)
	if err := json.Unmarshal(doc, k); err != nil {
		return nil, fmt.Errorf("sqlite: corrupt key document %s: %w", id, err)
	}
	c.mu.Lock()
	if c.epoch == e {
		c.keys[id] = k
	}
	c.mu.Unlock()
	return k, nil
}

func (db *DB) Alias(ctx context.Context, name string) (*kms.Alias, error) {
	if u := db.stagedUnit(ctx); u != nil {
		if v, ok := u.lookup("a:" + name); ok {
			if v.(*kms.Alias) == nil {
				return nil, kms.ErrNoSuchAlias
			}
			return v.(*kms.Alias), nil
		}
	}
	c := &db.kms
	c.mu.RLock()
	a := c.aliases[name]
	c.mu.RUnlock()
	if a != nil {
		return a, nil
	}
	e := c.currentEpoch()
	var doc []byte
	err := db.read.QueryRowContext(ctx, "SELECT doc FROM kms_aliases WHERE name = ?", name).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, kms.ErrNoSuchAlias
	}
	if err != nil {
		return nil, err
	}
	a = new(kms.Alias)
	if err := json.Unmarshal(doc, a); err != nil {
		return nil, fmt.Errorf("sqlite: corrupt alias document %s: %w", name, err)
	}
	c.mu.Lock()
	if c.epoch == e {
		c.aliases[name] = a
	}
	c.mu.Unlock()
	return a, nil
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
