package sqlite_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-dev/coffer/internal/audit"
	"github.com/coffer-dev/coffer/internal/awsapi"
	"github.com/coffer-dev/coffer/internal/sqlite"
)

func openAuditDB(t *testing.T, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(path, sqlite.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// event renders a test event.
func event(t *testing.T, name string, at time.Time, id audit.UserIdentity, resources ...string) []byte {
	t.Helper()
	ev := audit.NewAPICallEvent(at)
	ev.EventSource, ev.EventName, ev.UserIdentity = audit.SourceSecretsManager, name, id
	ev.ReadOnly = strings.HasPrefix(name, "Get")
	for _, r := range resources {
		ev.Resources = append(ev.Resources, audit.Resource{ARN: r, Type: "AWS::SecretsManager::Secret"})
	}
	b, err := ev.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func verifyAll(t *testing.T, db *sqlite.DB) audit.VerifyResult {
	t.Helper()
	recs, err := db.AuditRecords(context.Background(), 0, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	head, _ := db.AuditHead(context.Background())
	res, err := audit.VerifyWith(func(yield func(audit.Record, error) bool) {
		for _, r := range recs {
			if !yield(r, nil) {
				return
			}
		}
	}, audit.VerifyOptions{Checkpoints: []audit.Checkpoint{{Size: head.Size, Root: head.Root()}}})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

var root = audit.UserIdentity{Type: audit.IdentityRoot, ARN: "arn:aws:iam::123456789012:root", AccessKeyID: "AKIAROOT"}

func TestAuditAppendReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "coffer.db")
	db := openAuditDB(t, path)
	for i := range 5 {
		if err := db.StageAudit(ctx, event(t, fmt.Sprint("Op", i), time.Now(), root)); err != nil {
			t.Fatal(err)
		}
	}
	if res := verifyAll(t, db); res.Records != 5 {
		t.Fatalf("%d records", res.Records)
	}
	before, _ := db.AuditHead(ctx)
	db.Close()

	db = openAuditDB(t, path)
	defer db.Close()
	after, _ := db.AuditHead(ctx)
	if diff := cmp.Diff(before, after); diff != "" {
		t.Fatalf("head after reopen (-want +got):\n%s", diff)
	}
	if err := db.StageAudit(ctx, event(t, "Op5", time.Now(), root)); err != nil {
		t.Fatal(err)
	}
	if res := verifyAll(t, db); res.Records != 6 {
		t.Fatalf("%d records", res.Records)
	}
}

// A unit whose audit record cannot be written fails; the others of its
// batch commit and the chain has no gap.
func TestAuditFailingUnitsInBatch(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "coffer.db")
	db := openAuditDB(t, path)
	defer db.Close()
	raw, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`CREATE TRIGGER audit_refuse BEFORE INSERT ON audit_records
		WHEN instr(CAST(NEW.body AS TEXT), '"eventName":"Bad') > 0 BEGIN SELECT RAISE(ABORT, 'refused'); END`); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 40)
	for i := range errs {
		wg.Go(func() {
			name := "Good"
			if i%4 == 0 {
				name = "Bad"
			}
			ctx, u := db.Begin(ctx)
			defer u.Rollback()
			if err := db.StageAudit(ctx, event(t, name, time.Now(), root)); err != nil {
				errs[i] = err
				return
			}
			errs[i] = u.Commit()
		})
	}
	wg.Wait()
	for i, err := range errs {
		if (i%4 == 0) != (err != nil) {
			t.Errorf("unit %d: %v", i, err)
		}
	}
	if res := verifyAll(t, db); res.Records != 30 {
		t.Fatalf("%d records, want 30", res.Records)
	}
}

func TestAuditDamagedLogRefused(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "coffer.db")
	db := openAuditDB(t, path)
	for range 3 {
		db.StageAudit(ctx, event(t, "Op", time.Now(), root))
	}
	db.Close()
	raw, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()

	// Without its state the chain is rebuilt from the records.
	if _, err := raw.Exec("DELETE FROM audit_state"); err != nil {
		t.Fatal(err)
	}
	db = openAuditDB(t, path)
	if h, _ := db.AuditHead(ctx); h.Size != 3 {
		t.Fatalf("rebuilt head %d", h.Size)
	}
	db.StageAudit(ctx, event(t, "Op", time.Now(), root))
	db.Close()

	// A record that does not match the state: the server refuses to append.
	if _, err := raw.Exec("DELETE FROM audit_records WHERE seq = 4"); err != nil {
		t.Fatal(err)
	}
	if _, err := sqlite.Open(path, sqlite.Options{}); err == nil || !strings.Contains(err.Error(), "audit log") {
		t.Fatalf("open of a damaged log: %v", err)
	}
	// … also when the state is gone and the chain is broken.
	raw.Exec("DELETE FROM audit_state")
	raw.Exec("UPDATE audit_records SET body = CAST(replace(CAST(body AS TEXT), 'Op', 'Oq') AS BLOB) WHERE seq = 2")
	if _, err := sqlite.Open(path, sqlite.Options{}); err == nil {
		t.Fatal("opened a tampered log")
	}
}

