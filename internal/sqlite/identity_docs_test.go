package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/coffer-dev/coffer/internal/identity/identitytest"
	"github.com/coffer-dev/coffer/internal/sqlite"
)

func TestIdentityStore(t *testing.T) {
	identitytest.TestStore(t, func(t *testing.T) identitytest.Store {
		db, err := sqlite.Open(filepath.Join(t.TempDir(), "coffer.db"), sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}
