package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/coffer-dev/coffer/internal/audit"
	"github.com/coffer-dev/coffer/internal/txn"
)

// maxBatch bounds how many units one group commit takes.
const maxBatch = 512

// op is one staged write. It runs inside the committer's transaction.
type op struct {
	query string
	args  []any
	// fn, when set, runs instead of query (for writes that need the
	// transaction itself).
	fn func(tx *sql.Tx) error
}

// Unit is a unit of work on a DB (see txn.Unit).
type Unit struct {
	db  *DB
	ops []op
	// audit holds the bodies of the unit's audit records (StageAudit),
	// written to the audit log by the committer; auditKeys their lookup
	// keys when every body came with them (StageAuditKeyed; keyless: one
	// did not), which the indexer then uses instead of reading the
	// records back. The arrays back the first record of each.
	audit     [][]byte
	auditKeys []audit.LookupKeys
	keyless   bool
	audit1    [1][]byte
	auditKey1 [1]audit.LookupKeys
	after     []func() // cache updates, run after a successful commit
	// locks held by this unit, released when it finishes.
	locks []string
	// staged holds this unit's own writes so that its reads see them:
	// "s:"+name → *secrets.Secret (nil = deleted), "p:"+arn+"\x00"+vid →
	// []byte (nil = dropped), "k:"+id → *kms.Key, "a:"+name → *kms.Alias.
	staged   map[string]any
	finished bool
	counted  bool // begun with Begin: counted in db.openUnits until finished
	done     chan error
}

var _ txn.Unit = (*Unit)(nil)
var _ txn.Beginner = (*DB)(nil)

type unitKey struct{}

// Begin starts a unit of work and returns a context carrying it.
func (db *DB) Begin(ctx context.Context) (context.Context, txn.Unit) {
	u := db.newUnit()
	u.counted = true
	db.openUnits.Add(1)
	return context.WithValue(ctx, unitKey{}, u), u
}

func (db *DB) newUnit() *Unit { return &Unit{db: db} }

// unitFor returns the unit carried by ctx (own=false) or a new one that the
// caller must finish (own=true).
func (db *DB) unitFor(ctx context.Context) (u *Unit, own bool) {
	if u, ok := ctx.Value(unitKey{}).(*Unit); ok && u.db == db && !u.finished {
		return u, false
	}
	return db.newUnit(), true
}

// stagedUnit returns the unit in ctx, if any, for reads.
func (db *DB) stagedUnit(ctx context.Context) *Unit {
	if u, ok := ctx.Value(unitKey{}).(*Unit); ok && u.db == db && !u.finished && u.staged != nil {
		return u
	}
	return nil
}

// Atomic runs fn with a unit in its context, committing at the end unless
// ctx already carried one (then fn joins it).
func (db *DB) Atomic(ctx context.Context, fn func(ctx context.Context) error) error {
	if _, ok := ctx.Value(unitKey{}).(*Unit); ok {
		return fn(ctx)
	}
	ctx, u := db.Begin(ctx)
	defer u.Rollback()
	if err := fn(ctx); err != nil {
		return err
	}
	return u.Commit()
}

func (u *Unit) exec(query string, args ...any) { u.ops = append(u.ops, op{query: query, args: args}) }

func (u *Unit) stage(key string, v any) {
	if u.staged == nil {
		u.staged = make(map[string]any)
	}
	u.staged[key] = v
}

func (u *Unit) lookup(key string) (any, bool) {
	v, ok := u.staged[key]
	return v, ok
}

// lockWait bounds how long a unit waits for a per-key lock. Units hold
// locks only while they run and commit (milliseconds), so a long wait means
// something is stuck; failing beats hanging.
const lockWait = 10 * time.Second

// errLockTimeout is returned when a lock could not be taken in time.
var errLockTimeout = errors.New("sqlite: timed out waiting for a lock held by another request")

// holds reports whether the unit already holds key.
func (u *Unit) holds(key string) bool {
	for _, k := range u.locks {
		if k == key {
			return true
		}
	}
	return false
}

// lock takes a per-key lock for the rest of the unit's life (re-entrant
// within the unit), waiting at most lockWait.
func (u *Unit) lock(ctx context.Context, key string) error {
	if u.holds(key) {
		return nil
	}
	if u.db.locks.tryLock(key) {
		u.locks = append(u.locks, key)
		return nil
	}
	// Waiting for another unit (which may be in the batch being gathered):
	// not a unit the committer should wait for meanwhile.
	if u.counted {
		u.db.openUnits.Add(-1)
		defer u.db.openUnits.Add(1)
	}
	wctx, cancel := context.WithTimeoutCause(ctx, lockWait, errLockTimeout)
	defer cancel()
	if err := u.db.locks.lock(wctx, key); err != nil {
		if c := context.Cause(wctx); c != nil {
			return c
		}
		return err
	}
	u.locks = append(u.locks, key)
	return nil
}

