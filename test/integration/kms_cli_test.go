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

// TestKMSCLISmoke runs test/smoke/kms_cli.sh (the AWS CLI v2 at
// /usr/bin/aws) against a fresh server.
func TestKMSCLISmoke(t *testing.T) {
	requireTool(t, "/usr/bin/aws")
	s := startServer(t, serverOpts{})
	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "..", "smoke", "kms_cli.sh")
	// The CLI takes seconds per call on a busy machine; the script makes
	// about fifty calls.
	c, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(c, "bash", script)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env,
		"COFFER_URL="+s.URL,
		"AWS_ACCESS_KEY_ID="+s.KeyID,
		"AWS_SECRET_ACCESS_KEY="+s.Secret,
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_REGION=us-east-1",
	)
	out, err := cmd.CombinedOutput()
	t.Log(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("kms_cli.sh: %v", err)
	}
}
