package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coffer-dev/coffer/internal/audit"
	"github.com/coffer-dev/coffer/internal/auditlog"
)

// The audit sink. Records live in a segment log next to the database
// (internal/auditlog; AuditDir): the edge stages one event per request
// into the request's unit (StageAudit), and the committer, per group
// commit, gives the batch's records their place in the hash chain (seq,
// prev, hash), writes all their frames with one write and one fdatasync,
// and only then commits the batch's store writes, if it has any, in a
// SQLite transaction that also records the batch id and the chain state
// (table audit_log). A unit is acknowledged after both. So an effect
// never exists without its record, and a record of a request whose
// effects did not commit does not survive: if the transaction fails, the
// batch's frames are erased (zeros, fdatasync) and the chain goes back; if
// even that fails, the log takes no more records (requests fail) until a
// restart, whose recovery cuts the batch (auditlog.Start). A batch of
// reads only (no store writes) costs no SQLite transaction at all.
//
// The database also holds the lookup index (audit_blocks, audit_index.go),
// filled in the background, and the signed checkpoints.
//
// Contract (what the edge and cmd/coffer use; the PostgreSQL adapter
// implements the same methods):
//
//	StageAudit(ctx, body []byte) error
//	LookupAudit(ctx, key, value string, start, end time.Time, before uint64, limit int) ([]audit.Record, error)
//	AuditRecords(ctx, after uint64, limit int) ([]audit.Record, error)
//	AuditHead(ctx) (audit.ChainState, error)
//	PutAuditCheckpoint(ctx, size uint64, root [32]byte, note []byte) error
//	LatestAuditCheckpoint(ctx) ([]byte, error)
//	AuditCommitted() <-chan struct{}

// AuditDir returns where the audit log of the database at path lives:
// <dir>/audit for a database named coffer.db (a data directory), else
// <path>-audit.
func AuditDir(path string) string {
	if filepath.Base(path) == "coffer.db" {
		return filepath.Join(filepath.Dir(path), "audit")
	}
	return path + "-audit"
}

// auditLog is the committer's side of the audit trail. Everything but mu
// and what it guards is touched only by the committer goroutine (or, for
// imports, by code holding the committer's exclusive lock).
type auditLog struct {
	db    *DB
	dir   string
	log   *auditlog.Log
	chain *audit.Chain
	begin audit.ChainState // chain state when the current batch began
	buf   []byte           // the current batch's frames
	// mem: the current batch's records for the indexer (offsets in buf),
	// when every record in it came with its lookup keys; else empty.
	mem []memRecord

	// Test hooks (export_test.go): writeFault fails log writes before
	// they happen; commitFault fails store commits after the log write.
	writeFault, commitFault atomic.Pointer[func() error]

	stateSt    *sql.Stmt
	last       auditlog.Pos // the last committed record's frame
	stored     uint64       // records covered by the chain state in audit_log
	storeBatch uint64       // the batch id in audit_log

	mu        sync.Mutex
	committed audit.ChainState // the chain state of what is committed
	end       auditlog.Pos     // just past the last committed frame
	cursor    auditCursor      // where the last AuditRecords call stopped
	notify    chan struct{}

	ix *indexer
}

// auditCursor remembers the position of the frame of seq, so that a
// reader that goes on where it stopped does not search for it.
type auditCursor struct {
	seq uint64
	pos auditlog.Pos
}

// auditWrite is a batch written to the log.
type auditWrite struct {
	first uint64       // seq of its first record: the batch id
	pos   auditlog.Pos // its first frame
	last  auditlog.Pos // its last frame
	n     int          // bytes
}

func (w *auditWrite) end() auditlog.Pos {
	return auditlog.Pos{Seg: w.pos.Seg, Off: w.pos.Off + int64(w.n)}
}

var (
	errAuditDamaged = errors.New("sqlite: the audit log does not match its chain state; run `coffer audit verify` (refusing to append to a damaged log)")
	errAuditBody    = errors.New("sqlite: audit record body too large")
)

