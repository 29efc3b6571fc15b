package secrets_test

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/coffer-dev/coffer/internal/envelope"
	"github.com/coffer-dev/coffer/internal/keyring"
	"github.com/coffer-dev/coffer/internal/kms"
	"github.com/coffer-dev/coffer/internal/secrets"
	"github.com/coffer-dev/coffer/internal/sqlite"
)

// clock is a settable clock for tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type env struct {
	svc   *secrets.Service
	kms   *kms.Service
	db    *sqlite.DB
	clock *clock
	ctx   context.Context
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "coffer.db"), sqlite.Options{Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	root, err := keyring.NewRoot(envelope.NewDataKey())
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}
	k := kms.New(kms.Config{Store: db, Root: root, Region: "us-east-1", Account: "123456789012", Now: clk.Now})
	svc := secrets.New(secrets.Config{Store: db, Keys: k, Region: "us-east-1", Account: "123456789012", Now: clk.Now, Log: slog.New(slog.DiscardHandler)})
	return &env{svc: svc, kms: k, db: db, clock: clk, ctx: context.Background()}
}

func str(s string) *secrets.Value { return &secrets.Value{Data: []byte(s)} }

const (
	tok1 = "00000000-0000-0000-0000-000000000001"
	tok2 = "00000000-0000-0000-0000-000000000002"
	tok3 = "00000000-0000-0000-0000-000000000003"
)

func (e *env) create(t *testing.T, name, token, value string) *secrets.Secret {
	t.Helper()
	in := secrets.CreateInput{Name: name, Token: token}
	if value != "" {
		in.Value = str(value)
	}
	if _, err := e.svc.Create(e.ctx, in); err != nil {
		t.Fatalf("Create(%s): %v", name, err)
	}
	return e.lookup(t, name)
}

func (e *env) lookup(t *testing.T, id string) *secrets.Secret {
	t.Helper()
	s, err := e.svc.Lookup(e.ctx, id)
	if err != nil {
		t.Fatalf("Lookup(%s): %v", id, err)
	}
	return s
}

func (e *env) value(t *testing.T, id, versionID, stage string) string {
	t.Helper()
	v, err := e.svc.GetValue(e.ctx, e.lookup(t, id), versionID, stage)
	if err != nil {
		t.Fatalf("GetValue(%s, %q, %q): %v", id, versionID, stage, err)
	}
	return string(v.Value.Data)
}

func wantErr(t *testing.T, err error, kind error, msg string) {
	t.Helper()
	var de *secrets.Error
	if !errors.As(err, &de) || !errors.Is(err, kind) {
		t.Fatalf("err = %v, want kind %v", err, kind)
	}
	if msg != "" && de.Message != msg {
		t.Fatalf("message = %q\nwant      %q", de.Message, msg)
	}
}

func TestCreateGet(t *testing.T) {
	e := newEnv(t)
	s := e.create(t, "prod/db", tok1, `{"password":"x"}`)
	if got := e.value(t, "prod/db", "", ""); got != `{"password":"x"}` {
		t.Fatalf("value %q", got)
	}
	if len(s.ARN) != len("arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-")+6 {
		t.Fatalf("ARN %q", s.ARN)
	}
	// full ARN, partial ARN
	if got := e.value(t, s.ARN, "", ""); got != `{"password":"x"}` {
		t.Fatal(got)
	}
	if got := e.value(t, s.ARN[:len(s.ARN)-7], "", ""); got != `{"password":"x"}` {
		t.Fatal(got)
	}
	// idempotent retry
	res, err := e.svc.Create(e.ctx, secrets.CreateInput{Name: "prod/db", Token: tok1, Value: str(`{"password":"x"}`)})
	if err != nil || res.ARN != s.ARN || res.VersionID != tok1 {
		t.Fatalf("retry: %+v %v", res, err)
	}
	_, err = e.svc.Create(e.ctx, secrets.CreateInput{Name: "prod/db", Token: tok1, Value: str(`other`)})
	wantErr(t, err, secrets.ErrExists, "You can't use ClientRequestToken "+tok1+" because that value is already in use for a version of secret "+s.ARN+".")
	_, err = e.svc.Create(e.ctx, secrets.CreateInput{Name: "prod/db", Token: tok2, Value: str(`x`)})
	wantErr(t, err, secrets.ErrExists, "The operation failed because the secret prod/db already exists.")
	_, err = e.svc.Lookup(e.ctx, "nope")
	wantErr(t, err, secrets.ErrNotFound, "Secrets Manager can't find the specified secret.")
	_, err = e.svc.Lookup(e.ctx, "Inv Name")
	wantErr(t, err, secrets.ErrValidation, "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!")
}

