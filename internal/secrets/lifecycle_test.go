package secrets_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-dev/coffer/internal/secrets"
)

// TestIdempotency: ClientRequestToken rules of spec §2.3.
func TestIdempotency(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := e.create(t, "s", tok(1), "v1")

	t.Run("create retried", func(t *testing.T) {
		res, err := e.svc.Create(e.ctx, secrets.CreateInput{Name: "s", Token: tok(1), Value: str("v1")})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(&secrets.Result{ARN: s.ARN, Name: "s", VersionID: tok(1)}, res); diff != "" {
			t.Error(diff)
		}
	})
	t.Run("put with the create token and the same value", func(t *testing.T) {
		res := e.put(t, "s", tok(1), "v1")
		if diff := cmp.Diff(&secrets.Result{ARN: s.ARN, Name: "s", VersionID: tok(1), Stages: []string{"AWSCURRENT"}}, res); diff != "" {
			t.Error(diff)
		}
		if n := len(e.lookup(t, "s").Versions); n != 1 {
			t.Errorf("%d versions, want 1", n)
		}
	})
	t.Run("put retried after another version became current", func(t *testing.T) {
		e.put(t, "s", tok(2), "v2")
		res := e.put(t, "s", tok(1), "v1")
		if diff := cmp.Diff([]string{"AWSPREVIOUS"}, res.Stages); diff != "" {
			t.Errorf("stages of the retried version: %s", diff)
		}
		if diff := cmp.Diff(map[string][]string{tok(1): l("AWSPREVIOUS"), tok(2): l("AWSCURRENT")}, e.labels(t, "s")); diff != "" {
			t.Errorf("a retry must not move labels: %s", diff)
		}
	})
	t.Run("update retried", func(t *testing.T) {
		before := e.lookup(t, "s").LastChangedAt
		e.clock.Advance(time.Minute)
		res, err := e.svc.Update(e.ctx, e.lookup(t, "s"), secrets.UpdateInput{Token: tok(2), Value: str("v2")})
		if err != nil || res.VersionID != tok(2) {
			t.Fatalf("%+v %v", res, err)
		}
		if after := e.lookup(t, "s"); !after.LastChangedAt.Equal(before) || len(after.Versions) != 2 {
			t.Errorf("retried update changed the secret: %v → %v, %d versions", before, after.LastChangedAt, len(after.Versions))
		}
	})
	t.Run("binary and string of the same bytes differ", func(t *testing.T) {
		_, err := e.svc.PutValue(e.ctx, e.lookup(t, "s"), secrets.PutInput{Token: tok(2), Value: *bin('v', '2')})
		wantErr(t, err, secrets.ErrExists, "You can't use ClientRequestToken "+tok(2)+" because that value is already in use for a version of secret "+s.ARN+".")
	})
	t.Run("binary retried", func(t *testing.T) {
		e.create(t, "b", "", "")
		b := e.lookup(t, "b")
		for i := 0; i < 2; i++ {
			res, err := e.svc.PutValue(e.ctx, b, secrets.PutInput{Token: tok(3), Value: *bin(0, 0xff)})
			if err != nil || res.VersionID != tok(3) {
				t.Fatalf("attempt %d: %+v %v", i, res, err)
			}
		}
		if n := len(e.lookup(t, "b").Versions); n != 1 {
			t.Errorf("%d versions", n)
		}
	})
	t.Run("create with another token on an existing name", func(t *testing.T) {
		_, err := e.svc.Create(e.ctx, secrets.CreateInput{Name: "s", Token: tok(9), Value: str("v1")})
		wantErr(t, err, secrets.ErrExists, "The operation failed because the secret s already exists.")
	})
}

