package auditlog_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-dev/coffer/internal/audit"
	"github.com/coffer-dev/coffer/internal/auditlog"
)

// writer appends batches to a log the way a store's committer does.
type writer struct {
	t     *testing.T
	log   *auditlog.Log
	chain *audit.Chain
	last  auditlog.Pos
	n     int
}

func newWriter(t *testing.T, dir string, opts auditlog.Options, start auditlog.Start) (*writer, auditlog.Recovered) {
	t.Helper()
	l, rec, err := auditlog.Open(dir, opts, start)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	c, err := audit.NewChain(rec.State)
	if err != nil {
		t.Fatal(err)
	}
	return &writer{t: t, log: l, chain: c, last: rec.Last}, rec
}

func body(i int) []byte {
	ev := audit.NewAPICallEvent(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC))
	ev.EventSource, ev.EventName = audit.SourceSecretsManager, fmt.Sprintf("Op%d", i)
	ev.UserIdentity = audit.UserIdentity{Type: audit.IdentityIAMUser, UserName: "alice", AccessKeyID: "AKIAALICE"}
	ev.Resources = []audit.Resource{{ARN: fmt.Sprintf("arn:aws:secretsmanager:us-east-1:123456789012:secret:s%d-AbCdEf", i%3), Type: "AWS::SecretsManager::Secret"}}
	b, err := ev.Marshal()
	if err != nil {
		panic(err)
	}
	return b
}

// frames encodes n records as one batch (without writing it).
func (w *writer) frames(n int, flags byte) ([]byte, []audit.Record) {
	var buf []byte
	var recs []audit.Record
	batch := w.chain.Size() + 1
	for i := range n {
		w.n++
		r, err := w.chain.Append(body(w.n))
		if err != nil {
			w.t.Fatal(err)
		}
		f := flags
		if i == n-1 {
			f |= auditlog.FlagBatchEnd
		}
		buf = auditlog.AppendFrame(buf, f, batch, &r)
		recs = append(recs, r)
	}
	return buf, recs
}

// batch writes n records as one batch and returns them.
func (w *writer) batch(n int, flags byte) []audit.Record {
	w.t.Helper()
	buf, recs := w.frames(n, flags)
	p, err := w.log.Write(buf)
	if err != nil {
		w.t.Fatal(err)
	}
	off := p.Off
	for _, r := range recs {
		w.last = auditlog.Pos{Seg: p.Seg, Off: off}
		off += int64(auditlog.FrameSize(len(r.Body)))
	}
	return recs
}

func (w *writer) start(storeBatch uint64) auditlog.Start {
	return auditlog.Start{State: w.chain.State(), Last: w.last, StoreBatch: storeBatch}
}

