package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/coffer-dev/coffer/internal/identity"
	"github.com/coffer-dev/coffer/internal/postgres/pgtest"
)

// A node whose lease session dies (as with a network failure) loses its
// leases to another node, and finds out at its next check.
func TestLeaseLostWithSession(t *testing.T) {
	base := pgtest.DSN(t)
	dsn := pgtest.Schema(t, base)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a, b := twoNodes(t, ctx, dsn)
	if ok, err := a.HoldLease(ctx, "job"); !ok || err != nil {
		t.Fatalf("HoldLease = %v, %v", ok, err)
	}
	a.lease.mu.Lock()
	pid := a.lease.conn.PgConn().PID()
	a.lease.mu.Unlock()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var ok bool
	if err := conn.QueryRow(ctx, "SELECT pg_terminate_backend($1)", int32(pid)).Scan(&ok); err != nil || !ok {
		t.Fatalf("pg_terminate_backend = %v, %v", ok, err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		ok, err := b.HoldLease(ctx, "job")
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("node B never got the lease of the ended session")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// A finds out (an error, or not held) and does not get it back.
	for range 2 {
		if ok, _ := a.HoldLease(ctx, "job"); ok {
			t.Fatal("node A still believes it holds the lease")
		}
	}
}

// twoNodes opens two DB handles on dsn, closed when the test ends.
func twoNodes(t *testing.T, ctx context.Context, dsn string) (*DB, *DB) {
	t.Helper()
	var nodes [2]*DB
	for i := range nodes {
		db, err := Open(ctx, dsn, Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		nodes[i] = db
	}
	return nodes[0], nodes[1]
}

func TestFirstSchema(t *testing.T) {
	for in, want := range map[string]string{
		"":                  "",
		"coffer":            "coffer",
		"Coffer, public":    "coffer",
		`"My Schema",x`:     "My Schema",
		`"a""b"`:            `a"b`,
		"$user, public":     "",
		"  spaced ,public ": "spaced",
	} {
		if got := firstSchema(in); got != want {
			t.Errorf("firstSchema(%q) = %q, want %q", in, got, want)
		}
	}
}

// AccessKey returns the same record while the stored bytes are unchanged
// (identity.Service caches signing keys per record) and a new one at once
// after any change.
func TestAccessKeyPointerStability(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := Open(ctx, pgtest.Schema(t, pgtest.DSN(t)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	k := &identity.AccessKey{ID: "AKIASTABLE", Status: "Active", SecretWrapped: []byte{1}}
	if err := db.PutAccessKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	a, err := db.AccessKey(ctx, k.ID)
	if err != nil {
		t.Fatal(err)
	}
	b, err := db.AccessKey(ctx, k.ID)
	if err != nil || a != b {
		t.Fatalf("an unchanged record came back as a new value (%v)", err)
	}
	k.Status = "Inactive"
	if err := db.PutAccessKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	c, err := db.AccessKey(ctx, k.ID)
	if err != nil || c == a || c.Status != "Inactive" {
		t.Fatalf("a changed record: %+v, %v", c, err)
	}
}
