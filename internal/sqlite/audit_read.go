package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"os"
	"time"

	"github.com/coffer-dev/coffer/internal/audit"
	"github.com/coffer-dev/coffer/internal/auditlog"
)

// Reads of the audit log, shared by DB (the server: it knows exactly what
// is committed) and AuditReader (offline tools, which must work while a
// server holds the database and appends to the log: they read the log as
// an outside reader sees it, see auditlog.ReadOptions).

// LookupKeys are the lookup attribute keys LookupAudit accepts (CloudTrail
// LookupAttributeKey names). ReadOnly takes "true" or "false".
var LookupKeys = []string{"EventId", "EventName", "ReadOnly", "Username", "ResourceType", "ResourceName", "EventSource", "AccessKeyId"}

// ErrLookupKey is returned by LookupAudit for a key not in LookupKeys.
var ErrLookupKey = errors.New("sqlite: unknown audit lookup attribute")

// logSource says how to read the log: up to what a server committed
// (to), or as an outside reader (storeBatch).
type logSource struct {
	dir        string
	to         auditlog.Pos // bound (server); zero: outside reader
	storeBatch uint64
}

func (s logSource) frames(from auditlog.Pos) iter.Seq2[auditlog.Item, error] {
	return auditlog.Frames(s.dir, auditlog.ReadOptions{From: from, To: s.to, StoreBatch: s.storeBatch})
}

// lookup is one LookupAudit query.
type lookup struct {
	key, value string
	kind       byte
	start, end int64 // Unix seconds; used if hasStart/hasEnd
	hasStart   bool
	hasEnd     bool
	before     uint64
	limit      int
	attrs      auditlog.Attrs
	out        []audit.Record
}

func newLookup(key, value string, start, end time.Time, before uint64, limit int) (*lookup, error) {
	q := &lookup{key: key, value: value, before: before, limit: limit}
	if q.limit <= 0 {
		q.limit = 50
	}
	if key != "" {
		k, ok := auditlog.LookupKind(key)
		if !ok {
			return nil, fmt.Errorf("%w: %q", ErrLookupKey, key)
		}
		if key == "ReadOnly" && value != "true" && value != "false" {
			return nil, fmt.Errorf("%w: ReadOnly must be true or false", ErrLookupKey)
		}
		q.kind = k
	}
	// eventTime has whole seconds: a bound is compared at that precision.
	if !start.IsZero() {
		q.start, q.hasStart = start.Unix(), true
	}
	if !end.IsZero() {
		q.end, q.hasEnd = end.Unix(), true
	}
	return q, nil
}

func (q *lookup) full() bool { return len(q.out) >= q.limit }

// match reports whether the record matches; it parses its attributes.
func (q *lookup) match(r *audit.Record) bool {
	if q.before > 0 && r.Seq >= q.before {
		return false
	}
	if q.attrs.Parse(r.Body) != nil {
		return q.key == "" && !q.hasStart && !q.hasEnd
	}
	if q.hasStart || q.hasEnd {
		t := q.attrs.Unix()
		if t == 0 || (q.hasStart && t < q.start) || (q.hasEnd && t > q.end) {
			return false
		}
	}
	return q.key == "" || q.attrs.Match(q.key, q.value)
}

// mayHold reports whether a block can hold a matching record.
func (q *lookup) mayHold(b *block) bool {
	if q.before > 0 && b.first >= q.before {
		return false
	}
	if (q.hasStart && b.maxT < q.start) || (q.hasEnd && b.minT > q.end) {
		return false
	}
	return q.key == "" || b.sum.Bloom.Has(q.kind, q.value)
}

// scan adds the matching records read from frames, newest first.
func (q *lookup) scan(frames iter.Seq2[auditlog.Item, error]) error {
	var found []audit.Record
	for it, err := range frames {
		if err != nil {
			return err
		}
		if q.match(&it.Record) {
			r := it.Record
			r.Body = bytes.Clone(r.Body)
			found = append(found, r)
		}
	}
	for i := len(found) - 1; i >= 0 && !q.full(); i-- {
		q.out = append(q.out, found[i])
	}
	return nil
}

