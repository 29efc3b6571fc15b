package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/coffer-dev/coffer/internal/identity"
	"github.com/coffer-dev/coffer/internal/kms"
	"github.com/coffer-dev/coffer/internal/secrets"
)

// blockWindow is how long a test waits to see that a writer is blocked.
// A correct store passes however short it is; a broken one fails only if
// the blocked writer would have gone through within it.
const blockWindow = 150 * time.Millisecond

// stageAll writes one record of every kind through ctx.
func stageAll(t *testing.T, s Stores, ctx context.Context) {
	t.Helper()
	if err := s.Secrets.Update(ctx, "u", func(*secrets.Secret) (*secrets.Change, error) {
		return &secrets.Change{Secret: newSecret("u"), Payloads: payloads()}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.KMS.UpdateKey(ctx, "k-1", func(*kms.Key) (*kms.Key, error) { return newKey("k-1"), nil }); err != nil {
		t.Fatal(err)
	}
	if err := s.KMS.UpdateAlias(ctx, "alias/u", func(*kms.Alias) (*kms.Alias, error) { return newAlias("alias/u", "k-1"), nil }); err != nil {
		t.Fatal(err)
	}
	if err := s.Identity.PutAccessKey(ctx, newAccessKey("AKIAUNIT", "")); err != nil {
		t.Fatal(err)
	}
}

// visible reports which of stageAll's records ctx sees (all or none is
// the only right answer).
func visible(t *testing.T, s Stores, ctx context.Context) (found, missing []string) {
	t.Helper()
	check := func(what string, err error, notFound error) {
		switch {
		case err == nil:
			found = append(found, what)
		case errors.Is(err, notFound):
			missing = append(missing, what)
		default:
			t.Fatalf("%s: %v", what, err)
		}
	}
	_, err := s.Secrets.SecretByName(ctx, "u")
	check("secret by name", err, secrets.ErrNoSuchSecret)
	_, err = s.Secrets.SecretByARN(ctx, arnOf("u"))
	check("secret by ARN", err, secrets.ErrNoSuchSecret)
	_, err = s.Secrets.Payload(ctx, arnOf("u"), "v1")
	check("payload", err, secrets.ErrNoSuchSecret)
	_, err = s.KMS.Key(ctx, "k-1")
	check("key", err, kms.ErrNoSuchKey)
	_, err = s.KMS.Alias(ctx, "alias/u")
	check("alias", err, kms.ErrNoSuchAlias)
	_, err = s.Identity.AccessKey(ctx, "AKIAUNIT")
	check("access key", err, identity.ErrNoSuchAccessKey)
	return found, missing
}

func wantVisible(t *testing.T, s Stores, ctx context.Context, who string, all bool) {
	t.Helper()
	found, missing := visible(t, s, ctx)
	if all && len(missing) > 0 {
		t.Fatalf("%s does not see %v", who, missing)
	}
	if !all && len(found) > 0 {
		t.Fatalf("%s sees %v", who, found)
	}
}

// RunUnits covers units of work: staging, visibility, commit, rollback,
// and the per-record locks held until a unit ends.
func RunUnits(t *testing.T, open Open) {
	subtests(t, open, []test{
		{"CommitPublishes", func(t *testing.T, s Stores) {
			ctx := bg(t)
			uctx, u := s.Units.Begin(ctx)
			defer u.Rollback()
			stageAll(t, s, uctx)
			wantVisible(t, s, uctx, "the unit", true)
			wantVisible(t, s, ctx, "another request before commit", false)
			if err := u.Commit(); err != nil {
				t.Fatal(err)
			}
			wantVisible(t, s, ctx, "another request after commit", true)
			wantVisible(t, s, uctx, "the finished unit's context", true)
		}},
		{"RollbackDiscards", func(t *testing.T, s Stores) {
			ctx := bg(t)
			uctx, u := s.Units.Begin(ctx)
			stageAll(t, s, uctx)
			wantVisible(t, s, uctx, "the unit", true)
			u.Rollback()
			u.Rollback() // no-op
			wantVisible(t, s, ctx, "another request after rollback", false)
			wantVisible(t, s, uctx, "the rolled-back unit's context", false)
			if err := u.Commit(); err == nil {
				t.Fatal("Commit after Rollback succeeded")
			}
			wantVisible(t, s, ctx, "another request after commit-after-rollback", false)
		}},
		{"FinishedUnit", func(t *testing.T, s Stores) {
			ctx := bg(t)
			_, empty := s.Units.Begin(ctx)
			if err := empty.Commit(); err != nil {
				t.Fatalf("committing an empty unit: %v", err)
			}
			uctx, u := s.Units.Begin(ctx)
			stageAll(t, s, uctx)
			if err := u.Commit(); err != nil {
				t.Fatal(err)
			}
			if err := u.Commit(); err == nil {
				t.Fatal("a second Commit succeeded")
			}
			u.Rollback() // no-op after commit
			wantVisible(t, s, ctx, "another request", true)
			// A finished unit's context writes on its own again.
			if err := s.KMS.UpdateKey(uctx, "k-2", func(*kms.Key) (*kms.Key, error) { return newKey("k-2"), nil }); err != nil {
				t.Fatalf("write with a finished unit's context: %v", err)
			}
			if _, err := s.KMS.Key(ctx, "k-2"); err != nil {
				t.Fatalf("write with a finished unit's context is not visible: %v", err)
			}
		}},
		{"OwnDeletion", func(t *testing.T, s Stores) {
			ctx := bg(t)
			put(t, s.Secrets, ctx, newSecret("gone"), payloads())
			uctx, u := s.Units.Begin(ctx)
			defer u.Rollback()
			if err := s.Secrets.Update(uctx, "gone", func(*secrets.Secret) (*secrets.Change, error) { return &secrets.Change{}, nil }); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Secrets.SecretByName(uctx, "gone"); !errors.Is(err, secrets.ErrNoSuchSecret) {
				t.Fatalf("the unit still sees the secret it deleted: %v", err)
			}
			if _, err := s.Secrets.SecretByARN(uctx, arnOf("gone")); !errors.Is(err, secrets.ErrNoSuchSecret) {
				t.Fatalf("the unit still sees the secret it deleted, by ARN: %v", err)
			}
			wantPayload(t, s.Secrets, uctx, arnOf("gone"), "v1", nil)
			mustGet(t, s.Secrets, ctx, "gone")
			wantPayload(t, s.Secrets, ctx, arnOf("gone"), "v1", payloads()["v1"])
			if err := u.Commit(); err != nil {
				t.Fatal(err)
			}
			wantNoSecret(t, s.Secrets, ctx, "gone")
		}},
		{"SeesOwnStateInUpdate", func(t *testing.T, s Stores) {
			ctx := bg(t)
			uctx, u := s.Units.Begin(ctx)
			defer u.Rollback()
			for i := range 3 {
				err := s.Secrets.Update(uctx, "n", func(cur *secrets.Secret) (*secrets.Change, error) {
					if i == 0 {
						if cur != nil {
							t.Errorf("first Update got %+v", cur)
						}
						return &secrets.Change{Secret: newSecret("n")}, nil
					}
					if cur == nil {
						t.Fatalf("Update %d does not see the unit's earlier write", i)
					}
					cur.Description += "+"
					return &secrets.Change{Secret: cur}, nil
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			if got := mustGet(t, s.Secrets, uctx, "n").Description; got != "the n secret++" {
				t.Fatalf("Description in unit = %q", got)
			}
			if err := u.Commit(); err != nil {
				t.Fatal(err)
			}
			if got := mustGet(t, s.Secrets, ctx, "n").Description; got != "the n secret++" {
				t.Fatalf("Description = %q", got)
			}
		}},
		{"SecretLockHeldUntilCommit", func(t *testing.T, s Stores) {
			ctx := bg(t)
			put(t, s.Secrets, ctx, newSecret("x"), nil)
			put(t, s.Secrets, ctx, newSecret("y"), nil)
			uctx, u := s.Units.Begin(ctx)
			defer u.Rollback()
			setDescription(t, s, uctx, "x", "from the unit")
			// Another secret is not blocked.
			setDescription(t, s, ctx, "y", "independent")
			done := make(chan string, 1)
			go func() {
				var saw string
				err := s.Secrets.Update(ctx, "x", func(cur *secrets.Secret) (*secrets.Change, error) {
					saw = cur.Description
					cur.Description = "second"
					return &secrets.Change{Secret: cur}, nil
				})
				if err != nil {
					saw = "error: " + err.Error()
				}
				done <- saw
			}()
			select {
			case saw := <-done:
				t.Fatalf("a concurrent Update did not wait for the unit (it saw %q)", saw)
			case <-time.After(blockWindow):
			}
			if err := u.Commit(); err != nil {
				t.Fatal(err)
			}
			if saw := <-done; saw != "from the unit" {
				t.Fatalf("the waiting Update saw %q, want the unit's committed write", saw)
			}
			if got := mustGet(t, s.Secrets, ctx, "x").Description; got != "second" {
				t.Fatalf("Description = %q", got)
			}
		}},
		{"KeyLockHeldUntilRollback", func(t *testing.T, s Stores) {
			ctx := bg(t)
			if err := s.KMS.UpdateKey(ctx, "k-1", func(*kms.Key) (*kms.Key, error) { return newKey("k-1"), nil }); err != nil {
				t.Fatal(err)
			}
			uctx, u := s.Units.Begin(ctx)
			defer u.Rollback()
			if err := s.KMS.UpdateKey(uctx, "k-1", func(k *kms.Key) (*kms.Key, error) {
				k = k.Clone()
				k.Description = "unit"
				return k, nil
			}); err != nil {
				t.Fatal(err)
			}
			done := make(chan string, 1)
			go func() {
				var saw string
				err := s.KMS.UpdateKey(ctx, "k-1", func(k *kms.Key) (*kms.Key, error) {
					saw = k.Description
					k = k.Clone()
					k.Description = "second"
					return k, nil
				})
				if err != nil {
					saw = "error: " + err.Error()
				}
				done <- saw
			}()
			select {
			case saw := <-done:
				t.Fatalf("a concurrent UpdateKey did not wait for the unit (it saw %q)", saw)
			case <-time.After(blockWindow):
			}
			u.Rollback()
			if saw := <-done; saw != newKey("k-1").Description {
				t.Fatalf("the waiting UpdateKey saw %q, want the committed state", saw)
			}
		}},
		{"Atomic", func(t *testing.T, s Stores) {
			ctx := bg(t)
			boom := errors.New("boom")
			err := s.KMS.Atomic(ctx, func(ctx context.Context) error {
				stageAll(t, s, ctx)
				return boom
			})
			if !errors.Is(err, boom) {
				t.Fatalf("Atomic = %v", err)
			}
			wantVisible(t, s, ctx, "after a failed Atomic", false)
			if err := s.KMS.Atomic(ctx, func(ctx context.Context) error { stageAll(t, s, ctx); return nil }); err != nil {
				t.Fatal(err)
			}
			wantVisible(t, s, ctx, "after Atomic", true)
			// Inside a unit, Atomic joins it: nothing commits before the unit.
			uctx, u := s.Units.Begin(ctx)
			defer u.Rollback()
			err = s.KMS.Atomic(uctx, func(ctx context.Context) error {
				return s.KMS.UpdateKey(ctx, "k-3", func(*kms.Key) (*kms.Key, error) { return newKey("k-3"), nil })
			})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.KMS.Key(ctx, "k-3"); !errors.Is(err, kms.ErrNoSuchKey) {
				t.Fatalf("Atomic inside a unit committed on its own: %v", err)
			}
			u.Rollback()
			if _, err := s.KMS.Key(ctx, "k-3"); !errors.Is(err, kms.ErrNoSuchKey) {
				t.Fatalf("Atomic inside a rolled-back unit: %v", err)
			}
		}},
	})
}

func setDescription(t *testing.T, s Stores, ctx context.Context, name, d string) {
	t.Helper()
	err := s.Secrets.Update(ctx, name, func(cur *secrets.Secret) (*secrets.Change, error) {
		cur.Description = d
		return &secrets.Change{Secret: cur}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
