package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/coffer-dev/coffer/internal/txn"
)

// Unit is a unit of work on a DB (see txn.Unit): one PostgreSQL
// transaction, begun by the unit's first write. A unit is used by one
// goroutine at a time, like the request that owns it.
type Unit struct {
	db   *DB
	conn *pgxpool.Conn // held from the first write until the unit ends
	tx   pgx.Tx        // nil until the first write
	// locks are the advisory lock keys this unit's transaction holds
	// (they are released when it ends).
	locks map[int64]struct{}
	after []func() // run after a successful commit
	// audit holds the records staged by StageAudit; Commit chains and
	// writes them last (audit.go).
	audit    []stagedAudit
	finished bool
	// vers are the data_version counters the unit reads the read cache
	// with (readcache.go), read on its first cached read.
	vers   [numKinds]int64
	versOK bool
}

var (
	_ txn.Unit     = (*Unit)(nil)
	_ txn.Beginner = (*DB)(nil)
)

type unitKey struct{}

// ErrUnitFinished is returned when a finished unit is used again.
var ErrUnitFinished = errors.New("postgres: unit of work already finished")

// Begin starts a unit of work and returns a context carrying it. No
// connection is taken until the unit's first write.
func (db *DB) Begin(ctx context.Context) (context.Context, txn.Unit) {
	u := &Unit{db: db}
	return context.WithValue(ctx, unitKey{}, u), u
}

// unitIn returns the live unit of this DB carried by ctx, or nil.
func (db *DB) unitIn(ctx context.Context) *Unit {
	if u, ok := ctx.Value(unitKey{}).(*Unit); ok && u.db == db && !u.finished {
		return u
	}
	return nil
}

// Atomic runs fn with a unit in its context, committing at the end unless
// ctx already carried one (then fn joins it).
func (db *DB) Atomic(ctx context.Context, fn func(ctx context.Context) error) error {
	if db.unitIn(ctx) != nil {
		return fn(ctx)
	}
	ctx, u := db.Begin(ctx)
	defer u.Rollback()
	if err := fn(ctx); err != nil {
		return err
	}
	return u.Commit()
}

// transaction returns the unit's transaction, beginning it if needed.
func (u *Unit) transaction(ctx context.Context) (pgx.Tx, error) {
	if u.finished {
		return nil, ErrUnitFinished
	}
	if u.tx == nil {
		c, err := u.db.pool.Acquire(ctx)
		if err != nil {
			return nil, err
		}
		tx, err := c.Begin(ctx)
		if err != nil {
			c.Release()
			return nil, err
		}
		u.conn, u.tx = c, tx
	}
	return u.tx, nil
}

// lock takes the advisory lock of key for the rest of the transaction
// (re-entrant within the unit).
func (u *Unit) lock(ctx context.Context, key string) error {
	k := u.db.lockKey(key)
	if _, ok := u.locks[k]; ok {
		return nil
	}
	if _, err := u.tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", k); err != nil {
		return err
	}
	if u.locks == nil {
		u.locks = make(map[int64]struct{})
	}
	u.locks[k] = struct{}{}
	return nil
}

// tryLock takes the advisory lock of key only if it is free (or already
// held by this unit); it never waits.
func (u *Unit) tryLock(ctx context.Context, key string) (bool, error) {
	k := u.db.lockKey(key)
	if _, ok := u.locks[k]; ok {
		return true, nil
	}
	var ok bool
	if err := u.tx.QueryRow(ctx, "SELECT pg_try_advisory_xact_lock($1)", k).Scan(&ok); err != nil || !ok {
		return false, err
	}
	if u.locks == nil {
		u.locks = make(map[int64]struct{})
	}
	u.locks[k] = struct{}{}
	return true, nil
}

// Commit commits the unit's transaction (if it began one) and releases
// its locks. Staged audit records are chained and written by the
// transaction's last statement, sent with the COMMIT in one round trip
// (see audit.go); the records of a unit with no other write are committed
// by the node's audit group commit, with those of other such units.
func (u *Unit) Commit() error {
	if u.finished {
		return ErrUnitFinished
	}
	u.finished = true
	if u.tx == nil && len(u.audit) == 0 {
		u.done()
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), u.db.timeout)
	defer cancel()
	var err error
	switch {
	case u.tx == nil: // audit records only: with other such units
		err = u.db.commitAuditAlone(u.audit)
	case len(u.audit) == 0:
		err = u.tx.Commit(ctx)
		u.conn.Release()
	default:
		b := auditBatch(u.audit)
		b.Queue("COMMIT")
		err = u.conn.SendBatch(ctx, b).Close()
		// The transaction ended with the batch's COMMIT unless a statement
		// failed (then the server skipped the rest): roll back what is left.
		if st := u.conn.Conn().PgConn().TxStatus(); err != nil && st != 'I' && !u.conn.Conn().IsClosed() {
			u.conn.Exec(ctx, "ROLLBACK")
		}
		u.conn.Release()
	}
	u.tx, u.conn = nil, nil
	if err != nil {
		return err
	}
	u.done()
	return nil
}

// done runs the after-commit functions.
func (u *Unit) done() {
	for _, f := range u.after {
		f()
	}
}

// Rollback discards the unit's writes and releases its locks.
func (u *Unit) Rollback() {
	if u.finished {
		return
	}
	u.finished = true
	if u.tx != nil {
		ctx, cancel := context.WithTimeout(context.Background(), u.db.timeout)
		defer cancel()
		u.tx.Rollback(ctx)
		u.conn.Release()
		u.tx, u.conn = nil, nil
	}
}

// write runs fn in the transaction of the unit in ctx (joining it) or, if
// ctx carries none, in a transaction of its own that commits when fn
// succeeds. With lockKey != "" it first takes that record's advisory lock,
// held until the transaction ends. fn's ctx carries the unit, so store
// calls made with it join the same transaction; it is bounded by the
// storage timeout.
//
// This is the one write path of the adapter: new store methods (IAM
// records, audit appends, …) stage their writes through it.
func (db *DB) write(ctx context.Context, lockKey string, fn func(ctx context.Context, tx pgx.Tx) error) error {
	u := db.unitIn(ctx)
	own := u == nil
	if own {
		var t txn.Unit
		ctx, t = db.Begin(ctx)
		u = t.(*Unit)
		defer u.Rollback()
	}
	bctx, cancel := db.bound(ctx)
	defer cancel()
	tx, err := u.transaction(bctx)
	if err != nil {
		return err
	}
	if lockKey != "" {
		if err := u.lock(bctx, lockKey); err != nil {
			return err
		}
	}
	if err := fn(bctx, tx); err != nil {
		return err
	}
	if own {
		return u.Commit()
	}
	return nil
}
