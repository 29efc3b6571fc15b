package sigv4_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/coffer-dev/coffer/internal/sigv4"
)

// Test credentials (the AWS documentation's example key and two made-up ones).
const (
	akid    = "AKIDEXAMPLE"
	secret  = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	akid2   = "AKIAOTHEREXAMPLE0002"
	secret2 = "otherSecretKeyForTests/0123456789abcdefgh"
	asia    = "ASIATEMPEXAMPLE00003"
	secret3 = "tempSecretKeyForTests/abcdefghij012345678"
	token   = "IQoJb3JpZ2luX2VjEXAMPLETOKEN+/=//aGVsbG8gd29ybGQ="
)

var keys = map[string]string{akid: secret, akid2: secret2, asia: secret3}

var (
	longTerm  = aws.Credentials{AccessKeyID: akid, SecretAccessKey: secret}
	otherKey  = aws.Credentials{AccessKeyID: akid2, SecretAccessKey: secret2}
	temporary = aws.Credentials{AccessKeyID: asia, SecretAccessKey: secret3, SessionToken: token}
)

// errUnknownKey stands for what the edge would answer for an unknown key.
var errUnknownKey = errors.New("unknown access key")

// verifier is what a server does with an incoming request.
type verifier struct {
	mu      sync.Mutex
	region  string
	service string
	now     func() time.Time
}

func (v *verifier) set(region, service string, now time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.region, v.service = region, service
	if now.IsZero() {
		v.now = time.Now
	} else {
		v.now = func() time.Time { return now }
	}
}

// verify runs the whole check on r as the edge will.
func (v *verifier) verify(r *http.Request) (*sigv4.Auth, []byte, error) {
	v.mu.Lock()
	region, service, now := v.region, v.service, v.now
	v.mu.Unlock()
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return nil, nil, err
	}
	a, err := sigv4.Parse(r)
	if err != nil {
		return nil, body, err
	}
	if err := a.CheckTime(now()); err != nil {
		return a, body, err
	}
	if err := a.CheckScope(region, service); err != nil {
		return a, body, err
	}
	sec, ok := keys[a.AccessKeyID]
	if !ok {
		return a, body, errUnknownKey
	}
	return a, body, a.Verify(r, body, sigv4.SigningKey(sec, a.Date, a.Region, a.Service))
}

// outcome is what the test server reports back.
type outcome struct {
	OK            bool
	Kind          sigv4.Kind
	Message       string
	Other         string
	AccessKeyID   string
	SecurityToken string
	Presigned     bool
	Expires       time.Duration
	Body          string
}

func (o outcome) String() string {
	if o.OK {
		return "ok"
	}
	if o.Other != "" {
		return "error: " + o.Other
	}
	return o.Kind.String() + ": " + o.Message
}

func newTestServer(t testing.TB) (*httptest.Server, *verifier) {
	t.Helper()
	v := &verifier{}
	v.set("us-east-1", "secretsmanager", time.Time{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, body, err := v.verify(r)
		var o outcome
		var se *sigv4.Error
		switch {
		case err == nil:
			o.OK = true
		case errors.As(err, &se):
			o.Kind, o.Message = se.Kind, se.Message
		default:
			o.Other = err.Error()
		}
		if a != nil {
			o.AccessKeyID, o.SecurityToken, o.Presigned, o.Expires = a.AccessKeyID, a.SecurityToken, a.Presigned, a.Expires
		}
		o.Body = string(body)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(o)
	}))
	t.Cleanup(srv.Close)
	return srv, v
}

// send sends req to the server and returns its verdict.
func send(t testing.TB, c *http.Client, req *http.Request) outcome {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	defer resp.Body.Close()
	var o outcome
	if err := json.NewDecoder(resp.Body).Decode(&o); err != nil {
		t.Fatalf("decode outcome: %v", err)
	}
	return o
}

func payloadHash(body []byte) string {
	s := sha256.Sum256(body)
	return hex.EncodeToString(s[:])
}

// newRequest builds a request to base+target with body and headers.
func newRequest(t testing.TB, method, url string, body []byte, headers map[string][]string) *http.Request {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range headers {
		req.Header[k] = append([]string(nil), vs...)
	}
	return req
}

// sdkSign signs req in place with the SDK's signer.
func sdkSign(t testing.TB, req *http.Request, body []byte, creds aws.Credentials, service, region string, at time.Time) {
	t.Helper()
	err := v4.NewSigner().SignHTTP(context.Background(), creds, req, payloadHash(body), service, region, at)
	if err != nil {
		t.Fatal(err)
	}
}

// sdkPresign presigns req with the SDK's signer and returns a request for the URL.
func sdkPresign(t testing.TB, req *http.Request, creds aws.Credentials, service, region string, at time.Time) *http.Request {
	t.Helper()
	u, hdr, err := v4.NewSigner().PresignHTTP(context.Background(), creds, req, payloadHash(nil), service, region, at)
	if err != nil {
		t.Fatal(err)
	}
	out, err := http.NewRequest(req.Method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range hdr {
		if strings.EqualFold(k, "host") {
			continue
		}
		out.Header[k] = vs
	}
	return out
}
