package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"strings"
	"sync"
	"time"

	"github.com/coffer-dev/coffer/internal/secrets"
)

var _ secrets.Store = (*DB)(nil)

// secretCache is the read cache of secret aggregates and sealed payloads.
// Entries change only in a unit's post-commit hook (under the secret's
// lock); a reader that filled it from the database inserts only if no
// writer touched the same shard since it started reading (epochs), so a
// stale read can never overwrite a newer commit.
type secretCache struct {
	mu       sync.RWMutex
	byName   map[string]*secrets.Secret
	byARN    map[string]*secrets.Secret
	payloads map[string][]byte // arn + "\x00" + version id
	epochs   [256]uint64
	seed     maphash.Seed
	max      int
}

func (c *secretCache) init(max int) {
	c.byName = make(map[string]*secrets.Secret)
	c.byARN = make(map[string]*secrets.Secret)
	c.payloads = make(map[string][]byte)
	c.seed = maphash.MakeSeed()
	c.max = max
}

func (c *secretCache) shard(name string) int { return int(maphash.String(c.seed, name) & 255) }

func (c *secretCache) epoch(name string) uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.epochs[c.shard(name)]
}

// fill inserts a secret read from the database unless a writer changed the
// shard since epoch e was read.
func (c *secretCache) fill(s *secrets.Secret, e uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.epochs[c.shard(s.Name)] != e {
		return
	}
	if _, ok := c.byName[s.Name]; ok {
		return
	}
	c.evictLocked()
	c.byName[s.Name] = s
	c.byARN[s.ARN] = s
}

// evictLocked makes room for one more secret: it drops arbitrary entries
// while the cache is full. Dropping is always safe (the next read loads
// from the database).
func (c *secretCache) evictLocked() {
	for len(c.byName) >= c.max {
		for _, old := range c.byName {
			c.dropLocked(old)
			break
		}
	}
}

func (c *secretCache) fillPayload(name, key string, p []byte, e uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.epochs[c.shard(name)] != e {
		return
	}
	for len(c.payloads) >= c.max {
		for k := range c.payloads {
			delete(c.payloads, k)
			break
		}
	}
	c.payloads[key] = p
}

func (c *secretCache) dropLocked(s *secrets.Secret) {
	delete(c.byName, s.Name)
	if c.byARN[s.ARN] == s {
		delete(c.byARN, s.ARN)
	}
}

// set records a committed state: s (nil = deleted) replaces old, and the
// given payload keys are forgotten.
func (c *secretCache) set(name string, old, s *secrets.Secret, payloadKeys []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epochs[c.shard(name)]++
	if cur := c.byName[name]; cur != nil {
		c.dropLocked(cur)
	}
	if old != nil {
		delete(c.byARN, old.ARN)
	}
	for _, k := range payloadKeys {
		delete(c.payloads, k)
	}
	if s != nil {
		// Writes are bounded like reads: creating 100,000 secrets must not
		// keep them all in memory.
		c.evictLocked()
		c.byName[name] = s
		c.byARN[s.ARN] = s
	}
}

func payloadKey(arn, versionID string) string { return arn + "\x00" + versionID }

func (db *DB) SecretByName(ctx context.Context, name string) (*secrets.Secret, error) {
	if u := db.stagedUnit(ctx); u != nil {
		if v, ok := u.lookup("s:" + name); ok {
			if v.(*secrets.Secret) == nil {
				return nil, secrets.ErrNoSuchSecret
			}
			return v.(*secrets.Secret), nil
		}
	}
	c := &db.secrets
	c.mu.RLock()
	s := c.byName[name]
	c.mu.RUnlock()
	if s != nil {
		return s, nil
	}
	e := c.epoch(name)
	s, err := db.loadSecret(ctx, "name", name)
	if err != nil {
		return nil, err
	}
	c.fill(s, e)
	return s, nil
}

