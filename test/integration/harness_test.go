// Package integration drives a real coffer binary over loopback with real
// clients: aws-sdk-go-v2, the AWS CLI v2 and boto3.
package integration

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

var binary string // the coffer binary under test, built once

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "coffer-it-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "coffer")
	build := exec.Command("go", "build", "-o", binary, "github.com/coffer-dev/coffer/cmd/coffer")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building coffer:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// server is a running coffer process.
type server struct {
	t       testing.TB
	URL     string
	DataDir string
	KeyID   string
	Secret  string
	cmd     *exec.Cmd
	logs    *syncBuffer
	stdout  *syncBuffer // everything the process printed on stdout
	exited  chan struct{}
	args    []string
	env     []string
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// serverOpts configure startServer.
type serverOpts struct {
	dataDir string   // default: a new temp dir
	args    []string // extra flags
	env     []string // extra environment
}

// startServer starts coffer on a free loopback port and waits until it
// serves. The process is stopped when the test ends.
func startServer(t testing.TB, o serverOpts) *server {
	t.Helper()
	if o.dataDir == "" {
		o.dataDir = t.TempDir()
	}
	s := &server{t: t, DataDir: o.dataDir, args: o.args, env: o.env}
	s.start()
	t.Cleanup(func() { s.stop(syscall.SIGTERM) })
	return s
}

var listenRE = regexp.MustCompile(`Coffer listening on (https?://\S+)`)

func (s *server) start() {
	t := s.t
	t.Helper()
	args := append([]string{"server", "--listen", "127.0.0.1:0", "--data-dir", s.DataDir}, s.args...)
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), s.env...)
	s.logs = &syncBuffer{}
	s.stdout = &syncBuffer{}
	cmd.Stderr = s.logs
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.cmd = cmd
	s.exited = make(chan struct{})
	urls := make(chan string, 1)
	out := s.stdout
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 16<<20)
		for sc.Scan() {
			out.Write(append(sc.Bytes(), '\n'))
			if m := listenRE.FindStringSubmatch(sc.Text()); m != nil {
				urls <- m[1]
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	go func() { cmd.Wait(); close(s.exited) }()
	select {
	case s.URL = <-urls:
	case <-s.exited:
		t.Fatalf("coffer exited at start-up:\n%s", s.logs)
	case <-time.After(60 * time.Second):
		t.Fatalf("coffer did not start in time:\n%s", s.logs)
	}
	s.readCredentials()
}

func (s *server) readCredentials() {
	for _, kv := range s.env {
		if v, ok := strings.CutPrefix(kv, "COFFER_ROOT_ACCESS_KEY_ID="); ok {
			s.KeyID = v
		}
		if v, ok := strings.CutPrefix(kv, "COFFER_ROOT_SECRET_ACCESS_KEY="); ok {
			s.Secret = v
		}
	}
	if s.KeyID != "" {
		return
	}
	b, err := os.ReadFile(filepath.Join(s.DataDir, "credentials"))
	if err != nil {
		s.t.Fatalf("credentials file: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "aws_access_key_id":
			s.KeyID = strings.TrimSpace(v)
		case "aws_secret_access_key":
			s.Secret = strings.TrimSpace(v)
		}
	}
}

// stop signals the server and waits for it to exit.
func (s *server) stop(sig syscall.Signal) {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	select {
	case <-s.exited:
		return
	default:
	}
	s.cmd.Process.Signal(sig)
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
		s.t.Errorf("coffer did not stop after %v", sig)
	}
}

// restart stops the server (with sig) and starts it again on the same data dir.
func (s *server) restart(sig syscall.Signal) {
	s.stop(sig)
	s.start()
}

func (s *server) awsConfig() aws.Config {
	return aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(s.KeyID, s.Secret, ""),
		Retryer:     closedConnRetryer,
	}
}

// closedConnRetryer retries only one failure: a request whose connection
// the client itself closed (net.ErrClosed). Go's transport can close a
// connection from its write loop while a large response is still being
// read, when the SDK closes the request body early; it happens on fast
// loopback servers, and the SDK's default retryer retries it
// (aws/aws-sdk-go-v2#2737, #2949). Every other error reaches the test
// unretried, so assertions on error types stay exact.
func closedConnRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = 3
		o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		o.Retryables = []retry.IsErrorRetryable{retry.IsErrorRetryableFunc(func(err error) aws.Ternary {
			if errors.Is(err, net.ErrClosed) {
				return aws.TrueTernary
			}
			return aws.FalseTernary
		})}
		o.RateLimiter = ratelimit.None
	})
}

func (s *server) sm() *secretsmanager.Client {
	return secretsmanager.NewFromConfig(s.awsConfig(), func(o *secretsmanager.Options) { o.BaseEndpoint = aws.String(s.URL) })
}

func (s *server) kms() *kms.Client {
	return kms.NewFromConfig(s.awsConfig(), func(o *kms.Options) { o.BaseEndpoint = aws.String(s.URL) })
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return c
}

// requireTool reports whether an external tool may be used; under
// `make test` (COFFER_REQUIRE_TOOLS=1) a missing tool fails the test.
func requireTool(t *testing.T, path string) bool {
	t.Helper()
	if _, err := exec.LookPath(path); err == nil {
		return true
	}
	if os.Getenv("COFFER_REQUIRE_TOOLS") != "" {
		t.Fatalf("%s is required (run scripts/test-setup.sh)", path)
	}
	t.Skipf("%s not installed (run scripts/test-setup.sh)", path)
	return false
}
