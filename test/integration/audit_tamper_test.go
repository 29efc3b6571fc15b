package integration

import (
	"bytes"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	_ "github.com/mattn/go-sqlite3"

	"github.com/coffer-dev/coffer/internal/audit"
)

// auditSession runs a scripted session against a server with a JSON Lines
// mirror, stops it (which signs a final checkpoint) and exports that
// checkpoint. It returns the stopped server and the checkpoint file.
func auditSession(t *testing.T) (*server, string) {
	t.Helper()
	dir := t.TempDir()
	s := startServer(t, serverOpts{dataDir: dir, args: []string{"--audit-file", filepath.Join(dir, "audit.jsonl")}})
	c := ctx(t)
	sm := s.sm()
	if _, err := sm.CreateSecret(c, &secretsmanager.CreateSecretInput{Name: aws.String("t/app"), SecretString: aws.String("v1")}); err != nil {
		t.Fatal(err)
	}
	for i := range 8 {
		if _, err := sm.PutSecretValue(c, &secretsmanager.PutSecretValueInput{SecretId: aws.String("t/app"), SecretString: aws.String(fmt.Sprint("v", i+2))}); err != nil {
			t.Fatal(err)
		}
		if _, err := sm.GetSecretValue(c, &secretsmanager.GetSecretValueInput{SecretId: aws.String("t/app")}); err != nil {
			t.Fatal(err)
		}
	}
	s.stop(syscall.SIGTERM)
	cp := filepath.Join(t.TempDir(), "checkpoint.txt")
	if _, errOut, code := cofferRun(t, nil, "audit", "checkpoint", "--data-dir", dir, "--out", cp); code != 0 {
		t.Fatalf("coffer audit checkpoint: %d %s", code, errOut)
	}
	return s, cp
}

// copyDir copies a stopped server's data directory.
func copyDir(t *testing.T, from string) string {
	t.Helper()
	to := t.TempDir()
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return to
}

var firstBadRE = regexp.MustCompile(`first bad record: seq (\d+) \(([a-z ]+)\)`)

// expectVerify runs coffer audit verify and checks the outcome: "" for an
// intact log, else the first bad seq and reason it must report.
func expectVerify(t *testing.T, what string, wantSeq int, wantReason string, args ...string) {
	t.Helper()
	out, errOut, code := cofferRun(t, nil, append([]string{"audit", "verify"}, args...)...)
	if wantReason == "" {
		if code != 0 || !strings.HasPrefix(out, "OK:") {
			t.Errorf("%s: verify failed (%d):\n%s%s", what, code, out, errOut)
		}
		return
	}
	m := firstBadRE.FindStringSubmatch(out)
	if code == 0 || m == nil || m[1] != fmt.Sprint(wantSeq) || m[2] != wantReason {
		t.Errorf("%s: verify exit %d, want failure at seq %d (%s):\n%s%s", what, code, wantSeq, wantReason, out, errOut)
	}
}

