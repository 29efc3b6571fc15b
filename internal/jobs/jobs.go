// Package jobs runs Coffer's periodic background work (the purge of deleted
// secrets, KMS key rotation and deletion, …) exactly once cluster-wide: a
// job runs on a node only while that node holds the job's lease, which a
// Leaser grants to one node at a time. With the embedded SQLite store
// there is one node and it always holds every lease; on PostgreSQL a lease
// is an advisory lock of the node's database session, so it moves to
// another node when its holder stops, dies or loses the database.
//
//	r := jobs.New(leaser, log)
//	r.Add("purge-deleted-secrets", time.Minute, func(ctx context.Context) error { … })
//	r.Run(ctx) // until ctx ends
//
// Each job's node checks (or takes) the lease at every tick and runs the job
// only when it holds it, so a job runs at most once per tick cluster-wide
// and a new holder starts at its next tick. Jobs must be idempotent: a run
// cut short by a lost lease is redone by the next holder.
package jobs

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Leaser grants cluster-wide leases by name.
type Leaser interface {
	// HoldLease reports whether this node holds the lease name, taking it
	// if it is free. It never waits for another holder. An error means the
	// answer is unknown (the caller treats it as not held).
	HoldLease(ctx context.Context, name string) (bool, error)
	// ReleaseLease gives up the lease name if this node holds it.
	ReleaseLease(name string)
}

// Local is the Leaser of a single node: it always holds every lease.
type Local struct{}

func (Local) HoldLease(context.Context, string) (bool, error) { return true, nil }
func (Local) ReleaseLease(string)                             {}

// Runner runs named periodic jobs under leases.
type Runner struct {
	leaser Leaser
	log    *slog.Logger
	mu     sync.Mutex
	jobs   []job
}

type job struct {
	name  string
	every time.Duration
	fn    func(ctx context.Context) error
}

// New returns a Runner that asks l for leases (nil means Local) and logs
// to log (nil means slog.Default()).
func New(l Leaser, log *slog.Logger) *Runner {
	if l == nil {
		l = Local{}
	}
	if log == nil {
		log = slog.Default()
	}
	return &Runner{leaser: l, log: log}
}

// Add registers a job that runs every `every` (and once right after Run
// starts) on whichever node holds the lease named name. Add before Run.
func (r *Runner) Add(name string, every time.Duration, fn func(ctx context.Context) error) {
	if every <= 0 {
		panic("jobs: non-positive interval for job " + name)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, j := range r.jobs {
		if j.name == name {
			panic("jobs: duplicate job " + name)
		}
	}
	r.jobs = append(r.jobs, job{name: name, every: every, fn: fn})
}

// Run runs every job on its own schedule until ctx ends, then releases the
// leases it holds and returns once no job is running.
func (r *Runner) Run(ctx context.Context) {
	r.mu.Lock()
	jobs := append([]job(nil), r.jobs...)
	r.mu.Unlock()
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.loop(ctx, j)
		}()
	}
	wg.Wait()
}

func (r *Runner) loop(ctx context.Context, j job) {
	defer r.leaser.ReleaseLease(j.name)
	t := time.NewTicker(j.every)
	defer t.Stop()
	failing := false // log an unknown lease state once per outage
	for {
		held, err := r.leaser.HoldLease(ctx, j.name)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			if !failing {
				r.log.Warn("cannot tell who holds a background job's lease; not running it", "job", j.name, "err", err)
				failing = true
			}
		case held:
			failing = false
			r.runOnce(ctx, j)
		default:
			failing = false
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (r *Runner) runOnce(ctx context.Context, j job) {
	start := time.Now()
	defer func() {
		if p := recover(); p != nil {
			r.log.Error("background job panicked", "job", j.name, "panic", p)
		}
	}()
	err := j.fn(ctx)
	if ctx.Err() != nil {
		return
	}
	if err != nil {
		r.log.Error("background job failed", "job", j.name, "err", err)
		return
	}
	r.log.Debug("background job ran", "job", j.name, "duration", time.Since(start))
}
