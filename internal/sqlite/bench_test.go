package sqlite_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coffer-dev/coffer/internal/secrets"
	"github.com/coffer-dev/coffer/internal/sqlite"
)

const benchARNPrefix = "arn:aws:secretsmanager:us-east-1:123456789012:secret:"

// benchSecret is a secret as the service would store it: one version with
// AWSCURRENT, a ~300-byte sealed payload.
func benchSecret(name string, at time.Time, vid string) (*secrets.Secret, []byte) {
	s := &secrets.Secret{
		ARN: benchARNPrefix + name + "-AbCdEf", Name: name, CreatedAt: at, LastChangedAt: at,
		Versions: []secrets.Version{{ID: vid, Stages: []string{secrets.StageCurrent}, CreatedAt: at,
			KmsKeyARN: "arn:aws:kms:us-east-1:123456789012:key/0b1d2c3e-4f50-6172-8394-a5b6c7d8e9f0"}},
	}
	payload := make([]byte, 300)
	rand.Read(payload)
	return s, payload
}

// seedStore opens a store with n secrets named bench/<i>, committed in one
// unit of work.
func seedStore(b *testing.B, n int) *sqlite.DB {
	b.Helper()
	db, err := sqlite.Open(filepath.Join(b.TempDir(), "coffer.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	err = db.Atomic(context.Background(), func(ctx context.Context) error {
		for i := range n {
			name := fmt.Sprintf("bench/%06d", i)
			s, p := benchSecret(name, at.Add(time.Duration(i)*time.Millisecond), "v0")
			if err := db.Update(ctx, name, func(*secrets.Secret) (*secrets.Change, error) {
				return &secrets.Change{Secret: s, Payloads: map[string][]byte{"v0": p}}, nil
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return db
}

// BenchmarkStore measures the SQLite adapter's read path (the cache) and
// its write path (group commit), over 1,000 secrets.
func BenchmarkStore(b *testing.B) {
	const n = 1000
	db := seedStore(b, n)
	ctx := context.Background()
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("bench/%06d", i)
		if _, err := db.SecretByName(ctx, names[i]); err != nil { // warm the cache
			b.Fatal(err)
		}
		if _, err := db.Payload(ctx, benchARNPrefix+names[i]+"-AbCdEf", "v0"); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("get-secret", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := db.SecretByName(ctx, names[i%n]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("get-secret-parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for i := 0; pb.Next(); i++ {
				if _, err := db.SecretByName(ctx, names[i%n]); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("get-payload", func(b *testing.B) {
		arns := make([]string, n)
		for i := range arns {
			arns[i] = benchARNPrefix + names[i] + "-AbCdEf"
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := db.Payload(ctx, arns[i%n], "v0"); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("list-100", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			page, _, err := db.List(ctx, secrets.ListQuery{Limit: 100})
			if err != nil || len(page) != 100 {
				b.Fatal(len(page), err)
			}
		}
	})
	// update-secret: a new version (document + payload) per Update, each in
	// its own unit of work, from many goroutines: the committer batches
	// them into one transaction and one fsync.
	var seq atomic.Int64
	b.Run("update-secret", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(32)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := seq.Add(1)
				name := names[i%n]
				vid := fmt.Sprintf("v%d", i)
				err := db.Update(ctx, name, func(cur *secrets.Secret) (*secrets.Change, error) {
					_, p := benchSecret(name, cur.CreatedAt, vid)
					cur.Versions = append(cur.Versions[:0], secrets.Version{ID: vid, Stages: []string{secrets.StageCurrent}, CreatedAt: cur.CreatedAt})
					return &secrets.Change{Secret: cur, Payloads: map[string][]byte{vid: p}}, nil
				})
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("update-secret-serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			i := seq.Add(1)
			name := names[i%n]
			vid := fmt.Sprintf("v%d", i)
			err := db.Update(ctx, name, func(cur *secrets.Secret) (*secrets.Change, error) {
				_, p := benchSecret(name, cur.CreatedAt, vid)
				cur.Versions = append(cur.Versions[:0], secrets.Version{ID: vid, Stages: []string{secrets.StageCurrent}, CreatedAt: cur.CreatedAt})
				return &secrets.Change{Secret: cur, Payloads: map[string][]byte{vid: p}}, nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}
