package sqlite_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-dev/coffer/internal/audit"
	"github.com/coffer-dev/coffer/internal/auditlog"
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
func event(t testing.TB, name string, at time.Time, id audit.UserIdentity, resources ...string) []byte {
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

func records(recs []audit.Record) func(yield func(audit.Record, error) bool) {
	return func(yield func(audit.Record, error) bool) {
		for _, r := range recs {
			if !yield(r, nil) {
				return
			}
		}
	}
}

// verifyAll reads the committed log (through AuditRecords, in pages) and
// verifies it against the head.
func verifyAll(t *testing.T, db *sqlite.DB) audit.VerifyResult {
	t.Helper()
	ctx := context.Background()
	var recs []audit.Record
	for after := uint64(0); ; {
		page, err := db.AuditRecords(ctx, after, 7)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		recs = append(recs, page...)
		after = page[len(page)-1].Seq
	}
	head, _ := db.AuditHead(ctx)
	res, err := audit.VerifyWith(records(recs), audit.VerifyOptions{Checkpoints: []audit.Checkpoint{{Size: head.Size, Root: head.Root()}}})
	if err != nil {
		t.Fatal(err)
	}
	// The whole-log iterator agrees.
	var n uint64
	for r, err := range db.AllAuditRecords(ctx) {
		if err != nil || r.Seq != n+1 {
			t.Fatalf("AllAuditRecords at %d: %v %v", n+1, r.Seq, err)
		}
		n++
	}
	if n != head.Size {
		t.Fatalf("AllAuditRecords: %d records, head %d", n, head.Size)
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
	if m, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "audit", "*.seg")); len(m) == 0 {
		t.Fatal("no segment files in <data-dir>/audit")
	}

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

// A unit whose audit record or store write cannot be written fails; the
// others of its batch commit and the chain has no gap.
func TestAuditFailingUnitsInBatch(t *testing.T) {
	ctx := context.Background()
	db := openAuditDB(t, filepath.Join(t.TempDir(), "coffer.db"))
	defer db.Close()
	var wg sync.WaitGroup
	errs := make([]error, 60)
	for i := range errs {
		wg.Go(func() {
			ctx, u := db.Begin(ctx)
			defer u.Rollback()
			body := event(t, "Good", time.Now(), root)
			switch i % 6 {
			case 0:
				body = []byte(`{"not":"closed"`) // not a record body
			case 3:
				sqlite.StageFailingWrite(ctx, db)
			case 1, 4:
				sqlite.StageWrite(ctx, db, fmt.Sprint("k", i))
			}
			if err := db.StageAudit(ctx, body); err != nil {
				errs[i] = err
				return
			}
			errs[i] = u.Commit()
		})
	}
	wg.Wait()
	for i, err := range errs {
		if (i%3 == 0) != (err != nil) {
			t.Errorf("unit %d: %v", i, err)
		}
	}
	if res := verifyAll(t, db); res.Records != 40 {
		t.Fatalf("%d records, want 40", res.Records)
	}
	for i := range errs {
		v, _ := db.Meta(ctx, fmt.Sprint("k", i))
		if (i%6 == 1 || i%6 == 4) != (v != nil) {
			t.Errorf("unit %d's store write: %q", i, v)
		}
	}
}

// Fail closed: a unit whose record cannot be written fails, and so does
// its store write; a store commit that fails erases the records; a broken
// log fails every later unit with a record until the database reopens.
func TestAuditFailClosed(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "coffer.db")
	db := openAuditDB(t, path)
	commit := func(key string, store bool) error {
		ctx, u := db.Begin(ctx)
		defer u.Rollback()
		if store {
			sqlite.StageWrite(ctx, db, key)
		}
		if err := db.StageAudit(ctx, event(t, "Put"+key, time.Now(), root)); err != nil {
			return err
		}
		return u.Commit()
	}
	if err := commit("a", true); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("disk on fire")
	sqlite.SetAuditWriteFault(db, func() error { return boom })
	if err := commit("b", true); !errors.Is(err, boom) {
		t.Fatalf("write fault: %v", err)
	}
	sqlite.SetAuditWriteFault(db, nil)
	sqlite.SetAuditCommitFault(db, func() error { return boom })
	if err := commit("c", true); !errors.Is(err, boom) {
		t.Fatalf("commit fault: %v", err)
	}
	sqlite.SetAuditCommitFault(db, nil)
	if err := commit("d", false); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]bool{"a": true, "b": false, "c": false} {
		if v, _ := db.Meta(ctx, key); (v != nil) != want {
			t.Errorf("store write %s: %q", key, v)
		}
	}
	if res := verifyAll(t, db); res.Records != 2 {
		t.Fatalf("%d records, want 2 (a and d)", res.Records)
	}
	sqlite.BreakAuditLog(db, boom)
	if err := commit("e", false); !errors.Is(err, auditlog.ErrBroken) {
		t.Fatalf("broken log: %v", err)
	}
	if err := db.StageAudit(ctx, event(t, "Own", time.Now(), root)); !errors.Is(err, auditlog.ErrBroken) {
		t.Fatalf("broken log, own unit: %v", err)
	}
	db.Close()
	db = openAuditDB(t, path)
	defer db.Close()
	if err := commit("f", true); err != nil {
		t.Fatalf("after reopening: %v", err)
	}
	if res := verifyAll(t, db); res.Records != 3 {
		t.Fatalf("%d records, want 3", res.Records)
	}
}

