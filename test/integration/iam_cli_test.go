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

// TestIAMCLISmoke runs test/smoke/iam_cli.sh (the AWS CLI v2 at
// /usr/bin/aws; users, access keys, a managed policy, least privilege,
// AssumeRole and `coffer iam explain`) with the binary under test. The
// script starts its own server.
func TestIAMCLISmoke(t *testing.T) {
	requireTool(t, "/usr/bin/aws")
	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "..", "smoke", "iam_cli.sh")
	c, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(c, "bash", script)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "COFFER_") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "COFFER="+binary)
	out, err := cmd.CombinedOutput()
	t.Log(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("iam_cli.sh: %v", err)
	}
	if !strings.Contains(string(out), "iam_cli.sh: OK") {
		t.Fatalf("iam_cli.sh ended without its OK line")
	}
}
