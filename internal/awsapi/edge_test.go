package awsapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/coffer-dev/coffer/internal/awsapi"
	"github.com/coffer-dev/coffer/internal/envelope"
	"github.com/coffer-dev/coffer/internal/identity"
	"github.com/coffer-dev/coffer/internal/keyring"
	"github.com/coffer-dev/coffer/internal/kms"
	"github.com/coffer-dev/coffer/internal/secrets"
	"github.com/coffer-dev/coffer/internal/sqlite"
)

const (
	testRegion  = "us-east-1"
	testAccount = "123456789012"
	testKeyID   = "AKIAIOSFODNN7EXAMPLE"
	testSecret  = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

// clock is a settable clock shared by every service of the edge under test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// edge is an httptest server around awsapi.New, wired the way cmd/coffer
// wires it, with a fixed clock and known root credentials.
type edge struct {
	srv   *httptest.Server
	clock *clock
	logs  *lockedBuffer
}

func newEdge(t testing.TB) *edge {
	t.Helper()
	clk := &clock{t: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}
	logs := &lockedBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "coffer.db"), sqlite.Options{Log: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	root, err := keyring.NewRoot(envelope.NewDataKey())
	if err != nil {
		t.Fatal(err)
	}
	k := kms.New(kms.Config{Store: db, Root: root, Region: testRegion, Account: testAccount, Now: clk.Now})
	sm := secrets.New(secrets.Config{Store: db, Keys: k, Region: testRegion, Account: testAccount, Now: clk.Now, Log: log})
	id := identity.New(identity.Config{Store: db, Root: root, Account: testAccount, Now: clk.Now})
	if _, err := id.EnsureRoot(context.Background(), &identity.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret}); err != nil {
		t.Fatal(err)
	}
	api := awsapi.New(awsapi.Config{Region: testRegion, Account: testAccount, Secrets: sm, KMS: k, Identity: id, Units: db, Log: log, Now: clk.Now})
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	return &edge{srv: srv, clock: clk, logs: logs}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// response is what the edge answered.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// request builds a JSON 1.1 request for target with a raw body.
func (e *edge) request(target string, body []byte) *http.Request {
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	return req
}

// sign signs req (body included) as the root at the edge's clock time.
func (e *edge) sign(t testing.TB, req *http.Request, body []byte) {
	t.Helper()
	h := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(h[:]), "secretsmanager", testRegion, e.clock.Now()); err != nil {
		t.Fatal(err)
	}
}

func (e *edge) do(t testing.TB, req *http.Request) *response {
	t.Helper()
	res, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := &response{Status: res.StatusCode, Header: res.Header, Body: b}
	checkEnvelope(t, r)
	return r
}

// call sends a signed request with a raw JSON body.
func (e *edge) call(t testing.TB, op, body string) *response {
	t.Helper()
	req := e.request("secretsmanager."+op, []byte(body))
	e.sign(t, req, []byte(body))
	return e.do(t, req)
}

// checkEnvelope asserts what every response carries: a request id, a
// Date, the JSON content type, and for errors the type header matching
// the body; only InternalServiceError is a 500.
func checkEnvelope(t testing.TB, r *response) {
	t.Helper()
	if id := r.Header.Get("x-amzn-RequestId"); len(id) != 36 || strings.Count(id, "-") != 4 {
		t.Errorf("x-amzn-RequestId %q", id)
	}
	if _, err := http.ParseTime(r.Header.Get("Date")); err != nil {
		t.Errorf("Date header %q: %v", r.Header.Get("Date"), err)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
		t.Errorf("Content-Type %q", ct)
	}
	typ := r.Header.Get("x-amzn-ErrorType")
	switch {
	case r.Status == http.StatusOK:
		if typ != "" {
			t.Errorf("success with x-amzn-ErrorType %q", typ)
		}
	case r.Status >= 500:
		if typ != "InternalServiceError" {
			t.Errorf("status %d with error type %q: only InternalServiceError may be a server fault", r.Status, typ)
		}
	default:
		if typ == "" || !bytes.Contains(r.Body, []byte(`"__type":"`+typ+`"`)) {
			t.Errorf("status %d: x-amzn-ErrorType %q, body %s", r.Status, typ, r.Body)
		}
	}
	if r.Status >= 500 && typ == "" {
		t.Errorf("status %d without an error type", r.Status)
	}
}
