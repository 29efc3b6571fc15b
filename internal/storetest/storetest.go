// Package storetest is the conformance suite of Coffer's store contracts
// (secrets.Store, kms.Store, identity.Store, txn.Beginner, the meta table
// and the audit sink): the behaviour every storage adapter must have, written once and
// run against each adapter (internal/sqlite always, internal/postgres
// whenever a database is reachable).
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) storetest.Stores { … fresh, empty stores … })
//	}
//
// A new contract method gets its tests here, so that every adapter is held
// to the same behaviour.
package storetest

import (
	"context"
	"testing"

	"github.com/coffer-dev/coffer/internal/identity"
	"github.com/coffer-dev/coffer/internal/kms"
	"github.com/coffer-dev/coffer/internal/secrets"
	"github.com/coffer-dev/coffer/internal/txn"
)

// Stores are the contracts one adapter implements, usually all one value.
type Stores struct {
	Secrets  secrets.Store
	KMS      kms.Store
	Identity identity.Store
	Units    txn.Beginner
	// Meta is optional; nil skips the meta tests.
	Meta Meta
	// Audit is the audit sink; nil skips the audit tests.
	Audit AuditStore
	// Peer, if not nil, is a second handle on the same store — another
	// node of a cluster (PostgreSQL) — for tests of concurrent handles.
	Peer *Stores
}

// Meta is the key/value table cmd/coffer keeps facts in (account id,
// region, root-key check value).
type Meta interface {
	Meta(ctx context.Context, key string) ([]byte, error)
	SetMetaIfAbsent(ctx context.Context, key string, value []byte) ([]byte, error)
	SetMeta(ctx context.Context, key string, value []byte) error
}

// Open returns fresh, empty stores for one test and registers their
// cleanup with t.
type Open func(t *testing.T) Stores

// Run runs the whole suite; every subtest opens its own stores.
func Run(t *testing.T, open Open) {
	t.Run("Secrets", func(t *testing.T) { RunSecrets(t, open) })
	t.Run("List", func(t *testing.T) { RunList(t, open) })
	t.Run("Units", func(t *testing.T) { RunUnits(t, open) })
	t.Run("KMS", func(t *testing.T) { RunKMS(t, open) })
	t.Run("Identity", func(t *testing.T) { RunIdentity(t, open) })
	t.Run("Meta", func(t *testing.T) { RunMeta(t, open) })
	t.Run("Concurrency", func(t *testing.T) { RunConcurrency(t, open) })
	t.Run("Audit", func(t *testing.T) { RunAudit(t, open) })
}

// subtests runs each named test with its own stores.
func subtests(t *testing.T, open Open, tests []struct {
	name string
	fn   func(t *testing.T, s Stores)
}) {
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

type test = struct {
	name string
	fn   func(t *testing.T, s Stores)
}
