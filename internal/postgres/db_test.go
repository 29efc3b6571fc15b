package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/coffer-dev/coffer/internal/envelope"
	"github.com/coffer-dev/coffer/internal/identity"
	"github.com/coffer-dev/coffer/internal/keyring"
	"github.com/coffer-dev/coffer/internal/postgres"
	"github.com/coffer-dev/coffer/internal/postgres/pgtest"
	"github.com/coffer-dev/coffer/internal/secrets"
)

func openDSN(t *testing.T, dsn string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), dsn, postgres.Options{Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func tctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// Nodes starting together apply each migration exactly once.
func TestMigrateConcurrently(t *testing.T) {
	base := pgtest.DSN(t)
	dsn := pgtest.Schema(t, base)
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := postgres.Open(context.Background(), dsn, postgres.Options{Timeout: 30 * time.Second})
			if err == nil {
				db.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	conn, err := pgx.Connect(tctx(t), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n, distinct int
	if err := conn.QueryRow(tctx(t), "SELECT count(*), count(DISTINCT version) FROM schema_migrations").Scan(&n, &distinct); err != nil {
		t.Fatal(err)
	}
	if n != distinct || n == 0 {
		t.Fatalf("schema_migrations: %d rows, %d versions", n, distinct)
	}
}

func addVersion(cur *secrets.Secret, id string) *secrets.Change {
	for i := range cur.Versions {
		v := &cur.Versions[i]
		v.Stages = slices.DeleteFunc(v.Stages, func(l string) bool { return l == secrets.StageCurrent })
	}
	cur.Versions = append(cur.Versions, secrets.Version{ID: id, Stages: []string{secrets.StageCurrent}})
	return &secrets.Change{Secret: cur, Payloads: map[string][]byte{id: []byte(id)}}
}

// Two DB handles on one schema behave like two nodes: no stale reads,
// writers on both serialized on one secret.
func TestTwoNodes(t *testing.T) {
	dsn := pgtest.Schema(t, pgtest.DSN(t))
	a, b := openDSN(t, dsn), openDSN(t, dsn)
	ctx := tctx(t)
	arn := "arn:aws:secretsmanager:us-east-1:123456789012:secret:s-AbCdEf"
	uctx, u := a.Begin(ctx)
	if err := a.Update(uctx, "s", func(*secrets.Secret) (*secrets.Change, error) {
		return &secrets.Change{Secret: &secrets.Secret{Name: "s", ARN: arn}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.SecretByName(ctx, "s"); !errors.Is(err, secrets.ErrNoSuchSecret) {
		t.Fatalf("node B sees node A's uncommitted write: %v", err)
	}
	if err := u.Commit(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.SecretByName(ctx, "s"); err != nil {
		t.Fatalf("node B does not see node A's commit: %v", err)
	}
	// Writers on both nodes.
	var wg sync.WaitGroup
	for n, db := range []*postgres.DB{a, b} {
		for w := range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 5 {
					id := fmt.Sprintf("n%d-w%d-%d", n, w, i)
					if err := db.Update(ctx, "s", func(cur *secrets.Secret) (*secrets.Change, error) { return addVersion(cur, id), nil }); err != nil {
						t.Error(err)
					}
				}
			}()
		}
	}
	wg.Wait()
	for _, db := range []*postgres.DB{a, b} {
		s, err := db.SecretByName(ctx, "s")
		if err != nil {
			t.Fatal(err)
		}
		current := 0
		for _, v := range s.Versions {
			if slices.Contains(v.Stages, secrets.StageCurrent) {
				current++
			}
		}
		if len(s.Versions) != 30 || current != 1 {
			t.Fatalf("%d versions (want 30), %d AWSCURRENT (want 1)", len(s.Versions), current)
		}
	}
}

func TestLeases(t *testing.T) {
	base := pgtest.DSN(t)
	dsn := pgtest.Schema(t, base)
	a, b := openDSN(t, dsn), openDSN(t, dsn)
	other := openDSN(t, pgtest.Schema(t, base))
	ctx := tctx(t)
	hold := func(db *postgres.DB, name string) bool {
		t.Helper()
		ok, err := db.HoldLease(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !hold(a, "purge") || !hold(a, "purge") || !hold(a, "rotate") {
		t.Fatal("node A cannot take free leases")
	}
	if hold(b, "purge") || hold(b, "rotate") {
		t.Fatal("node B holds a lease node A holds")
	}
	if !hold(other, "purge") {
		t.Fatal("a deployment in another schema shares leases")
	}
	// Asking twice does not stack the lock: one release frees it.
	a.ReleaseLease("purge")
	if !hold(b, "purge") {
		t.Fatal("node B cannot take a released lease")
	}
	if hold(a, "purge") {
		t.Fatal("node A took the lease back from node B")
	}
	// Closing (the node stops) frees its leases.
	a.Close()
	if !hold(b, "rotate") {
		t.Fatal("node B cannot take the lease of a stopped node")
	}
}

func TestOpenUnreachableFailsFast(t *testing.T) {
	start := time.Now()
	_, err := postgres.Open(context.Background(), "postgres://u:secretpw@127.0.0.1:1/db?sslmode=disable", postgres.Options{Timeout: time.Second})
	if err == nil {
		t.Fatal("Open of an unreachable database succeeded")
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("Open took %v", d)
	}
	if s := err.Error(); containsAny(s, "secretpw") {
		t.Fatalf("error shows the password: %s", s)
	}
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		for i := 0; i+len(sub) <= len(s); i++ {
			if s[i:i+len(sub)] == sub {
				return true
			}
		}
	}
	return false
}

func TestSnapshotLoad(t *testing.T) {
	base := pgtest.DSN(t)
	src, dst := openDSN(t, pgtest.Schema(t, base)), openDSN(t, pgtest.Schema(t, base))
	ctx := tctx(t)
	if _, err := src.SetMetaIfAbsent(ctx, "account_id", []byte("123456789012")); err != nil {
		t.Fatal(err)
	}
	for i := range 300 {
		name := fmt.Sprintf("s%03d", i)
		if err := src.Update(ctx, name, func(*secrets.Secret) (*secrets.Change, error) {
			return &secrets.Change{Secret: &secrets.Secret{Name: name, ARN: "arn:" + name}, Payloads: map[string][]byte{"v": []byte{byte(i), 0}}}, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	type row struct {
		Table string
		Vals  []any
	}
	dump := func(db *postgres.DB) []row {
		var out []row
		var table string
		var cols []string
		err := db.Snapshot(ctx, func(name string, c []string, n int64) error {
			table, cols = name, c
			return nil
		}, func(vals []any) error {
			if len(vals) != len(cols) {
				t.Fatalf("%s: %d values for %d columns", table, len(vals), len(cols))
			}
			out = append(out, row{table, vals})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	load := func(db *postgres.DB, replace bool, rows []row) error {
		return db.Load(ctx, replace, func(put func(string, []string, []any) error) error {
			var cols = map[string][]string{}
			src.Snapshot(ctx, func(name string, c []string, _ int64) error { cols[name] = c; return nil }, func([]any) error { return nil })
			for _, r := range rows {
				if err := put(r.Table, cols[r.Table], r.Vals); err != nil {
					return err
				}
			}
			return nil
		})
	}
	want := dump(src)
	if len(want) != 1+300+300 {
		t.Fatalf("snapshot has %d rows", len(want))
	}
	if err := load(dst, false, want); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, dump(dst)); d != "" {
		t.Fatalf("after load (-want +got):\n%s", d)
	}
	if err := load(dst, false, want); !errors.Is(err, postgres.ErrNotEmpty) {
		t.Fatalf("load into a non-empty store = %v, want ErrNotEmpty", err)
	}
	if err := load(dst, true, want[:10]); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want[:10], dump(dst)); d != "" {
		t.Fatalf("after replace (-want +got):\n%s", d)
	}
}

// Nodes starting together on an empty database give the account root one
// access key between them, and every node then accepts it.
func TestEnsureRootOnce(t *testing.T) {
	dsn := pgtest.Schema(t, pgtest.DSN(t))
	root, err := keyring.NewRoot(envelope.NewDataKey())
	if err != nil {
		t.Fatal(err)
	}
	const nodes = 4
	dbs := make([]*postgres.DB, nodes)
	for i := range dbs {
		dbs[i] = openDSN(t, dsn)
	}
	ctx := tctx(t)
	created := make([]*identity.Credentials, nodes)
	errs := make([]error, nodes)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, db := range dbs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := identity.New(identity.Config{Store: db, Root: root, Account: "123456789012", Region: "us-east-1"})
			<-start
			errs[i] = db.Atomic(ctx, func(ctx context.Context) error {
				var err error
				created[i], err = id.EnsureRoot(ctx, nil)
				return err
			})
		}()
	}
	close(start)
	wg.Wait()
	var made []*identity.Credentials
	for i := range dbs {
		if errs[i] != nil {
			t.Fatalf("node %d: %v", i, errs[i])
		}
		if created[i] != nil {
			made = append(made, created[i])
		}
	}
	if len(made) != 1 {
		t.Fatalf("%d nodes created a root access key, want exactly 1", len(made))
	}
	for i, db := range dbs {
		keys, err := db.ListAccessKeys(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) != 1 || keys[0].ID != made[0].AccessKeyID {
			t.Fatalf("node %d sees %d root keys, want the one created (%s)", i, len(keys), made[0].AccessKeyID)
		}
	}
}
