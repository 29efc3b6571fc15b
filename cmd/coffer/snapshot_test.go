package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-dev/coffer/internal/audit"
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
	read, _, err := writeBackup(context.Background(), db, "sqlite", &buf, newProgress(io.Discard))
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
		"wrong version":   strings.Replace(string(file), `"version":2`, `"version":9`, 1),
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
	if _, _, err := writeBackup(context.Background(), db, "sqlite", &buf, newProgress(io.Discard)); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	fillAudit(f, db, 3) // with an audit log
	buf.Reset()
	if _, _, err := writeBackup(context.Background(), db, "sqlite", &buf, newProgress(io.Discard)); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte(`{"format":"coffer-snapshot","version":1}` + "\n" + `{"table":"t","columns":["a","b"],"types":"ib","rows":1}` + "\n" + `[1,"AAE="]` + "\n" + `{"end":true,"tables":[]}` + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		readBackup(bytes.NewReader(data), func(string, []string, []any) error { return nil }, newProgress(io.Discard))
	})
}

// fillAudit records n audit events (every third one about secret "a")
// and signs checkpoints after the first half and at the end.
func fillAudit(t testing.TB, db *sqlite.DB, n int) {
	t.Helper()
	ctx := context.Background()
	seed := sha256.Sum256([]byte("snapshot test"))
	signer, err := audit.NewSigner(seed[:])
	if err != nil {
		t.Fatal(err)
	}
	sign := func() {
		head, err := db.AuditHead(ctx)
		if err != nil {
			t.Fatal(err)
		}
		note, err := signer.SignCheckpoint(audit.Checkpoint{Origin: "coffer-audit/test", Size: head.Size, Root: head.Root()})
		if err != nil {
			t.Fatal(err)
		}
		if err := db.PutAuditCheckpoint(ctx, head.Size, head.Root(), note); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		ev := audit.NewAPICallEvent(time.Now())
		ev.EventSource, ev.EventName = audit.SourceSecretsManager, fmt.Sprint("Op", i)
		if i%3 == 0 {
			ev.Resources = []audit.Resource{{ARN: "arn:a", Type: "AWS::SecretsManager::Secret"}}
		}
		body, err := ev.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if err := db.StageAudit(ctx, body); err != nil {
			t.Fatal(err)
		}
		if i == n/2 {
			sign()
		}
	}
	sign()
}

type logState struct {
	Records     []audit.Record
	Checkpoints []audit.StoredCheckpoint
	Lookup      []audit.Record
}

// logOf reads a data dir's audit log (the store must not be open).
func logOf(t *testing.T, dir string) logState {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(filepath.Join(dir, "coffer.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var st logState
	for r, err := range db.AllAuditRecords(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		st.Records = append(st.Records, r)
	}
	if st.Checkpoints, err = db.AuditCheckpoints(ctx); err != nil {
		t.Fatal(err)
	}
	if st.Lookup, err = db.LookupAudit(ctx, "ResourceName", "arn:a", time.Time{}, time.Time{}, 0, 100); err != nil {
		t.Fatal(err)
	}
	return st
}

func runCmd(t *testing.T, cmd func(context.Context, []string, io.Writer, io.Writer) error, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := cmd(context.Background(), args, &out, &errOut)
	if err != nil {
		errOut.WriteString(err.Error())
	}
	return out.String() + errOut.String(), err
}

// Backups, restores and migrations carry the audit log, check it, and
// never replace one.
func TestCopyAuditLog(t *testing.T) {
	src := t.TempDir()
	db, err := sqlite.Open(filepath.Join(src, "coffer.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fill(t, db)
	fillAudit(t, db, 30)
	db.Close()
	want := logOf(t, src)
	if len(want.Records) != 30 || len(want.Checkpoints) != 2 || len(want.Lookup) != 10 {
		t.Fatalf("source log: %d records, %d checkpoints, %d looked up", len(want.Records), len(want.Checkpoints), len(want.Lookup))
	}
	same := func(what, dir string) {
		t.Helper()
		if d := cmp.Diff(want, logOf(t, dir), cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); d != "" {
			t.Fatalf("%s: audit log differs (-source +copy):\n%s", what, d)
		}
	}

	file := filepath.Join(t.TempDir(), "b")
	if out, err := runCmd(t, runBackup, "--data-dir", src, "--out", file); err != nil {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	dst := t.TempDir()
	out, err := runCmd(t, runRestore, "--data-dir", dst, "--in", file)
	if err != nil || !strings.Contains(out, "audit log                  30") || strings.Contains(out, "MISMATCH") {
		t.Fatalf("restore: %v\n%s", err, out)
	}
	same("restored", dst)
	// Again with --force: the data is replaced, the log (the same) kept.
	if out, err := runCmd(t, runRestore, "--data-dir", dst, "--in", file, "--force"); err != nil {
		t.Fatalf("restore --force over the same log: %v\n%s", err, out)
	}
	same("restored twice", dst)

	// Another log is never replaced.
	other := t.TempDir()
	odb, err := sqlite.Open(filepath.Join(other, "coffer.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fillAudit(t, odb, 3)
	odb.Close()
	if out, err := runCmd(t, runRestore, "--data-dir", other, "--in", file, "--force"); err == nil || !strings.Contains(out, "another audit log") {
		t.Fatalf("restore over another log: %v\n%s", err, out)
	}

	// A damaged audit section loads nothing.
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for name, damaged := range map[string][]byte{
		"edited record":     bytes.Replace(b, []byte(`"eventName":"Op7"`), []byte(`"eventName":"Op8"`), 1),
		"dropped record":    bytes.Replace(b, []byte(strings.SplitAfter(string(b), "\n")[5]), nil, 1),
		"edited checkpoint": bytes.Replace(b, []byte(`{"size":16,`), []byte(`{"size":15,`), 1),
	} {
		if bytes.Equal(damaged, b) {
			t.Fatalf("%s: the case does not change the file", name)
		}
		f := filepath.Join(t.TempDir(), "damaged")
		if err := os.WriteFile(f, damaged, 0o600); err != nil {
			t.Fatal(err)
		}
		d := t.TempDir()
		if out, err := runCmd(t, runRestore, "--data-dir", d, "--in", f); err == nil || !strings.Contains(out, "nothing was restored") {
			t.Fatalf("%s: restore: %v\n%s", name, err, out)
		}
		if _, err := os.Stat(filepath.Join(d, "coffer.db")); err == nil {
			t.Fatalf("%s: a store was created", name)
		}
	}

	// migrate (SQLite → SQLite here; PostgreSQL in test/integration).
	mdst := filepath.Join(t.TempDir(), "m")
	if out, err := runCmd(t, runMigrate, "--from", "sqlite://"+src, "--to", "sqlite://"+mdst); err != nil || strings.Contains(out, "MISMATCH") {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	same("migrated", mdst)
}
