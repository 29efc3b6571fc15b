package audit

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Sink receives committed records, in log order, for mirroring.
type Sink interface {
	WriteRecords(recs []Record) error
	Close() error
}

// Errors from sinks.
var (
	ErrClosed        = errors.New("audit: sink is closed")
	ErrNotContiguous = errors.New("audit: records do not continue the mirrored log")
	ErrSinkBroken    = errors.New("audit: file sink is broken after a failed write; reopen it")
)

// File sink defaults.
const (
	DefaultMaxFileBytes = 64 << 20
	DefaultKeepFiles    = 10
	maxLineBytes        = 16 << 20
)

// FileOptions configures a FileSink.
type FileOptions struct {
	// MaxBytes is the size at which the current file is rotated: a batch
	// that would make it larger starts a new file (a single record larger
	// than MaxBytes still gets a file of its own). 0 means
	// DefaultMaxFileBytes; negative disables rotation.
	MaxBytes int64
	// Keep is the number of rotated files kept (path.1 … path.Keep); older
	// ones are deleted at rotation. 0 means DefaultKeepFiles.
	Keep int
}

// FileSink mirrors records to a JSON Lines file (one AppendRecordLine line
// per record) with size-based rotation: path is the current file, path.1 the
// most recently rotated one, up to path.Keep. Files are created 0600; each
// WriteRecords call is fsynced before it returns.
//
// The sink keeps the mirror contiguous: records at or below the last
// mirrored Seq are skipped (so replaying after a restart is harmless), and a
// record that does not continue the chain (gap, or a different record at
// the last Seq) is refused with ErrNotContiguous. An empty mirror accepts
// any first record. A FileSink is safe for concurrent use.
type FileSink struct {
	mu       sync.Mutex
	path     string
	maxBytes int64
	keep     int
	f        *os.File
	size     int64
	lastSeq  uint64
	lastHash [32]byte
	buf      []byte
	closed   bool
	broken   bool
}

// OpenFileSink opens (creating if needed) the mirror at path. A final
// partial line, left by a crash during a write that was therefore never
// acknowledged, is cut off. LastSeq reports where the mirror ends.
func OpenFileSink(path string, opts FileOptions) (*FileSink, error) {
	if opts.MaxBytes == 0 {
		opts.MaxBytes = DefaultMaxFileBytes
	}
	if opts.Keep <= 0 {
		opts.Keep = DefaultKeepFiles
	}
	s := &FileSink{path: path, maxBytes: opts.MaxBytes, keep: opts.Keep}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit: open mirror: %w", err)
	}
	s.f = f
	if err := s.load(); err != nil {
		f.Close()
		return nil, err
	}
	return s, nil
}

func (s *FileSink) load() error {
	if err := s.f.Chmod(0o600); err != nil {
		return fmt.Errorf("audit: open mirror: %w", err)
	}
	fi, err := s.f.Stat()
	if err != nil {
		return fmt.Errorf("audit: open mirror: %w", err)
	}
	line, end, err := lastLine(s.f, fi.Size())
	if err != nil {
		return fmt.Errorf("audit: open mirror: %w", err)
	}
	if end != fi.Size() { // torn tail
		if err := s.f.Truncate(end); err != nil {
			return fmt.Errorf("audit: open mirror: cut partial line: %w", err)
		}
		if err := s.f.Sync(); err != nil {
			return fmt.Errorf("audit: open mirror: %w", err)
		}
	}
	s.size = end
	if line == nil { // current file empty: the newest rotated file ends the log
		if nums, err := rotatedFiles(s.path); err == nil && len(nums) > 0 {
			rf, err := os.Open(s.path + "." + strconv.Itoa(nums[0]))
			if err != nil {
				return fmt.Errorf("audit: open mirror: %w", err)
			}
			defer rf.Close()
			rfi, err := rf.Stat()
			if err != nil {
				return fmt.Errorf("audit: open mirror: %w", err)
			}
			if line, _, err = lastLine(rf, rfi.Size()); err != nil {
				return fmt.Errorf("audit: open mirror: %w", err)
			}
		}
	}
	if line != nil {
		rec, err := ParseRecordLine(line)
		if err != nil {
			return fmt.Errorf("audit: open mirror: last record: %w", err)
		}
		s.lastSeq, s.lastHash = rec.Seq, rec.Hash
	}
	return syncDir(filepath.Dir(s.path))
}

// LastSeq returns the Seq of the last mirrored record (0 if none).
func (s *FileSink) LastSeq() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastSeq
}

