package sigv4_test

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"testing"

	"github.com/coffer-dev/coffer/internal/sigv4"
)

// benchRequests returns a Secrets Manager GetSecretValue signed in headers
// (session token, SDK header set) and a presigned STS GetCallerIdentity, as a
// server reads them, with their bodies.
func benchRequests(b *testing.B) (header, presigned *http.Request, hbody []byte) {
	b.Helper()
	raws := signedRawRequests(b)
	read := func(raw []byte) (*http.Request, []byte) {
		r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
		if err != nil {
			b.Fatal(err)
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			b.Fatal(err)
		}
		return r, body
	}
	header, hbody = read(raws[0])
	presigned, _ = read(raws[3])
	return header, presigned, hbody
}

// BenchmarkVerify measures what the edge does per request with a cached
// signing key: Parse, CheckTime, CheckScope and Verify.
func BenchmarkVerify(b *testing.B) {
	header, presigned, hbody := benchRequests(b)
	run := func(b *testing.B, r *http.Request, body []byte, service string) {
		var key []byte
		b.ReportAllocs()
		for b.Loop() {
			a, err := sigv4.Parse(r)
			if err != nil {
				b.Fatal(err)
			}
			if err := a.CheckTime(t0); err != nil {
				b.Fatal(err)
			}
			if err := a.CheckScope("us-east-1", service); err != nil {
				b.Fatal(err)
			}
			if key == nil {
				key = sigv4.SigningKey(keys[a.AccessKeyID], a.Date, a.Region, a.Service)
			}
			if err := a.Verify(r, body, key); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("header", func(b *testing.B) { run(b, header, hbody, "secretsmanager") })
	b.Run("presigned", func(b *testing.B) { run(b, presigned, nil, "sts") })
}

// BenchmarkParse measures Parse alone.
func BenchmarkParse(b *testing.B) {
	header, presigned, _ := benchRequests(b)
	for _, c := range []struct {
		name string
		r    *http.Request
	}{{"header", header}, {"presigned", presigned}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := sigv4.Parse(c.r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSigningKey measures deriving a signing key (what a cache saves).
func BenchmarkSigningKey(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		sigv4.SigningKey(secret, "20261123", "us-east-1", "secretsmanager")
	}
}
