package integration

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	_ "github.com/mattn/go-sqlite3"
)

// runCoffer runs the binary with args until it exits (it is expected to
// refuse to start) and returns its exit code and combined output.
func runCoffer(t *testing.T, env []string, args ...string) (int, string) {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(c, binary, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, string(out)
	case errors.As(err, &ee) && c.Err() == nil:
		return ee.ExitCode(), string(out)
	}
	t.Fatalf("coffer %v: %v\n%s", args, err, out)
	return -1, ""
}

// exitCode waits for the server to exit and returns its exit code.
func (s *server) exitCode(t *testing.T) int {
	t.Helper()
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		t.Fatal("coffer did not exit")
	}
	return s.cmd.ProcessState.ExitCode()
}

func TestHealthz(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOpts{})
	res, err := http.Get(s.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || !strings.Contains(string(b), `"status":"ok"`) {
		t.Fatalf("%d %s", res.StatusCode, b)
	}
}

// TestGracefulShutdown: SIGTERM and SIGINT stop the server with exit code
// 0 after the request in flight has completed; new connections are refused
// meanwhile.
func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			s := startServer(t, serverOpts{})
			body := []byte(`{"Name":"inflight","SecretString":"` + strings.Repeat("v", 2000) + `","ClientRequestToken":"` + tokN(1) + `"}`)
			pr, pw := io.Pipe()
			req, err := http.NewRequest(http.MethodPost, s.URL+"/", pr)
			if err != nil {
				t.Fatal(err)
			}
			req.ContentLength = int64(len(body))
			req.Header.Set("Content-Type", "application/x-amz-json-1.1")
			req.Header.Set("X-Amz-Target", "secretsmanager.CreateSecret")
			signAt(t, req, string(body), s.creds(), "secretsmanager", "us-east-1", time.Now())
			type result struct {
				status int
				body   string
				err    error
			}
			done := make(chan result, 1)
			go func() {
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					done <- result{err: err}
					return
				}
				defer res.Body.Close()
				b, _ := io.ReadAll(res.Body)
				done <- result{status: res.StatusCode, body: string(b)}
			}()
			if _, err := pw.Write(body[:100]); err != nil { // the handler is now reading the body
				t.Fatal(err)
			}
			time.Sleep(300 * time.Millisecond)
			if err := s.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			// The listener closes while the request is still in flight.
			addr := strings.TrimPrefix(s.URL, "http://")
			deadline := time.Now().Add(10 * time.Second)
			for {
				c, err := net.DialTimeout("tcp", addr, time.Second)
				if err != nil {
					break
				}
				c.Close()
				if time.Now().After(deadline) {
					t.Fatal("still accepting connections after the signal")
				}
				time.Sleep(20 * time.Millisecond)
			}
			select {
			case <-s.exited:
				t.Fatal("exited with a request in flight")
			default:
			}
			if _, err := pw.Write(body[100:]); err != nil {
				t.Fatal(err)
			}
			pw.Close()
			r := <-done
			if r.err != nil || r.status != http.StatusOK {
				t.Fatalf("in-flight request: %d %s %v", r.status, r.body, r.err)
			}
			if code := s.exitCode(t); code != 0 {
				t.Fatalf("exit code %d after %v\n%s", code, sig, s.logs)
			}
			if !strings.Contains(s.logs.String(), "stopped") {
				t.Errorf("no clean stop in the log:\n%s", s.logs)
			}
			// The acknowledged write is there after a restart.
			s.start()
			g, err := s.sm().GetSecretValue(ctx(t), &sm.GetSecretValueInput{SecretId: aws.String("inflight")})
			if err != nil || len(*g.SecretString) != 2000 {
				t.Fatalf("after restart: %v", err)
			}
		})
	}
}

// TestListenPolicy: plain HTTP on a non-loopback address is refused unless
// --insecure-http; --tls-cert and --tls-key must come together.
func TestListenPolicy(t *testing.T) {
	t.Parallel()
	t.Run("refused", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		code, out := runCoffer(t, nil, "server", "--listen", "0.0.0.0:0", "--data-dir", dir)
		if code == 0 || !strings.Contains(out, "refusing to serve plain HTTP on 0.0.0.0:0") || !strings.Contains(out, "--insecure-http") {
			t.Fatalf("exit %d:\n%s", code, out)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("refused start touched the data dir: %v", entries)
		}
	})
	t.Run("half TLS", func(t *testing.T) {
		t.Parallel()
		code, out := runCoffer(t, nil, "server", "--listen", "127.0.0.1:0", "--data-dir", t.TempDir(), "--tls-cert", "x.pem")
		if code == 0 || !strings.Contains(out, "--tls-cert and --tls-key must be given together") {
			t.Fatalf("exit %d:\n%s", code, out)
		}
	})
	t.Run("insecure-http", func(t *testing.T) {
		t.Parallel()
		s := startServer(t, serverOpts{args: []string{"--listen", "0.0.0.0:0", "--insecure-http"}})
		if !strings.HasPrefix(s.URL, "http://0.0.0.0:") && !strings.HasPrefix(s.URL, "http://[::]:") {
			t.Fatalf("URL %s", s.URL)
		}
		s.URL = loopback(s.URL)
		if _, err := s.sm().ListSecrets(ctx(t), &sm.ListSecretsInput{}); err != nil {
			t.Fatal(err)
		}
	})
}

