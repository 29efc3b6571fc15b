package secrets_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-dev/coffer/internal/secrets"
)

// listAll pages through ListSecrets with page size max and returns the
// names in order, checking that every page but the last is full.
func (e *env) listAll(t *testing.T, in secrets.ListInput) []string {
	t.Helper()
	var out []string
	for pages := 0; ; pages++ {
		if pages > 100 {
			t.Fatal("pagination does not end")
		}
		page, next, err := e.svc.List(e.ctx, in)
		if err != nil {
			t.Fatalf("List(%+v): %v", in, err)
		}
		for _, s := range page {
			out = append(out, s.Name)
		}
		if next == "" {
			return out
		}
		if in.MaxResults > 0 && len(page) != in.MaxResults {
			t.Fatalf("page of %d with a next token (max %d)", len(page), in.MaxResults)
		}
		in.NextToken = next
	}
}

// TestListSecrets: sort keys and orders, pagination, IncludePlannedDeletion
// and filters together.
func TestListSecrets(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// Created in this order, one minute apart: c, a, e, b, d.
	for _, n := range []string{"c", "a", "e", "b", "d"} {
		e.create(t, n, tok(1), "v")
		e.clock.Advance(time.Minute)
	}
	// Changed: a last, then c.
	e.put(t, "c", tok(2), "v2")
	e.clock.Advance(time.Minute)
	e.put(t, "a", tok(2), "v2")
	// Accessed: b today, e tomorrow (day resolution; ties broken by name).
	e.value(t, "b", "", "")
	e.clock.Advance(24 * time.Hour)
	e.value(t, "e", "", "")
	// d is scheduled for deletion.
	if _, err := e.svc.Delete(e.ctx, "d", nil, false); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		in   secrets.ListInput
		want []string
	}{
		{secrets.ListInput{}, []string{"c", "a", "e", "b"}},
		{secrets.ListInput{SortOrder: "asc", SortBy: "created-date"}, []string{"c", "a", "e", "b"}},
		{secrets.ListInput{SortOrder: "desc"}, []string{"b", "e", "a", "c"}},
		{secrets.ListInput{IncludeDeleted: true}, []string{"c", "a", "e", "b", "d"}},
		{secrets.ListInput{IncludeDeleted: true, SortOrder: "desc"}, []string{"d", "b", "e", "a", "c"}},
		{secrets.ListInput{SortBy: "name"}, []string{"a", "b", "c", "e"}},
		{secrets.ListInput{SortBy: "name", SortOrder: "desc"}, []string{"e", "c", "b", "a"}},
		{secrets.ListInput{SortBy: "name", IncludeDeleted: true}, []string{"a", "b", "c", "d", "e"}},
		{secrets.ListInput{SortBy: "last-changed-date"}, []string{"e", "b", "c", "a"}},
		{secrets.ListInput{SortBy: "last-changed-date", SortOrder: "desc"}, []string{"a", "c", "b", "e"}},
		// Never accessed sorts first ascending.
		{secrets.ListInput{SortBy: "last-accessed-date"}, []string{"a", "c", "b", "e"}},
		{secrets.ListInput{SortBy: "last-accessed-date", SortOrder: "desc"}, []string{"e", "b", "c", "a"}},
		{secrets.ListInput{Filters: []secrets.Filter{{Key: "name", Values: []string{"!a", "!b"}}}}, []string{"c", "a", "e", "b"}},
		{secrets.ListInput{Filters: []secrets.Filter{{Key: "name", Values: []string{"a", "b"}}}}, []string{"a", "b"}},
		{secrets.ListInput{Filters: []secrets.Filter{{Key: "name", Values: []string{"d"}}}}, nil},
		{secrets.ListInput{Filters: []secrets.Filter{{Key: "name", Values: []string{"d"}}}, IncludeDeleted: true}, []string{"d"}},
	} {
		for _, max := range []int{0, 1, 2, 3, 100} {
			in := c.in
			in.MaxResults = max
			t.Run(fmt.Sprintf("%+v", in), func(t *testing.T) {
				if diff := cmp.Diff(c.want, e.listAll(t, in)); diff != "" {
					t.Error(diff)
				}
			})
		}
	}
}

