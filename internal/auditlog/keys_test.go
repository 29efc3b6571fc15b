package auditlog_test

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/coffer-dev/coffer/internal/auditlog"
	"github.com/coffer-dev/coffer/internal/audittest"
)

// TestSummaryAddKeys: a block summary built from events' own lookup keys
// (Summary.AddKeys of Event.LookupKeys, what the SQLite indexer uses for
// records the edge staged) equals the one built by reading the rendered
// bodies back (Summary.Add of Attrs.Parse): the same filter bits, the same
// key count, the same times. Random sequences of events, so that the
// repeat rule (a key equal to the previous record's is skipped) is
// exercised; strings with escapes, U+2028, empty values and invalid UTF-8
// (for which LookupKeys must decline).
func TestSummaryAddKeys(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	invalid := 0
	for seq := range 300 {
		fromBodies, fromKeys := auditlog.NewSummary(), auditlog.NewSummary()
		var attrs auditlog.Attrs
		declined := false
		for range 1 + r.IntN(12) {
			ev := audittest.RandomEvent(r)
			body, err := ev.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if err := attrs.Parse(body); err != nil {
				t.Fatalf("%v: %s", err, body)
			}
			k, ok := ev.LookupKeys()
			if !ok {
				if !bytes.Contains(body, []byte(`\ufffd`)) && !bytes.Contains(body, []byte("\ufffd")) {
					t.Fatalf("LookupKeys declined a valid event: %s", body)
				}
				declined = true
				break
			}
			if attrs.Unix() != k.Unix {
				t.Fatalf("time: body %d, keys %d (%s)", attrs.Unix(), k.Unix, body)
			}
			fromBodies.Add(&attrs)
			fromKeys.AddKeys(&k)
		}
		if declined {
			invalid++
			continue
		}
		if fromBodies.Keys != fromKeys.Keys || !bytes.Equal(fromBodies.Bloom, fromKeys.Bloom) {
			t.Fatalf("sequence %d: summaries differ: %d keys from bodies, %d from keys", seq, fromBodies.Keys, fromKeys.Keys)
		}
	}
	if invalid == 0 || invalid == 300 {
		t.Fatalf("%d of 300 sequences had invalid UTF-8: the test does not cover both cases", invalid)
	}
}