// A crash after a batch's records were written but before its store
// transaction committed: no unit of it was acknowledged, and recovery
// cuts its records. A batch of reads only, written before the crash,
// stays.
func TestAuditCrashBeforeStoreCommit(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "coffer.db")
	db := openAuditDB(t, path)
	ctx2, u := db.Begin(ctx)
	sqlite.StageWrite(ctx2, db, "before")
	db.StageAudit(ctx2, event(t, "PutBefore", time.Now(), root))
	if err := u.Commit(); err != nil {
		t.Fatal(err)
	}
	db.StageAudit(ctx, event(t, "GetBefore", time.Now(), root))
	crash := errors.New("crash")
	// The "crash": the transaction fails and the log is left as it is.
	sqlite.SetAuditCommitFault(db, func() error { sqlite.BreakAuditLogLocked(db, crash); return crash })
	ctx3, u3 := db.Begin(ctx)
	sqlite.StageWrite(ctx3, db, "lost")
	db.StageAudit(ctx3, event(t, "PutLost", time.Now(), root))
	if err := u3.Commit(); err == nil {
		t.Fatal("the crashed unit was acknowledged")
	}
	db.Close()
	// Its frames are in the log file …
	var n int
	for it, err := range auditlog.Frames(sqlite.AuditDir(path), auditlog.ReadOptions{StoreBatch: auditlog.NoStoreBatch}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		_ = it
	}
	if n != 3 {
		t.Fatalf("%d frames before recovery, want 3", n)
	}
	// … and recovery cuts them.
	db = openAuditDB(t, path)
	defer db.Close()
	if res := verifyAll(t, db); res.Records != 2 {
		t.Fatalf("%d records after recovery, want 2", res.Records)
	}
	if v, _ := db.Meta(ctx, "lost"); v != nil {
		t.Error("the crashed unit's write is there")
	}
}

