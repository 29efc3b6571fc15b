package sigv4_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coffer-dev/coffer/internal/sigv4"
)

// FuzzParse feeds arbitrary authentication information to Parse and, when it
// parses, to the checks and Verify: nothing may panic, every error is a
// well-formed *Error, and nothing verifies.
func FuzzParse(f *testing.F) {
	const sig = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
	const cred = "AKIDEXAMPLE/20150830/us-east-1/service/aws4_request"
	seeds := [][4]string{
		{"AWS4-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=host;x-amz-date, Signature=" + sig, "", "20150830T123600Z", ""},
		{"AWS4-HMAC-SHA256 Credential=" + cred + ",SignedHeaders=date;host,Signature=" + sig, "a=b", "", "Sun, 30 Aug 2015 12:36:00 GMT"},
		{"AWS4-HMAC-SHA256", "", "", ""},
		{"AWS4-HMAC-SHA256 FooBar, BazBurp", "", "20150830T123600Z", ""},
		{"Basic dXNlcjpwYXNz", "", "", ""},
		{"AWS4-HMAC-SHA256 Credential=a/b/c/d/e/f, SignedHeaders=;;, Signature=zz", "", "2015", ""},
		{"AWS4-HMAC-SHA256 Credential=x\nAWS4-HMAC-SHA256 Credential=y", "", "", ""},
		{"", "Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fsts%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders=host&X-Amz-Signature=" + sig, "", ""},
		{"", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=604801&X-Amz-Credential=a%2Fb&X-Amz-Date=x&X-Amz-SignedHeaders=host&X-Amz-Signature=00", "", ""},
		{"", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Algorithm=x&%58-Amz-Date=%zz", "", ""},
		{"AWS4-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=host;x-amz-date, Signature=" + sig, "X-Amz-Algorithm=AWS4-HMAC-SHA256", "20150830T123600Z", ""},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1], s[2], s[3], "x-custom", "v")
	}
	key := sigv4.SigningKey(secret, "20150830", "us-east-1", "service")
	now := time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, authz, rawQuery, amzDate, date, hname, hval string) {
		r := &http.Request{
			Method: "GET",
			URL:    &url.URL{Path: "/", RawQuery: rawQuery},
			Header: http.Header{},
			Host:   "example.amazonaws.com",
		}
		for _, line := range strings.Split(authz, "\n") {
			if line != "" {
				r.Header.Add("Authorization", line)
			}
		}
		if amzDate != "" {
			r.Header.Set("X-Amz-Date", amzDate)
		}
		if date != "" {
			r.Header.Set("Date", date)
		}
		if hname != "" {
			r.Header[hname] = append(r.Header[hname], hval) // possibly not canonical
		}
		a, err := sigv4.Parse(r)
		if err != nil {
			checkError(t, err)
			return
		}
		if a.Signature != nil && len(a.Signature) != 32 {
			t.Fatalf("signature of %d bytes", len(a.Signature))
		}
		for _, e := range []error{a.CheckTime(now), a.CheckScope("us-east-1", "service")} {
			if e != nil {
				checkError(t, e)
			}
		}
		err = a.Verify(r, []byte("body"), key)
		if err == nil {
			t.Fatalf("random input verified: %q %q", authz, rawQuery)
		}
		checkError(t, err)
	})
}

func checkError(t *testing.T, err error) {
	t.Helper()
	var se *sigv4.Error
	if !errors.As(err, &se) {
		t.Fatalf("error %T %v is not a *sigv4.Error", err, err)
	}
	if se.Kind < sigv4.KindMissing || se.Kind > sigv4.KindScope || se.Message == "" || !errors.Is(err, se.Kind) {
		t.Fatalf("malformed error %#v", se)
	}
	if len(se.Message) > 8192 {
		t.Fatalf("message of %d bytes", len(se.Message))
	}
}