func TestAuditLookup(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "coffer.db")
	db := openAuditDB(t, path)
	defer db.Close()
	t0 := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	alice := audit.UserIdentity{Type: audit.IdentityIAMUser, UserName: "alice", ARN: "arn:aws:iam::123456789012:user/alice", AccessKeyID: "AKIAALICE"}
	role := audit.UserIdentity{Type: audit.IdentityAssumedRole, ARN: "arn:aws:sts::123456789012:assumed-role/app/session-7", AccessKeyID: "ASIASESSION"}
	anon := audit.UserIdentity{Type: audit.IdentityUnknown, AccessKeyID: "AKIAUNKNOWN"}
	const a, b = "arn:aws:secretsmanager:us-east-1:123456789012:secret:a-AAAAAA", "arn:aws:secretsmanager:us-east-1:123456789012:secret:b-BBBBBB"
	bodies := [][]byte{
		event(t, "CreateSecret", t0, root, a),                         // 1
		event(t, "GetSecretValue", t0.Add(time.Minute), alice, a),     // 2
		event(t, "GetSecretValue", t0.Add(2*time.Minute), role, b),    // 3
		event(t, "PutSecretValue", t0.Add(3*time.Minute), root, a, b), // 4
		event(t, "GetSecretValue", t0.Add(4*time.Minute), anon),       // 5
	}
	var ids []string
	for _, body := range bodies {
		if err := db.StageAudit(ctx, body); err != nil {
			t.Fatal(err)
		}
		var ev audit.Event
		if err := jsonUnmarshal(body, &ev); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, ev.EventID)
	}
	// The view's username follows awsapi.AuditUsername.
	for _, u := range []audit.UserIdentity{root, alice, role, anon} {
		want := awsapi.AuditUsername(&u)
		if want == "" {
			continue
		}
		recs, err := db.LookupAudit(ctx, "Username", want, time.Time{}, time.Time{}, 0, 50)
		if err != nil || len(recs) == 0 {
			t.Errorf("Username %q: %d records, %v", want, len(recs), err)
		}
	}
	tests := []struct {
		key, value string
		start, end time.Time
		before     uint64
		limit      int
		want       []uint64
	}{
		{want: []uint64{5, 4, 3, 2, 1}},
		{limit: 2, want: []uint64{5, 4}},
		{before: 4, limit: 2, want: []uint64{3, 2}},
		{key: "EventName", value: "GetSecretValue", want: []uint64{5, 3, 2}},
		{key: "EventId", value: ids[2], want: []uint64{3}},
		{key: "ReadOnly", value: "false", want: []uint64{4, 1}},
		{key: "ReadOnly", value: "true", want: []uint64{5, 3, 2}},
		{key: "Username", value: "root", want: []uint64{4, 1}},
		{key: "Username", value: "alice", want: []uint64{2}},
		{key: "Username", value: "session-7", want: []uint64{3}},
		{key: "AccessKeyId", value: "AKIAUNKNOWN", want: []uint64{5}},
		{key: "EventSource", value: "secretsmanager.amazonaws.com", limit: 1, want: []uint64{5}},
		{key: "ResourceName", value: a, want: []uint64{4, 2, 1}},
		{key: "ResourceName", value: b, want: []uint64{4, 3}},
		{key: "ResourceType", value: "AWS::SecretsManager::Secret", before: 3, want: []uint64{2, 1}},
		{start: t0.Add(time.Minute), end: t0.Add(3 * time.Minute), want: []uint64{4, 3, 2}},
		{key: "EventName", value: "GetSecretValue", start: t0.Add(90 * time.Second), want: []uint64{5, 3}},
		{key: "EventName", value: "NoSuch", want: nil},
	}
	for _, tc := range tests {
		recs, err := db.LookupAudit(ctx, tc.key, tc.value, tc.start, tc.end, tc.before, tc.limit)
		if err != nil {
			t.Fatalf("%+v: %v", tc, err)
		}
		var got []uint64
		for _, r := range recs {
			got = append(got, r.Seq)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("lookup %s=%q start=%v end=%v before=%d (-want +got):\n%s", tc.key, tc.value, tc.start, tc.end, tc.before, diff)
		}
	}
	if _, err := db.LookupAudit(ctx, "Bogus", "x", time.Time{}, time.Time{}, 0, 5); !errors.Is(err, sqlite.ErrLookupKey) {
		t.Errorf("unknown key: %v", err)
	}

	// The read-only reader sees the same, while the DB is open.
	r, err := sqlite.OpenAuditReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	recs, err := r.LookupAudit(ctx, "ResourceName", b, time.Time{}, time.Time{}, 0, 10)
	if err != nil || len(recs) != 2 {
		t.Fatalf("reader lookup: %d, %v", len(recs), err)
	}
	head, ok, err := r.AuditHead(ctx)
	if err != nil || !ok || head.Size != 5 {
		t.Fatalf("reader head: %v %v %v", head.Size, ok, err)
	}
	var n int
	for _, err := range r.AllAuditRecords(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 5 {
		t.Fatalf("reader iterated %d records", n)
	}
}

func TestAuditCheckpoints(t *testing.T) {
	ctx := context.Background()
	db := openAuditDB(t, filepath.Join(t.TempDir(), "coffer.db"))
	defer db.Close()
	if note, err := db.LatestAuditCheckpoint(ctx); note != nil || err != nil {
		t.Fatal(note, err)
	}
	for _, size := range []uint64{3, 7, 5} {
		if err := db.PutAuditCheckpoint(ctx, size, [32]byte{byte(size)}, []byte(fmt.Sprint("note ", size))); err != nil {
			t.Fatal(err)
		}
	}
	note, err := db.LatestAuditCheckpoint(ctx)
	if err != nil || string(note) != "note 7" {
		t.Fatalf("latest: %q %v", note, err)
	}
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