func TestAuditDamagedLogRefused(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "coffer.db")
	db := openAuditDB(t, path)
	for range 3 {
		db.StageAudit(ctx, event(t, "Op", time.Now(), root))
	}
	db.Close() // the index's last pass stores the chain state
	raw, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()

	// Without its state the chain is rebuilt from the log.
	if _, err := raw.Exec("DELETE FROM audit_log"); err != nil {
		t.Fatal(err)
	}
	db = openAuditDB(t, path)
	if h, _ := db.AuditHead(ctx); h.Size != 3 {
		t.Fatalf("rebuilt head %d", h.Size)
	}
	db.StageAudit(ctx, event(t, "Op", time.Now(), root))
	db.Close()
	var state []byte
	var seg, off int64
	if err := raw.QueryRow("SELECT state, last_seg, last_off FROM audit_log").Scan(&state, &seg, &off); err != nil {
		t.Fatal(err)
	}
	var st audit.ChainState
	if err := st.UnmarshalBinary(state); err != nil || st.Size != 4 {
		t.Fatalf("stored state %d %v", st.Size, err)
	}

	// The record the state names was changed: the store refuses to open.
	segPath := auditlog.SegmentPath(sqlite.AuditDir(path), uint64(seg))
	orig, _ := os.ReadFile(segPath)
	b := append([]byte(nil), orig...)
	b[off+200] ^= 1
	os.WriteFile(segPath, b, 0o600)
	if _, err := sqlite.Open(path, sqlite.Options{}); err == nil || !strings.Contains(err.Error(), "audit log") {
		t.Fatalf("open of a damaged log: %v", err)
	}
	// … also when the log is gone.
	os.WriteFile(segPath, orig, 0o600)
	os.Rename(sqlite.AuditDir(path), sqlite.AuditDir(path)+".away")
	if _, err := sqlite.Open(path, sqlite.Options{}); err == nil {
		t.Fatal("opened without its log")
	}
	if err := os.Rename(sqlite.AuditDir(path)+".away", sqlite.AuditDir(path)); err != nil {
		t.Fatal(err)
	}
	db = openAuditDB(t, path)
	db.Close()
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
	// The index's username follows awsapi.AuditUsername.
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
	r, err := sqlite.OpenAuditReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, tc := range tests {
		for name, lookup := range map[string]func(ctx context.Context, key, value string, start, end time.Time, before uint64, limit int) ([]audit.Record, error){
			"db": db.LookupAudit, "reader": r.LookupAudit,
		} {
			recs, err := lookup(ctx, tc.key, tc.value, tc.start, tc.end, tc.before, tc.limit)
			if err != nil {
				t.Fatalf("%s %+v: %v", name, tc, err)
			}
			var got []uint64
			for _, r := range recs {
				got = append(got, r.Seq)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s: lookup %s=%q start=%v end=%v before=%d (-want +got):\n%s", name, tc.key, tc.value, tc.start, tc.end, tc.before, diff)
			}
		}
	}
	if _, err := db.LookupAudit(ctx, "Bogus", "x", time.Time{}, time.Time{}, 0, 5); !errors.Is(err, sqlite.ErrLookupKey) {
		t.Errorf("unknown key: %v", err)
	}
	if _, err := db.LookupAudit(ctx, "ReadOnly", "maybe", time.Time{}, time.Time{}, 0, 5); !errors.Is(err, sqlite.ErrLookupKey) {
		t.Errorf("ReadOnly=maybe: %v", err)
	}

	// The read-only reader sees the same, while the DB is open.
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
	recs, err := r.AuditRecords(ctx, 3, 10)
	if err != nil || len(recs) != 2 || recs[0].Seq != 4 {
		t.Fatalf("reader AuditRecords after 3: %v %v", recs, err)
	}
	if recs, err := r.AuditRecords(ctx, 5, 10); err != nil || len(recs) != 0 {
		t.Fatalf("reader AuditRecords after the end: %v %v", recs, err)
	}
}