// TestUpdateSecret: metadata-only updates create no version; nothing to do
// is a success; each value update bumps LastChangedDate (spec §3.5).
func TestUpdateSecret(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.create(t, "s", tok(1), "v1")
	created := e.clock.Now()

	e.clock.Advance(time.Minute)
	res, err := e.svc.Update(e.ctx, e.lookup(t, "s"), secrets.UpdateInput{})
	if err != nil || res.VersionID != "" || res.Name != "s" {
		t.Fatalf("empty update: %+v %v", res, err)
	}
	if got := e.lookup(t, "s").LastChangedAt; !got.Equal(created) {
		t.Errorf("empty update changed LastChangedDate to %v", got)
	}

	d := "described"
	res, err = e.svc.Update(e.ctx, e.lookup(t, "s"), secrets.UpdateInput{Description: &d, Token: tok(5)})
	if err != nil || res.VersionID != "" {
		t.Fatalf("description update: %+v %v", res, err)
	}
	s := e.lookup(t, "s")
	if s.Description != d || len(s.Versions) != 1 || !s.LastChangedAt.Equal(e.clock.Now()) {
		t.Errorf("after description update: %q, %d versions, changed %v", s.Description, len(s.Versions), s.LastChangedAt)
	}
	if diff := cmp.Diff(map[string][]string{tok(1): l("AWSCURRENT")}, e.labels(t, "s")); diff != "" {
		t.Error(diff)
	}

	e.clock.Advance(time.Minute)
	res, err = e.svc.Update(e.ctx, e.lookup(t, "s"), secrets.UpdateInput{Token: tok(2), Value: bin(1, 2, 3)})
	if err != nil || res.VersionID != tok(2) {
		t.Fatalf("value update: %+v %v", res, err)
	}
	if got := e.lookup(t, "s").LastChangedAt; !got.Equal(e.clock.Now()) {
		t.Errorf("value update: LastChangedDate %v, want %v", got, e.clock.Now())
	}
	v, err := e.svc.GetValue(e.ctx, e.lookup(t, "s"), "", "")
	if err != nil || !v.Value.Equal(*bin(1, 2, 3)) {
		t.Fatalf("value after update: %v %v", v, err)
	}

	empty := ""
	if _, err := e.svc.Update(e.ctx, e.lookup(t, "s"), secrets.UpdateInput{Description: &empty}); err != nil {
		t.Fatal(err)
	}
	if got := e.lookup(t, "s").Description; got != "" {
		t.Errorf("description %q after clearing", got)
	}
}

