// Package txn is the contract of a unit of work: the set of writes one
// request makes, committed together or not at all (see
// docs/ARCHITECTURE.md, "Units of work").
//
// A storage adapter implements Beginner. The unit travels in the context;
// every store method of that adapter called with the context stages its
// writes into the unit and sees the unit's own staged writes. Nothing
// staged is visible to other requests until Commit returns nil.
package txn

import "context"

// Unit is one unit of work.
type Unit interface {
	// Commit makes every staged write durable, atomically, and releases
	// the unit's locks. After Commit the unit is finished.
	Commit() error
	// Rollback discards staged writes and releases locks. It is a no-op on
	// a finished unit, so `defer u.Rollback()` is always safe.
	Rollback()
}

// Beginner starts units of work.
type Beginner interface {
	// Begin returns a context carrying a new unit, and the unit.
	Begin(ctx context.Context) (context.Context, Unit)
}
