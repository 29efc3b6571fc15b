package auditlog

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"iter"

	"github.com/coffer-dev/coffer/internal/audit"
)

// Item is one frame read from the log, with its position and size. Its
// record body is only valid until the iteration continues (clone it to
// keep it).
type Item struct {
	Frame
	Pos  Pos
	Size int
}

// End returns the position just past the item's frame.
func (it *Item) End() Pos { return Pos{Seg: it.Pos.Seg, Off: it.Pos.Off + int64(it.Size)} }

// ReadOptions selects what Frames reads.
type ReadOptions struct {
	// From is the first frame's position (zero: the start of the log).
	From Pos
	// To, if not zero, is where reading stops (exclusive): the end of what
	// a store knows is committed. Every frame before it must be good.
	//
	// Without To the log is read to its end as an outside reader sees it
	// while a server may be writing (or after a crash, before recovery):
	// a batch at the end without its last frame is not yet part of the
	// log, nor is a batch flagged FlagStore with an id above StoreBatch
	// (its store transaction had not committed when StoreBatch was read),
	// nor anything after it; a bad frame followed by nothing good is a
	// torn tail and ends the log. A bad frame with good ones after it is
	// damage: a frame that still decodes is yielded with a nil error (its
	// record will not verify) unless its record is intact, which is
	// yielded as an error, as is a frame that does not decode (and then
	// reading stops).
	To Pos
	// StoreBatch is the store's committed batch id (see Start); with
	// NoStoreBatch no batch is held back for it.
	StoreBatch uint64
}

// NoStoreBatch, as ReadOptions.StoreBatch, keeps every complete batch.
const NoStoreBatch = ^uint64(0)

// maxLookahead bounds how much of a batch Frames holds back to learn that
// it is complete (unbounded reads only); a longer batch is yielded as it
// comes.
const maxLookahead = 8 << 20

// Frames iterates over the frames of the log in dir (see ReadOptions). The
// iteration stops after an error.
func Frames(dir string, o ReadOptions) iter.Seq2[Item, error] {
	return func(yield func(Item, error) bool) {
		segs, err := listSegments(dir)
		if err != nil {
			yield(Item{}, err)
			return
		}
		if len(segs) == 0 {
			return
		}
		if !o.From.IsZero() && !containsSeg(segs, o.From.Seg) {
			yield(Item{Pos: o.From}, fmt.Errorf("%w: %s", errNoSegment, o.From))
			return
		}
		s := newScanner(dir, segs, o.From)
		defer s.close()
		if !o.To.IsZero() {
			bounded(s, o.To, yield)
			return
		}
		view(dir, segs, s, o.StoreBatch, yield)
	}
}

func containsSeg(segs []uint64, n uint64) bool {
	for _, s := range segs {
		if s == n {
			return true
		}
	}
	return false
}

// bounded yields every frame before to.
func bounded(s *scanner, to Pos, yield func(Item, error) bool) {
	for {
		if !s.pos().Less(to) {
			return
		}
		f, p, size, err := s.next()
		if err == io.EOF || (err == nil && !p.Less(to)) {
			if err == io.EOF && p.Less(to) {
				yield(Item{Pos: p}, fmt.Errorf("auditlog: the log ends at %s, before %s", p, to))
			}
			return
		}
		if err != nil {
			yield(Item{Pos: p}, fmt.Errorf("auditlog: %s: %w", p, err))
			return
		}
		if !yield(Item{Frame: f, Pos: p, Size: size}, nil) {
			return
		}
	}
}

// view yields the log as an outside reader sees it (see ReadOptions).
func view(dir string, segs []uint64, s *scanner, storeBatch uint64, yield func(Item, error) bool) {
	var held []Item // the current batch, until its last frame (cloned bodies)
	heldBytes := 0
	batch, inBatch := uint64(0), false
	flush := func() bool {
		for _, it := range held {
			if !yield(it, nil) {
				return false
			}
		}
		held, heldBytes = held[:0], 0
		return true
	}
	for {
		f, p, size, err := s.next()
		if err == io.EOF {
			return // an incomplete batch still held is not part of the log
		}
		if err != nil {
			if !errors.Is(err, ErrChecksum) && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrShort) {
				flush()
				yield(Item{Pos: p}, err)
				return
			}
			if !validAfter(dir, segs, p, size) {
				return // a torn tail
			}
			// Damage inside the log: report it where it is.
			if !flush() {
				return
			}
			if err == ErrChecksum && !f.Record.Valid() {
				if !yield(Item{Frame: f, Pos: p, Size: size}, nil) {
					return
				}
				s.skip(size)
				inBatch = false
				continue
			}
			yield(Item{Frame: f, Pos: p, Size: size}, fmt.Errorf("auditlog: %s: %w", p, err))
			return
		}
		if inBatch && f.Batch != batch {
			// The previous batch has no last frame but another follows:
			// its frames are in the log.
			if !flush() {
				return
			}
		}
		if f.Flags&FlagStore != 0 && f.Batch > storeBatch {
			return // not committed when the reader looked (or never)
		}
		batch, inBatch = f.Batch, true
		it := Item{Frame: f, Pos: p, Size: size}
		if f.Flags&FlagBatchEnd != 0 && len(held) == 0 {
			inBatch = false
			if !yield(it, nil) {
				return
			}
			continue
		}
		if heldBytes+size > maxLookahead {
			if !flush() || !yield(it, nil) {
				return
			}
		} else {
			it.Record.Body = bytes.Clone(it.Record.Body)
			held = append(held, it)
			heldBytes += size
		}
		if f.Flags&FlagBatchEnd != 0 {
			inBatch = false
			if !flush() {
				return
			}
		}
	}
}

// Records iterates over the records of Frames(dir, o), each with its own
// body.
func Records(dir string, o ReadOptions) iter.Seq2[audit.Record, error] {
	return func(yield func(audit.Record, error) bool) {
		for it, err := range Frames(dir, o) {
			r := it.Record
			r.Body = bytes.Clone(r.Body)
			if err != nil {
				if r.Seq == 0 {
					yield(audit.Record{}, err)
				} else {
					yield(audit.Record{}, fmt.Errorf("%w: seq %d: %w", audit.ErrRecord, r.Seq, err))
				}
				return
			}
			if !yield(r, nil) {
				return
			}
		}
	}
}

// ReadFrame reads the frame at p (n bytes; 0 if unknown) and checks it.
func ReadFrame(dir string, p Pos, n int) (Frame, int, error) {
	segs := []uint64{p.Seg}
	s := newScanner(dir, segs, p)
	defer s.close()
	if n > 0 {
		if err := s.open(); err != nil {
			return Frame{}, 0, err
		}
		if _, err := s.window(p.Off, n); err != nil {
			return Frame{}, 0, err
		}
	}
	f, q, size, err := s.next()
	if err == io.EOF || (err == nil && q != p) {
		return Frame{}, 0, fmt.Errorf("%w: no frame at %s", ErrCorrupt, p)
	}
	if err != nil {
		return Frame{}, 0, fmt.Errorf("auditlog: %s: %w", p, err)
	}
	f.Record.Body = bytes.Clone(f.Record.Body)
	return f, size, nil
}
