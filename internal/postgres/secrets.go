package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/coffer-dev/coffer/internal/secrets"
	"github.com/coffer-dev/coffer/internal/txn"
)

var _ secrets.Store = (*DB)(nil)

// selectSecret reads a secret row with the access days of its versions.
const selectSecret = `SELECT s.arn, s.accessed_ms, s.doc,
	ARRAY(SELECT v.version_id FROM secret_versions v WHERE v.arn = s.arn AND v.accessed_ms > 0 ORDER BY v.version_id),
	ARRAY(SELECT v.accessed_ms FROM secret_versions v WHERE v.arn = s.arn AND v.accessed_ms > 0 ORDER BY v.version_id)
	FROM secrets s WHERE `

func (db *DB) SecretByName(ctx context.Context, name string) (*secrets.Secret, error) {
	return db.cachedSecret(ctx, "s.name", name)
}

func (db *DB) SecretByARN(ctx context.Context, arn string) (*secrets.Secret, error) {
	return db.cachedSecret(ctx, "s.arn", arn)
}

// cachedSecret reads a secret through the read cache (readcache.go).
func (db *DB) cachedSecret(ctx context.Context, col, val string) (*secrets.Secret, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	row, err := cached(ctx, db, kindSecrets, col+"\x00"+val, func(q querier) (*secretRow, error) {
		return readSecretRow(ctx, q, col, val)
	})
	if err != nil {
		return nil, err
	}
	return row.decode()
}

// secretRow is a secret's row as read, with the access days of its
// versions.
type secretRow struct {
	arn      string
	accessed int64
	doc      []byte
	ids      []string
	days     []int64
}

func readSecretRow(ctx context.Context, q querier, col, val string) (*secretRow, error) {
	r := new(secretRow)
	err := q.QueryRow(ctx, selectSecret+col+" = $1", val).Scan(&r.arn, &r.accessed, &r.doc, &r.ids, &r.days)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, secrets.ErrNoSuchSecret
	}
	if err != nil {
		return nil, err
	}
	return r, nil
}

// decode returns a new Secret of the row (nothing shared with it).
func (r *secretRow) decode() (*secrets.Secret, error) {
	s, err := decodeSecret(r.doc, r.accessed)
	if err != nil {
		return nil, err
	}
	for i, id := range r.ids {
		if v := s.Version(id); v != nil && i < len(r.days) {
			v.LastAccessedAt = time.UnixMilli(r.days[i]).UTC()
		}
	}
	return s, nil
}

// loadSecret reads one secret (by "s.name" or "s.arn") with its access days.
func loadSecret(ctx context.Context, q querier, col, val string) (*secrets.Secret, error) {
	r, err := readSecretRow(ctx, q, col, val)
	if err != nil {
		return nil, err
	}
	return r.decode()
}

func decodeSecret(doc []byte, accessedMS int64) (*secrets.Secret, error) {
	s := new(secrets.Secret)
	if err := json.Unmarshal(doc, s); err != nil {
		return nil, fmt.Errorf("postgres: corrupt secret document: %w", err)
	}
	if accessedMS > 0 {
		s.LastAccessedAt = time.UnixMilli(accessedMS).UTC()
	}
	return s, nil
}

