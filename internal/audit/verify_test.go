package audit_test

import (
	"bytes"
	"errors"
	"fmt"
	"iter"
	"slices"
	"testing"

	"github.com/coffer-dev/coffer/internal/audit"
)

// seqOf iterates over records from a slice.
func seqOf(recs []audit.Record) iter.Seq2[audit.Record, error] {
	return func(yield func(audit.Record, error) bool) {
		for _, r := range recs {
			if !yield(r, nil) {
				return
			}
		}
	}
}

// cloneRecs deep-copies records so tampering does not leak between cases.
func cloneRecs(recs []audit.Record) []audit.Record {
	out := make([]audit.Record, len(recs))
	for i, r := range recs {
		r.Body = bytes.Clone(r.Body)
		out[i] = r
	}
	return out
}

// rechain recomputes seq, prev and hash of every record from index i on,
// as an attacker with write access to the whole log would.
func rechain(recs []audit.Record, i int) {
	for ; i < len(recs); i++ {
		if i > 0 {
			recs[i].Prev = recs[i-1].Hash
		}
		recs[i].Hash = audit.RecordHash(recs[i].Seq, recs[i].Prev, recs[i].Body)
	}
}

// signedAt returns the checkpoint note of the first n records.
func signedAt(t testing.TB, s *audit.Signer, recs []audit.Record, n int) []byte {
	t.Helper()
	c, _ := audit.NewChain(audit.ChainState{})
	for _, r := range recs[:n] {
		if _, err := c.Append(r.Body); err != nil {
			t.Fatal(err)
		}
	}
	note, err := s.SignCheckpoint(c.Checkpoint(testOrigin))
	if err != nil {
		t.Fatal(err)
	}
	return note
}

// tamperCase is one manipulation of a 20-record log whose trusted
// checkpoint covers the first 15 records.
type tamperCase struct {
	name   string
	tamper func([]audit.Record) []audit.Record
	// want: zero Reason means the log must verify.
	reason audit.Reason
	seq    uint64
	found  uint64
}

const (
	tamperLogSize = 20
	tamperCPSize  = 15
)