// tryLock takes a per-key lock only if it is free (or already held by the
// unit); it never waits. For best-effort writes that must not block reads.
func (u *Unit) tryLock(key string) bool {
	if u.holds(key) {
		return true
	}
	if !u.db.locks.tryLock(key) {
		return false
	}
	u.locks = append(u.locks, key)
	return true
}

// Commit group-commits the unit's writes and then releases its locks.
func (u *Unit) Commit() error {
	if u.finished {
		return errors.New("sqlite: unit already finished")
	}
	if len(u.ops) == 0 && len(u.audit) == 0 {
		u.finish(nil)
		return nil
	}
	u.done = make(chan error, 1)
	if err := u.db.com.submit(u); err != nil {
		u.finish(err)
		return err
	}
	return <-u.done
}

// Rollback discards the unit's writes and releases its locks.
func (u *Unit) Rollback() {
	if !u.finished {
		u.finish(errors.New("rolled back"))
	}
}

// finish runs the post-commit cache updates if err is nil, then releases
// the locks (in that order, so that the next holder of a lock sees the
// cache as the database is).
func (u *Unit) finish(err error) {
	if u.finished {
		return
	}
	u.finished = true
	if u.counted {
		u.db.openUnits.Add(-1)
	}
	if err == nil {
		for _, f := range u.after {
			f()
		}
	}
	for i := len(u.locks) - 1; i >= 0; i-- {
		u.db.locks.unlock(u.locks[i])
	}
	u.locks = nil
}

// committer owns the write connection and commits units in batches.
type committer struct {
	db      *DB
	in      chan *Unit
	quit    chan struct{}
	wg      sync.WaitGroup
	mu      sync.RWMutex // guards stopped against submit
	stopped bool
	// commitTime is a moving average of how long a commit takes (only
	// the committer goroutine uses it).
	commitTime time.Duration
	lastBatch  int // size of the previous batch
	// excl is held while a batch commits; an audit import holds it to
	// have the write connection and the audit log to itself.
	excl sync.Mutex
}

var errClosed = errors.New("sqlite: database is closed")

func newCommitter(db *DB) (*committer, error) {
	c := &committer{db: db, in: make(chan *Unit, maxBatch), quit: make(chan struct{})}
	c.wg.Add(1)
	go c.run()
	return c, nil
}

func (c *committer) submit(u *Unit) error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.stopped {
		return errClosed
	}
	c.in <- u
	return nil
}

func (c *committer) stop() {
	c.mu.Lock()
	if c.stopped {
		c.mu.Unlock()
		return
	}
	c.stopped = true
	c.mu.Unlock()
	close(c.quit)
	c.wg.Wait()
}

func (c *committer) run() {
	defer c.wg.Done()
	batch := make([]*Unit, 0, maxBatch)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		var first *Unit
		select {
		case first = <-c.in:
		case <-c.quit:
			// Drain what was submitted before stop.
			for {
				select {
				case u := <-c.in:
					c.excl.Lock()
					c.commit([]*Unit{u})
					c.excl.Unlock()
				default:
					return
				}
			}
		}
		batch = c.fill(append(batch[:0], first), timer)
		t0 := time.Now()
		c.excl.Lock()
		c.commit(batch)
		c.excl.Unlock()
		c.observe(time.Since(t0))
		clear(batch) // let the units (and their audit bodies) go
	}
}

// maxGather bounds how long the committer waits for more units before a
// commit.
const maxGather = 3 * time.Millisecond

// fill adds queued units to batch and, when commits are slow (they wait
// for the disk), waits a little for more. Under load, the units released
// by the previous commit mostly come back at once (their clients send the
// next request), and one fsync for all of them beats several for a few
// each — in wall time and in CPU, since a commit and its fsync cost CPU
// too (measured with the audit trail on, where every request commits:
// 64 connections, ≈ 22 units per commit without waiting, ≈ 55–63 with).
// It waits while fewer units than expected have arrived — the previous
// batch plus what is queued (less the first), or the units begun and not
// finished (openUnits: requests past authentication, about to commit),
// whichever is more — for at most twice the recent commit time (and
// maxGather). A lone client (previous batch 1, nothing else open) never
// waits; when load drops, the expectation follows the batches down.
func (c *committer) fill(batch []*Unit, timer *time.Timer) []*Unit {
	batch = c.drain(batch)
	target := min(maxBatch, max(c.lastBatch+len(batch)-1, int(c.db.openUnits.Load())))
	if window := min(2*c.commitTime, maxGather); len(batch) < target && window > 0 {
		timer.Reset(window)
	wait:
		for len(batch) < target {
			select {
			case u := <-c.in:
				batch = c.drain(append(batch, u))
			case <-timer.C:
				break wait
			}
		}
		timer.Stop()
	}
	c.lastBatch = len(batch)
	return batch
}

