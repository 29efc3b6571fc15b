// Package awsapi is Coffer's HTTP edge: it speaks the AWS JSON 1.1 protocol
// of Secrets Manager and KMS (and, as they land, the query protocol of IAM
// and STS) on one listener.
//
// Every request takes the same path: read the body (capped), route by
// X-Amz-Target, authenticate (SigV4), decode and validate the input,
// authorize, run the operation inside a unit of work together with its
// audit record, encode the output. Only this package knows HTTP status
// codes and AWS error type names (errors.go holds the one table).
package awsapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coffer-dev/coffer/internal/awsapi/awsjson"
	"github.com/coffer-dev/coffer/internal/identity"
	"github.com/coffer-dev/coffer/internal/kms"
	"github.com/coffer-dev/coffer/internal/secrets"
	"github.com/coffer-dev/coffer/internal/sigv4"
	"github.com/coffer-dev/coffer/internal/txn"
)

// Service names: the SigV4 signing names and the X-Amz-Target prefixes.
const (
	svcSecretsManager = "secretsmanager"
	svcKMS            = "kms"

	targetSecretsManager = "secretsmanager"
	targetKMS            = "TrentService"
)

// maxBody caps request bodies: SecretBinary is at most 64 KiB, base64
// encoded in JSON; nothing legitimate comes close to 1 MiB.
const maxBody = 1 << 20

// Config wires the edge to the domain.
type Config struct {
	Region   string
	Account  string
	Secrets  *secrets.Service
	KMS      *kms.Service
	Identity *identity.Service
	Units    txn.Beginner
	Log      *slog.Logger
	Now      func() time.Time
	// Audit turns the audit trail on; nil turns it off (benchmarks only).
	Audit *AuditConfig
}

// Server is the HTTP handler of the AWS APIs.
type Server struct {
	cfg  Config
	log  *slog.Logger
	now  func() time.Time
	mux  *http.ServeMux
	ops  map[string]*operation // by full X-Amz-Target
	bufs sync.Pool             // *bytes.Buffer: request bodies
	encs sync.Pool             // *jsonBuf: response encoding

	metrics *metrics            // metrics.go
	qops    map[string]*queryOp // query protocol (IAM, STS): by service + "." + Action
	// compiled resource and key policies, by secret ARN / key id
	resPolicies, keyPolicies sync.Map
	// managedKeyARN is the ARN of aws/secretsmanager once seen.
	managedKeyARN atomic.Pointer[string]
}

