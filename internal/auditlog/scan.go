package auditlog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// scanChunk is how much a scanner reads at a time.
const scanChunk = 256 << 10

// scanner reads frames in log order, from a position to the end of the
// log (or a bound), moving from segment to segment. It is not safe for
// concurrent use; a frame's body aliases the scanner's buffer and is valid
// until the next call.
type scanner struct {
	dir  string
	segs []uint64
	si   int // index of the current segment in segs
	f    *os.File
	size int64 // size of the current segment file
	off  int64 // offset of the next frame in the current segment

	buf    []byte
	bufOff int64 // file offset of buf[0]
	bufLen int   // valid bytes in buf
}

// newScanner starts at from (a frame boundary). from.Seg must be one of
// segs, or zero for the first segment.
func newScanner(dir string, segs []uint64, from Pos) *scanner {
	s := &scanner{dir: dir, segs: segs, si: -1}
	if from.IsZero() {
		if len(segs) > 0 {
			s.si = 0
			s.off = SegmentHeaderSize
		}
		return s
	}
	for i, n := range segs {
		if n == from.Seg {
			s.si = i
			s.off = from.Off
		}
	}
	return s
}

func (s *scanner) close() {
	if s.f != nil {
		s.f.Close()
		s.f = nil
	}
}

// pos returns the position of the next frame.
func (s *scanner) pos() Pos {
	if s.si < 0 || s.si >= len(s.segs) {
		return Pos{}
	}
	return Pos{Seg: s.segs[s.si], Off: s.off}
}

var errNoSegment = errors.New("auditlog: position is not in any segment")

// open opens the current segment if needed.
func (s *scanner) open() error {
	if s.f != nil {
		return nil
	}
	if s.si < 0 || s.si >= len(s.segs) {
		return errNoSegment
	}
	n := s.segs[s.si]
	f, size, err := openSegmentFile(s.dir, n, os.O_RDONLY)
	if err != nil {
		return err
	}
	s.f, s.size, s.bufLen = f, size, 0
	return nil
}

// window returns the bytes of the current segment from off, at least want
// of them unless the file ends first.
func (s *scanner) window(off int64, want int) ([]byte, error) {
	if off >= s.bufOff && off+int64(want) <= s.bufOff+int64(s.bufLen) {
		return s.buf[off-s.bufOff : s.bufLen], nil
	}
	n := max(want, scanChunk)
	if int64(n) > s.size-off {
		n = int(max(s.size-off, 0))
	}
	if cap(s.buf) < n {
		s.buf = make([]byte, n)
	}
	s.buf = s.buf[:cap(s.buf)]
	m, err := s.f.ReadAt(s.buf[:n], off)
	if err != nil && !(errors.Is(err, io.EOF) && m == n) {
		if !errors.Is(err, io.EOF) {
			return nil, err
		}
	}
	s.bufOff, s.bufLen = off, m
	return s.buf[:m], nil
}

// next returns the next frame, its position and size. At the end of a
// segment's data (a zero length, or the file's end at a frame boundary) it
// goes on in the next segment; after the last one it returns io.EOF. A bad
// frame returns ErrCorrupt, ErrChecksum (with the decoded frame and its
// size: skip(size) goes on after it) or ErrShort (the frame runs past the
// file's end), with the frame's position; the scanner stays there.
func (s *scanner) next() (Frame, Pos, int, error) {
	for {
		if err := s.open(); err != nil {
			if err == errNoSegment {
				return Frame{}, s.pos(), 0, io.EOF
			}
			return Frame{}, s.pos(), 0, err
		}
		p := s.pos()
		b, err := s.window(s.off, FrameHeaderSize)
		if err != nil {
			return Frame{}, p, 0, err
		}
		f, size, err := ParseFrame(b)
		if err == ErrShort && size > 0 && s.off+int64(size) <= s.size {
			if b, err = s.window(s.off, size); err != nil {
				return Frame{}, p, 0, err
			}
			f, size, err = ParseFrame(b)
		}
		switch {
		case err == nil:
			s.off += int64(size)
			return f, p, size, nil
		case err == ErrEnd:
			// This segment's data ends here: on to the next segment.
			s.close()
			s.si++
			s.off = SegmentHeaderSize
			continue
		case err == ErrChecksum:
			return f, p, size, err
		case errors.Is(err, ErrCorrupt):
			return Frame{}, p, 0, err
		case err == ErrShort:
			return Frame{}, p, 0, fmt.Errorf("%w at %s: the segment ends inside the frame", ErrShort, p)
		}
		return Frame{}, p, 0, err
	}
}

