package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-dev/coffer/internal/identity"
	"github.com/coffer-dev/coffer/internal/kms"
)

func newKey(id string) *kms.Key {
	return &kms.Key{
		ID: id, ARN: "arn:aws:kms:us-east-1:123456789012:key/" + id, Account: "123456789012",
		Description: "key " + id, State: kms.StateEnabled, Manager: kms.ManagerCustomer,
		Origin: "AWS_KMS", Spec: "SYMMETRIC_DEFAULT", Usage: "ENCRYPT_DECRYPT", CreatedAt: base,
		Policy: `{"Version":"2012-10-17"}`, Tags: []kms.Tag{{Key: "a", Value: "b"}},
		RotationEnabled: true, RotationPeriodDays: 365, NextRotation: base.AddDate(1, 0, 0),
		Materials: []kms.Material{
			{Seq: 1, ID: "m1", Wrapped: []byte("wrapped-1\x00"), RootKeyID: "root", CreatedAt: base},
			{Seq: 2, ID: "m2", Wrapped: []byte("wrapped-2"), RootKeyID: "root", CreatedAt: base.Add(time.Hour), Rotation: "ON_DEMAND"},
		},
	}
}

func newAlias(name, target string) *kms.Alias {
	return &kms.Alias{Name: name, TargetKeyID: target, CreatedAt: base, UpdatedAt: base.Add(time.Minute)}
}

func newAccessKey(id, user string) *identity.AccessKey {
	arn := "arn:aws:iam::123456789012:root"
	if user != "" {
		arn = "arn:aws:iam::123456789012:user/" + user
	}
	return &identity.AccessKey{ID: id, UserName: user, PrincipalARN: arn, Status: "Active", CreatedAt: base, SecretWrapped: []byte("wrapped\x01\x02"), RootKeyID: "root"}
}

