package loadgen

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestConnRoundTrip(t *testing.T) {
	big := strings.Repeat("b", 70000) // beyond net/http's 2 KiB: chunked
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Header.Get("X-Amz-Target") {
		case "small":
			w.Write([]byte(`{"ok":1}`))
		case "big":
			w.Write([]byte(big))
		case "error":
			w.Header().Set("x-amzn-ErrorType", "ResourceNotFoundException:http://internal.amazon.com/")
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"__type":"ResourceNotFoundException","Message":"Secrets Manager can't find the specified secret."}`))
		case "close":
			w.Header().Set("Connection", "close")
			w.Write([]byte(`bye`))
		}
	}))
	defer srv.Close()
	c := &conn{addr: srv.Listener.Addr().String(), timeout: 5 * time.Second}
	defer c.close()
	s := NewSigner(testCredentials, "us-east-1", "secretsmanager", c.addr)
	var body []byte
	send := func(target string) response {
		t.Helper()
		b := []byte(`{}`)
		h := BodyHash(b)
		resp, err := c.roundTrip(s.AppendRequest(nil, time.Now(), target, b, &h), &body, time.Now())
		if err != nil {
			t.Fatalf("%s: %v", target, err)
		}
		return resp
	}
	for range 2 { // the same connection throughout
		if r := send("small"); r.status != 200 || string(r.body) != `{"ok":1}` || r.errorType != "" {
			t.Fatalf("small: %+v", r)
		}
		if r := send("big"); r.status != 200 || string(r.body) != big {
			t.Fatalf("big: status %d, %d bytes", r.status, len(r.body))
		}
		r := send("error")
		if r.status != 400 || r.errorType != "ResourceNotFoundException" {
			t.Fatalf("error: %+v", r)
		}
		if got := describe(r); got != "ResourceNotFoundException: Secrets Manager can't find the specified secret." {
			t.Fatalf("describe = %q", got)
		}
	}
	first := c.c
	if r := send("close"); string(r.body) != "bye" || c.c != nil {
		t.Fatalf("close: body %q, conn kept: %v", r.body, c.c != nil)
	}
	if r := send("small"); r.status != 200 || c.c == first {
		t.Fatalf("after close: %+v (redialled: %v)", r, c.c != first)
	}
}

func TestConnTransportErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			buf := make([]byte, 4096)
			nc.Read(buf)
			nc.Write([]byte("garbage\r\n\r\n"))
			nc.Close()
		}
	}()
	addr := ln.Addr().String()
	c := &conn{addr: addr, timeout: 5 * time.Second}
	var body []byte
	_, err = c.roundTrip([]byte("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"), &body, time.Now())
	var te *errTransport
	if !errors.As(err, &te) || c.c != nil {
		t.Fatalf("malformed response: %v (conn kept: %v)", err, c.c != nil)
	}
	ln.Close()
	_, err = c.roundTrip([]byte("POST / HTTP/1.1\r\nHost: x\r\n\r\n"), &body, time.Now())
	if !errors.As(err, &te) {
		t.Fatalf("closed listener: %v", err)
	}
}

var testCredentials = Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret"}

func TestReadCredentials(t *testing.T) {
	path := filepath.Join(t.TempDir(), "credentials")
	os.WriteFile(path, []byte("# comment\n[default]\naws_access_key_id = AKID1\naws_secret_access_key = s1\n\n[profile other]\naws_access_key_id=AKID2\naws_secret_access_key=s2\naws_session_token = tok\n[empty]\n"), 0o600)
	cases := []struct {
		profile string
		want    Credentials
		err     string
	}{
		{"", Credentials{AccessKeyID: "AKID1", SecretAccessKey: "s1"}, ""},
		{"default", Credentials{AccessKeyID: "AKID1", SecretAccessKey: "s1"}, ""},
		{"other", Credentials{AccessKeyID: "AKID2", SecretAccessKey: "s2", SessionToken: "tok"}, ""},
		{"empty", Credentials{}, "lacks"},
		{"missing", Credentials{}, "no profile"},
	}
	for _, c := range cases {
		got, err := ReadCredentials(path, c.profile)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: err %v, want %q", c.profile, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s: %+v, %v; want %+v", c.profile, got, err, c.want)
		}
	}
}

// TestEnsureKeyWithoutKMS: a server without the KMS API gets a clear error
// before any load is sent.
func TestEnsureKeyWithoutKMS(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("x-amzn-ErrorType", "UnknownOperationException")
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"__type":"UnknownOperationException"}`))
	}))
	defer srv.Close()
	cfg := Config{Endpoint: srv.URL, Credentials: testCredentials, Op: "Decrypt"}
	if err := cfg.defaults(); err != nil {
		t.Fatal(err)
	}
	tg, err := newTarget(srv.URL, cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = prepareKMS(t.Context(), cfg, tg)
	if err == nil || !strings.Contains(err.Error(), "does not implement the KMS API operation DescribeKey") {
		t.Fatalf("err = %v", err)
	}
}