// openAudit opens (recovering) the audit log and loads the chain state. It
// runs in Open, before the committer starts.
func (db *DB) openAudit(ctx context.Context, opts auditlog.Options) error {
	a := &auditLog{db: db, dir: db.auditDir, notify: make(chan struct{}, 1)}
	if opts.Log == nil {
		opts.Log = db.log
	}
	if _, err := db.write.ExecContext(ctx, `INSERT INTO audit_log (id, state, last_seg, last_off, store_batch, cut_from)
		VALUES (1, ?, 0, 0, 0, 0) ON CONFLICT (id) DO NOTHING`, emptyState()); err != nil {
		return err
	}
	start, err := loadAuditStart(ctx, db.write)
	if err != nil {
		return err
	}
	l, rec, err := auditlog.Open(a.dir, opts, start)
	if err != nil {
		if errors.Is(err, auditlog.ErrDamaged) {
			return fmt.Errorf("%w: %w", errAuditDamaged, err)
		}
		return err
	}
	a.log = l
	if start.CutFrom != 0 {
		if _, err := db.write.ExecContext(ctx, "UPDATE audit_log SET cut_from = 0 WHERE id = 1"); err != nil {
			l.Close()
			return err
		}
	}
	if a.chain, err = audit.NewChain(rec.State); err != nil {
		l.Close()
		return err
	}
	a.committed, a.end, a.last = rec.State, rec.End, rec.Last
	a.stored, a.storeBatch = start.State.Size, start.StoreBatch
	if a.stateSt, err = db.write.PrepareContext(ctx, "UPDATE audit_log SET state = ?, last_seg = ?, last_off = ?, store_batch = ? WHERE id = 1"); err != nil {
		l.Close()
		return err
	}
	db.audit = a
	if err := db.migrateAuditRecords(ctx); err != nil {
		a.close()
		return err
	}
	return nil
}

func emptyState() []byte {
	b, _ := audit.ChainState{}.MarshalBinary()
	return b
}

// loadAuditStart reads what the store committed about the log.
func loadAuditStart(ctx context.Context, q *sql.DB) (auditlog.Start, error) {
	var st auditlog.Start
	var blob []byte
	var seg, off, batch, cut int64
	err := q.QueryRowContext(ctx, "SELECT state, last_seg, last_off, store_batch, cut_from FROM audit_log WHERE id = 1").Scan(&blob, &seg, &off, &batch, &cut)
	if errors.Is(err, sql.ErrNoRows) {
		return st, nil
	}
	if err != nil {
		return st, err
	}
	if err := st.State.UnmarshalBinary(blob); err != nil {
		return st, fmt.Errorf("%w: %w", errAuditDamaged, err)
	}
	st.Last = auditlog.Pos{Seg: uint64(seg), Off: off}
	st.StoreBatch, st.CutFrom = uint64(batch), uint64(cut)
	return st, nil
}

func (a *auditLog) close() {
	if a.stateSt != nil {
		a.stateSt.Close()
	}
	if a.log != nil {
		a.log.Close()
	}
}

// writable fails units with records once the log is broken.
func (a *auditLog) writable() error {
	if err := a.log.Broken(); err != nil {
		return err
	}
	return nil
}

