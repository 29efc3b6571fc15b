package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coffer-dev/coffer/internal/audit"
	"github.com/coffer-dev/coffer/internal/auditlog"
)

// The lookup index of the audit log: table audit_blocks, one row per block
// of up to blockRecords consecutive records (where its frames are, the
// range of their event times, a Bloom filter of their lookup attribute
// values). A lookup reads the blocks newest first, skips those whose time
// range or filter rules them out, and reads the others' records from the
// log, matching each exactly (auditlog.Attrs). A row per block rather than
// per record: on this machine SQLite costs ≈ 2–4 µs per inserted row even
// for small rows, while a block's row costs a few microseconds for all its
// records (docs/PERFORMANCE.md).
//
// The indexer fills it in the background, every indexEvery, or sooner when
// indexBacklog records wait, as an ordinary unit through the committer.
// The records the edge staged with their lookup keys (StageAuditKeyed:
// nearly all) reach it from the committer in memory (enqueue: seq,
// position, keys; no bodies); anything else — records staged without keys,
// what was committed before a restart, a queue that overflowed — it reads
// back from the segment files and parses (auditlog.Attrs). Both give the
// same summary (TestSummaryAddKeys); the memory path skips ≈ 2 µs of
// read-back and parsing per record. The last block grows
// until it is full (its row is rewritten). LookupAudit first brings the
// index up to the committed head, so results are never stale.

const (
	blockRecords = 1024
	blockKeys    = 3000 // a block ends early when its filter holds this many keys
	indexEvery   = 250 * time.Millisecond
	indexBacklog = 2000
	// maxQueue bounds the records waiting in memory; past it the queue
	// is dropped and the pass reads those records from the log.
	maxQueue = 4 * indexBacklog
)

// memRecord is a committed record as the committer hands it to the
// indexer: its seq, where its frame is, and its lookup keys. In the
// committer's batch (auditLog.mem) off and end are offsets in the batch's
// buffer; in the indexer's queue, offsets in segment seg.
type memRecord struct {
	seq      uint64
	seg      uint64
	off, end int64
	keys     audit.LookupKeys
}

const upsertBlockSQL = `INSERT INTO audit_blocks (first_seq, last_seq, seg, off, end_seg, end_off, min_time, max_time, keys, bloom)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (first_seq) DO UPDATE SET last_seq = excluded.last_seq, end_seg = excluded.end_seg, end_off = excluded.end_off,
		min_time = excluded.min_time, max_time = excluded.max_time, keys = excluded.keys, bloom = excluded.bloom`

const blockColumns = "first_seq, last_seq, seg, off, end_seg, end_off, min_time, max_time, keys, bloom"

// block is one row of audit_blocks.
type block struct {
	first, last uint64
	start, end  auditlog.Pos // first frame; just past the last one
	minT, maxT  int64
	sum         *auditlog.Summary
}

func (b *block) records() uint64 { return b.last - b.first + 1 }

func (b *block) full() bool { return b.records() >= blockRecords || b.sum.Keys >= blockKeys }

func (b *block) clone() *block {
	c := *b
	c.sum = b.sum.Clone()
	return &c
}

func (b *block) args() []any {
	return []any{int64(b.first), int64(b.last), int64(b.start.Seg), b.start.Off, int64(b.end.Seg), b.end.Off,
		b.minT, b.maxT, b.sum.Keys, []byte(b.sum.Bloom)}
}

func scanBlock(sc interface{ Scan(...any) error }) (*block, error) {
	var first, last, seg, off, endSeg, endOff, minT, maxT, keys int64
	var bloom []byte
	if err := sc.Scan(&first, &last, &seg, &off, &endSeg, &endOff, &minT, &maxT, &keys, &bloom); err != nil {
		return nil, err
	}
	if first <= 0 || last < first || len(bloom) == 0 || len(bloom)&(len(bloom)-1) != 0 {
		return nil, fmt.Errorf("sqlite: malformed audit index block %d", first)
	}
	return &block{first: uint64(first), last: uint64(last),
		start: auditlog.Pos{Seg: uint64(seg), Off: off}, end: auditlog.Pos{Seg: uint64(endSeg), Off: endOff},
		minT: minT, maxT: maxT, sum: &auditlog.Summary{Bloom: bloom, Keys: int(keys)}}, nil
}

