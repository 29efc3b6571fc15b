package auditlog_test

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/coffer-dev/coffer/internal/audit"
	"github.com/coffer-dev/coffer/internal/auditlog"
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
	pick := func(vals ...string) string { return vals[r.IntN(len(vals))] }
	str := func() string {
		return pick("", "GetSecretValue", "Decrypt", "bench", `quote"back\slash`, "tab\tnl\n", "line\u2028sep", "é<&>", "bad\xffutf8", "x/y/z")
	}
	invalid := 0
	for seq := range 300 {
		fromBodies, fromKeys := auditlog.NewSummary(), auditlog.NewSummary()
		var attrs auditlog.Attrs
		declined := false
		for range 1 + r.IntN(12) {
			ev := audit.NewAPICallEvent(time.Unix(1.7e9+r.Int64N(1e8), r.Int64N(1e9)))
			ev.EventName, ev.EventSource = str(), pick(audit.SourceSecretsManager, audit.SourceSecretsManager, "kms.amazonaws.com", str())
			ev.ReadOnly = r.IntN(2) == 0
			if r.IntN(4) == 0 {
				ev.EventID = str()
			}
			ev.UserIdentity = audit.UserIdentity{
				Type:        pick(audit.IdentityIAMUser, audit.IdentityRoot, audit.IdentityAssumedRole, audit.IdentityWebIdentityUser, "Unknown", ""),
				UserName:    pick("", "", "bench", str()),
				ARN:         pick("", "arn:aws:iam::1:user/bench", "arn:aws:sts::1:assumed-role/app/"+str()),
				AccessKeyID: pick("", "AKIAEXAMPLE", "ASIA1", str()),
			}
			for range r.IntN(4) {
				ev.Resources = append(ev.Resources, audit.Resource{ARN: pick("arn:1", "arn:2", "", str()), Type: pick("", "AWS::KMS::Key", "AWS::SecretsManager::Secret", str())})
			}
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