// writeBatch chains and writes the records of a batch (one write, one
// fdatasync). On error nothing of the batch is left in the log (or the
// log is broken: then call failed after the batch's transaction is over)
// and the chain is where it was.
func (a *auditLog) writeBatch(batch []*Unit, store bool) (auditWrite, error) {
	a.begin = a.chain.State()
	w := auditWrite{first: a.chain.Size() + 1}
	var flags byte
	if store {
		flags = auditlog.FlagStore
	}
	buf := a.buf[:0]
	lastOff := 0
	keyed := true
	for _, u := range batch {
		keyed = keyed && (len(u.audit) == 0 || !u.keyless && len(u.auditKeys) == len(u.audit))
	}
	clear(a.mem) // the keys' strings
	a.mem = a.mem[:0]
	for _, u := range batch {
		for i, body := range u.audit {
			if len(body) > auditlog.MaxBody {
				a.chain.Reset(a.begin)
				return w, errAuditBody
			}
			rec, err := a.chain.Append(body)
			if err != nil {
				a.chain.Reset(a.begin)
				return w, err
			}
			lastOff = len(buf)
			buf = auditlog.AppendFrame(buf, flags, w.first, &rec)
			if keyed {
				a.mem = append(a.mem, memRecord{seq: rec.Seq, off: int64(lastOff), end: int64(len(buf)), keys: u.auditKeys[i]})
			}
		}
	}
	auditlog.SetFlags(buf[lastOff:], auditlog.FlagBatchEnd)
	if cap(buf) <= 8<<20 {
		a.buf = buf
	}
	var err error
	if f := a.writeFault.Load(); f != nil {
		err = (*f)()
	}
	if err == nil {
		w.pos, err = a.log.Write(buf)
	}
	if err != nil {
		a.chain.Reset(a.begin)
		return w, fmt.Errorf("audit: %w", err)
	}
	w.n = len(buf)
	w.last = auditlog.Pos{Seg: w.pos.Seg, Off: w.pos.Off + int64(lastOff)}
	return w, nil
}

// recordBatch writes the chain state after the batch w (and its id) into
// the batch's store transaction.
func (a *auditLog) recordBatch(ctx context.Context, tx *sql.Tx, w auditWrite) error {
	return a.recordState(ctx, tx, a.chain.State(), w.last, w.first)
}

// recordState writes a chain state, the position of its last record and
// the store batch id into tx.
func (a *auditLog) recordState(ctx context.Context, tx *sql.Tx, st audit.ChainState, last auditlog.Pos, batch uint64) error {
	state, err := st.MarshalBinary()
	if err != nil {
		return err
	}
	if _, err := tx.StmtContext(ctx, a.stateSt).ExecContext(ctx, state, int64(last.Seg), last.Off, int64(batch)); err != nil {
		return fmt.Errorf("audit: write chain state: %w", err)
	}
	return nil
}

// recordHead writes the committed chain state into a store transaction
// without records of its own (an index pass, a background job), if it
// grew since it was last written, so that the tail recovery reads at the
// next start stays short even when only reads are recorded. It returns
// the size written, for stateStored after the commit (0: nothing written).
func (a *auditLog) recordHead(ctx context.Context, tx *sql.Tx) (uint64, error) {
	a.mu.Lock()
	st, last := a.committed, a.last
	a.mu.Unlock()
	if st.Size <= a.stored {
		return 0, nil
	}
	if err := a.recordState(ctx, tx, st, last, a.storeBatch); err != nil {
		return 0, err
	}
	return st.Size, nil
}

// undo erases a written batch whose store transaction failed.
func (a *auditLog) undo(w auditWrite) {
	a.chain.Reset(a.begin)
	if err := a.log.Retract(w.pos, w.n); err != nil {
		a.db.log.Error("audit log: erasing a failed batch failed: the log takes no more records until a restart", "err", err)
	}
}

// landed reports whether the store transaction of w committed after all
// (its COMMIT returned an error): whether the batch id it wrote is there.
// If that cannot be read, the log is broken: at the next start, recovery
// decides from what the database holds.
func (a *auditLog) landed(ctx context.Context, w auditWrite) bool {
	var batch int64
	if err := a.db.write.QueryRowContext(ctx, "SELECT store_batch FROM audit_log WHERE id = 1").Scan(&batch); err != nil {
		a.log.MarkBroken(fmt.Errorf("after a failed commit: %w", err))
		a.db.log.Error("audit log: cannot tell whether a failed commit happened: the log takes no more records until a restart", "err", err)
		return false
	}
	return uint64(batch) == w.first
}

// failed is called after a failed batch's transaction is over (the write
// connection is free): if the log broke on it, the batch, which could not
// be erased, is recorded to be cut at the next start.
func (a *auditLog) failed(w auditWrite) {
	if a.log.Broken() != nil {
		a.markCut(w.first)
	}
}

