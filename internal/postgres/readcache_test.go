package postgres

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/coffer-dev/coffer/internal/identity"
	"github.com/coffer-dev/coffer/internal/kms"
	"github.com/coffer-dev/coffer/internal/postgres/pgtest"
	"github.com/coffer-dev/coffer/internal/secrets"
)

// Node B reads through its read cache inside units of work (as requests
// do); every change committed on node A — or by plain SQL — is seen by
// B's next unit, and unchanged rows come from the cache.
func TestReadCacheAcrossNodes(t *testing.T) {
	dsn := pgtest.Schema(t, pgtest.DSN(t))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a, b := twoNodes(t, ctx, dsn)
	const arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:c-AbCdEf"
	setDesc := func(desc string) {
		t.Helper()
		err := a.Update(ctx, "c", func(cur *secrets.Secret) (*secrets.Change, error) {
			if cur == nil {
				cur = &secrets.Secret{Name: "c", ARN: arn}
			}
			cur.Description = desc
			return &secrets.Change{Secret: cur}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	setKey := func(desc string) {
		t.Helper()
		err := a.UpdateKey(ctx, "k1", func(cur *kms.Key) (*kms.Key, error) {
			if cur == nil {
				cur = &kms.Key{ID: "k1"}
			}
			next := cur.Clone() // the same pointer means unchanged
			next.Description = desc
			return next, nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	setDoc := func(body string) {
		t.Helper()
		err := a.UpdateDoc(ctx, "user", "alice", func(cur *identity.Doc) (*identity.Doc, error) {
			rev := int64(1)
			if cur != nil {
				rev = cur.Rev + 1
			}
			return &identity.Doc{Kind: "user", Name: "alice", Rev: rev, Body: []byte(body)}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// read reads all three on B in one unit, twice (the second from the
	// cache), and returns what it saw.
	read := func() (desc, keyDesc, body string) {
		t.Helper()
		uctx, u := b.Begin(ctx)
		defer u.Rollback()
		for range 2 {
			s, err := b.SecretByName(uctx, "c")
			if err != nil {
				t.Fatal(err)
			}
			if s2, err := b.SecretByARN(uctx, arn); err != nil || s2.Description != s.Description {
				t.Fatalf("by ARN: %v", err)
			}
			k, err := b.Key(uctx, "k1")
			if err != nil {
				t.Fatal(err)
			}
			d, err := b.Doc(uctx, "user", "alice")
			if err != nil {
				t.Fatal(err)
			}
			desc, keyDesc, body = s.Description, k.Description, string(d.Body)
			s.Description, k.Description, d.Body[0] = "mutated by a caller", "mutated", 'X' // callers own what they get
		}
		return
	}
	setDesc("one")
	setKey("key one")
	setDoc(`{"v":1}`)
	if d, k, body := read(); d != "one" || k != "key one" || body != `{"v":1}` {
		t.Fatalf("first read: %q %q %q", d, k, body)
	}
	hits := b.rcache.hits.Load()
	if hits < 4 {
		t.Fatalf("%d cache hits in a unit that read each row twice, want at least 4", hits)
	}
	if d, k, body := read(); d != "one" || k != "key one" || body != `{"v":1}` {
		t.Fatalf("unchanged: %q %q %q", d, k, body)
	}
	if got := b.rcache.hits.Load() - hits; got != 8 {
		t.Fatalf("%d cache hits in a new unit with nothing changed, want 8", got)
	}
	// A change of each kind on A, one at a time.
	setDesc("two")
	if d, _, _ := read(); d != "two" {
		t.Fatalf("B read %q after A's change", d)
	}
	setKey("key two")
	if _, k, _ := read(); k != "key two" {
		t.Fatalf("B read key %q after A's change", k)
	}
	setDoc(`{"v":2}`)
	if _, _, body := read(); body != `{"v":2}` {
		t.Fatalf("B read doc %q after A's change", body)
	}
	// Plain SQL counts too (an operator, another Coffer version).
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `UPDATE kms_keys SET doc = jsonb_set(convert_from(doc, 'UTF8')::jsonb, '{description}', '"by sql"')::text::bytea WHERE id = 'k1'`); err != nil {
		t.Fatal(err)
	}
	if _, k, _ := read(); k != "by sql" {
		t.Fatalf("B read key %q after a change by SQL", k)
	}
	// A deletion on A.
	if err := a.UpdateDoc(ctx, "user", "alice", func(*identity.Doc) (*identity.Doc, error) { return nil, nil }); err != nil {
		t.Fatal(err)
	}
	uctx, u := b.Begin(ctx)
	defer u.Rollback()
	if _, err := b.Doc(uctx, "user", "alice"); !errors.Is(err, identity.ErrNoSuchDoc) {
		t.Fatalf("B read a document A deleted: %v", err)
	}
	// Access keys: a deactivation and a deletion on A are seen at once.
	ak := &identity.AccessKey{ID: "AKIACACHETEST0000001", UserName: "alice", Status: "Active"}
	if err := a.PutAccessKey(ctx, ak); err != nil {
		t.Fatal(err)
	}
	readKey := func() (*identity.AccessKey, error) {
		uctx, u := b.Begin(ctx)
		defer u.Rollback()
		b.AccessKey(uctx, ak.ID)
		return b.AccessKey(uctx, ak.ID)
	}
	if k, err := readKey(); err != nil || k.Status != "Active" {
		t.Fatalf("access key: %v, %v", k, err)
	}
	inactive := *ak
	inactive.Status = "Inactive"
	if err := a.PutAccessKey(ctx, &inactive); err != nil {
		t.Fatal(err)
	}
	if k, err := readKey(); err != nil || k.Status != "Inactive" {
		t.Fatalf("B read access key status %v, %v after A deactivated it", k, err)
	}
	if err := a.DeleteAccessKey(ctx, ak.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := readKey(); !errors.Is(err, identity.ErrNoSuchAccessKey) {
		t.Fatalf("B read an access key A deleted: %v", err)
	}
	// TRUNCATE (coffer restore) fires no row trigger: its own does.
	if _, err := b.Key(uctx, "k1"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "TRUNCATE kms_keys"); err != nil {
		t.Fatal(err)
	}
	uctx, u = b.Begin(ctx)
	defer u.Rollback()
	if _, err := b.Key(uctx, "k1"); !errors.Is(err, kms.ErrNoSuchKey) {
		t.Fatalf("B read a key after TRUNCATE: %v", err)
	}
}
