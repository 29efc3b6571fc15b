package sigv4_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// sdkHeaders are the headers aws-sdk-go-v2 sends with a JSON 1.1 call.
func jsonHeaders(target string) map[string][]string {
	return map[string][]string{
		"Content-Type":          {"application/x-amz-json-1.1"},
		"X-Amz-Target":          {target},
		"Amz-Sdk-Invocation-Id": {"3f1c6e0a-8d2b-4c57-9a44-1b2c3d4e5f60"},
		"Amz-Sdk-Request":       {"attempt=1; max=3"},
		"User-Agent":            {"aws-sdk-go-v2/1.47.7 os/linux lang/go#1.26.8 md/GOOS#linux md/GOARCH#amd64 api/secretsmanager#1.50.10"},
	}
}

// TestSDKSignedRequests signs requests with aws-sdk-go-v2's signer and
// verifies them after a trip through net/http's client and server.
func TestSDKSignedRequests(t *testing.T) {
	srv, v := newTestServer(t)
	client := srv.Client()

	unicodeBody := []byte(`{"SecretId":"prod/ünïcode/🔑","VersionStage":"AWSCURRENT"}`)
	bigBody := []byte(`{"SecretId":"big","SecretString":"` + strings.Repeat("x", 64<<10) + `"}`)

	type tc struct {
		name     string
		method   string
		target   string // path and query after the server URL
		service  string
		region   string
		body     []byte
		headers  map[string][]string
		creds    aws.Credentials
		wireHost string // Host to send, if not the server's
	}
	withHeaders := func(h map[string][]string, extra map[string][]string) map[string][]string {
		out := map[string][]string{}
		for k, v := range h {
			out[k] = v
		}
		for k, v := range extra {
			out[k] = v
		}
		return out
	}
	cases := []tc{
		{name: "secretsmanager GetSecretValue", method: "POST", target: "/", service: "secretsmanager", region: "us-east-1",
			body: []byte(`{"SecretId":"prod/db"}`), headers: jsonHeaders("secretsmanager.GetSecretValue"), creds: longTerm},
		{name: "secretsmanager with session token", method: "POST", target: "/", service: "secretsmanager", region: "us-east-1",
			body: []byte(`{"SecretId":"prod/db"}`), headers: jsonHeaders("secretsmanager.GetSecretValue"), creds: temporary},
		{name: "kms Decrypt", method: "POST", target: "/", service: "kms", region: "eu-central-1",
			body: []byte(`{"CiphertextBlob":"AQIDBA=="}`), headers: jsonHeaders("TrentService.Decrypt"), creds: longTerm},
		{name: "unicode body", method: "POST", target: "/", service: "secretsmanager", region: "us-east-1",
			body: unicodeBody, headers: jsonHeaders("secretsmanager.GetSecretValue"), creds: temporary},
		{name: "64 KiB body", method: "POST", target: "/", service: "secretsmanager", region: "us-east-1",
			body: bigBody, headers: jsonHeaders("secretsmanager.PutSecretValue"), creds: longTerm},
		{name: "empty JSON body", method: "POST", target: "/", service: "secretsmanager", region: "us-east-1",
			body: []byte{}, headers: jsonHeaders("secretsmanager.ListSecrets"), creds: longTerm},
		{name: "sts form post", method: "POST", target: "/", service: "sts", region: "us-east-1",
			body:    []byte("Action=GetCallerIdentity&Version=2011-06-15"),
			headers: map[string][]string{"Content-Type": {"application/x-www-form-urlencoded; charset=utf-8"}}, creds: longTerm},
		{name: "sts form post with token", method: "POST", target: "/", service: "sts", region: "us-east-1",
			body:    []byte("Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fr&RoleSessionName=s&Version=2011-06-15"),
			headers: map[string][]string{"Content-Type": {"application/x-www-form-urlencoded; charset=utf-8"}}, creds: temporary},
		{name: "iam query GET", method: "GET", target: "/?Action=ListUsers&Version=2010-05-08", service: "iam", region: "us-east-1",
			headers: map[string][]string{"Content-Type": {"application/x-www-form-urlencoded; charset=utf-8"}}, creds: longTerm},
		{name: "odd whitespace", method: "POST", target: "/", service: "secretsmanager", region: "us-east-1",
			body: []byte(`{}`), creds: longTerm,
			headers: withHeaders(jsonHeaders("secretsmanager.ListSecrets"), map[string][]string{
				"X-Amz-Meta-Spaces": {"  a   b    c  "},
				"X-Custom-Tab":      {"a \t  b\tc"},
				"X-Custom-Inner":    {"one  two   three"},
				"X-Empty":           {""},
			})},
		{name: "repeated headers", method: "POST", target: "/", service: "secretsmanager", region: "us-east-1",
			body: []byte(`{}`), creds: temporary,
			headers: withHeaders(jsonHeaders("secretsmanager.ListSecrets"), map[string][]string{
				"X-Amz-Meta-Rep": {"first", "  second  ", "third  value"},
				"X-Other":        {"a", "b"},
			})},
		{name: "non-canonical header name", method: "POST", target: "/", service: "secretsmanager", region: "us-east-1",
			body: []byte(`{}`), creds: longTerm,
			headers: withHeaders(jsonHeaders("secretsmanager.ListSecrets"), map[string][]string{
				"x-lower-case": {"v"},
				"X-MiXeD-CaSe": {"w"},
				"X_underscore": {"u"},
			})},
		{name: "query with reserved and unicode characters", method: "GET",
			target: "/?" + url.Values{
				"Action":   {"ListUsers"},
				"a/b":      {"a-b", "a/b", "a b", ""},
				"a-b":      {"x"},
				"uni":      {"ünï€🔑"},
				"sym":      {"!*'();:@&=+$,/?#[]~%"},
				"space":    {"x y+z"},
				"Version":  {"2010-05-08"},
				"zz_empty": {""},
			}.Encode(), service: "iam", region: "us-east-1", creds: temporary},
		{name: "header auth with X-Amz-* query parameters", method: "POST", target: "/?X-Amz-Date=a&X-Amz-Date=b&X-Amz-Signature=zz",
			service: "secretsmanager", region: "us-east-1", body: []byte(`{}`), headers: jsonHeaders("secretsmanager.ListSecrets"), creds: longTerm},
		{name: "escaped path", method: "POST", target: "/foo%2Fbar/baz%20qux/%C3%BC/a:b@c/~x", service: "secretsmanager",
			region: "us-east-1", body: []byte(`{}`), headers: jsonHeaders("secretsmanager.ListSecrets"), creds: longTerm},
		{name: "host without default port", method: "POST", target: "/", service: "secretsmanager", region: "us-east-1",
			body: []byte(`{}`), headers: jsonHeaders("secretsmanager.ListSecrets"), creds: longTerm,
			wireHost: "secretsmanager.us-east-1.amazonaws.com"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v.set(c.region, c.service, time.Time{})
			req := newRequest(t, c.method, srv.URL+c.target, c.body, c.headers)
			if c.wireHost != "" {
				req.Host = c.wireHost
			}
			sdkSign(t, req, c.body, c.creds, c.service, c.region, time.Now())
			o := send(t, client, req)
			if !o.OK {
				t.Fatalf("rejected: %v", o)
			}
			if o.AccessKeyID != c.creds.AccessKeyID || o.SecurityToken != c.creds.SessionToken || o.Presigned {
				t.Errorf("auth = %+v", o)
			}
			if o.Body != string(c.body) {
				t.Errorf("server saw another body")
			}
		})
	}
}

