package audit_test

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-dev/coffer/internal/audit"
)

func mustHex32(t testing.TB, s string) [32]byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 32 {
		t.Fatalf("bad hex %q", s)
	}
	return [32]byte(b)
}

// TestRecordHashVector pins the record hash format. The expected values were
// computed outside Go (Python hashlib) from the documented formula
// SHA-256("coffer-audit-record-v1" || 0x00 || uint64be(seq) || prev || body).
func TestRecordHashVector(t *testing.T) {
	c, err := audit.NewChain(audit.ChainState{})
	if err != nil {
		t.Fatal(err)
	}
	r1, err := c.Append([]byte(`{"a":1}`))
	if err != nil {
		t.Fatal(err)
	}
	r2, err := c.Append([]byte(`{"b":2}`))
	if err != nil {
		t.Fatal(err)
	}
	want1 := mustHex32(t, "01bbf0beaa019519fff7e601abe2d73c81cd15404f02743bbd2b4e39c7904bae")
	want2 := mustHex32(t, "2a527c1ca28480f1a53161da41e9fbde91d7da727754928be425fb72a8d122e6")
	if r1.Seq != 1 || r1.Prev != ([32]byte{}) || r1.Hash != want1 {
		t.Errorf("record 1 = seq %d prev %x hash %x, want seq 1, zero prev, hash %x", r1.Seq, r1.Prev, r1.Hash, want1)
	}
	if r2.Seq != 2 || r2.Prev != want1 || r2.Hash != want2 {
		t.Errorf("record 2 = seq %d prev %x hash %x, want seq 2 prev %x hash %x", r2.Seq, r2.Prev, r2.Hash, want1, want2)
	}
	if !r1.Valid() || !r2.Valid() {
		t.Error("Valid() = false for fresh records")
	}
	r2.Body = []byte(`{"b":3}`)
	if r2.Valid() {
		t.Error("Valid() = true for an edited body")
	}
}

