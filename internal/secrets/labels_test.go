package secrets_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-dev/coffer/internal/secrets"
)

// TestLabelRules walks the nine staging-label rules of spec §2.4, each
// recorded against AWS.
func TestLabelRules(t *testing.T) {
	const cur, prev, pend = "AWSCURRENT", "AWSPREVIOUS", "AWSPENDING"
	type step struct {
		do   func(e *env, t *testing.T)
		want map[string][]string // labels by version after the step (sorted)
		// current is the value GetSecretValue returns without arguments.
		current string
	}
	v := func(i int) string { return tok(i) }
	cases := []struct {
		name  string
		steps []step
	}{
		{"1 create with value", []step{
			{func(e *env, t *testing.T) {}, map[string][]string{v(1): l(cur)}, "v1"},
		}},
		{"2 put without stages moves CURRENT and PREVIOUS", []step{
			{func(e *env, t *testing.T) {
				if r := e.put(t, "s", v(2), "v2"); !cmp.Equal(r.Stages, []string{cur}) {
					t.Errorf("response stages %v, want [AWSCURRENT]", r.Stages)
				}
			}, map[string][]string{v(1): l(prev), v(2): l(cur)}, "v2"},
			{func(e *env, t *testing.T) { e.put(t, "s", v(3), "v3") },
				map[string][]string{v(1): nil, v(2): l(prev), v(3): l(cur)}, "v3"},
		}},
		{"2 update with value moves CURRENT and PREVIOUS", []step{
			{func(e *env, t *testing.T) {
				d := "new description"
				res, err := e.svc.Update(e.ctx, e.lookup(t, "s"), secrets.UpdateInput{Token: v(2), Value: str("v2"), Description: &d})
				if err != nil || res.VersionID != v(2) {
					t.Fatalf("update: %+v %v", res, err)
				}
			}, map[string][]string{v(1): l(prev), v(2): l(cur)}, "v2"},
		}},
		{"3 put with explicit stages takes them from other versions, CURRENT stays", []step{
			{func(e *env, t *testing.T) {
				if r := e.put(t, "s", v(2), "v2", "one", "two", "three"); !cmp.Equal(l(r.Stages...), l("one", "two", "three")) {
					t.Errorf("response stages %v", r.Stages)
				}
			}, map[string][]string{v(1): l(cur), v(2): l("one", "two", "three")}, "v1"},
			{func(e *env, t *testing.T) { e.put(t, "s", v(3), "v3", "one", "two", "four") },
				map[string][]string{v(1): l(cur), v(2): l("three"), v(3): l("four", "one", "two")}, "v1"},
			{func(e *env, t *testing.T) { e.put(t, "s", v(4), "v4", "one", "two", "three", "four") },
				map[string][]string{v(1): l(cur), v(2): nil, v(3): nil, v(4): l("four", "one", "three", "two")}, "v1"},
		}},
		{"3 put with AWSPENDING leaves CURRENT", []step{
			{func(e *env, t *testing.T) { e.put(t, "s", v(2), "v2", pend) },
				map[string][]string{v(1): l(cur), v(2): l(pend)}, "v1"},
		}},
		{"4 put with AWSCURRENT among stages moves PREVIOUS too", []step{
			{func(e *env, t *testing.T) { e.put(t, "s", v(2), "v2", cur, "PUT0") },
				map[string][]string{v(1): l(prev), v(2): l(cur, "PUT0")}, "v2"},
		}},
		{"5 move CURRENT onto the pending version keeps PENDING", []step{
			{func(e *env, t *testing.T) { e.put(t, "s", v(2), "v2") }, nil, "v2"},
			{func(e *env, t *testing.T) { e.put(t, "s", v(3), "v3", pend, "custom") },
				map[string][]string{v(1): l(prev), v(2): l(cur), v(3): l(pend, "custom")}, "v2"},
			{func(e *env, t *testing.T) { e.stage(t, "s", cur, v(3), v(2)) },
				map[string][]string{v(1): nil, v(2): l(prev), v(3): l(cur, pend, "custom")}, "v3"},
		}},
		{"5 old current keeps its custom labels", []step{
			{func(e *env, t *testing.T) { e.stage(t, "s", "mine", v(1), "") }, nil, "v1"},
			{func(e *env, t *testing.T) { e.put(t, "s", v(2), "v2", pend) }, nil, "v1"},
			{func(e *env, t *testing.T) { e.stage(t, "s", cur, v(2), v(1)) },
				map[string][]string{v(1): l(prev, "mine"), v(2): l(cur, pend)}, "v2"},
		}},
		{"6 omitting MoveToVersionId removes the label", []step{
			{func(e *env, t *testing.T) { e.put(t, "s", v(2), "v2", pend) }, nil, "v1"},
			{func(e *env, t *testing.T) { e.stage(t, "s", pend, "", v(2)) },
				map[string][]string{v(1): l(cur), v(2): nil}, "v1"},
		}},
		{"6 moving a label nobody holds needs no RemoveFromVersionId", []step{
			{func(e *env, t *testing.T) { e.put(t, "s", v(2), "v2", "x") }, nil, "v1"},
			{func(e *env, t *testing.T) { e.stage(t, "s", "fresh", v(2), "") },
				map[string][]string{v(1): l(cur), v(2): l("fresh", "x")}, "v1"},
		}},
		{"6 moving a label onto the version that has it is a no-op", []step{
			{func(e *env, t *testing.T) { e.stage(t, "s", cur, v(1), "") },
				map[string][]string{v(1): l(cur)}, "v1"},
		}},
		{"7 put with AWSPENDING takes it from the current version", []step{
			{func(e *env, t *testing.T) { e.put(t, "s", v(2), "v2", pend) }, nil, "v1"},
			{func(e *env, t *testing.T) { e.stage(t, "s", cur, v(2), v(1)) },
				map[string][]string{v(1): l(prev), v(2): l(cur, pend)}, "v2"},
			{func(e *env, t *testing.T) { e.put(t, "s", v(3), "v3", pend) },
				map[string][]string{v(1): l(prev), v(2): l(cur), v(3): l(pend)}, "v2"},
		}},
		{"8 custom labels never move with AWSCURRENT", []step{
			{func(e *env, t *testing.T) { e.put(t, "s", v(2), "v2", cur, "PUT0") }, nil, "v2"},
			{func(e *env, t *testing.T) { e.put(t, "s", v(3), "v3") },
				map[string][]string{v(1): nil, v(2): l(prev, "PUT0"), v(3): l(cur)}, "v3"},
			{func(e *env, t *testing.T) { e.put(t, "s", v(4), "v4") },
				map[string][]string{v(1): nil, v(2): l("PUT0"), v(3): l(prev), v(4): l(cur)}, "v4"},
		}},
		{"rollback: moving CURRENT back onto PREVIOUS swaps them", []step{
			{func(e *env, t *testing.T) { e.put(t, "s", v(2), "v2") }, nil, "v2"},
			{func(e *env, t *testing.T) { e.stage(t, "s", cur, v(1), v(2)) },
				map[string][]string{v(1): l(cur), v(2): l(prev)}, "v1"},
		}},
		{"first version of an empty secret gets AWSCURRENT even with explicit stages", []step{
			{func(e *env, t *testing.T) {
				if _, err := e.svc.Delete(e.ctx, "s", nil, true); err != nil {
					t.Fatal(err)
				}
				e.create(t, "s", "", "")
				r := e.put(t, "s", v(5), "v5", pend)
				if !cmp.Equal(l(r.Stages...), l(cur, pend)) {
					t.Errorf("response stages %v, want AWSCURRENT and AWSPENDING", r.Stages)
				}
			}, map[string][]string{v(5): l(cur, pend)}, "v5"},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.create(t, "s", v(1), "v1")
			for i, st := range c.steps {
				st.do(e, t)
				if st.want != nil {
					if diff := cmp.Diff(st.want, e.labels(t, "s")); diff != "" {
						t.Fatalf("step %d: labels (-want +got):\n%s", i+1, diff)
					}
				}
				if got := e.value(t, "s", "", ""); got != st.current {
					t.Fatalf("step %d: current value %q, want %q", i+1, got, st.current)
				}
				e.checkLabelInvariants(t, "s")
			}
		})
	}
}