// blocks adds matching records from the indexed blocks, newest first.
func (q *lookup) blocks(ctx context.Context, db *sql.DB, src logSource) error {
	upper := int64(1<<63 - 1)
	if q.before > 0 {
		upper = int64(q.before)
	}
	const page = 64
	for !q.full() {
		rows, err := db.QueryContext(ctx, "SELECT "+blockColumns+" FROM audit_blocks WHERE first_seq < ? ORDER BY first_seq DESC LIMIT ?", upper, page)
		if err != nil {
			return fmt.Errorf("sqlite: read audit index: %w", err)
		}
		var bs []*block
		for rows.Next() {
			b, err := scanBlock(rows)
			if err != nil {
				rows.Close()
				return err
			}
			bs = append(bs, b)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return fmt.Errorf("sqlite: read audit index: %w", err)
		}
		for _, b := range bs {
			if q.full() {
				return nil
			}
			upper = int64(b.first)
			if !q.mayHold(b) {
				continue
			}
			if err := q.scan(auditlog.Frames(src.dir, auditlog.ReadOptions{From: b.start, To: b.end})); err != nil {
				return err
			}
		}
		if len(bs) < page {
			return nil
		}
	}
	return nil
}

// LookupAudit returns up to limit records, newest (highest seq) first,
// with seq < before (0: no bound), event time in [start, end] (zero:
// unbounded; whole seconds) and, when key is not "", the lookup attribute
// key equal to value. It first brings the index up to the committed log.
func (db *DB) LookupAudit(ctx context.Context, key, value string, start, end time.Time, before uint64, limit int) ([]audit.Record, error) {
	q, err := newLookup(key, value, start, end, before, limit)
	if err != nil {
		return nil, err
	}
	a := db.audit
	if err := a.ix.sync(ctx); err != nil {
		return nil, err
	}
	_, to := a.head()
	from, _ := a.ix.position()
	// Records committed since the sync are newer than anything indexed.
	if err := q.scan(auditlog.Frames(a.dir, auditlog.ReadOptions{From: from, To: to})); err != nil {
		return nil, err
	}
	if err := q.blocks(ctx, db.read, logSource{dir: a.dir, to: to}); err != nil {
		return nil, err
	}
	return q.out, nil
}

// AuditRecords returns up to limit committed records with seq > after, in
// seq order.
func (db *DB) AuditRecords(ctx context.Context, after uint64, limit int) ([]audit.Record, error) {
	a := db.audit
	size, to := a.head()
	if after >= size {
		return nil, nil
	}
	a.mu.Lock()
	c := a.cursor
	a.mu.Unlock()
	src := logSource{dir: a.dir, to: to}
	from := c.pos
	if c.seq != after+1 || from.IsZero() {
		indexEnd, indexSeq := a.ix.position()
		p, found, err := findRecord(ctx, db.read, src, after+1, indexEnd, indexSeq)
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, fmt.Errorf("%w: committed record %d not found in the log", audit.ErrRecord, after+1)
		}
		from = p
	}
	recs, next, err := readRecords(src, from, after+1, limit)
	if err == nil && len(recs) > 0 {
		a.mu.Lock()
		a.cursor = auditCursor{seq: recs[len(recs)-1].Seq + 1, pos: next}
		a.mu.Unlock()
	}
	return recs, err
}

// readRecords reads up to limit records from the frame of seq at from; it
// returns them and the position after the last.
func readRecords(src logSource, from auditlog.Pos, seq uint64, limit int) ([]audit.Record, auditlog.Pos, error) {
	if limit <= 0 {
		limit = 1000
	}
	var out []audit.Record
	var next auditlog.Pos
	for it, err := range src.frames(from) {
		if err != nil {
			return out, next, err
		}
		if it.Record.Seq != seq {
			return out, next, fmt.Errorf("%w: found record %d at %s where %d belongs (run `coffer audit verify`)", audit.ErrRecord, it.Record.Seq, it.Pos, seq)
		}
		r := it.Record
		r.Body = bytes.Clone(r.Body)
		out = append(out, r)
		next = it.End()
		seq++
		if len(out) == limit {
			break
		}
	}
	return out, next, nil
}

