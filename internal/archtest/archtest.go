// Package archtest enforces the import rules of docs/ARCHITECTURE.md on the
// module's (non-test) packages, from the output of `go list -deps -json`:
//
//  1. Leaves (envelope, sigv4, iam, audit) import only the standard library.
//  2. Domain packages (keyring, kms, secrets, identity) never import
//     net/http or database/sql, and depend on no storage adapter.
//  3. Adapters (sqlite, postgres) never depend on each other.
//  4. Only cmd/coffer imports an adapter.
//
// Tests are left out on purpose: black-box tests of a domain package may
// use a real store, and leaf tests may use go-cmp and the AWS SDK.
package archtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"
)

// Package is the part of `go list -json` output the rules need.
type Package struct {
	ImportPath string
	Standard   bool
	Imports    []string // direct imports
	Deps       []string // every package it depends on, transitively
}

// Rules names the package groups, by path relative to the module.
type Rules struct {
	Module   string
	Leaves   []string
	Domain   []string
	Adapters []string
	Root     string // the only package that may import adapters
}

// Coffer's rules (docs/ARCHITECTURE.md, "Rules").
func Coffer(module string) Rules {
	return Rules{
		Module:   module,
		Leaves:   []string{"internal/envelope", "internal/sigv4", "internal/iam", "internal/audit"},
		Domain:   []string{"internal/keyring", "internal/kms", "internal/secrets", "internal/identity"},
		Adapters: []string{"internal/sqlite", "internal/postgres"},
		Root:     "cmd/coffer",
	}
}

// in reports whether path is one of the groups' packages or below one.
func (r Rules) in(path string, group []string) (string, bool) {
	for _, g := range group {
		full := r.Module + "/" + g
		if path == full || strings.HasPrefix(path, full+"/") {
			return g, true
		}
	}
	return "", false
}

// Check returns one line per violation (nil when the packages follow the
// rules).
func (r Rules) Check(pkgs []Package) []string {
	std := map[string]bool{}
	for _, p := range pkgs {
		if p.Standard {
			std[p.ImportPath] = true
		}
	}
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	for _, p := range pkgs {
		if p.Standard || !strings.HasPrefix(p.ImportPath, r.Module+"/") && p.ImportPath != r.Module {
			continue
		}
		rel := strings.TrimPrefix(p.ImportPath, r.Module+"/")
		if _, leaf := r.in(p.ImportPath, r.Leaves); leaf {
			for _, d := range p.Deps {
				if !std[d] {
					add("rule 1: leaf %s depends on %s, which is not in the standard library", rel, d)
				}
			}
		}
		if _, dom := r.in(p.ImportPath, r.Domain); dom {
			for _, d := range p.Imports {
				if d == "net/http" || strings.HasPrefix(d, "net/http/") || d == "database/sql" || strings.HasPrefix(d, "database/sql/") {
					add("rule 2: domain package %s imports %s", rel, d)
				}
			}
			for _, d := range p.Deps {
				if a, ok := r.in(d, r.Adapters); ok {
					add("rule 2: domain package %s depends on the adapter %s", rel, a)
				}
			}
		}
		if own, adapter := r.in(p.ImportPath, r.Adapters); adapter {
			for _, d := range p.Deps {
				if a, ok := r.in(d, r.Adapters); ok && a != own {
					add("rule 3: adapter %s depends on the adapter %s", rel, a)
				}
			}
		}
		if _, adapter := r.in(p.ImportPath, r.Adapters); !adapter && rel != r.Root {
			for _, d := range p.Imports {
				if a, ok := r.in(d, r.Adapters); ok {
					add("rule 4: %s imports the adapter %s; only %s may pick an adapter", rel, a, r.Root)
				}
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Load runs `go list -deps -json ./...` at the root of the module that
// contains dir and returns the packages and the module path.
func Load(dir string) ([]Package, string, error) {
	out, err := exec.Command("go", "list", "-C", dir, "-m", "-f", "{{.Path}}\n{{.Dir}}").Output()
	if err != nil {
		return nil, "", fmt.Errorf("go list -m: %w", err)
	}
	mod, root, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	cmd := exec.Command("go", "list", "-C", root, "-deps", "-json=ImportPath,Standard,Imports,Deps", "./...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	raw, err := cmd.Output()
	if err != nil {
		return nil, "", fmt.Errorf("go list -deps: %w: %s", err, stderr.Bytes())
	}
	var pkgs []Package
	dec := json.NewDecoder(bytes.NewReader(raw))
	for {
		var p Package
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, "", fmt.Errorf("go list output: %w", err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs, mod, nil
}
