package audit_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/coffer-dev/coffer/internal/audit"
)

// storedAt returns a StoredCheckpoint of the first n records.
func storedAt(t *testing.T, s *audit.Signer, recs []audit.Record, n int) audit.StoredCheckpoint {
	t.Helper()
	note := signedAt(t, s, recs, n)
	cp, err := audit.VerifyCheckpoint(note, s.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	return audit.StoredCheckpoint{Size: cp.Size, Root: cp.Root, Note: note, Created: time.Unix(1700000000, 0)}
}

func textOf(note []byte) []byte {
	text, _, _ := bytes.Cut(note, []byte("\n\n"))
	return append(text, '\n')
}

func TestStoredCheckpointValidate(t *testing.T) {
	s := testSigner(t, 1)
	recs, _ := testLog(t, 5)
	good := storedAt(t, s, recs, 3)
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	other := storedAt(t, s, recs, 4)
	for name, c := range map[string]audit.StoredCheckpoint{
		"another size": {Size: 4, Root: good.Root, Note: good.Note},
		"another root": {Size: 3, Root: other.Root, Note: good.Note},
		"another note": {Size: 3, Root: good.Root, Note: other.Note},
		"not a note":   {Size: 3, Root: good.Root, Note: []byte("hello")},
		"text only":    {Size: 3, Root: good.Root, Note: textOf(good.Note)},
	} {
		if err := c.Validate(); err == nil {
			t.Errorf("%s: validated", name)
		}
	}
}

func TestCheckImport(t *testing.T) {
	s := testSigner(t, 1)
	recs, _ := testLog(t, 12)
	cps := []audit.StoredCheckpoint{storedAt(t, s, recs, 10), storedAt(t, s, recs, 4)} // any order
	var written []uint64
	st, err := audit.CheckImport(seqOf(recs), cps, func(r *audit.Record) error {
		written = append(written, r.Seq)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(written) != 12 || st.Size != 12 || st.Last != recs[11].Hash {
		t.Fatalf("wrote %v, state size %d", written, st.Size)
	}
	want, _ := audit.NewChain(audit.ChainState{})
	for _, r := range recs {
		want.Append(r.Body)
	}
	if st.Root() != want.Root() {
		t.Fatal("state root differs")
	}

	nop := func(*audit.Record) error { return nil }
	bad := func(name string, recs []audit.Record, cps []audit.StoredCheckpoint, tampered bool) {
		t.Helper()
		_, err := audit.CheckImport(seqOf(recs), cps, nop)
		if !errors.Is(err, audit.ErrImport) {
			t.Errorf("%s: %v, want ErrImport", name, err)
		}
		if errors.Is(err, audit.ErrTampered) != tampered {
			t.Errorf("%s: %v: ErrTampered = %v", name, err, !tampered)
		}
	}
	edited := cloneRecs(recs)
	edited[5].Body[3] ^= 0x20
	bad("edited body", edited, cps, true)
	bad("missing record", append(cloneRecs(recs[:5]), recs[6:]...), nil, true)
	swapped := cloneRecs(recs)
	swapped[2], swapped[3] = swapped[3], swapped[2]
	bad("swapped", swapped, nil, true)
	bad("cut before a checkpoint", recs[:8], cps, true)
	notFirst := cloneRecs(recs[1:])
	bad("not from seq 1", notFirst, nil, true)
	wrongRoot := []audit.StoredCheckpoint{cps[0]}
	wrongRoot[0].Root[0] ^= 1
	bad("checkpoint root", recs, wrongRoot, false)
	bad("duplicate checkpoint", recs, []audit.StoredCheckpoint{cps[0], cps[0]}, false)
	bad("checkpoint of size 0", recs, []audit.StoredCheckpoint{{Note: cps[0].Note}}, false)
	rechained := cloneRecs(recs)
	rechained[2].Body[3] ^= 0x20
	rechain(rechained, 2)
	bad("rewritten log, checkpoint kept", rechained, cps, true)
	invalid := cloneRecs(recs[:3])
	invalid[2].Body = []byte(`{"a":}`)
	rechain(invalid, 2)
	bad("invalid JSON body", invalid, nil, false)

	// Errors of the source and of write come back as they are.
	boom := errors.New("boom")
	failing := func(yield func(audit.Record, error) bool) {
		yield(recs[0], nil)
		yield(audit.Record{}, boom)
	}
	if _, err := audit.CheckImport(failing, nil, nop); !errors.Is(err, boom) || errors.Is(err, audit.ErrImport) {
		t.Errorf("failing source: %v", err)
	}
	if _, err := audit.CheckImport(seqOf(recs), nil, func(r *audit.Record) error {
		if r.Seq == 3 {
			return boom
		}
		return nil
	}); !errors.Is(err, boom) {
		t.Errorf("failing write: %v", err)
	}
	// Nothing to import.
	if st, err := audit.CheckImport(seqOf(nil), nil, nop); err != nil || st.Size != 0 {
		t.Errorf("empty import: %+v, %v", st, err)
	}
}
