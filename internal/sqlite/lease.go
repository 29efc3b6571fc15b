package sqlite

import "context"

// HoldLease implements jobs.Leaser: one process owns the database (the
// lock file enforces it), so it always holds every cluster lease.
func (db *DB) HoldLease(context.Context, string) (bool, error) { return true, nil }

// ReleaseLease implements jobs.Leaser (nothing to release).
func (db *DB) ReleaseLease(string) {}
