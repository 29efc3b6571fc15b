package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/coffer-dev/coffer/internal/sqlite"
	"github.com/coffer-dev/coffer/internal/storetest"
)

// TestConformance runs the store conformance suite on SQLite.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Stores {
		db, err := sqlite.Open(filepath.Join(t.TempDir(), "coffer.db"), sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return storetest.Stores{Secrets: db, KMS: db, Identity: db, Units: db, Meta: db, Audit: db}
	})
}
