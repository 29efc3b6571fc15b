package postgres

import (
	"context"
	"hash/fnv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// Cluster leases (jobs.Leaser) are session-level advisory locks held on one
// dedicated connection per node. PostgreSQL releases them when that session
// ends — the node stopped, died, or lost its connection — so another node
// takes the lease at its next attempt. The node pings the session every
// leaseKeepalive and gives every lease up as soon as a ping fails; the session asks the server to end it after
// leaseIdleTimeout without a ping (idle_session_timeout), so a node cut off
// silently loses its leases on the server side too.
const (
	leaseKeepalive   = 3 * time.Second
	leaseIdleTimeout = 15 * time.Second
	// leaseClass is the first key of every lease lock (two-int4 advisory
	// locks do not conflict with the one-bigint record locks).
	leaseClass = 0x436f6672 // "Cofr"
)

type leaser struct {
	db   *DB
	mu   sync.Mutex
	conn *pgx.Conn
	held map[string]bool
	// announce: this node is a running server; the session holds the
	// node lock shared (AnnounceNode).
	announce bool
	reopenOK bool // the last reopen for announce worked (log failures once)
	stop     chan struct{}
	done     chan struct{}
}

func (l *leaser) init(db *DB) {
	l.db = db
	l.held = make(map[string]bool)
	l.stop = make(chan struct{})
	l.done = make(chan struct{})
	go l.keepalive()
}

// leaseKey maps a lease name to the second key of its lock, in 31 bits so
// that the int4 lock argument and the oid in pg_locks read the same.
func (db *DB) leaseKey(name string) int32 {
	h := fnv.New32a()
	h.Write([]byte(db.schema))
	h.Write([]byte{0})
	h.Write([]byte(name))
	return int32(h.Sum32() & 0x7fffffff)
}

// HoldLease reports whether this node holds the cluster-wide lease name,
// taking it if it is free. It never waits for another holder. An error
// means the answer is unknown; the node then holds no lease.
func (db *DB) HoldLease(ctx context.Context, name string) (bool, error) {
	l := &db.lease
	l.mu.Lock()
	defer l.mu.Unlock()
	ctx, cancel := db.bound(ctx)
	defer cancel()
	if err := l.connect(ctx); err != nil {
		return false, err
	}
	key := db.leaseKey(name)
	var ok bool
	err := l.conn.QueryRow(ctx, `SELECT CASE WHEN EXISTS (
			SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()
			AND classid = $1::int4::oid AND objid = $2::int4::oid AND objsubid = 2 AND granted)
		THEN true ELSE pg_try_advisory_lock($1::int4, $2::int4) END`, int32(leaseClass), key).Scan(&ok)
	if err != nil {
		l.dropLocked("lease check failed")
		return false, err
	}
	if ok && !l.held[name] {
		db.log.Info("holding the cluster lease", "lease", name)
	}
	if ok {
		l.held[name] = true
	} else {
		delete(l.held, name)
	}
	return ok, nil
}

// ReleaseLease gives up the lease name if this node holds it.
func (db *DB) ReleaseLease(name string) {
	l := &db.lease
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.held[name] || l.conn == nil {
		return
	}
	ctx, cancel := db.bound(context.Background())
	defer cancel()
	if _, err := l.conn.Exec(ctx, "SELECT pg_advisory_unlock($1::int4, $2::int4)", int32(leaseClass), db.leaseKey(name)); err != nil {
		l.dropLocked("lease release failed")
		return
	}
	delete(l.held, name)
	db.log.Info("released the cluster lease", "lease", name)
}

// connect opens the lease session if there is none.
func (l *leaser) connect(ctx context.Context) error {
	if l.conn != nil && !l.conn.IsClosed() {
		return nil
	}
	if l.conn != nil {
		l.dropLocked("lease session closed")
	}
	cfg := l.db.cfg.ConnConfig.Copy()
	cfg.RuntimeParams["application_name"] = cfg.RuntimeParams["application_name"] + " (leases)"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	// Ignored where unsupported (PostgreSQL < 14): the keepalive still
	// detects a lost session on this side.
	conn.Exec(ctx, "SELECT set_config('idle_session_timeout', $1, false)", leaseIdleTimeout.String())
	if l.announce {
		if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock_shared($1::int4, $2::int4)", int32(leaseClass), l.db.leaseKey(nodeLease)); err != nil {
			conn.Close(ctx)
			return err
		}
	}
	l.conn = conn
	return nil
}

// dropLocked closes the lease session: every lease this node held is gone.
func (l *leaser) dropLocked(why string) {
	if len(l.held) > 0 {
		names := make([]string, 0, len(l.held))
		for n := range l.held {
			names = append(names, n)
		}
		l.db.log.Warn("lost the cluster leases", "leases", names, "reason", why)
	}
	clear(l.held)
	if l.conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		l.conn.Close(ctx)
		cancel()
		l.conn = nil
	}
}

// keepalive pings the lease session while it is open (so that the
// server's idle_session_timeout never ends a healthy one).
func (l *leaser) keepalive() {
	defer close(l.done)
	t := time.NewTicker(leaseKeepalive)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		l.mu.Lock()
		if l.conn == nil && l.announce {
			ctx, cancel := l.db.bound(context.Background())
			if err := l.connect(ctx); err != nil && l.reopenOK {
				l.db.log.Warn("could not reopen the lease session (this node is not shown as running until it can)", "err", err)
				l.reopenOK = false
			} else if err == nil {
				l.reopenOK = true
			}
			cancel()
		} else if l.conn != nil {
			ctx, cancel := l.db.bound(context.Background())
			if _, err := l.conn.Exec(ctx, "SELECT 1"); err != nil {
				l.dropLocked("lease session ping failed")
			}
			cancel()
		}
		l.mu.Unlock()
	}
}

func (l *leaser) close() {
	close(l.stop)
	<-l.done
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		// Hand the leases over now: closing alone lets the server end the
		// session (and free the locks) a moment later.
		if len(l.held) > 0 {
			if _, err := l.conn.Exec(ctx, "SELECT pg_advisory_unlock_all()"); err == nil {
				names := make([]string, 0, len(l.held))
				for n := range l.held {
					names = append(names, n)
				}
				l.db.log.Info("released the cluster leases", "leases", names)
			}
		}
		l.conn.Close(ctx)
		cancel()
		l.conn = nil
	}
	clear(l.held)
}
