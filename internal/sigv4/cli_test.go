package sigv4_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestAWSCLI runs the AWS CLI (botocore's signer) against a verifying
// server. It is opt-in, because it needs the aws command and takes seconds:
//
//	COFFER_TEST_AWSCLI=1 go test -run TestAWSCLI -v ./internal/sigv4/
func TestAWSCLI(t *testing.T) {
	if os.Getenv("COFFER_TEST_AWSCLI") == "" {
		t.Skip("set COFFER_TEST_AWSCLI=1 to run the AWS CLI against the verifier")
	}
	aws, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("aws command not found")
	}
	f := &fakeAWS{}
	srv := httptest.NewServer(f)
	defer srv.Close()

	home := t.TempDir()
	calls := [][]string{
		{"secretsmanager", "get-secret-value", "--secret-id", "prod/db"},
		{"secretsmanager", "put-secret-value", "--secret-id", "prod/db", "--secret-string", "ü  spaced  value & more"},
		{"kms", "list-keys"},
		{"sts", "get-caller-identity"},
	}
	for _, creds := range [][3]string{{akid, secret, ""}, {asia, secret3, token}} {
		for _, call := range calls {
			t.Run(creds[0]+" "+strings.Join(call[:2], " "), func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				cmd := exec.CommandContext(ctx, aws, append([]string{"--endpoint-url", srv.URL, "--region", "us-east-1", "--output", "json"}, call...)...)
				cmd.Env = append(os.Environ(),
					"HOME="+home, "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
					"AWS_ACCESS_KEY_ID="+creds[0], "AWS_SECRET_ACCESS_KEY="+creds[1], "AWS_SESSION_TOKEN="+creds[2],
					"AWS_MAX_ATTEMPTS=1", "AWS_PAGER=")
				f.mu.Lock()
				f.seen, f.errors = nil, nil
				f.mu.Unlock()
				out, err := cmd.CombinedOutput()
				f.mu.Lock()
				defer f.mu.Unlock()
				if err != nil || len(f.errors) > 0 || len(f.seen) != 1 {
					t.Fatalf("aws %s: %v\n%s\nserver: seen %q, rejected %q", strings.Join(call, " "), err, out, f.seen, f.errors)
				}
				t.Logf("verified: %s", f.seen[0])
			})
		}
		t.Run(creds[0]+" botocore presigned GetCallerIdentity", func(t *testing.T) {
			python, err := exec.LookPath("python3")
			if err != nil {
				t.Skip("python3 not found")
			}
			const script = `import botocore.session
c = botocore.session.get_session().create_client("sts", region_name="us-east-1", endpoint_url=ENDPOINT)
print(c.generate_presigned_url("get_caller_identity", ExpiresIn=600, HttpMethod="GET"))
print(c.generate_presigned_url("get_caller_identity", ExpiresIn=600))`
			cmd := exec.Command(python, "-c", strings.Replace(script, "ENDPOINT", "'"+srv.URL+"'", 1))
			cmd.Env = append(os.Environ(), "HOME="+home, "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
				"AWS_ACCESS_KEY_ID="+creds[0], "AWS_SECRET_ACCESS_KEY="+creds[1], "AWS_SESSION_TOKEN="+creds[2])
			out, err := cmd.Output()
			if err != nil {
				t.Skipf("botocore presign: %v", err)
			}
			// The first URL is signed for GET; the second, botocore's default
			// for a query-protocol operation, for POST with an empty body.
			urls := strings.Fields(string(out))
			if len(urls) != 2 {
				t.Fatalf("botocore printed %q", out)
			}
			for i, method := range []string{"GET", "POST"} {
				f.mu.Lock()
				f.seen, f.errors = nil, nil
				f.mu.Unlock()
				req, err := http.NewRequest(method, urls[i], nil)
				if err != nil {
					t.Fatal(err)
				}
				resp, err := srv.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				f.mu.Lock()
				if resp.StatusCode != 200 || len(f.errors) > 0 {
					t.Errorf("%s %s: %s, rejected %q", method, urls[i], resp.Status, f.errors)
				} else {
					t.Logf("verified %s: %s", method, f.seen[0])
				}
				f.mu.Unlock()
			}
		})
	}
}
