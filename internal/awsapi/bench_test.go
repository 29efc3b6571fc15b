package awsapi_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coffer-dev/coffer/internal/awsapi"
	"github.com/coffer-dev/coffer/internal/envelope"
	"github.com/coffer-dev/coffer/internal/identity"
	"github.com/coffer-dev/coffer/internal/keyring"
	"github.com/coffer-dev/coffer/internal/kms"
	"github.com/coffer-dev/coffer/internal/loadgen"
	"github.com/coffer-dev/coffer/internal/secrets"
	"github.com/coffer-dev/coffer/internal/sqlite"
)

// perfEnv is an in-process edge over a real SQLite store, with the root's
// credentials, for the metrics test and the edge benchmarks.
type perfEnv struct {
	srv   *awsapi.Server
	db    *sqlite.DB
	creds loadgen.Credentials
	sm    *loadgen.Signer
}

func newPerfEnv(tb testing.TB) *perfEnv {
	tb.Helper()
	db, err := sqlite.Open(filepath.Join(tb.TempDir(), "coffer.db"), sqlite.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	root, err := keyring.NewRoot(envelope.NewDataKey())
	if err != nil {
		tb.Fatal(err)
	}
	const region, account = "us-east-1", "123456789012"
	k := kms.New(kms.Config{Store: db, Root: root, Region: region, Account: account})
	sec := secrets.New(secrets.Config{Store: db, Keys: k, Region: region, Account: account})
	id := identity.New(identity.Config{Store: db, Root: root, Account: account})
	c, err := id.EnsureRoot(context.Background(), nil)
	if err != nil || c == nil {
		tb.Fatalf("EnsureRoot: %v", err)
	}
	srv := awsapi.New(awsapi.Config{Region: region, Account: account, Secrets: sec, KMS: k, Identity: id, Units: db})
	creds := loadgen.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey}
	return &perfEnv{srv: srv, db: db, creds: creds, sm: loadgen.NewSigner(creds, region, "secretsmanager", "coffer.test")}
}

// request returns a signed Secrets Manager request as the server reads it.
func (e *perfEnv) request(tb testing.TB, target, body string) *http.Request {
	tb.Helper()
	b := []byte(body)
	h := loadgen.BodyHash(b)
	raw := e.sm.AppendRequest(nil, time.Now(), "secretsmanager."+target, b, &h)
	r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		tb.Fatal(err)
	}
	r.RemoteAddr = "127.0.0.1:40000"
	return r
}

// do sends one request and returns the status, error type and body.
func (e *perfEnv) do(tb testing.TB, target, body string) (int, string, string) {
	tb.Helper()
	w := httptest.NewRecorder()
	e.srv.ServeHTTP(w, e.request(tb, target, body))
	return w.Code, w.Header().Get("x-amzn-ErrorType"), w.Body.String()
}

func (e *perfEnv) mustDo(tb testing.TB, target, body string) string {
	tb.Helper()
	code, typ, out := e.do(tb, target, body)
	if code != http.StatusOK {
		tb.Fatalf("%s: %d %s %s", target, code, typ, out)
	}
	return out
}

// replay serves the same prepared request again (the body re-armed).
type replay struct {
	r    *http.Request
	body []byte
	rd   bytes.Reader
}

func newReplay(r *http.Request) *replay {
	b, _ := io.ReadAll(r.Body)
	return &replay{r: r, body: b}
}

func (p *replay) next() *http.Request {
	p.rd.Reset(p.body)
	p.r.Body = io.NopCloser(&p.rd)
	return p.r
}

