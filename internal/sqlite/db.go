// Package sqlite implements every Coffer store contract (secrets.Store,
// kms.Store, identity.Store, the audit sink) on one embedded SQLite
// database, the default storage.
//
// One process owns the database file (a lock file enforces it), which lets
// the adapter keep a read cache that is exactly as fresh as the database:
// the cache changes only after a commit, under the same per-key lock the
// writer holds. All writes go through a single committer goroutine that
// group-commits units of work (one fsync for many requests); see
// docs/ARCHITECTURE.md.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"

	_ "github.com/mattn/go-sqlite3" // registers the "sqlite3" driver (cgo, bundled SQLite)

	"github.com/coffer-dev/coffer/internal/auditlog"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is an open Coffer database.
type DB struct {
	path     string
	auditDir string
	lockf    *os.File
	write    *sql.DB // one connection, used only by the committer
	read     *sql.DB // a pool for reads
	log      *slog.Logger

	com     *committer
	locks   lockTable
	secrets secretCache
	kms     kmsCache
	ident   identityCache
	docs    docCache
	audit   *auditLog
	// openUnits counts the units begun (Begin) and not yet finished: the
	// committer waits a little for those when it gathers a batch.
	openUnits atomic.Int64
}

// Options tunes a DB. The zero value is fine.
type Options struct {
	Log *slog.Logger
	// CacheSecrets bounds how many secrets (and as many payloads) the read
	// cache keeps; 0 means 20,000.
	CacheSecrets int
	// AuditLog tunes the audit log's segments (zero: the defaults). The
	// log lives in AuditDir(path).
	AuditLog auditlog.Options
}

// ErrLocked means another process has the database open.
var ErrLocked = errors.New("the database is in use by another Coffer process")

// Open opens (creating if needed) the database at path and migrates it.
func Open(path string, o Options) (*DB, error) {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	lockf, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(lockf.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lockf.Close()
		return nil, fmt.Errorf("%s: %w", path, ErrLocked)
	}
	// Create the file with owner-only permissions before SQLite does.
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600); err == nil {
		f.Close()
	}
	dsn := "file:" + path + "?_journal_mode=WAL&_synchronous=FULL&_busy_timeout=10000&_foreign_keys=on&_txlock=immediate&_stmt_cache_size=64"
	w, err := sql.Open("sqlite3", dsn)
	if err != nil {
		lockf.Close()
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	r, err := sql.Open("sqlite3", dsn+"&mode=ro")
	if err != nil {
		w.Close()
		lockf.Close()
		return nil, err
	}
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	db := &DB{path: path, auditDir: AuditDir(path), lockf: lockf, write: w, read: r, log: o.Log}
	if err := db.migrate(context.Background()); err != nil {
		db.closeHandles()
		return nil, fmt.Errorf("migrate %s: %w", path, err)
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Chmod(path+suffix, 0o600)
	}
	if _, err := w.Exec("PRAGMA wal_autocheckpoint = 4000"); err != nil {
		db.closeHandles()
		return nil, err
	}
	n := o.CacheSecrets
	if n <= 0 {
		n = 20000
	}
	db.secrets.init(n)
	db.kms.init()
	if err := db.openAudit(context.Background(), o.AuditLog); err != nil {
		db.closeHandles()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if _, err := db.startIndexer(context.Background()); err != nil {
		db.audit.close()
		db.closeHandles()
		return nil, fmt.Errorf("%s: audit index: %w", path, err)
	}
	db.com, err = newCommitter(db)
	if err != nil {
		db.audit.ix.stop()
		db.audit.close()
		db.closeHandles()
		return nil, err
	}
	return db, nil
}

// Close brings the audit index up to date, stops the committer (after it
// finishes what it has) and closes the database and the audit log.
func (db *DB) Close() error {
	db.audit.ix.stop()
	db.com.stop()
	db.audit.close()
	return db.closeHandles()
}

func (db *DB) closeHandles() error {
	err := errors.Join(db.read.Close(), db.write.Close())
	db.lockf.Close()
	return err
}

// migrate applies the embedded migrations not yet applied, in order, each
// in its own transaction; PRAGMA user_version records progress.
func (db *DB) migrate(ctx context.Context) error {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	slices.Sort(names)
	var have int
	if err := db.write.QueryRowContext(ctx, "PRAGMA user_version").Scan(&have); err != nil {
		return err
	}
	if have > len(names) {
		return fmt.Errorf("database schema version %d is newer than this Coffer (%d); upgrade Coffer", have, len(names))
	}
	for i := have; i < len(names); i++ {
		body, err := migrations.ReadFile(names[i])
		if err != nil {
			return err
		}
		tx, err := db.write.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			tx.Rollback()
			return fmt.Errorf("%s: %w", strings.TrimPrefix(names[i], "migrations/"), err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", i+1)); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}

// Meta returns a value from the meta table (nil, nil if absent).
func (db *DB) Meta(ctx context.Context, key string) ([]byte, error) {
	var v []byte
	err := db.read.QueryRowContext(ctx, "SELECT v FROM meta WHERE k = ?", key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return v, err
}

// SetMetaIfAbsent stores value under key unless the key exists, and returns
// what is stored afterwards.
func (db *DB) SetMetaIfAbsent(ctx context.Context, key string, value []byte) ([]byte, error) {
	u := db.newUnit()
	u.exec("INSERT INTO meta (k, v) VALUES (?, ?) ON CONFLICT (k) DO NOTHING", key, value)
	if err := u.Commit(); err != nil {
		return nil, err
	}
	return db.Meta(ctx, key)
}

// SetMeta stores value under key.
func (db *DB) SetMeta(ctx context.Context, key string, value []byte) error {
	u := db.newUnit()
	u.exec("INSERT INTO meta (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v", key, value)
	return u.Commit()
}