// RunKMS covers kms.Store: keys and aliases, create/replace/unchanged/
// delete, listing, and keys due for background work.
func RunKMS(t *testing.T, open Open) {
	subtests(t, open, []test{
		{"NotFound", func(t *testing.T, s Stores) {
			ctx := bg(t)
			if _, err := s.KMS.Key(ctx, "nope"); !errors.Is(err, kms.ErrNoSuchKey) {
				t.Fatalf("Key = %v", err)
			}
			if _, err := s.KMS.Alias(ctx, "alias/nope"); !errors.Is(err, kms.ErrNoSuchAlias) {
				t.Fatalf("Alias = %v", err)
			}
			keys, err := s.KMS.ListKeys(ctx, "", 10)
			if err != nil || len(keys) != 0 {
				t.Fatalf("ListKeys = %v, %v", keys, err)
			}
			aliases, err := s.KMS.ListAliases(ctx, "", 10)
			if err != nil || len(aliases) != 0 {
				t.Fatalf("ListAliases = %v, %v", aliases, err)
			}
		}},
		{"KeyLifecycle", func(t *testing.T, s Stores) {
			ctx := bg(t)
			get := func() *kms.Key {
				t.Helper()
				k, err := s.KMS.Key(ctx, "k")
				if err != nil {
					t.Fatal(err)
				}
				return k
			}
			err := s.KMS.UpdateKey(ctx, "k", func(cur *kms.Key) (*kms.Key, error) {
				if cur != nil {
					t.Errorf("cur = %+v for a new key", cur)
				}
				return newKey("k"), nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(newKey("k"), get()); d != "" {
				t.Fatalf("created key (-want +got):\n%s", d)
			}
			// Returning the argument itself writes nothing, even if modified.
			err = s.KMS.UpdateKey(ctx, "k", func(cur *kms.Key) (*kms.Key, error) {
				if d := cmp.Diff(newKey("k"), cur); d != "" {
					t.Errorf("cur (-want +got):\n%s", d)
				}
				cur.Description = "scribbled"
				return cur, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(newKey("k"), get()); d != "" {
				t.Fatalf("unchanged key was written (-want +got):\n%s", d)
			}
			want := newKey("k")
			want.State, want.DeletionDate, want.PendingWindowDays = kms.StatePendingDeletion, base.AddDate(0, 0, 7), 7
			want.Materials = append(want.Materials, kms.Material{Seq: 3, ID: "m3", Wrapped: []byte("w3"), RootKeyID: "root", CreatedAt: base, Rotation: "AUTOMATIC"})
			if err := s.KMS.UpdateKey(ctx, "k", func(*kms.Key) (*kms.Key, error) { return want.Clone(), nil }); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(want, get()); d != "" {
				t.Fatalf("replaced key (-want +got):\n%s", d)
			}
			boom := errors.New("boom")
			if err := s.KMS.UpdateKey(ctx, "k", func(*kms.Key) (*kms.Key, error) { return nil, boom }); !errors.Is(err, boom) {
				t.Fatalf("UpdateKey = %v, want the callback's error", err)
			}
			if err := s.KMS.UpdateKey(ctx, "k", func(*kms.Key) (*kms.Key, error) { return newKey("other"), nil }); err == nil {
				t.Fatal("UpdateKey stored a key under another id")
			}
			if d := cmp.Diff(want, get()); d != "" {
				t.Fatalf("after failed updates (-want +got):\n%s", d)
			}
			for range 2 { // deleting twice is fine
				if err := s.KMS.UpdateKey(ctx, "k", func(*kms.Key) (*kms.Key, error) { return nil, nil }); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := s.KMS.Key(ctx, "k"); !errors.Is(err, kms.ErrNoSuchKey) {
				t.Fatalf("deleted key: %v", err)
			}
		}},
		{"AliasLifecycle", func(t *testing.T, s Stores) {
			ctx := bg(t)
			get := func() (*kms.Alias, error) { return s.KMS.Alias(ctx, "alias/a") }
			if err := s.KMS.UpdateAlias(ctx, "alias/a", func(cur *kms.Alias) (*kms.Alias, error) {
				if cur != nil {
					t.Errorf("cur = %+v", cur)
				}
				return newAlias("alias/a", "k1"), nil
			}); err != nil {
				t.Fatal(err)
			}
			if a, err := get(); err != nil || cmp.Diff(newAlias("alias/a", "k1"), a) != "" {
				t.Fatalf("created alias = %+v, %v", a, err)
			}
			if err := s.KMS.UpdateAlias(ctx, "alias/a", func(cur *kms.Alias) (*kms.Alias, error) {
				cur.TargetKeyID = "scribbled"
				return cur, nil
			}); err != nil {
				t.Fatal(err)
			}
			if a, err := get(); err != nil || a.TargetKeyID != "k1" {
				t.Fatalf("unchanged alias was written: %+v, %v", a, err)
			}
			if err := s.KMS.UpdateAlias(ctx, "alias/a", func(cur *kms.Alias) (*kms.Alias, error) {
				n := *cur
				n.TargetKeyID, n.UpdatedAt = "k2", base.Add(time.Hour)
				return &n, nil
			}); err != nil {
				t.Fatal(err)
			}
			if a, err := get(); err != nil || a.TargetKeyID != "k2" || !a.UpdatedAt.Equal(base.Add(time.Hour)) {
				t.Fatalf("replaced alias = %+v, %v", a, err)
			}
			if err := s.KMS.UpdateAlias(ctx, "alias/a", func(*kms.Alias) (*kms.Alias, error) { return nil, nil }); err != nil {
				t.Fatal(err)
			}
			if _, err := get(); !errors.Is(err, kms.ErrNoSuchAlias) {
				t.Fatalf("deleted alias: %v", err)
			}
		}},
		{"ListKeys", func(t *testing.T, s Stores) {
			ctx := bg(t)
			ids := []string{"f0e1", "0a1b", "9c9c", "0a1c", "7777", "a000"}
			for _, id := range ids {
				if err := s.KMS.UpdateKey(ctx, id, func(*kms.Key) (*kms.Key, error) { return newKey(id), nil }); err != nil {
					t.Fatal(err)
				}
			}
			want := []string{"0a1b", "0a1c", "7777", "9c9c", "a000", "f0e1"}
			for _, c := range []struct {
				after string
				limit int
				want  []string
			}{
				{"", 100, want},
				{"", 2, want[:2]},
				{"0a1c", 3, want[2:5]},
				{"9", 100, want[3:]},
				{"9c9c", 100, want[4:]},
				{"f0e1", 100, nil},
			} {
				keys, err := s.KMS.ListKeys(ctx, c.after, c.limit)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, k := range keys {
					got = append(got, k.ID)
					if d := cmp.Diff(newKey(k.ID), k); d != "" {
						t.Fatalf("listed key (-want +got):\n%s", d)
					}
				}
				if d := cmp.Diff(c.want, got); d != "" {
					t.Fatalf("ListKeys(%q, %d) (-want +got):\n%s", c.after, c.limit, d)
				}
			}
		}},
		{"DueKeys", func(t *testing.T, s Stores) {
			ctx := bg(t)
			now := base.Add(100 * time.Hour)
			mk := func(id string, edit func(k *kms.Key)) {
				t.Helper()
				k := newKey(id)
				k.RotationEnabled, k.NextRotation = false, time.Time{}
				edit(k)
				if err := s.KMS.UpdateKey(ctx, id, func(*kms.Key) (*kms.Key, error) { return k, nil }); err != nil {
					t.Fatal(err)
				}
			}
			rotate := func(at time.Time) func(k *kms.Key) {
				return func(k *kms.Key) { k.RotationEnabled, k.NextRotation = true, at }
			}
			del := func(at time.Time) func(k *kms.Key) {
				return func(k *kms.Key) { k.State, k.DeletionDate, k.PendingWindowDays = kms.StatePendingDeletion, at, 7 }
			}
			mk("k-rot-past", rotate(now.Add(-time.Hour)))
			mk("k-rot-now", rotate(now))
			mk("k-rot-future", rotate(now.Add(time.Hour)))
			mk("k-del-past", del(now.Add(-2*time.Hour)))
			mk("k-del-future", del(now.Add(time.Minute)))
			mk("k-plain", func(*kms.Key) {})
			mk("k-disabled", func(k *kms.Key) { rotate(now.Add(-3 * time.Hour))(k); k.State = kms.StateDisabled })
			ids := func(limit int) []string {
				t.Helper()
				keys, err := s.KMS.DueKeys(ctx, now, limit)
				if err != nil {
					t.Fatal(err)
				}
				var out []string
				for _, k := range keys {
					out = append(out, k.ID)
				}
				return out
			}
			if d := cmp.Diff([]string{"k-del-past", "k-rot-past", "k-rot-now"}, ids(10)); d != "" {
				t.Fatalf("DueKeys (-want +got):\n%s", d)
			}
			if d := cmp.Diff([]string{"k-del-past"}, ids(1)); d != "" {
				t.Fatalf("DueKeys limit 1 (-want +got):\n%s", d)
			}
			// The due time follows every update of the key.
			mk("k-rot-past", rotate(now.Add(24*time.Hour)))
			mk("k-del-past", func(*kms.Key) {}) // deletion cancelled
			mk("k-rot-future", rotate(now.Add(-time.Minute)))
			if d := cmp.Diff([]string{"k-rot-future", "k-rot-now"}, ids(10)); d != "" {
				t.Fatalf("DueKeys after updates (-want +got):\n%s", d)
			}
			if err := s.KMS.UpdateKey(ctx, "k-rot-now", func(*kms.Key) (*kms.Key, error) { return nil, nil }); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff([]string{"k-rot-future"}, ids(10)); d != "" {
				t.Fatalf("DueKeys after a delete (-want +got):\n%s", d)
			}
		}},
		{"ListAliases", func(t *testing.T, s Stores) {
			ctx := bg(t)
			names := []string{"alias/b", "alias/aws/secretsmanager", "alias/A", "alias/a-b", "alias/a"}
			for _, n := range names {
				if err := s.KMS.UpdateAlias(ctx, n, func(*kms.Alias) (*kms.Alias, error) { return newAlias(n, "k"), nil }); err != nil {
					t.Fatal(err)
				}
			}
			want := []string{"alias/A", "alias/a", "alias/a-b", "alias/aws/secretsmanager", "alias/b"}
			for _, c := range []struct {
				after string
				limit int
				want  []string
			}{
				{"", 100, want},
				{"", 1, want[:1]},
				{"alias/a", 2, want[2:4]},
				{"alias/b", 10, nil},
			} {
				as, err := s.KMS.ListAliases(ctx, c.after, c.limit)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, a := range as {
					got = append(got, a.Name)
				}
				if d := cmp.Diff(c.want, got); d != "" {
					t.Fatalf("ListAliases(%q, %d) (-want +got):\n%s", c.after, c.limit, d)
				}
			}
		}},
	})
}

// RunIdentity covers identity.Store.
func RunIdentity(t *testing.T, open Open) {
	subtests(t, open, []test{
		{"AccessKeys", func(t *testing.T, s Stores) {
			ctx := bg(t)
			if _, err := s.Identity.AccessKey(ctx, "AKIANONE"); !errors.Is(err, identity.ErrNoSuchAccessKey) {
				t.Fatalf("AccessKey = %v", err)
			}
			if err := s.Identity.DeleteAccessKey(ctx, "AKIANONE"); err != nil {
				t.Fatalf("deleting a missing key: %v", err)
			}
			keys := []*identity.AccessKey{newAccessKey("AKIAROOT2", ""), newAccessKey("AKIAROOT1", ""), newAccessKey("AKIABOB", "bob"), newAccessKey("AKIAALICE2", "alice"), newAccessKey("AKIAALICE1", "alice")}
			for _, k := range keys {
				if err := s.Identity.PutAccessKey(ctx, k); err != nil {
					t.Fatal(err)
				}
			}
			got, err := s.Identity.AccessKey(ctx, "AKIABOB")
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(newAccessKey("AKIABOB", "bob"), got); d != "" {
				t.Fatalf("AccessKey (-want +got):\n%s", d)
			}
			list := func(user string) []string {
				t.Helper()
				ks, err := s.Identity.ListAccessKeys(ctx, user)
				if err != nil {
					t.Fatal(err)
				}
				var ids []string
				for _, k := range ks {
					ids = append(ids, k.ID)
				}
				return ids
			}
			for user, want := range map[string][]string{"": {"AKIAROOT1", "AKIAROOT2"}, "alice": {"AKIAALICE1", "AKIAALICE2"}, "bob": {"AKIABOB"}, "carol": nil} {
				if d := cmp.Diff(want, list(user)); d != "" {
					t.Fatalf("ListAccessKeys(%q) (-want +got):\n%s", user, d)
				}
			}
			// Replace: a new status, and a move to another user.
			k := newAccessKey("AKIABOB", "carol")
			k.Status = "Inactive"
			if err := s.Identity.PutAccessKey(ctx, k); err != nil {
				t.Fatal(err)
			}
			if got, err := s.Identity.AccessKey(ctx, "AKIABOB"); err != nil || got.Status != "Inactive" || got.UserName != "carol" {
				t.Fatalf("replaced key = %+v, %v", got, err)
			}
			if d := cmp.Diff([]string{"AKIABOB"}, list("carol")); d != "" || len(list("bob")) != 0 {
				t.Fatalf("after moving the key: carol %v, bob %v", list("carol"), list("bob"))
			}
			if err := s.Identity.DeleteAccessKey(ctx, "AKIAROOT1"); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Identity.AccessKey(ctx, "AKIAROOT1"); !errors.Is(err, identity.ErrNoSuchAccessKey) {
				t.Fatalf("deleted key: %v", err)
			}
			if d := cmp.Diff([]string{"AKIAROOT2"}, list("")); d != "" {
				t.Fatalf("after delete (-want +got):\n%s", d)
			}
		}},
		{"ChangedKeyIsSeen", func(t *testing.T, s Stores) {
			// Every change of a record is visible to the next lookup (no
			// stale cache), also after lookups of the old record.
			ctx := bg(t)
			for i := range 5 {
				k := newAccessKey("AKIAFLIP", "")
				k.Status = []string{"Active", "Inactive"}[i%2]
				k.SecretWrapped = []byte(fmt.Sprint("wrapped-", i))
				if err := s.Identity.PutAccessKey(ctx, k); err != nil {
					t.Fatal(err)
				}
				for range 2 {
					got, err := s.Identity.AccessKey(ctx, "AKIAFLIP")
					if err != nil || got.Status != k.Status || string(got.SecretWrapped) != string(k.SecretWrapped) {
						t.Fatalf("round %d: AccessKey = %+v, %v", i, got, err)
					}
				}
			}
		}},
	})
}

// RunMeta covers the meta table (skipped when Stores.Meta is nil).
func RunMeta(t *testing.T, open Open) {
	subtests(t, open, []test{
		{"Meta", func(t *testing.T, s Stores) {
			if s.Meta == nil {
				t.Skip("the adapter has no meta table")
			}
			ctx := bg(t)
			if v, err := s.Meta.Meta(ctx, "k"); err != nil || v != nil {
				t.Fatalf("Meta(missing) = %q, %v", v, err)
			}
			if v, err := s.Meta.SetMetaIfAbsent(ctx, "k", []byte("first")); err != nil || string(v) != "first" {
				t.Fatalf("SetMetaIfAbsent = %q, %v", v, err)
			}
			if v, err := s.Meta.SetMetaIfAbsent(ctx, "k", []byte("second")); err != nil || string(v) != "first" {
				t.Fatalf("SetMetaIfAbsent on a present key = %q, %v", v, err)
			}
			if err := s.Meta.SetMeta(ctx, "k", []byte("third\x00")); err != nil {
				t.Fatal(err)
			}
			if v, err := s.Meta.Meta(ctx, "k"); err != nil || string(v) != "third\x00" {
				t.Fatalf("Meta after SetMeta = %q, %v", v, err)
			}
		}},
	})
}