// discardWriter is a ResponseWriter that keeps only the status.
type discardWriter struct {
	h    http.Header
	code int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(code int)        { w.code = code }
func (w *discardWriter) reset() {
	clear(w.h)
	w.code = http.StatusOK
}

// BenchmarkEdge measures one request through the whole edge (routing,
// SigV4 verification, decoding, validation, the unit of work, the domain
// service and the store, encoding, metrics) without the network: the
// request is signed for real once and served b.N times.
func BenchmarkEdge(b *testing.B) {
	e := newPerfEnv(b)
	value := strings.Repeat("v", 200)
	for i := range 100 {
		e.mustDo(b, "CreateSecret", fmt.Sprintf(`{"Name":"bench/%03d","ClientRequestToken":"00000000-0000-0000-0000-%012d","SecretString":%q}`, i, i, value))
	}
	serve := func(b *testing.B, r func(i int) *http.Request) {
		w := &discardWriter{h: http.Header{}}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			w.reset()
			e.srv.ServeHTTP(w, r(i))
			if w.code != http.StatusOK {
				b.Fatalf("status %d: %v", w.code, w.h)
			}
			i++
		}
	}
	b.Run("GetSecretValue", func(b *testing.B) {
		p := newReplay(e.request(b, "GetSecretValue", `{"SecretId":"bench/007"}`))
		serve(b, func(int) *http.Request { return p.next() })
	})
	b.Run("DescribeSecret", func(b *testing.B) {
		p := newReplay(e.request(b, "DescribeSecret", `{"SecretId":"bench/007"}`))
		serve(b, func(int) *http.Request { return p.next() })
	})
	b.Run("ListSecrets-100", func(b *testing.B) {
		p := newReplay(e.request(b, "ListSecrets", `{"MaxResults":100}`))
		serve(b, func(int) *http.Request { return p.next() })
	})
	// Writes are signed per request (a fresh token each). A secret keeps at
	// most 100 versions a day, so each writer moves to a secret of its own
	// every 90 versions (creating it is part of the measured loop, 1 in 90).
	// Sequential writes each pay a whole group commit (an fsync); the
	// parallel variant shows what group commit does with writers in flight.
	b.Run("PutSecretValue", func(b *testing.B) {
		sm := loadgen.NewSigner(e.creds, "us-east-1", "secretsmanager", "coffer.test")
		w := &discardWriter{h: http.Header{}}
		var buf []byte
		writer := writers.Add(1)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			putOne(b, e, sm, w, &buf, writer, i, value)
			i++
		}
	})
	b.Run("PutSecretValue-parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(32) // group commit needs writers in flight
		b.RunParallel(func(pb *testing.PB) {
			sm := loadgen.NewSigner(e.creds, "us-east-1", "secretsmanager", "coffer.test")
			w := &discardWriter{h: http.Header{}}
			var buf []byte
			writer := writers.Add(1)
			for i := 0; pb.Next(); i++ {
				if !putOne(b, e, sm, w, &buf, writer, i, value) {
					return
				}
			}
		})
	})
}

var writers atomic.Int64

// putOne sends the i-th PutSecretValue of a writer (creating the writer's
// next secret every 90 versions).
func putOne(b *testing.B, e *perfEnv, sm *loadgen.Signer, w *discardWriter, buf *[]byte, writer int64, i int, value string) bool {
	name := fmt.Sprintf("put/%d/%d", writer, i/90)
	send := func(target, body string) bool {
		raw := []byte(body)
		h := loadgen.BodyHash(raw)
		*buf = sm.AppendRequest((*buf)[:0], time.Now(), "secretsmanager."+target, raw, &h)
		r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(*buf)))
		if err != nil {
			b.Error(err)
			return false
		}
		r.RemoteAddr = "127.0.0.1:40000"
		w.reset()
		e.srv.ServeHTTP(w, r)
		if w.code != http.StatusOK {
			b.Errorf("%s: status %d: %v", target, w.code, w.h)
			return false
		}
		return true
	}
	if i%90 == 0 && !send("CreateSecret", fmt.Sprintf(`{"Name":%q}`, name)) {
		return false
	}
	return send("PutSecretValue", fmt.Sprintf(`{"SecretId":%q,"ClientRequestToken":"%016x%016x","SecretString":%q}`, name, writer, i, value))
}