func tamperCases() []tamperCase {
	flipBody := func(i int) func([]audit.Record) []audit.Record {
		return func(r []audit.Record) []audit.Record {
			// Change one letter inside a JSON string: still valid JSON.
			j := bytes.Index(r[i].Body, []byte("GetSecretValue"))
			r[i].Body[j] ^= 0x20
			return r
		}
	}
	return []tamperCase{
		{name: "untouched", tamper: func(r []audit.Record) []audit.Record { return r }},
		{name: "flip a body byte", tamper: flipBody(6), reason: audit.ReasonHashMismatch, seq: 7, found: 7},
		{name: "flip a body byte after the checkpoint", tamper: flipBody(17), reason: audit.ReasonHashMismatch, seq: 18, found: 18},
		{name: "flip a stored hash byte", tamper: func(r []audit.Record) []audit.Record {
			r[6].Hash[3] ^= 1
			return r
		}, reason: audit.ReasonHashMismatch, seq: 7, found: 7},
		{name: "flip a prev byte", tamper: func(r []audit.Record) []audit.Record {
			r[6].Prev[0] ^= 1
			return r
		}, reason: audit.ReasonBrokenChain, seq: 7, found: 7},
		{name: "edit a body and fix its hash", tamper: func(r []audit.Record) []audit.Record {
			flipBody(6)(r)
			r[6].Hash = audit.RecordHash(r[6].Seq, r[6].Prev, r[6].Body)
			return r
		}, reason: audit.ReasonBrokenChain, seq: 8, found: 8},
		{name: "edit a body and rechain the rest", tamper: func(r []audit.Record) []audit.Record {
			flipBody(6)(r)
			rechain(r, 6)
			return r
		}, reason: audit.ReasonRootMismatch, seq: tamperCPSize, found: tamperCPSize},
		{name: "delete a record in the middle", tamper: func(r []audit.Record) []audit.Record {
			return slices.Delete(r, 6, 7)
		}, reason: audit.ReasonGap, seq: 7, found: 8},
		{name: "delete a record and renumber and rechain the rest", tamper: func(r []audit.Record) []audit.Record {
			r = slices.Delete(r, 6, 7)
			for i := 6; i < len(r); i++ {
				r[i].Seq = uint64(i + 1)
			}
			rechain(r, 6)
			return r
		}, reason: audit.ReasonRootMismatch, seq: tamperCPSize, found: tamperCPSize},
		{name: "delete the first record", tamper: func(r []audit.Record) []audit.Record {
			return r[1:]
		}, reason: audit.ReasonGap, seq: 1, found: 2},
		{name: "swap two adjacent records", tamper: func(r []audit.Record) []audit.Record {
			r[6], r[7] = r[7], r[6]
			return r
		}, reason: audit.ReasonOutOfOrder, seq: 7, found: 8},
		{name: "swap two distant records", tamper: func(r []audit.Record) []audit.Record {
			r[6], r[11] = r[11], r[6]
			return r
		}, reason: audit.ReasonOutOfOrder, seq: 7, found: 12},
		{name: "swap two records and rechain", tamper: func(r []audit.Record) []audit.Record {
			r[6].Body, r[7].Body = r[7].Body, r[6].Body
			rechain(r, 6)
			return r
		}, reason: audit.ReasonRootMismatch, seq: tamperCPSize, found: tamperCPSize},
		{name: "duplicate a record", tamper: func(r []audit.Record) []audit.Record {
			return slices.Insert(r, 7, r[6])
		}, reason: audit.ReasonDuplicate, seq: 8, found: 7},
		{name: "replay an old record", tamper: func(r []audit.Record) []audit.Record {
			return slices.Insert(r, 10, r[2])
		}, reason: audit.ReasonDuplicate, seq: 11, found: 3},
		{name: "truncate the tail far below the checkpoint", tamper: func(r []audit.Record) []audit.Record {
			return r[:9]
		}, reason: audit.ReasonTruncated, seq: 10},
		{name: "truncate the checkpoint's last record", tamper: func(r []audit.Record) []audit.Record {
			return r[:tamperCPSize-1]
		}, reason: audit.ReasonTruncated, seq: tamperCPSize},
		{name: "truncate everything", tamper: func(r []audit.Record) []audit.Record {
			return r[:0]
		}, reason: audit.ReasonTruncated, seq: 1},
		// Records after the newest checkpoint are only chained: removing
		// them from the tail is not detectable (checkpoint often).
		{name: "truncate at the checkpoint size", tamper: func(r []audit.Record) []audit.Record {
			return r[:tamperCPSize]
		}},
		{name: "truncate above the checkpoint size", tamper: func(r []audit.Record) []audit.Record {
			return r[:tamperCPSize+2]
		}},
		{name: "records rewritten only after the checkpoint", tamper: func(r []audit.Record) []audit.Record {
			flipBody(16)(r)
			rechain(r, 16)
			return r
		}},
	}
}

func checkVerifyErr(t *testing.T, err error, reason audit.Reason, seq, found uint64) {
	t.Helper()
	if reason == "" {
		if err != nil {
			t.Fatalf("intact log rejected: %v", err)
		}
		return
	}
	var ve *audit.VerifyError
	if !errors.As(err, &ve) {
		t.Fatalf("got %v, want a *VerifyError (%s at seq %d)", err, reason, seq)
	}
	if !errors.Is(err, audit.ErrTampered) {
		t.Errorf("error does not match ErrTampered")
	}
	if ve.Reason != reason || ve.Seq != seq || ve.Found != found {
		t.Fatalf("got %s at seq %d (found %d), want %s at seq %d (found %d)\n%v",
			ve.Reason, ve.Seq, ve.Found, reason, seq, found, err)
	}
}

func TestVerifyTamper(t *testing.T) {
	s := testSigner(t, 9)
	orig, _ := testLog(t, tamperLogSize)
	note := signedAt(t, s, orig, tamperCPSize)
	for _, tc := range tamperCases() {
		t.Run(tc.name, func(t *testing.T) {
			recs := tc.tamper(cloneRecs(orig))
			res, err := audit.Verify(seqOf(recs), note, s.PublicKey())
			checkVerifyErr(t, err, tc.reason, tc.seq, tc.found)
			if err == nil {
				if res.Records != uint64(len(recs)) || res.CheckpointSize != tamperCPSize || res.State.Size != uint64(len(recs)) {
					t.Errorf("result %+v", res)
				}
			}
		})
	}
}