func TestRecordLineFormat(t *testing.T) {
	c, _ := audit.NewChain(audit.ChainState{})
	r, err := c.Append([]byte(`{"eventName":"GetSecretValue","x":"<&>"}`))
	if err != nil {
		t.Fatal(err)
	}
	line, err := audit.AppendRecordLine(nil, &r)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"seq":1,"prev":"` + strings.Repeat("0", 64) + `","hash":"` + hex.EncodeToString(r.Hash[:]) +
		`","event":{"eventName":"GetSecretValue","x":"<&>"}}` + "\n"
	if string(line) != want {
		t.Errorf("line:\n got %s\nwant %s", line, want)
	}
	// The line is a JSON object whose "event" member is an object.
	var generic map[string]any
	if err := json.Unmarshal(line, &generic); err != nil {
		t.Fatal(err)
	}
	if _, ok := generic["event"].(map[string]any); !ok {
		t.Errorf("event member is %T, want an object", generic["event"])
	}
	got, err := audit.ParseRecordLine(line)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(r, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	// CRLF is tolerated, whitespace around members is not part of the body.
	got, err = audit.ParseRecordLine([]byte(strings.TrimSuffix(string(line), "\n") + "\r\n"))
	if err != nil || !got.Valid() {
		t.Errorf("CRLF line: %v valid=%v", err, got.Valid())
	}
}

func TestParseRecordLineRejects(t *testing.T) {
	z := strings.Repeat("0", 64)
	h := strings.Repeat("a", 64)
	for name, line := range map[string]string{
		"empty":          ``,
		"not json":       `hello`,
		"array":          `[1,2]`,
		"seq 0":          `{"seq":0,"prev":"` + z + `","hash":"` + h + `","event":{}}`,
		"seq negative":   `{"seq":-1,"prev":"` + z + `","hash":"` + h + `","event":{}}`,
		"seq float":      `{"seq":1.5,"prev":"` + z + `","hash":"` + h + `","event":{}}`,
		"seq string":     `{"seq":"1","prev":"` + z + `","hash":"` + h + `","event":{}}`,
		"missing seq":    `{"prev":"` + z + `","hash":"` + h + `","event":{}}`,
		"missing prev":   `{"seq":1,"hash":"` + h + `","event":{}}`,
		"missing hash":   `{"seq":1,"prev":"` + z + `","event":{}}`,
		"missing event":  `{"seq":1,"prev":"` + z + `","hash":"` + h + `"}`,
		"event string":   `{"seq":1,"prev":"` + z + `","hash":"` + h + `","event":"{}"}`,
		"event null":     `{"seq":1,"prev":"` + z + `","hash":"` + h + `","event":null}`,
		"event array":    `{"seq":1,"prev":"` + z + `","hash":"` + h + `","event":[]}`,
		"short hash":     `{"seq":1,"prev":"` + z + `","hash":"abc","event":{}}`,
		"upper hex":      `{"seq":1,"prev":"` + z + `","hash":"` + strings.ToUpper(h) + `","event":{}}`,
		"non-hex":        `{"seq":1,"prev":"` + z + `","hash":"` + strings.Repeat("g", 64) + `","event":{}}`,
		"unknown member": `{"seq":1,"prev":"` + z + `","hash":"` + h + `","event":{},"x":1}`,
		"trailing data":  `{"seq":1,"prev":"` + z + `","hash":"` + h + `","event":{}} {}`,
		"two lines":      `{"seq":1,"prev":"` + z + `","hash":"` + h + `","event":{}}` + "\n{}",
		"bad utf8":       `{"seq":1,"prev":"` + z + `","hash":"` + h + `","event":{"a":"` + "\xff" + `"}}`,
	} {
		if _, err := audit.ParseRecordLine([]byte(line)); !errors.Is(err, audit.ErrRecord) {
			t.Errorf("%s: got %v, want ErrRecord", name, err)
		}
	}
}

func TestRecordBinary(t *testing.T) {
	recs, _ := testLog(t, 3)
	for _, r := range recs {
		b, err := r.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if len(b) != audit.RecordHeaderSize+len(r.Body) || b[0] != 0x01 {
			t.Fatalf("binary form: len %d, version %d", len(b), b[0])
		}
		var got audit.Record
		if err := got.UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(r, got); diff != "" {
			t.Errorf("round trip (-want +got):\n%s", diff)
		}
	}
	var r audit.Record
	for _, b := range [][]byte{nil, make([]byte, audit.RecordHeaderSize-1), append([]byte{2}, make([]byte, 80)...)} {
		if err := r.UnmarshalBinary(b); !errors.Is(err, audit.ErrRecord) {
			t.Errorf("UnmarshalBinary(%d bytes): got %v", len(b), err)
		}
	}
}

func TestAppendRejectsBadBodies(t *testing.T) {
	c, _ := audit.NewChain(audit.ChainState{})
	for _, body := range []string{``, `null`, `[]`, `"x"`, `{`, `{"a":1}x`, "{\"a\":\n1}", "{\"a\":1}\r", "{\"a\":\"\xff\"}", ` {"a":1}`} {
		if _, err := c.Append([]byte(body)); !errors.Is(err, audit.ErrBody) {
			t.Errorf("Append(%q): got %v, want ErrBody", body, err)
		}
	}
	if c.Size() != 0 {
		t.Errorf("rejected bodies advanced the chain to %d", c.Size())
	}
	// Append trusts JSON syntax inside the braces; ValidBody checks it.
	for body, want := range map[string]bool{`{}`: true, `{"a":[1,{"b":null}]}`: true, `{"a":}`: false, `{"a" 1}`: false, `{}{}`: false} {
		if got := audit.ValidBody([]byte(body)); got != want {
			t.Errorf("ValidBody(%s) = %v", body, got)
		}
	}
	r := audit.Record{Seq: 1, Body: []byte("{\n}")}
	if _, err := audit.AppendRecordLine(nil, &r); !errors.Is(err, audit.ErrBody) {
		t.Errorf("AppendRecordLine with a multi-line body: got %v", err)
	}
}

func TestChainStateRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 7, 8, 100, 255} {
		recs, _ := testLog(t, n)
		c, _ := audit.NewChain(audit.ChainState{})
		for _, r := range recs {
			if _, err := c.Append(r.Body); err != nil {
				t.Fatal(err)
			}
		}
		st := c.State()
		bin, err := st.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		js, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		var fromBin, fromJSON audit.ChainState
		if err := fromBin.UnmarshalBinary(bin); err != nil {
			t.Fatalf("size %d: %v", n, err)
		}
		if err := json.Unmarshal(js, &fromJSON); err != nil {
			t.Fatalf("size %d: %v (%s)", n, err, js)
		}
		for name, got := range map[string]audit.ChainState{"binary": fromBin, "json": fromJSON} {
			if got.Size != st.Size || got.Last != st.Last || got.Root() != st.Root() {
				t.Fatalf("size %d: %s round trip differs", n, name)
			}
			// A chain restored from the saved state continues exactly like
			// the original.
			restored, err := audit.NewChain(got)
			if err != nil {
				t.Fatal(err)
			}
			body := []byte(`{"next":true}`)
			orig, _ := audit.NewChain(c.State())
			r1, _ := orig.Append(body)
			r2, _ := restored.Append(body)
			if diff := cmp.Diff(r1, r2); diff != "" || orig.Root() != restored.Root() {
				t.Fatalf("size %d: %s-restored chain diverges:\n%s", n, name, diff)
			}
		}
	}
	// Inconsistent states are refused.
	bad := []audit.ChainState{
		{Size: 3, Range: make([][32]byte, 1)},
		{Size: 0, Last: [32]byte{1}},
	}
	for _, st := range bad {
		if _, err := audit.NewChain(st); !errors.Is(err, audit.ErrChainState) {
			t.Errorf("NewChain(%d hashes for size %d): got %v", len(st.Range), st.Size, err)
		}
	}
	var st audit.ChainState
	if err := st.UnmarshalBinary([]byte{1, 0, 0, 0, 0, 0, 0, 0, 3}); !errors.Is(err, audit.ErrChainState) {
		t.Errorf("short binary state: got %v", err)
	}
	if err := json.Unmarshal([]byte(`{"size":1,"last":"00","range":[]}`), &st); !errors.Is(err, audit.ErrChainState) {
		t.Errorf("bad json state: got %v", err)
	}
}

// TestChainRollback shows the savepoint pattern: save State, append, and
// Reset when the transaction fails; the next append reuses the seq.
func TestChainRollback(t *testing.T) {
	c, _ := audit.NewChain(audit.ChainState{})
	c.Append([]byte(`{"a":1}`))
	saved := c.State()
	root := c.Root()
	c.Append([]byte(`{"doomed":1}`))
	c.Append([]byte(`{"doomed":2}`))
	if err := c.Reset(saved); err != nil {
		t.Fatal(err)
	}
	if c.Size() != 1 || c.Root() != root {
		t.Fatalf("after reset: size %d", c.Size())
	}
	r, _ := c.Append([]byte(`{"b":2}`))
	if r.Seq != 2 || r.Prev != saved.Last {
		t.Errorf("after rollback got seq %d", r.Seq)
	}
	// The saved state was not disturbed by appends.
	if saved.Size != 1 || saved.Root() != root {
		t.Error("State() result aliases the chain")
	}
}
