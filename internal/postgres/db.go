// Package postgres implements every Coffer store contract (secrets.Store,
// kms.Store, identity.Store, txn.Beginner, the meta table, cluster leases,
// snapshots and the audit sink: one hash chain for the cluster, see
// audit.go) on a PostgreSQL database shared by any number of Coffer
// nodes.
//
// Nothing is cached across requests that another node could change: every
// read goes to the database (the access-key lookup keeps decoded records
// only while their stored bytes are unchanged). A unit of work is one
// PostgreSQL transaction, begun lazily by its first write; after that the
// unit's reads use the transaction, so it sees its own writes while other
// requests see none of them until it commits. Read-modify-write on one
// record (secrets.Store.Update, kms.Store.UpdateKey/UpdateAlias, Touch)
// holds a transaction-scoped advisory lock on the record's name, so
// concurrent writers on every node are serialized and the callback always
// sees the latest committed state (READ COMMITTED takes a new snapshot per
// statement, and the read follows the lock).
//
// The tables and JSON documents are those of internal/sqlite, so `coffer
// migrate` copies rows unchanged. Several Coffer deployments may share one
// database in different schemas: the first schema of the DSN's search_path
// (created on first start) holds the tables, and every advisory lock key
// includes the schema name.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DefaultTimeout bounds one storage operation when Options.Timeout is 0.
const DefaultTimeout = 5 * time.Second

// defaultMaxConns is the pool size unless the DSN says pool_max_conns.
const defaultMaxConns = 16

// DB is an open Coffer database on PostgreSQL.
type DB struct {
	pool    *pgxpool.Pool
	cfg     *pgxpool.Config
	schema  string
	timeout time.Duration
	log     *slog.Logger

	ak        accessKeyCache
	rcache    readCache // readcache.go
	lease     leaser
	closeOnce sync.Once

	// The audit sink's notifications (audit.go).
	auditNotify   chan struct{}
	auditPollOnce sync.Once
	auditStop     chan struct{}
	auditDone     chan struct{}
	auditGroup    auditGroup
}

// Options tunes a DB. The zero value is fine.
type Options struct {
	Log *slog.Logger
	// Timeout bounds each storage operation — connecting, waiting for a
	// record lock, a statement, a commit — so that requests fail fast
	// while the database is unreachable. 0 means DefaultTimeout. A
	// connect_timeout in the DSN overrides it for connecting.
	Timeout time.Duration
}

// Open connects to the database dsn names (postgres://… or key=value
// form), creates the schema if the DSN's search_path names one that does
// not exist yet, and applies the embedded migrations that have not run
// (once, even when several nodes start together).
func Open(ctx context.Context, dsn string, o Options) (*DB, error) {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx redacts the password in parse errors.
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if cfg.ConnConfig.ConnectTimeout <= 0 {
		cfg.ConnConfig.ConnectTimeout = o.Timeout
	}
	if !strings.Contains(dsn, "pool_max_conns") {
		cfg.MaxConns = defaultMaxConns
	}
	rp := cfg.ConnConfig.RuntimeParams
	if _, ok := rp["application_name"]; !ok {
		rp["application_name"] = "coffer"
	}
	// Server-side safety nets (unless the DSN sets them): a lock wait ends
	// with the storage timeout even if the client is gone, and a
	// transaction left idle — its node hung or cut off mid-request — is
	// ended, releasing its record locks, instead of blocking other nodes.
	if _, ok := rp["lock_timeout"]; !ok {
		rp["lock_timeout"] = strconv.FormatInt(o.Timeout.Milliseconds(), 10)
	}
	if _, ok := rp["idle_in_transaction_session_timeout"]; !ok {
		rp["idle_in_transaction_session_timeout"] = strconv.FormatInt(max(4*o.Timeout, 20*time.Second).Milliseconds(), 10)
	}
	// The first schema of the search path holds the tables; without one,
	// "public" (pinned, so that a "$user" schema can never shadow it).
	schema := firstSchema(cfg.ConnConfig.RuntimeParams["search_path"])
	if schema == "" {
		schema = "public"
		cfg.ConnConfig.RuntimeParams["search_path"] = "public"
	}
	// Health-check idle connections often, so that a pool recovers soon
	// after the database comes back.
	cfg.HealthCheckPeriod = 10 * time.Second
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	db := &DB{pool: pool, cfg: cfg, schema: schema, timeout: o.Timeout, log: o.Log,
		auditNotify: make(chan struct{}, 1), auditStop: make(chan struct{}), auditDone: make(chan struct{}),
		auditGroup: auditGroup{in: make(chan *auditReq, maxAuditGroup), stop: make(chan struct{}), done: make(chan struct{})}}
	mctx, cancel := context.WithTimeout(ctx, 4*o.Timeout)
	defer cancel()
	if err := db.migrate(mctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres %s: migrate: %w", db, err)
	}
	db.lease.init(db)
	return db, nil
}

