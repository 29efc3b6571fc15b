package jobs_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coffer-dev/coffer/internal/jobs"
)

// fakeLeaser grants leases a test controls.
type fakeLeaser struct {
	mu       sync.Mutex
	held     map[string]bool
	err      error
	asked    map[string]int
	released map[string]int
}

func newFake() *fakeLeaser {
	return &fakeLeaser{held: map[string]bool{}, asked: map[string]int{}, released: map[string]int{}}
}

func (f *fakeLeaser) HoldLease(_ context.Context, name string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked[name]++
	return f.held[name], f.err
}

func (f *fakeLeaser) ReleaseLease(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.released[name]++
}

func (f *fakeLeaser) set(name string, held bool, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.held[name], f.err = held, err
}

func (f *fakeLeaser) count(m map[string]int, name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return m[name]
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestRunsOnlyWhileHeld(t *testing.T) {
	l := newFake()
	r := jobs.New(l, quiet)
	var runs atomic.Int32
	r.Add("job", 5*time.Millisecond, func(context.Context) error { runs.Add(1); return nil })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()

	eventually(t, "three lease checks", func() bool { return l.count(l.asked, "job") >= 3 })
	if n := runs.Load(); n != 0 {
		t.Fatalf("ran %d times without the lease", n)
	}
	l.set("job", true, nil)
	eventually(t, "runs while held", func() bool { return runs.Load() >= 3 })
	l.set("job", false, nil)
	// One run may already be past its lease check.
	asked := l.count(l.asked, "job")
	eventually(t, "two more lease checks", func() bool { return l.count(l.asked, "job") >= asked+2 })
	stopped := runs.Load()
	eventually(t, "two more lease checks", func() bool { return l.count(l.asked, "job") >= asked+4 })
	if n := runs.Load(); n != stopped {
		t.Fatalf("ran %d times after losing the lease", n-stopped)
	}
	l.set("job", true, errors.New("database unreachable"))
	asked = l.count(l.asked, "job")
	eventually(t, "lease checks that fail", func() bool { return l.count(l.asked, "job") >= asked+3 })
	if n := runs.Load(); n != stopped {
		t.Fatalf("ran %d times while the lease state was unknown", n-stopped)
	}
	cancel()
	<-done
	if l.count(l.released, "job") != 1 {
		t.Fatalf("released the lease %d times at the end", l.count(l.released, "job"))
	}
}

func TestJobsAreIndependent(t *testing.T) {
	l := newFake()
	l.set("a", true, nil)
	r := jobs.New(l, quiet)
	var a, b atomic.Int32
	block := make(chan struct{})
	r.Add("slow", time.Millisecond, func(ctx context.Context) error {
		select {
		case <-block:
		case <-ctx.Done():
		}
		return nil
	})
	r.Add("a", time.Millisecond, func(context.Context) error { a.Add(1); return errors.New("fails every time") })
	r.Add("b", time.Millisecond, func(context.Context) error { b.Add(1); return nil })
	l.set("slow", true, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	eventually(t, "job a to keep running while another job blocks", func() bool { return a.Load() >= 5 })
	if b.Load() != 0 {
		t.Fatal("job b ran without its lease")
	}
	cancel() // Run returns once the blocked job sees ctx end
	<-done
	close(block)
}

func TestLocal(t *testing.T) {
	var runs atomic.Int32
	r := jobs.New(nil, quiet) // Local: always the holder
	r.Add("job", time.Hour, func(context.Context) error { runs.Add(1); return nil })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	eventually(t, "the first run, right at start", func() bool { return runs.Load() == 1 })
	cancel()
	<-done
}

func TestAddRejectsMistakes(t *testing.T) {
	for name, add := range map[string]func(r *jobs.Runner){
		"duplicate": func(r *jobs.Runner) {
			r.Add("x", time.Second, func(context.Context) error { return nil })
			r.Add("x", time.Second, func(context.Context) error { return nil })
		},
		"zero interval": func(r *jobs.Runner) { r.Add("x", 0, func(context.Context) error { return nil }) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("Add did not panic")
				}
			}()
			add(jobs.New(nil, quiet))
		})
	}
}

func TestPanickingJobKeepsRunner(t *testing.T) {
	var runs atomic.Int32
	r := jobs.New(nil, quiet)
	r.Add("panics", time.Millisecond, func(context.Context) error { runs.Add(1); panic("boom") })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	eventually(t, "runs after a panic", func() bool { return runs.Load() >= 3 })
	cancel()
	<-done
}