// WriteRecords appends recs (in Seq order) and fsyncs. On error, LastSeq
// tells how far the mirror got (a batch that spans a rotation may be
// partly written); nothing of a failed file write remains in the file (it
// is cut back), unless even that fails, in which case the sink reports
// ErrSinkBroken until reopened.
func (s *FileSink) WriteRecords(recs []Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if s.broken {
		return ErrSinkBroken
	}
	s.buf = s.buf[:0]
	lastSeq, lastHash := s.lastSeq, s.lastHash
	for i := range recs {
		r := &recs[i]
		if lastSeq != 0 && r.Seq <= lastSeq {
			if r.Seq == lastSeq && r.Hash != lastHash {
				return fmt.Errorf("%w: seq %d differs from the mirrored record", ErrNotContiguous, r.Seq)
			}
			continue
		}
		if lastSeq != 0 && (r.Seq != lastSeq+1 || r.Prev != lastHash) {
			return fmt.Errorf("%w: seq %d after %d", ErrNotContiguous, r.Seq, lastSeq)
		}
		n := len(s.buf)
		var err error
		if s.buf, err = AppendRecordLine(s.buf, r); err != nil {
			return err
		}
		if s.maxBytes > 0 && s.size+int64(len(s.buf)) > s.maxBytes && s.size+int64(n) > 0 {
			// This line does not fit: write what fits, rotate, carry the line over.
			line := slices.Clone(s.buf[n:])
			if err := s.flush(s.buf[:n]); err != nil {
				return err
			}
			s.lastSeq, s.lastHash = lastSeq, lastHash
			if err := s.rotate(); err != nil {
				return err
			}
			s.buf = append(s.buf[:0], line...)
		}
		lastSeq, lastHash = r.Seq, r.Hash
	}
	if err := s.flush(s.buf); err != nil {
		return err
	}
	s.lastSeq, s.lastHash = lastSeq, lastHash
	return nil
}

// flush writes b to the current file and fsyncs it.
func (s *FileSink) flush(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	_, err := s.f.Write(b)
	if err == nil {
		err = s.f.Sync()
	}
	if err != nil {
		if terr := s.f.Truncate(s.size); terr != nil {
			s.broken = true
		}
		return fmt.Errorf("audit: write mirror: %w", err)
	}
	s.size += int64(len(b))
	return nil
}

// rotate shifts path.N → path.N+1 (dropping those beyond keep), moves path
// to path.1 and starts a new, empty path.
func (s *FileSink) rotate() error {
	if err := s.f.Close(); err != nil {
		s.broken = true
		return fmt.Errorf("audit: rotate mirror: %w", err)
	}
	nums, err := rotatedFiles(s.path)
	if err != nil {
		s.broken = true
		return fmt.Errorf("audit: rotate mirror: %w", err)
	}
	for _, n := range nums { // descending
		old := s.path + "." + strconv.Itoa(n)
		if n >= s.keep {
			err = os.Remove(old)
		} else {
			err = os.Rename(old, s.path+"."+strconv.Itoa(n+1))
		}
		if err != nil {
			s.broken = true
			return fmt.Errorf("audit: rotate mirror: %w", err)
		}
	}
	if err := os.Rename(s.path, s.path+".1"); err != nil {
		s.broken = true
		return fmt.Errorf("audit: rotate mirror: %w", err)
	}
	f, err := os.OpenFile(s.path, os.O_RDWR|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
	if err != nil {
		s.broken = true
		return fmt.Errorf("audit: rotate mirror: %w", err)
	}
	s.f, s.size = f, 0
	if err := syncDir(filepath.Dir(s.path)); err != nil {
		s.broken = true
		return fmt.Errorf("audit: rotate mirror: %w", err)
	}
	return nil
}

// Close closes the file. Further writes return ErrClosed.
func (s *FileSink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.f.Close()
}

// rotatedFiles returns the N of existing path.N files (N ≥ 1, no leading
// zeros), largest (oldest) first.
func rotatedFiles(path string) ([]int, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var nums []int
	for _, e := range ents {
		suffix, ok := strings.CutPrefix(e.Name(), base+".")
		if !ok || suffix == "" || suffix[0] == '0' || strings.TrimLeft(suffix, "0123456789") != "" {
			continue
		}
		if n, err := strconv.Atoi(suffix); err == nil {
			nums = append(nums, n)
		}
	}
	slices.Sort(nums)
	slices.Reverse(nums)
	return nums, nil
}

// lastLine returns the last complete line of the first size bytes of f
// (with its newline; nil if there is none) and the offset just past it.
func lastLine(f *os.File, size int64) ([]byte, int64, error) {
	nl, err := lastNewline(f, size)
	if err != nil || nl < 0 {
		return nil, 0, err
	}
	prev, err := lastNewline(f, nl)
	if err != nil {
		return nil, 0, err
	}
	line := make([]byte, nl-prev)
	if _, err := f.ReadAt(line, prev+1); err != nil {
		return nil, 0, err
	}
	return line, nl + 1, nil
}

// lastNewline returns the offset of the last '\n' before limit, or -1. It
// gives up after maxLineBytes.
func lastNewline(f *os.File, limit int64) (int64, error) {
	buf := make([]byte, 64<<10)
	for pos := limit; pos > 0; {
		n := min(int64(len(buf)), pos)
		pos -= n
		if _, err := f.ReadAt(buf[:n], pos); err != nil {
			return 0, err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			return pos + int64(i), nil
		}
		if limit-pos > maxLineBytes {
			return 0, fmt.Errorf("%w: line too long", ErrRecord)
		}
	}
	return -1, nil
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

// ReadFiles iterates over the records of a rotated mirror in log order:
// path.N (oldest) … path.1, then path. Rotated files are found by listing
// the directory, so a missing middle file shows up as a gap in Verify. A
// missing current file is not an error. The iterator stops after yielding
// an error. Reading a mirror that is being written may end with an
// incomplete-line error or, across a concurrent rotation, a gap.
func ReadFiles(path string) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		nums, err := rotatedFiles(path)
		if err != nil {
			yield(Record{}, fmt.Errorf("audit: read mirror: %w", err))
			return
		}
		files := make([]string, 0, len(nums)+1)
		for _, n := range nums {
			files = append(files, path+"."+strconv.Itoa(n))
		}
		files = append(files, path)
		for i, name := range files {
			f, err := os.Open(name)
			if err != nil {
				if i == len(files)-1 && errors.Is(err, fs.ErrNotExist) {
					return
				}
				yield(Record{}, fmt.Errorf("audit: read mirror: %w", err))
				return
			}
			ok := readLines(f, filepath.Base(name), yield)
			f.Close()
			if !ok {
				return
			}
		}
	}
}

