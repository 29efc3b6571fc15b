package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-dev/coffer/internal/secrets"
)

// base is the suite's reference time (whole milliseconds, as stores keep).
var base = time.Date(2025, 3, 4, 5, 6, 7, 8_000_000, time.UTC)

func arnOf(name string) string {
	return "arn:aws:secretsmanager:us-east-1:123456789012:secret:" + name + "-AbCdEf"
}

// newSecret builds a secret with two versions (v1 AWSCURRENT, v2
// AWSPREVIOUS) and every optional field set, so that a round trip checks
// the whole document.
func newSecret(name string) *secrets.Secret {
	return &secrets.Secret{
		ARN: arnOf(name), Name: name, Description: "the " + name + " secret",
		KmsKeyID: "alias/custom", Type: "test-type",
		Tags:      []secrets.Tag{{Key: "team", Value: "core"}, {Key: "Env", Value: ""}},
		TagsSet:   true,
		CreatedAt: base, LastChangedAt: base.Add(time.Second),
		Versions: []secrets.Version{
			{ID: "v1", Stages: []string{secrets.StagePrevious}, CreatedAt: base, KmsKeyARN: "arn:aws:kms:us-east-1:123456789012:key/k1"},
			{ID: "v2", Stages: []string{secrets.StageCurrent}, CreatedAt: base.Add(time.Second), KmsKeyARN: "arn:aws:kms:us-east-1:123456789012:key/k1"},
			{ID: "v3", Stages: []string{secrets.StagePending}, CreatedAt: base.Add(2 * time.Second), NoValue: true},
		},
		Rotation:       &secrets.Rotation{Enabled: true, LambdaARN: "arn:aws:lambda:us-east-1:123456789012:function:f", AfterDays: 30, LastRotatedAt: base},
		ResourcePolicy: `{"Version":"2012-10-17","Statement":[]}`,
	}
}

func payloads() map[string][]byte {
	return map[string][]byte{"v1": []byte("sealed-1\x00\xff"), "v2": []byte("sealed-2")}
}

func bg(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// put creates or replaces a secret and its payloads outside any unit.
func put(t *testing.T, st secrets.Store, ctx context.Context, s *secrets.Secret, p map[string][]byte) {
	t.Helper()
	err := st.Update(ctx, s.Name, func(*secrets.Secret) (*secrets.Change, error) {
		return &secrets.Change{Secret: s.Clone(), Payloads: p}, nil
	})
	if err != nil {
		t.Fatalf("Update(%s): %v", s.Name, err)
	}
}

func mustGet(t *testing.T, st secrets.Store, ctx context.Context, name string) *secrets.Secret {
	t.Helper()
	s, err := st.SecretByName(ctx, name)
	if err != nil {
		t.Fatalf("SecretByName(%s): %v", name, err)
	}
	return s
}

func wantNoSecret(t *testing.T, st secrets.Store, ctx context.Context, name string) {
	t.Helper()
	if s, err := st.SecretByName(ctx, name); !errors.Is(err, secrets.ErrNoSuchSecret) {
		t.Fatalf("SecretByName(%s) = %v, %v; want ErrNoSuchSecret", name, s, err)
	}
	if s, err := st.SecretByARN(ctx, arnOf(name)); !errors.Is(err, secrets.ErrNoSuchSecret) {
		t.Fatalf("SecretByARN(%s) = %v, %v; want ErrNoSuchSecret", arnOf(name), s, err)
	}
}

func wantPayload(t *testing.T, st secrets.Store, ctx context.Context, arn, vid string, want []byte) {
	t.Helper()
	got, err := st.Payload(ctx, arn, vid)
	if want == nil {
		if !errors.Is(err, secrets.ErrNoSuchSecret) {
			t.Fatalf("Payload(%s) = %q, %v; want ErrNoSuchSecret", vid, got, err)
		}
		return
	}
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("Payload(%s) = %q, %v; want %q", vid, got, err, want)
	}
}

