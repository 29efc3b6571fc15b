package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coffer-dev/coffer/internal/audit"
)

func TestCheckpointFile(t *testing.T) {
	note := []byte("coffer-audit/1/us-east-1\n3\nAAAA\n\n— coffer-audit/1/us-east-1 c2ln\n")
	vkey, got, err := parseCheckpointFile(formatCheckpointFile("name+01020304+AQID", note))
	if err != nil || vkey != "name+01020304+AQID" || string(got) != string(note) {
		t.Fatalf("round trip: %q %q %v", vkey, got, err)
	}
	for _, bad := range []string{"", "just a line\n", "key\n\n"} {
		if _, _, err := parseCheckpointFile([]byte(bad)); err == nil {
			t.Errorf("parsed %q", bad)
		}
	}
}

func TestParseSince(t *testing.T) {
	now := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"":                     {},
		"1h":                   now.Add(-time.Hour),
		"2024-01-01T00:00:00Z": time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		got, err := parseSince(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("parseSince(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := parseSince("yesterday", now); err == nil {
		t.Error("parsed yesterday")
	}
}

func TestAuditFlagsCheck(t *testing.T) {
	ok := auditFlags{mode: "on", checkpointEvery: time.Minute, checkpointRecords: 1}
	if err := ok.check(); err != nil {
		t.Fatal(err)
	}
	for _, f := range []auditFlags{
		{mode: "maybe", checkpointEvery: time.Minute, checkpointRecords: 1},
		{mode: "on", checkpointRecords: 1},
		{mode: "off", checkpointEvery: time.Minute},
	} {
		if f.check() == nil {
			t.Errorf("accepted %+v", f)
		}
	}
}

// The server's audit runtime mirrors every committed record to the file
// and stdout sinks in order and signs checkpoints, under concurrent load.
func TestAuditRuntime(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	app, err := openApp(ctx, appConfig{dataDir: dir, log: log})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	db := app.db.(auditStorage)
	var stdout syncWriter
	mirror := filepath.Join(dir, "audit.jsonl")
	cfg, rt, err := app.startAudit(ctx, auditFlags{mode: "on", file: mirror, fileMaxBytes: 4096, fileKeep: 100, stdout: true,
		checkpointEvery: 5 * time.Millisecond, checkpointRecords: 7}, &stdout)
	if err != nil {
		t.Fatal(err)
	}
	if cfg == nil || cfg.Hasher == nil {
		t.Fatal("no audit config")
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 25 {
				ev := audit.NewAPICallEvent(time.Now())
				ev.EventName = fmt.Sprint("Op", g, "-", i)
				body, _ := ev.Marshal()
				if err := db.StageAudit(ctx, body); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	rt.Close()
	rt.Close() // idempotent

	head, _ := db.AuditHead(ctx)
	if head.Size != 200 {
		t.Fatalf("head %d", head.Size)
	}
	note, err := db.LatestAuditCheckpoint(ctx)
	if err != nil || note == nil {
		t.Fatalf("no checkpoint: %v", err)
	}
	res, err := audit.Verify(audit.ReadFiles(mirror), note, rt.signer.PublicKey())
	if err != nil || res.Records != 200 || res.CheckpointSize != 200 {
		t.Fatalf("file mirror: %+v %v", res, err)
	}
	res, err = audit.Verify(audit.ReadRecords(strings.NewReader(stdout.String())), note, rt.signer.PublicKey())
	if err != nil || res.Records != 200 {
		t.Fatalf("stdout mirror: %+v %v", res, err)
	}
	// A restarted runtime resumes the file mirror where it ended.
	_, rt2, err := app.startAudit(ctx, auditFlags{mode: "on", file: mirror, fileMaxBytes: 4096, fileKeep: 100,
		checkpointEvery: time.Hour, checkpointRecords: 1000}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ev := audit.NewAPICallEvent(time.Now())
	body, _ := ev.Marshal()
	db.StageAudit(ctx, body)
	rt2.Close()
	note, _ = db.LatestAuditCheckpoint(ctx)
	if res, err := audit.Verify(audit.ReadFiles(mirror), note, rt.signer.PublicKey()); err != nil || res.Records != 201 {
		t.Fatalf("resumed mirror: %+v %v", res, err)
	}
	// --audit=off: no config, no runtime.
	if cfg, rt, err := app.startAudit(ctx, auditFlags{mode: "off", checkpointEvery: time.Minute, checkpointRecords: 1}, io.Discard); cfg != nil || rt != nil || err != nil {
		t.Fatalf("audit off: %v %v %v", cfg, rt, err)
	}
}

type syncWriter struct {
	mu sync.Mutex
	b  strings.Builder
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}
