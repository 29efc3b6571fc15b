package integration

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// wireError is an error response as it comes off the wire.
type wireError struct {
	Status  int
	Type    string `json:"__type"`
	Message string `json:"Message"`
	Body    string
}

func (s *server) creds() aws.Credentials {
	return aws.Credentials{AccessKeyID: s.KeyID, SecretAccessKey: s.Secret}
}

// rawRequest builds an unsigned Secrets Manager request.
func (s *server) rawRequest(t testing.TB, op, body string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "secretsmanager."+op)
	return req
}

func payloadHash(body string) string {
	h := sha256.Sum256([]byte(body))
	return hex.EncodeToString(h[:])
}

// signAt signs req with the given credentials, service, region and time.
func signAt(t testing.TB, req *http.Request, body string, c aws.Credentials, service, region string, at time.Time) {
	t.Helper()
	if err := v4.NewSigner().SignHTTP(context.Background(), c, req, payloadHash(body), service, region, at); err != nil {
		t.Fatal(err)
	}
}

// send sends req with body (re-attached, since signing reads nothing but
// the caller may have changed it) and returns the status and error, if any.
func send(t testing.TB, req *http.Request, body string) (int, *wireError) {
	t.Helper()
	req.Body = io.NopCloser(strings.NewReader(body))
	req.ContentLength = int64(len(body))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode == http.StatusOK {
		return res.StatusCode, nil
	}
	we := &wireError{Status: res.StatusCode, Body: string(b)}
	if err := json.Unmarshal(b, we); err != nil {
		t.Fatalf("error body %q: %v", b, err)
	}
	if h := res.Header.Get("x-amzn-ErrorType"); h != we.Type {
		t.Errorf("x-amzn-ErrorType %q, body type %q", h, we.Type)
	}
	return res.StatusCode, we
}

func wantOK(t testing.TB, status int, we *wireError) {
	t.Helper()
	if we != nil {
		t.Fatalf("status %d: %s", status, we.Body)
	}
}

func wantWire(t testing.TB, we *wireError, status int, typ, msgPrefix string) {
	t.Helper()
	if we == nil {
		t.Fatalf("accepted; want %s", typ)
	}
	if we.Status != status || we.Type != typ || !strings.HasPrefix(we.Message, msgPrefix) {
		t.Fatalf("got %d %s %q; want %d %s %q…", we.Status, we.Type, we.Message, status, typ, msgPrefix)
	}
}

const (
	msgMismatch = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	msgBadToken = "The security token included in the request is invalid."
)

