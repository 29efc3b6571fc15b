package auditlog

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Segment files are named by their number, 1, 2, …, as eight or more
// decimal digits with the suffix ".seg" ("00000001.seg"), and start with a
// header: the magic "coffaud1" and the segment number (uint64be). Frames
// follow from SegmentHeaderSize. A segment is created at its full
// preallocated size, zero-filled, under a temporary name and renamed into
// place once that is durable, so a segment file never has unwritten
// (sparse or unwritten-extent) blocks below its size.
const (
	SegmentHeaderSize = 16
	segMagic          = "coffaud1"
	segSuffix         = ".seg"
	tmpSuffix         = ".tmp"
)

// Pos is the position of a frame: a segment number and a byte offset in it.
type Pos struct {
	Seg uint64
	Off int64
}

// Less orders positions in log order.
func (p Pos) Less(q Pos) bool { return p.Seg < q.Seg || p.Seg == q.Seg && p.Off < q.Off }

// IsZero reports whether p is the zero Pos (no position).
func (p Pos) IsZero() bool { return p == Pos{} }

func (p Pos) String() string {
	return segName(p.Seg) + "@" + strconv.FormatInt(p.Off, 10)
}

func segName(n uint64) string {
	s := strconv.FormatUint(n, 10)
	if len(s) < 8 {
		s = strings.Repeat("0", 8-len(s)) + s
	}
	return s + segSuffix
}

// SegmentPath returns the file name of segment n in dir.
func SegmentPath(dir string, n uint64) string { return filepath.Join(dir, segName(n)) }

// parseSegName returns the number of a segment file name.
func parseSegName(name string) (uint64, bool) {
	digits, ok := strings.CutSuffix(name, segSuffix)
	if !ok || len(digits) < 8 || strings.TrimLeft(digits, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseUint(digits, 10, 64)
	if err != nil || n == 0 || segName(n) != name {
		return 0, false
	}
	return n, true
}

// listSegments returns the segment numbers in dir, ascending. A missing
// directory has none.
func listSegments(dir string) ([]uint64, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var segs []uint64
	for _, e := range ents {
		if n, ok := parseSegName(e.Name()); ok && e.Type().IsRegular() {
			segs = append(segs, n)
		}
	}
	slices.Sort(segs)
	return segs, nil
}

func segHeader(n uint64) []byte {
	b := make([]byte, SegmentHeaderSize)
	copy(b, segMagic)
	binary.BigEndian.PutUint64(b[8:], n)
	return b
}

// openSegmentFile opens segment n of dir (flag: os.O_RDONLY or
// os.O_RDWR), checks its header and returns it with its size.
func openSegmentFile(dir string, n uint64, flag int) (*os.File, int64, error) {
	f, err := os.OpenFile(SegmentPath(dir, n), flag, 0)
	if err != nil {
		return nil, 0, err
	}
	if err := checkHeader(f, n); err != nil {
		f.Close()
		return nil, 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, fi.Size(), nil
}

// checkHeader reads and checks the header of segment n.
func checkHeader(f *os.File, n uint64) error {
	b := make([]byte, SegmentHeaderSize)
	if _, err := f.ReadAt(b, 0); err != nil {
		return fmt.Errorf("auditlog: %s: header: %w", segName(n), err)
	}
	if !bytes.Equal(b, segHeader(n)) {
		return fmt.Errorf("%w: %s: bad segment header", ErrCorrupt, segName(n))
	}
	return nil
}

// segmentSize is the preallocated size of segment n: MinSegment doubled
// per segment up to MaxSegment, so a small log stays small.
func (o *Options) segmentSize(n uint64) int64 {
	size := o.MinSegment
	for i := uint64(1); i < n && size < o.MaxSegment; i++ {
		size *= 2
	}
	return min(size, o.MaxSegment)
}

// prepareSegment creates segment n at its full size, zero-filled and
// durable (file and directory), unless it exists.
func prepareSegment(dir string, n uint64, size int64, zeros []byte) error {
	path := SegmentPath(dir, n)
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	tmp := path + tmpSuffix
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	err = writeZeros(f, 0, size, zeros)
	if err == nil {
		_, err = f.WriteAt(segHeader(n), 0)
	}
	if err == nil {
		err = fdatasync(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("auditlog: prepare %s: %w", segName(n), err)
	}
	return nil
}

// writeZeros writes zeros over [off, end) of f.
func writeZeros(f *os.File, off, end int64, zeros []byte) error {
	for off < end {
		n := min(int64(len(zeros)), end-off)
		if _, err := f.WriteAt(zeros[:n], off); err != nil {
			return err
		}
		off += n
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, fs.ErrInvalid) {
		return err
	}
	return nil
}