// signedRawRequests returns wire forms of valid requests signed at t0.
func signedRawRequests(t testing.TB) [][]byte {
	var out [][]byte
	add := func(r *http.Request) {
		var b bytes.Buffer
		if err := r.Write(&b); err != nil {
			t.Fatal(err)
		}
		out = append(out, b.Bytes())
	}
	body := []byte(`{"SecretId":"prod/db"}`)
	r := newRequest(t, "POST", "https://secretsmanager.us-east-1.amazonaws.com/", body, jsonHeaders("secretsmanager.GetSecretValue"))
	sdkSign(t, r, body, temporary, "secretsmanager", "us-east-1", t0)
	add(r)

	form := []byte("Action=GetCallerIdentity&Version=2011-06-15")
	r = newRequest(t, "POST", "https://sts.amazonaws.com/", form, map[string][]string{"Content-Type": {"application/x-www-form-urlencoded; charset=utf-8"}})
	sdkSign(t, r, form, longTerm, "sts", "us-east-1", t0)
	add(r)

	r = newRequest(t, "GET", "https://iam.amazonaws.com/p%2Fq/r?b=1&a=x+y&a=%C3%BC&c=", nil, map[string][]string{
		"X-Rep": {"one", " two  three "}, "X-Tab": {"a\tb"},
	})
	sdkSign(t, r, nil, longTerm, "iam", "us-east-1", t0)
	add(r)

	r = newRequest(t, "GET", "https://sts.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Expires=60", nil, nil)
	add(sdkPresign(t, r, temporary, "sts", "us-east-1", t0))
	return out
}

// fingerprint is what a signature must pin down: every signed part of a
// request, normalised independently of the package's own code.
func fingerprint(r *http.Request, body []byte, a *sigv4.Auth) string {
	var b strings.Builder
	b.WriteString(r.Method + "\x00" + r.URL.EscapedPath() + "\x00")
	q, _ := url.ParseQuery(r.URL.RawQuery)
	var pairs []string
	for k, vs := range q {
		if a.Presigned && k == "X-Amz-Signature" {
			continue
		}
		for _, v := range vs {
			pairs = append(pairs, k+"\x01"+v)
		}
	}
	slices.Sort(pairs)
	b.WriteString(strings.Join(pairs, "\x02") + "\x00")
	norm := func(v string) string {
		v = strings.TrimSpace(v)
		for strings.Contains(v, "  ") {
			v = strings.ReplaceAll(v, "  ", " ")
		}
		return v
	}
	for _, name := range a.SignedHeaders {
		var vals []string
		if name == "host" {
			vals = []string{r.Host}
		}
		for k, vs := range r.Header {
			if strings.EqualFold(k, name) {
				vals = append(vals, vs...)
			}
		}
		for i := range vals {
			vals[i] = norm(vals[i])
		}
		b.WriteString(name + ":" + strings.Join(vals, ",") + "\x00")
	}
	b.WriteString(a.AccessKeyID + "/" + a.Date + "/" + a.Region + "/" + a.Service + "\x00")
	b.WriteString(a.Time.String() + "\x00" + a.SecurityToken + "\x00")
	b.Write(body)
	return b.String()
}

type parsedRequest struct {
	r    *http.Request
	body []byte
	a    *sigv4.Auth
}

// parseWire reads data as a server would and parses its authentication.
func parseWire(data []byte) (*parsedRequest, error) {
	r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(data)))
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	a, err := sigv4.Parse(r)
	if err != nil {
		return nil, err
	}
	return &parsedRequest{r, body, a}, nil
}

func (p *parsedRequest) verify() error {
	sec, ok := keys[p.a.AccessKeyID]
	if !ok {
		return errUnknownKey
	}
	return p.a.Verify(p.r, p.body, sigv4.SigningKey(sec, p.a.Date, p.a.Region, p.a.Service))
}

// FuzzVerify mutates valid signed requests on the wire: a mutation may only
// verify if it changed nothing the signature covers.
func FuzzVerify(f *testing.F) {
	valid := map[string]bool{}
	for _, raw := range signedRawRequests(f) {
		p, err := parseWire(raw)
		if err != nil {
			f.Fatal(err)
		}
		if err := p.verify(); err != nil {
			f.Fatalf("seed does not verify: %v\n%s", err, raw)
		}
		valid[fingerprint(p.r, p.body, p.a)] = true
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := parseWire(data)
		if err != nil {
			return
		}
		err = p.verify()
		if err == nil {
			if fp := fingerprint(p.r, p.body, p.a); !valid[fp] {
				t.Fatalf("a changed request verified:\n%q", data)
			}
			return
		}
		if !errors.Is(err, errUnknownKey) {
			checkError(t, err)
		}
	})
}