// skip moves past a frame of size bytes that next reported as bad.
func (s *scanner) skip(size int) { s.off += int64(size) }

// seek moves to p (a frame boundary in one of the scanner's segments).
func (s *scanner) seek(p Pos) {
	if s.si >= 0 && s.si < len(s.segs) && s.segs[s.si] == p.Seg {
		s.off = p.Off
		return
	}
	s.close()
	s.si = -1
	for i, n := range s.segs {
		if n == p.Seg {
			s.si, s.off = i, p.Off
		}
	}
}

// validAfter reports whether a good frame (CRC intact) follows p in the
// log: after the frame of size bytes at p in its segment (when its size is
// unknown, at any later offset of the segment), or at the start of a later
// segment. It tells damage in the middle of the log from a torn tail.
func validAfter(dir string, segs []uint64, p Pos, size int) bool {
	if size > 0 {
		s := newScanner(dir, segs, Pos{Seg: p.Seg, Off: p.Off + int64(size)})
		_, _, _, err := s.next()
		s.close()
		if err == nil {
			return true
		}
	} else if goodFrameIn(dir, p) {
		return true
	}
	for _, n := range segs {
		if n > p.Seg {
			s := newScanner(dir, segs, Pos{Seg: n, Off: SegmentHeaderSize})
			_, _, _, err := s.next()
			s.close()
			return err == nil
		}
	}
	return false
}

// goodFrameIn reports whether a frame with a good CRC starts anywhere in
// p's segment after p (a slow search, for damaged logs only).
func goodFrameIn(dir string, p Pos) bool {
	f, err := os.Open(SegmentPath(dir, p.Seg))
	if err != nil {
		return false
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	found := false
	budget := int64(searchBudget)
	findFrames(f, p.Off+1, fi.Size(), &budget, func(Frame, int64, int) bool {
		found = true
		return false
	})
	return found
}

// searchBudget bounds how many bytes a search for frames in garbage
// checksums before it gives up.
const searchBudget = 64 << 20

var errBudget = errors.New("auditlog: too much garbage to search")

// findFrames calls fn for every frame with a good CRC that starts in
// [from, to) of f, at any offset (frames found are skipped over), until fn
// returns false. It spends at most *budget bytes on checksums
// (errBudget after that).
func findFrames(f *os.File, from, to int64, budget *int64, fn func(fr Frame, off int64, size int) bool) error {
	const chunk = 1 << 20
	buf := make([]byte, chunk)
	var frame []byte
	try := func(off int64) (int, bool, error) {
		var hdr [FrameHeaderSize]byte
		if n, _ := f.ReadAt(hdr[:], off); n < FrameHeaderSize {
			return 0, false, nil
		}
		l := int(binary.BigEndian.Uint32(hdr[:]))
		if l < minPayload || l > maxPayload || off+int64(FrameHeaderSize+l) > to {
			return 0, false, nil
		}
		if *budget -= int64(l); *budget < 0 {
			return 0, false, errBudget
		}
		if cap(frame) < FrameHeaderSize+l {
			frame = make([]byte, FrameHeaderSize+l)
		}
		frame = frame[:FrameHeaderSize+l]
		if n, _ := f.ReadAt(frame, off); n < len(frame) {
			return 0, false, nil
		}
		fr, size, err := ParseFrame(frame)
		if err != nil {
			return 0, false, nil
		}
		return size, fn(fr, off, size), nil
	}
	tried := from - 1 // the last start tried
	for base := from; base < to; {
		n, err := f.ReadAt(buf[:min(int64(chunk), to-base)], base)
		if n == 0 {
			if err != nil && !errors.Is(err, io.EOF) {
				return err
			}
			return nil
		}
		next := base + int64(n)
	walk:
		for i := 0; i < n; i++ {
			if buf[i] == 0 {
				continue
			}
			// A non-zero byte: a frame may start here or up to three
			// bytes before (the high bytes of its length are zero).
			for start := max(base+int64(i)-3, tried+1, from); start <= base+int64(i); start++ {
				tried = start
				size, more, err := try(start)
				if err != nil {
					return err
				}
				if size == 0 {
					continue
				}
				if !more {
					return nil
				}
				end := start + int64(size)
				tried = end - 1
				if end >= base+int64(n) {
					next = end
					break walk
				}
				i = int(end-base) - 1
				break
			}
		}
		base = next
	}
	return nil
}
