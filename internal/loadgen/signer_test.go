package loadgen_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/coffer-dev/coffer/internal/loadgen"
	"github.com/coffer-dev/coffer/internal/sigv4"
)

var testCreds = loadgen.Credentials{AccessKeyID: "AKIDEXAMPLE1234567890", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}

// readSigned parses bytes a Signer produced as a server would.
func readSigned(t *testing.T, raw []byte) (*http.Request, []byte) {
	t.Helper()
	r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		t.Fatalf("ReadRequest: %v\n%s", err, raw)
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return r, body
}

func verify(r *http.Request, body []byte, now time.Time, region, service, secret string) error {
	a, err := sigv4.Parse(r)
	if err != nil {
		return err
	}
	if err := a.CheckTime(now); err != nil {
		return err
	}
	if err := a.CheckScope(region, service); err != nil {
		return err
	}
	return a.Verify(r, body, sigv4.SigningKey(secret, a.Date, a.Region, a.Service))
}

func TestSignerVerifies(t *testing.T) {
	now := time.Date(2026, 11, 23, 23, 59, 59, 0, time.UTC)
	withToken := testCreds
	withToken.SessionToken = "FwoGZXIvYXdzEXAMPLETOKEN+/="
	cases := []struct {
		name    string
		creds   loadgen.Credentials
		service string
		host    string
		target  string
		body    string
	}{
		{"get", testCreds, "secretsmanager", "127.0.0.1:8484", "secretsmanager.GetSecretValue", `{"SecretId":"coffer-bench/v200/000001"}`},
		{"put", testCreds, "secretsmanager", "localhost", "secretsmanager.PutSecretValue", `{"SecretId":"a","ClientRequestToken":"0123456789abcdef0123456789abcdef","SecretString":"x y"}`},
		{"kms", testCreds, "kms", "[::1]:9000", "TrentService.Decrypt", `{"CiphertextBlob":"AQID"}`},
		{"empty body", testCreds, "kms", "h:1", "TrentService.ListKeys", ``},
		{"session token", withToken, "secretsmanager", "h:1", "secretsmanager.ListSecrets", `{}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := loadgen.NewSigner(c.creds, "eu-west-1", c.service, c.host)
			body := []byte(c.body)
			h := loadgen.BodyHash(body)
			// Twice: the second request reuses the Signer's state, and one a
			// second later (the next day) re-derives the signing key.
			for _, at := range []time.Time{now, now, now.Add(time.Second)} {
				r, got := readSigned(t, s.AppendRequest(nil, at, c.target, body, &h))
				if !bytes.Equal(got, body) {
					t.Fatalf("body = %q, want %q", got, body)
				}
				if r.Host != c.host || r.Header.Get("X-Amz-Target") != c.target || r.Method != http.MethodPost || r.URL.Path != "/" {
					t.Fatalf("request line/headers wrong: %s %s host %q target %q", r.Method, r.URL, r.Host, r.Header.Get("X-Amz-Target"))
				}
				if err := verify(r, body, at, "eu-west-1", c.service, c.creds.SecretAccessKey); err != nil {
					t.Fatalf("verify: %v", err)
				}
				if err := verify(r, body, at, "eu-west-1", c.service, c.creds.SecretAccessKey+"x"); !errors.Is(err, sigv4.KindMismatch) {
					t.Fatalf("verify with another secret: %v, want a mismatch", err)
				}
				if c.creds.SessionToken != "" && r.Header.Get("X-Amz-Security-Token") != c.creds.SessionToken {
					t.Fatalf("session token header missing")
				}
			}
		})
	}
}

func TestSignerTamperedBody(t *testing.T) {
	now := time.Now()
	s := loadgen.NewSigner(testCreds, "us-east-1", "secretsmanager", "h")
	body := []byte(`{"SecretId":"a"}`)
	h := loadgen.BodyHash(body)
	r, _ := readSigned(t, s.AppendRequest(nil, now, "secretsmanager.GetSecretValue", body, &h))
	if err := verify(r, []byte(`{"SecretId":"b"}`), now, "us-east-1", "secretsmanager", testCreds.SecretAccessKey); !errors.Is(err, sigv4.KindMismatch) {
		t.Fatalf("tampered body: %v, want a mismatch", err)
	}
}

func TestSignerAllocations(t *testing.T) {
	s := loadgen.NewSigner(testCreds, "us-east-1", "secretsmanager", "127.0.0.1:8484")
	body := []byte(`{"SecretId":"coffer-bench/v200/000001"}`)
	h := loadgen.BodyHash(body)
	buf := make([]byte, 0, 2048)
	now := time.Now()
	buf = s.AppendRequest(buf[:0], now, "secretsmanager.GetSecretValue", body, &h)
	if n := testing.AllocsPerRun(100, func() {
		buf = s.AppendRequest(buf[:0], now, "secretsmanager.GetSecretValue", body, &h)
	}); n != 0 {
		t.Errorf("AppendRequest allocates %v times per request, want 0", n)
	}
}

func BenchmarkSign(b *testing.B) {
	s := loadgen.NewSigner(testCreds, "us-east-1", "secretsmanager", "127.0.0.1:8484")
	body := []byte(`{"SecretId":"coffer-bench/v200/000001"}`)
	h := loadgen.BodyHash(body)
	buf := make([]byte, 0, 2048)
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		buf = s.AppendRequest(buf[:0], now, "secretsmanager.GetSecretValue", body, &h)
	}
}
