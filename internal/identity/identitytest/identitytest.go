// Package identitytest is the conformance suite of identity.Store: every
// adapter (sqlite, postgres) runs TestStore against itself.
package identitytest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/coffer-dev/coffer/internal/identity"
	"github.com/coffer-dev/coffer/internal/txn"
)

// Store is what the suite needs: the identity store and its units of work.
type Store interface {
	identity.Store
	txn.Beginner
}

// TestStore runs the document part of the identity.Store contract (Doc,
// UpdateDoc, ListDocs) and the session fields of access keys. newStore
// returns an empty store.
func TestStore(t *testing.T, newStore func(t *testing.T) Store) {
	t.Run("DocLifecycle", func(t *testing.T) { docLifecycle(t, newStore(t)) })
	t.Run("UnitVisibility", func(t *testing.T) { unitVisibility(t, newStore(t)) })
	t.Run("LockHeldUntilCommit", func(t *testing.T) { lockHeld(t, newStore(t)) })
	t.Run("SessionKeys", func(t *testing.T) { sessionKeys(t, newStore(t)) })
}

func put(t *testing.T, s identity.Store, ctx context.Context, kind, name string, rev int64, body string) {
	t.Helper()
	err := s.UpdateDoc(ctx, kind, name, func(cur *identity.Doc) (*identity.Doc, error) {
		return &identity.Doc{Rev: rev, Body: []byte(body)}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func docLifecycle(t *testing.T, s Store) {
	ctx := context.Background()
	if _, err := s.Doc(ctx, identity.DocUser, "alice"); !errors.Is(err, identity.ErrNoSuchDoc) {
		t.Fatalf("missing doc: %v", err)
	}
	put(t, s, ctx, identity.DocUser, "bob", 1, `{"n":"bob"}`)
	put(t, s, ctx, identity.DocUser, "alice", 2, `{"n":"alice"}`)
	put(t, s, ctx, identity.DocRole, "alice", 3, `{"n":"role"}`)
	d, err := s.Doc(ctx, identity.DocUser, "alice")
	if err != nil || d.Rev != 2 || string(d.Body) != `{"n":"alice"}` || d.Kind != identity.DocUser || d.Name != "alice" {
		t.Fatalf("Doc = %+v, %v", d, err)
	}
	list, err := s.ListDocs(ctx, identity.DocUser)
	if err != nil || len(list) != 2 || list[0].Name != "alice" || list[1].Name != "bob" {
		t.Fatalf("ListDocs = %v, %v", list, err)
	}
	// fn sees the current document; returning it writes nothing.
	err = s.UpdateDoc(ctx, identity.DocUser, "alice", func(cur *identity.Doc) (*identity.Doc, error) {
		if cur == nil || cur.Rev != 2 {
			return nil, fmt.Errorf("cur = %+v", cur)
		}
		return cur, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// An error from fn writes nothing.
	boom := errors.New("boom")
	if err := s.UpdateDoc(ctx, identity.DocUser, "alice", func(*identity.Doc) (*identity.Doc, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Fatalf("fn error: %v", err)
	}
	if d, _ := s.Doc(ctx, identity.DocUser, "alice"); d == nil || d.Rev != 2 {
		t.Fatalf("after failed update: %+v", d)
	}
	// Replace, then delete.
	put(t, s, ctx, identity.DocUser, "alice", 4, `{"n":"alice2"}`)
	if d, _ := s.Doc(ctx, identity.DocUser, "alice"); d == nil || d.Rev != 4 || string(d.Body) != `{"n":"alice2"}` {
		t.Fatalf("after replace: %+v", d)
	}
	if err := s.UpdateDoc(ctx, identity.DocUser, "alice", func(*identity.Doc) (*identity.Doc, error) { return nil, nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Doc(ctx, identity.DocUser, "alice"); !errors.Is(err, identity.ErrNoSuchDoc) {
		t.Fatalf("after delete: %v", err)
	}
	if d, err := s.Doc(ctx, identity.DocRole, "alice"); err != nil || d.Rev != 3 {
		t.Fatalf("other kind untouched: %+v %v", d, err)
	}
	// Returning cur when there is none writes nothing.
	if err := s.UpdateDoc(ctx, identity.DocLock, "iam", func(cur *identity.Doc) (*identity.Doc, error) { return cur, nil }); err != nil {
		t.Fatal(err)
	}
	if list, _ := s.ListDocs(ctx, identity.DocLock); len(list) != 0 {
		t.Fatalf("lock doc written: %v", list)
	}
}

func unitVisibility(t *testing.T, s Store) {
	ctx, u := s.Begin(context.Background())
	put(t, s, ctx, identity.DocPolicy, "p", 7, `{}`)
	if d, err := s.Doc(ctx, identity.DocPolicy, "p"); err != nil || d.Rev != 7 {
		t.Fatalf("unit sees its write: %+v %v", d, err)
	}
	if list, _ := s.ListDocs(ctx, identity.DocPolicy); len(list) != 1 {
		t.Fatalf("unit lists its write: %v", list)
	}
	if _, err := s.Doc(context.Background(), identity.DocPolicy, "p"); !errors.Is(err, identity.ErrNoSuchDoc) {
		t.Fatalf("others see an uncommitted write: %v", err)
	}
	u.Rollback()
	if _, err := s.Doc(context.Background(), identity.DocPolicy, "p"); !errors.Is(err, identity.ErrNoSuchDoc) {
		t.Fatalf("rolled back write visible: %v", err)
	}
	ctx, u = s.Begin(context.Background())
	put(t, s, ctx, identity.DocPolicy, "p", 8, `{}`)
	if err := s.UpdateDoc(ctx, identity.DocPolicy, "q", func(cur *identity.Doc) (*identity.Doc, error) { return nil, nil }); err != nil {
		t.Fatal(err)
	}
	if err := u.Commit(); err != nil {
		t.Fatal(err)
	}
	if d, err := s.Doc(context.Background(), identity.DocPolicy, "p"); err != nil || d.Rev != 8 {
		t.Fatalf("committed write: %+v %v", d, err)
	}
}

func lockHeld(t *testing.T, s Store) {
	ctx, u := s.Begin(context.Background())
	if err := s.UpdateDoc(ctx, identity.DocLock, "iam", func(cur *identity.Doc) (*identity.Doc, error) { return cur, nil }); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	got := make(chan time.Time, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		c2, u2 := s.Begin(context.Background())
		defer u2.Rollback()
		if err := s.UpdateDoc(c2, identity.DocLock, "iam", func(cur *identity.Doc) (*identity.Doc, error) { return cur, nil }); err != nil {
			t.Error(err)
		}
		got <- time.Now()
	}()
	time.Sleep(100 * time.Millisecond)
	released := time.Now()
	if err := u.Commit(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if at := <-got; at.Before(released) {
		t.Errorf("a second unit took the lock before the first committed")
	}
}

func sessionKeys(t *testing.T, s Store) {
	ctx := context.Background()
	exp := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	k := &identity.AccessKey{ID: "ASIAAAAAAAAAAAAAAAAA", UserName: identity.SessionOwner, PrincipalARN: "arn:aws:sts::111122223333:assumed-role/r/s",
		Status: "Active", CreatedAt: exp.Add(-time.Hour), SecretWrapped: []byte{1, 2, 3}, RootKeyID: "r",
		Session: &identity.Session{RoleName: "r", RoleARN: "arn:aws:iam::111122223333:role/r", RoleID: "AROAAAAAAAAAAAAAAAAAA", Name: "s",
			TokenHash: []byte{9, 9}, IssuedAt: exp.Add(-time.Hour), Expires: exp, Policy: `{}`, Tags: []identity.Tag{{Key: "a", Value: "b"}}}}
	if err := s.PutAccessKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	got, err := s.AccessKey(ctx, k.ID)
	if err != nil || got.Session == nil || !got.Session.Expires.Equal(exp) || got.Session.Tags[0].Value != "b" || string(got.Session.TokenHash) != "\x09\x09" {
		t.Fatalf("session key round trip: %+v %v", got, err)
	}
	list, err := s.ListAccessKeys(ctx, identity.SessionOwner)
	if err != nil || len(list) != 1 {
		t.Fatalf("ListAccessKeys(SessionOwner) = %v %v", list, err)
	}
	if list, _ := s.ListAccessKeys(ctx, ""); len(list) != 0 {
		t.Fatalf("session keys listed as root keys: %v", list)
	}
}
