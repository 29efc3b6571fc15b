package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-dev/coffer/internal/secrets"
	"github.com/coffer-dev/coffer/internal/sqlite"
)

func TestParseStorage(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		spec       string
		kind, path string
		err        bool
	}{
		{"", "sqlite", filepath.Join("/data", "coffer.db"), false},
		{"sqlite://" + dir, "sqlite", filepath.Join(dir, "coffer.db"), false},
		{"sqlite:" + dir, "sqlite", filepath.Join(dir, "coffer.db"), false},
		{"sqlite:///tmp/new-dir", "sqlite", "/tmp/new-dir/coffer.db", false},
		{"sqlite:///tmp/x/store.db", "sqlite", "/tmp/x/store.db", false},
		{"sqlite://", "", "", true},
		{"postgres://u:p@h/db", "postgres", "", false},
		{"postgresql://h/db", "postgres", "", false},
		{"mysql://u:pw@h/db", "", "", true},
	} {
		s, err := parseStorage(c.spec, "/data")
		if (err != nil) != c.err {
			t.Errorf("parseStorage(%q) error = %v", c.spec, err)
			continue
		}
		if err != nil {
			if strings.Contains(err.Error(), ":pw@") {
				t.Errorf("error shows a password: %v", err)
			}
			continue
		}
		if s.kind != c.kind || s.path != c.path {
			t.Errorf("parseStorage(%q) = %+v, want %s %s", c.spec, s, c.kind, c.path)
		}
	}
}

func openSQLite(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "coffer.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func fill(t *testing.T, db *sqlite.DB) {
	ctx := context.Background()
	if _, err := db.SetMetaIfAbsent(ctx, "account_id", []byte("123456789012")); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a", "b/c", "é"} {
		if err := db.Update(ctx, name, func(*secrets.Secret) (*secrets.Change, error) {
			return &secrets.Change{Secret: &secrets.Secret{Name: name, ARN: "arn:" + name}, Payloads: map[string][]byte{"v1": {0, 0xff, 1}, "v2": {}}}, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
}

func backupOf(t *testing.T, db *sqlite.DB) ([]byte, *sums) {
	t.Helper()
	var buf bytes.Buffer
	read, err := writeBackup(context.Background(), db, "sqlite", &buf, newProgress(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), read
}

func TestBackupRestore(t *testing.T) {
	src := openSQLite(t)
	fill(t, src)
	file, read := backupOf(t, src)
	dst := openSQLite(t)
	err := dst.Load(context.Background(), false, func(put func(string, []string, []any) error) error {
		_, err := readBackup(bytes.NewReader(file), put, newProgress(io.Discard))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	held, err := checksums(context.Background(), dst)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := compareSums(&out, read, held); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if d := cmp.Diff(read.list, held.list, cmp.Comparer(func(a, b *tableSum) bool { return a.Table == b.Table && a.Rows == b.Rows && a.Sum == b.Sum })); d != "" {
		t.Fatal(d)
	}
	if again, _ := backupOf(t, dst); !bytes.Equal(stripCreated(again), stripCreated(file)) {
		t.Fatalf("a backup of the restored store differs:\n%s\n%s", again, file)
	}
}

func stripCreated(b []byte) []byte {
	_, rest, _ := bytes.Cut(b, []byte("\n"))
	return rest
}

// A damaged, truncated or foreign file loads nothing.
func TestRestoreRejectsBadFiles(t *testing.T) {
	src := openSQLite(t)
	fill(t, src)
	file, _ := backupOf(t, src)
	lines := strings.SplitAfter(string(file), "\n")
	cases := map[string]string{
		"truncated":       string(file[:len(file)/2]),
		"no trailer":      strings.Join(lines[:len(lines)-2], ""),
		"changed value":   strings.Replace(string(file), `"b/c"`, `"b/d"`, 1),
		"dropped row":     strings.Replace(string(file), lines[3], "", 1),
		"not a backup":    "hello\n",
		"empty":           "",
		"wrong version":   strings.Replace(string(file), `"version":1`, `"version":9`, 1),
		"bad base64":      strings.Replace(string(file), `"AP8B"`, `"!!!"`, 1),
		"number for text": strings.Replace(string(file), `["a",`, `[7,`, 1),
	}
	for name, content := range cases {
		t.Run(name, func(t *testing.T) {
			if content == string(file) {
				t.Fatal("the case does not change the file")
			}
			dst := openSQLite(t)
			err := dst.Load(context.Background(), false, func(put func(string, []string, []any) error) error {
				_, err := readBackup(strings.NewReader(content), put, newProgress(io.Discard))
				return err
			})
			if err == nil {
				t.Fatal("loaded")
			}
			held, err := checksums(context.Background(), dst)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range held.list {
				if s.Rows != 0 {
					t.Fatalf("table %s has %d rows after a failed restore", s.Table, s.Rows)
				}
			}
		})
	}
}

func FuzzReadBackup(f *testing.F) {
	db, err := sqlite.Open(filepath.Join(f.TempDir(), "coffer.db"), sqlite.Options{})
	if err != nil {
		f.Fatal(err)
	}
	defer db.Close()
	var buf bytes.Buffer
	if _, err := writeBackup(context.Background(), db, "sqlite", &buf, newProgress(io.Discard)); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte(`{"format":"coffer-snapshot","version":1}` + "\n" + `{"table":"t","columns":["a","b"],"types":"ib","rows":1}` + "\n" + `[1,"AAE="]` + "\n" + `{"end":true,"tables":[]}` + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		readBackup(bytes.NewReader(data), func(string, []string, []any) error { return nil }, newProgress(io.Discard))
	})
}