// markCut records (best effort) that the batch starting at first must be
// cut at the next start: its write failed and could not be erased.
func (a *auditLog) markCut(first uint64) {
	if _, err := a.db.write.Exec("UPDATE audit_log SET cut_from = ? WHERE id = 1", int64(first)); err != nil {
		a.db.log.Error("audit log: recording the failed batch failed", "err", err)
	}
}

// publish makes a committed batch visible to readers; store tells whether
// its store transaction recorded it.
func (a *auditLog) publish(w auditWrite, store bool) {
	st := a.chain.State()
	if store {
		a.stored, a.storeBatch = st.Size, w.first
	}
	a.mu.Lock()
	a.committed = st
	a.end, a.last = w.end(), w.last
	a.mu.Unlock()
	select {
	case a.notify <- struct{}{}:
	default:
	}
	if a.ix != nil {
		a.ix.committed(st.Size)
	}
}

// head returns the committed chain state's size and where its frames end.
func (a *auditLog) head() (uint64, auditlog.Pos) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.committed.Size, a.end
}

// StageAudit stages one audit record into the unit of work in ctx (or
// commits it on its own when ctx carries none): body is the event's JSON
// (a single-line object, as audit.Event.Marshal makes it), stored byte for
// byte. The record gets its seq and hashes when the unit commits; if
// writing it fails, the whole unit fails. The store reads body until the
// unit commits or rolls back and keeps no reference to it afterwards, so
// the caller may reuse it then.
func (db *DB) StageAudit(ctx context.Context, body []byte) error {
	return db.stageAudit(ctx, body, nil)
}

// StageAuditKeyed is StageAudit for a body rendered from an event whose
// lookup keys are k (audit.Event.LookupKeys): the audit index takes them
// from k instead of reading the record back from the log. k must be what
// reading body gives (TestSummaryAddKeys).
func (db *DB) StageAuditKeyed(ctx context.Context, body []byte, k audit.LookupKeys) error {
	return db.stageAudit(ctx, body, &k)
}

func (db *DB) stageAudit(ctx context.Context, body []byte, k *audit.LookupKeys) error {
	if len(body) > auditlog.MaxBody {
		return errAuditBody
	}
	u, own := db.unitFor(ctx)
	if own {
		defer u.Rollback()
	}
	if u.audit == nil {
		u.audit = u.audit1[:0]
	}
	u.audit = append(u.audit, body)
	switch {
	case k == nil:
		u.keyless, u.auditKeys = true, nil
	case !u.keyless:
		if u.auditKeys == nil {
			u.auditKeys = u.auditKey1[:0]
		}
		u.auditKeys = append(u.auditKeys, *k)
	}
	if own {
		return u.Commit()
	}
	return nil
}

// AuditHead returns the chain state of the committed records.
func (db *DB) AuditHead(context.Context) (audit.ChainState, error) {
	a := db.audit
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.committed.Clone(), nil
}

// AuditCommitted returns a channel that receives a value after commits
// that added audit records (coalesced: one value may stand for several
// commits). It has one consumer (the server's mirror and checkpoint loop).
func (db *DB) AuditCommitted() <-chan struct{} { return db.audit.notify }

// PutAuditCheckpoint stores a signed checkpoint of the tree of the first
// size records (a second one of the same size is ignored).
func (db *DB) PutAuditCheckpoint(ctx context.Context, size uint64, root [32]byte, note []byte) error {
	u := db.newUnit()
	defer u.Rollback()
	u.exec("INSERT INTO audit_checkpoints (size, root, note, created_ms) VALUES (?, ?, ?, ?) ON CONFLICT (size) DO NOTHING",
		int64(size), root[:], note, time.Now().UnixMilli())
	return u.Commit()
}

// AuditLogDir returns the directory of the database's audit log.
func (db *DB) AuditLogDir() string { return db.auditDir }
