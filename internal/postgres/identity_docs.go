package postgres

import (
	"bytes"
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/coffer-dev/coffer/internal/identity"
)

// IAM documents are read through the read cache (readcache.go): a write on
// any node is seen at once. The identity service caches what it compiles
// from a document by its Rev.

func loadDoc(ctx context.Context, q querier, kind, name string) (*identity.Doc, error) {
	d := &identity.Doc{Kind: kind, Name: name}
	err := q.QueryRow(ctx, "SELECT rev, body FROM iam_docs WHERE kind = $1 AND name = $2", kind, name).Scan(&d.Rev, &d.Body)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, identity.ErrNoSuchDoc
	}
	if err != nil {
		return nil, err
	}
	return d, nil
}

// Doc implements identity.Store.
func (db *DB) Doc(ctx context.Context, kind, name string) (*identity.Doc, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	d, err := cached(ctx, db, kindIAM, kind+"\x00"+name, func(q querier) (*identity.Doc, error) {
		return loadDoc(ctx, q, kind, name)
	})
	if err != nil {
		return nil, err
	}
	return &identity.Doc{Kind: d.Kind, Name: d.Name, Rev: d.Rev, Body: bytes.Clone(d.Body)}, nil
}

// UpdateDoc implements identity.Store: the document's advisory lock is held
// until the unit ends (also when nothing is written, which is how
// identity.DocLock serializes IAM writes cluster-wide).
func (db *DB) UpdateDoc(ctx context.Context, kind, name string, fn func(cur *identity.Doc) (*identity.Doc, error)) error {
	return db.write(ctx, "d:"+kind+"\x00"+name, func(ctx context.Context, tx pgx.Tx) error {
		cur, err := loadDoc(ctx, tx, kind, name)
		if errors.Is(err, identity.ErrNoSuchDoc) {
			cur, err = nil, nil
		}
		if err != nil {
			return err
		}
		next, err := fn(cur)
		switch {
		case err != nil:
			return err
		case next == cur:
			return nil
		case next == nil:
			_, err := tx.Exec(ctx, "DELETE FROM iam_docs WHERE kind = $1 AND name = $2", kind, name)
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO iam_docs (kind, name, rev, body) VALUES ($1, $2, $3, $4)
			ON CONFLICT (kind, name) DO UPDATE SET rev = excluded.rev, body = excluded.body`, kind, name, next.Rev, next.Body)
		return err
	})
}

// ListDocs implements identity.Store.
func (db *DB) ListDocs(ctx context.Context, kind string) ([]*identity.Doc, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	rows, err := db.reader(ctx).Query(ctx, "SELECT kind, name, rev, body FROM iam_docs WHERE kind = $1 ORDER BY name", kind)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (*identity.Doc, error) {
		d := new(identity.Doc)
		err := r.Scan(&d.Kind, &d.Name, &d.Rev, &d.Body)
		return d, err
	})
}