// TestListSecretsPaginationIsStable: secrets created or deleted between
// pages neither repeat nor hide the others.
func TestListSecretsPaginationIsStable(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for i := 0; i < 10; i++ {
		e.create(t, fmt.Sprintf("s%02d", i), "", "")
		e.clock.Advance(time.Second)
	}
	page, next, err := e.svc.List(e.ctx, secrets.ListInput{MaxResults: 4})
	if err != nil || len(page) != 4 || next == "" {
		t.Fatalf("%d %q %v", len(page), next, err)
	}
	// s00 (already seen) and s05 (not yet) go; s10 is new.
	for _, n := range []string{"s00", "s05"} {
		if _, err := e.svc.Delete(e.ctx, n, nil, true); err != nil {
			t.Fatal(err)
		}
	}
	e.create(t, "s10", "", "")
	got := e.listAll(t, secrets.ListInput{MaxResults: 4, NextToken: next})
	if diff := cmp.Diff([]string{"s04", "s06", "s07", "s08", "s09", "s10"}, got); diff != "" {
		t.Error(diff)
	}
}

// TestListSecretsManyFiltered: a filter that rejects most secrets still
// fills pages (the store reads past its chunk size).
func TestListSecretsManyFiltered(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var want []string
	for i := 0; i < 600; i++ {
		n := fmt.Sprintf("other/%03d", i)
		if i%100 == 7 {
			n = fmt.Sprintf("hit/%03d", i)
			want = append(want, n)
		}
		e.create(t, n, "", "")
	}
	got := e.listAll(t, secrets.ListInput{MaxResults: 2, SortBy: "name", Filters: []secrets.Filter{{Key: "name", Values: []string{"hit/"}}}})
	if diff := cmp.Diff(want, got); diff != "" {
		t.Error(diff)
	}
}

// TestListVersionsPagination: newest first; MaxResults and NextToken.
func TestListVersionsPagination(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.create(t, "s", tok(0), "v")
	for i := 1; i < 7; i++ {
		e.put(t, "s", tok(i), "v", fmt.Sprint("L", i))
	}
	sec := e.lookup(t, "s")
	for _, dep := range []bool{false, true} {
		for _, max := range []int{1, 2, 3, 7, 100} {
			var got []string
			token := ""
			for {
				vs, next, err := e.svc.ListVersions(e.ctx, sec, dep, max, token)
				if err != nil {
					t.Fatal(err)
				}
				if next != "" && len(vs) != max {
					t.Fatalf("short page with next token")
				}
				for _, v := range vs {
					got = append(got, v.ID)
				}
				if next == "" {
					break
				}
				token = next
			}
			want := []string{tok(6), tok(5), tok(4), tok(3), tok(2), tok(1), tok(0)}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("deprecated=%v max=%d: %s", dep, max, diff)
			}
		}
	}
}

