// Package pgtest gives tests a PostgreSQL database to work in: the one
// COFFER_TEST_POSTGRES_DSN names (set by `make test`, after
// scripts/test-setup.sh started it), or else a local default that is used
// only if it is reachable.
//
// With COFFER_TEST_POSTGRES_DSN set, an unreachable database fails the test
// instead of skipping it, so the PostgreSQL half of the suite never
// silently disappears from CI.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvDSN names the environment variable holding the test database's DSN.
const EnvDSN = "COFFER_TEST_POSTGRES_DSN"

// DefaultDSN is what scripts/test-setup.sh creates.
const DefaultDSN = "postgres://coffer_test:coffer_test@127.0.0.1:5432/coffer_test?sslmode=disable"

var probes sync.Map // dsn → error (nil = reachable)

// DSN returns the test database's DSN, skipping the test if no database is
// configured or reachable — or failing it when EnvDSN is set.
func DSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(EnvDSN)
	required := dsn != ""
	if dsn == "" {
		dsn = DefaultDSN
	}
	return Reachable(t, dsn, required, EnvDSN)
}

// Reachable returns dsn if a connection succeeds; otherwise it fails the
// test (required) or skips it, naming what to set up.
func Reachable(t testing.TB, dsn string, required bool, what string) string {
	t.Helper()
	v, ok := probes.Load(dsn)
	if !ok {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var err error
		conn, err := pgx.Connect(ctx, dsn)
		if err == nil {
			err = conn.Ping(ctx)
			conn.Close(ctx)
		}
		v, _ = probes.LoadOrStore(dsn, errBox{err})
	}
	if err := v.(errBox).err; err != nil {
		if required {
			t.Fatalf("PostgreSQL (%s) is not reachable: %v (run scripts/test-setup.sh)", what, err)
		}
		t.Skipf("no PostgreSQL reachable (%v); set %s or run scripts/test-setup.sh", err, what)
	}
	return dsn
}

type errBox struct{ err error }

// Schema returns dsn pointed at a new, empty schema (created by the store
// on first open) that is dropped when the test ends.
func Schema(t testing.TB, dsn string) string {
	t.Helper()
	var b [6]byte
	rand.Read(b[:])
	name := "coffer_t_" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "_"))
	name = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' {
			return r
		}
		return '_'
	}, name)
	if len(name) > 40 {
		name = name[:40]
	}
	name += "_" + hex.EncodeToString(b[:])
	t.Cleanup(func() { DropSchema(t, dsn, name) })
	return WithSchema(t, dsn, name)
}

// WithSchema returns dsn with search_path set to schema.
func WithSchema(t testing.TB, dsn, schema string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return dsn + " search_path=" + schema
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// DropSchema drops schema and everything in it.
func DropSchema(t testing.TB, dsn, schema string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Logf("dropping schema %s: %v", schema, err)
		return
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
		t.Logf("dropping schema %s: %v", schema, err)
	}
}
