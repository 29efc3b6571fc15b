package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/coffer-dev/coffer/internal/audit"
)

// The audit sink. The edge stages one event per request into the request's
// unit (StageAudit); the committer gives it its place in the hash chain
// (seq, prev, hash) while it commits the batch, so the records of a batch
// are numbered in commit order and written in the same transaction as the
// writes of the requests they describe, together with the new chain state.
// If the batch fails, the chain goes back to where the batch began (the
// commit hooks), so a record that was not committed leaves no gap.
//
// Contract (what the edge and cmd/coffer use; a PostgreSQL adapter
// implements the same methods):
//
//	StageAudit(ctx, body []byte) error
//	LookupAudit(ctx, key, value string, start, end time.Time, before uint64, limit int) ([]audit.Record, error)
//	AuditRecords(ctx, after uint64, limit int) ([]audit.Record, error)
//	AuditHead(ctx) (audit.ChainState, error)
//	PutAuditCheckpoint(ctx, size uint64, root [32]byte, note []byte) error
//	LatestAuditCheckpoint(ctx) ([]byte, error)
//	AuditCommitted() <-chan struct{}

// auditChunk is the largest number of rows one INSERT statement writes;
// smaller batches use power-of-two chunks so that a few prepared statements
// serve every batch size.
const auditChunk = 32

// auditLog is the committer's side of the audit trail. Everything but mu,
// committed and notify is touched only by the committer goroutine (op
// functions and commit hooks).
type auditLog struct {
	chain   *audit.Chain
	begin   audit.ChainState // chain state when the current batch began
	pending []pendingAudit   // records appended in the current batch

	recStmts map[int]*sql.Stmt // multi-row INSERT INTO audit_records, by row count
	stateSt  *sql.Stmt
	args     []any

	mu        sync.Mutex
	committed audit.ChainState // the chain state of what is committed
	notify    chan struct{}
}

type pendingAudit struct {
	rec audit.Record
}

var errAuditDamaged = errors.New("sqlite: the audit log does not match its chain state; run `coffer audit verify` (refusing to append to a damaged log)")

// openAudit loads the chain state (rebuilding it from the records if it is
// missing) and prepares the insert statements. It runs in Open, before the
// committer starts.
func (db *DB) openAudit(ctx context.Context) error {
	a := &auditLog{notify: make(chan struct{}, 1), recStmts: map[int]*sql.Stmt{}}
	st, err := loadAuditState(ctx, db.write)
	if err != nil {
		return err
	}
	if a.chain, err = audit.NewChain(st); err != nil {
		return err
	}
	a.committed = st
	for n := 1; n <= auditChunk; n *= 2 {
		s, err := db.write.PrepareContext(ctx, insertRecordsSQL(n))
		if err != nil {
			a.close()
			return err
		}
		a.recStmts[n] = s
	}
	a.stateSt, err = db.write.PrepareContext(ctx, `INSERT INTO audit_state (id, state) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET state = excluded.state`)
	if err != nil {
		a.close()
		return err
	}
	db.audit = a
	return nil
}

func insertRecordsSQL(n int) string {
	return "INSERT INTO audit_records (seq, prev, hash, body) VALUES " +
		strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?), ", n), ", ")
}

func (a *auditLog) close() {
	for _, s := range a.recStmts {
		s.Close()
	}
	if a.stateSt != nil {
		a.stateSt.Close()
	}
}

// loadAuditState returns the chain state stored with the records, checked
// against the last record; without a stored state it is rebuilt by
// verifying the whole chain.
func loadAuditState(ctx context.Context, q *sql.DB) (audit.ChainState, error) {
	var st audit.ChainState
	var blob []byte
	err := q.QueryRowContext(ctx, "SELECT state FROM audit_state WHERE id = 1").Scan(&blob)
	haveState := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return st, err
	}
	var lastSeq uint64
	var lastHash []byte
	err = q.QueryRowContext(ctx, "SELECT seq, hash FROM audit_records ORDER BY seq DESC LIMIT 1").Scan(&lastSeq, &lastHash)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return st, err
	}
	if !haveState {
		if lastSeq == 0 {
			return audit.ChainState{}, nil
		}
		res, err := audit.VerifyWith(auditRecordIter(ctx, q), audit.VerifyOptions{})
		if err != nil {
			return st, fmt.Errorf("%w: rebuilding the chain state: %w", errAuditDamaged, err)
		}
		return res.State, nil
	}
	if err := st.UnmarshalBinary(blob); err != nil {
		return st, fmt.Errorf("%w: %w", errAuditDamaged, err)
	}
	if st.Size != lastSeq || (lastSeq > 0 && !hashEqual(lastHash, st.Last)) {
		return st, fmt.Errorf("%w: state covers %d records, the table ends at seq %d", errAuditDamaged, st.Size, lastSeq)
	}
	return st, nil
}

func hashEqual(b []byte, h [32]byte) bool { return len(b) == 32 && [32]byte(b) == h }

// commitHooks are the committer hooks of the adapter's parts.
func (db *DB) commitHooks() []commitHook { return []commitHook{db.audit} }

func (a *auditLog) beginBatch() {
	a.begin = a.chain.State()
}

func (a *auditLog) abortBatch() {
	a.chain.Reset(a.begin) // a state the chain had: valid
	clear(a.pending)
	a.pending = a.pending[:0]
}

func (a *auditLog) commitBatch() {
	if len(a.pending) == 0 {
		return
	}
	clear(a.pending)
	a.pending = a.pending[:0]
	st := a.chain.State()
	a.mu.Lock()
	a.committed = st
	a.mu.Unlock()
	select {
	case a.notify <- struct{}{}:
	default:
	}
}

// beforeCommit writes the batch's records and the chain state, in
// multi-row INSERTs.
func (a *auditLog) beforeCommit(ctx context.Context, tx *sql.Tx) error {
	if len(a.pending) == 0 {
		return nil
	}
	defer func() {
		clear(a.args[:cap(a.args)])
		a.args = a.args[:0]
	}()
	for recs := a.pending; len(recs) > 0; {
		n := chunkSize(len(recs))
		args := a.args[:0]
		for i := range recs[:n] {
			r := &recs[i].rec
			args = append(args, int64(r.Seq), r.Prev[:], r.Hash[:], r.Body)
		}
		a.args = args
		if _, err := tx.StmtContext(ctx, a.recStmts[n]).ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("audit: insert records: %w", err)
		}
		recs = recs[n:]
	}
	state, err := a.chain.State().MarshalBinary()
	if err != nil {
		return err
	}
	if _, err := tx.StmtContext(ctx, a.stateSt).ExecContext(ctx, state); err != nil {
		return fmt.Errorf("audit: write chain state: %w", err)
	}
	return nil
}

// chunkSize is the largest power of two ≤ min(n, auditChunk).
func chunkSize(n int) int {
	c := auditChunk
	for c > n {
		c /= 2
	}
	return c
}

// StageAudit stages one audit record into the unit of work in ctx (or
// commits it on its own when ctx carries none): body is the event's JSON
// (a single-line object, as audit.Event.Marshal makes it), stored byte for
// byte. The record gets its seq and hashes when the unit commits; if
// writing it fails, the whole unit fails.
func (db *DB) StageAudit(ctx context.Context, body []byte) error {
	u, own := db.unitFor(ctx)
	if own {
		defer u.Rollback()
	}
	a := db.audit
	u.ops = append(u.ops, op{fn: func(*sql.Tx) error {
		rec, err := a.chain.Append(body)
		if err != nil {
			return err
		}
		a.pending = append(a.pending, pendingAudit{rec: rec})
		return nil
	}})
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