// Lookups over many blocks of the index, records not indexed yet, and an
// index rebuilt from the log give the same answers.
func TestAuditIndexBlocks(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "coffer.db")
	db := openAuditDB(t, path)
	t0 := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	const n = 2600
	users := []audit.UserIdentity{root, {Type: audit.IdentityIAMUser, UserName: "bob", AccessKeyID: "AKIABOB"}}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := g; i < n; i += 4 {
				arn := fmt.Sprintf("arn:aws:secretsmanager:us-east-1:123456789012:secret:s%d-AbCdEf", i%700)
				name := "GetSecretValue"
				if i%500 == 7 {
					name = "DeleteSecret"
				}
				if err := db.StageAudit(ctx, event(t, name, t0.Add(time.Duration(i)*time.Second), users[i%2], arn)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	type q struct {
		key, value string
		start      time.Time
		limit      int
	}
	queries := []q{
		{key: "EventName", value: "DeleteSecret", limit: 50},
		{key: "ResourceName", value: "arn:aws:secretsmanager:us-east-1:123456789012:secret:s3-AbCdEf", limit: 50},
		{key: "Username", value: "bob", limit: 3},
		{key: "EventName", value: "GetSecretValue", start: t0.Add(2590 * time.Second), limit: 50},
		{limit: 1},
	}
	answer := func(lookup func(ctx context.Context, key, value string, start, end time.Time, before uint64, limit int) ([]audit.Record, error)) [][]uint64 {
		var out [][]uint64
		for _, q := range queries {
			recs, err := lookup(ctx, q.key, q.value, q.start, time.Time{}, 0, q.limit)
			if err != nil {
				t.Fatal(err)
			}
			var s []uint64
			for _, r := range recs {
				s = append(s, r.Seq)
			}
			out = append(out, s)
		}
		return out
	}
	want := answer(db.LookupAudit)
	if len(want[0]) != 6 || len(want[1]) == 0 || len(want[2]) != 3 || len(want[4]) != 1 || want[4][0] != n {
		t.Fatalf("answers: %v", want)
	}
	// Check them against a scan of the whole log.
	recs, _ := db.AuditRecords(ctx, 0, n)
	deletes := 0
	for _, r := range recs {
		if strings.Contains(string(r.Body), `"eventName":"DeleteSecret"`) {
			deletes++
		}
	}
	if deletes != len(want[0]) {
		t.Fatalf("%d deletes in the log, lookup found %d", deletes, len(want[0]))
	}
	var blocks int
	rawRead(t, path, "SELECT count(*) FROM audit_blocks", &blocks)
	if blocks < 3 {
		t.Fatalf("%d index blocks for %d records", blocks, n)
	}
	r, err := sqlite.OpenAuditReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if diff := cmp.Diff(want, answer(r.LookupAudit)); diff != "" {
		t.Errorf("reader (-db +reader):\n%s", diff)
	}
	if err := db.ReindexAudit(ctx); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, answer(db.LookupAudit)); diff != "" {
		t.Errorf("after reindex (-before +after):\n%s", diff)
	}
	db.Close()
	// An index that lost its rows (or runs ahead of the log) is rebuilt at
	// start; meanwhile the reader reads the log itself.
	raw, _ := sql.Open("sqlite3", "file:"+path)
	raw.Exec("DELETE FROM audit_blocks WHERE first_seq > 1")
	raw.Exec("UPDATE audit_blocks SET last_seq = 99999")
	raw.Close()
	db = openAuditDB(t, path)
	defer db.Close()
	if diff := cmp.Diff(want, answer(db.LookupAudit)); diff != "" {
		t.Errorf("after a rebuild at start (-before +after):\n%s", diff)
	}
}

