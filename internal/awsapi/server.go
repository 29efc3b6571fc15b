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
}

// Server is the HTTP handler of the AWS APIs.
type Server struct {
	cfg  Config
	log  *slog.Logger
	now  func() time.Time
	mux  *http.ServeMux
	ops  map[string]*operation // by full X-Amz-Target
	bufs sync.Pool
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
	s.ops = make(map[string]*operation)
	s.registerSecretsManager()
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"status":"ok"}`+"\n")
	})
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
	// run performs the operation for an authenticated caller.
	run func(ctx context.Context, c *call, in any) (any, error)
}

type validator interface{ Validate() error }

// call is the per-request state handlers see.
type call struct {
	requestID string
	caller    *identity.Caller
	op        *operation
	sourceIP  string
	userAgent string
	r         *http.Request
}

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

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	reqID := newRequestID()
	w.Header().Set("x-amzn-RequestId", reqID)
	target := r.Header.Get("X-Amz-Target")
	if r.Method != http.MethodPost || target == "" {
		s.writeJSONError(w, reqID, "", &apiError{Type: "UnknownOperationException", Status: http.StatusBadRequest})
		return
	}
	op := s.ops[target]
	if op == nil {
		service := ""
		if strings.HasPrefix(target, targetKMS+".") {
			service = svcKMS
		} else if strings.HasPrefix(target, targetSecretsManager+".") {
			service = svcSecretsManager
		}
		s.writeJSONError(w, reqID, service, &apiError{Type: "UnknownOperationException", Status: http.StatusBadRequest})
		return
	}
	buf := s.bufs.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= 64<<10 {
			s.bufs.Put(buf)
		}
	}()
	if _, err := buf.ReadFrom(io.LimitReader(r.Body, maxBody+1)); err != nil {
		s.writeJSONError(w, reqID, op.service, clientErr("SerializationException", "Could not read the request body."))
		return
	}
	if buf.Len() > maxBody {
		s.writeJSONError(w, reqID, op.service, &apiError{Type: "RequestEntityTooLargeException", Message: "Request body exceeds the 1 MiB limit.", Status: http.StatusRequestEntityTooLarge})
		return
	}
	body := buf.Bytes()
	c := &call{requestID: reqID, op: op, sourceIP: sourceIP(r), userAgent: r.Header.Get("User-Agent"), r: r}
	caller, aerr := s.authenticate(r, body, op.service)
	if aerr != nil {
		s.writeJSONError(w, reqID, op.service, aerr)
		return
	}
	c.caller = caller
	in := op.input()
	if err := awsjson.Decode(body, in); err != nil {
		s.writeJSONError(w, reqID, op.service, clientErr("SerializationException", err.Error()))
		return
	}
	if err := in.Validate(); err != nil {
		s.writeJSONError(w, reqID, op.service, clientErr("ValidationException", err.Error()))
		return
	}
	ctx, unit := s.cfg.Units.Begin(r.Context())
	defer unit.Rollback()
	out, err := s.invoke(ctx, c, in)
	if err != nil {
		unit.Rollback()
		s.writeJSONError(w, reqID, op.service, toAPIError(op.service, err))
		return
	}
	if err := unit.Commit(); err != nil {
		s.writeJSONError(w, reqID, op.service, toAPIError(op.service, fmt.Errorf("commit: %w", err)))
		return
	}
	s.writeJSON(w, out)
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

// authenticate verifies the request's SigV4 signature and returns the caller.
func (s *Server) authenticate(r *http.Request, body []byte, service string) (*identity.Caller, *apiError) {
	auth, err := sigv4.Parse(r)
	if err != nil {
		return nil, sigv4Error(err)
	}
	if err := auth.CheckScope(s.cfg.Region, service); err != nil {
		return nil, sigv4Error(err)
	}
	if err := auth.CheckTime(s.now()); err != nil {
		return nil, sigv4Error(err)
	}
	if auth.SecurityToken != "" {
		// Temporary credentials arrive with STS.
		return nil, clientErr("UnrecognizedClientException", identity.ErrUnrecognized.Error())
	}
	key, caller, err := s.cfg.Identity.SigningKey(r.Context(), auth.AccessKeyID, auth.Date, auth.Region, auth.Service)
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

func (s *Server) writeJSON(w http.ResponseWriter, out any) {
	buf := s.bufs.Get().(*bytes.Buffer)
	buf.Reset()
	defer s.bufs.Put(buf)
	if out == nil {
		buf.WriteString("{}")
	} else if err := json.NewEncoder(buf).Encode(out); err != nil {
		s.log.Error("encode response", "err", err)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Write(bytes.TrimRight(buf.Bytes(), "\n"))
}

func (s *Server) writeJSONError(w http.ResponseWriter, reqID, service string, e *apiError) {
	if e.internal != nil {
		s.log.Error("internal error", "request_id", reqID, "err", e.internal)
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