// drain adds what is queued, up to maxBatch.
func (c *committer) drain(batch []*Unit) []*Unit {
	for len(batch) < maxBatch {
		select {
		case u := <-c.in:
			batch = append(batch, u)
		default:
			return batch
		}
	}
	return batch
}

// observe keeps a moving average of commit times.
func (c *committer) observe(d time.Duration) {
	c.commitTime += (d - c.commitTime) / 8
}

// commit writes a batch in one transaction. If that fails and the batch has
// more than one unit, each unit is retried alone so that one bad unit
// cannot fail the others.
func (c *committer) commit(batch []*Unit) {
	err := c.commitTx(batch)
	if err != nil && len(batch) > 1 {
		for _, u := range batch {
			c.commit([]*Unit{u})
		}
		return
	}
	if err != nil {
		c.db.log.Error("commit failed", "err", err)
	}
	for _, u := range batch {
		u.finish(err)
		u.done <- err
	}
}

// commitTx commits a batch: its store writes in one SQLite transaction
// and its audit records in one write to the audit log, durable before the
// transaction commits (see audit.go). A batch of records only (reads)
// needs no transaction.
func (c *committer) commitTx(batch []*Unit) error {
	a := c.db.audit
	sqlWork, records := false, 0
	for _, u := range batch {
		sqlWork = sqlWork || len(u.ops) > 0
		records += len(u.audit)
	}
	if records > 0 {
		if err := a.writable(); err != nil {
			return err
		}
	}
	ctx := context.Background()
	var tx *sql.Tx
	if sqlWork {
		var err error
		if tx, err = c.db.write.BeginTx(ctx, nil); err != nil {
			return fmt.Errorf("begin: %w", err)
		}
		for _, u := range batch {
			for _, o := range u.ops {
				if o.fn != nil {
					err = o.fn(tx)
				} else {
					_, err = tx.ExecContext(ctx, o.query, o.args...)
				}
				if err != nil {
					tx.Rollback()
					return err
				}
			}
		}
	}
	if records == 0 {
		stored, err := a.recordHead(ctx, tx)
		if err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("commit: %w", err)
		}
		if stored > 0 {
			a.stored = stored
		}
		return nil
	}
	w, err := a.writeBatch(batch, sqlWork)
	if err != nil {
		if tx != nil {
			tx.Rollback()
		}
		a.failed(w)
		return err
	}
	if sqlWork {
		if err := a.recordBatch(ctx, tx, w); err != nil {
			tx.Rollback()
			a.undo(w)
			return err
		}
		var err error
		if f := a.commitFault.Load(); f != nil {
			if err = (*f)(); err != nil {
				tx.Rollback() // a commit that fails (test hook)
			}
		}
		if err == nil {
			err = tx.Commit()
		}
		if err != nil && !a.landed(ctx, w) {
			if a.log.Broken() == nil {
				a.undo(w)
			}
			return fmt.Errorf("commit: %w", err)
		}
	}
	a.publish(w, sqlWork)
	if a.ix != nil && len(a.mem) > 0 {
		a.ix.enqueue(a.mem, w.pos)
	}
	return nil
}

// lockTable is a set of named mutexes that callers can wait on with a
// context.
type lockTable struct {
	mu sync.Mutex
	m  map[string]*lockEntry
}

type lockEntry struct {
	ch   chan struct{} // holds one token while locked
	refs int
}

func (t *lockTable) lock(ctx context.Context, key string) error {
	t.mu.Lock()
	if t.m == nil {
		t.m = make(map[string]*lockEntry)
	}
	e := t.m[key]
	if e == nil {
		e = &lockEntry{ch: make(chan struct{}, 1)}
		t.m[key] = e
	}
	e.refs++
	t.mu.Unlock()
	select {
	case e.ch <- struct{}{}:
		return nil
	default:
	}
	select {
	case e.ch <- struct{}{}:
		return nil
	case <-ctx.Done():
		t.mu.Lock()
		e.refs--
		if e.refs == 0 {
			delete(t.m, key)
		}
		t.mu.Unlock()
		return ctx.Err()
	}
}

func (t *lockTable) tryLock(key string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = make(map[string]*lockEntry)
	}
	e := t.m[key]
	if e == nil {
		e = &lockEntry{ch: make(chan struct{}, 1)}
		t.m[key] = e
	}
	select {
	case e.ch <- struct{}{}:
		e.refs++
		return true
	default:
		if e.refs == 0 {
			delete(t.m, key)
		}
		return false
	}
}

func (t *lockTable) unlock(key string) {
	t.mu.Lock()
	e := t.m[key]
	<-e.ch
	e.refs--
	if e.refs == 0 {
		delete(t.m, key)
	}
	t.mu.Unlock()
}