// TestDeletionLifecycle: spec §2.5.
func TestDeletionLifecycle(t *testing.T) {
	t.Parallel()
	win := func(n int64) *int64 { return &n }
	t.Run("default window is 30 days", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		s := e.create(t, "s", tok(1), "v")
		res, err := e.svc.Delete(e.ctx, "s", nil, false)
		if err != nil {
			t.Fatal(err)
		}
		now := e.clock.Now()
		if diff := cmp.Diff(&secrets.Result{ARN: s.ARN, Name: "s", DeletionDate: now.Add(30 * 24 * time.Hour)}, res); diff != "" {
			t.Error(diff)
		}
		d := e.lookup(t, "s")
		if !d.Deleted() || !d.DeletedAt.Equal(now) {
			t.Errorf("DeletedAt %v", d.DeletedAt)
		}
	})
	for _, days := range []int64{7, 30} {
		t.Run(fmt.Sprintf("window %d days", days), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.create(t, "s", tok(1), "v")
			res, err := e.svc.Delete(e.ctx, "s", win(days), false)
			if err != nil || !res.DeletionDate.Equal(e.clock.Now().Add(time.Duration(days)*24*time.Hour)) {
				t.Fatalf("%+v %v", res, err)
			}
		})
	}
	t.Run("while scheduled", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		s := e.create(t, "s", tok(1), "v")
		if err := e.svc.Tag(e.ctx, s, []secrets.Tag{{Key: "k", Value: "v"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Delete(e.ctx, s.ARN, nil, false); err != nil {
			t.Fatal(err)
		}
		// Describe (Lookup) works and shows the versions.
		d := e.lookup(t, "s")
		if !d.Deleted() || len(d.Versions) != 1 || len(d.Tags) != 1 {
			t.Errorf("described: %+v", d)
		}
		// Listing hides it unless asked.
		page, _, err := e.svc.List(e.ctx, secrets.ListInput{})
		if err != nil || len(page) != 0 {
			t.Errorf("list: %d secrets, %v", len(page), err)
		}
		page, _, err = e.svc.List(e.ctx, secrets.ListInput{IncludeDeleted: true})
		if err != nil || len(page) != 1 || page[0].Name != "s" {
			t.Errorf("list with planned deletion: %d secrets, %v", len(page), err)
		}
		// Restore makes it usable again.
		res, err := e.svc.Restore(e.ctx, d)
		if err != nil || res.ARN != s.ARN || res.Name != "s" {
			t.Fatalf("restore: %+v %v", res, err)
		}
		r := e.lookup(t, "s")
		if r.Deleted() || !r.PurgeAt.IsZero() {
			t.Errorf("restored secret still scheduled: %v %v", r.DeletedAt, r.PurgeAt)
		}
		if got := e.value(t, "s", "", ""); got != "v" {
			t.Errorf("value after restore %q", got)
		}
		// Restoring a secret that is not deleted succeeds and changes nothing.
		if _, err := e.svc.Restore(e.ctx, r); err != nil {
			t.Error(err)
		}
	})
	t.Run("force delete", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		s := e.create(t, "s", tok(1), "v")
		res, err := e.svc.Delete(e.ctx, "s", nil, true)
		if err != nil || res.ARN != s.ARN || res.Name != "s" || !res.DeletionDate.Equal(e.clock.Now()) {
			t.Fatalf("%+v %v", res, err)
		}
		if _, err := e.svc.Lookup(e.ctx, "s"); !errors.Is(err, secrets.ErrNotFound) {
			t.Fatalf("after force delete: %v", err)
		}
		// The payload is gone with it.
		if _, err := e.db.Payload(e.ctx, s.ARN, tok(1)); !errors.Is(err, secrets.ErrNoSuchSecret) {
			t.Errorf("payload after force delete: %v", err)
		}
		// The name is free at once.
		if s2 := e.create(t, "s", tok(1), "v2"); s2.ARN == s.ARN {
			t.Error("re-created secret has the old ARN")
		}
	})
	t.Run("force delete of a scheduled secret", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		e.create(t, "s", tok(1), "v")
		if _, err := e.svc.Delete(e.ctx, "s", nil, false); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Delete(e.ctx, "s", nil, true); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Lookup(e.ctx, "s"); !errors.Is(err, secrets.ErrNotFound) {
			t.Fatalf("after force delete: %v", err)
		}
	})
	t.Run("force delete of a missing secret answers as if it existed", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		res, err := e.svc.Delete(e.ctx, "never/was", nil, true)
		if err != nil || res.Name != "never/was" || !strings.HasPrefix(res.ARN, "arn:aws:secretsmanager:us-east-1:123456789012:secret:never/was-") || len(res.ARN) != len("arn:aws:secretsmanager:us-east-1:123456789012:secret:never/was-")+6 {
			t.Fatalf("by name: %+v %v", res, err)
		}
		arn := "arn:aws:secretsmanager:us-east-1:123456789012:secret:gone-AbC123"
		res, err = e.svc.Delete(e.ctx, arn, nil, true)
		if err != nil || res.ARN != arn || res.Name != "gone" {
			t.Fatalf("by ARN: %+v %v", res, err)
		}
	})
}