// RunSecrets covers secrets.Store outside units of work.
func RunSecrets(t *testing.T, open Open) {
	subtests(t, open, []test{
		{"NotFound", func(t *testing.T, s Stores) {
			ctx := bg(t)
			wantNoSecret(t, s.Secrets, ctx, "missing")
			wantPayload(t, s.Secrets, ctx, arnOf("missing"), "v1", nil)
			wantPayload(t, s.Secrets, ctx, "not-an-arn", "v1", nil)
			called := false
			err := s.Secrets.Update(ctx, "missing", func(cur *secrets.Secret) (*secrets.Change, error) {
				called = true
				if cur != nil {
					t.Errorf("Update of a missing secret got cur = %+v", cur)
				}
				return nil, nil
			})
			if err != nil || !called {
				t.Fatalf("Update(missing) = %v (fn called: %v)", err, called)
			}
			wantNoSecret(t, s.Secrets, ctx, "missing")
			// Deleting what does not exist writes nothing.
			if err := s.Secrets.Update(ctx, "missing", func(*secrets.Secret) (*secrets.Change, error) { return &secrets.Change{}, nil }); err != nil {
				t.Fatal(err)
			}
			wantNoSecret(t, s.Secrets, ctx, "missing")
			names, err := s.Secrets.DueForPurge(ctx, base.Add(1000*time.Hour), 10)
			if err != nil || len(names) != 0 {
				t.Fatalf("DueForPurge on an empty store = %v, %v", names, err)
			}
		}},
		{"CreateAndRead", func(t *testing.T, s Stores) {
			ctx := bg(t)
			want := newSecret("app/db-password")
			put(t, s.Secrets, ctx, want, payloads())
			got := mustGet(t, s.Secrets, ctx, want.Name)
			if d := cmp.Diff(want, got); d != "" {
				t.Fatalf("SecretByName (-want +got):\n%s", d)
			}
			got, err := s.Secrets.SecretByARN(ctx, want.ARN)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Fatalf("SecretByARN (-want +got):\n%s", d)
			}
			for vid, p := range payloads() {
				wantPayload(t, s.Secrets, ctx, want.ARN, vid, p)
			}
			wantPayload(t, s.Secrets, ctx, want.ARN, "v3", nil)
			// Lookups are exact.
			wantNoSecret(t, s.Secrets, ctx, "app/db-passwor")
			if _, err := s.Secrets.SecretByARN(ctx, want.ARN[:len(want.ARN)-1]); !errors.Is(err, secrets.ErrNoSuchSecret) {
				t.Fatalf("SecretByARN(truncated) = %v", err)
			}
		}},
		{"UpdateGetsPrivateCopy", func(t *testing.T, s Stores) {
			ctx := bg(t)
			orig := newSecret("copy")
			put(t, s.Secrets, ctx, orig, payloads())
			before := mustGet(t, s.Secrets, ctx, "copy")
			err := s.Secrets.Update(ctx, "copy", func(cur *secrets.Secret) (*secrets.Change, error) {
				if d := cmp.Diff(orig, cur); d != "" {
					t.Errorf("Update's cur (-want +got):\n%s", d)
				}
				cur.Description = "scribbled"
				cur.Versions[0].Stages[0] = "scribbled"
				cur.Tags[0].Value = "scribbled"
				return nil, nil // a nil change writes nothing
			})
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(orig, before); d != "" {
				t.Fatalf("a secret read before Update changed (-want +got):\n%s", d)
			}
			if d := cmp.Diff(orig, mustGet(t, s.Secrets, ctx, "copy")); d != "" {
				t.Fatalf("a nil change wrote (-want +got):\n%s", d)
			}
		}},
		{"UpdateErrorWritesNothing", func(t *testing.T, s Stores) {
			ctx := bg(t)
			boom := errors.New("boom")
			err := s.Secrets.Update(ctx, "e", func(*secrets.Secret) (*secrets.Change, error) { return &secrets.Change{Secret: newSecret("e")}, boom })
			if !errors.Is(err, boom) {
				t.Fatalf("Update = %v, want the callback's error", err)
			}
			wantNoSecret(t, s.Secrets, ctx, "e")
			put(t, s.Secrets, ctx, newSecret("e"), payloads())
			err = s.Secrets.Update(ctx, "e", func(cur *secrets.Secret) (*secrets.Change, error) {
				cur.Description = "changed"
				return &secrets.Change{Secret: cur, Drop: []string{"v1"}}, boom
			})
			if !errors.Is(err, boom) {
				t.Fatalf("Update = %v, want the callback's error", err)
			}
			if d := cmp.Diff(newSecret("e"), mustGet(t, s.Secrets, ctx, "e")); d != "" {
				t.Fatalf("a failed Update wrote (-want +got):\n%s", d)
			}
			wantPayload(t, s.Secrets, ctx, arnOf("e"), "v1", payloads()["v1"])
		}},
		{"Modify", func(t *testing.T, s Stores) {
			ctx := bg(t)
			put(t, s.Secrets, ctx, newSecret("m"), payloads())
			var want *secrets.Secret
			err := s.Secrets.Update(ctx, "m", func(cur *secrets.Secret) (*secrets.Change, error) {
				cur.Description = ""
				cur.Tags = nil
				cur.Rotation = nil
				cur.LastChangedAt = base.Add(time.Hour)
				cur.Versions = append(cur.Versions, secrets.Version{ID: "v4", CreatedAt: base.Add(time.Hour)})
				want = cur.Clone()
				return &secrets.Change{Secret: cur, Payloads: map[string][]byte{"v4": []byte("four"), "v1": []byte("one again")}, Drop: []string{"v2"}}, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(want, mustGet(t, s.Secrets, ctx, "m")); d != "" {
				t.Fatalf("after Update (-want +got):\n%s", d)
			}
			wantPayload(t, s.Secrets, ctx, arnOf("m"), "v1", []byte("one again"))
			wantPayload(t, s.Secrets, ctx, arnOf("m"), "v2", nil)
			wantPayload(t, s.Secrets, ctx, arnOf("m"), "v4", []byte("four"))
		}},
		{"Delete", func(t *testing.T, s Stores) {
			ctx := bg(t)
			sec := newSecret("d")
			sec.DeletedAt, sec.PurgeAt = base, base.Add(time.Hour)
			put(t, s.Secrets, ctx, sec, payloads())
			put(t, s.Secrets, ctx, newSecret("keep"), payloads())
			err := s.Secrets.Update(ctx, "d", func(cur *secrets.Secret) (*secrets.Change, error) {
				if cur == nil {
					t.Error("cur is nil")
				}
				return &secrets.Change{Secret: nil}, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			wantNoSecret(t, s.Secrets, ctx, "d")
			for vid := range payloads() {
				wantPayload(t, s.Secrets, ctx, arnOf("d"), vid, nil)
				wantPayload(t, s.Secrets, ctx, arnOf("keep"), vid, payloads()[vid])
			}
			if names, err := s.Secrets.DueForPurge(ctx, base.Add(2*time.Hour), 10); err != nil || len(names) != 0 {
				t.Fatalf("DueForPurge after delete = %v, %v", names, err)
			}
			// The name can be used again, with a new ARN.
			re := newSecret("d")
			re.ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:d-XyZxYz"
			put(t, s.Secrets, ctx, re, map[string][]byte{"v1": []byte("new")})
			if got := mustGet(t, s.Secrets, ctx, "d"); got.ARN != re.ARN {
				t.Fatalf("re-created ARN = %s", got.ARN)
			}
			if _, err := s.Secrets.SecretByARN(ctx, arnOf("d")); !errors.Is(err, secrets.ErrNoSuchSecret) {
				t.Fatalf("old ARN after re-create: %v", err)
			}
			wantPayload(t, s.Secrets, ctx, re.ARN, "v1", []byte("new"))
			wantPayload(t, s.Secrets, ctx, re.ARN, "v2", nil)
		}},
		{"NameMismatch", func(t *testing.T, s Stores) {
			ctx := bg(t)
			err := s.Secrets.Update(ctx, "one", func(*secrets.Secret) (*secrets.Change, error) {
				return &secrets.Change{Secret: newSecret("two")}, nil
			})
			if err == nil {
				t.Fatal("Update staged a secret under another name")
			}
			wantNoSecret(t, s.Secrets, ctx, "one")
			wantNoSecret(t, s.Secrets, ctx, "two")
		}},
		{"Touch", func(t *testing.T, s Stores) {
			ctx := bg(t)
			put(t, s.Secrets, ctx, newSecret("t"), payloads())
			day1 := time.Date(2025, 3, 5, 0, 0, 0, 0, time.UTC)
			day2 := day1.AddDate(0, 0, 1)
			check := func(when string, secDay, v1Day, v2Day time.Time) {
				t.Helper()
				got := mustGet(t, s.Secrets, ctx, "t")
				if !got.LastAccessedAt.Equal(secDay) || !got.Version("v1").LastAccessedAt.Equal(v1Day) || !got.Version("v2").LastAccessedAt.Equal(v2Day) {
					t.Fatalf("%s: LastAccessedAt secret %v v1 %v v2 %v; want %v %v %v", when, got.LastAccessedAt, got.Version("v1").LastAccessedAt, got.Version("v2").LastAccessedAt, secDay, v1Day, v2Day)
				}
				byARN, err := s.Secrets.SecretByARN(ctx, arnOf("t"))
				if err != nil || !byARN.LastAccessedAt.Equal(secDay) || !byARN.Version("v1").LastAccessedAt.Equal(v1Day) {
					t.Fatalf("%s: by ARN: %v", when, err)
				}
			}
			check("never read", time.Time{}, time.Time{}, time.Time{})
			for range 2 { // idempotent
				if err := s.Secrets.Touch(ctx, "t", arnOf("t"), "v1", day1); err != nil {
					t.Fatal(err)
				}
			}
			check("v1 read on day 1", day1, day1, time.Time{})
			if err := s.Secrets.Touch(ctx, "t", arnOf("t"), "v2", day2); err != nil {
				t.Fatal(err)
			}
			check("v2 read on day 2", day2, day1, day2)
			// A wrong ARN, an unknown version or secret change nothing.
			for _, c := range []struct{ name, arn, vid string }{
				{"t", arnOf("t") + "x", "v1"},
				{"t", arnOf("t"), "nope"},
				{"missing", arnOf("missing"), "v1"},
			} {
				if err := s.Secrets.Touch(ctx, c.name, c.arn, c.vid, day2.AddDate(0, 0, 1)); err != nil {
					t.Fatalf("Touch(%v) = %v", c, err)
				}
			}
			check("after no-op touches", day2, day1, day2)
			// Access days live outside the document: Update keeps them.
			err := s.Secrets.Update(ctx, "t", func(cur *secrets.Secret) (*secrets.Change, error) {
				if !cur.LastAccessedAt.Equal(day2) {
					t.Errorf("Update's cur.LastAccessedAt = %v", cur.LastAccessedAt)
				}
				cur.Description = "changed"
				return &secrets.Change{Secret: cur}, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			check("after Update", day2, day1, day2)
		}},
		{"DueForPurge", func(t *testing.T, s Stores) {
			ctx := bg(t)
			now := base.Add(10 * time.Hour)
			for i, off := range []time.Duration{-time.Hour, -3 * time.Hour, time.Hour, 0, -2 * time.Hour} {
				sec := newSecret(fmt.Sprintf("p%d", i))
				sec.DeletedAt, sec.PurgeAt = base, now.Add(off)
				put(t, s.Secrets, ctx, sec, nil)
			}
			put(t, s.Secrets, ctx, newSecret("live"), nil)
			got, err := s.Secrets.DueForPurge(ctx, now, 10)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff([]string{"p1", "p4", "p0", "p3"}, got); d != "" {
				t.Fatalf("DueForPurge (-want +got):\n%s", d)
			}
			got, err = s.Secrets.DueForPurge(ctx, now, 2)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff([]string{"p1", "p4"}, got); d != "" {
				t.Fatalf("DueForPurge limit 2 (-want +got):\n%s", d)
			}
			// Restoring clears PurgeAt.
			err = s.Secrets.Update(ctx, "p1", func(cur *secrets.Secret) (*secrets.Change, error) {
				cur.DeletedAt, cur.PurgeAt = time.Time{}, time.Time{}
				return &secrets.Change{Secret: cur}, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			got, err = s.Secrets.DueForPurge(ctx, now, 10)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff([]string{"p4", "p0", "p3"}, got); d != "" {
				t.Fatalf("DueForPurge after restore (-want +got):\n%s", d)
			}
		}},
	})
}