func TestVerifyIntactResult(t *testing.T) {
	s := testSigner(t, 9)
	recs, leaves := testLog(t, tamperLogSize)
	res, err := audit.Verify(seqOf(recs), signedAt(t, s, recs, tamperLogSize), s.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	if res.State.Root() != audit.MerkleRoot(leaves) || res.State.Last != recs[len(recs)-1].Hash ||
		res.Records != tamperLogSize || res.CheckpointSize != tamperLogSize {
		t.Errorf("result %+v", res)
	}
	// The rebuilt state continues the log exactly like the original chain.
	c, err := audit.NewChain(res.State)
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := c.Append([]byte(`{}`)); r.Seq != tamperLogSize+1 || r.Prev != recs[len(recs)-1].Hash {
		t.Errorf("continuation: seq %d", r.Seq)
	}
}

func TestVerifyForgedCheckpoint(t *testing.T) {
	s := testSigner(t, 9)
	mallory := testSigner(t, 10)
	recs, _ := testLog(t, tamperLogSize)
	note := signedAt(t, s, recs, tamperCPSize)

	forked := cloneRecs(recs)
	forked[3].Body = []byte(`{"forged":true}`)
	rechain(forked, 3)

	for name, tc := range map[string]struct {
		note   []byte
		reason audit.Reason
		seq    uint64
	}{
		"signed by another key":       {signedAt(t, mallory, recs, tamperCPSize), audit.ReasonBadCheckpoint, 0},
		"edited size":                 {bytes.Replace(note, []byte("\n15\n"), []byte("\n14\n"), 1), audit.ReasonBadCheckpoint, 0},
		"empty":                       {nil, audit.ReasonBadCheckpoint, 0},
		"not a note":                  {[]byte("hello\n"), audit.ReasonBadCheckpoint, 0},
		"genuine key, forked log":     {signedAt(t, s, forked, tamperCPSize), audit.ReasonRootMismatch, tamperCPSize},
		"genuine key, larger size":    {signedAt(t, s, recs, tamperLogSize), "", 0},
		"genuine key, size 0":         {signedAt(t, s, recs, 0), "", 0},
		"genuine key, size too large": {resign(t, s, tamperLogSize+5), audit.ReasonTruncated, tamperLogSize + 1},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := audit.Verify(seqOf(recs), tc.note, s.PublicKey())
			found := tc.seq
			if tc.reason == audit.ReasonTruncated {
				found = 0
			}
			checkVerifyErr(t, err, tc.reason, tc.seq, found)
		})
	}
	// An edited root with an intact signature line.
	c, err := audit.ParseCheckpoint(append(bytes.SplitN(note, []byte("\n\n"), 2)[0], '\n'))
	if err != nil {
		t.Fatal(err)
	}
	text, _ := c.Text()
	c.Root[0] ^= 1
	text2, _ := c.Text()
	edited := bytes.Replace(note, text, text2, 1)
	if _, err := audit.Verify(seqOf(recs), edited, s.PublicKey()); err == nil {
		t.Error("edited root accepted")
	} else {
		var ve *audit.VerifyError
		if !errors.As(err, &ve) || ve.Reason != audit.ReasonBadCheckpoint || !errors.Is(err, audit.ErrSignature) {
			t.Errorf("edited root: %v", err)
		}
	}
}

// resign signs a checkpoint claiming size n with an arbitrary root.
func resign(t testing.TB, s *audit.Signer, n uint64) []byte {
	t.Helper()
	note, err := s.SignCheckpoint(audit.Checkpoint{Origin: testOrigin, Size: n, Root: [32]byte{1}})
	if err != nil {
		t.Fatal(err)
	}
	return note
}

func TestVerifyReaderError(t *testing.T) {
	recs, _ := testLog(t, 10)
	boom := errors.New("disk on fire")
	it := func(yield func(audit.Record, error) bool) {
		for _, r := range recs[:4] {
			if !yield(r, nil) {
				return
			}
		}
		yield(audit.Record{}, boom)
	}
	_, err := audit.VerifyWith(it, audit.VerifyOptions{})
	checkVerifyErr(t, err, audit.ReasonMalformed, 5, 0)
	if !errors.Is(err, boom) {
		t.Errorf("underlying error lost: %v", err)
	}
}