// New returns a Server.
func New(cfg Config) *Server {
	s := &Server{cfg: cfg, log: cfg.Log, now: cfg.Now}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.bufs.New = func() any { return new(bytes.Buffer) }
	s.encs.New = func() any { b := new(jsonBuf); b.enc = json.NewEncoder(&b.Buffer); return b }
	s.ops = make(map[string]*operation)
	s.registerSecretsManager()
	s.registerQuery()
	s.registerKMS()
	s.registerCloudTrail()
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"status":"ok"}`+"\n")
	})
	s.mux.Handle("GET /metrics", s.initMetrics())
	s.mux.HandleFunc("/", s.serveAPI)
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// operation is one API operation behind an X-Amz-Target.
type operation struct {
	service  string // signing name: secretsmanager, kms
	name     string
	readOnly bool
	// input returns a fresh input value to decode into; it must have
	// Validate() error.
	input func() validator
	// fastDecode, if set, decodes the plainest bodies of the operation
	// without encoding/json, or returns nil (decode_fast.go).
	fastDecode func(body []byte) validator
	// run performs the operation for an authenticated caller.
	run func(ctx context.Context, c *call, in any) (any, error)
}

type validator interface{ Validate() error }

// call is the per-request state handlers see.
type call struct {
	requestID string
	start     time.Time
	service   string // svcSecretsManager, svcKMS, …; "" when unknown
	caller    *identity.Caller
	op        *operation
	input     validator
	sourceIP  string
	userAgent string
	r         *http.Request
	audit     callAudit

	// Per-request storage that would otherwise be allocated separately.
	requestIDHeader [1]string
	body            io.LimitedReader
	// auditBufs hold the request's staged audit bodies (audit.go).
	auditBufs [2]*[]byte
}

// jsonBuf is a pooled response buffer: raw for outputs that render
// themselves, the Buffer with a JSON encoder bound to it for the others.
type jsonBuf struct {
	raw []byte
	bytes.Buffer
	enc *json.Encoder
}

// jsonContentType is the Content-Type header of every JSON 1.1 response,
// shared (net/http only reads header values).
var jsonContentType = []string{"application/x-amz-json-1.1"}

// newRequestID returns a random UUID (v4) string.
func newRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	const hexd = "0123456789abcdef"
	out := make([]byte, 36)
	j := 0
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out[j] = '-'
			j++
		}
		out[j], out[j+1] = hexd[c>>4], hexd[c&15]
		j += 2
	}
	return string(out)
}

// header returns the first value of a request header by its canonical
// name, as r.Header.Get does without canonicalizing the name again
// (net/http stores incoming headers under canonical names).
func header(r *http.Request, canonicalName string) string {
	if v := r.Header[canonicalName]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	c := &call{requestID: newRequestID(), sourceIP: sourceIP(r), userAgent: header(r, "User-Agent"), r: r, start: s.now()}
	c.requestIDHeader[0] = c.requestID
	defer c.releaseAudit()
	w.Header()["X-Amzn-Requestid"] = c.requestIDHeader[:] // canonical form of x-amzn-RequestId
	target := header(r, "X-Amz-Target")
	if target == "" && isQueryRequest(r) { // a JSON request names its target
		s.serveQuery(w, r, c)
		return
	}
	out, aerr := s.handleJSON(c, target)
	if aerr != nil {
		s.writeJSONError(w, c, aerr)
	} else {
		s.writeJSON(w, out)
	}
	s.observe(c, aerr)
}

// handleJSON runs one JSON 1.1 request to completion: everything between
// reading the request and writing the response. The operation's writes and
// the request's audit record commit together; a request that fails leaves
// only its audit record.
func (s *Server) handleJSON(c *call, target string) (any, *apiError) {
	r := c.r
	c.op = s.ops[target]
	if r.Method != http.MethodPost || c.op == nil {
		if strings.HasPrefix(target, targetKMS+".") {
			c.service = svcKMS
		} else if strings.HasPrefix(target, targetSecretsManager+".") {
			c.service = svcSecretsManager
		}
		return nil, s.fail(c, &apiError{Type: "UnknownOperationException", Status: http.StatusBadRequest})
	}
	c.service = c.op.service
	buf := s.bufs.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		// KMS request bodies carry plaintext (Encrypt), Secrets Manager
		// ones secret values (CreateSecret, PutSecretValue, UpdateSecret):
		// leave none in the pool.
		clear(buf.Bytes())
		if buf.Cap() <= 64<<10 {
			s.bufs.Put(buf)
		}
	}()
	c.body = io.LimitedReader{R: r.Body, N: maxBody + 1}
	if _, err := buf.ReadFrom(&c.body); err != nil {
		return nil, s.fail(c, clientErr("SerializationException", "Could not read the request body."))
	}
	if buf.Len() > maxBody {
		return nil, s.fail(c, &apiError{Type: "RequestEntityTooLargeException", Message: "Request body exceeds the 1 MiB limit.", Status: http.StatusRequestEntityTooLarge})
	}
	body := buf.Bytes()
	// The unit begins before authentication so that the store reads the
	// caller's access key within it (the PostgreSQL read cache is per unit).
	ctx, unit := s.cfg.Units.Begin(r.Context())
	defer unit.Rollback()
	caller, aerr := s.authenticate(ctx, r, body, c.service, c.start)
	if aerr != nil {
		unit.Rollback()
		return nil, s.fail(c, aerr)
	}
	c.caller = caller
	var in validator
	if c.op.fastDecode != nil {
		in = c.op.fastDecode(body)
	}
	if in == nil {
		in = c.op.input()
		c.input = in
		if err := awsjson.Decode(body, in); err != nil {
			unit.Rollback()
			return nil, s.fail(c, clientErr("SerializationException", err.Error()))
		}
	}
	c.input = in
	if err := in.Validate(); err != nil {
		unit.Rollback()
		return nil, s.fail(c, clientErr("ValidationException", err.Error()))
	}
	out, err := s.invoke(ctx, c, in)
	if err != nil {
		unit.Rollback()
		return nil, s.fail(c, toAPIError(c.service, err))
	}
	if err := s.record(ctx, c, out, nil); err != nil {
		wipeOutput(out)
		return nil, s.internal(c, fmt.Errorf("audit: %w", err))
	}
	if err := unit.Commit(); err != nil {
		wipeOutput(out)
		return nil, s.internal(c, fmt.Errorf("commit: %w", err))
	}
	return out, nil
}

// fail records a failed request (in a unit of its own, since the failed
// operation's unit was discarded) and returns the error to send. If even
// the record cannot be written, the client gets an internal error.
func (s *Server) fail(c *call, e *apiError) *apiError {
	ctx, unit := s.cfg.Units.Begin(c.r.Context())
	defer unit.Rollback()
	if err := s.record(ctx, c, nil, e); err != nil {
		return s.internalNoRecord(c, fmt.Errorf("audit of failed request: %w", err))
	}
	if err := unit.Commit(); err != nil {
		return s.internalNoRecord(c, fmt.Errorf("audit of failed request: %w", err))
	}
	return e
}

// internal turns an unexpected failure into the service's internal error.
func (s *Server) internal(c *call, err error) *apiError {
	return s.fail(c, toAPIError(c.service, err))
}

func (s *Server) internalNoRecord(c *call, err error) *apiError {
	return toAPIError(c.service, err)
}

// invoke runs the operation, turning a panic into an internal error (with
// the stack in the log, never in the response).
func (s *Server) invoke(ctx context.Context, c *call, in any) (out any, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic in %s: %v", c.op.name, p)
		}
	}()
	return c.op.run(ctx, c, in)
}

// authenticate verifies the request's SigV4 signature and returns the
// caller; now is the request's time (taken once per request).
func (s *Server) authenticate(ctx context.Context, r *http.Request, body []byte, service string, now time.Time) (*identity.Caller, *apiError) {
	auth, err := sigv4.Parse(r)
	if err != nil {
		return nil, sigv4Error(err)
	}
	if err := auth.CheckTime(now); err != nil {
		return nil, sigv4Error(err)
	}
	if err := auth.CheckScope(s.cfg.Region, service); err != nil {
		return nil, sigv4Error(err)
	}
	key, caller, err := s.cfg.Identity.SigningKeyWithToken(ctx, auth.AccessKeyID, auth.SecurityToken, auth.Date, auth.Region, auth.Service)
	if err != nil {
		return nil, toAPIError(service, err)
	}
	if err := auth.Verify(r, body, key); err != nil {
		return nil, sigv4Error(err)
	}
	return caller, nil
}

// sigv4Error maps a sigv4 failure to the JSON protocol's error types.
func sigv4Error(err error) *apiError {
	var se *sigv4.Error
	if !errors.As(err, &se) {
		return clientErr("IncompleteSignatureException", err.Error())
	}
	switch se.Kind {
	case sigv4.KindMissing:
		return &apiError{Type: "MissingAuthenticationTokenException", Message: se.Message, Status: http.StatusForbidden}
	case sigv4.KindIncomplete:
		return clientErr("IncompleteSignatureException", se.Message)
	default: // mismatch, expired, scope
		return clientErr("InvalidSignatureException", se.Message)
	}
}

func sourceIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// sensitiveOutput is an output carrying plaintext or key material (KMS
// Decrypt, GenerateDataKey, GenerateRandom; Secrets Manager
// GetSecretValue). It renders itself, so that no copy stays in
// encoding/json's buffers or an immutable string, and is wiped after the
// write.
type sensitiveOutput interface {
	jsonAppender
	wipe()
}

// wipeOutput zeroes the secret of an output that will not be sent.
func wipeOutput(out any) {
	if so, ok := out.(sensitiveOutput); ok {
		so.wipe()
	}
}

// writeJSON writes a successful output: an output that renders itself
// (jsonAppender, encode.go) or, for the others, encoding/json. Every
// pooled buffer is cleared after the write (a response may hold a secret
// value or key material), and a sensitive output is wiped.
func (s *Server) writeJSON(w http.ResponseWriter, out any) {
	buf := s.encs.Get().(*jsonBuf)
	defer func() {
		// Leave no response bytes in the pool.
		clear(buf.raw)
		clear(buf.Bytes())
		if cap(buf.raw) <= 64<<10 && buf.Cap() <= 64<<10 {
			s.encs.Put(buf)
		}
	}()
	if a, ok := out.(jsonAppender); ok {
		buf.raw = a.appendJSON(buf.raw[:0])
		w.Header()["Content-Type"] = jsonContentType
		w.Write(buf.raw)
		if so, ok := out.(sensitiveOutput); ok {
			so.wipe()
		}
		return
	}
	buf.Reset()
	if out == nil {
		buf.WriteString("{}")
	} else if err := buf.enc.Encode(out); err != nil {
		s.log.Error("encode response", "err", err)
		w.Header()["Content-Type"] = jsonContentType
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	w.Header()["Content-Type"] = jsonContentType
	w.Write(bytes.TrimRight(buf.Bytes(), "\n"))
}

func (s *Server) writeJSONError(w http.ResponseWriter, c *call, e *apiError) {
	service := c.service
	if e.internal != nil {
		s.log.Error("internal error", "request_id", c.requestID, "op", c.opName(), "err", e.internal)
	}
	body := map[string]string{"__type": e.Type}
	if e.Message != "" || e.Type != "UnknownOperationException" {
		if service == svcKMS {
			body["message"] = e.Message
		} else {
			body["Message"] = e.Message
		}
	}
	b, _ := json.Marshal(body)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("x-amzn-ErrorType", e.Type)
	w.WriteHeader(e.Status)
	w.Write(b)
}

func (c *call) opName() string {
	if c.op == nil {
		return ""
	}
	return c.op.name
}
