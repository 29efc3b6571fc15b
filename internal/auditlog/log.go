package auditlog

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/coffer-dev/coffer/internal/audit"
)

// Options configures a Log. The zero value is fine.
type Options struct {
	// MinSegment and MaxSegment bound segment sizes: segment n is
	// preallocated to MinSegment·2^(n-1) bytes, at most MaxSegment. A
	// batch that does not fit in what is left of a segment goes to the
	// next one (a batch larger than a whole segment grows it). Defaults:
	// 1 MiB and 64 MiB.
	MinSegment, MaxSegment int64
	// Log receives notes (tails cut at start, preallocation failures).
	Log *slog.Logger
}

const (
	defaultMinSegment = 1 << 20
	defaultMaxSegment = 64 << 20
	zeroBufSize       = 256 << 10
)

// Start is what the store knows about the log when it opens it: the chain
// state it committed last (with the position of that record's frame), the
// id of the last batch whose store transaction committed, and where a
// failed batch that could not be erased began.
type Start struct {
	// State is the chain state after record State.Size, which is at Last.
	// The zero State means the store knows nothing: the log is read from
	// its beginning.
	State audit.ChainState
	Last  Pos
	// StoreBatch is the batch id the store's last committed transaction
	// recorded (0: none). A batch flagged FlagStore with a larger id at
	// the end of the log never committed its store writes, so none of its
	// units was acknowledged: it is cut.
	StoreBatch uint64
	// CutFrom, if not 0, is the id (first seq) of a batch whose write
	// failed and could not be erased: that batch, if it ends the log, is
	// cut.
	CutFrom uint64
}

// Recovered describes the log as Open found it (after cutting).
type Recovered struct {
	// State is the chain state after the last record; Last the position
	// of that record's frame (zero for an empty log); End the position
	// just past it, where the log's data ends.
	State     audit.ChainState
	Last, End Pos
	// CutRecords and CutBytes count what was cut from the tail: records
	// of a batch that was never acknowledged, torn frames, garbage.
	CutRecords int
	CutBytes   int64
}

// Errors of a Log.
var (
	// ErrDamaged means the log does not hold what the store committed
	// (records missing or changed): the log is not opened.
	ErrDamaged = errors.New("auditlog: the audit log does not match the store's chain state")
	// ErrBroken is returned by Write after a failed batch could not be
	// erased: the log takes no more records until it is reopened.
	ErrBroken = errors.New("auditlog: the audit log is broken after a failed write (restart to recover)")
)

// Log appends batches of frames to the segment files of a directory. Write
// and Retract are for one goroutine (the store's committer); segments are
// preallocated ahead in the background.
type Log struct {
	dir   string
	opts  Options
	zeros []byte

	// The writer's state (one goroutine).
	f      *os.File
	seg    uint64
	size   int64 // the active segment's size
	end    int64 // offset where the next batch goes
	broken error

	// Background preallocation of segment want.
	want   atomic.Uint64
	prepMu sync.Mutex // held while a segment is prepared
	wake   chan struct{}
	quit   chan struct{}
	done   chan struct{}
}

