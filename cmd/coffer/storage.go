package main

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/coffer-dev/coffer/internal/audit"
	"github.com/coffer-dev/coffer/internal/identity"
	"github.com/coffer-dev/coffer/internal/jobs"
	"github.com/coffer-dev/coffer/internal/kms"
	"github.com/coffer-dev/coffer/internal/postgres"
	"github.com/coffer-dev/coffer/internal/secrets"
	"github.com/coffer-dev/coffer/internal/sqlite"
	"github.com/coffer-dev/coffer/internal/txn"
)

// storage is what cmd/coffer needs from a storage adapter: every store
// contract, units of work, cluster leases for background jobs, the meta
// table, and snapshots for migrate/backup/restore. *sqlite.DB and
// *postgres.DB implement it; only this file picks one.
type storage interface {
	secrets.Store
	kms.Store
	identity.Store
	txn.Beginner
	jobs.Leaser
	metaStore
	snapshotter
	auditStorage
	auditCopier
	Close() error
}

// metaStore is the key/value table of facts about the store.
type metaStore interface {
	Meta(ctx context.Context, key string) ([]byte, error)
	SetMetaIfAbsent(ctx context.Context, key string, value []byte) ([]byte, error)
	SetMeta(ctx context.Context, key string, value []byte) error
}

// snapshotter copies every row of a store, still encrypted (see
// internal/sqlite/snapshot.go).
type snapshotter interface {
	Snapshot(ctx context.Context, table func(name string, cols []string, rows int64) error, row func(vals []any) error) error
	Load(ctx context.Context, replace bool, src func(put func(table string, cols []string, vals []any) error) error) error
}

// auditCopier moves an audit log between stores (migrate, backup,
// restore), whatever each store's layout; see copyAudit in snapshot.go.
type auditCopier interface {
	// AuditCheckpoints returns every stored checkpoint, by size.
	AuditCheckpoints(ctx context.Context) ([]audit.StoredCheckpoint, error)
	// AllAuditRecords iterates over the whole log in seq order, as stored
	// (nothing checked). It stops after yielding an error.
	AllAuditRecords(ctx context.Context) iter.Seq2[audit.Record, error]
	// ImportAudit writes a whole log (records from seq 1 and the
	// checkpoints) into the store's audit log, which must be empty
	// (ErrNotEmpty), in one transaction, checking it with
	// audit.CheckImport: an edited, missing or reordered record, or a
	// checkpoint that does not match the records, fails the import and
	// nothing is written.
	ImportAudit(ctx context.Context, recs iter.Seq2[audit.Record, error], cps []audit.StoredCheckpoint) error
}

// readSnapshotter is implemented by stores that other processes write
// while a copy runs (PostgreSQL): within ReadSnapshot, Snapshot,
// AuditHead, AuditCheckpoints and AllAuditRecords read one consistent
// snapshot. A SQLite store needs none: the copying process holds it alone.
type readSnapshotter interface {
	ReadSnapshot(ctx context.Context, fn func(ctx context.Context) error) error
}

var (
	_ readSnapshotter = (*postgres.DB)(nil)
	_ storage         = (*sqlite.DB)(nil)
	_ storage         = (*postgres.DB)(nil)
)

// storageSpec is a parsed --storage value.
type storageSpec struct {
	kind string // "sqlite" or "postgres"
	path string // sqlite: the database file
	dsn  string // postgres: the connection string (may hold a password: never print it)
}

// parseStorage reads a storage location: "" (SQLite in the data dir),
// sqlite://<file-or-data-dir>, or postgres://… / postgresql://….
func parseStorage(spec, dataDir string) (storageSpec, error) {
	switch {
	case spec == "":
		return storageSpec{kind: "sqlite", path: filepath.Join(dataDir, "coffer.db")}, nil
	case strings.HasPrefix(spec, "postgres://"), strings.HasPrefix(spec, "postgresql://"):
		return storageSpec{kind: "postgres", dsn: spec}, nil
	case strings.HasPrefix(spec, "sqlite:"):
		p := strings.TrimPrefix(strings.TrimPrefix(spec, "sqlite:"), "//")
		if p == "" {
			return storageSpec{}, errors.New("sqlite: storage needs a path: sqlite://<data-dir or file.db>")
		}
		// A directory (existing, or not ending in .db) is a data dir.
		if st, err := os.Stat(p); (err == nil && st.IsDir()) || (err != nil && !strings.HasSuffix(p, ".db")) {
			p = filepath.Join(p, "coffer.db")
		}
		return storageSpec{kind: "sqlite", path: p}, nil
	}
	return storageSpec{}, fmt.Errorf("unknown storage %q: use sqlite://<data-dir or file.db> or postgres://user:password@host:port/database", redactSpec(spec))
}

// redactSpec hides anything after a scheme's "//user:" up to "@".
func redactSpec(spec string) string {
	if i := strings.Index(spec, "@"); i >= 0 {
		if j := strings.Index(spec, "://"); j >= 0 && j < i {
			return spec[:j+3] + "…" + spec[i:]
		}
		return "…" + spec[i:]
	}
	return spec
}

// openStorage opens the store a spec names and describes it (without
// credentials) for logs.
func openStorage(ctx context.Context, s storageSpec, timeout time.Duration, log *slog.Logger) (storage, string, error) {
	switch s.kind {
	case "sqlite":
		db, err := sqlite.Open(s.path, sqlite.Options{Log: log})
		if err != nil {
			return nil, "", err
		}
		return db, "sqlite " + s.path, nil
	case "postgres":
		db, err := postgres.Open(ctx, s.dsn, postgres.Options{Log: log, Timeout: timeout})
		if err != nil {
			return nil, "", err
		}
		return db, "postgres " + db.String(), nil
	}
	return nil, "", fmt.Errorf("unknown storage kind %q", s.kind)
}

// openExisting opens a store that must already exist (the source of a
// backup or migration): a missing SQLite file is an error, not a new store.
func openExisting(ctx context.Context, s storageSpec, timeout time.Duration, log *slog.Logger) (storage, string, error) {
	if s.kind == "sqlite" {
		if _, err := os.Stat(s.path); err != nil {
			return nil, "", fmt.Errorf("no Coffer database at %s: %w", s.path, err)
		}
	}
	return openStorage(ctx, s, timeout, log)
}

// envDuration reads a duration from the environment (def if unset).
func envDuration(name string, def time.Duration) (time.Duration, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	return d, nil
}
