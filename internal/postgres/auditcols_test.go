package postgres

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/coffer-dev/coffer/internal/audittest"
)

// The columns of a record staged with its event's lookup keys are the
// ones a parse of its body gives, for random events with escapes, line
// separators, empty values and resources (events with invalid UTF-8 are
// declined by LookupKeys and staged from their bodies).
func TestAuditColsFromKeys(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	declined, compared := 0, 0
	for range 500 {
		ev := audittest.RandomEvent(r)
		body, err := ev.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		fromBody, err := parseAuditCols(body)
		if err != nil {
			t.Fatalf("%v: %s", err, body)
		}
		k, ok := ev.LookupKeys()
		if !ok {
			if !bytes.Contains(body, []byte(`\ufffd`)) && !bytes.Contains(body, []byte("\ufffd")) {
				t.Fatalf("LookupKeys declined a valid event: %s", body)
			}
			declined++
			continue
		}
		compared++
		fromKeys := keyAuditCols(&k)
		var a, b auditRows
		a.addFields(body, &fromBody)
		b.addFields(body, &fromKeys)
		same := a.times[0].Equal(b.times[0]) && a.ids[0] == b.ids[0] && a.names[0] == b.names[0] &&
			a.sources[0] == b.sources[0] && a.ro[0] == b.ro[0] && a.users[0] == b.users[0] && a.keys[0] == b.keys[0] &&
			a.errCodes[0] == b.errCodes[0] && a.srcIPs[0] == b.srcIPs[0] &&
			slices.Equal(a.resAttr, b.resAttr) && slices.Equal(a.resValue, b.resValue) && slices.Equal(a.resIdx, b.resIdx)
		if !same {
			t.Fatalf("columns differ:\nbody %+v\nkeys %+v\n%s", a, b, body)
		}
	}
	if declined == 0 || compared == 0 {
		t.Fatalf("%d declined, %d compared: the test does not cover both cases", declined, compared)
	}
}
