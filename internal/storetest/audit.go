package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-dev/coffer/internal/audit"
	"github.com/coffer-dev/coffer/internal/secrets"
)

// AuditStore is the audit sink contract (see internal/sqlite/audit.go)
// with the three methods that copy a log between stores.
type AuditStore interface {
	StageAudit(ctx context.Context, body []byte) error
	LookupAudit(ctx context.Context, key, value string, start, end time.Time, before uint64, limit int) ([]audit.Record, error)
	AuditRecords(ctx context.Context, after uint64, limit int) ([]audit.Record, error)
	AuditHead(ctx context.Context) (audit.ChainState, error)
	PutAuditCheckpoint(ctx context.Context, size uint64, root [32]byte, note []byte) error
	LatestAuditCheckpoint(ctx context.Context) ([]byte, error)
	AuditCommitted() <-chan struct{}

	AuditCheckpoints(ctx context.Context) ([]audit.StoredCheckpoint, error)
	AllAuditRecords(ctx context.Context) iter.Seq2[audit.Record, error]
	ImportAudit(ctx context.Context, recs iter.Seq2[audit.Record, error], cps []audit.StoredCheckpoint) error
}

// auditEv describes a test event.
type auditEv struct {
	name, source string
	readOnly     bool
	user         audit.UserIdentity
	at           time.Time
	resources    []audit.Resource
}

var (
	evRoot    = audit.UserIdentity{Type: audit.IdentityRoot, ARN: "arn:aws:iam::123456789012:root", AccessKeyID: "AKIAROOTROOTROOT0001"}
	evAlice   = audit.UserIdentity{Type: audit.IdentityIAMUser, ARN: "arn:aws:iam::123456789012:user/alice", UserName: "alice", AccessKeyID: "AKIAALICEALICE000001"}
	evSession = audit.UserIdentity{Type: audit.IdentityAssumedRole, ARN: "arn:aws:sts::123456789012:assumed-role/app/build-42", AccessKeyID: "ASIASESSIONSESSION01"}
)

