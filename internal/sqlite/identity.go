package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/coffer-dev/coffer/internal/identity"
)

var _ identity.Store = (*DB)(nil)

// identityCache caches access keys: every authenticated request looks one up.
type identityCache struct {
	mu    sync.RWMutex
	keys  map[string]*identity.AccessKey
	epoch uint64
}

func (db *DB) AccessKey(ctx context.Context, id string) (*identity.AccessKey, error) {
	if u := db.stagedUnit(ctx); u != nil {
		if v, ok := u.lookup("ak:" + id); ok {
			if v.(*identity.AccessKey) == nil {
				return nil, identity.ErrNoSuchAccessKey
			}
			return v.(*identity.AccessKey), nil
		}
	}
	c := &db.ident
	c.mu.RLock()
	k := c.keys[id]
	e := c.epoch
	c.mu.RUnlock()
	if k != nil {
		return k, nil
	}
	var doc []byte
	err := db.read.QueryRowContext(ctx, "SELECT doc FROM access_keys WHERE id = ?", id).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, identity.ErrNoSuchAccessKey
	}
	if err != nil {
		return nil, err
	}
	k = new(identity.AccessKey)
	if err := json.Unmarshal(doc, k); err != nil {
		return nil, fmt.Errorf("sqlite: corrupt access key document: %w", err)
	}
	c.mu.Lock()
	if c.epoch == e {
		if c.keys == nil {
			c.keys = map[string]*identity.AccessKey{}
		}
		if len(c.keys) > 100000 {
			clear(c.keys)
		}
		c.keys[id] = k
	}
	c.mu.Unlock()
	return k, nil
}

func (db *DB) PutAccessKey(ctx context.Context, k *identity.AccessKey) error {
	doc, err := json.Marshal(k)
	if err != nil {
		return err
	}
	return db.identityWrite(ctx, "ak:"+k.ID, k, func(u *Unit) {
		u.exec("INSERT INTO access_keys (id, user_name, doc) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET user_name = excluded.user_name, doc = excluded.doc", k.ID, k.UserName, doc)
	})
}

func (db *DB) DeleteAccessKey(ctx context.Context, id string) error {
	return db.identityWrite(ctx, "ak:"+id, (*identity.AccessKey)(nil), func(u *Unit) {
		u.exec("DELETE FROM access_keys WHERE id = ?", id)
	})
}

// identityWrite stages one access-key write and publishes it to the cache
// after commit.
func (db *DB) identityWrite(ctx context.Context, key string, v *identity.AccessKey, write func(u *Unit)) error {
	u, own := db.unitFor(ctx)
	if own {
		defer u.Rollback()
	}
	if err := u.lock(ctx, key); err != nil {
		return err
	}
	write(u)
	u.stage(key, v)
	id := key[len("ak:"):]
	c := &db.ident
	u.after = append(u.after, func() {
		c.mu.Lock()
		c.epoch++
		if v == nil {
			delete(c.keys, id)
		} else if c.keys != nil {
			c.keys[id] = v
		}
		c.mu.Unlock()
	})
	if own {
		return u.Commit()
	}
	return nil
}

func (db *DB) ListAccessKeys(ctx context.Context, userName string) ([]*identity.AccessKey, error) {
	return queryDocs[identity.AccessKey](ctx, db, "SELECT doc FROM access_keys WHERE user_name = ? ORDER BY id", userName)
}
