package kms

import (
	"context"
	"errors"
	"time"
)

// ErrNoSuchKey and ErrNoSuchAlias are what a Store returns for missing
// records. They carry no AWS message; the Service turns them into one.
var (
	ErrNoSuchKey   = errors.New("kms: no such key")
	ErrNoSuchAlias = errors.New("kms: no such alias")
)

// Store persists keys and aliases. Implementations: sqlite, postgres.
//
// Writes made inside a unit of work (see docs/ARCHITECTURE.md) are staged
// into it and become visible to other requests only when it commits; reads
// made with the same context see them.
type Store interface {
	// Key returns the key with this key id (a UUID), or ErrNoSuchKey.
	Key(ctx context.Context, id string) (*Key, error)
	// Alias returns the alias with this name (alias/…), or ErrNoSuchAlias.
	Alias(ctx context.Context, name string) (*Alias, error)

	// UpdateKey runs fn on a private copy of key id (nil if it does not
	// exist) while holding that key's lock, and stores what fn returns:
	// a *Key to create or replace, nil to delete, or the argument itself
	// unchanged (pointer-equal) to write nothing.
	UpdateKey(ctx context.Context, id string, fn func(cur *Key) (*Key, error)) error
	// UpdateAlias is UpdateKey for aliases.
	UpdateAlias(ctx context.Context, name string, fn func(cur *Alias) (*Alias, error)) error

	// ListKeys returns up to limit keys whose ids sort after `after`, in id order.
	ListKeys(ctx context.Context, after string, limit int) ([]*Key, error)
	// ListAliases returns up to limit aliases whose names sort after `after`.
	ListAliases(ctx context.Context, after string, limit int) ([]*Alias, error)

	// DueKeys returns up to limit keys whose DueAt is not zero and not
	// after now, earliest first. The background job (Service.RunDue)
	// rotates or deletes them; a store keeps DueAt indexed (it is derived
	// from the key on every UpdateKey) so that this does not scan.
	DueKeys(ctx context.Context, now time.Time, limit int) ([]*Key, error)

	// Atomic runs fn so that every write it makes through this store
	// commits together or not at all. If ctx already carries a unit of
	// work, fn joins it.
	Atomic(ctx context.Context, fn func(ctx context.Context) error) error
}