// TestSigV4 checks authentication at the integration level: the SDK's real
// header-signed requests and presigned requests are accepted; any tampering
// is rejected with the error type AWS uses; the clock-skew window is 15
// minutes.
func TestSigV4(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOpts{})
	if _, err := s.sm().CreateSecret(ctx(t), &sm.CreateSecretInput{Name: aws.String("sig/a"), SecretString: aws.String("v")}); err != nil {
		t.Fatal(err) // the SDK's own header-signed request
	}
	const body = `{"SecretId":"sig/a"}`
	signed := func(t *testing.T) *http.Request {
		req := s.rawRequest(t, "GetSecretValue", body)
		signAt(t, req, body, s.creds(), "secretsmanager", "us-east-1", time.Now())
		return req
	}
	// flip changes one character of s at i to another valid character.
	flip := func(s string, i int) string {
		c := s[i]
		switch {
		case c == '0', c == 'a', c == 'A':
			c++
		case c >= '1' && c <= '9', c >= 'b' && c <= 'z', c >= 'B' && c <= 'Z':
			c--
		default:
			c = 'x'
		}
		return s[:i] + string(c) + s[i+1:]
	}

	t.Run("header signature accepted", func(t *testing.T) {
		status, we := send(t, signed(t), body)
		wantOK(t, status, we)
	})
	t.Run("flipped byte in the signature", func(t *testing.T) {
		req := signed(t)
		a := req.Header.Get("Authorization")
		req.Header.Set("Authorization", flip(a, len(a)-5))
		_, we := send(t, req, body)
		wantWire(t, we, 400, "InvalidSignatureException", msgMismatch)
	})
	t.Run("flipped byte in the body", func(t *testing.T) {
		req := signed(t)
		_, we := send(t, req, flip(body, len(body)-3))
		wantWire(t, we, 400, "InvalidSignatureException", msgMismatch)
	})
	t.Run("flipped byte in a signed header", func(t *testing.T) {
		req := signed(t)
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		_, we := send(t, req, body)
		wantWire(t, we, 400, "InvalidSignatureException", msgMismatch)
	})
	t.Run("flipped byte in X-Amz-Target", func(t *testing.T) {
		req := signed(t)
		req.Header.Set("X-Amz-Target", "secretsmanager.DescribeSecret")
		_, we := send(t, req, body)
		wantWire(t, we, 400, "InvalidSignatureException", msgMismatch)
	})
	t.Run("flipped byte in the date", func(t *testing.T) {
		req := signed(t)
		d := req.Header.Get("X-Amz-Date") // 20261123T100000Z: change the seconds
		req.Header.Set("X-Amz-Date", flip(d, len(d)-2))
		_, we := send(t, req, body)
		wantWire(t, we, 400, "InvalidSignatureException", msgMismatch)
	})
	t.Run("flipped byte in the access key id", func(t *testing.T) {
		req := signed(t)
		a := req.Header.Get("Authorization")
		i := strings.Index(a, "Credential=") + len("Credential=") + 5
		req.Header.Set("Authorization", flip(a, i))
		_, we := send(t, req, body)
		wantWire(t, we, 400, "UnrecognizedClientException", msgBadToken)
	})
	t.Run("wrong secret key through the SDK", func(t *testing.T) {
		cfg := s.awsConfig()
		wrong := s.Secret[:len(s.Secret)-1] + "x"
		if wrong == s.Secret { // the key already ended in x
			wrong = s.Secret[:len(s.Secret)-1] + "y"
		}
		cfg.Credentials = credentials.NewStaticCredentialsProvider(s.KeyID, wrong, "")
		c := sm.NewFromConfig(cfg, func(o *sm.Options) { o.BaseEndpoint = aws.String(s.URL) })
		_, err := c.GetSecretValue(ctx(t), &sm.GetSecretValueInput{SecretId: aws.String("sig/a")})
		wantAPIError(t, err, "InvalidSignatureException", msgMismatch)
	})
	t.Run("unknown access key through the SDK", func(t *testing.T) {
		cfg := s.awsConfig()
		cfg.Credentials = credentials.NewStaticCredentialsProvider("AKIAAAAAAAAAAAAAAAAA", s.Secret, "")
		c := sm.NewFromConfig(cfg, func(o *sm.Options) { o.BaseEndpoint = aws.String(s.URL) })
		_, err := c.GetSecretValue(ctx(t), &sm.GetSecretValueInput{SecretId: aws.String("sig/a")})
		wantAPIError(t, err, "UnrecognizedClientException", msgBadToken)
	})
	t.Run("session token before STS exists", func(t *testing.T) {
		req := s.rawRequest(t, "GetSecretValue", body)
		c := s.creds()
		c.SessionToken = "FwoGZXIvYXdzEXAMPLE"
		signAt(t, req, body, c, "secretsmanager", "us-east-1", time.Now())
		_, we := send(t, req, body)
		wantWire(t, we, 400, "UnrecognizedClientException", msgBadToken)
	})
	t.Run("no signature", func(t *testing.T) {
		_, we := send(t, s.rawRequest(t, "GetSecretValue", body), body)
		wantWire(t, we, 403, "MissingAuthenticationTokenException", "Missing Authentication Token")
	})
	t.Run("wrong region in the scope", func(t *testing.T) {
		req := s.rawRequest(t, "GetSecretValue", body)
		signAt(t, req, body, s.creds(), "secretsmanager", "eu-west-1", time.Now())
		_, we := send(t, req, body)
		wantWire(t, we, 400, "InvalidSignatureException", "Credential should be scoped to a valid region, not 'eu-west-1'. ")
	})
	t.Run("wrong service in the scope", func(t *testing.T) {
		req := s.rawRequest(t, "GetSecretValue", body)
		signAt(t, req, body, s.creds(), "kms", "us-east-1", time.Now())
		_, we := send(t, req, body)
		wantWire(t, we, 400, "InvalidSignatureException", "Credential should be scoped to correct service: 'secretsmanager'. ")
	})
	for _, c := range []struct {
		name  string
		shift time.Duration
		ok    bool
		msg   string
	}{
		{"14 minutes slow accepted", -14 * time.Minute, true, ""},
		{"14 minutes fast accepted", 14 * time.Minute, true, ""},
		{"16 minutes slow rejected", -16 * time.Minute, false, "Signature expired: "},
		{"16 minutes fast rejected", 16 * time.Minute, false, "Signature not yet current: "},
		{"a day slow rejected", -24 * time.Hour, false, "Signature expired: "},
	} {
		t.Run("clock skew "+c.name, func(t *testing.T) {
			req := s.rawRequest(t, "GetSecretValue", body)
			signAt(t, req, body, s.creds(), "secretsmanager", "us-east-1", time.Now().Add(c.shift))
			status, we := send(t, req, body)
			if c.ok {
				wantOK(t, status, we)
				return
			}
			wantWire(t, we, 400, "InvalidSignatureException", c.msg)
		})
	}

	// presign builds a presigned POST of GetSecretValue. With hoisting
	// (the signer's default) X-Amz-Target travels signed in the query and
	// is also sent as the header the server routes by; without it the
	// header itself is signed.
	presign := func(t *testing.T, at time.Time, hoist bool) (string, http.Header) {
		req := s.rawRequest(t, "GetSecretValue", body)
		signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableHeaderHoisting = !hoist })
		uri, hdr, err := signer.PresignHTTP(context.Background(), s.creds(), req, payloadHash(body), "secretsmanager", "us-east-1", at)
		if err != nil {
			t.Fatal(err)
		}
		return uri, hdr
	}
	sendPresigned := func(t *testing.T, uri string, hdr http.Header, b string) (int, *wireError) {
		req, err := http.NewRequest(http.MethodPost, uri, nil)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range hdr {
			req.Header[k] = v
		}
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", "secretsmanager.GetSecretValue")
		return send(t, req, b)
	}
	for _, hoist := range []bool{true, false} {
		name := "presigned, X-Amz-Target signed as a header"
		if hoist {
			name = "presigned, X-Amz-Target signed in the query"
		}
		t.Run(name, func(t *testing.T) {
			uri, hdr := presign(t, time.Now(), hoist)
			u, _ := url.Parse(uri)
			q := u.Query()
			if q.Get("X-Amz-Signature") == "" || q.Get("X-Amz-Credential") == "" || hdr.Get("Authorization") != "" {
				t.Fatalf("not a presigned request: %s %v", uri, hdr)
			}
			if hoist != (q.Get("X-Amz-Target") != "") {
				t.Fatalf("hoisting %v but query %v", hoist, q)
			}
			status, we := sendPresigned(t, uri, hdr, body)
			wantOK(t, status, we)

			// Tampering with a presigned request fails the same way.
			sig := q.Get("X-Amz-Signature")
			q.Set("X-Amz-Signature", flip(sig, 3))
			u.RawQuery = q.Encode()
			_, we = sendPresigned(t, u.String(), hdr, body)
			wantWire(t, we, 400, "InvalidSignatureException", msgMismatch)
			_, we = sendPresigned(t, uri, hdr, flip(body, 5))
			wantWire(t, we, 400, "InvalidSignatureException", msgMismatch)
			q.Set("X-Amz-Signature", sig)
			q.Set("X-Amz-Date", flip(q.Get("X-Amz-Date"), len(q.Get("X-Amz-Date"))-2))
			u.RawQuery = q.Encode()
			_, we = sendPresigned(t, u.String(), hdr, body)
			wantWire(t, we, 400, "InvalidSignatureException", msgMismatch)
		})
	}
	t.Run("presigned 16 minutes old rejected", func(t *testing.T) {
		uri, hdr := presign(t, time.Now().Add(-16*time.Minute), false)
		_, we := sendPresigned(t, uri, hdr, body)
		wantWire(t, we, 400, "InvalidSignatureException", "Signature expired: ")
	})
	t.Run("presigned with an unknown access key", func(t *testing.T) {
		req := s.rawRequest(t, "GetSecretValue", body)
		c := s.creds()
		c.AccessKeyID = "AKIAAAAAAAAAAAAAAAAA"
		uri, hdr, err := v4.NewSigner().PresignHTTP(context.Background(), c, req, payloadHash(body), "secretsmanager", "us-east-1", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		_, we := sendPresigned(t, uri, hdr, body)
		wantWire(t, we, 400, "UnrecognizedClientException", msgBadToken)
	})
	t.Run("header and query authentication together", func(t *testing.T) {
		uri, hdr := presign(t, time.Now(), false)
		req, _ := http.NewRequest(http.MethodPost, uri, bytes.NewReader([]byte(body)))
		for k, v := range hdr {
			req.Header[k] = v
		}
		req.Header.Set("X-Amz-Target", "secretsmanager.GetSecretValue")
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("Authorization", signed(t).Header.Get("Authorization"))
		_, we := send(t, req, body)
		if we == nil || we.Status != 400 {
			t.Fatalf("accepted both: %+v", we)
		}
	})
}
