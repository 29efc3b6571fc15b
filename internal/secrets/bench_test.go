package secrets_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/coffer-dev/coffer/internal/envelope"
	"github.com/coffer-dev/coffer/internal/keyring"
	"github.com/coffer-dev/coffer/internal/kms"
	"github.com/coffer-dev/coffer/internal/secrets"
	"github.com/coffer-dev/coffer/internal/sqlite"
)

// benchService is a Service over SQLite and the real KMS core, with 100
// secrets bench/<i> holding a 200-byte value.
func benchService(b *testing.B) (*secrets.Service, *sqlite.DB) {
	b.Helper()
	db, err := sqlite.Open(filepath.Join(b.TempDir(), "coffer.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	root, err := keyring.NewRoot(envelope.NewDataKey())
	if err != nil {
		b.Fatal(err)
	}
	k := kms.New(kms.Config{Store: db, Root: root, Region: "us-east-1", Account: "123456789012"})
	svc := secrets.New(secrets.Config{Store: db, Keys: k, Region: "us-east-1", Account: "123456789012"})
	value := &secrets.Value{Data: []byte(strings.Repeat("v", 200))}
	for i := range 100 {
		_, err := svc.Create(context.Background(), secrets.CreateInput{Name: fmt.Sprintf("bench/%03d", i), Token: fmt.Sprintf("00000000-0000-0000-0000-%012d", i), Value: value})
		if err != nil {
			b.Fatal(err)
		}
	}
	return svc, db
}

// BenchmarkService measures the domain operations behind GetSecretValue
// and PutSecretValue (lookup, unwrap the data key, open the value; seal
// and group-commit a new version), without HTTP.
func BenchmarkService(b *testing.B) {
	svc, db := benchService(b)
	ctx := context.Background()
	b.Run("GetSecretValue", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			sec, err := svc.Lookup(ctx, fmt.Sprintf("bench/%03d", i%100))
			if err != nil {
				b.Fatal(err)
			}
			v, err := svc.GetValue(ctx, sec, "", "")
			if err != nil {
				b.Fatal(err)
			}
			v.Value.Zero()
			i++
		}
	})
	// A secret keeps at most 100 versions a day: each writer creates a
	// secret of its own every 90 versions (inside the measured loop).
	var writers atomic.Int64
	put := func(b *testing.B, writer int64, i int) bool {
		name := fmt.Sprintf("put/%d/%d", writer, i/90)
		if i%90 == 0 {
			if _, err := svc.Create(ctx, secrets.CreateInput{Name: name}); err != nil {
				b.Error(err)
				return false
			}
		}
		sec, err := svc.Lookup(ctx, name)
		if err == nil {
			_, err = svc.PutValue(ctx, sec, secrets.PutInput{Token: fmt.Sprintf("%016x%016x", writer, i), Value: secrets.Value{Data: []byte("new value of the secret")}})
		}
		if err != nil {
			b.Error(err)
			return false
		}
		return true
	}
	b.Run("PutSecretValue", func(b *testing.B) {
		b.ReportAllocs()
		w := writers.Add(1)
		i := 0
		for b.Loop() {
			if !put(b, w, i) {
				return
			}
			i++
		}
	})
	b.Run("PutSecretValue-parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(32)
		b.RunParallel(func(pb *testing.PB) {
			w := writers.Add(1)
			for i := 0; pb.Next(); i++ {
				if !put(b, w, i) {
					return
				}
			}
		})
	})
	_ = db
}
