package integration

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// smokeDir is test/smoke, next to this package.
func smokeDir(t *testing.T) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "smoke")
}

// needTool is requireTool for a condition other than presence on PATH:
// under `make test` (COFFER_REQUIRE_TOOLS=1) an unmet need fails the test,
// otherwise it skips.
func needTool(t *testing.T, ok bool, why string) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("COFFER_REQUIRE_TOOLS") != "" {
		t.Fatalf("%s (run scripts/test-setup.sh)", why)
	}
	t.Skipf("%s (run scripts/test-setup.sh)", why)
}

// runSmoke runs a smoke script against s and fails with its output if it
// fails.
func runSmoke(t *testing.T, s *server, name string, args ...string) {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(c, name, args...)
	cmd.Env = append(os.Environ(),
		"COFFER_URL="+s.URL, "AWS_ACCESS_KEY_ID="+s.KeyID, "AWS_SECRET_ACCESS_KEY="+s.Secret, "AWS_REGION=us-east-1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s\nserver log:\n%s", name, strings.Join(args, " "), err, out, s.logs)
	}
	if !strings.Contains(string(out), "PASS") {
		t.Fatalf("no PASS line:\n%s", out)
	}
	if testing.Verbose() {
		t.Logf("%s", out)
	}
}

// TestSmoke runs test/smoke/cli.sh (AWS CLI v2, Debian's /usr/bin/aws —
// not an aws v1 earlier on PATH) and test/smoke/boto3_smoke.py against the
// binary.
func TestSmoke(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOpts{})
	dir := smokeDir(t)
	t.Run("aws-cli-v2", func(t *testing.T) {
		t.Parallel()
		const cli = "/usr/bin/aws"
		if !requireTool(t, cli) {
			return
		}
		v, err := exec.Command(cli, "--version").CombinedOutput()
		needTool(t, err == nil && strings.HasPrefix(string(v), "aws-cli/2."), cli+" is not the AWS CLI v2: "+string(v))
		runSmoke(t, s, filepath.Join(dir, "cli.sh"))
	})
	t.Run("boto3", func(t *testing.T) {
		t.Parallel()
		if !requireTool(t, "python3") {
			return
		}
		// The python3 on PATH (it may be a pyenv one) or Debian's, which
		// scripts/test-setup.sh gives python3-boto3.
		py := ""
		for _, p := range []string{"python3", "/usr/bin/python3"} {
			if exec.Command(p, "-c", "import boto3").Run() == nil {
				py = p
				break
			}
		}
		needTool(t, py != "", "no python3 can import boto3")
		runSmoke(t, s, py, filepath.Join(dir, "boto3_smoke.py"))
	})
}