// String describes the database without credentials: host:port/db (schema).
func (db *DB) String() string {
	c := db.cfg.ConnConfig
	s := c.Host + ":" + strconv.Itoa(int(c.Port)) + "/" + c.Database
	if db.schema != "" {
		s += " (schema " + db.schema + ")"
	}
	return s
}

// Schema is the schema holding Coffer's tables.
func (db *DB) Schema() string { return db.schema }

// Close releases the leases this node holds and closes every connection.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		db.closeAuditGroup()
		close(db.auditStop)
		db.auditPollOnce.Do(func() { close(db.auditDone) }) // no poller started
		<-db.auditDone
		db.lease.close()
		db.pool.Close()
	})
	return nil
}

// firstSchema returns the first schema of a search_path setting ("" if
// none, or if it is "$user").
func firstSchema(path string) string {
	first, _, _ := strings.Cut(path, ",")
	first = strings.TrimSpace(first)
	if len(first) >= 2 && first[0] == '"' && first[len(first)-1] == '"' {
		first = strings.ReplaceAll(first[1:len(first)-1], `""`, `"`)
	} else {
		first = strings.ToLower(first)
	}
	if first == "$user" {
		return ""
	}
	return first
}

// lockKey maps a record key ("s:"+name, …) to a 64-bit advisory lock key
// in this database's schema. A collision only serializes two unrelated
// records.
func (db *DB) lockKey(key string) int64 {
	h := fnv.New64a()
	h.Write([]byte(db.schema))
	h.Write([]byte{0})
	h.Write([]byte(key))
	return int64(h.Sum64())
}

// bound returns ctx limited to the storage timeout.
func (db *DB) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, db.timeout)
}

// migrate applies the embedded migrations not yet applied, all in one
// transaction under an advisory lock, so that nodes starting together
// apply each exactly once; schema_migrations records progress.
func (db *DB) migrate(ctx context.Context) error {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	slices.Sort(names)
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	// Wait for another node's migration as long as ctx allows.
	if _, err := tx.Exec(ctx, "SET LOCAL lock_timeout = 0"); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", db.lockKey("migrate")); err != nil {
		return err
	}
	schema := pgx.Identifier{db.schema}.Sanitize()
	var exists bool
	if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", db.schema).Scan(&exists); err != nil {
		return err
	}
	if !exists {
		if _, err := tx.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
			return fmt.Errorf("create schema: %w", err)
		}
	}
	if _, err := tx.Exec(ctx, "CREATE TABLE IF NOT EXISTS "+schema+`.schema_migrations (
		version INTEGER PRIMARY KEY,
		name TEXT NOT NULL,
		applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`); err != nil {
		return err
	}
	var have int
	if err := tx.QueryRow(ctx, "SELECT COALESCE(max(version), 0) FROM "+schema+".schema_migrations").Scan(&have); err != nil {
		return err
	}
	if have > len(names) {
		return fmt.Errorf("database schema version %d is newer than this Coffer (%d); upgrade Coffer", have, len(names))
	}
	if have == len(names) {
		return nil
	}
	// Migrations name tables without a schema: they land in the first
	// schema of the search path, which this transaction pins.
	if _, err := tx.Exec(ctx, "SELECT set_config('search_path', $1, true)", schema); err != nil {
		return err
	}
	for i := have; i < len(names); i++ {
		body, err := migrations.ReadFile(names[i])
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(names[i], "migrations/")
		if _, err := tx.Exec(ctx, string(body)); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO "+schema+".schema_migrations (version, name) VALUES ($1, $2)", i+1, name); err != nil {
			return err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	db.log.Info("migrated the PostgreSQL schema", "schema", db.schema, "from", have, "to", len(names))
	return nil
}

// querier is what reads need: the pool, or a unit's transaction.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// reader returns the transaction of the unit in ctx if it has begun one
// (so that the unit reads its own writes), else the pool.
func (db *DB) reader(ctx context.Context) querier {
	if u := db.unitIn(ctx); u != nil && u.tx != nil {
		return u.tx
	}
	return db.pool
}

// Meta returns a value from the meta table (nil, nil if absent).
func (db *DB) Meta(ctx context.Context, key string) ([]byte, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	var v []byte
	err := db.reader(ctx).QueryRow(ctx, "SELECT v FROM meta WHERE k = $1", key).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	return v, err
}

// SetMetaIfAbsent stores value under key unless the key exists, and returns
// what is stored afterwards.
func (db *DB) SetMetaIfAbsent(ctx context.Context, key string, value []byte) ([]byte, error) {
	err := db.write(ctx, "", func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, "INSERT INTO meta (k, v) VALUES ($1, $2) ON CONFLICT (k) DO NOTHING", key, value)
		return err
	})
	if err != nil {
		return nil, err
	}
	return db.Meta(ctx, key)
}

// SetMeta stores value under key.
func (db *DB) SetMeta(ctx context.Context, key string, value []byte) error {
	return db.write(ctx, "", func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, "INSERT INTO meta (k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = excluded.v", key, value)
		return err
	})
}