// findRecord returns the position of the frame of seq (false if the log
// has no such record), searching from the index block holding it, or from
// the index's end.
func findRecord(ctx context.Context, db *sql.DB, src logSource, seq uint64, indexEnd auditlog.Pos, indexSeq uint64) (auditlog.Pos, bool, error) {
	from, fromSeq := indexEnd, indexSeq
	if seq < indexSeq {
		var first, s, off int64
		err := db.QueryRowContext(ctx, "SELECT first_seq, seg, off FROM audit_blocks WHERE first_seq <= ? ORDER BY first_seq DESC LIMIT 1", int64(seq)).Scan(&first, &s, &off)
		switch {
		case err == nil:
			from, fromSeq = auditlog.Pos{Seg: uint64(s), Off: off}, uint64(first)
		case errors.Is(err, sql.ErrNoRows):
			from, fromSeq = auditlog.Pos{}, 1
		default:
			return auditlog.Pos{}, false, fmt.Errorf("sqlite: read audit index: %w", err)
		}
	}
	if fromSeq == seq && !from.IsZero() {
		return from, true, nil
	}
	for it, err := range src.frames(from) {
		if err != nil {
			return auditlog.Pos{}, false, err
		}
		if it.Record.Seq == seq {
			return it.Pos, true, nil
		}
		if it.Record.Seq > seq {
			break
		}
	}
	return auditlog.Pos{}, false, nil
}

// AllAuditRecords iterates over the whole committed log in seq order, as
// stored (nothing is checked here). It stops after yielding an error.
func (db *DB) AllAuditRecords(ctx context.Context) iter.Seq2[audit.Record, error] {
	size, to := db.audit.head()
	if size == 0 {
		return func(func(audit.Record, error) bool) {}
	}
	return auditlog.Records(db.audit.dir, auditlog.ReadOptions{To: to})
}

// LatestAuditCheckpoint returns the signed checkpoint note of the largest
// tree size (nil if none).
func (db *DB) LatestAuditCheckpoint(ctx context.Context) ([]byte, error) {
	return latestCheckpoint(ctx, db.read)
}

func latestCheckpoint(ctx context.Context, q *sql.DB) ([]byte, error) {
	var note []byte
	err := q.QueryRowContext(ctx, "SELECT note FROM audit_checkpoints ORDER BY size DESC LIMIT 1").Scan(&note)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: read audit checkpoint: %w", err)
	}
	return note, nil
}

// AuditReader reads a data directory's audit log, its index and the
// database's meta values through a read-only connection pool, without the
// database's lock: `coffer audit` subcommands use it, also while a server
// is running (see auditlog.ReadOptions for what they see of the log then).
type AuditReader struct {
	read *sql.DB
	dir  string
}

