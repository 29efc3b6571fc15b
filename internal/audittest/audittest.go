// Package audittest has helpers for tests of the audit trail.
package audittest

import (
	"math/rand/v2"
	"time"

	"github.com/coffer-dev/coffer/internal/audit"
)

// RandomEvent returns an API call event with random lookup fields: strings
// with JSON escapes, control characters, U+2028, characters HTML escaping
// would touch, empty values and invalid UTF-8 (which Event.LookupKeys
// declines), and up to three resources.
func RandomEvent(r *rand.Rand) *audit.Event {
	pick := func(vals ...string) string { return vals[r.IntN(len(vals))] }
	str := func() string {
		return pick("", "GetSecretValue", "Decrypt", "bench", `quote"back\slash`, "tab\tnl\n", "line\u2028sep", "é<&>", "bad\xffutf8", "x/y/z")
	}
	ev := audit.NewAPICallEvent(time.Unix(1.7e9+r.Int64N(1e8), r.Int64N(1e9)))
	ev.EventName, ev.EventSource = str(), pick(audit.SourceSecretsManager, audit.SourceSecretsManager, "kms.amazonaws.com", str())
	ev.ReadOnly = r.IntN(2) == 0
	ev.SourceIPAddress = pick("127.0.0.1", "::1", "", str())
	ev.ErrorCode = pick("", "", "AccessDeniedException", "ResourceNotFoundException", str())
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
		ev.Resources = append(ev.Resources, audit.Resource{
			ARN:       pick("arn:1", "arn:2", "", str()),
			AccountID: pick("", "123456789012"),
			Type:      pick("", "AWS::KMS::Key", "AWS::SecretsManager::Secret", str()),
		})
	}
	return ev
}