func readAll(t *testing.T, dir string, o auditlog.ReadOptions) []audit.Record {
	t.Helper()
	var out []audit.Record
	for r, err := range auditlog.Records(dir, o) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

func seqs(recs []audit.Record) []uint64 {
	var s []uint64
	for _, r := range recs {
		s = append(s, r.Seq)
	}
	return s
}

func span(from, to uint64) []uint64 {
	var s []uint64
	for i := from; i <= to; i++ {
		s = append(s, i)
	}
	return s
}

func verify(t *testing.T, recs []audit.Record) audit.VerifyResult {
	t.Helper()
	res, err := audit.VerifyWith(func(yield func(audit.Record, error) bool) {
		for _, r := range recs {
			if !yield(r, nil) {
				return
			}
		}
	}, audit.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestWriteReopenRead(t *testing.T) {
	dir := t.TempDir()
	w, rec := newWriter(t, dir, auditlog.Options{}, auditlog.Start{})
	if rec.State.Size != 0 || rec.End != (auditlog.Pos{Seg: 1, Off: auditlog.SegmentHeaderSize}) {
		t.Fatalf("new log: %+v", rec)
	}
	var want []audit.Record
	for i := range 5 {
		want = append(want, w.batch(i+1, 0)...)
	}
	want = append(want, w.batch(3, auditlog.FlagStore)...)
	st := w.start(16)
	end := w.log.End()
	w.log.Close()

	got := readAll(t, dir, auditlog.ReadOptions{StoreBatch: 16})
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("records (-want +got):\n%s", diff)
	}
	if res := verify(t, got); res.State.Size != 18 {
		t.Fatalf("verified %d", res.State.Size)
	}
	// Bounded reads stop where they are told.
	if got := readAll(t, dir, auditlog.ReadOptions{To: end}); len(got) != 18 {
		t.Fatalf("bounded read: %d records", len(got))
	}

	// Reopen from the store's state, and from nothing.
	for _, start := range []auditlog.Start{st, {StoreBatch: 16}} {
		w2, rec := newWriter(t, dir, auditlog.Options{}, start)
		if diff := cmp.Diff(w.chain.State(), rec.State); diff != "" {
			t.Fatalf("recovered state (-want +got):\n%s", diff)
		}
		if rec.End != end || rec.Last != w.last || rec.CutRecords != 0 || rec.CutBytes != 0 {
			t.Fatalf("recovered %+v, want end %v last %v", rec, end, w.last)
		}
		w2.log.Close()
	}
}

// The tail after the last complete batch is cut at open: torn frames,
// garbage, a batch without its last frame, a store batch that never
// committed, a batch marked to be cut.
func TestRecoveryCutsTheTail(t *testing.T) {
	type setup struct {
		name   string
		damage func(t *testing.T, w *writer) // after 3 good batches (6 records)
		start  func(w *writer, good auditlog.Start) auditlog.Start
		keep   uint64 // records kept
	}
	for _, tc := range []setup{
		{name: "clean", damage: func(*testing.T, *writer) {}, keep: 6},
		{name: "torn frame", keep: 6, damage: func(t *testing.T, w *writer) {
			buf, _ := w.frames(2, 0)
			writeRaw(t, w, buf[:len(buf)-100])
		}},
		{name: "garbage", keep: 6, damage: func(t *testing.T, w *writer) {
			writeRaw(t, w, bytes.Repeat([]byte{0xA5}, 3000))
		}},
		{name: "garbage after a zero gap", keep: 6, damage: func(t *testing.T, w *writer) {
			writeRawAt(t, w, w.log.End().Off+5000, []byte("junk"))
		}},
		{name: "batch without its last frame", keep: 6, damage: func(t *testing.T, w *writer) {
			buf, recs := w.frames(3, 0)
			writeRaw(t, w, buf[:auditlog.FrameSize(len(recs[0].Body))+auditlog.FrameSize(len(recs[1].Body))])
		}},
		{name: "torn batch with a hole", keep: 6, damage: func(t *testing.T, w *writer) {
			buf, recs := w.frames(3, 0)
			a, b := auditlog.FrameSize(len(recs[0].Body)), auditlog.FrameSize(len(recs[1].Body))
			clear(buf[a+10 : a+b]) // the middle frame's page never reached the disk
			writeRaw(t, w, buf)
		}},
		{name: "store batch not committed", keep: 6, damage: func(t *testing.T, w *writer) {
			w.batch(2, auditlog.FlagStore)
		}},
		{name: "store batch committed", keep: 8, damage: func(t *testing.T, w *writer) {
			w.batch(2, auditlog.FlagStore)
		}, start: func(w *writer, good auditlog.Start) auditlog.Start { good.StoreBatch = 7; return good }},
		{name: "read batch after the stored state", keep: 8, damage: func(t *testing.T, w *writer) {
			w.batch(2, 0)
		}},
		{name: "batch marked to cut", keep: 6, damage: func(t *testing.T, w *writer) {
			w.batch(2, 0)
		}, start: func(w *writer, good auditlog.Start) auditlog.Start { good.CutFrom = 7; return good }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			w, _ := newWriter(t, dir, auditlog.Options{}, auditlog.Start{})
			w.batch(2, 0)
			w.batch(2, auditlog.FlagStore)
			w.batch(2, 0)
			good := w.start(3)
			goodEnd := w.log.End()
			tc.damage(t, w)
			w.log.Close()
			start := good
			if tc.start != nil {
				start = tc.start(w, good)
			}
			w2, rec := newWriter(t, dir, auditlog.Options{}, start)
			if rec.State.Size != tc.keep {
				t.Fatalf("recovered %d records, want %d (%+v)", rec.State.Size, tc.keep, rec)
			}
			if tc.keep == 6 && rec.End != goodEnd {
				t.Fatalf("end %v, want %v", rec.End, goodEnd)
			}
			// Everything after the end is zero again, and the log goes on.
			w2.n = 100
			w2.batch(3, 0)
			got := readAll(t, dir, auditlog.ReadOptions{StoreBatch: auditlog.NoStoreBatch})
			if diff := cmp.Diff(span(1, tc.keep+3), seqs(got)); diff != "" {
				t.Fatalf("seqs after recovery (-want +got):\n%s", diff)
			}
			verify(t, got)
			w2.log.Close()
			l, rec, err := auditlog.Open(dir, auditlog.Options{}, w2.start(0))
			if err != nil || rec.CutBytes != 0 {
				t.Fatalf("reopen: %+v %v", rec, err)
			}
			l.Close()
		})
	}
}

func writeRaw(t *testing.T, w *writer, b []byte) { writeRawAt(t, w, w.log.End().Off, b) }

func writeRawAt(t *testing.T, w *writer, off int64, b []byte) {
	t.Helper()
	f, err := os.OpenFile(auditlog.SegmentPath(w.log.Dir(), w.log.End().Seg), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

// A log that does not hold what the store committed is not opened.
func TestRecoveryRefusesADamagedLog(t *testing.T) {
	dir := t.TempDir()
	w, _ := newWriter(t, dir, auditlog.Options{}, auditlog.Start{})
	w.batch(3, 0)
	st := w.start(0)
	w.batch(2, 0)
	w.batch(2, 0)
	w.log.Close()
	for name, start := range map[string]auditlog.Start{
		"wrong position": {State: st.State, Last: auditlog.Pos{Seg: 1, Off: st.Last.Off + 1}},
		"wrong hash":     {State: audit.ChainState{Size: st.State.Size, Last: [32]byte{1}, Range: st.State.Range}, Last: st.Last},
		"missing":        {State: st.State, Last: auditlog.Pos{Seg: 9, Off: auditlog.SegmentHeaderSize}},
	} {
		if _, _, err := auditlog.Open(dir, auditlog.Options{}, start); !errors.Is(err, auditlog.ErrDamaged) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// A cut may not go below what the store committed.
	if l, rec, err := auditlog.Open(dir, auditlog.Options{}, auditlog.Start{State: st.State, Last: st.Last, CutFrom: 2}); err != nil || rec.State.Size != 7 {
		t.Errorf("stale cut marker: %d %v", rec.State.Size, err) // it names no batch at the end: ignored
	} else {
		l.Close()
	}
	// Damage after the stored state, with good records of later batches
	// after it, is not a torn tail: the log is refused and left as it is.
	seg := auditlog.SegmentPath(dir, 1)
	orig, _ := os.ReadFile(seg)
	damaged := bytes.Clone(orig)
	damaged[st.Last.Off+int64(auditlog.FrameSize(len(body(3))))+300] ^= 1 // inside record 4's body
	os.WriteFile(seg, damaged, 0o600)
	if _, _, err := auditlog.Open(dir, auditlog.Options{}, st); !errors.Is(err, auditlog.ErrDamaged) {
		t.Errorf("damaged tail: %v", err)
	}
	if now, _ := os.ReadFile(seg); !bytes.Equal(now, damaged) {
		t.Error("a damaged log was changed")
	}
	os.WriteFile(seg, orig, 0o600)

	// A log directory without segments while the store has records.
	if _, _, err := auditlog.Open(t.TempDir(), auditlog.Options{}, st); !errors.Is(err, auditlog.ErrDamaged) {
		t.Errorf("empty directory: %v", err)
	}
}

// Batches that do not fit go to the next segment, which was preallocated
// in the background; segment sizes double up to the maximum.
func TestRolloverAndPreallocation(t *testing.T) {
	dir := t.TempDir()
	opts := auditlog.Options{MinSegment: 4096, MaxSegment: 16384}
	w, _ := newWriter(t, dir, opts, auditlog.Start{})
	waitFor(t, auditlog.SegmentPath(dir, 2)) // the spare, made ahead
	var want []audit.Record
	for range 40 {
		want = append(want, w.batch(3, 0)...)
	}
	segs := w.log.End().Seg
	if segs < 4 {
		t.Fatalf("only %d segments", segs)
	}
	waitFor(t, auditlog.SegmentPath(dir, segs+1))
	for n, size := range map[uint64]int64{1: 4096, 2: 8192, 3: 16384, 4: 16384} {
		fi, err := os.Stat(auditlog.SegmentPath(dir, n))
		if err != nil || fi.Size() != size {
			t.Errorf("segment %d: %v %v, want %d bytes", n, fi.Size(), err, size)
		}
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "*.tmp")); len(m) > 0 {
		t.Errorf("left over: %v", m)
	}
	w.log.Close()
	got := readAll(t, dir, auditlog.ReadOptions{})
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("records across segments (-want +got):\n%s", diff)
	}
	// Reading from a position in a middle segment.
	w2, rec := newWriter(t, dir, opts, auditlog.Start{})
	if rec.State.Size != uint64(len(want)) {
		t.Fatalf("recovered %d", rec.State.Size)
	}
	w2.log.Close()
	// A batch larger than a whole segment grows it.
	w3, _ := newWriter(t, dir, opts, w.start(0))
	big := w3.batch(40, 0)
	if len(big) != 40 {
		t.Fatal(big)
	}
	w3.log.Close()
	if got := readAll(t, dir, auditlog.ReadOptions{}); len(got) != len(want)+40 {
		t.Fatalf("%d records after a big batch", len(got))
	}
}

func waitFor(t *testing.T, path string) {
	t.Helper()
	for range 500 {
		if _, err := os.Stat(path); err == nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s never appeared", path)
}

// A retracted batch is erased and its place reused.
func TestRetract(t *testing.T) {
	dir := t.TempDir()
	w, _ := newWriter(t, dir, auditlog.Options{}, auditlog.Start{})
	w.batch(2, 0)
	before := w.chain.State()
	buf, _ := w.frames(3, auditlog.FlagStore)
	p, err := w.log.Write(buf)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.log.Retract(p, len(buf)); err != nil {
		t.Fatal(err)
	}
	if w.log.End() != p {
		t.Fatalf("end %v after retracting at %v", w.log.End(), p)
	}
	w.chain.Reset(before)
	w.batch(1, 0)
	got := readAll(t, dir, auditlog.ReadOptions{StoreBatch: auditlog.NoStoreBatch})
	if diff := cmp.Diff(span(1, 3), seqs(got)); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	verify(t, got)
	// A broken log refuses writes.
	w.log.MarkBroken(errors.New("disk on fire"))
	if _, err := w.log.Write(buf); !errors.Is(err, auditlog.ErrBroken) {
		t.Fatalf("write to a broken log: %v", err)
	}
}

// What an outside reader sees while a server writes, or after a crash.
func TestReaderView(t *testing.T) {
	dir := t.TempDir()
	w, _ := newWriter(t, dir, auditlog.Options{}, auditlog.Start{})
	w.batch(2, 0)
	w.batch(2, auditlog.FlagStore) // batch 3
	w.batch(2, 0)
	buf, _ := w.frames(3, 0)
	writeRaw(t, w, buf[:len(buf)/2]) // a batch being written
	for _, tc := range []struct {
		storeBatch uint64
		want       []uint64
	}{
		{auditlog.NoStoreBatch, span(1, 6)},
		{3, span(1, 6)},
		{2, span(1, 2)}, // batch 3 had not committed: it and what follows are not yet the log
	} {
		got := readAll(t, dir, auditlog.ReadOptions{StoreBatch: tc.storeBatch})
		if diff := cmp.Diff(tc.want, seqs(got)); diff != "" {
			t.Errorf("store batch %d (-want +got):\n%s", tc.storeBatch, diff)
		}
	}
	// From a position in the middle.
	var mid auditlog.Pos
	for it, err := range auditlog.Frames(dir, auditlog.ReadOptions{StoreBatch: auditlog.NoStoreBatch}) {
		if err != nil {
			t.Fatal(err)
		}
		if it.Record.Seq == 4 {
			mid = it.Pos
		}
	}
	if got := readAll(t, dir, auditlog.ReadOptions{From: mid, StoreBatch: auditlog.NoStoreBatch}); !cmp.Equal(span(4, 6), seqs(got)) {
		t.Errorf("from seq 4: %v", seqs(got))
	}
	if f, _, err := auditlog.ReadFrame(dir, mid, 0); err != nil || f.Record.Seq != 4 {
		t.Errorf("ReadFrame: %v %v", f.Record.Seq, err)
	}
	if _, _, err := auditlog.ReadFrame(dir, auditlog.Pos{Seg: 1, Off: mid.Off + 1}, 0); err == nil {
		t.Error("ReadFrame off a frame boundary succeeded")
	}
}

// Damage inside the log is reported at the record it hits.
func TestReaderReportsDamage(t *testing.T) {
	dir := t.TempDir()
	w, _ := newWriter(t, dir, auditlog.Options{}, auditlog.Start{})
	for range 5 {
		w.batch(1, 0)
	}
	w.log.Close()
	var pos []auditlog.Pos
	for it, err := range auditlog.Frames(dir, auditlog.ReadOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		pos = append(pos, it.Pos)
	}
	seg := auditlog.SegmentPath(dir, 1)
	orig, _ := os.ReadFile(seg)
	damage := func(name string, edit func(b []byte), wantSeq uint64, wantReason audit.Reason) {
		t.Run(name, func(t *testing.T) {
			b := bytes.Clone(orig)
			edit(b)
			if err := os.WriteFile(seg, b, 0o600); err != nil {
				t.Fatal(err)
			}
			defer os.WriteFile(seg, orig, 0o600)
			_, err := audit.VerifyWith(auditlog.Records(dir, auditlog.ReadOptions{}), audit.VerifyOptions{
				Checkpoints: []audit.Checkpoint{{Size: 5, Root: w.chain.Root()}}})
			var ve *audit.VerifyError
			if !errors.As(err, &ve) || ve.Seq != wantSeq || ve.Reason != wantReason {
				t.Fatalf("verify: %v, want seq %d %s", err, wantSeq, wantReason)
			}
		})
	}
	damage("flip a body byte", func(b []byte) { b[pos[2].Off+200] ^= 1 }, 3, audit.ReasonHashMismatch)
	damage("flip a flag", func(b []byte) { b[pos[1].Off+auditlog.FrameHeaderSize] ^= auditlog.FlagStore }, 2, audit.ReasonMalformed)
	damage("break a length", func(b []byte) { b[pos[1].Off] = 0x7f }, 2, audit.ReasonMalformed)
	damage("truncate the tail", func(b []byte) { clear(b[pos[3].Off:]) }, 4, audit.ReasonTruncated)
	damage("tear the last frame", func(b []byte) { clear(b[pos[4].Off+300:]) }, 5, audit.ReasonTruncated)
}