// OpenAuditReader opens the existing database at path read-only, and its
// audit log (AuditDir).
func OpenAuditReader(path string) (*AuditReader, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	r, err := sql.Open("sqlite3", "file:"+path+"?mode=ro&_busy_timeout=10000")
	if err != nil {
		return nil, err
	}
	r.SetMaxOpenConns(2)
	var n int
	if err := r.QueryRow("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'audit_log'").Scan(&n); err != nil || n == 0 {
		r.Close()
		if err == nil {
			err = errors.New("no audit log tables (start the server once to migrate the database)")
		}
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return &AuditReader{read: r, dir: AuditDir(path)}, nil
}

// Close closes the reader.
func (r *AuditReader) Close() error { return r.read.Close() }

// Dir returns the audit log's directory.
func (r *AuditReader) Dir() string { return r.dir }

// Meta returns a value from the meta table (nil, nil if absent).
func (r *AuditReader) Meta(ctx context.Context, key string) ([]byte, error) {
	var v []byte
	err := r.read.QueryRowContext(ctx, "SELECT v FROM meta WHERE k = ?", key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return v, err
}

// source reads the committed store batch id first: a store batch above it
// (committing meanwhile, or never) and what follows are not read.
func (r *AuditReader) source(ctx context.Context) (logSource, error) {
	var batch int64
	err := r.read.QueryRowContext(ctx, "SELECT store_batch FROM audit_log WHERE id = 1").Scan(&batch)
	if errors.Is(err, sql.ErrNoRows) {
		// Nothing recorded (the server starts over from the log): hold
		// nothing back.
		return logSource{dir: r.dir, storeBatch: auditlog.NoStoreBatch}, nil
	}
	if err != nil {
		return logSource{}, err
	}
	return logSource{dir: r.dir, storeBatch: uint64(batch)}, nil
}

// indexEnd returns where the index ends (position and seq of the first
// record not in it).
func (r *AuditReader) indexEnd(ctx context.Context) (auditlog.Pos, uint64, error) {
	b, err := lastBlock(ctx, r.read)
	if err != nil || b == nil {
		return auditlog.Pos{}, 1, err
	}
	return b.end, b.last + 1, nil
}

// LookupAudit: see DB.LookupAudit. Records not indexed yet are read from
// the log.
func (r *AuditReader) LookupAudit(ctx context.Context, key, value string, start, end time.Time, before uint64, limit int) ([]audit.Record, error) {
	q, err := newLookup(key, value, start, end, before, limit)
	if err != nil {
		return nil, err
	}
	src, err := r.source(ctx)
	if err != nil {
		return nil, err
	}
	from, _, err := r.indexEnd(ctx)
	if err != nil {
		return nil, err
	}
	if err := q.scan(src.frames(from)); err != nil {
		return nil, err
	}
	if err := q.blocks(ctx, r.read, src); err != nil {
		return nil, err
	}
	return q.out, nil
}

// AuditRecords: see DB.AuditRecords.
func (r *AuditReader) AuditRecords(ctx context.Context, after uint64, limit int) ([]audit.Record, error) {
	src, err := r.source(ctx)
	if err != nil {
		return nil, err
	}
	end, endSeq, err := r.indexEnd(ctx)
	if err != nil {
		return nil, err
	}
	from, found, err := findRecord(ctx, r.read, src, after+1, end, endSeq)
	if err != nil || !found {
		return nil, err // not found: nothing after "after" yet
	}
	recs, _, err := readRecords(src, from, after+1, limit)
	return recs, err
}

// AllAuditRecords iterates over the whole log in seq order, as stored (for
// verification: nothing is checked here).
func (r *AuditReader) AllAuditRecords(ctx context.Context) iter.Seq2[audit.Record, error] {
	src, err := r.source(ctx)
	if err != nil {
		return func(yield func(audit.Record, error) bool) { yield(audit.Record{}, err) }
	}
	return auditlog.Records(r.dir, auditlog.ReadOptions{StoreBatch: src.storeBatch})
}

// LatestAuditCheckpoint: see DB.LatestAuditCheckpoint.
func (r *AuditReader) LatestAuditCheckpoint(ctx context.Context) ([]byte, error) {
	return latestCheckpoint(ctx, r.read)
}

// AuditHead returns the chain state stored with the last batch that also
// committed store writes (unsigned: evidence, not proof), and false if
// there is none. The log may go on after it.
func (r *AuditReader) AuditHead(ctx context.Context) (audit.ChainState, bool, error) {
	var blob []byte
	err := r.read.QueryRowContext(ctx, "SELECT state FROM audit_log WHERE id = 1").Scan(&blob)
	if errors.Is(err, sql.ErrNoRows) {
		return audit.ChainState{}, false, nil
	}
	if err != nil {
		return audit.ChainState{}, false, err
	}
	var st audit.ChainState
	if err := st.UnmarshalBinary(blob); err != nil {
		return audit.ChainState{}, false, err
	}
	return st, st.Size > 0, nil
}
