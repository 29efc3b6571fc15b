package storetest

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/coffer-dev/coffer/internal/secrets"
)

// listFixture creates secrets whose sort values tie and differ in every
// order, some never read, some scheduled for deletion, with names that
// sort differently bytewise than by any locale.
func listFixture(t *testing.T, s Stores) []*secrets.Secret {
	ctx := bg(t)
	names := []string{"b", "B", "a", "A9", "_x", "z/y", "a-b", "a.b", "Zeta", "ab+", "é", "m@n"}
	day := time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)
	var all []*secrets.Secret
	for i, n := range names {
		sec := newSecret(n)
		sec.ARN = arnOf(n)
		sec.CreatedAt = base.Add(time.Duration(i%4) * time.Minute) // ties in fours
		sec.LastChangedAt = base.Add(time.Duration((i*7)%5) * time.Hour)
		if i%5 == 3 {
			sec.DeletedAt, sec.PurgeAt = base, base.Add(time.Duration(i)*time.Hour)
		}
		put(t, s.Secrets, ctx, sec, nil)
		if i%3 != 0 { // every third secret is never read
			d := day.AddDate(0, 0, i%2)
			if err := s.Secrets.Touch(ctx, n, sec.ARN, "v2", d); err != nil {
				t.Fatal(err)
			}
			sec.LastAccessedAt = d
		}
		all = append(all, sec)
	}
	return all
}

// expectedOrder sorts secrets the way List must: by the sort value, ties
// broken by name (bytewise), both reversed for descending order.
func expectedOrder(all []*secrets.Secret, k secrets.SortKey, desc, includeDeleted bool, match func(*secrets.Secret) bool) []string {
	var out []*secrets.Secret
	for _, s := range all {
		if (includeDeleted || !s.Deleted()) && (match == nil || match(s)) {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b *secrets.Secret) int {
		c := 0
		if k != secrets.SortName {
			c = cmp.Compare(secrets.SortValue(a, k), secrets.SortValue(b, k))
		}
		if c == 0 {
			c = strings.Compare(a.Name, b.Name)
		}
		if desc {
			c = -c
		}
		return c
	})
	names := make([]string, len(out))
	for i, s := range out {
		names[i] = s.Name
	}
	return names
}

// listAll pages through List with the given limit.
func listAll(t *testing.T, s Stores, q secrets.ListQuery) []*secrets.Secret {
	t.Helper()
	ctx := bg(t)
	var got []*secrets.Secret
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatal("List never ends")
		}
		page, more, err := s.Secrets.List(ctx, q)
		if err != nil {
			t.Fatalf("List(%+v): %v", q, err)
		}
		limit := q.Limit
		if limit <= 0 {
			limit = 100
		}
		if len(page) > limit {
			t.Fatalf("List returned %d secrets, limit %d", len(page), limit)
		}
		got = append(got, page...)
		if !more {
			return got
		}
		if len(page) == 0 {
			t.Fatal("List reported more after an empty page")
		}
		last := page[len(page)-1]
		q.After = &secrets.Cursor{Value: secrets.SortValue(last, q.Sort), Name: last.Name}
	}
}

func namesOf(ss []*secrets.Secret) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.Name
	}
	return out
}

// RunList covers secrets.Store.List: every sort key in both directions,
// pagination by cursor, IncludeDeleted, Match, and chunked scans.
func RunList(t *testing.T, open Open) {
	subtests(t, open, []test{
		{"Orders", func(t *testing.T, s Stores) {
			all := listFixture(t, s)
			sorts := map[secrets.SortKey]string{secrets.SortCreated: "created", secrets.SortLastAccessed: "accessed", secrets.SortLastChanged: "changed", secrets.SortName: "name"}
			for k, kn := range sorts {
				for _, desc := range []bool{false, true} {
					for _, del := range []bool{false, true} {
						for _, limit := range []int{0, 1, 5} {
							t.Run(fmt.Sprintf("%s/desc=%v/deleted=%v/limit=%d", kn, desc, del, limit), func(t *testing.T) {
								q := secrets.ListQuery{Sort: k, Desc: desc, IncludeDeleted: del, Limit: limit}
								got := listAll(t, s, q)
								if d := gocmp.Diff(expectedOrder(all, k, desc, del, nil), namesOf(got)); d != "" {
									t.Fatalf("order (-want +got):\n%s", d)
								}
							})
						}
					}
				}
			}
		}},
		{"Documents", func(t *testing.T, s Stores) {
			all := listFixture(t, s)
			got := listAll(t, s, secrets.ListQuery{Sort: secrets.SortName, IncludeDeleted: true})
			byName := map[string]*secrets.Secret{}
			for _, g := range got {
				byName[g.Name] = g
			}
			for _, want := range all {
				g := byName[want.Name]
				if g == nil {
					t.Fatalf("%s missing", want.Name)
				}
				// List need not fill per-version access days.
				if d := gocmp.Diff(want, g, gocmp.FilterPath(func(p gocmp.Path) bool {
					return p.Last().String() == ".LastAccessedAt" && strings.Contains(p.GoString(), "Versions")
				}, gocmp.Ignore())); d != "" {
					t.Fatalf("%s (-want +got):\n%s", want.Name, d)
				}
			}
		}},
		{"Match", func(t *testing.T, s Stores) {
			all := listFixture(t, s)
			match := func(s *secrets.Secret) bool { return strings.ContainsAny(s.Name, "aA") }
			for _, limit := range []int{1, 2, 100} {
				q := secrets.ListQuery{Sort: secrets.SortLastChanged, Desc: true, Limit: limit, Match: match}
				if d := gocmp.Diff(expectedOrder(all, secrets.SortLastChanged, true, false, match), namesOf(listAll(t, s, q))); d != "" {
					t.Fatalf("limit %d (-want +got):\n%s", limit, d)
				}
			}
			none := listAll(t, s, secrets.ListQuery{Match: func(*secrets.Secret) bool { return false }})
			if len(none) != 0 {
				t.Fatalf("Match rejecting all listed %v", namesOf(none))
			}
		}},
		{"ManyWithSparseMatch", func(t *testing.T, s Stores) {
			// More secrets than one scan chunk, few of them matching.
			ctx, u := s.Units.Begin(bg(t))
			var all []*secrets.Secret
			for i := range 600 {
				sec := &secrets.Secret{ARN: arnOf(fmt.Sprintf("bulk-%04d", i)), Name: fmt.Sprintf("bulk-%04d", i), CreatedAt: base.Add(time.Duration(599-i) * time.Second), LastChangedAt: base}
				all = append(all, sec)
				if err := s.Secrets.Update(ctx, sec.Name, func(*secrets.Secret) (*secrets.Change, error) { return &secrets.Change{Secret: sec.Clone()}, nil }); err != nil {
					t.Fatal(err)
				}
			}
			if err := u.Commit(); err != nil {
				t.Fatal(err)
			}
			match := func(s *secrets.Secret) bool { return strings.HasSuffix(s.Name, "7") && s.Name[6] == '1' }
			for _, q := range []secrets.ListQuery{
				{Sort: secrets.SortCreated, Limit: 7, Match: match},
				{Sort: secrets.SortName, Desc: true, Limit: 3, Match: match},
				{Sort: secrets.SortName, Limit: 250},
			} {
				want := expectedOrder(all, q.Sort, q.Desc, false, q.Match)
				if d := gocmp.Diff(want, namesOf(listAll(t, s, q))); d != "" {
					t.Fatalf("%+v (-want +got):\n%s", q, d)
				}
			}
		}},
	})
}