func TestVerifyWithOptions(t *testing.T) {
	recs, _ := testLog(t, 40)
	at := func(n int) audit.ChainState {
		c, _ := audit.NewChain(audit.ChainState{})
		for _, r := range recs[:n] {
			c.Append(r.Body)
		}
		return c.State()
	}
	cp := func(n int) audit.Checkpoint {
		st := at(n)
		return audit.Checkpoint{Origin: testOrigin, Size: st.Size, Root: st.Root()}
	}

	t.Run("several checkpoints", func(t *testing.T) {
		res, err := audit.VerifyWith(seqOf(recs), audit.VerifyOptions{Checkpoints: []audit.Checkpoint{cp(30), cp(10), cp(20), cp(20)}})
		if err != nil || res.CheckpointSize != 30 {
			t.Fatalf("%+v %v", res, err)
		}
	})
	t.Run("the earliest failing checkpoint narrows the damage", func(t *testing.T) {
		bad := cloneRecs(recs)
		bad[14].Body = []byte(`{"rewritten":1}`)
		rechain(bad, 14)
		_, err := audit.VerifyWith(seqOf(bad), audit.VerifyOptions{Checkpoints: []audit.Checkpoint{cp(10), cp(20), cp(30)}})
		checkVerifyErr(t, err, audit.ReasonRootMismatch, 20, 20)
	})
	t.Run("chain only", func(t *testing.T) {
		if _, err := audit.VerifyWith(seqOf(recs), audit.VerifyOptions{}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("from a trusted state", func(t *testing.T) {
		res, err := audit.VerifyWith(seqOf(recs[25:]), audit.VerifyOptions{Start: at(25), Checkpoints: []audit.Checkpoint{cp(25), cp(35)}})
		if err != nil || res.Records != 15 || res.State.Root() != at(40).Root() {
			t.Fatalf("%+v %v", res, err)
		}
		_, err = audit.VerifyWith(seqOf(recs[26:]), audit.VerifyOptions{Start: at(25)})
		checkVerifyErr(t, err, audit.ReasonGap, 26, 27)
		_, err = audit.VerifyWith(seqOf(recs[25:]), audit.VerifyOptions{Start: at(24)})
		checkVerifyErr(t, err, audit.ReasonGap, 25, 26)
	})
	t.Run("from the first record", func(t *testing.T) {
		res, err := audit.VerifyWith(seqOf(recs[12:]), audit.VerifyOptions{FromFirst: true})
		if err != nil || res.Records != 28 || res.State.Size != 40 || res.State.Range != nil {
			t.Fatalf("%+v %v", res, err)
		}
		bad := cloneRecs(recs[12:])
		bad[5].Hash[0] ^= 1
		_, err = audit.VerifyWith(seqOf(bad), audit.VerifyOptions{FromFirst: true})
		checkVerifyErr(t, err, audit.ReasonHashMismatch, 18, 18)
	})
	t.Run("bad options", func(t *testing.T) {
		for name, o := range map[string]audit.VerifyOptions{
			"checkpoint before start": {Start: at(10), Checkpoints: []audit.Checkpoint{cp(5)}},
			"inconsistent start":      {Start: audit.ChainState{Size: 3}},
			"FromFirst with start":    {Start: at(1), FromFirst: true},
			"FromFirst with cps":      {FromFirst: true, Checkpoints: []audit.Checkpoint{cp(1)}},
		} {
			if _, err := audit.VerifyWith(seqOf(recs), o); !errors.Is(err, audit.ErrVerifyOptions) && !errors.Is(err, audit.ErrChainState) {
				t.Errorf("%s: got %v", name, err)
			}
		}
	})
	t.Run("error text names seq and reason", func(t *testing.T) {
		_, err := audit.VerifyWith(seqOf(slices.Delete(cloneRecs(recs), 4, 5)), audit.VerifyOptions{})
		want := fmt.Sprintf("audit: log verification failed at seq 5: %s (found seq 6)", audit.ReasonGap)
		if err == nil || !bytes.HasPrefix([]byte(err.Error()), []byte(want)) {
			t.Errorf("error %q does not start with %q", err, want)
		}
	})
}
