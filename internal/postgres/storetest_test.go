package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/coffer-dev/coffer/internal/identity/identitytest"
	"github.com/coffer-dev/coffer/internal/postgres"
	"github.com/coffer-dev/coffer/internal/postgres/pgtest"
	"github.com/coffer-dev/coffer/internal/storetest"
)

// open opens a store on a fresh schema of the test database.
func open(t *testing.T) (*postgres.DB, string) {
	t.Helper()
	dsn := pgtest.Schema(t, pgtest.DSN(t))
	db, err := postgres.Open(context.Background(), dsn, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, dsn
}

// TestConformance runs the store conformance suite on PostgreSQL. The
// subtests share one migrated schema (creating one costs a few hundred
// milliseconds here), emptied before each, with a new DB handle each.
func TestConformance(t *testing.T) {
	first, dsn := open(t)
	first.Close()
	// Commits need not wait for the disk in this suite: visibility and
	// locking are the same either way.
	dsn += "&synchronous_commit=off"
	storetest.Run(t, func(t *testing.T) storetest.Stores {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		_, err = conn.Exec(ctx, `DELETE FROM meta; DELETE FROM secrets; DELETE FROM secret_versions; DELETE FROM kms_keys;
			DELETE FROM kms_aliases; DELETE FROM access_keys; DELETE FROM iam_docs;
			DELETE FROM audit_records; DELETE FROM audit_resources; DELETE FROM audit_checkpoints;
			UPDATE audit_state SET state = decode('01' || repeat('00', 40), 'hex')`)
		conn.Close(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var nodes [2]*postgres.DB
		for i := range nodes {
			db, err := postgres.Open(ctx, dsn, postgres.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			nodes[i] = db
		}
		a, b := nodes[0], nodes[1]
		return storetest.Stores{Secrets: a, KMS: a, Identity: a, Units: a, Meta: a, Audit: a,
			Peer: &storetest.Stores{Secrets: b, KMS: b, Identity: b, Units: b, Meta: b, Audit: b}}
	})
}

// TestIdentityStore runs the identity documents suite on PostgreSQL.
func TestIdentityStore(t *testing.T) {
	identitytest.TestStore(t, func(t *testing.T) identitytest.Store {
		db, _ := open(t)
		return db
	})
}
