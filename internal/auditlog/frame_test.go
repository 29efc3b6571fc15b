package auditlog_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-dev/coffer/internal/audit"
	"github.com/coffer-dev/coffer/internal/auditlog"
)

func testRecord(t testing.TB) audit.Record {
	c, _ := audit.NewChain(audit.ChainState{})
	c.Append([]byte(`{"a":1}`))
	r, err := c.Append(body(7))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestFrameRoundTrip(t *testing.T) {
	r := testRecord(t)
	b := auditlog.AppendFrame([]byte("prefix"), auditlog.FlagStore, 2, &r)
	b = b[len("prefix"):]
	if len(b) != auditlog.FrameSize(len(r.Body)) {
		t.Fatalf("frame of %d bytes, want %d", len(b), auditlog.FrameSize(len(r.Body)))
	}
	// The record part is audit.Record's binary form.
	bin, _ := r.MarshalBinary()
	if !bytes.Equal(b[auditlog.FrameHeaderSize+9:], bin) {
		t.Fatal("record bytes differ from Record.MarshalBinary")
	}
	f, n, err := auditlog.ParseFrame(append(bytes.Clone(b), 0, 0, 0, 0))
	if err != nil || n != len(b) {
		t.Fatalf("parse: %d %v", n, err)
	}
	if diff := cmp.Diff(auditlog.Frame{Flags: auditlog.FlagStore, Batch: 2, Record: r}, f); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	auditlog.SetFlags(b, auditlog.FlagBatchEnd)
	if f, _, err := auditlog.ParseFrame(b); err != nil || f.Flags != auditlog.FlagStore|auditlog.FlagBatchEnd {
		t.Fatalf("after SetFlags: %v %v", f.Flags, err)
	}

	for name, tc := range map[string]struct {
		b    []byte
		want error
	}{
		"zeros":         {make([]byte, 100), auditlog.ErrEnd},
		"short zeros":   {make([]byte, 3), auditlog.ErrEnd},
		"empty":         {nil, auditlog.ErrEnd},
		"short header":  {b[:5], auditlog.ErrShort},
		"short payload": {b[:len(b)-1], auditlog.ErrShort},
		"flipped body":  {flip(b, len(b)-2), auditlog.ErrChecksum},
		"flipped crc":   {flip(b, 5), auditlog.ErrChecksum},
		"tiny length":   {append([]byte{0, 0, 0, 5}, b[4:]...), auditlog.ErrCorrupt},
		"huge length":   {append([]byte{0x7f, 0, 0, 0}, b[4:]...), auditlog.ErrCorrupt},
		"bad version":   {flip(b, auditlog.FrameHeaderSize+9), auditlog.ErrCorrupt},
		"unknown flag":  {flip(b, auditlog.FrameHeaderSize), auditlog.ErrCorrupt},
	} {
		if name == "unknown flag" {
			tc.b[auditlog.FrameHeaderSize] = 0x80
		}
		if _, _, err := auditlog.ParseFrame(tc.b); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
}

func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 0x01
	return c
}

// FuzzParseFrame: frame parsing never panics on any input, and whatever it
// accepts re-encodes to the same bytes.
func FuzzParseFrame(f *testing.F) {
	r := testRecord(f)
	good := auditlog.AppendFrame(nil, auditlog.FlagBatchEnd, 1, &r)
	f.Add(good)
	f.Add(good[:20])
	f.Add(make([]byte, 16))
	f.Add([]byte{0, 0, 0, 90, 1, 2, 3, 4})
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, n, err := auditlog.ParseFrame(b)
		if err != nil {
			return
		}
		if n > len(b) || n != auditlog.FrameSize(len(fr.Record.Body)) {
			t.Fatalf("size %d of %d bytes", n, len(b))
		}
		again := auditlog.AppendFrame(nil, fr.Flags, fr.Batch, &fr.Record)
		if !bytes.Equal(again, b[:n]) {
			t.Fatalf("re-encoding differs:\n%x\n%x", again, b[:n])
		}
	})
}
