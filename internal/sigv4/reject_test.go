package sigv4_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/coffer-dev/coffer/internal/sigv4"
)

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

const msgMismatch = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."

// want is an expected verdict: ok, or a kind and AWS's exact message.
type want struct {
	kind sigv4.Kind
	msg  string
	// other is a non-sigv4 error expected from the edge (unknown key).
	other string
}

var wantOK = want{}

func check(t *testing.T, o outcome, w want) {
	t.Helper()
	switch {
	case w == wantOK:
		if !o.OK {
			t.Fatalf("rejected: %v", o)
		}
	case w.other != "":
		if o.Other != w.other {
			t.Fatalf("got %v, want error %q", o, w.other)
		}
	default:
		if o.OK || o.Kind != w.kind || o.Message != w.msg {
			t.Fatalf("got  %v\nwant %v: %s", o, w.kind, w.msg)
		}
	}
}

func mismatch() want { return want{kind: sigv4.KindMismatch, msg: msgMismatch} }

// editAuth rewrites the Authorization header.
func editAuth(f func(string) string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", f(r.Header.Get("Authorization"))) }
}

func replaceAuth(old, new string) func(*http.Request) {
	return editAuth(func(s string) string { return strings.Replace(s, old, new, 1) })
}

func flipLast(s string) string {
	b := []byte(s)
	if b[len(b)-1] == '0' {
		b[len(b)-1] = '1'
	} else {
		b[len(b)-1] = '0'
	}
	return string(b)
}

func setBody(body []byte) func(*http.Request) {
	return func(r *http.Request) {
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		r.GetBody = nil
	}
}

