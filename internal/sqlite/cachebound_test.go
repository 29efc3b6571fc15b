package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/coffer-dev/coffer/internal/secrets"
)

// TestSecretCacheBound: the read cache holds at most CacheSecrets secrets,
// whether they were read or written (each committed write publishes its
// secret into the cache).
func TestSecretCacheBound(t *testing.T) {
	const max = 10
	db, err := Open(filepath.Join(t.TempDir(), "coffer.db"), Options{CacheSecrets: max})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	for i := range 5 * max {
		name := fmt.Sprintf("s%03d", i)
		arn := "arn:aws:secretsmanager:us-east-1:123456789012:secret:" + name + "-AbCdEf"
		err := db.Update(ctx, name, func(*secrets.Secret) (*secrets.Change, error) {
			return &secrets.Change{Secret: &secrets.Secret{ARN: arn, Name: name, CreatedAt: at, LastChangedAt: at}}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n := db.cachedSecrets(); n > max {
			t.Fatalf("after %d writes the cache holds %d secrets, want at most %d", i+1, n, max)
		}
	}
	for i := range 5 * max { // reads fill it, within the bound, and see every write
		name := fmt.Sprintf("s%03d", i)
		s, err := db.SecretByName(ctx, name)
		if err != nil || s.Name != name {
			t.Fatalf("SecretByName(%s) = %v, %v", name, s, err)
		}
		if n := db.cachedSecrets(); n > max {
			t.Fatalf("after reads the cache holds %d secrets, want at most %d", n, max)
		}
	}
}

func (db *DB) cachedSecrets() int {
	c := &db.secrets
	c.mu.RLock()
	defer c.mu.RUnlock()
	if len(c.byARN) > len(c.byName) {
		return len(c.byARN)
	}
	return len(c.byName)
}