// TestBatchGet: by id list with per-secret errors, by filters with pages.
func TestBatchGet(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.create(t, "batch/a", tok(1), "A")
	if _, err := e.svc.Create(e.ctx, secrets.CreateInput{Name: "batch/b", Token: tok(1), Value: bin(0xb)}); err != nil {
		t.Fatal(err)
	}
	e.create(t, "batch/empty", "", "")
	e.create(t, "batch/gone", tok(1), "G")
	e.create(t, "batch/denied", tok(1), "D")
	e.create(t, "other", tok(1), "O")
	if _, err := e.svc.Delete(e.ctx, "batch/gone", nil, false); err != nil {
		t.Fatal(err)
	}
	deny := func(_ context.Context, s *secrets.Secret) error {
		if s.Name == "batch/denied" {
			return &secrets.Error{Kind: secrets.ErrAccessDenied, Message: "denied"}
		}
		return nil
	}
	type got struct {
		Values map[string]string // name → value (binary as hex)
		Errors map[string]string // id → kind: message
	}
	collect := func(vals []*secrets.SecretValue, errs []secrets.BatchError) got {
		g := got{Values: map[string]string{}, Errors: map[string]string{}}
		for _, v := range vals {
			s := string(v.Value.Data)
			if v.Value.Binary {
				s = fmt.Sprintf("%x", v.Value.Data)
			}
			g.Values[v.Name] = s
			if v.VersionID != tok(1) || len(v.Stages) != 1 || v.Stages[0] != "AWSCURRENT" || v.ARN == "" {
				t.Errorf("entry %+v", v)
			}
		}
		for _, be := range errs {
			var de *secrets.Error
			if !errors.As(be.Err, &de) {
				t.Fatalf("batch error %v is not a domain error", be.Err)
			}
			kind := "?"
			for _, k := range []error{secrets.ErrNotFound, secrets.ErrInvalidRequest, secrets.ErrValidation, secrets.ErrAccessDenied} {
				if errors.Is(de, k) {
					kind = k.Error()
				}
			}
			g.Errors[be.SecretID] = kind + ": " + de.Message
		}
		return g
	}

	t.Run("ids", func(t *testing.T) {
		vals, errs, next, err := e.svc.BatchGet(e.ctx, secrets.BatchInput{IDs: []string{
			"batch/a", "batch/b", "missing", "batch/empty", "batch/gone", "Inv Name", "batch/denied", a.ARN,
		}}, deny)
		if err != nil || next != "" {
			t.Fatal(next, err)
		}
		want := got{
			Values: map[string]string{"batch/a": "A", "batch/b": "0b"},
			Errors: map[string]string{
				"missing":      "not found: " + msgNotFound,
				"batch/empty":  "not found: " + msgNoStage("AWSCURRENT"),
				"batch/gone":   "invalid request: " + msgMarked,
				"Inv Name":     "validation failed: " + msgInvalidName,
				"batch/denied": "access denied: denied",
			},
		}
		if diff := cmp.Diff(want, collect(vals, errs)); diff != "" {
			t.Error(diff)
		}
		if len(vals) != 3 { // batch/a twice (by name and by ARN)
			t.Errorf("%d values", len(vals))
		}
	})
	t.Run("filters with pages", func(t *testing.T) {
		all := got{Values: map[string]string{}, Errors: map[string]string{}}
		in := secrets.BatchInput{Filters: []secrets.Filter{{Key: "name", Values: []string{"batch/"}}}, MaxResults: 2}
		pages := 0
		for {
			vals, errs, next, err := e.svc.BatchGet(e.ctx, in, deny)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			g := collect(vals, errs)
			for k, v := range g.Values {
				all.Values[k] = v
			}
			for k, v := range g.Errors {
				all.Errors[k] = v
			}
			if next == "" {
				break
			}
			in.NextToken = next
		}
		// Secrets scheduled for deletion are not listed, so not reported.
		want := got{
			Values: map[string]string{"batch/a": "A", "batch/b": "0b"},
			Errors: map[string]string{
				"batch/empty":  "not found: " + msgNoStage("AWSCURRENT"),
				"batch/denied": "access denied: denied",
			},
		}
		if diff := cmp.Diff(want, all); diff != "" {
			t.Error(diff)
		}
		// A full last page may carry a NextToken that leads to an empty
		// page ("NextToken may appear even with an empty page", spec §3.8).
		if pages != 2 && pages != 3 {
			t.Errorf("%d pages of at most 2 for 4 secrets", pages)
		}
	})
	t.Run("reads count as accesses", func(t *testing.T) {
		if s := e.lookup(t, "batch/a"); !s.LastAccessedAt.Equal(time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("LastAccessedAt %v", s.LastAccessedAt)
		}
	})
}
