package archtest_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-dev/coffer/internal/archtest"
)

// TestArchitecture checks the module's real import graph.
func TestArchitecture(t *testing.T) {
	pkgs, module, err := archtest.Load(".")
	if err != nil {
		t.Fatal(err)
	}
	rules := archtest.Coffer(module)
	// The rules must not pass vacuously: the packages they name exist.
	have := map[string]bool{}
	for _, p := range pkgs {
		have[strings.TrimPrefix(p.ImportPath, module+"/")] = true
	}
	for _, p := range []string{"internal/envelope", "internal/sigv4", "internal/keyring", "internal/kms", "internal/secrets", "internal/identity", "internal/sqlite", "cmd/coffer"} {
		if !have[p] {
			t.Errorf("%s is not in the go list output", p)
		}
	}
	for _, v := range rules.Check(pkgs) {
		t.Error(v)
	}
}

// TestCheckFindsViolations feeds the checker a made-up module that breaks
// every rule once.
func TestCheckFindsViolations(t *testing.T) {
	const m = "example.com/m"
	pkgs := []archtest.Package{
		{ImportPath: "fmt", Standard: true},
		{ImportPath: "net/http", Standard: true},
		{ImportPath: "database/sql", Standard: true},
		{ImportPath: "other.org/lib"},
		{ImportPath: m + "/internal/envelope", Imports: []string{"fmt"}, Deps: []string{"fmt"}},
		{ImportPath: m + "/internal/sigv4", Imports: []string{"net/http", "other.org/lib"}, Deps: []string{"net/http", "other.org/lib"}},
		{ImportPath: m + "/internal/secrets", Imports: []string{"database/sql"}, Deps: []string{"database/sql"}},
		{ImportPath: m + "/internal/kms", Imports: []string{m + "/internal/kms/store"}, Deps: []string{m + "/internal/kms/store", m + "/internal/sqlite"}},
		{ImportPath: m + "/internal/kms/store", Imports: []string{m + "/internal/sqlite"}, Deps: []string{m + "/internal/sqlite"}},
		{ImportPath: m + "/internal/identity", Imports: []string{m + "/internal/sigv4"}, Deps: []string{m + "/internal/sigv4", "net/http"}},
		{ImportPath: m + "/internal/sqlite", Imports: []string{"database/sql"}, Deps: []string{"database/sql"}},
		{ImportPath: m + "/internal/postgres", Imports: []string{m + "/internal/sqlite/schema"}, Deps: []string{m + "/internal/sqlite/schema"}},
		{ImportPath: m + "/internal/awsapi", Imports: []string{m + "/internal/postgres"}, Deps: []string{m + "/internal/postgres"}},
		{ImportPath: m + "/cmd/coffer", Imports: []string{m + "/internal/sqlite", m + "/internal/postgres"}, Deps: []string{m + "/internal/sqlite", m + "/internal/postgres"}},
	}
	got := archtest.Coffer(m).Check(pkgs)
	want := []string{
		"rule 1: leaf internal/sigv4 depends on other.org/lib, which is not in the standard library",
		"rule 2: domain package internal/kms depends on the adapter internal/sqlite",
		"rule 2: domain package internal/kms/store depends on the adapter internal/sqlite",
		"rule 2: domain package internal/secrets imports database/sql",
		"rule 3: adapter internal/postgres depends on the adapter internal/sqlite",
		"rule 4: internal/awsapi imports the adapter internal/postgres; only cmd/coffer may pick an adapter",
		"rule 4: internal/kms/store imports the adapter internal/sqlite; only cmd/coffer may pick an adapter",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("violations (-want +got):\n%s", diff)
	}
}