// selfSigned writes a throwaway certificate for 127.0.0.1 and localhost.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "coffer test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv4zero},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestTLS: with --tls-cert/--tls-key the server speaks HTTPS (also on a
// non-loopback address, without --insecure-http) and the SDK works over it.
func TestTLS(t *testing.T) {
	t.Parallel()
	certFile, keyFile, pool := selfSigned(t)
	s := startServer(t, serverOpts{args: []string{"--listen", "0.0.0.0:0", "--tls-cert", certFile, "--tls-key", keyFile}})
	if !strings.HasPrefix(s.URL, "https://") {
		t.Fatalf("URL %s", s.URL)
	}
	url := loopback(s.URL)
	cfg := s.awsConfig()
	cfg.HTTPClient = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	c := sm.NewFromConfig(cfg, func(o *sm.Options) { o.BaseEndpoint = aws.String(url) })
	if _, err := c.CreateSecret(ctx(t), &sm.CreateSecretInput{Name: aws.String("tls/a"), SecretString: aws.String("over TLS")}); err != nil {
		t.Fatal(err)
	}
	g, err := c.GetSecretValue(ctx(t), &sm.GetSecretValueInput{SecretId: aws.String("tls/a")})
	if err != nil || *g.SecretString != "over TLS" {
		t.Fatalf("%v %v", g, err)
	}
	// Plain HTTP to the TLS port gets no API answer.
	res, err := http.Post(strings.Replace(url, "https://", "http://", 1)+"/", "application/x-amz-json-1.1", strings.NewReader("{}"))
	if err == nil {
		defer res.Body.Close()
		if res.StatusCode == http.StatusOK || res.Header.Get("x-amzn-RequestId") != "" {
			t.Fatalf("plain HTTP answered by the API: %d", res.StatusCode)
		}
	}
	// TLS 1.1 is refused.
	conn, err := tls.Dial("tcp", strings.TrimPrefix(url, "https://"), &tls.Config{RootCAs: pool, MaxVersion: tls.VersionTLS11})
	if err == nil {
		conn.Close()
		t.Fatal("TLS 1.1 accepted")
	}
}

// TestAccountID: --account-id is recorded at first start; a restart
// without it keeps it; a different one is refused without touching data.
func TestAccountID(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOpts{args: []string{"--account-id", "111122223333"}})
	out, err := s.sm().CreateSecret(ctx(t), &sm.CreateSecretInput{Name: aws.String("acct"), SecretString: aws.String("v")})
	if err != nil || !strings.HasPrefix(*out.ARN, "arn:aws:secretsmanager:us-east-1:111122223333:secret:acct-") {
		t.Fatalf("%v %v", out, err)
	}
	s.stop(syscall.SIGTERM)
	s.args = nil
	s.start()
	d, err := s.sm().DescribeSecret(ctx(t), &sm.DescribeSecretInput{SecretId: out.ARN})
	if err != nil || *d.ARN != *out.ARN {
		t.Fatalf("after restart without --account-id: %v %v", d, err)
	}
	n, err := s.sm().CreateSecret(ctx(t), &sm.CreateSecretInput{Name: aws.String("acct2")})
	if err != nil || !strings.Contains(*n.ARN, ":111122223333:") {
		t.Fatalf("new secret after restart: %v %v", n, err)
	}
	s.stop(syscall.SIGTERM)
	code, msg := runCoffer(t, nil, "server", "--listen", "127.0.0.1:0", "--data-dir", s.DataDir, "--account-id", "444455556666")
	if code == 0 || !strings.Contains(msg, "--account-id 444455556666 differs from 111122223333") {
		t.Fatalf("exit %d:\n%s", code, msg)
	}
	code, msg = runCoffer(t, nil, "server", "--listen", "127.0.0.1:0", "--data-dir", t.TempDir(), "--account-id", "12345")
	if code == 0 || !strings.Contains(msg, "--account-id must be 12 digits") {
		t.Fatalf("exit %d:\n%s", code, msg)
	}
	s.start()
	if _, err := s.sm().DescribeSecret(ctx(t), &sm.DescribeSecretInput{SecretId: out.ARN}); err != nil {
		t.Fatal(err)
	}
}

