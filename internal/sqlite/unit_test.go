package sqlite

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestLockTable(t *testing.T) {
	var lt lockTable
	ctx := context.Background()
	if err := lt.lock(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if lt.tryLock("a") {
		t.Fatal("tryLock took a held lock")
	}
	if !lt.tryLock("b") {
		t.Fatal("tryLock failed on a free lock")
	}
	wctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := lt.lock(wctx, "a"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("lock on held key: %v", err)
	}
	got := make(chan error, 1)
	go func() { got <- lt.lock(ctx, "a") }()
	time.Sleep(10 * time.Millisecond)
	lt.unlock("a")
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	lt.unlock("a")
	lt.unlock("b")
	if len(lt.m) != 0 {
		t.Fatalf("lock table leaks entries: %v", lt.m)
	}
}

// Two units touching the same secrets in opposite orders (as two
// BatchGetSecretValue calls can) must not deadlock: Touch never waits.
func TestTouchNeverWaits(t *testing.T) {
	db, err := Open(t.TempDir()+"/c.db", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	c1, u1 := db.Begin(ctx)
	c2, u2 := db.Begin(ctx)
	defer u1.Rollback()
	defer u2.Rollback()
	if err := db.Touch(c1, "x", "arn:x", "v", time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := db.Touch(c2, "y", "arn:y", "v", time.Now()); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		db.Touch(c1, "y", "arn:y", "v", time.Now())
		db.Touch(c2, "x", "arn:x", "v", time.Now())
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Touch waited for a lock")
	}
}

func TestLockWaitBounded(t *testing.T) {
	db, err := Open(t.TempDir()+"/c.db", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	u := db.newUnit()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := db.locks.lock(ctx, "s:held"); err != nil {
		t.Fatal(err)
	}
	defer db.locks.unlock("s:held")
	wctx, wcancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer wcancel()
	if err := u.lock(wctx, "s:held"); err == nil {
		t.Fatal("took a held lock")
	}
}