func (db *DB) SecretByARN(ctx context.Context, arn string) (*secrets.Secret, error) {
	// The name is the ARN's resource part without the 7-character suffix.
	i := strings.Index(arn, ":secret:")
	if i < 0 || len(arn) < i+8+7 {
		return nil, secrets.ErrNoSuchSecret
	}
	name := arn[i+8 : len(arn)-7]
	if u := db.stagedUnit(ctx); u != nil {
		// The unit's own write of that name decides: deleted, re-created
		// under another ARN, or this secret.
		if v, ok := u.lookup("s:" + name); ok {
			if s := v.(*secrets.Secret); s != nil && s.ARN == arn {
				return s, nil
			}
			return nil, secrets.ErrNoSuchSecret
		}
	}
	c := &db.secrets
	c.mu.RLock()
	s := c.byARN[arn]
	c.mu.RUnlock()
	if s != nil {
		return s, nil
	}
	e := c.epoch(name)
	s, err := db.loadSecret(ctx, "arn", arn)
	if err != nil {
		return nil, err
	}
	c.fill(s, e)
	return s, nil
}

// loadSecret reads one secret (by "name" or "arn") with its access days.
func (db *DB) loadSecret(ctx context.Context, col, val string) (*secrets.Secret, error) {
	var (
		doc      []byte
		accessed int64
		arn      string
	)
	err := db.read.QueryRowContext(ctx, "SELECT arn, accessed_ms, doc FROM secrets WHERE "+col+" = ?", val).Scan(&arn, &accessed, &doc)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, secrets.ErrNoSuchSecret
	}
	if err != nil {
		return nil, err
	}
	s, err := decodeSecret(doc, accessed)
	if err != nil {
		return nil, err
	}
	rows, err := db.read.QueryContext(ctx, "SELECT version_id, accessed_ms FROM secret_versions WHERE arn = ? AND accessed_ms > 0", arn)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var ms int64
		if err := rows.Scan(&id, &ms); err != nil {
			return nil, err
		}
		if v := s.Version(id); v != nil {
			v.LastAccessedAt = time.UnixMilli(ms).UTC()
		}
	}
	return s, rows.Err()
}

func decodeSecret(doc []byte, accessedMS int64) (*secrets.Secret, error) {
	s := new(secrets.Secret)
	if err := json.Unmarshal(doc, s); err != nil {
		return nil, fmt.Errorf("sqlite: corrupt secret document: %w", err)
	}
	if accessedMS > 0 {
		s.LastAccessedAt = time.UnixMilli(accessedMS).UTC()
	}
	return s, nil
}

func (db *DB) Payload(ctx context.Context, arn, versionID string) ([]byte, error) {
	// The key (payloadKey) is built on the stack: a map lookup with
	// string(bytes) does not allocate, so a cache hit allocates nothing.
	var kb [192]byte
	kbytes := append(append(append(kb[:0], arn...), 0), versionID...)
	if u := db.stagedUnit(ctx); u != nil {
		if v, ok := u.lookup("p:" + string(kbytes)); ok {
			if v.([]byte) == nil {
				return nil, secrets.ErrNoSuchSecret
			}
			return v.([]byte), nil
		}
	}
	c := &db.secrets
	c.mu.RLock()
	p := c.payloads[string(kbytes)]
	c.mu.RUnlock()
	if p != nil {
		return p, nil
	}
	key := string(kbytes)
	i := strings.Index(arn, ":secret:")
	if i < 0 || len(arn) < i+8+7 {
		return nil, secrets.ErrNoSuchSecret
	}
	name := arn[i+8 : len(arn)-7]
	e := c.epoch(name)
	err := db.read.QueryRowContext(ctx, "SELECT payload FROM secret_versions WHERE arn = ? AND version_id = ?", arn, versionID).Scan(&p)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, secrets.ErrNoSuchSecret
	}
	if err != nil {
		return nil, err
	}
	c.fillPayload(name, key, p, e)
	return p, nil
}

// current returns the state a unit sees for name: its own staged write, or
// the committed state (nil if none).
func (db *DB) current(ctx context.Context, name string) (*secrets.Secret, error) {
	s, err := db.SecretByName(ctx, name)
	if errors.Is(err, secrets.ErrNoSuchSecret) {
		return nil, nil
	}
	return s, err
}