func TestAuditTamperStore(t *testing.T) {
	s, cp := auditSession(t)
	const n = 17 // 1 create + 8 × (put, get)
	expectVerify(t, "untouched store", 0, "", "--data-dir", s.DataDir)
	expectVerify(t, "untouched store, exported checkpoint", 0, "", "--data-dir", s.DataDir, "--checkpoint", cp)

	tamper := func(name string, wantSeq int, wantReason string, sqls ...string) {
		t.Run(name, func(t *testing.T) {
			dir := copyDir(t, s.DataDir)
			db, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, "coffer.db"))
			if err != nil {
				t.Fatal(err)
			}
			for _, q := range sqls {
				if _, err := db.Exec(q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			db.Close()
			expectVerify(t, name, wantSeq, wantReason, "--data-dir", dir)
			expectVerify(t, name+" (exported checkpoint)", wantSeq, wantReason, "--data-dir", dir, "--checkpoint", cp)
		})
	}
	// One byte of record 5's body: "eventVersion" → "eventVersiom".
	tamper("flip a byte", 5, "hash mismatch",
		`UPDATE audit_records SET body = CAST(replace(CAST(body AS TEXT), 'eventVersion', 'eventVersiom') AS BLOB) WHERE seq = 5`)
	tamper("delete a record", 7, "gap", `DELETE FROM audit_records WHERE seq = 7`)
	tamper("swap two records", 4, "broken chain",
		`UPDATE audit_records SET seq = -seq WHERE seq IN (4, 6)`,
		`UPDATE audit_records SET seq = 6 WHERE seq = -4`,
		`UPDATE audit_records SET seq = 4 WHERE seq = -6`)
	tamper("truncate the tail", n-1, "truncated", fmt.Sprintf(`DELETE FROM audit_records WHERE seq >= %d`, n-1))
	tamper("truncate the tail and its state", n-1, "truncated", fmt.Sprintf(`DELETE FROM audit_records WHERE seq >= %d`, n-1), `DELETE FROM audit_state`)

	// A rewrite that recomputes the whole chain and the state, and removes
	// the stored checkpoints, passes the store's own chain check but not the
	// exported signed checkpoint.
	t.Run("rewrite the chain", func(t *testing.T) {
		dir := copyDir(t, s.DataDir)
		db, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, "coffer.db"))
		if err != nil {
			t.Fatal(err)
		}
		rows, err := db.Query("SELECT body FROM audit_records ORDER BY seq")
		if err != nil {
			t.Fatal(err)
		}
		var bodies [][]byte
		for rows.Next() {
			var b []byte
			rows.Scan(&b)
			bodies = append(bodies, b)
		}
		rows.Close()
		bodies[2] = bytes.Replace(bodies[2], []byte("eventVersion"), []byte("eventVersiom"), 1)
		chain, _ := audit.NewChain(audit.ChainState{})
		for _, b := range bodies {
			r, err := chain.Append(b)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec("UPDATE audit_records SET prev = ?, hash = ?, body = ? WHERE seq = ?", r.Prev[:], r.Hash[:], r.Body, r.Seq); err != nil {
				t.Fatal(err)
			}
		}
		st, _ := chain.State().MarshalBinary()
		db.Exec("UPDATE audit_state SET state = ?", st)
		db.Exec("DELETE FROM audit_checkpoints")
		db.Close()
		out, _, code := cofferRun(t, nil, "audit", "verify", "--data-dir", dir)
		if code != 0 || !strings.Contains(out, "no signed checkpoint") {
			t.Errorf("rewritten store without checkpoints: %d\n%s", code, out)
		}
		expectVerify(t, "rewritten chain", n, "root mismatch", "--data-dir", dir, "--checkpoint", cp)
	})
}

func TestAuditTamperMirror(t *testing.T) {
	s, cp := auditSession(t)
	mirror := filepath.Join(s.DataDir, "audit.jsonl")
	orig, err := os.ReadFile(mirror)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(orig), "\n")
	lines = lines[:len(lines)-1] // after the final newline
	n := len(lines)
	if n != 17 {
		t.Fatalf("mirror has %d records", n)
	}
	expectVerify(t, "untouched mirror", 0, "", "--file", mirror, "--checkpoint", cp)
	expectVerify(t, "untouched mirror, store checkpoint", 0, "", "--file", mirror, "--data-dir", s.DataDir)

	tamper := func(name string, wantSeq int, wantReason string, edit func(l []string) []string) {
		t.Run(name, func(t *testing.T) {
			f := filepath.Join(t.TempDir(), "audit.jsonl")
			if err := os.WriteFile(f, []byte(strings.Join(edit(append([]string(nil), lines...)), "")), 0o600); err != nil {
				t.Fatal(err)
			}
			expectVerify(t, name, wantSeq, wantReason, "--file", f, "--checkpoint", cp)
		})
	}
	tamper("flip a byte", 3, "hash mismatch", func(l []string) []string {
		b := []byte(l[2])
		i := bytes.Index(b, []byte(`"eventName":"`)) + len(`"eventName":"`)
		b[i] ^= 0x20 // change a letter's case
		l[2] = string(b)
		return l
	})
	tamper("delete a record", 4, "gap", func(l []string) []string { return append(l[:3], l[4:]...) })
	tamper("swap two records", 3, "out of order", func(l []string) []string { l[2], l[4] = l[4], l[2]; return l })
	tamper("truncate the tail", n-2, "truncated", func(l []string) []string { return l[:n-3] })
}