// lastBlock returns the newest block (nil if none).
func lastBlock(ctx context.Context, q *sql.DB) (*block, error) {
	b, err := scanBlock(q.QueryRowContext(ctx, "SELECT "+blockColumns+" FROM audit_blocks ORDER BY first_seq DESC LIMIT 1"))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return b, err
}

// indexer keeps audit_blocks up to date.
type indexer struct {
	db  *DB
	dir string

	passMu sync.Mutex // one pass at a time; guards open, attrs and mem
	open   *block     // the newest block while it can grow
	attrs  auditlog.Attrs
	mem    []memRecord // the records taken from the queue by a pass

	mu      sync.Mutex // guards next
	next    auditlog.Pos
	nextSeq atomic.Uint64 // the first record not indexed

	qmu   sync.Mutex
	queue []memRecord // committed, not indexed, consecutive seqs

	kick chan struct{}
	quit chan struct{}
	done chan struct{}
}

// enqueue adds a committed batch's records (offsets relative to the
// batch's position at) to the queue. A batch that does not follow the
// queue's last record (records without keys came between) starts the
// queue afresh; the pass reads what lies between from the log.
func (ix *indexer) enqueue(batch []memRecord, at auditlog.Pos) {
	ix.qmu.Lock()
	defer ix.qmu.Unlock()
	if n := len(ix.queue); n > 0 && ix.queue[n-1].seq+1 != batch[0].seq || len(ix.queue)+len(batch) > maxQueue {
		ix.forgetLocked()
	}
	for _, r := range batch {
		r.seg, r.off, r.end = at.Seg, at.Off+r.off, at.Off+r.end
		ix.queue = append(ix.queue, r)
	}
}

// take removes and returns the queued records up to seq size. The result
// is valid until the next take.
func (ix *indexer) take(size uint64, into []memRecord) []memRecord {
	ix.qmu.Lock()
	defer ix.qmu.Unlock()
	n := 0
	for n < len(ix.queue) && ix.queue[n].seq <= size {
		n++
	}
	into = append(into[:0], ix.queue[:n]...)
	rest := copy(ix.queue, ix.queue[n:])
	clear(ix.queue[rest:])
	ix.queue = ix.queue[:rest]
	return into
}

// forget empties the queue (the log was rewritten: an import, a rebuild).
func (ix *indexer) forget() {
	ix.qmu.Lock()
	ix.forgetLocked()
	ix.qmu.Unlock()
}

func (ix *indexer) forgetLocked() {
	clear(ix.queue)
	ix.queue = ix.queue[:0]
}

// startIndexer loads the index's state (rebuilding it if it does not fit
// the log) and starts the background indexing. It runs in Open before the
// committer starts.
func (db *DB) startIndexer(ctx context.Context) (*indexer, error) {
	ix := &indexer{db: db, dir: db.auditDir, kick: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
	ix.nextSeq.Store(1)
	b, err := lastBlock(ctx, db.write)
	if err != nil {
		return nil, err
	}
	size, _ := db.audit.head()
	if b != nil {
		ok := b.last <= size
		if ok && b.last < size {
			// The index must end where a record starts.
			f, _, err := auditlog.ReadFrame(ix.dir, b.end, 0)
			ok = err == nil && f.Record.Seq == b.last+1
		}
		if ok {
			ix.next = b.end
			ix.nextSeq.Store(b.last + 1)
			if !b.full() {
				ix.open = b
			}
		} else {
			db.log.Warn("audit index does not match the log; rebuilding it", "index_end", b.last, "log_records", size)
			if _, err := db.write.ExecContext(ctx, "DELETE FROM audit_blocks"); err != nil {
				return nil, err
			}
		}
	}
	db.audit.ix = ix
	go ix.run()
	return ix, nil
}

// position returns where the index ends: the position and seq of the
// first record not indexed (a zero position: the start of the log).
func (ix *indexer) position() (auditlog.Pos, uint64) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.next, ix.nextSeq.Load()
}

// committed is told the committed log's size after each batch.
func (ix *indexer) committed(size uint64) {
	if size+1 >= ix.nextSeq.Load()+indexBacklog {
		select {
		case ix.kick <- struct{}{}:
		default:
		}
	}
}

func (ix *indexer) run() {
	defer close(ix.done)
	tick := time.NewTicker(indexEvery)
	defer tick.Stop()
	ctx := context.Background()
	for {
		select {
		case <-ix.quit:
			if err := ix.pass(ctx); err != nil {
				ix.db.log.Error("audit index: final pass failed (it catches up at the next start)", "err", err)
			}
			return
		case <-tick.C:
		case <-ix.kick:
		}
		if err := ix.pass(ctx); err != nil {
			ix.db.log.Error("audit index: pass failed (will retry)", "err", err)
		}
	}
}

