package sqlite

import (
	"context"
	"sort"
	"strings"
	"sync"

	"github.com/coffer-dev/coffer/internal/identity"
)

// docCache holds every IAM document in memory (there are few, and every
// authenticated request reads some). It is loaded on first use and kept
// exactly as fresh as the database: writes update it after their commit,
// under the document's lock.
type docCache struct {
	mu     sync.RWMutex
	loaded bool
	m      map[docID]*identity.Doc
}

// docID keys the cache without building a string per lookup.
type docID struct{ kind, name string }

// docKey is the lock and staging key of a document.
func docKey(kind, name string) string { return "d:" + kind + "\x00" + name }

func (db *DB) loadDocs(ctx context.Context) error {
	c := &db.docs
	c.mu.RLock()
	ok := c.loaded
	c.mu.RUnlock()
	if ok {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.loaded {
		return nil
	}
	rows, err := db.read.QueryContext(ctx, "SELECT kind, name, rev, body FROM iam_docs")
	if err != nil {
		return err
	}
	defer rows.Close()
	m := map[docID]*identity.Doc{}
	for rows.Next() {
		d := new(identity.Doc)
		if err := rows.Scan(&d.Kind, &d.Name, &d.Rev, &d.Body); err != nil {
			return err
		}
		m[docID{d.Kind, d.Name}] = d
	}
	if err := rows.Err(); err != nil {
		return err
	}
	c.m, c.loaded = m, true
	return nil
}

// docIn returns the document as unit u sees it (u may be nil).
func (db *DB) docIn(ctx context.Context, u *Unit, kind, name string) (*identity.Doc, error) {
	if u != nil {
		if v, ok := u.lookup(docKey(kind, name)); ok {
			return v.(*identity.Doc), nil
		}
	}
	if err := db.loadDocs(ctx); err != nil {
		return nil, err
	}
	c := &db.docs
	c.mu.RLock()
	d := c.m[docID{kind, name}]
	c.mu.RUnlock()
	return d, nil
}

// Doc implements identity.Store.
func (db *DB) Doc(ctx context.Context, kind, name string) (*identity.Doc, error) {
	d, err := db.docIn(ctx, db.stagedUnit(ctx), kind, name)
	if err != nil {
		return nil, err
	}
	if d == nil {
		return nil, identity.ErrNoSuchDoc
	}
	return d, nil
}

// UpdateDoc implements identity.Store.
func (db *DB) UpdateDoc(ctx context.Context, kind, name string, fn func(cur *identity.Doc) (*identity.Doc, error)) error {
	u, own := db.unitFor(ctx)
	if own {
		defer u.Rollback()
	}
	key := docKey(kind, name)
	if err := u.lock(ctx, key); err != nil {
		return err
	}
	cur, err := db.docIn(ctx, u, kind, name)
	if err != nil {
		return err
	}
	next, err := fn(cur)
	if err != nil {
		return err
	}
	if next != cur {
		if next == nil {
			u.exec("DELETE FROM iam_docs WHERE kind = ? AND name = ?", kind, name)
		} else {
			n := *next
			n.Kind, n.Name = kind, name
			next = &n
			u.exec("INSERT INTO iam_docs (kind, name, rev, body) VALUES (?, ?, ?, ?) ON CONFLICT (kind, name) DO UPDATE SET rev = excluded.rev, body = excluded.body", kind, name, n.Rev, n.Body)
		}
		u.stage(key, next)
		c := &db.docs
		id := docID{kind, name}
		u.after = append(u.after, func() {
			c.mu.Lock()
			if c.loaded {
				if next == nil {
					delete(c.m, id)
				} else {
					c.m[id] = next
				}
			}
			c.mu.Unlock()
		})
	}
	if own {
		return u.Commit()
	}
	return nil
}

// ListDocs implements identity.Store.
func (db *DB) ListDocs(ctx context.Context, kind string) ([]*identity.Doc, error) {
	if err := db.loadDocs(ctx); err != nil {
		return nil, err
	}
	prefix := docKey(kind, "")
	byKey := map[string]*identity.Doc{}
	c := &db.docs
	c.mu.RLock()
	for k, d := range c.m {
		if k.kind == kind {
			byKey[docKey(k.kind, k.name)] = d
		}
	}
	c.mu.RUnlock()
	if u := db.stagedUnit(ctx); u != nil {
		for k, v := range u.staged {
			if d, ok := v.(*identity.Doc); ok && strings.HasPrefix(k, prefix) {
				if d == nil {
					delete(byKey, k)
				} else {
					byKey[k] = d
				}
			}
		}
	}
	out := make([]*identity.Doc, 0, len(byKey))
	for _, d := range byKey {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
