package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coffer-dev/coffer/internal/kms"
	"github.com/coffer-dev/coffer/internal/secrets"
)

// addVersion is a label-moving read-modify-write like PutSecretValue's: a
// new version becomes AWSCURRENT, the old current AWSPREVIOUS.
func addVersion(cur *secrets.Secret, id string) *secrets.Change {
	for i := range cur.Versions {
		v := &cur.Versions[i]
		v.Stages = slices.DeleteFunc(v.Stages, func(l string) bool { return l == secrets.StagePrevious })
		if slices.Contains(v.Stages, secrets.StageCurrent) {
			v.Stages = slices.DeleteFunc(v.Stages, func(l string) bool { return l == secrets.StageCurrent })
			v.Stages = append(v.Stages, secrets.StagePrevious)
		}
	}
	cur.Versions = append(cur.Versions, secrets.Version{ID: id, Stages: []string{secrets.StageCurrent}, CreatedAt: base})
	return &secrets.Change{Secret: cur, Payloads: map[string][]byte{id: []byte("value of " + id)}}
}

// RunConcurrency covers concurrent writers: no lost update, exactly one
// creator, one AWSCURRENT.
func RunConcurrency(t *testing.T, open Open) {
	subtests(t, open, []test{
		{"ManyWritersOneSecret", func(t *testing.T, s Stores) {
			ctx := bg(t)
			put(t, s.Secrets, ctx, &secrets.Secret{ARN: arnOf("hot"), Name: "hot", CreatedAt: base, LastChangedAt: base}, nil)
			const writers, each = 8, 8
			var wg sync.WaitGroup
			errs := make(chan error, writers*each)
			for w := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range each {
						id := fmt.Sprintf("w%d-%d", w, i)
						fn := func(cur *secrets.Secret) (*secrets.Change, error) { return addVersion(cur, id), nil }
						var err error
						if w%2 == 0 { // half in units of work, half on their own
							uctx, u := s.Units.Begin(ctx)
							if err = s.Secrets.Update(uctx, "hot", fn); err == nil {
								err = u.Commit()
							}
							u.Rollback()
						} else {
							err = s.Secrets.Update(ctx, "hot", fn)
						}
						if err != nil {
							errs <- fmt.Errorf("%s: %w", id, err)
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			got := mustGet(t, s.Secrets, ctx, "hot")
			if len(got.Versions) != writers*each {
				t.Fatalf("%d versions, want %d: updates were lost", len(got.Versions), writers*each)
			}
			current := 0
			for _, v := range got.Versions {
				if slices.Contains(v.Stages, secrets.StageCurrent) {
					current++
				}
				wantPayload(t, s.Secrets, ctx, got.ARN, v.ID, []byte("value of "+v.ID))
			}
			if current != 1 {
				t.Fatalf("%d versions are AWSCURRENT", current)
			}
			if last := got.Versions[len(got.Versions)-1]; !slices.Contains(last.Stages, secrets.StageCurrent) {
				t.Fatalf("the newest version %s is not AWSCURRENT", last.ID)
			}
		}},
		{"OneCreator", func(t *testing.T, s Stores) {
			ctx := bg(t)
			var created atomic.Int32
			var wg sync.WaitGroup
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					err := s.Secrets.Update(ctx, "race", func(cur *secrets.Secret) (*secrets.Change, error) {
						if cur != nil {
							return nil, nil
						}
						created.Add(1)
						return &secrets.Change{Secret: newSecret("race")}, nil
					})
					if err != nil {
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			if n := created.Load(); n != 1 {
				t.Fatalf("%d creators saw no secret", n)
			}
		}},
		{"TouchAndUpdate", func(t *testing.T, s Stores) {
			// Touch is best effort (it skips a secret another request holds)
			// but never disturbs an Update; once alone, it records the day.
			ctx := bg(t)
			put(t, s.Secrets, ctx, newSecret("tu"), payloads())
			day := time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)
			var wg sync.WaitGroup
			wg.Add(2)
			go func() {
				defer wg.Done()
				for i := range 20 {
					if err := s.Secrets.Touch(ctx, "tu", arnOf("tu"), "v2", day.AddDate(0, 0, i)); err != nil {
						t.Error(err)
					}
				}
			}()
			go func() {
				defer wg.Done()
				for i := range 20 {
					if err := s.Secrets.Update(ctx, "tu", func(cur *secrets.Secret) (*secrets.Change, error) {
						return addVersion(cur, fmt.Sprint("t", i)), nil
					}); err != nil {
						t.Error(err)
					}
				}
			}()
			wg.Wait()
			got := mustGet(t, s.Secrets, ctx, "tu")
			if len(got.Versions) != 3+20 {
				t.Fatalf("%d versions, want 23", len(got.Versions))
			}
			last := day.AddDate(0, 0, 30)
			if err := s.Secrets.Touch(ctx, "tu", arnOf("tu"), "v2", last); err != nil {
				t.Fatal(err)
			}
			got = mustGet(t, s.Secrets, ctx, "tu")
			if !got.LastAccessedAt.Equal(last) || !got.Version("v2").LastAccessedAt.Equal(last) {
				t.Fatalf("LastAccessedAt = %v / %v, want %v", got.LastAccessedAt, got.Version("v2").LastAccessedAt, last)
			}
		}},
		{"TouchNeverWaits", func(t *testing.T, s Stores) {
			// Two units touching the same secrets in opposite orders (as two
			// BatchGetSecretValue calls can) finish; a touch of a secret
			// another unit holds does not wait for it.
			ctx := bg(t)
			put(t, s.Secrets, ctx, newSecret("x"), payloads())
			put(t, s.Secrets, ctx, newSecret("y"), payloads())
			day := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
			c1, u1 := s.Units.Begin(ctx)
			c2, u2 := s.Units.Begin(ctx)
			defer u1.Rollback()
			defer u2.Rollback()
			if err := s.Secrets.Touch(c1, "x", arnOf("x"), "v1", day); err != nil {
				t.Fatal(err)
			}
			if err := s.Secrets.Touch(c2, "y", arnOf("y"), "v1", day); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() {
				err := s.Secrets.Touch(c1, "y", arnOf("y"), "v1", day)
				if err == nil {
					err = s.Secrets.Touch(c2, "x", arnOf("x"), "v1", day)
				}
				done <- err
			}()
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Touch waited for a secret another unit holds")
			}
			for _, u := range []interface{ Commit() error }{u1, u2} {
				if err := u.Commit(); err != nil {
					t.Fatal(err)
				}
			}
			for _, n := range []string{"x", "y"} {
				if got := mustGet(t, s.Secrets, ctx, n); !got.LastAccessedAt.Equal(day) {
					t.Fatalf("%s: LastAccessedAt = %v, want %v (each unit's first touch)", n, got.LastAccessedAt, day)
				}
			}
		}},
		{"ManyWritersOneKey", func(t *testing.T, s Stores) {
			ctx := bg(t)
			if err := s.KMS.UpdateKey(ctx, "hot", func(*kms.Key) (*kms.Key, error) {
				k := newKey("hot")
				k.Materials = nil
				return k, nil
			}); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			for w := range 6 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range 5 {
						err := s.KMS.Atomic(ctx, func(ctx context.Context) error {
							return s.KMS.UpdateKey(ctx, "hot", func(cur *kms.Key) (*kms.Key, error) {
								cur = cur.Clone()
								cur.Materials = append(cur.Materials, kms.Material{Seq: uint32(len(cur.Materials) + 1), ID: fmt.Sprintf("m%d-%d", w, i)})
								return cur, nil
							})
						})
						if err != nil {
							t.Error(err)
						}
					}
				}()
			}
			wg.Wait()
			k, err := s.KMS.Key(ctx, "hot")
			if err != nil {
				t.Fatal(err)
			}
			if len(k.Materials) != 30 {
				t.Fatalf("%d materials, want 30", len(k.Materials))
			}
			for i, m := range k.Materials {
				if m.Seq != uint32(i+1) {
					t.Fatalf("material %d has seq %d", i, m.Seq)
				}
			}
		}},
	})
}