// stop runs a last pass and stops the indexer (before the committer stops).
func (ix *indexer) stop() {
	select {
	case <-ix.quit:
		return
	default:
	}
	close(ix.quit)
	<-ix.done
}

// pass indexes the committed records not indexed yet, in one unit.
func (ix *indexer) pass(ctx context.Context) error {
	ix.passMu.Lock()
	defer ix.passMu.Unlock()
	size, end := ix.db.audit.head()
	from, seq := ix.position()
	if size < seq {
		return nil
	}
	var out []*block
	cur := ix.open
	if cur != nil {
		cur = cur.clone()
	}
	// Records in the queue come from memory; those before it (or all,
	// when it is empty) from the log.
	mem := ix.take(size, ix.mem)
	ix.mem = mem
	for len(mem) > 0 && mem[0].seq < seq {
		mem = mem[1:]
	}
	to := end
	if len(mem) > 0 {
		to = auditlog.Pos{Seg: mem[0].seg, Off: mem[0].off}
	}
	// Each record: summary(its position) for the block it goes into, then
	// added(where it ends, its time).
	summary := func(pos auditlog.Pos) *auditlog.Summary {
		if cur == nil {
			cur = &block{first: seq, start: pos, minT: math.MaxInt64, maxT: math.MinInt64, sum: auditlog.NewSummary()}
		}
		return cur.sum
	}
	added := func(next auditlog.Pos, t int64) {
		cur.minT, cur.maxT = min(cur.minT, t), max(cur.maxT, t)
		cur.last, cur.end = seq, next
		seq++
		if cur.full() {
			out = append(out, cur)
			cur = nil
		}
	}
	if len(mem) == 0 || from != to {
		for it, err := range auditlog.Frames(ix.dir, auditlog.ReadOptions{From: from, To: to}) {
			if err != nil {
				return fmt.Errorf("audit index: %w", err)
			}
			if it.Record.Seq != seq {
				return fmt.Errorf("audit index: found record %d at %s where %d belongs", it.Record.Seq, it.Pos, seq)
			}
			sum := summary(it.Pos)
			var t int64
			if ix.attrs.Parse(it.Record.Body) == nil {
				sum.Add(&ix.attrs)
				t = ix.attrs.Unix()
			}
			added(it.End(), t)
		}
	}
	for i := range mem {
		r := &mem[i]
		if r.seq != seq {
			return fmt.Errorf("audit index: the committer handed over record %d where %d belongs", r.seq, seq)
		}
		summary(auditlog.Pos{Seg: r.seg, Off: r.off}).AddKeys(&r.keys)
		added(auditlog.Pos{Seg: r.seg, Off: r.end}, r.keys.Unix)
	}
	clear(ix.mem) // the keys' strings
	if cur != nil {
		out = append(out, cur)
	}
	if len(out) == 0 {
		return nil
	}
	u := ix.db.newUnit()
	defer u.Rollback()
	for _, b := range out {
		u.exec(upsertBlockSQL, b.args()...)
	}
	if err := u.Commit(); err != nil {
		return fmt.Errorf("audit index: %w", err)
	}
	last := out[len(out)-1]
	ix.mu.Lock()
	ix.next = last.end
	ix.nextSeq.Store(last.last + 1)
	ix.mu.Unlock()
	ix.open = nil
	if !last.full() {
		ix.open = last
	}
	return nil
}

// sync brings the index up to the committed head.
func (ix *indexer) sync(ctx context.Context) error { return ix.pass(ctx) }

// rebuild empties the index and indexes the whole log again.
func (ix *indexer) rebuild(ctx context.Context) error {
	ix.passMu.Lock()
	ix.forget()
	u := ix.db.newUnit()
	u.exec("DELETE FROM audit_blocks")
	err := u.Commit()
	if err == nil {
		ix.mu.Lock()
		ix.next = auditlog.Pos{}
		ix.nextSeq.Store(1)
		ix.mu.Unlock()
		ix.open = nil
	}
	ix.passMu.Unlock()
	if err != nil {
		return err
	}
	return ix.pass(ctx)
}

// ReindexAudit rebuilds the audit log's lookup index from the log.
func (db *DB) ReindexAudit(ctx context.Context) error { return db.audit.ix.rebuild(ctx) }
