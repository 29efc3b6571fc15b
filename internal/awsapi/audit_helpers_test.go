package awsapi_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/coffer-dev/coffer/internal/audit"
	"github.com/coffer-dev/coffer/internal/awsapi"
	"github.com/coffer-dev/coffer/internal/identity"
	"github.com/coffer-dev/coffer/internal/keyring"
	"github.com/coffer-dev/coffer/internal/kms"
	"github.com/coffer-dev/coffer/internal/secrets"
	"github.com/coffer-dev/coffer/internal/sqlite"
)

// testAccount and testRegion come from edge_test.go.
const (
	rootKeyID   = "AKIAROOTROOTROOT0001"
	rootSecret  = "rootsecretrootsecretrootsecretrootsecre"
	aliceKeyID  = "AKIAALICEALICEALIC01"
	aliceSecret = "alicesecretalicesecretalicesecretalices"
)

// testEdge is an in-process edge on a real SQLite store.
type testEdge struct {
	t      testing.TB
	db     *sqlite.DB
	path   string
	srv    *awsapi.Server
	hasher *audit.Hasher
	signer *v4.Signer
}

func newTestEdge(t testing.TB, auditOn bool) *testEdge {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "coffer.db")
	db, err := sqlite.Open(path, sqlite.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	raw := make([]byte, 32)
	rand.Read(raw)
	root, err := keyring.NewRoot(raw)
	if err != nil {
		t.Fatal(err)
	}
	k := kms.New(kms.Config{Store: db, Root: root, Region: testRegion, Account: testAccount})
	sm := secrets.New(secrets.Config{Store: db, Keys: k, Region: testRegion, Account: testAccount, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	id := identity.New(identity.Config{Store: db, Root: root, Account: testAccount})
	if _, err := id.EnsureRoot(ctx, &identity.Credentials{AccessKeyID: rootKeyID, SecretAccessKey: rootSecret}); err != nil {
		t.Fatal(err)
	}
	// An IAM user with an access key and no permissions (until IAM
	// policies land, every non-root caller is denied).
	if err := db.PutAccessKey(ctx, &identity.AccessKey{
		ID: aliceKeyID, UserName: "alice", PrincipalARN: "arn:aws:iam::" + testAccount + ":user/alice", Status: "Active",
		CreatedAt: time.Now().UTC(), SecretWrapped: root.Wrap("iam-secret-access-key", aliceKeyID, []byte(aliceSecret)), RootKeyID: root.ID(),
	}); err != nil {
		t.Fatal(err)
	}
	e := &testEdge{t: t, db: db, path: path, signer: v4.NewSigner()}
	cfg := awsapi.Config{Region: testRegion, Account: testAccount, Secrets: sm, KMS: k, Identity: id, Units: db,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if auditOn {
		key := make([]byte, 32)
		rand.Read(key)
		if e.hasher, err = audit.NewHasher(key); err != nil {
			t.Fatal(err)
		}
		cfg.Audit = &awsapi.AuditConfig{Store: db, Hasher: e.hasher}
	}
	e.srv = awsapi.New(cfg)
	return e
}

type creds struct{ id, secret, token string }

var rootCreds = creds{rootKeyID, rootSecret, ""}

// request builds a signed JSON 1.1 request.
func (e *testEdge) request(c creds, target, body string) *http.Request {
	e.t.Helper()
	req := httptest.NewRequest(http.MethodPost, "http://coffer.test/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", target)
	req.Header.Set("User-Agent", "coffer-test/1.0")
	if c.token != "" {
		req.Header.Set("X-Amz-Security-Token", c.token)
	}
	sum := sha256.Sum256([]byte(body))
	err := e.signer.SignHTTP(context.Background(), aws.Credentials{AccessKeyID: c.id, SecretAccessKey: c.secret, SessionToken: c.token},
		req, hex.EncodeToString(sum[:]), signingName(target), testRegion, time.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	return req
}

func signingName(target string) string {
	switch {
	case strings.HasPrefix(target, "TrentService."):
		return "kms"
	case strings.HasPrefix(target, "com.amazonaws.cloudtrail."):
		return "cloudtrail"
	}
	return "secretsmanager"
}

// do sends a signed request and returns the response.
func (e *testEdge) do(c creds, target, body string) *httptest.ResponseRecorder {
	e.t.Helper()
	w := httptest.NewRecorder()
	e.srv.ServeHTTP(w, e.request(c, target, body))
	return w
}

// ok sends a request as root and fails the test unless it succeeds.
func (e *testEdge) ok(target, body string) map[string]any {
	e.t.Helper()
	w := e.do(rootCreds, target, body)
	if w.Code != http.StatusOK {
		e.t.Fatalf("%s: %d %s", target, w.Code, w.Body)
	}
	var out map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
		e.t.Fatal(err)
	}
	return out
}

// records returns every committed audit record.
func (e *testEdge) records() []audit.Record {
	e.t.Helper()
	recs, err := e.db.AuditRecords(context.Background(), 0, 100000)
	if err != nil {
		e.t.Fatal(err)
	}
	return recs
}

// lastEvent returns the newest event as generic JSON.
func (e *testEdge) lastEvent() map[string]any {
	e.t.Helper()
	recs := e.records()
	if len(recs) == 0 {
		e.t.Fatal("no audit records")
	}
	var m map[string]any
	if err := json.Unmarshal(recs[len(recs)-1].Body, &m); err != nil {
		e.t.Fatal(err)
	}
	return m
}

// rawDB opens a second, writable connection to the database (what an
// operator's sqlite3 shell would be).
func (e *testEdge) allBytes() []byte {
	e.t.Helper()
	var b bytes.Buffer
	for _, r := range e.records() {
		b.Write(r.Body)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// newToken returns a random UUID, as SDKs fill ClientRequestToken.
func newToken() string {
	var b [16]byte
	rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:]
}