// TestPurgeDue: the background purge removes exactly the secrets whose
// recovery window has ended (injected clock instead of waiting).
func TestPurgeDue(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w7, w30 := int64(7), int64(30)
	a := e.create(t, "a", tok(1), "v")
	e.create(t, "b", tok(1), "v")
	e.create(t, "kept", tok(1), "v")
	if _, err := e.svc.Delete(e.ctx, "a", &w7, false); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Delete(e.ctx, "b", &w30, false); err != nil {
		t.Fatal(err)
	}
	purge := func(want int) {
		t.Helper()
		n, err := e.svc.PurgeDue(e.ctx)
		if err != nil || n != want {
			t.Fatalf("PurgeDue = %d, %v; want %d", n, err, want)
		}
	}
	purge(0)
	e.clock.Advance(7*24*time.Hour - time.Millisecond)
	purge(0)
	e.clock.Advance(time.Millisecond)
	purge(1)
	if _, err := e.svc.Lookup(e.ctx, "a"); !errors.Is(err, secrets.ErrNotFound) {
		t.Fatalf("a after purge: %v", err)
	}
	if _, err := e.db.Payload(e.ctx, a.ARN, tok(1)); !errors.Is(err, secrets.ErrNoSuchSecret) {
		t.Errorf("payload of a after purge: %v", err)
	}
	e.lookup(t, "b")
	// A secret restored in time is not purged.
	if _, err := e.svc.Restore(e.ctx, e.lookup(t, "b")); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(60 * 24 * time.Hour)
	purge(0)
	e.lookup(t, "b")
	e.lookup(t, "kept")
	// Many at once.
	for i := 0; i < 250; i++ {
		e.create(t, fmt.Sprintf("many/%03d", i), "", "")
		if _, err := e.svc.Delete(e.ctx, fmt.Sprintf("many/%03d", i), &w7, false); err != nil {
			t.Fatal(err)
		}
	}
	e.clock.Advance(8 * 24 * time.Hour)
	purge(250)
}

// TestVersionRetention: about 100 versions are kept; deprecated versions
// are removed oldest first, never one younger than 24 hours, and labelled
// versions never (spec §2.3, §6.1).
func TestVersionRetention(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.create(t, "s", tok(0), "v0")
	// tok(0) keeps a custom label forever; it must never be removed.
	e.stage(t, "s", "KEEP", tok(0), "")
	for i := 1; i < secrets.MaxVersions; i++ {
		e.clock.Advance(time.Minute)
		e.put(t, "s", tok(i), fmt.Sprint("v", i))
	}
	if n := len(e.lookup(t, "s").Versions); n != secrets.MaxVersions {
		t.Fatalf("%d versions, want %d", n, secrets.MaxVersions)
	}
	// Version 101 within 24 hours of every deprecated version: refused.
	e.clock.Advance(time.Minute)
	_, err := e.svc.PutValue(e.ctx, e.lookup(t, "s"), secrets.PutInput{Token: tok(100), Value: *str("v100")})
	wantErr(t, err, secrets.ErrLimitExceeded, "")
	if n := len(e.lookup(t, "s").Versions); n != secrets.MaxVersions {
		t.Fatalf("refused put changed the versions: %d", n)
	}
	// tok(1) was created 99 minutes before the refused put; 24 h after its
	// creation it may go, but tok(2) (one minute younger) not yet.
	e.clock.Advance(24*time.Hour - 100*time.Minute + time.Minute)
	e.put(t, "s", tok(100), "v100")
	s := e.lookup(t, "s")
	if len(s.Versions) != secrets.MaxVersions || s.Version(tok(1)) != nil || s.Version(tok(0)) == nil || s.Version(tok(2)) == nil {
		t.Fatalf("after retention: %d versions; tok(0) %v tok(1) %v tok(2) %v", len(s.Versions), s.Version(tok(0)) != nil, s.Version(tok(1)) != nil, s.Version(tok(2)) != nil)
	}
	if _, err := e.db.Payload(e.ctx, s.ARN, tok(1)); !errors.Is(err, secrets.ErrNoSuchSecret) {
		t.Errorf("payload of the removed version: %v", err)
	}
	_, err = e.svc.GetValue(e.ctx, s, tok(1), "")
	wantErr(t, err, secrets.ErrNotFound, msgNoVersion(tok(1)))
	// The next put within the same minute finds tok(2) still too young.
	_, err = e.svc.PutValue(e.ctx, s, secrets.PutInput{Token: tok(101), Value: *str("v101")})
	wantErr(t, err, secrets.ErrLimitExceeded, "")
	// A day later, the oldest deprecated versions go one per put.
	e.clock.Advance(24 * time.Hour)
	for i := 101; i < 110; i++ {
		e.put(t, "s", tok(i), fmt.Sprint("v", i))
	}
	s = e.lookup(t, "s")
	if len(s.Versions) != secrets.MaxVersions || s.Version(tok(10)) != nil || s.Version(tok(11)) == nil || s.Version(tok(0)) == nil {
		t.Fatalf("after 9 more puts: %d versions", len(s.Versions))
	}
	if got := e.value(t, "s", "", "KEEP"); got != "v0" {
		t.Errorf("labelled old version: %q", got)
	}
	if got := e.value(t, "s", "", ""); got != "v109" {
		t.Errorf("current %q", got)
	}
}