func rawRead(t *testing.T, path, query string, dst ...any) {
	t.Helper()
	raw, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if err := raw.QueryRow(query).Scan(dst...); err != nil {
		t.Fatal(err)
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

// A database from before the segment log: its audit_records rows move
// into the log when it opens.
func TestAuditLegacyRecordsMove(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "coffer.db")
	db := openAuditDB(t, path)
	db.Close()
	os.RemoveAll(sqlite.AuditDir(path))
	raw, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	chain, _ := audit.NewChain(audit.ChainState{})
	must := func(_ sql.Result, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(raw.Exec(`CREATE TABLE audit_records (seq INTEGER PRIMARY KEY, prev BLOB NOT NULL, hash BLOB NOT NULL, body BLOB NOT NULL);
		CREATE TABLE audit_state (id INTEGER PRIMARY KEY CHECK (id = 1), state BLOB NOT NULL);
		DELETE FROM audit_log`))
	for i := range 2500 {
		r, _ := chain.Append(event(t, fmt.Sprint("Old", i), time.Now(), root))
		must(raw.Exec("INSERT INTO audit_records VALUES (?, ?, ?, ?)", r.Seq, r.Prev[:], r.Hash[:], r.Body))
	}
	rt := chain.Root()
	must(raw.Exec("INSERT INTO audit_checkpoints VALUES (?, ?, ?, ?)", chain.Size(), rt[:], []byte("note"), 0))
	raw.Close()

	db = openAuditDB(t, path)
	defer db.Close()
	if res := verifyAll(t, db); res.Records != 2500 || res.State.Root() != chain.Root() {
		t.Fatalf("moved log: %d records", res.Records)
	}
	var n int
	rawRead(t, path, "SELECT count(*) FROM sqlite_schema WHERE name IN ('audit_records', 'audit_state')", &n)
	if n != 0 {
		t.Fatal("old tables left")
	}
	if recs, err := db.LookupAudit(ctx, "EventName", "Old7", time.Time{}, time.Time{}, 0, 5); err != nil || len(recs) != 1 || recs[0].Seq != 8 {
		t.Fatalf("lookup in the moved log: %v %v", recs, err)
	}
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// TestAuditIndexFromKeys: records staged with their lookup keys
// (StageAuditKeyed, as the edge stages them) reach the index from memory;
// the rest (staged without keys, or committed before a restart) are read
// back from the log. Either way the index must be the one a rebuild from
// the log makes: the same blocks, byte for byte.
func TestAuditIndexFromKeys(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "coffer.db")
	db := openAuditDB(t, path)
	t0 := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	users := []audit.UserIdentity{root, {Type: audit.IdentityIAMUser, UserName: "bob", AccessKeyID: "AKIABOB"},
		{Type: audit.IdentityAssumedRole, ARN: "arn:aws:sts::123456789012:assumed-role/app/s1", AccessKeyID: "ASIAAPP"}}
	stage := func(from, to int) {
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Go(func() {
				for i := from + g; i < to; i += 4 {
					ev := audit.NewAPICallEvent(t0.Add(time.Duration(i) * time.Second))
					ev.EventSource, ev.EventName, ev.UserIdentity = audit.SourceSecretsManager, []string{"GetSecretValue", "DescribeSecret", "PutSecretValue"}[i%3], users[i%3]
					ev.ReadOnly = i%3 != 2
					for j := range i % 3 {
						ev.Resources = append(ev.Resources, audit.Resource{ARN: fmt.Sprintf("arn:aws:secretsmanager:us-east-1:123456789012:secret:s%d-AbCdEf", (i+j)%900), Type: "AWS::SecretsManager::Secret"})
					}
					body, err := ev.Marshal()
					if err != nil {
						t.Error(err)
						return
					}
					k, _ := ev.LookupKeys()
					if i%97 == 0 {
						err = db.StageAudit(ctx, body) // no keys: read back
					} else {
						err = db.StageAuditKeyed(ctx, body, k)
					}
					if err != nil {
						t.Error(err)
					}
				}
			})
		}
		wg.Wait()
	}
	blocks := func() string {
		if _, err := db.LookupAudit(ctx, "EventName", "x", time.Time{}, time.Time{}, 0, 1); err != nil { // brings the index up to date
			t.Fatal(err)
		}
		var s string
		rawRead(t, path, "SELECT group_concat(first_seq||' '||last_seq||' '||seg||' '||off||' '||end_seg||' '||end_off||' '||min_time||' '||max_time||' '||keys||' '||hex(bloom), char(10)) FROM (SELECT * FROM audit_blocks ORDER BY first_seq)", &s)
		return s
	}
	same := func(got, want string) {
		t.Helper()
		if got == want {
			return
		}
		g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
		for i := range min(len(g), len(w)) {
			if g[i] != w[i] {
				t.Fatalf("index built from keys and the log differs from the rebuild from the log at block %d of %d/%d:\n got %.100s\nwant %.100s", i, len(g), len(w), g[i], w[i])
			}
		}
		t.Fatalf("index built from keys and the log: %d blocks, rebuild: %d", len(g), len(w))
	}
	stage(0, 700)
	blocks() // one pass, then more records on the open block
	stage(700, 3000)
	got := blocks()
	if n := strings.Count(got, "\n") + 1; n < 3 {
		t.Fatalf("%d blocks for 3,000 records", n)
	}
	if err := db.ReindexAudit(ctx); err != nil {
		t.Fatal(err)
	}
	same(got, blocks())

	// After a restart the open block's repeat state is gone (its key count
	// can exceed a rebuild's: sizing only), so compare lookups, not bytes.
	db.Close()
	db = openAuditDB(t, path)
	defer db.Close()
	stage(3000, 4000)
	answers := func() string {
		var out strings.Builder
		for _, q := range [][2]string{{"Username", "s1"}, {"ResourceName", "arn:aws:secretsmanager:us-east-1:123456789012:secret:s5-AbCdEf"}, {"ReadOnly", "false"}, {"AccessKeyId", "AKIABOB"}, {"EventName", "DescribeSecret"}} {
			recs, err := db.LookupAudit(ctx, q[0], q[1], time.Time{}, time.Time{}, 0, 5000)
			if err != nil || len(recs) == 0 {
				t.Fatalf("%s=%s: %d records, %v", q[0], q[1], len(recs), err)
			}
			fmt.Fprintln(&out, q, len(recs), recs[0].Seq, recs[len(recs)-1].Seq)
		}
		return out.String()
	}
	before := answers()
	if err := db.ReindexAudit(ctx); err != nil {
		t.Fatal(err)
	}
	if after := answers(); before != after {
		t.Errorf("lookups before a rebuild:\n%s\nafter:\n%s", before, after)
	}
}