// Open opens the log in dir (creating it), recovers its tail against
// start and returns the log ready for Write, positioned after its last
// record. See Start for what is cut. A log that does not continue start
// (the record start names is missing or different) is ErrDamaged.
func Open(dir string, opts Options, start Start) (*Log, Recovered, error) {
	if opts.MinSegment <= 0 {
		opts.MinSegment = defaultMinSegment
	}
	if opts.MaxSegment <= 0 {
		opts.MaxSegment = defaultMaxSegment
	}
	opts.MaxSegment = max(opts.MaxSegment, opts.MinSegment)
	opts.MinSegment = max(opts.MinSegment, SegmentHeaderSize+FrameOverhead)
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	l := &Log{dir: dir, opts: opts, zeros: make([]byte, zeroBufSize),
		wake: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
	if ents, err := os.ReadDir(dir); err == nil {
		for _, e := range ents {
			if strings.HasSuffix(e.Name(), segSuffix+tmpSuffix) {
				os.Remove(filepath.Join(dir, e.Name())) // an interrupted preallocation
			}
		}
	}
	segs, err := listSegments(dir)
	if err != nil {
		return nil, Recovered{}, err
	}
	var rec Recovered
	if len(segs) == 0 {
		if start.State.Size > 0 {
			return nil, Recovered{}, fmt.Errorf("%w: the store has %d records, the log directory %s has none", ErrDamaged, start.State.Size, dir)
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, Recovered{}, err
		}
		if err := prepareSegment(dir, 1, opts.segmentSize(1), l.zeros); err != nil {
			return nil, Recovered{}, err
		}
		segs = []uint64{1}
		rec.End = Pos{Seg: 1, Off: SegmentHeaderSize}
	} else {
		if rec, err = recoverLog(dir, segs, start, l.zeros); err != nil {
			return nil, Recovered{}, err
		}
		if rec.CutRecords > 0 || rec.CutBytes > 0 {
			opts.Log.Warn("audit log: cut an unacknowledged tail", "records", rec.CutRecords, "bytes", rec.CutBytes, "at", rec.End.String())
		}
	}
	if err := l.openSegment(rec.End.Seg); err != nil {
		return nil, Recovered{}, err
	}
	l.end = rec.End.Off
	l.want.Store(l.seg + 1)
	go l.preallocate()
	l.wakeUp()
	return l, rec, nil
}

// Dir returns the log's directory.
func (l *Log) Dir() string { return l.dir }

// End returns where the next batch goes.
func (l *Log) End() Pos { return Pos{Seg: l.seg, Off: l.end} }

func (l *Log) openSegment(n uint64) error {
	f, size, err := openSegmentFile(l.dir, n, os.O_RDWR)
	if err != nil {
		return err
	}
	if l.f != nil {
		l.f.Close()
	}
	l.f, l.seg, l.size, l.end = f, n, size, SegmentHeaderSize
	return nil
}

// Write appends b (whole frames, a batch, from AppendFrame) with one write
// and makes it durable (fdatasync) before it returns the position of its
// first frame. A batch goes to the next segment when it does not fit in
// the active one. If the write fails, what may have reached the file is
// erased (or, if that fails too, the log is broken: see Broken).
func (l *Log) Write(b []byte) (Pos, error) {
	if l.broken != nil {
		return Pos{}, l.broken
	}
	if l.end > SegmentHeaderSize && l.end+int64(len(b)) > l.size {
		if err := l.roll(); err != nil {
			return Pos{}, err
		}
	}
	p := Pos{Seg: l.seg, Off: l.end}
	_, err := l.f.WriteAt(b, l.end)
	if err == nil {
		err = fdatasync(l.f)
	}
	if err != nil {
		// Part of the batch may be on disk: erase it (or break the log).
		if rerr := l.Retract(p, len(b)); rerr != nil {
			return p, fmt.Errorf("auditlog: write: %w (%w)", err, rerr)
		}
		return p, fmt.Errorf("auditlog: write: %w", err)
	}
	l.end += int64(len(b))
	l.size = max(l.size, l.end)
	return p, nil
}

// Retract erases a batch that was written at p (n bytes) but whose units
// fail (its store commit failed, or its own write did): it writes zeros
// over it, makes that durable, and the next batch goes to p. If that
// fails the log is broken: every later Write fails until it is reopened
// (recovery then cuts the batch; see Start.CutFrom).
func (l *Log) Retract(p Pos, n int) error {
	if l.broken != nil {
		return l.broken
	}
	err := errors.New("auditlog: retract: not the last batch")
	if p.Seg == l.seg && p.Off >= SegmentHeaderSize {
		err = writeZeros(l.f, p.Off, p.Off+int64(n), l.zeros)
		if err == nil {
			err = fdatasync(l.f)
		}
	}
	if err != nil {
		l.broken = fmt.Errorf("%w: %w", ErrBroken, err)
		return l.broken
	}
	l.end = p.Off
	return nil
}

// CutTo erases everything from p (a frame boundary in a segment at or
// before the active one) to the end of the log, for an import that
// failed after writing several batches; the next batch goes to p. If that
// fails the log is broken.
func (l *Log) CutTo(p Pos) error {
	if l.broken != nil {
		return l.broken
	}
	segs, err := listSegments(l.dir)
	if err == nil {
		_, err = zeroFrom(l.dir, segs, p, l.zeros, nil)
	}
	if err == nil && p.Seg != l.seg {
		err = l.openSegment(p.Seg)
	}
	if err != nil {
		l.broken = fmt.Errorf("%w: %w", ErrBroken, err)
		return l.broken
	}
	l.end = p.Off
	l.want.Store(l.seg + 1)
	return nil
}

// Broken returns the error that broke the log, or nil.
func (l *Log) Broken() error { return l.broken }

// MarkBroken stops further writes (for a failure the log cannot judge).
func (l *Log) MarkBroken(err error) {
	if l.broken == nil {
		l.broken = fmt.Errorf("%w: %w", ErrBroken, err)
	}
}

// roll makes the next segment active.
func (l *Log) roll() error {
	next := l.seg + 1
	l.prepMu.Lock()
	err := prepareSegment(l.dir, next, l.opts.segmentSize(next), l.zeros)
	l.prepMu.Unlock()
	if err != nil {
		return err
	}
	if err := l.openSegment(next); err != nil {
		return err
	}
	l.want.Store(next + 1)
	l.wakeUp()
	return nil
}

func (l *Log) wakeUp() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// preallocate keeps the segment after the active one ready.
func (l *Log) preallocate() {
	defer close(l.done)
	zeros := make([]byte, zeroBufSize)
	for {
		select {
		case <-l.quit:
			return
		case <-l.wake:
		}
		n := l.want.Load()
		l.prepMu.Lock()
		err := prepareSegment(l.dir, n, l.opts.segmentSize(n), zeros)
		l.prepMu.Unlock()
		if err != nil {
			l.opts.Log.Error("audit log: preallocating the next segment failed (will retry at the switch)", "err", err)
		}
	}
}

// Close stops the preallocation and closes the active segment.
func (l *Log) Close() error {
	select {
	case <-l.quit:
		return nil
	default:
	}
	close(l.quit)
	<-l.done
	return l.f.Close()
}

// recoverLog finds the end of the log after start, cuts what follows it
// (see Start) and returns the recovered state.
func recoverLog(dir string, segs []uint64, start Start, zeros []byte) (Recovered, error) {
	var rec Recovered
	chain, err := audit.NewChain(start.State)
	if err != nil {
		return rec, fmt.Errorf("%w: %w", ErrDamaged, err)
	}
	s := newScanner(dir, segs, Pos{})
	defer s.close()
	type batch struct {
		id         uint64
		store      bool
		start      Pos              // first frame
		before     audit.ChainState // chain state before it
		beforeLast Pos              // the frame before it (zero if none)
		last, end  Pos
		n          int
	}
	var last, end Pos
	if start.State.Size > 0 {
		s.seek(start.Last)
		f, p, size, err := s.next()
		if err != nil || p != start.Last || f.Record.Seq != start.State.Size || f.Record.Hash != start.State.Last || !f.Record.Valid() {
			return rec, fmt.Errorf("%w: record %d is not at %s (found %v)", ErrDamaged, start.State.Size, start.Last, errOr(err, f.Record.Seq))
		}
		last, end = p, Pos{Seg: p.Seg, Off: p.Off + int64(size)}
	} else {
		end = Pos{Seg: segs[0], Off: SegmentHeaderSize}
	}
	lastHash := start.State.Last
	var cur, done *batch
	state := start.State.Clone() // at the end of done (or start)
	scanned := 0
	for {
		f, p, size, err := s.next()
		if err != nil {
			break // the end, a torn frame or garbage: the log ends before it
		}
		r := &f.Record
		if r.Seq != chain.Size()+1 || r.Prev != lastHash || len(r.Body) > MaxBody {
			break
		}
		if cur == nil {
			if f.Batch != r.Seq {
				break
			}
			cur = &batch{id: f.Batch, store: f.Flags&FlagStore != 0, start: p, before: state, beforeLast: last}
			if done != nil {
				cur.beforeLast = done.last
			}
		} else if f.Batch != cur.id || (f.Flags&FlagStore != 0) != cur.store {
			break
		}
		got, err := chain.Append(r.Body)
		if err != nil || got.Hash != r.Hash {
			break
		}
		lastHash = r.Hash
		cur.n++
		scanned++
		if f.Flags&FlagBatchEnd != 0 {
			cur.last, cur.end = p, Pos{Seg: p.Seg, Off: p.Off + int64(size)}
			done, cur = cur, nil
			state = chain.State()
		}
	}
	kept := scanned
	if cur != nil {
		kept -= cur.n
	}
	if done != nil {
		last, end = done.last, done.end
		if (done.store && done.id > start.StoreBatch) || (start.CutFrom != 0 && done.id == start.CutFrom) {
			// Its store transaction never committed, or its write failed:
			// none of its units was acknowledged.
			kept -= done.n
			state, last, end = done.before, done.beforeLast, done.start
		}
	}
	if state.Size < start.State.Size {
		return rec, fmt.Errorf("%w: the log ends at record %d, the store committed %d", ErrDamaged, state.Size, start.State.Size)
	}
	// What follows the end can only be the batch that was being written
	// (or cut above): its id is the next seq. A good frame of another
	// batch there means the log is damaged, not torn: it is not cut.
	inflight := state.Size + 1
	cut, err := zeroFrom(dir, segs, end, zeros, func(f Frame, p Pos) error {
		if f.Batch != inflight {
			return fmt.Errorf("%w: record %d (batch %d) at %s follows the end of the intact log at %s: the log is damaged, not torn; it was left as it is",
				ErrDamaged, f.Record.Seq, f.Batch, p, end)
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, ErrDamaged) || errors.Is(err, errBudget) {
			return rec, fmt.Errorf("%w: %w", ErrDamaged, err)
		}
		return rec, fmt.Errorf("auditlog: cutting the tail at %s: %w", end, err)
	}
	return Recovered{State: state, Last: last, End: end, CutRecords: scanned - kept, CutBytes: cut}, nil
}

func errOr(err error, seq uint64) any {
	if err != nil {
		return err
	}
	return fmt.Sprintf("record %d", seq)
}

// zeroFrom writes zeros over every non-zero byte from p to the end of p's
// segment and over the data of every later segment, and makes that
// durable; it returns how many bytes it zeroed. If check is not nil, it
// is first called for every good frame found there, and an error from it
// stops zeroFrom before it writes anything.
func zeroFrom(dir string, segs []uint64, p Pos, zeros []byte, check func(Frame, Pos) error) (int64, error) {
	type region struct {
		n        uint64
		from, to int64
	}
	var regions []region
	budget := int64(searchBudget)
	for _, n := range segs {
		if n < p.Seg {
			continue
		}
		from := int64(SegmentHeaderSize)
		if n == p.Seg {
			from = p.Off
		}
		fi, err := os.Stat(SegmentPath(dir, n))
		if err != nil {
			return 0, err
		}
		regions = append(regions, region{n, from, fi.Size()})
		if check == nil {
			continue
		}
		f, err := os.Open(SegmentPath(dir, n))
		if err != nil {
			return 0, err
		}
		var cerr error
		err = findFrames(f, from, fi.Size(), &budget, func(fr Frame, off int64, _ int) bool {
			cerr = check(fr, Pos{Seg: n, Off: off})
			return cerr == nil
		})
		f.Close()
		if err == nil {
			err = cerr
		}
		if err != nil {
			return 0, err
		}
	}
	var total int64
	buf := make([]byte, len(zeros))
	for _, r := range regions {
		f, err := os.OpenFile(SegmentPath(dir, r.n), os.O_RDWR, 0)
		if err != nil {
			return total, err
		}
		dirty := false
		for off := r.from; off < r.to; {
			m, err := f.ReadAt(buf[:min(int64(len(buf)), r.to-off)], off)
			if m > 0 && !allZero(buf[:m]) {
				if _, werr := f.WriteAt(zeros[:m], off); werr != nil {
					f.Close()
					return total, werr
				}
				dirty = true
				total += int64(m)
			}
			off += int64(m)
			if m == 0 || (err != nil && !errors.Is(err, io.EOF)) {
				if err != nil && !errors.Is(err, io.EOF) {
					f.Close()
					return total, err
				}
				break
			}
		}
		if dirty {
			if err := fdatasync(f); err != nil {
				f.Close()
				return total, err
			}
		}
		f.Close()
	}
	return total, nil
}