func TestLabels(t *testing.T) {
	e := newEnv(t)
	s := e.create(t, "s", tok1, "v1")
	if _, err := e.svc.PutValue(e.ctx, s, secrets.PutInput{Token: tok2, Value: secrets.Value{Data: []byte("v2")}}); err != nil {
		t.Fatal(err)
	}
	s = e.lookup(t, "s")
	if got := s.Version(tok1).Stages; len(got) != 1 || got[0] != "AWSPREVIOUS" {
		t.Fatalf("v1 stages %v", got)
	}
	if e.value(t, "s", "", "AWSPREVIOUS") != "v1" || e.value(t, "s", "", "") != "v2" {
		t.Fatal("values")
	}
	// Put with AWSPENDING does not move AWSCURRENT.
	if _, err := e.svc.PutValue(e.ctx, s, secrets.PutInput{Token: tok3, Value: secrets.Value{Data: []byte("v3")}, Stages: []string{"AWSPENDING"}}); err != nil {
		t.Fatal(err)
	}
	s = e.lookup(t, "s")
	if e.value(t, "s", "", "") != "v2" || e.value(t, "s", "", "AWSPENDING") != "v3" {
		t.Fatal("pending")
	}
	_, err := e.svc.UpdateVersionStage(e.ctx, s, "AWSCURRENT", tok3, "")
	wantErr(t, err, secrets.ErrInvalidParameter, "The parameter RemoveFromVersionId can't be empty. Staging label AWSCURRENT is currently attached to version "+tok2+", so you must explicitly reference that version in RemoveFromVersionId.")
	if _, err := e.svc.UpdateVersionStage(e.ctx, s, "AWSCURRENT", tok3, tok2); err != nil {
		t.Fatal(err)
	}
	s = e.lookup(t, "s")
	got := map[string][]string{}
	for _, v := range s.Versions {
		got[v.ID] = v.Stages
	}
	if len(got[tok1]) != 0 || len(got[tok2]) != 1 || got[tok2][0] != "AWSPREVIOUS" || len(got[tok3]) != 2 {
		t.Fatalf("stages after move: %v", got)
	}
}

func TestConcurrentPuts(t *testing.T) {
	e := newEnv(t)
	s := e.create(t, "c", tok1, "v")
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			tok := "10000000-0000-0000-0000-0000000000" + string(rune('a'+i/26)) + string(rune('a'+i%26))
			if _, err := e.svc.PutValue(e.ctx, s, secrets.PutInput{Token: tok, Value: secrets.Value{Data: []byte(tok)}}); err != nil {
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	s = e.lookup(t, "c")
	cur, prev := 0, 0
	for _, v := range s.Versions {
		for _, l := range v.Stages {
			switch l {
			case "AWSCURRENT":
				cur++
			case "AWSPREVIOUS":
				prev++
			}
		}
	}
	if len(s.Versions) != 51 || cur != 1 || prev != 1 {
		t.Fatalf("versions %d current %d previous %d", len(s.Versions), cur, prev)
	}
}

func TestDeleteRestorePurge(t *testing.T) {
	e := newEnv(t)
	s := e.create(t, "d", tok1, "v")
	res, err := e.svc.Delete(e.ctx, "d", nil, false)
	if err != nil || !res.DeletionDate.Equal(e.clock.Now().Add(30*24*time.Hour)) {
		t.Fatalf("delete: %+v %v", res, err)
	}
	_, err = e.svc.GetValue(e.ctx, e.lookup(t, "d"), "", "")
	wantErr(t, err, secrets.ErrInvalidRequest, "You can't perform this operation on the secret because it was marked for deletion.")
	_, err = e.svc.Create(e.ctx, secrets.CreateInput{Name: "d"})
	wantErr(t, err, secrets.ErrInvalidRequest, "You can't create this secret because a secret with this name is already scheduled for deletion.")
	if _, err := e.svc.Restore(e.ctx, e.lookup(t, "d")); err != nil {
		t.Fatal(err)
	}
	if e.value(t, "d", "", "") != "v" {
		t.Fatal("restored value")
	}
	w := int64(7)
	if _, err := e.svc.Delete(e.ctx, s.ARN, &w, false); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(6 * 24 * time.Hour)
	if n, err := e.svc.PurgeDue(e.ctx); err != nil || n != 0 {
		t.Fatalf("early purge %d %v", n, err)
	}
	e.clock.Advance(25 * time.Hour)
	if n, err := e.svc.PurgeDue(e.ctx); err != nil || n != 1 {
		t.Fatalf("purge %d %v", n, err)
	}
	_, err = e.svc.Lookup(e.ctx, "d")
	wantErr(t, err, secrets.ErrNotFound, "")
	// recreate gets a new ARN
	s2 := e.create(t, "d", tok1, "v")
	if s2.ARN == s.ARN {
		t.Fatal("same ARN after re-create")
	}
	// force delete of a missing secret succeeds
	if res, err := e.svc.Delete(e.ctx, "missing", nil, true); err != nil || res.Name != "missing" {
		t.Fatalf("force missing: %+v %v", res, err)
	}
}

// A secret whose KMS key is disabled is reported in BatchGetSecretValue's
// errors; the other secrets are still returned.
func TestBatchGetDisabledKey(t *testing.T) {
	e := newEnv(t)
	key, err := e.kms.CreateKey(e.ctx, kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	e.create(t, "ok", tok1, "v")
	if _, err := e.svc.Create(e.ctx, secrets.CreateInput{Name: "locked", Token: tok1, Value: str("v"), KmsKeyID: key.ID}); err != nil {
		t.Fatal(err)
	}
	if err := e.kms.DisableKey(e.ctx, key.ID); err != nil {
		t.Fatal(err)
	}
	vals, errs, _, err := e.svc.BatchGet(e.ctx, secrets.BatchInput{IDs: []string{"ok", "locked"}}, func(context.Context, *secrets.Secret) error { return nil })
	if err != nil {
		t.Fatalf("BatchGet failed as a whole: %v", err)
	}
	if len(vals) != 1 || vals[0].Name != "ok" || len(errs) != 1 || errs[0].SecretID != "locked" {
		t.Fatalf("values %d, errors %+v", len(vals), errs)
	}
}
