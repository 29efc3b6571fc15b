package integration

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// cofferRun runs the coffer binary (not the server) and returns its stdout,
// stderr and exit code.
func cofferRun(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		t.Fatalf("coffer %v: %v", args, err)
	}
	return out.String(), errb.String(), code
}

// auditLine is one JSON Lines record as the mirrors and `--json` print it.
type auditLine struct {
	Seq   uint64          `json:"seq"`
	Event json.RawMessage `json:"event"`
}

// parseAuditLines parses JSON Lines records (lines that are not records,
// such as the server's start-up line on stdout, are skipped).
func parseAuditLines(t *testing.T, data string) []map[string]any {
	t.Helper()
	var evs []map[string]any
	sc := bufio.NewScanner(strings.NewReader(data))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		if !strings.HasPrefix(sc.Text(), `{"seq":`) {
			continue
		}
		var l auditLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("audit line %q: %v", sc.Text(), err)
		}
		var ev map[string]any
		if err := json.Unmarshal(l.Event, &ev); err != nil {
			t.Fatal(err)
		}
		ev["_seq"] = float64(l.Seq)
		evs = append(evs, ev)
	}
	return evs
}

// auditEvents returns every event in the server's store, oldest first,
// read with `coffer audit tail --json` (which works while the server runs).
func (s *server) auditEvents(t *testing.T) []map[string]any {
	t.Helper()
	out, errOut, code := cofferRun(t, nil, "audit", "tail", "--data-dir", s.DataDir, "-n", "1000000", "--json")
	if code != 0 {
		t.Fatalf("coffer audit tail: %d %s", code, errOut)
	}
	return parseAuditLines(t, out)
}

// findEvent returns the last event matching every field (dotted paths).
func findEvent(evs []map[string]any, match map[string]any) map[string]any {
	for i := len(evs) - 1; i >= 0; i-- {
		ok := true
		for k, v := range match {
			ok = ok && jsonPath(evs[i], k) == v
		}
		if ok {
			return evs[i]
		}
	}
	return nil
}

// jsonPath walks "a.b.0.c" in decoded JSON.
func jsonPath(v any, path string) any {
	for _, p := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		case []any:
			i := 0
			for _, c := range p {
				i = i*10 + int(c-'0')
			}
			if i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// callJSON sends one signed JSON 1.1 request (for APIs the Go SDK of
// go.mod does not cover, such as CloudTrail) and returns the status, the
// error type and the body.
func (s *server) callJSON(t *testing.T, keyID, secret, token, service, target, body string) (int, string, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", target)
	if token != "" {
		req.Header.Set("X-Amz-Security-Token", token)
	}
	sum := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: keyID, SecretAccessKey: secret, SessionToken: token},
		req, hex.EncodeToString(sum[:]), service, "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("x-amzn-ErrorType"), b
}

// rootCLI runs the AWS CLI v2 against the server as the account root
// (awsCLI is in iam_helpers_test.go); a failure returns its stderr.
func (s *server) rootCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	out, errOut, err := s.awsCLI(t, creds{ID: s.KeyID, Secret: s.Secret}, append([]string{"--region", "us-east-1"}, args...)...)
	if err != nil {
		return out, errors.New(errOut)
	}
	return out, nil
}