// body renders e with a fresh event ID.
func (e auditEv) body(t *testing.T) []byte {
	t.Helper()
	ev := audit.NewAPICallEvent(e.at)
	ev.EventSource, ev.EventName, ev.ReadOnly, ev.UserIdentity, ev.Resources = e.source, e.name, e.readOnly, e.user, e.resources
	if ev.EventSource == "" {
		ev.EventSource = audit.SourceSecretsManager
	}
	if e.at.IsZero() {
		ev.EventTime = audit.TimeOf(base)
	}
	b, err := ev.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func simpleEv(t *testing.T, name string) []byte { return auditEv{name: name}.body(t) }

// recSeq iterates over recs.
func recSeq(recs []audit.Record) iter.Seq2[audit.Record, error] {
	return func(yield func(audit.Record, error) bool) {
		for _, r := range recs {
			if !yield(r, nil) {
				return
			}
		}
	}
}

func stage(t *testing.T, a AuditStore, ctx context.Context, body []byte) {
	t.Helper()
	if err := a.StageAudit(ctx, body); err != nil {
		t.Fatalf("StageAudit: %v", err)
	}
}

// allRecords reads the whole log.
func allRecords(t *testing.T, a AuditStore) []audit.Record {
	t.Helper()
	var out []audit.Record
	for r, err := range a.AllAuditRecords(bg(t)) {
		if err != nil {
			t.Fatalf("AllAuditRecords: %v", err)
		}
		out = append(out, r)
	}
	return out
}

// verifyLog checks that the stored log is intact, ends at the head, and
// returns it.
func verifyLog(t *testing.T, a AuditStore) []audit.Record {
	t.Helper()
	recs := allRecords(t, a)
	head, err := a.AuditHead(bg(t))
	if err != nil {
		t.Fatal(err)
	}
	res, err := audit.VerifyWith(recSeq(recs), audit.VerifyOptions{Checkpoints: []audit.Checkpoint{{Origin: "head", Size: head.Size, Root: head.Root()}}})
	if err != nil {
		t.Fatalf("the log does not verify: %v", err)
	}
	if res.Records != uint64(len(recs)) || res.State.Size != head.Size || res.State.Last != head.Last {
		t.Fatalf("verified %d records up to %d, head %d", res.Records, res.State.Size, head.Size)
	}
	return recs
}

// checkpointer signs checkpoints for tests.
func checkpointer(t *testing.T) *audit.Signer {
	seed := sha256.Sum256([]byte("storetest checkpoint key"))
	s, err := audit.NewSigner(seed[:])
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// putCheckpoint signs and stores a checkpoint of the store's head.
func putCheckpoint(t *testing.T, a AuditStore, s *audit.Signer) audit.ChainState {
	t.Helper()
	head, err := a.AuditHead(bg(t))
	if err != nil {
		t.Fatal(err)
	}
	note, err := s.SignCheckpoint(audit.Checkpoint{Origin: "storetest", Size: head.Size, Root: head.Root()})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.PutAuditCheckpoint(bg(t), head.Size, head.Root(), note); err != nil {
		t.Fatal(err)
	}
	return head
}

func eventNames(t *testing.T, recs []audit.Record) []string {
	t.Helper()
	var out []string
	for _, r := range recs {
		var f struct {
			EventName string `json:"eventName"`
		}
		if err := json.Unmarshal(r.Body, &f); err != nil {
			t.Fatalf("record %d: %v", r.Seq, err)
		}
		out = append(out, f.EventName)
	}
	return out
}

// RunAudit covers the audit sink: records staged in a unit commit with it
// (or not at all), one hash chain whatever the handle, checkpoints,
// lookups, and copying a log to another store. Stores without an Audit
// sink skip it.
func RunAudit(t *testing.T, open Open) {
	subtests(t, open, []test{
		{"StagedUntilCommit", func(t *testing.T, s Stores) {
			a := auditOf(t, s)
			ctx := bg(t)
			uctx, u := s.Units.Begin(ctx)
			defer u.Rollback()
			body := simpleEv(t, "GetSecretValue")
			stage(t, a, uctx, body)
			if recs := allRecords(t, a); len(recs) != 0 {
				t.Fatalf("%d records visible before the unit commits", len(recs))
			}
			if head, _ := a.AuditHead(ctx); head.Size != 0 {
				t.Fatalf("head size %d before the unit commits", head.Size)
			}
			if recs, err := a.LookupAudit(ctx, "", "", time.Time{}, time.Time{}, 0, 10); err != nil || len(recs) != 0 {
				t.Fatalf("LookupAudit before commit = %d records, %v", len(recs), err)
			}
			if err := u.Commit(); err != nil {
				t.Fatal(err)
			}
			recs := verifyLog(t, a)
			if len(recs) != 1 || recs[0].Seq != 1 || string(recs[0].Body) != string(body) {
				t.Fatalf("after commit: %+v", recs)
			}
			head, _ := a.AuditHead(ctx)
			if head.Size != 1 || head.Last != recs[0].Hash || head.Root() != audit.MerkleRoot([][32]byte{audit.LeafHash(recs[0].Hash)}) {
				t.Fatalf("head after commit: %+v", head)
			}
		}},
		{"WithTheUnitsWrites", func(t *testing.T, s Stores) {
			a := auditOf(t, s)
			ctx := bg(t)
			// Rolled back: neither the secret nor the record, and no gap.
			uctx, u := s.Units.Begin(ctx)
			put(t, s.Secrets, uctx, newSecret("audited"), payloads())
			stage(t, a, uctx, simpleEv(t, "CreateSecret"))
			stage(t, a, uctx, simpleEv(t, "Second"))
			u.Rollback()
			wantNoSecret(t, s.Secrets, ctx, "audited")
			if recs := allRecords(t, a); len(recs) != 0 {
				t.Fatalf("%d records after rollback", len(recs))
			}
			// Committed: both.
			uctx, u = s.Units.Begin(ctx)
			defer u.Rollback()
			put(t, s.Secrets, uctx, newSecret("audited"), payloads())
			stage(t, a, uctx, simpleEv(t, "CreateSecret"))
			if err := u.Commit(); err != nil {
				t.Fatal(err)
			}
			mustGet(t, s.Secrets, ctx, "audited")
			recs := verifyLog(t, a)
			if got := eventNames(t, recs); !slices.Equal(got, []string{"CreateSecret"}) || recs[0].Seq != 1 {
				t.Fatalf("records %v (first seq %d)", got, recs[0].Seq)
			}
			// On its own (no unit in ctx), and with a finished unit's context.
			stage(t, a, ctx, simpleEv(t, "Own"))
			stage(t, a, uctx, simpleEv(t, "AfterFinish"))
			if got := eventNames(t, verifyLog(t, a)); !slices.Equal(got, []string{"CreateSecret", "Own", "AfterFinish"}) {
				t.Fatalf("records %v", got)
			}
		}},
		{"BadBody", func(t *testing.T, s Stores) {
			a := auditOf(t, s)
			ctx := bg(t)
			for _, b := range []string{"", "no", `{"a":1`, "{\"a\":\n1}"} {
				if err := a.StageAudit(ctx, []byte(b)); err == nil {
					t.Errorf("StageAudit(%q) succeeded", b)
				}
			}
			stage(t, a, ctx, simpleEv(t, "Good"))
			if recs := verifyLog(t, a); len(recs) != 1 || recs[0].Seq != 1 {
				t.Fatalf("%d records after refused bodies", len(recs))
			}
		}},
		{"Chain", func(t *testing.T, s Stores) {
			a := auditOf(t, s)
			ctx := bg(t)
			var want []string
			for i := range 7 {
				uctx, u := s.Units.Begin(ctx)
				for j := range i % 3 {
					name := fmt.Sprintf("U%d-%d", i, j)
					stage(t, a, uctx, simpleEv(t, name))
					want = append(want, name)
				}
				if err := u.Commit(); err != nil {
					t.Fatal(err)
				}
				name := fmt.Sprint("Own", i)
				stage(t, a, ctx, simpleEv(t, name))
				want = append(want, name)
			}
			recs := verifyLog(t, a)
			if got := eventNames(t, recs); !slices.Equal(got, want) {
				t.Fatalf("log %v, want %v", got, want)
			}
			// Paging with AuditRecords.
			var paged []audit.Record
			for after := uint64(0); ; {
				page, err := a.AuditRecords(ctx, after, 4)
				if err != nil {
					t.Fatal(err)
				}
				paged = append(paged, page...)
				if len(page) < 4 {
					break
				}
				after = page[len(page)-1].Seq
			}
			if d := cmp.Diff(recs, paged); d != "" {
				t.Fatalf("paged records differ (-all +paged):\n%s", d)
			}
		}},
		{"Checkpoints", func(t *testing.T, s Stores) {
			a := auditOf(t, s)
			ctx := bg(t)
			if note, err := a.LatestAuditCheckpoint(ctx); note != nil || err != nil {
				t.Fatalf("LatestAuditCheckpoint of an empty log = %q, %v", note, err)
			}
			signer := checkpointer(t)
			for range 3 {
				stage(t, a, ctx, simpleEv(t, "A"))
			}
			first := putCheckpoint(t, a, signer)
			before := time.Now().Add(-time.Minute)
			for range 2 {
				stage(t, a, ctx, simpleEv(t, "B"))
			}
			second := putCheckpoint(t, a, signer)
			// Another of the same size is ignored.
			if err := a.PutAuditCheckpoint(ctx, second.Size, [32]byte{1}, []byte("other\n\n— x y\n")); err != nil {
				t.Fatal(err)
			}
			note, err := a.LatestAuditCheckpoint(ctx)
			if err != nil {
				t.Fatal(err)
			}
			cp, err := audit.VerifyCheckpoint(note, signer.PublicKey())
			if err != nil || cp.Size != 5 || cp.Root != second.Root() {
				t.Fatalf("latest checkpoint %+v, %v", cp, err)
			}
			cps, err := a.AuditCheckpoints(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(cps) != 2 || cps[0].Size != first.Size || cps[0].Root != first.Root() || cps[1].Size != 5 || string(cps[1].Note) != string(note) {
				t.Fatalf("AuditCheckpoints = %+v", cps)
			}
			for _, c := range cps {
				if err := c.Validate(); err != nil {
					t.Error(err)
				}
				if c.Created.Before(before) || c.Created.After(time.Now().Add(time.Minute)) {
					t.Errorf("checkpoint %d created %v", c.Size, c.Created)
				}
			}
			// The log verifies against the stored, signed checkpoint.
			if _, err := audit.Verify(recSeq(allRecords(t, a)), note, signer.PublicKey()); err != nil {
				t.Fatal(err)
			}
		}},
		{"Lookups", func(t *testing.T, s Stores) { testLookups(t, auditOf(t, s)) }},
		{"ConcurrentHandles", func(t *testing.T, s Stores) {
			a := auditOf(t, s)
			handles := []Stores{s, s}
			if s.Peer != nil {
				handles[1] = *s.Peer
			}
			const workers, each = 6, 8
			ctx := bg(t)
			var wg sync.WaitGroup
			errs := make(chan error, 2*workers*each)
			for h, hs := range handles {
				ha := auditOf(t, hs)
				for w := range workers {
					wg.Go(func() {
						for i := range each {
							uctx, u := hs.Units.Begin(ctx)
							name := fmt.Sprintf("H%d-W%d-%d", h, w, i)
							if i%3 == 0 { // some units write a secret too
								if err := hs.Secrets.Update(uctx, name, func(*secrets.Secret) (*secrets.Change, error) {
									return &secrets.Change{Secret: newSecret(name)}, nil
								}); err != nil {
									errs <- err
									u.Rollback()
									continue
								}
							}
							if err := ha.StageAudit(uctx, simpleEv(t, name)); err != nil {
								errs <- err
							}
							if i%4 == 3 { // and some roll back
								u.Rollback()
								continue
							}
							if err := u.Commit(); err != nil {
								errs <- err
							}
						}
					})
				}
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			recs := verifyLog(t, a)
			got := eventNames(t, recs)
			var want []string
			for h := range handles {
				for w := range workers {
					for i := range each {
						if i%4 != 3 {
							want = append(want, fmt.Sprintf("H%d-W%d-%d", h, w, i))
						}
					}
				}
			}
			slices.Sort(got)
			slices.Sort(want)
			if d := cmp.Diff(want, got); d != "" {
				t.Fatalf("records (-want +got):\n%s", d)
			}
			// Both handles see the same head.
			for i, hs := range handles {
				head, err := auditOf(t, hs).AuditHead(ctx)
				if err != nil || head.Size != uint64(len(recs)) || head.Last != recs[len(recs)-1].Hash {
					t.Fatalf("handle %d: head %d, %v", i, head.Size, err)
				}
			}
		}},
		{"Committed", func(t *testing.T, s Stores) {
			a := auditOf(t, s)
			ctx := bg(t)
			watchers := []AuditStore{a}
			if s.Peer != nil {
				watchers = append(watchers, auditOf(t, *s.Peer))
			}
			for _, w := range watchers {
				w.AuditCommitted() // starts watching
			}
			time.Sleep(600 * time.Millisecond)
			for _, w := range watchers {
				select {
				case <-w.AuditCommitted():
				default:
				}
			}
			stage(t, a, ctx, simpleEv(t, "Signal"))
			for i, w := range watchers {
				select {
				case <-w.AuditCommitted():
				case <-time.After(10 * time.Second):
					t.Fatalf("handle %d: no signal after a commit", i)
				}
			}
		}},
		{"Copy", func(t *testing.T, s Stores) { testAuditCopy(t, open, s) }},
	})
}

func auditOf(t *testing.T, s Stores) AuditStore {
	t.Helper()
	if s.Audit == nil {
		t.Skip("no audit sink")
	}
	return s.Audit
}

func testLookups(t *testing.T, a AuditStore) {
	ctx := bg(t)
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	secretARN := func(n string) string { return arnOf(n) }
	keyARN := "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	evs := []auditEv{
		{name: "CreateSecret", user: evRoot, at: t0, resources: []audit.Resource{{ARN: secretARN("a"), Type: "AWS::SecretsManager::Secret"}}},
		{name: "GetSecretValue", readOnly: true, user: evAlice, at: t0.Add(time.Minute), resources: []audit.Resource{{ARN: secretARN("a"), Type: "AWS::SecretsManager::Secret"}, {ARN: keyARN, Type: "AWS::KMS::Key"}}},
		{name: "Decrypt", source: audit.SourceKMS, readOnly: true, user: evSession, at: t0.Add(2 * time.Minute), resources: []audit.Resource{{ARN: keyARN, Type: "AWS::KMS::Key"}}},
		{name: "GetSecretValue", readOnly: true, user: evSession, at: t0.Add(3 * time.Minute), resources: []audit.Resource{{ARN: secretARN("b"), Type: "AWS::SecretsManager::Secret"}}},
		{name: "ListSecrets", readOnly: true, user: evAlice, at: t0.Add(4 * time.Minute)},
		{name: "PutSecretValue", user: evRoot, at: t0.Add(5 * time.Minute), resources: []audit.Resource{{ARN: secretARN("a"), Type: "AWS::SecretsManager::Secret"}}},
	}
	ids := make([]string, len(evs))
	for i, e := range evs {
		b := e.body(t)
		var f struct {
			EventID string `json:"eventID"`
		}
		if err := json.Unmarshal(b, &f); err != nil {
			t.Fatal(err)
		}
		ids[i] = f.EventID
		stage(t, a, ctx, b)
	}
	// seqs returns the seqs of the lookup's records.
	seqs := func(key, value string, start, end time.Time, before uint64, limit int) []uint64 {
		t.Helper()
		recs, err := a.LookupAudit(ctx, key, value, start, end, before, limit)
		if err != nil {
			t.Fatalf("LookupAudit(%s=%s): %v", key, value, err)
		}
		var out []uint64
		for _, r := range recs {
			out = append(out, r.Seq)
		}
		return out
	}
	for _, tc := range []struct {
		key, value string
		start, end time.Time
		before     uint64
		limit      int
		want       []uint64
	}{
		{want: []uint64{6, 5, 4, 3, 2, 1}},
		{limit: 2, want: []uint64{6, 5}},
		{before: 5, limit: 2, want: []uint64{4, 3}},
		{key: "EventId", value: ids[2], want: []uint64{3}},
		{key: "EventId", value: "no-such-id"},
		{key: "EventName", value: "GetSecretValue", want: []uint64{4, 2}},
		{key: "EventName", value: "GetSecretValue", before: 4, want: []uint64{2}},
		{key: "ReadOnly", value: "true", want: []uint64{5, 4, 3, 2}},
		{key: "ReadOnly", value: "false", want: []uint64{6, 1}},
		{key: "Username", value: "alice", want: []uint64{5, 2}},
		{key: "Username", value: "root", want: []uint64{6, 1}},
		{key: "Username", value: "build-42", want: []uint64{4, 3}},
		{key: "EventSource", value: audit.SourceKMS, want: []uint64{3}},
		{key: "EventSource", value: audit.SourceSecretsManager, want: []uint64{6, 5, 4, 2, 1}},
		{key: "AccessKeyId", value: evSession.AccessKeyID, want: []uint64{4, 3}},
		{key: "ResourceName", value: secretARN("a"), want: []uint64{6, 2, 1}},
		{key: "ResourceName", value: secretARN("a"), limit: 1, want: []uint64{6}},
		{key: "ResourceName", value: secretARN("a"), before: 6, want: []uint64{2, 1}},
		{key: "ResourceName", value: keyARN, want: []uint64{3, 2}},
		{key: "ResourceType", value: "AWS::KMS::Key", want: []uint64{3, 2}},
		{key: "ResourceType", value: "AWS::SecretsManager::Secret", want: []uint64{6, 4, 2, 1}},
		{start: t0.Add(2 * time.Minute), want: []uint64{6, 5, 4, 3}},
		{end: t0.Add(2 * time.Minute), want: []uint64{3, 2, 1}},
		{start: t0.Add(time.Minute), end: t0.Add(3*time.Minute + 500*time.Millisecond), want: []uint64{4, 3, 2}},
		{key: "EventName", value: "GetSecretValue", start: t0.Add(2 * time.Minute), want: []uint64{4}},
		{key: "ResourceName", value: secretARN("a"), end: t0.Add(time.Minute), want: []uint64{2, 1}},
		{start: t0.Add(time.Hour)},
	} {
		limit := tc.limit
		if limit == 0 {
			limit = 50
		}
		if got := seqs(tc.key, tc.value, tc.start, tc.end, tc.before, limit); !slices.Equal(got, tc.want) {
			t.Errorf("LookupAudit(%s=%q, [%v, %v], before %d, limit %d) = %v, want %v", tc.key, tc.value, tc.start, tc.end, tc.before, limit, got, tc.want)
		}
	}
	if _, err := a.LookupAudit(ctx, "Color", "blue", time.Time{}, time.Time{}, 0, 10); err == nil {
		t.Error("an unknown lookup key was accepted")
	}
	if _, err := a.LookupAudit(ctx, "ReadOnly", "maybe", time.Time{}, time.Time{}, 0, 10); err == nil {
		t.Error("ReadOnly=maybe was accepted")
	}
	// The records come back byte for byte.
	recs, err := a.LookupAudit(ctx, "EventId", ids[1], time.Time{}, time.Time{}, 0, 1)
	if err != nil || len(recs) != 1 {
		t.Fatal(recs, err)
	}
	if all := allRecords(t, a); string(all[1].Body) != string(recs[0].Body) || all[1].Hash != recs[0].Hash {
		t.Fatal("a looked-up record differs from the stored one")
	}
}

// exported is a log read out of a store.
type exported struct {
	recs []audit.Record
	cps  []audit.StoredCheckpoint
	head audit.ChainState
}

func exportAudit(t *testing.T, a AuditStore) exported {
	t.Helper()
	cps, err := a.AuditCheckpoints(bg(t))
	if err != nil {
		t.Fatal(err)
	}
	head, err := a.AuditHead(bg(t))
	if err != nil {
		t.Fatal(err)
	}
	return exported{recs: allRecords(t, a), cps: cps, head: head}
}

func wantEmptyLog(t *testing.T, a AuditStore, why string) {
	t.Helper()
	e := exportAudit(t, a)
	if len(e.recs) != 0 || len(e.cps) != 0 || e.head.Size != 0 {
		t.Fatalf("%s: the log holds %d records, %d checkpoints, head %d", why, len(e.recs), len(e.cps), e.head.Size)
	}
}

func testAuditCopy(t *testing.T, open Open, s Stores) {
	src := auditOf(t, s)
	ctx := bg(t)
	signer := checkpointer(t)
	for i := range 40 {
		uctx, u := s.Units.Begin(ctx)
		stage(t, src, uctx, auditEv{name: fmt.Sprint("Op", i%5), user: evAlice, at: base.Add(time.Duration(i) * time.Second),
			resources: []audit.Resource{{ARN: arnOf(fmt.Sprint("s", i%3)), Type: "AWS::SecretsManager::Secret"}}}.body(t))
		if err := u.Commit(); err != nil {
			t.Fatal(err)
		}
		if i == 9 || i == 29 {
			putCheckpoint(t, src, signer)
		}
	}
	want := exportAudit(t, src)
	if len(want.recs) != 40 || len(want.cps) != 2 {
		t.Fatalf("exported %d records, %d checkpoints", len(want.recs), len(want.cps))
	}
	lookup := func(a AuditStore) []audit.Record {
		recs, err := a.LookupAudit(ctx, "ResourceName", arnOf("s1"), time.Time{}, time.Time{}, 0, 50)
		if err != nil {
			t.Fatal(err)
		}
		return recs
	}
	wantLookup := lookup(src)

	// A new, empty store (for some adapters the source's data is gone now:
	// everything needed was read above).
	dst := open(t)
	d := auditOf(t, dst)
	tamperSeq := func(what string, recs iter.Seq2[audit.Record, error], cps []audit.StoredCheckpoint) {
		t.Helper()
		err := d.ImportAudit(ctx, recs, cps)
		if err == nil {
			t.Fatalf("%s: ImportAudit succeeded", what)
		}
		wantEmptyLog(t, d, what)
	}
	tamper := func(what string, recs []audit.Record, cps []audit.StoredCheckpoint) {
		t.Helper()
		tamperSeq(what, recSeq(recs), cps)
	}
	flipped := slices.Clone(want.recs)
	flipped[17].Body = bytes.Replace(flipped[17].Body, []byte(`"eventName":"Op`), []byte(`"eventName":"Oq`), 1)
	tamper("a record's body edited", flipped, want.cps)
	tamper("a record deleted", slices.Delete(slices.Clone(want.recs), 5, 6), want.cps)
	swapped := slices.Clone(want.recs)
	swapped[3], swapped[4] = swapped[4], swapped[3]
	tamper("two records swapped", swapped, want.cps)
	tamper("the log cut before a checkpoint", want.recs[:25], want.cps)
	badRoot := slices.Clone(want.cps)
	badRoot[0].Root[0] ^= 1
	tamper("a checkpoint with another root", want.recs, badRoot)
	badNote := slices.Clone(want.cps)
	badNote[0].Note = want.cps[1].Note
	tamper("a checkpoint whose note names another size", want.recs, badNote)
	tamperSeq("a failing source", func(yield func(audit.Record, error) bool) {
		for i, r := range want.recs {
			if i == 20 {
				yield(audit.Record{}, errors.New("source failed"))
				return
			}
			if !yield(r, nil) {
				return
			}
		}
	}, want.cps)

	if err := d.ImportAudit(ctx, recSeq(want.recs), want.cps); err != nil {
		t.Fatal(err)
	}
	got := exportAudit(t, d)
	if d := cmp.Diff(want, got, cmp.AllowUnexported(exported{}), cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); d != "" {
		t.Fatalf("imported log differs (-source +destination):\n%s", d)
	}
	if d := cmp.Diff(wantLookup, lookup(d)); d != "" {
		t.Fatalf("lookup on the destination differs (-source +destination):\n%s", d)
	}
	note, err := d.LatestAuditCheckpoint(ctx)
	if err != nil || string(note) != string(want.cps[1].Note) {
		t.Fatalf("latest checkpoint after import: %q, %v", note, err)
	}
	// A second import is refused and changes nothing.
	if err := d.ImportAudit(ctx, recSeq(want.recs), want.cps); err == nil {
		t.Fatal("an import into a non-empty log succeeded")
	}
	// The destination's log continues the imported chain.
	stage(t, d, ctx, simpleEv(t, "AfterImport"))
	recs := verifyLog(t, d)
	if len(recs) != 41 || recs[40].Prev != want.recs[39].Hash {
		t.Fatalf("after import and one more record: %d records", len(recs))
	}
	if _, err := audit.Verify(recSeq(recs), want.cps[1].Note, signer.PublicKey()); err != nil {
		t.Fatal(err)
	}

	// An empty log imports as a no-op.
	empty := auditOf(t, open(t))
	if err := empty.ImportAudit(ctx, recSeq([]audit.Record(nil)), nil); err != nil {
		t.Fatal(err)
	}
	wantEmptyLog(t, empty, "after importing nothing")
}
