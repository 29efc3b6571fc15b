package secrets_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/coffer-dev/coffer/internal/secrets"
)

// TestBatchGetInUnitsNoDeadlock: the edge runs each request in a unit of
// work that holds the locks it took until it commits. Two batch reads of
// the same secrets in opposite orders, each the first read of the day
// (which records LastAccessedDate), must not wait for each other forever.
func TestBatchGetInUnitsNoDeadlock(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var ids []string
	for i := 0; i < 8; i++ {
		n := fmt.Sprintf("dl/%d", i)
		e.create(t, n, tok(1), "v")
		ids = append(ids, n)
	}
	rev := make([]string, len(ids))
	for i, id := range ids {
		rev[len(ids)-1-i] = id
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for round := 0; round < 20; round++ {
			e.clock.Advance(24 * time.Hour) // every round is a new day
			var wg sync.WaitGroup
			for w := 0; w < 4; w++ {
				order := ids
				if w%2 == 1 {
					order = rev
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					ctx, unit := e.db.Begin(e.ctx)
					defer unit.Rollback()
					vals, errs, _, err := e.svc.BatchGet(ctx, secrets.BatchInput{IDs: order}, allow)
					if err != nil || len(errs) != 0 || len(vals) != len(order) {
						t.Errorf("BatchGet: %d values, errors %v, %v", len(vals), errs, err)
						return
					}
					if err := unit.Commit(); err != nil {
						t.Error(err)
					}
				}()
			}
			wg.Wait()
		}
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("concurrent BatchGetSecretValue calls deadlocked")
	}
	want := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC).AddDate(0, 0, 20)
	for _, id := range ids {
		if got := e.lookup(t, id).LastAccessedAt; !got.Equal(want) {
			t.Errorf("%s: LastAccessedAt %v, want %v", id, got, want)
		}
	}
}