// TestRejectHeaderAuth tampers with an SDK-signed Secrets Manager request.
func TestRejectHeaderAuth(t *testing.T) {
	srv, v := newTestServer(t)
	client := srv.Client()
	body := []byte(`{"SecretId":"prod/db"}`)

	cases := []struct {
		name    string
		signAt  time.Duration // offset from t0 the client signs at
		payload string        // payload hash the client signs, if not the body's
		before  func(*http.Request)
		after   func(*http.Request)
		want    want
	}{
		{name: "untouched", want: wantOK},
		{name: "signature byte flipped", after: editAuth(flipLast), want: mismatch()},
		{name: "signature upper-case hex", after: editAuth(func(s string) string {
			i := strings.Index(s, "Signature=") + len("Signature=")
			return s[:i] + strings.ToUpper(s[i:])
		}), want: mismatch()},
		{name: "signature truncated", after: editAuth(func(s string) string { return s[:len(s)-2] }), want: mismatch()},
		{name: "body byte flipped", after: setBody([]byte(`{"SecretId":"prod/dc"}`)), want: mismatch()},
		{name: "body extended", after: setBody([]byte(`{"SecretId":"prod/db" }`)), want: mismatch()},
		{name: "signed header changed", after: func(r *http.Request) { r.Header.Set("X-Amz-Target", "secretsmanager.DeleteSecret") }, want: mismatch()},
		{name: "signed header removed", after: func(r *http.Request) { r.Header.Del("Amz-Sdk-Request") }, want: mismatch()},
		{name: "signed header repeated", after: func(r *http.Request) { r.Header.Add("X-Amz-Target", "secretsmanager.DeleteSecret") }, want: mismatch()},
		{name: "session token changed", after: func(r *http.Request) { r.Header.Set("X-Amz-Security-Token", token+"x") }, want: mismatch()},
		{name: "unsigned header added", after: func(r *http.Request) { r.Header.Set("X-Forwarded-For", "10.0.0.1") }, want: wantOK},
		{name: "X-Amz-Date one second later", after: func(r *http.Request) {
			r.Header.Set("X-Amz-Date", t0.Add(time.Second).Format("20060102T150405Z"))
		}, want: mismatch()},
		{name: "access key id swapped for another known key", after: replaceAuth("Credential="+asia, "Credential="+akid2), want: mismatch()},
		{name: "unknown access key", after: replaceAuth("Credential="+asia, "Credential=AKIANOSUCHKEY0000000"), want: want{other: errUnknownKey.Error()}},
		{name: "scope region", after: replaceAuth("/us-east-1/", "/us-west-2/"),
			want: want{kind: sigv4.KindScope, msg: "Credential should be scoped to a valid region, not 'us-west-2'. "}},
		{name: "scope service", after: replaceAuth("/secretsmanager/", "/kms/"),
			want: want{kind: sigv4.KindScope, msg: "Credential should be scoped to correct service: 'secretsmanager'. "}},
		{name: "scope region and service", after: replaceAuth("/us-east-1/secretsmanager/", "/eu-west-1/kms/"),
			want: want{kind: sigv4.KindScope, msg: "Credential should be scoped to a valid region, not 'eu-west-1'. Credential should be scoped to correct service: 'secretsmanager'. "}},
		{name: "scope date", after: replaceAuth("/20261123/", "/20261122/"),
			want: want{kind: sigv4.KindScope, msg: "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20261122' != '20261123', from '20261123T120000Z'."}},
		{name: "scope terminator", after: replaceAuth("/aws4_request", "/aws5_request"),
			want: want{kind: sigv4.KindScope, msg: "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'. "}},
		{name: "host not signed", after: replaceAuth(";host;", ";"),
			want: want{kind: sigv4.KindMismatch, msg: "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."}},
		{name: "x-amz-date not signed", after: replaceAuth(";x-amz-date;", ";"),
			want: want{kind: sigv4.KindMismatch, msg: "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization."}},
		{name: "signed headers unsorted", after: replaceAuth("content-length;content-type", "content-type;content-length"), want: mismatch()},
		{name: "signed headers duplicated", after: replaceAuth(";host;", ";host;host;"), want: mismatch()},
		{name: "signed headers upper-case", after: replaceAuth(";content-type;", ";Content-Type;"), want: mismatch()},
		{name: "signed host upper-case", after: replaceAuth(";host;", ";Host;"),
			want: want{kind: sigv4.KindMismatch, msg: "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."}},
		{name: "skew +15m1s", signAt: 15*time.Minute + time.Second,
			want: want{kind: sigv4.KindExpired, msg: "Signature not yet current: 20261123T121501Z is still later than 20261123T121500Z (20261123T120000Z + 15 min.)"}},
		{name: "skew -15m1s", signAt: -15*time.Minute - time.Second,
			want: want{kind: sigv4.KindExpired, msg: "Signature expired: 20261123T114459Z is now earlier than 20261123T114500Z (20261123T120000Z - 15 min.)"}},
		{name: "skew +15m", signAt: 15 * time.Minute, want: wantOK},
		{name: "skew -15m", signAt: -15 * time.Minute, want: wantOK},
		{name: "skew +14m59s", signAt: 14*time.Minute + 59*time.Second, want: wantOK},
		{name: "skew -14m59s", signAt: -14*time.Minute - 59*time.Second, want: wantOK},
		{name: "both header and query auth", after: func(r *http.Request) { r.URL.RawQuery = "X-Amz-Algorithm=AWS4-HMAC-SHA256" },
			want: want{kind: sigv4.KindMismatch, msg: "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header."}},
		{name: "no authentication", after: func(r *http.Request) { r.Header.Del("Authorization") },
			want: want{kind: sigv4.KindMissing, msg: "Missing Authentication Token"}},
		{name: "empty Authorization", after: func(r *http.Request) { r.Header.Set("Authorization", "") },
			want: want{kind: sigv4.KindMissing, msg: "Missing Authentication Token"}},
		{name: "two Authorization headers", after: func(r *http.Request) { r.Header.Add("Authorization", r.Header.Get("Authorization")) },
			want: want{kind: sigv4.KindIncomplete, msg: "Found more than one 'Authorization' HTTP header."}},
		{name: "basic auth", after: func(r *http.Request) { r.Header.Set("Authorization", "Basic dXNlcjpwYXNz") },
			want: want{kind: sigv4.KindIncomplete, msg: "Unsupported AWS 'algorithm': 'Basic'."}},
		{name: "bearer token", after: func(r *http.Request) { r.Header.Set("Authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.e30.x") },
			want: want{kind: sigv4.KindIncomplete, msg: "Unsupported AWS 'algorithm': 'Bearer'."}},
		{name: "sigv4a", after: replaceAuth("AWS4-HMAC-SHA256 ", "AWS4-ECDSA-P256-SHA256 "),
			want: want{kind: sigv4.KindIncomplete, msg: "Unsupported AWS 'algorithm': 'AWS4-ECDSA-P256-SHA256'."}},
		{name: "lower-case algorithm", after: replaceAuth("AWS4-HMAC-SHA256 ", "aws4-hmac-sha256 "),
			want: want{kind: sigv4.KindIncomplete, msg: "Unsupported AWS 'algorithm': 'aws4-hmac-sha256'."}},
		{name: "algorithm only", after: func(r *http.Request) { r.Header.Set("Authorization", "AWS4-HMAC-SHA256") },
			want: want{kind: sigv4.KindIncomplete, msg: "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization=AWS4-HMAC-SHA256"}},
		{name: "algorithm only, no date", after: func(r *http.Request) {
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256")
			r.Header.Del("X-Amz-Date")
		}, want: want{kind: sigv4.KindIncomplete, msg: "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=AWS4-HMAC-SHA256"}},
		{name: "credential only", after: func(r *http.Request) { r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=ABCDEF") },
			want: want{kind: sigv4.KindIncomplete, msg: "Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization=AWS4-HMAC-SHA256 Credential=ABCDEF"}},
		{name: "empty signature value", after: editAuth(func(s string) string { return s[:strings.Index(s, "Signature=")+len("Signature=")] }),
			want: want{kind: sigv4.KindIncomplete}}, // message checked below: it echoes the header
		{name: "not key=value", after: func(r *http.Request) { r.Header.Set("Authorization", "AWS4-HMAC-SHA256 FooBar, BazBurp") },
			want: want{kind: sigv4.KindIncomplete, msg: "'FooBar' not a valid key=value pair (missing equal-sign) in Authorization header: 'AWS4-HMAC-SHA256 FooBar, BazBurp'"}},
		{name: "duplicate Signature parameter", after: editAuth(func(s string) string { return s + ", Signature=00" }),
			want: want{kind: sigv4.KindIncomplete, msg: "Found more than one 'Signature' parameter in the Authorization header."}},
		{name: "credential with four elements", after: replaceAuth("/aws4_request", ""),
			want: want{kind: sigv4.KindIncomplete, msg: "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '" + asia + "/20261123/us-east-1/secretsmanager'"}},
		{name: "credential with six elements", after: replaceAuth("/aws4_request", "/aws4_request/x"),
			want: want{kind: sigv4.KindIncomplete, msg: "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '" + asia + "/20261123/us-east-1/secretsmanager/aws4_request/x'"}},
		{name: "X-Amz-Date not ISO 8601 basic", after: func(r *http.Request) { r.Header.Set("X-Amz-Date", "2026-11-23T12:00:00Z") },
			want: want{kind: sigv4.KindIncomplete, msg: "Date must be in ISO-8601 'basic format'. Got '2026-11-23T12:00:00Z'. See http://en.wikipedia.org/wiki/ISO_8601"}},
		{name: "X-Amz-Date impossible day", after: func(r *http.Request) { r.Header.Set("X-Amz-Date", "20260230T120000Z") },
			want: want{kind: sigv4.KindIncomplete, msg: "Date must be in ISO-8601 'basic format'. Got '20260230T120000Z'. See http://en.wikipedia.org/wiki/ISO_8601"}},
		{name: "X-Amz-Content-Sha256 true hash", before: func(r *http.Request) { r.Header.Set("X-Amz-Content-Sha256", payloadHash(body)) }, want: wantOK},
		{name: "X-Amz-Content-Sha256 UNSIGNED-PAYLOAD", payload: "UNSIGNED-PAYLOAD",
			before: func(r *http.Request) { r.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD") }, want: mismatch()},
		{name: "X-Amz-Content-Sha256 wrong hash", before: func(r *http.Request) { r.Header.Set("X-Amz-Content-Sha256", payloadHash(nil)) }, want: mismatch()},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v.set("us-east-1", "secretsmanager", t0)
			req := newRequest(t, "POST", srv.URL+"/", body, jsonHeaders("secretsmanager.GetSecretValue"))
			if c.before != nil {
				c.before(req)
			}
			ph := c.payload
			if ph == "" {
				ph = payloadHash(body)
			}
			if err := v4.NewSigner().SignHTTP(context.Background(), temporary, req, ph, "secretsmanager", "us-east-1", t0.Add(c.signAt)); err != nil {
				t.Fatal(err)
			}
			if c.after != nil {
				c.after(req)
			}
			w := c.want
			if c.name == "empty signature value" {
				w.msg = "Authorization header requires 'Signature' parameter. Authorization=" + req.Header.Get("Authorization")
			}
			check(t, send(t, client, req), w)
		})
	}
}

// TestRejectPresigned tampers with SDK-presigned STS GetCallerIdentity URLs.
func TestRejectPresigned(t *testing.T) {
	srv, v := newTestServer(t)
	client := srv.Client()

	editQuery := func(f func(url.Values)) func(*http.Request) {
		return func(r *http.Request) {
			q := r.URL.Query()
			f(q)
			r.URL.RawQuery = q.Encode()
		}
	}
	replaceQuery := func(old, new string) func(*http.Request) {
		return func(r *http.Request) { r.URL.RawQuery = strings.Replace(r.URL.RawQuery, old, new, 1) }
	}
	cases := []struct {
		name    string
		expires string // X-Amz-Expires to presign with
		now     time.Duration
		after   func(*http.Request)
		want    want
	}{
		{name: "untouched", want: wantOK},
		{name: "signature flipped", after: editQuery(func(q url.Values) { q.Set("X-Amz-Signature", flipLast(q.Get("X-Amz-Signature"))) }), want: mismatch()},
		{name: "parameter added", after: editQuery(func(q url.Values) { q.Set("Extra", "1") }), want: mismatch()},
		{name: "action changed", after: editQuery(func(q url.Values) { q.Set("Action", "AssumeRole") }), want: mismatch()},
		{name: "token changed", after: editQuery(func(q url.Values) { q.Set("X-Amz-Security-Token", token+"x") }), want: mismatch()},
		{name: "X-Amz-Expires added", after: editQuery(func(q url.Values) { q.Set("X-Amz-Expires", "900") }), want: mismatch()},
		{name: "signature missing", after: editQuery(func(q url.Values) { q.Del("X-Amz-Signature") }),
			want: want{kind: sigv4.KindIncomplete, msg: "AWS query-string parameters must include 'X-Amz-Signature'. Re-examine the query-string parameters."}},
		{name: "only the algorithm", after: func(r *http.Request) { r.URL.RawQuery = "Action=GetCallerIdentity&X-Amz-Algorithm=AWS4-HMAC-SHA256" },
			want: want{kind: sigv4.KindIncomplete, msg: "AWS query-string parameters must include 'X-Amz-Credential'. AWS query-string parameters must include 'X-Amz-Signature'. AWS query-string parameters must include 'X-Amz-SignedHeaders'. AWS query-string parameters must include 'X-Amz-Date'. Re-examine the query-string parameters."}},
		{name: "no algorithm", after: editQuery(func(q url.Values) { q.Del("X-Amz-Algorithm") }),
			want: want{kind: sigv4.KindMissing, msg: "Missing Authentication Token"}},
		{name: "sigv4a", after: editQuery(func(q url.Values) { q.Set("X-Amz-Algorithm", "AWS4-ECDSA-P256-SHA256") }),
			want: want{kind: sigv4.KindIncomplete, msg: "Unsupported AWS 'algorithm': 'AWS4-ECDSA-P256-SHA256'."}},
		{name: "signature twice", after: func(r *http.Request) { r.URL.RawQuery += "&X-Amz-Signature=00" },
			want: want{kind: sigv4.KindIncomplete, msg: "Found more than one 'X-Amz-Signature' parameter in the query string."}},
		{name: "host not signed", after: replaceQuery("X-Amz-SignedHeaders=host", "X-Amz-SignedHeaders=x-amz-date"),
			want: want{kind: sigv4.KindMismatch, msg: "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."}},
		{name: "scope region", after: replaceQuery("%2Fus-east-1%2F", "%2Fus-west-2%2F"),
			want: want{kind: sigv4.KindScope, msg: "Credential should be scoped to a valid region, not 'us-west-2'. "}},
		{name: "expires beyond a week", expires: "604801",
			want: want{kind: sigv4.KindIncomplete, msg: "X-Amz-Expires must be less than a week (in seconds) that is 604800"}},
		{name: "expires a week", expires: "604800", now: 604800 * time.Second, want: wantOK},
		{name: "expires not a number", expires: "soon", want: want{kind: sigv4.KindIncomplete, msg: "X-Amz-Expires should be a number"}},
		{name: "expires negative", expires: "-1", want: want{kind: sigv4.KindIncomplete, msg: "X-Amz-Expires must be non-negative"}},
		{name: "expires 60, at 60s", expires: "60", now: 60 * time.Second, want: wantOK},
		{name: "expires 60, at 61s", expires: "60", now: 61 * time.Second,
			want: want{kind: sigv4.KindExpired, msg: "Signature expired: 20261123T120000Z is now earlier than 20261123T120001Z (20261123T120101Z - 1 min.)"}},
		{name: "expires 3600, at 30m", expires: "3600", now: 30 * time.Minute, want: wantOK},
		{name: "expires 90, at 91s", expires: "90", now: 91 * time.Second,
			want: want{kind: sigv4.KindExpired, msg: "Signature expired: 20261123T120000Z is now earlier than 20261123T120001Z (20261123T120131Z - 90 sec.)"}},
		{name: "no expires, at 15m", now: 15 * time.Minute, want: wantOK},
		{name: "no expires, at 15m1s", now: 15*time.Minute + time.Second,
			want: want{kind: sigv4.KindExpired, msg: "Signature expired: 20261123T120000Z is now earlier than 20261123T120001Z (20261123T121501Z - 15 min.)"}},
		{name: "no expires, 15m1s early", now: -15*time.Minute - time.Second,
			want: want{kind: sigv4.KindExpired, msg: "Signature not yet current: 20261123T120000Z is still later than 20261123T115959Z (20261123T114459Z + 15 min.)"}},
		{name: "expires 3600, 15m1s early", expires: "3600", now: -15*time.Minute - time.Second,
			want: want{kind: sigv4.KindExpired, msg: "Signature not yet current: 20261123T120000Z is still later than 20261123T115959Z (20261123T114459Z + 15 min.)"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v.set("us-east-1", "sts", t0.Add(c.now))
			q := url.Values{"Action": {"GetCallerIdentity"}, "Version": {"2011-06-15"}}
			if c.expires != "" {
				q.Set("X-Amz-Expires", c.expires)
			}
			req := sdkPresign(t, newRequest(t, "GET", srv.URL+"/?"+q.Encode(), nil, nil), temporary, "sts", "us-east-1", t0)
			if c.after != nil {
				c.after(req)
			}
			check(t, send(t, client, req), c.want)
		})
	}
}
