package sqlite

import (
	"context"

	"github.com/coffer-dev/coffer/internal/auditlog"
)

// SetAuditWriteFault makes audit log writes fail with what f returns
// (nil f: no fault).
func SetAuditWriteFault(db *DB, f func() error) { setHook(&db.audit.writeFault, f) }

// SetAuditCommitFault makes the store transaction of batches with audit
// records fail (rolled back) with what f returns, after the log write.
func SetAuditCommitFault(db *DB, f func() error) { setHook(&db.audit.commitFault, f) }

func setHook(p interface{ Store(*func() error) }, f func() error) {
	if f == nil {
		p.Store(nil)
		return
	}
	p.Store(&f)
}

// BreakAuditLog marks the audit log broken (as after a failed erase).
func BreakAuditLog(db *DB, err error) {
	db.com.excl.Lock()
	db.audit.log.MarkBroken(err)
	db.com.excl.Unlock()
}

// StageFailingWrite stages a store write that fails into the unit in ctx.
func StageFailingWrite(ctx context.Context, db *DB) {
	u, _ := db.unitFor(ctx)
	u.exec("INSERT INTO no_such_table (x) VALUES (1)")
}

// StageWrite stages a harmless store write (a meta row) into the unit in ctx.
func StageWrite(ctx context.Context, db *DB, key string) {
	u, _ := db.unitFor(ctx)
	u.exec("INSERT INTO meta (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v", key, []byte("x"))
}

// AuditLogEnd returns where the committed audit log ends.
func AuditLogEnd(db *DB) auditlog.Pos {
	_, end := db.audit.head()
	return end
}

// BreakAuditLogLocked is BreakAuditLog from inside the committer (a hook).
func BreakAuditLogLocked(db *DB, err error) { db.audit.log.MarkBroken(err) }