func (db *DB) Update(ctx context.Context, name string, fn func(cur *secrets.Secret) (*secrets.Change, error)) error {
	u, own := db.unitFor(ctx)
	if own {
		defer u.Rollback()
		ctx = context.WithValue(ctx, unitKey{}, u)
	}
	if err := u.lock(ctx, "s:"+name); err != nil {
		return err
	}
	cur, err := db.current(ctx, name)
	if err != nil {
		return err
	}
	var arg *secrets.Secret
	if cur != nil {
		arg = cur.Clone()
	}
	ch, err := fn(arg)
	if err != nil {
		return err
	}
	if ch != nil {
		if err := db.stageSecret(u, name, cur, ch); err != nil {
			return err
		}
	}
	if own {
		return u.Commit()
	}
	return nil
}

func (db *DB) stageSecret(u *Unit, name string, old *secrets.Secret, ch *secrets.Change) error {
	s := ch.Secret
	var keys []string
	if s == nil {
		if old == nil {
			return nil
		}
		u.exec("DELETE FROM secrets WHERE name = ?", name)
		u.exec("DELETE FROM secret_versions WHERE arn = ?", old.ARN)
		u.stage("s:"+name, (*secrets.Secret)(nil))
		for _, v := range old.Versions {
			k := payloadKey(old.ARN, v.ID)
			keys = append(keys, k)
			u.stage("p:"+k, []byte(nil))
		}
	} else {
		if s.Name != name {
			return fmt.Errorf("sqlite: secret %q staged under name %q", s.Name, name)
		}
		doc, err := json.Marshal(s)
		if err != nil {
			return err
		}
		deleted := 0
		if s.Deleted() {
			deleted = 1
		}
		var purge int64
		if !s.PurgeAt.IsZero() {
			purge = s.PurgeAt.UnixMilli()
		}
		if old != nil && old.ARN != s.ARN {
			u.exec("DELETE FROM secret_versions WHERE arn = ?", old.ARN)
		}
		switch {
		case old != nil && old.ARN == s.ARN && old.CreatedAt.Equal(s.CreatedAt) && old.Deleted() == s.Deleted() && old.PurgeAt.Equal(s.PurgeAt):
			// The same secret, changed: set only what changes, so that SQLite
			// leaves the indexes on arn, created_ms and purge_ms alone (an
			// UPDATE rewrites the index entries of every column it sets).
			u.exec("UPDATE secrets SET changed_ms = ?, doc = ? WHERE name = ?", s.LastChangedAt.UnixMilli(), doc, name)
		default:
			u.exec(`INSERT INTO secrets (name, arn, created_ms, changed_ms, deleted, purge_ms, doc) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET arn = excluded.arn, created_ms = excluded.created_ms, changed_ms = excluded.changed_ms,
			deleted = excluded.deleted, purge_ms = excluded.purge_ms, doc = excluded.doc`,
				name, s.ARN, s.CreatedAt.UnixMilli(), s.LastChangedAt.UnixMilli(), deleted, purge, doc)
		}
		for vid, p := range ch.Payloads {
			u.exec(`INSERT INTO secret_versions (arn, version_id, payload) VALUES (?, ?, ?)
				ON CONFLICT (arn, version_id) DO UPDATE SET payload = excluded.payload`, s.ARN, vid, p)
			k := payloadKey(s.ARN, vid)
			keys = append(keys, k)
			u.stage("p:"+k, p)
		}
		for _, vid := range ch.Drop {
			u.exec("DELETE FROM secret_versions WHERE arn = ? AND version_id = ?", s.ARN, vid)
			k := payloadKey(s.ARN, vid)
			keys = append(keys, k)
			u.stage("p:"+k, []byte(nil))
		}
		u.stage("s:"+name, s)
	}
	c := &db.secrets
	u.after = append(u.after, func() { c.set(name, old, s, keys) })
	return nil
}