// TestLabelRule9Visibility: versions without labels are deprecated: hidden
// from ListSecretVersionIds unless IncludeDeprecated, and then listed
// without stages (spec §2.3, §2.4 rule 9).
func TestLabelRule9Visibility(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.create(t, "s", tok(1), "v1")
	e.put(t, "s", tok(2), "v2")
	e.put(t, "s", tok(3), "v3")
	sec := e.lookup(t, "s")
	ids := func(vs []secrets.Version) (out []string) {
		for _, v := range vs {
			out = append(out, v.ID)
		}
		return out
	}
	vs, next, err := e.svc.ListVersions(e.ctx, sec, false, 0, "")
	if err != nil || next != "" {
		t.Fatal(next, err)
	}
	if diff := cmp.Diff([]string{tok(3), tok(2)}, ids(vs)); diff != "" {
		t.Errorf("without deprecated: %s", diff)
	}
	vs, _, err = e.svc.ListVersions(e.ctx, sec, true, 0, "")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{tok(3), tok(2), tok(1)}, ids(vs)); diff != "" {
		t.Errorf("with deprecated: %s", diff)
	}
	if len(vs[2].Stages) != 0 {
		t.Errorf("deprecated version has stages %v", vs[2].Stages)
	}
	// A deprecated version stays readable by id.
	if got := e.value(t, "s", tok(1), ""); got != "v1" {
		t.Errorf("deprecated value %q", got)
	}
}
