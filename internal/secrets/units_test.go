package secrets_test

import (
	"errors"
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

// TestConcurrentLabelMoves: puts with and without stages and AWSCURRENT
// moves race on one secret, each in its own unit as the edge runs them.
// Whatever the interleaving, every label stays on at most one version,
// there is exactly one AWSCURRENT and at most one AWSPREVIOUS, and every
// acknowledged put left its version.
func TestConcurrentLabelMoves(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.create(t, "race", tok(0), "v0")
	var (
		mu    sync.Mutex
		acked []string
		wg    sync.WaitGroup
	)
	for w := 0; w < 6; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 12; i++ {
				ctx, unit := e.db.Begin(e.ctx)
				sec, err := e.svc.Lookup(ctx, "race")
				if err != nil {
					t.Error(err)
					unit.Rollback()
					return
				}
				switch (w + i) % 3 {
				case 0, 1: // a put, half of them pending
					id := tok(1000 + 100*w + i)
					var stages []string
					if i%2 == 0 {
						stages = []string{"AWSPENDING", fmt.Sprintf("W%d", w)}
					}
					if _, err := e.svc.PutValue(ctx, sec, secrets.PutInput{Token: id, Value: *str(id), Stages: stages}); err != nil {
						t.Error(err)
						unit.Rollback()
						return
					}
					if err := unit.Commit(); err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					acked = append(acked, id)
					mu.Unlock()
				case 2: // promote whatever is pending, as a rotation would
					pend, cur := sec.Staged("AWSPENDING"), sec.Staged("AWSCURRENT")
					if pend == nil || cur == nil || pend.ID == cur.ID {
						unit.Rollback()
						continue
					}
					// sec may be stale by now: the service must then refuse.
					_, err := e.svc.UpdateVersionStage(ctx, sec, "AWSCURRENT", pend.ID, cur.ID)
					if err != nil && !errors.Is(err, secrets.ErrInvalidParameter) {
						t.Error(err)
					}
					if err != nil {
						unit.Rollback()
						continue
					}
					if err := unit.Commit(); err != nil {
						t.Error(err)
					}
				}
			}
		}()
	}
	wg.Wait()
	e.checkLabelInvariants(t, "race")
	s := e.lookup(t, "race")
	prev := 0
	for _, v := range s.Versions {
		for _, l := range v.Stages {
			if l == "AWSPREVIOUS" {
				prev++
			}
		}
	}
	if prev > 1 {
		t.Errorf("%d versions carry AWSPREVIOUS", prev)
	}
	for _, id := range acked {
		if s.Version(id) == nil {
			t.Errorf("acknowledged version %s is missing", id)
		} else if got := e.value(t, "race", id, ""); got != id {
			t.Errorf("version %s holds %q", id, got)
		}
	}
}
