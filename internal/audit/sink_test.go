package audit_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-dev/coffer/internal/audit"
)

// smallFiles makes every mirror file hold about three test records.
var smallFiles = audit.FileOptions{MaxBytes: 700, Keep: 100}

// writeMirror writes recs through a FileSink in batches of batch records.
func writeMirror(t testing.TB, path string, recs []audit.Record, batch int, opts audit.FileOptions) {
	t.Helper()
	s, err := audit.OpenFileSink(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	for len(recs) > 0 {
		n := min(batch, len(recs))
		if err := s.WriteRecords(recs[:n]); err != nil {
			t.Fatal(err)
		}
		recs = recs[n:]
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// readAll collects the records of a mirror, failing on error.
func readAll(t testing.TB, path string) []audit.Record {
	t.Helper()
	var out []audit.Record
	for r, err := range audit.ReadFiles(path) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// mirrorFiles lists the mirror's files oldest first.
func mirrorFiles(t testing.TB, path string) []string {
	t.Helper()
	var nums []int
	ents, _ := os.ReadDir(filepath.Dir(path))
	for _, e := range ents {
		if n, err := strconv.Atoi(filepath.Ext(e.Name())[min(1, len(filepath.Ext(e.Name()))):]); err == nil && n > 0 {
			nums = append(nums, n)
		}
	}
	slices.Sort(nums)
	slices.Reverse(nums)
	var files []string
	for _, n := range nums {
		files = append(files, path+"."+strconv.Itoa(n))
	}
	return append(files, path)
}

// fileLines returns the lines (with newline) of a file.
func fileLines(t testing.TB, name string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.SplitAfter(b, []byte("\n"))[:bytes.Count(b, []byte("\n"))]
}

func TestFileSinkRoundTripWithRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	recs, _ := testLog(t, 50)
	writeMirror(t, path, recs, 4, smallFiles)

	files := mirrorFiles(t, path)
	if len(files) < 10 {
		t.Fatalf("expected many rotated files, got %d", len(files))
	}
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if perm := fi.Mode().Perm(); perm != 0o600 {
			t.Errorf("%s: mode %o, want 600", f, perm)
		}
		if fi.Size() > smallFiles.MaxBytes {
			t.Errorf("%s: %d bytes exceeds MaxBytes", f, fi.Size())
		}
	}
	if diff := cmp.Diff(recs, readAll(t, path)); diff != "" {
		t.Fatalf("read back (-want +got):\n%s", diff)
	}
	// Each line is exactly AppendRecordLine's output.
	var want []byte
	for i := range recs {
		want, _ = audit.AppendRecordLine(want, &recs[i])
	}
	var got []byte
	for _, f := range files {
		b, _ := os.ReadFile(f)
		got = append(got, b...)
	}
	if !bytes.Equal(want, got) {
		t.Error("concatenated files differ from the JSON Lines form")
	}
	s := testSigner(t, 4)
	if _, err := audit.Verify(audit.ReadFiles(path), signedAt(t, s, recs, 40), s.PublicKey()); err != nil {
		t.Fatal(err)
	}
}

// rewriteMirror applies tamper to the records of a mirror and writes them
// back with the same number of records per file as before (the last files
// absorbing any difference), the way someone editing the files would.
func rewriteMirror(t testing.TB, path string, tamper func([]audit.Record) []audit.Record) {
	t.Helper()
	files := mirrorFiles(t, path)
	counts := make([]int, len(files))
	for i, f := range files {
		counts[i] = len(fileLines(t, f))
	}
	recs := tamper(readAll(t, path))
	for i, f := range files {
		n := counts[i]
		if i == len(files)-1 || n > len(recs) {
			n = len(recs)
		}
		var b []byte
		for j := range recs[:n] {
			// Write even bodies AppendRecordLine would refuse: this is an attacker.
			b = append(b, `{"seq":`+strconv.FormatUint(recs[j].Seq, 10)+`,"prev":"`...)
			b = append(b, hexString(recs[j].Prev)+`","hash":"`+hexString(recs[j].Hash)+`","event":`...)
			b = append(b, recs[j].Body...)
			b = append(b, "}\n"...)
		}
		recs = recs[n:]
		if err := os.WriteFile(f, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func hexString(h [32]byte) string {
	const digits = "0123456789abcdef"
	b := make([]byte, 64)
	for i, c := range h {
		b[2*i], b[2*i+1] = digits[c>>4], digits[c&15]
	}
	return string(b)
}

// TestFileTamper runs the tamper cases against a rotated mirror on disk.
func TestFileTamper(t *testing.T) {
	s := testSigner(t, 9)
	orig, _ := testLog(t, tamperLogSize)
	note := signedAt(t, s, orig, tamperCPSize)
	for _, tc := range tamperCases() {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "audit.jsonl")
			writeMirror(t, path, orig, 3, smallFiles)
			rewriteMirror(t, path, tc.tamper)
			_, err := audit.Verify(audit.ReadFiles(path), note, s.PublicKey())
			checkVerifyErr(t, err, tc.reason, tc.seq, tc.found)
		})
	}
}

// TestFileTamperRaw edits the files' bytes directly, including across a
// rotation boundary.
func TestFileTamperRaw(t *testing.T) {
	s := testSigner(t, 9)
	orig, _ := testLog(t, tamperLogSize)
	note := signedAt(t, s, orig, tamperCPSize)

	type layout struct {
		files []string
		lines [][][]byte // per file
	}
	load := func(t *testing.T, path string) layout {
		var l layout
		l.files = mirrorFiles(t, path)
		for _, f := range l.files {
			l.lines = append(l.lines, fileLines(t, f))
		}
		return l
	}
	save := func(t *testing.T, l layout) {
		for i, f := range l.files {
			if err := os.WriteFile(f, bytes.Join(l.lines[i], nil), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	// firstBoundary returns the file index whose last record is followed by
	// a record in the next file.
	firstBoundary := func(l layout) int {
		for i := range l.lines[:len(l.lines)-1] {
			if len(l.lines[i]) > 0 && len(l.lines[i+1]) > 0 {
				return i
			}
		}
		t.Fatal("no rotation boundary")
		return 0
	}
	for _, tc := range []struct {
		name   string
		tamper func(t *testing.T, path string, l layout) layout
		reason audit.Reason
		seq    uint64
		found  uint64
	}{
		{"flip a body byte", func(t *testing.T, path string, l layout) layout {
			line := l.lines[1][1] // second file, second record: seq 5
			i := bytes.Index(line, []byte("GetSecretValue"))
			line[i] ^= 0x20
			return l
		}, audit.ReasonHashMismatch, 5, 5},
		{"flip a hash digit", func(t *testing.T, path string, l layout) layout {
			line := l.lines[1][1]
			i := bytes.Index(line, []byte(`"hash":"`)) + len(`"hash":"`)
			if line[i] == '0' {
				line[i] = '1'
			} else {
				line[i] = '0'
			}
			return l
		}, audit.ReasonHashMismatch, 5, 5},
		{"break the JSON", func(t *testing.T, path string, l layout) layout {
			l.lines[1][1][0] = '['
			return l
		}, audit.ReasonMalformed, 5, 0},
		{"swap across a rotation boundary", func(t *testing.T, path string, l layout) layout {
			b := firstBoundary(l)
			last := len(l.lines[b]) - 1
			l.lines[b][last], l.lines[b+1][0] = l.lines[b+1][0], l.lines[b][last]
			return l
		}, audit.ReasonOutOfOrder, 3, 4},
		{"delete a line at a rotation boundary", func(t *testing.T, path string, l layout) layout {
			b := firstBoundary(l)
			l.lines[b+1] = l.lines[b+1][1:]
			return l
		}, audit.ReasonGap, 4, 5},
		{"delete a whole rotated file", func(t *testing.T, path string, l layout) layout {
			if err := os.Remove(l.files[1]); err != nil {
				t.Fatal(err)
			}
			l.files = slices.Delete(l.files, 1, 2)
			l.lines = slices.Delete(l.lines, 1, 2)
			return l
		}, audit.ReasonGap, 4, 7},
		{"cut the last line in half", func(t *testing.T, path string, l layout) layout {
			n := len(l.files) - 1
			last := len(l.lines[n]) - 1
			l.lines[n][last] = l.lines[n][last][:40]
			return l
		}, audit.ReasonMalformed, tamperLogSize, 0},
		{"duplicate across a rotation boundary", func(t *testing.T, path string, l layout) layout {
			b := firstBoundary(l)
			l.lines[b+1] = append([][]byte{l.lines[b][len(l.lines[b])-1]}, l.lines[b+1]...)
			return l
		}, audit.ReasonDuplicate, 4, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "audit.jsonl")
			writeMirror(t, path, orig, 3, smallFiles)
			l := tc.tamper(t, path, load(t, path))
			save(t, l)
			_, err := audit.Verify(audit.ReadFiles(path), note, s.PublicKey())
			checkVerifyErr(t, err, tc.reason, tc.seq, tc.found)
		})
	}
}

func TestFileSinkReopen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.jsonl")
	recs, _ := testLog(t, 30)

	s, err := audit.OpenFileSink(path, smallFiles)
	if err != nil {
		t.Fatal(err)
	}
	if s.LastSeq() != 0 {
		t.Fatalf("new mirror LastSeq %d", s.LastSeq())
	}
	if err := s.WriteRecords(recs[:10]); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := s.WriteRecords(recs[10:11]); !errors.Is(err, audit.ErrClosed) {
		t.Errorf("write after close: %v", err)
	}

	// A crash mid-write leaves a partial line: reopening cuts it off.
	f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	f.Write([]byte(`{"seq":11,"prev":"ab`))
	f.Close()

	s, err = audit.OpenFileSink(path, smallFiles)
	if err != nil {
		t.Fatal(err)
	}
	if s.LastSeq() != 10 {
		t.Fatalf("reopened LastSeq %d, want 10", s.LastSeq())
	}
	// Replaying already mirrored records is harmless; a gap or a fork is refused.
	if err := s.WriteRecords(recs[5:15]); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteRecords(recs[16:18]); !errors.Is(err, audit.ErrNotContiguous) {
		t.Errorf("gap: got %v", err)
	}
	fork := cloneRecs(recs[14:15])
	fork[0].Hash[0] ^= 1
	if err := s.WriteRecords(fork); !errors.Is(err, audit.ErrNotContiguous) {
		t.Errorf("different record at the last seq: got %v", err)
	}
	wrongPrev := cloneRecs(recs[15:16])
	wrongPrev[0].Prev[0] ^= 1
	if err := s.WriteRecords(wrongPrev); !errors.Is(err, audit.ErrNotContiguous) {
		t.Errorf("broken prev: got %v", err)
	}
	if err := s.WriteRecords(recs[15:30]); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if diff := cmp.Diff(recs, readAll(t, path)); diff != "" {
		t.Fatalf("mirror after reopen, replay and refusals (-want +got):\n%s", diff)
	}
}

// TestFileSinkReopenAfterRotation: a crash right after a rotation leaves an
// empty (or only partially written) current file; LastSeq then comes from
// the newest rotated file.
func TestFileSinkReopenAfterRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	recs, _ := testLog(t, 30)
	writeMirror(t, path, recs, 30, audit.FileOptions{MaxBytes: -1})
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(`{"seq":31,"pr`), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := audit.OpenFileSink(path, smallFiles)
	if err != nil {
		t.Fatal(err)
	}
	if s.LastSeq() != 30 {
		t.Fatalf("LastSeq after rotation %d, want 30", s.LastSeq())
	}
	if fi, _ := os.Stat(path); fi.Size() != 0 || fi.Mode().Perm() != 0o600 {
		t.Errorf("current file: %d bytes, mode %o", fi.Size(), fi.Mode().Perm())
	}
	more, _ := testLog(t, 31)
	if err := s.WriteRecords(more[30:]); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := audit.VerifyWith(audit.ReadFiles(path), audit.VerifyOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestFileTruncatedByFiles deletes the newest files until the mirror holds
// fewer records than the checkpoint covers.
func TestFileTruncatedByFiles(t *testing.T) {
	s := testSigner(t, 9)
	orig, _ := testLog(t, tamperLogSize)
	note := signedAt(t, s, orig, tamperCPSize)
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	writeMirror(t, path, orig, 3, smallFiles)
	files := mirrorFiles(t, path)
	left := tamperLogSize
	for left >= tamperCPSize {
		last := files[len(files)-1]
		left -= len(fileLines(t, last))
		if err := os.Remove(last); err != nil {
			t.Fatal(err)
		}
		files = files[:len(files)-1]
	}
	_, err := audit.Verify(audit.ReadFiles(path), note, s.PublicKey())
	checkVerifyErr(t, err, audit.ReasonTruncated, uint64(left)+1, 0)
}

func TestFileSinkKeep(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	recs, _ := testLog(t, 40)
	writeMirror(t, path, recs, 2, audit.FileOptions{MaxBytes: 700, Keep: 3})
	files := mirrorFiles(t, path)
	if len(files) != 4 { // path.3, path.2, path.1, path
		t.Fatalf("files %v, want 3 rotated + current", files)
	}
	got := readAll(t, path)
	if len(got) == 0 || got[len(got)-1].Seq != 40 {
		t.Fatalf("kept %d records", len(got))
	}
	// The oldest records are gone: a full verification reports the gap at
	// seq 1, a mirror verification from the first kept record passes.
	_, err := audit.VerifyWith(audit.ReadFiles(path), audit.VerifyOptions{})
	checkVerifyErr(t, err, audit.ReasonGap, 1, got[0].Seq)
	if _, err := audit.VerifyWith(audit.ReadFiles(path), audit.VerifyOptions{FromFirst: true}); err != nil {
		t.Fatal(err)
	}
}

func TestFileSinkLargeRecord(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	c, _ := audit.NewChain(audit.ChainState{})
	var recs []audit.Record
	for i := range 5 {
		body := []byte(`{"i":` + strconv.Itoa(i) + `,"pad":"` + string(bytes.Repeat([]byte("x"), 100+i*500)) + `"}`)
		r, err := c.Append(body)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	writeMirror(t, path, recs, 5, audit.FileOptions{MaxBytes: 700, Keep: 10})
	if diff := cmp.Diff(recs, readAll(t, path)); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	// No rotation at all.
	writeMirror(t, filepath.Join(t.TempDir(), "norot.jsonl"), recs, 1, audit.FileOptions{MaxBytes: -1})
}

func TestReadFilesMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "none.jsonl")
	n := 0
	for _, err := range audit.ReadFiles(path) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 0 {
		t.Fatalf("%d records from a missing mirror", n)
	}
	for _, err := range audit.ReadFiles(filepath.Join(t.TempDir(), "nodir", "x.jsonl")) {
		if err == nil {
			t.Fatal("missing directory: no error")
		}
	}
}

func TestWriterSink(t *testing.T) {
	recs, _ := testLog(t, 5)
	var buf bytes.Buffer
	s := audit.NewWriterSink(&buf)
	if err := s.WriteRecords(recs[:2]); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteRecords(recs[2:]); err != nil {
		t.Fatal(err)
	}
	var got []audit.Record
	for r, err := range audit.ReadRecords(&buf) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	if diff := cmp.Diff(recs, got); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	s.Close()
	if err := s.WriteRecords(recs); !errors.Is(err, audit.ErrClosed) {
		t.Errorf("after close: %v", err)
	}
}