// ReadRecords iterates over the JSON Lines records in r. The iterator stops
// after yielding an error.
func ReadRecords(r io.Reader) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		readLines(r, "input", yield)
	}
}

// readLines yields the records of r; it returns false if iteration must stop.
func readLines(r io.Reader, name string, yield func(Record, error) bool) bool {
	br := bufio.NewReaderSize(r, 64<<10)
	var long []byte
	for lineNo := 1; ; {
		chunk, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			long = append(long, chunk...)
			if len(long) > maxLineBytes {
				yield(Record{}, fmt.Errorf("audit: %s line %d: %w: line too long", name, lineNo, ErrRecord))
				return false
			}
			continue
		}
		line := chunk
		if long != nil {
			line = append(long, chunk...)
			long = nil
		}
		if err == io.EOF {
			if len(line) == 0 {
				return true
			}
			yield(Record{}, fmt.Errorf("audit: %s line %d: %w: incomplete last line", name, lineNo, ErrRecord))
			return false
		}
		if err != nil {
			yield(Record{}, fmt.Errorf("audit: read %s: %w", name, err))
			return false
		}
		rec, perr := ParseRecordLine(line)
		if perr != nil {
			yield(Record{}, fmt.Errorf("audit: %s line %d: %w", name, lineNo, perr))
			return false
		}
		if !yield(rec, nil) {
			return false
		}
		lineNo++
	}
}

// WriterSink writes records as JSON Lines to an io.Writer (for example
// os.Stdout, for log collectors), one Write per batch. It does not check
// continuity and does not close the writer. It is safe for concurrent use.
type WriterSink struct {
	mu     sync.Mutex
	w      io.Writer
	buf    []byte
	closed bool
}

// NewWriterSink returns a sink writing to w.
func NewWriterSink(w io.Writer) *WriterSink { return &WriterSink{w: w} }

// WriteRecords writes one line per record.
func (s *WriterSink) WriteRecords(recs []Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	s.buf = s.buf[:0]
	for i := range recs {
		var err error
		if s.buf, err = AppendRecordLine(s.buf, &recs[i]); err != nil {
			return err
		}
	}
	if len(s.buf) == 0 {
		return nil
	}
	if _, err := s.w.Write(s.buf); err != nil {
		return fmt.Errorf("audit: write records: %w", err)
	}
	return nil
}

// Close stops the sink; the underlying writer is left open.
func (s *WriterSink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}
