package secrets_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/coffer-dev/coffer/internal/secrets"
)

// tok returns a distinct 36-character ClientRequestToken for i.
func tok(i int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", i) }

// bin returns a binary value.
func bin(b ...byte) *secrets.Value { return &secrets.Value{Data: b, Binary: true} }

// labels returns the staging labels of every version of the secret named
// id, by version id, each list sorted; versions without labels map to nil.
func (e *env) labels(t *testing.T, id string) map[string][]string {
	t.Helper()
	s := e.lookup(t, id)
	out := make(map[string][]string, len(s.Versions))
	for _, v := range s.Versions {
		var l []string
		if len(v.Stages) > 0 {
			l = slices.Sorted(slices.Values(v.Stages))
		}
		out[v.ID] = l
	}
	return out
}

// put stores a new string version with the given labels.
func (e *env) put(t *testing.T, id, token, value string, stages ...string) *secrets.Result {
	t.Helper()
	res, err := e.svc.PutValue(e.ctx, e.lookup(t, id), secrets.PutInput{Token: token, Value: *str(value), Stages: stages})
	if err != nil {
		t.Fatalf("PutValue(%s, %s): %v", id, token, err)
	}
	return res
}

// stage runs UpdateSecretVersionStage.
func (e *env) stage(t *testing.T, id, label, moveTo, removeFrom string) {
	t.Helper()
	if _, err := e.svc.UpdateVersionStage(e.ctx, e.lookup(t, id), label, moveTo, removeFrom); err != nil {
		t.Fatalf("UpdateVersionStage(%s, %s, to %q, from %q): %v", id, label, moveTo, removeFrom, err)
	}
}

// l builds a sorted label list (nil for none), for comparisons with labels.
func l(s ...string) []string {
	if len(s) == 0 {
		return nil
	}
	return slices.Sorted(slices.Values(s))
}

// checkLabelInvariants fails unless every label of the secret is on at most
// one version and exactly one version is AWSCURRENT (when it has versions).
func (e *env) checkLabelInvariants(t *testing.T, id string) {
	t.Helper()
	s := e.lookup(t, id)
	seen := map[string]string{}
	for _, v := range s.Versions {
		for _, lb := range v.Stages {
			if other, dup := seen[lb]; dup {
				t.Fatalf("label %s on both %s and %s", lb, other, v.ID)
			}
			seen[lb] = v.ID
		}
	}
	if len(s.Versions) > 0 && seen[secrets.StageCurrent] == "" {
		t.Fatalf("no AWSCURRENT version among %d", len(s.Versions))
	}
}
