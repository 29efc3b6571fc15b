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
	"github.com/coffer-dev/coffer/internal/auditlog"
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

// copyDir copies a stopped server's data directory (with the audit log).
func copyDir(t *testing.T, from string) string {
	t.Helper()
	to := t.TempDir()
	err := filepath.WalkDir(from, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o700)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
	return to
}

// logFrame is one frame of a data directory's audit log.
type logFrame struct {
	seq  uint64
	pos  auditlog.Pos
	size int
}

// logFrames lists the frames of the audit log in dir (one segment here).
func logFrames(t *testing.T, dataDir string) []logFrame {
	t.Helper()
	var out []logFrame
	for it, err := range auditlog.Frames(filepath.Join(dataDir, "audit"), auditlog.ReadOptions{StoreBatch: auditlog.NoStoreBatch}) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, logFrame{seq: it.Record.Seq, pos: it.Pos, size: it.Size})
	}
	return out
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
	frames := logFrames(t, s.DataDir)
	if len(frames) != n {
		t.Fatalf("%d frames in the log", len(frames))
	}
	seg := frames[0].pos.Seg
	for _, f := range frames {
		if f.pos.Seg != seg {
			t.Fatal("the session's log spans segments")
		}
	}
	// frame returns the bytes of record seq's frame in the segment.
	frame := func(b []byte, seq int) []byte {
		f := frames[seq-1]
		return b[f.pos.Off : f.pos.Off+int64(f.size)]
	}
	tamper := func(name string, wantSeq int, wantReason string, edit func(b []byte) []byte, sqls ...string) {
		t.Run(name, func(t *testing.T) {
			dir := copyDir(t, s.DataDir)
			path := auditlog.SegmentPath(filepath.Join(dir, "audit"), seg)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			size := len(b)
			b = edit(b)
			b = append(b, make([]byte, max(0, size-len(b)))...) // a segment keeps its size
			if err := os.WriteFile(path, b, 0o600); err != nil {
				t.Fatal(err)
			}
			if len(sqls) > 0 {
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
			}
			expectVerify(t, name, wantSeq, wantReason, "--data-dir", dir)
			expectVerify(t, name+" (exported checkpoint)", wantSeq, wantReason, "--data-dir", dir, "--checkpoint", cp)
		})
	}
	// One byte of record 5's body: "eventVersion" → "eventVersiom".
	tamper("flip a byte", 5, "hash mismatch", func(b []byte) []byte {
		f := frame(b, 5)
		copy(f[bytes.Index(f, []byte("eventVersion")):], "eventVersiom")
		return b
	})
	tamper("delete a record", 7, "gap", func(b []byte) []byte {
		f := frames[6]
		return append(b[:f.pos.Off:f.pos.Off], b[f.pos.Off+int64(f.size):]...)
	})
	tamper("swap two records", 4, "out of order", func(b []byte) []byte {
		out := append([]byte(nil), b[:frames[3].pos.Off]...)
		out = append(out, frame(b, 6)...)
		out = append(out, frame(b, 5)...)
		out = append(out, frame(b, 4)...)
		return append(out, b[frames[5].pos.Off+int64(frames[5].size):]...)
	})
	cut := func(b []byte) []byte { clear(b[frames[n-2].pos.Off:]); return b }
	tamper("truncate the tail", n-1, "truncated", cut)
	tamper("truncate the tail and its state", n-1, "truncated", cut, `DELETE FROM audit_log`)

	// A rewrite that recomputes the whole chain and the state, and removes
	// the stored checkpoints, passes the store's own chain check but not the
	// exported signed checkpoint.
	t.Run("rewrite the chain", func(t *testing.T) {
		dir := copyDir(t, s.DataDir)
		logDir := filepath.Join(dir, "audit")
		var its []auditlog.Item
		for it, err := range auditlog.Frames(logDir, auditlog.ReadOptions{StoreBatch: auditlog.NoStoreBatch}) {
			if err != nil {
				t.Fatal(err)
			}
			it.Record.Body = bytes.Clone(it.Record.Body)
			its = append(its, it)
		}
		its[2].Record.Body = bytes.Replace(its[2].Record.Body, []byte("eventVersion"), []byte("eventVersiom"), 1)
		chain, _ := audit.NewChain(audit.ChainState{})
		path := auditlog.SegmentPath(logDir, seg)
		b, _ := os.ReadFile(path)
		for _, it := range its {
			r, err := chain.Append(it.Record.Body)
			if err != nil {
				t.Fatal(err)
			}
			copy(b[it.Pos.Off:], auditlog.AppendFrame(nil, it.Flags, it.Batch, &r))
		}
		os.WriteFile(path, b, 0o600)
		db, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, "coffer.db"))
		if err != nil {
			t.Fatal(err)
		}
		st, _ := chain.State().MarshalBinary()
		last := its[len(its)-1].Pos
		db.Exec("UPDATE audit_log SET state = ?, last_seg = ?, last_off = ?", st, int64(last.Seg), last.Off)
		db.Exec("DELETE FROM audit_checkpoints")
		db.Close()
		out, _, code := cofferRun(t, nil, "audit", "verify", "--data-dir", dir)
		if code != 0 || !strings.Contains(out, "no signed checkpoint") {
			t.Errorf("rewritten store without checkpoints: %d\n%s", code, out)
		}
		expectVerify(t, "rewritten chain", n, "root mismatch", "--data-dir", dir, "--checkpoint", cp)
		// The rewritten log is consistent: a server opens it.
		s2 := startServer(t, serverOpts{dataDir: dir})
		s2.stop(syscall.SIGTERM)
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