func (db *DB) Touch(ctx context.Context, name, arn, versionID string, day time.Time) error {
	u, own := db.unitFor(ctx)
	if own {
		defer u.Rollback()
		ctx = context.WithValue(ctx, unitKey{}, u)
	}
	// Recording the access day is best effort: if another request holds the
	// secret (a writer, or a batch read touching secrets in another order),
	// skip it rather than wait — the next read records the day.
	if !u.tryLock("s:" + name) {
		return nil
	}
	cur, err := db.current(ctx, name)
	if err != nil || cur == nil || cur.ARN != arn {
		return err
	}
	v := cur.Version(versionID)
	if v == nil || cur.LastAccessedAt.Equal(day) && v.LastAccessedAt.Equal(day) {
		return nil
	}
	ms := day.UnixMilli()
	u.exec("UPDATE secrets SET accessed_ms = ? WHERE name = ? AND arn = ?", ms, name, arn)
	u.exec("UPDATE secret_versions SET accessed_ms = ? WHERE arn = ? AND version_id = ?", ms, arn, versionID)
	// The cached aggregate is shared and read-only: publish a copy.
	next := *cur
	next.Versions = append([]secrets.Version(nil), cur.Versions...)
	next.LastAccessedAt = day
	next.Version(versionID).LastAccessedAt = day
	u.stage("s:"+name, &next)
	c := &db.secrets
	u.after = append(u.after, func() { c.set(name, cur, &next, nil) })
	if own {
		return u.Commit()
	}
	return nil
}

var sortColumns = map[secrets.SortKey]string{
	secrets.SortCreated:      "created_ms",
	secrets.SortLastAccessed: "accessed_ms",
	secrets.SortLastChanged:  "changed_ms",
}

func (db *DB) List(ctx context.Context, q secrets.ListQuery) ([]*secrets.Secret, bool, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	col, byValue := sortColumns[q.Sort]
	dir, cmp := "ASC", ">"
	if q.Desc {
		dir, cmp = "DESC", "<"
	}
	var (
		where []string
		args  []any
	)
	if !q.IncludeDeleted {
		where = append(where, "deleted = 0")
	}
	after := q.After
	order := "name " + dir
	if byValue {
		order = col + " " + dir + ", name " + dir
	}
	const chunk = 256
	var page []*secrets.Secret
	for {
		w, a := where, args
		if after != nil {
			if byValue {
				w = append(w, fmt.Sprintf("(%s, name) %s (?, ?)", col, cmp))
				a = append(a, after.Value, after.Name)
			} else {
				w = append(w, "name "+cmp+" ?")
				a = append(a, after.Name)
			}
		}
		query := "SELECT name, created_ms, changed_ms, accessed_ms, doc FROM secrets"
		if len(w) > 0 {
			query += " WHERE " + strings.Join(w, " AND ")
		}
		query += " ORDER BY " + order + fmt.Sprintf(" LIMIT %d", chunk)
		rows, err := db.read.QueryContext(ctx, query, a...)
		if err != nil {
			return nil, false, err
		}
		n := 0
		for rows.Next() {
			n++
			var (
				name                       string
				created, changed, accessed int64
				doc                        []byte
			)
			if err := rows.Scan(&name, &created, &changed, &accessed, &doc); err != nil {
				rows.Close()
				return nil, false, err
			}
			// Prefer the cached aggregate (no decoding), but only if it is
			// the state this row ordered: the page and its cursor must
			// agree with the order the database gave.
			db.secrets.mu.RLock()
			s := db.secrets.byName[name]
			db.secrets.mu.RUnlock()
			var rowValue int64
			switch q.Sort {
			case secrets.SortCreated:
				rowValue = created
			case secrets.SortLastChanged:
				rowValue = changed
			case secrets.SortLastAccessed:
				rowValue = accessed
			}
			if s != nil && byValue && secrets.SortValue(s, q.Sort) != rowValue {
				s = nil
			}
			if s == nil {
				if s, err = decodeSecret(doc, accessed); err != nil {
					rows.Close()
					return nil, false, err
				}
			}
			after = &secrets.Cursor{Value: secrets.SortValue(s, q.Sort), Name: name}
			if q.Match != nil && !q.Match(s) {
				continue
			}
			page = append(page, s)
			if len(page) == limit {
				rows.Close()
				return page, true, nil
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, false, err
		}
		if n < chunk {
			return page, false, nil
		}
	}
}

func (db *DB) DueForPurge(ctx context.Context, now time.Time, limit int) ([]string, error) {
	rows, err := db.read.QueryContext(ctx, "SELECT name FROM secrets WHERE purge_ms > 0 AND purge_ms <= ? ORDER BY purge_ms LIMIT ?", now.UnixMilli(), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		names = append(names, n)
	}
	return names, rows.Err()
}