// loopback turns the URL of a server listening on all addresses into one
// on 127.0.0.1.
func loopback(u string) string {
	return strings.NewReplacer("[::]", "127.0.0.1", "0.0.0.0", "127.0.0.1").Replace(u)
}

func newRootKey() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

func hashFile(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// TestWrongRootKey: starting with another root key fails with a clear
// message and changes nothing; the right key reads everything again.
func TestWrongRootKey(t *testing.T) {
	t.Parallel()
	right, wrong := newRootKey(), newRootKey()
	s := startServer(t, serverOpts{env: []string{"COFFER_ROOT_KEY=" + right}})
	if _, err := os.Stat(filepath.Join(s.DataDir, "root.key")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("root.key written although COFFER_ROOT_KEY was given: %v", err)
	}
	if _, err := s.sm().CreateSecret(ctx(t), &sm.CreateSecretInput{Name: aws.String("rk"), SecretString: aws.String("root-key-test-value")}); err != nil {
		t.Fatal(err)
	}
	s.stop(syscall.SIGTERM)
	before := map[string][32]byte{}
	for _, f := range []string{"coffer.db", "credentials"} {
		before[f] = hashFile(t, filepath.Join(s.DataDir, f))
	}
	for _, c := range []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"environment", []string{"COFFER_ROOT_KEY=" + wrong}, nil, "refusing to start (no data was changed)"},
		{"file", nil, []string{"--root-key-file", writeKeyFile(t, wrong)}, "refusing to start (no data was changed)"},
		{"no key given", []string{"COFFER_ROOT_KEY="}, nil, "no root key given for " + s.DataDir + ", which already holds data"},
	} {
		code, out := runCoffer(t, c.env, append([]string{"server", "--listen", "127.0.0.1:0", "--data-dir", s.DataDir}, c.args...)...)
		if code == 0 || !strings.Contains(out, c.want) {
			t.Fatalf("%s: exit %d:\n%s", c.name, code, out)
		}
		if strings.Contains(out, wrong) || strings.Contains(out, right) {
			t.Errorf("%s: the message shows a root key", c.name)
		}
		for f, h := range before {
			if hashFile(t, filepath.Join(s.DataDir, f)) != h {
				t.Errorf("%s: %s changed", c.name, f)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(s.DataDir, "root.key")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a start without a key wrote a development root key into a data dir that holds data: %v", err)
	}
	s.start()
	g, err := s.sm().GetSecretValue(ctx(t), &sm.GetSecretValueInput{SecretId: aws.String("rk")})
	if err != nil || *g.SecretString != "root-key-test-value" {
		t.Fatalf("with the right key again: %v %v", g, err)
	}
}

func writeKeyFile(t *testing.T, key string) string {
	p := filepath.Join(t.TempDir(), "root.key")
	if err := os.WriteFile(p, []byte(key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRootCredentialsFromEnvironment: COFFER_ROOT_ACCESS_KEY_ID and
// COFFER_ROOT_SECRET_ACCESS_KEY are the root's key; no credentials file is
// written and the secret key is not logged.
func TestRootCredentialsFromEnvironment(t *testing.T) {
	t.Parallel()
	const id, secret = "AKIAENVIRONMENT00001", "EnvironmentSecretKey/0123456789abcdefghij"
	s := startServer(t, serverOpts{env: []string{"COFFER_ROOT_ACCESS_KEY_ID=" + id, "COFFER_ROOT_SECRET_ACCESS_KEY=" + secret}, args: []string{"--log-level", "debug"}})
	if s.KeyID != id {
		t.Fatalf("harness key %s", s.KeyID)
	}
	if _, err := s.sm().ListSecrets(ctx(t), &sm.ListSecretsInput{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(s.DataDir, "credentials")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("credentials file written: %v", err)
	}
	s.restart(syscall.SIGTERM)
	if _, err := s.sm().ListSecrets(ctx(t), &sm.ListSecretsInput{}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(s.logs.String(), secret) {
		t.Error("the secret key is in the log")
	}
	code, out := runCoffer(t, []string{"COFFER_ROOT_ACCESS_KEY_ID=" + id, "COFFER_ROOT_SECRET_ACCESS_KEY="}, "server", "--listen", "127.0.0.1:0", "--data-dir", t.TempDir())
	if code == 0 || !strings.Contains(out, "both COFFER_ROOT_ACCESS_KEY_ID and COFFER_ROOT_SECRET_ACCESS_KEY must be set") {
		t.Fatalf("half the credentials: exit %d\n%s", code, out)
	}
}

// TestDataDirPermissions: the generated credentials file (AWS shared
// credentials format, profile default) and every other secret-bearing file
// are owner-only; the secret key is never logged.
func TestDataDirPermissions(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOpts{args: []string{"--log-level", "debug"}})
	b, err := os.ReadFile(filepath.Join(s.DataDir, "credentials"))
	if err != nil {
		t.Fatal(err)
	}
	want := "[default]\naws_access_key_id = " + s.KeyID + "\naws_secret_access_key = " + s.Secret + "\n"
	if string(b) != want || !strings.HasPrefix(s.KeyID, "AKIA") || len(s.KeyID) != 20 || len(s.Secret) != 40 {
		t.Errorf("credentials file:\n%s", b)
	}
	if _, err := s.sm().ListSecrets(ctx(t), &sm.ListSecretsInput{}); err != nil {
		t.Fatal(err)
	}
	check := func(name string, want os.FileMode) {
		fi, err := os.Stat(filepath.Join(s.DataDir, name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			return
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: mode %v, want %v", name, got, want)
		}
	}
	check("credentials", 0o600)
	check("root.key", 0o600)
	check("coffer.db", 0o600)
	check("coffer.db-wal", 0o600)
	sub := filepath.Join(t.TempDir(), "fresh")
	s2 := startServer(t, serverOpts{dataDir: sub})
	if fi, err := os.Stat(sub); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("new data dir mode: %v %v", fi.Mode(), err)
	}
	s.restart(syscall.SIGTERM) // a restart neither rewrites nor logs the key
	if b2, _ := os.ReadFile(filepath.Join(s.DataDir, "credentials")); !bytes.Equal(b, b2) {
		t.Error("credentials file rewritten on restart")
	}
	for _, srv := range []*server{s, s2} {
		if strings.Contains(srv.logs.String(), srv.Secret) {
			t.Error("the secret key is in the log")
		}
		if !strings.Contains(srv.logs.String(), srv.KeyID) && srv == s2 {
			t.Error("the log does not name the access key id it created")
		}
	}
}

// TestBackgroundPurge: the purge loop removes a secret whose recovery
// window has ended. Seven days cannot pass in a test, so the window's end
// is moved into the past in the stopped server's database; the loop runs at
// start-up.
func TestBackgroundPurge(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOpts{})
	c := s.sm()
	for _, n := range []string{"purge/due", "purge/later"} {
		if _, err := c.CreateSecret(ctx(t), &sm.CreateSecretInput{Name: aws.String(n), SecretString: aws.String("v")}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.DeleteSecret(ctx(t), &sm.DeleteSecretInput{SecretId: aws.String(n), RecoveryWindowInDays: aws.Int64(7)}); err != nil {
			t.Fatal(err)
		}
	}
	s.stop(syscall.SIGTERM)
	backdate(t, filepath.Join(s.DataDir, "coffer.db"), "purge/due", time.Now().Add(-time.Minute))
	s.start()
	c = s.sm()
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := c.DescribeSecret(ctx(t), &sm.DescribeSecretInput{SecretId: aws.String("purge/due")})
		if err != nil {
			wantAPIError(t, err, "ResourceNotFoundException", msgNotFound)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("purge/due not purged:\n%s", s.logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if d, err := c.DescribeSecret(ctx(t), &sm.DescribeSecretInput{SecretId: aws.String("purge/later")}); err != nil || d.DeletedDate == nil {
		t.Fatalf("purge/later: %v %v", d, err)
	}
	if !strings.Contains(s.logs.String(), "purged secret at the end of its recovery window") {
		t.Errorf("no purge in the log:\n%s", s.logs)
	}
	// The name is free again.
	if _, err := c.CreateSecret(ctx(t), &sm.CreateSecretInput{Name: aws.String("purge/due"), SecretString: aws.String("new")}); err != nil {
		t.Fatal(err)
	}
}

// backdate moves the end of a deleted secret's recovery window to at, in
// the database of a stopped server.
func backdate(t *testing.T, path, name string, at time.Time) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var doc []byte
	if err := db.QueryRow("SELECT doc FROM secrets WHERE name = ?", name).Scan(&doc); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(doc, &m); err != nil {
		t.Fatal(err)
	}
	if _, ok := m["purgeAt"]; !ok {
		t.Fatalf("no purgeAt in %s", doc)
	}
	m["purgeAt"] = at.UTC().Format(time.RFC3339Nano)
	m["deletedAt"] = at.Add(-7 * 24 * time.Hour).UTC().Format(time.RFC3339Nano)
	doc, _ = json.Marshal(m)
	if _, err := db.Exec("UPDATE secrets SET purge_ms = ?, doc = ? WHERE name = ?", at.UnixMilli(), doc, name); err != nil {
		t.Fatal(err)
	}
}