// TestLastAccessedDate: midnight UTC of the day of the last read, on the
// secret and the version; absent until the first read (spec §2.6).
func TestLastAccessedDate(t *testing.T) {
	t.Parallel()
	e := newEnv(t) // clock: 2026-11-23 10:00 UTC
	e.create(t, "s", tok(1), "v1")
	e.put(t, "s", tok(2), "v2")
	if s := e.lookup(t, "s"); !s.LastAccessedAt.IsZero() || !s.Version(tok(2)).LastAccessedAt.IsZero() {
		t.Fatalf("accessed before any read: %v", s.LastAccessedAt)
	}
	day1 := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	day2 := day1.AddDate(0, 0, 1)
	e.value(t, "s", "", "")
	e.clock.Advance(13*time.Hour + 59*time.Minute) // 23:59 the same day
	e.value(t, "s", "", "")
	s := e.lookup(t, "s")
	if !s.LastAccessedAt.Equal(day1) || !s.Version(tok(2)).LastAccessedAt.Equal(day1) || !s.Version(tok(1)).LastAccessedAt.IsZero() {
		t.Fatalf("day 1: secret %v v2 %v v1 %v", s.LastAccessedAt, s.Version(tok(2)).LastAccessedAt, s.Version(tok(1)).LastAccessedAt)
	}
	e.clock.Advance(2 * time.Minute) // 00:01 next day
	e.value(t, "s", tok(1), "")
	s = e.lookup(t, "s")
	if !s.LastAccessedAt.Equal(day2) || !s.Version(tok(1)).LastAccessedAt.Equal(day2) || !s.Version(tok(2)).LastAccessedAt.Equal(day1) {
		t.Fatalf("day 2: secret %v v1 %v v2 %v", s.LastAccessedAt, s.Version(tok(1)).LastAccessedAt, s.Version(tok(2)).LastAccessedAt)
	}
	// ListSecretVersionIds shows the per-version dates.
	vs, _, err := e.svc.ListVersions(e.ctx, s, false, 0, "")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]time.Time{}
	for _, v := range vs {
		got[v.ID] = v.LastAccessedAt
	}
	if diff := cmp.Diff(map[string]time.Time{tok(1): day2, tok(2): day1}, got); diff != "" {
		t.Errorf("ListVersions dates: %s", diff)
	}
	// Reading does not change LastChangedDate.
	if !s.LastChangedAt.Equal(day1.Add(10 * time.Hour)) {
		t.Errorf("LastChangedAt %v", s.LastChangedAt)
	}
}