func (db *DB) Payload(ctx context.Context, arn, versionID string) ([]byte, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	var p []byte
	err := db.reader(ctx).QueryRow(ctx, "SELECT payload FROM secret_versions WHERE arn = $1 AND version_id = $2", arn, versionID).Scan(&p)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, secrets.ErrNoSuchSecret
	}
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Update holds the advisory lock of name until the unit (or its own
// transaction) ends, reads the committed state through the transaction
// after the lock is granted, and writes what fn returns.
func (db *DB) Update(ctx context.Context, name string, fn func(cur *secrets.Secret) (*secrets.Change, error)) error {
	return db.write(ctx, "s:"+name, func(ctx context.Context, tx pgx.Tx) error {
		cur, err := loadSecret(ctx, tx, "s.name", name)
		if errors.Is(err, secrets.ErrNoSuchSecret) {
			cur, err = nil, nil
		}
		if err != nil {
			return err
		}
		oldARN := ""
		if cur != nil {
			oldARN = cur.ARN
		}
		// cur was decoded for this call alone: it is fn's private copy.
		ch, err := fn(cur)
		if err != nil || ch == nil {
			return err
		}
		return writeSecret(ctx, tx, name, oldARN, ch)
	})
}

// writeSecret stages ch for the secret name whose stored ARN is oldARN
// ("" if it does not exist).
func writeSecret(ctx context.Context, tx pgx.Tx, name, oldARN string, ch *secrets.Change) error {
	b := &pgx.Batch{}
	s := ch.Secret
	if s == nil {
		if oldARN == "" {
			return nil
		}
		b.Queue("DELETE FROM secrets WHERE name = $1", name)
		b.Queue("DELETE FROM secret_versions WHERE arn = $1", oldARN)
	} else {
		if s.Name != name {
			return fmt.Errorf("postgres: secret %q staged under name %q", s.Name, name)
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
		if oldARN != "" && oldARN != s.ARN {
			b.Queue("DELETE FROM secret_versions WHERE arn = $1", oldARN)
		}
		b.Queue(`INSERT INTO secrets (name, arn, created_ms, changed_ms, deleted, purge_ms, doc) VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (name) DO UPDATE SET arn = excluded.arn, created_ms = excluded.created_ms, changed_ms = excluded.changed_ms,
			deleted = excluded.deleted, purge_ms = excluded.purge_ms, doc = excluded.doc`,
			name, s.ARN, s.CreatedAt.UnixMilli(), s.LastChangedAt.UnixMilli(), deleted, purge, doc)
		for vid, p := range ch.Payloads {
			b.Queue(`INSERT INTO secret_versions (arn, version_id, payload) VALUES ($1, $2, $3)
				ON CONFLICT (arn, version_id) DO UPDATE SET payload = excluded.payload`, s.ARN, vid, p)
		}
		for _, vid := range ch.Drop {
			b.Queue("DELETE FROM secret_versions WHERE arn = $1 AND version_id = $2", s.ARN, vid)
		}
	}
	return tx.SendBatch(ctx, b).Close()
}

// Touch records a read day, best effort and without waiting: it takes the
// secret's advisory lock only if it is free (as the SQLite adapter does),
// so that units touching several secrets in different orders — two
// BatchGetSecretValue calls — can never deadlock; a skipped day is recorded
// by a later read. Holding the lock, it never waits on row locks either:
// every writer of these rows holds the same lock.
func (db *DB) Touch(ctx context.Context, name, arn, versionID string, day time.Time) error {
	u := db.unitIn(ctx)
	own := u == nil
	if own {
		var t txn.Unit
		ctx, t = db.Begin(ctx)
		u = t.(*Unit)
		defer u.Rollback()
	}
	ctx, cancel := db.bound(ctx)
	defer cancel()
	tx, err := u.transaction(ctx)
	if err != nil {
		return err
	}
	if ok, err := u.tryLock(ctx, "s:"+name); err != nil || !ok {
		return err
	}
	cur, err := loadSecret(ctx, tx, "s.name", name)
	if errors.Is(err, secrets.ErrNoSuchSecret) {
		return nil
	}
	if err != nil {
		return err
	}
	v := cur.Version(versionID)
	if cur.ARN != arn || v == nil || cur.LastAccessedAt.Equal(day) && v.LastAccessedAt.Equal(day) {
		return nil
	}
	ms := day.UnixMilli()
	b := &pgx.Batch{}
	b.Queue("UPDATE secrets SET accessed_ms = $1 WHERE name = $2 AND arn = $3", ms, name, arn)
	b.Queue("UPDATE secret_versions SET accessed_ms = $1 WHERE arn = $2 AND version_id = $3", ms, arn, versionID)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return err
	}
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
	ctx, cancel := db.bound(ctx)
	defer cancel()
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	col, byValue := sortColumns[q.Sort]
	dir, cmp := "ASC", ">"
	if q.Desc {
		dir, cmp = "DESC", "<"
	}
	order := "name " + dir
	if byValue {
		order = col + " " + dir + ", name " + dir
	}
	const chunk = 256
	after := q.After
	var page []*secrets.Secret
	r := db.reader(ctx)
	for {
		var (
			where []string
			args  []any
		)
		if !q.IncludeDeleted {
			where = append(where, "deleted = 0")
		}
		if after != nil {
			if byValue {
				where = append(where, fmt.Sprintf("(%s, name) %s ($1, $2)", col, cmp))
				args = append(args, after.Value, after.Name)
			} else {
				where = append(where, "name "+cmp+" $1")
				args = append(args, after.Name)
			}
		}
		query := "SELECT name, accessed_ms, doc FROM secrets"
		if len(where) > 0 {
			query += " WHERE " + strings.Join(where, " AND ")
		}
		query += " ORDER BY " + order + fmt.Sprintf(" LIMIT %d", chunk)
		rows, err := r.Query(ctx, query, args...)
		if err != nil {
			return nil, false, err
		}
		// Collect the chunk first: a transaction's connection serves one
		// statement at a time, and Match must not hold it.
		type row struct {
			name     string
			accessed int64
			doc      []byte
		}
		var got []row
		for rows.Next() {
			var x row
			if err := rows.Scan(&x.name, &x.accessed, &x.doc); err != nil {
				rows.Close()
				return nil, false, err
			}
			got = append(got, x)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, false, err
		}
		for _, x := range got {
			s, err := decodeSecret(x.doc, x.accessed)
			if err != nil {
				return nil, false, err
			}
			after = &secrets.Cursor{Value: secrets.SortValue(s, q.Sort), Name: x.name}
			if q.Match != nil && !q.Match(s) {
				continue
			}
			page = append(page, s)
			if len(page) == limit {
				return page, true, nil
			}
		}
		if len(got) < chunk {
			return page, false, nil
		}
	}
}

func (db *DB) DueForPurge(ctx context.Context, now time.Time, limit int) ([]string, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	rows, err := db.reader(ctx).Query(ctx, "SELECT name FROM secrets WHERE purge_ms > 0 AND purge_ms <= $1 ORDER BY purge_ms, name LIMIT $2", now.UnixMilli(), limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}