// TestSDKPresignedRequests presigns GET requests with the SDK's signer.
func TestSDKPresignedRequests(t *testing.T) {
	srv, v := newTestServer(t)
	client := srv.Client()
	v.set("us-east-1", "sts", time.Time{})

	query := url.Values{
		"Action":  {"GetCallerIdentity"},
		"Version": {"2011-06-15"},
	}
	odd := url.Values{
		"Action":  {"GetCallerIdentity"},
		"Version": {"2011-06-15"},
		"a/b":     {"a-b", "a/b"},
		"a-b":     {"ünï€"},
		"sym":     {"!*'();:@&=+$,/?#[]~ %"},
		"empty":   {""},
	}
	cases := []struct {
		name    string
		query   url.Values
		expires string
		creds   aws.Credentials
		headers map[string][]string
	}{
		{name: "GetCallerIdentity", query: query, creds: longTerm},
		{name: "GetCallerIdentity with token", query: query, creds: temporary},
		{name: "reserved and unicode parameters", query: odd, creds: temporary},
		{name: "with X-Amz-Expires", query: query, expires: "300", creds: temporary},
		{name: "with signed extra header", query: query, creds: longTerm,
			headers: map[string][]string{"X-K8s-Aws-Id": {"my-cluster"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := url.Values{}
			for k, vs := range c.query {
				q[k] = vs
			}
			if c.expires != "" {
				q.Set("X-Amz-Expires", c.expires)
			}
			req := newRequest(t, "GET", srv.URL+"/?"+q.Encode(), nil, c.headers)
			preq := sdkPresign(t, req, c.creds, "sts", "us-east-1", time.Now())
			o := send(t, client, preq)
			if !o.OK {
				t.Fatalf("rejected: %v\nURL: %s", o, preq.URL)
			}
			if !o.Presigned || o.AccessKeyID != c.creds.AccessKeyID || o.SecurityToken != c.creds.SessionToken {
				t.Errorf("auth = %+v", o)
			}
			if c.expires != "" && o.Expires != 300*time.Second {
				t.Errorf("Expires = %v", o.Expires)
			}
		})
	}
}

// TestEquivalentQueryEncodings sends the query the SDK signed in other but
// equivalent encodings ('+' for space, lower-case hex, escaped unreserved
// characters, another order): AWS decodes before canonicalising, and so must we.
func TestEquivalentQueryEncodings(t *testing.T) {
	srv, v := newTestServer(t)
	client := srv.Client()
	v.set("us-east-1", "iam", time.Time{})

	vals := url.Values{"Action": {"ListUsers"}, "Version": {"2010-05-08"}, "p": {"a b/c~d"}, "q": {"x", "y"}}
	rawForms := []string{
		"Action=ListUsers&Version=2010-05-08&p=a%20b%2Fc~d&q=x&q=y",
		"Action=ListUsers&Version=2010-05-08&p=a+b%2fc%7Ed&q=x&q=y",
		"q=y&p=a+b/c~d&Version=2010-05-08&q=x&Action=ListUsers",
		"%41ction=ListUsers&&Version=2010-05-08&p=a%20b%2Fc%7ed&q=x&q=y",
	}
	for _, raw := range rawForms {
		t.Run(raw, func(t *testing.T) {
			req := newRequest(t, "GET", srv.URL+"/?"+vals.Encode(), nil, nil)
			sdkSign(t, req, nil, longTerm, "iam", "us-east-1", time.Now())
			req.URL.RawQuery = raw
			if o := send(t, client, req); !o.OK {
				t.Fatalf("rejected: %v", o)
			}
		})
	}
}