// TestTags: insertion order, overwrite by key, case-sensitive keys, never
// tagged → no tags, untag all → an empty list (spec §2.6, §3.15).
func TestTags(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := e.create(t, "s", tok(1), "v")
	if s.TagsSet || s.Tags != nil {
		t.Fatalf("never tagged: %v %v", s.TagsSet, s.Tags)
	}
	type kv = secrets.Tag
	steps := []struct {
		tag   []kv
		untag []string
		want  []kv
	}{
		{tag: []kv{{"tag1", "v1"}}, want: []kv{{"tag1", "v1"}}},
		{tag: []kv{{"tag2", "v2"}}, want: []kv{{"tag1", "v1"}, {"tag2", "v2"}}},
		{tag: []kv{{"tag1", "new"}, {"Tag1", "upper"}}, want: []kv{{"tag1", "new"}, {"tag2", "v2"}, {"Tag1", "upper"}}},
		{untag: []string{"tag1", "missing"}, want: []kv{{"tag2", "v2"}, {"Tag1", "upper"}}},
		{untag: []string{"tag2", "Tag1"}, want: []kv{}},
		{untag: []string{"again"}, want: []kv{}},
	}
	for i, st := range steps {
		var err error
		if st.tag != nil {
			err = e.svc.Tag(e.ctx, e.lookup(t, "s"), st.tag)
		} else {
			err = e.svc.Untag(e.ctx, e.lookup(t, "s"), st.untag)
		}
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		got := e.lookup(t, "s")
		if !got.TagsSet || got.Tags == nil {
			t.Fatalf("step %d: TagsSet %v, Tags nil %v", i, got.TagsSet, got.Tags == nil)
		}
		if diff := cmp.Diff(st.want, got.Tags); diff != "" {
			t.Fatalf("step %d: %s", i, diff)
		}
	}
	// Tags given at creation.
	res, err := e.svc.Create(e.ctx, secrets.CreateInput{Name: "t", Tags: []secrets.Tag{{"a", "1"}, {"b", ""}, {"a", "2"}}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]secrets.Tag{{"a", "2"}, {"b", ""}}, e.lookup(t, res.Name).Tags); diff != "" {
		t.Error(diff)
	}
}

// TestLookupPartialARN: names, full ARNs and partial ARNs, including the
// cases LocalStack recorded against AWS (spec §2.1).
func TestLookupPartialARN(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, c := range []struct {
		name         string
		partialFound bool
	}{
		{"Invalid/_+=.@-Name-a1b2c3", false},
		{"s-c64bdc03", true},
		{"Valid/_+=.@-Name", true},
		{"Valid/_+=.@-Name-a1b2", true},
		{"Valid/_+=.@-Name-a1b2c3-", true},
		{"plain", true},
		{"ends-in-six-abcdef", false},
		{"short-abc12", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := e.create(t, c.name, tok(1), "value of "+c.name)
			for _, id := range []string{c.name, s.ARN} {
				if got := e.value(t, id, "", ""); got != "value of "+c.name {
					t.Errorf("%s: %q", id, got)
				}
			}
			partial := s.ARN[:len(s.ARN)-7]
			sec, err := e.svc.Lookup(e.ctx, partial)
			if err == nil {
				_, err = e.svc.GetValue(e.ctx, sec, "", "")
			}
			if c.partialFound {
				if err != nil {
					t.Errorf("partial ARN %s: %v", partial, err)
				}
				return
			}
			wantErr(t, err, secrets.ErrNotFound, msgNotFound)
			// The name with the random suffix is not an id of the secret.
			_, err = e.svc.Lookup(e.ctx, s.Name+s.ARN[len(s.ARN)-7:])
			wantErr(t, err, secrets.ErrNotFound, msgNotFound)
		})
	}
	// An ARN with a wrong suffix is not found even if the name exists.
	s := e.lookup(t, "plain")
	_, err := e.svc.Lookup(e.ctx, s.ARN[:len(s.ARN)-6]+"zzzzzz")
	wantErr(t, err, secrets.ErrNotFound, msgNotFound)
}
