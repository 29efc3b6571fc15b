package integration

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"testing"
)

// benchResult is the part of coffer bench --json the smoke test checks.
type benchResult struct {
	Op            string           `json:"op"`
	Requests      int64            `json:"requests"`
	Errors        int64            `json:"errors"`
	ErrorsByType  map[string]int64 `json:"errors_by_type"`
	RPS           float64          `json:"rps"`
	ResponseBytes int              `json:"response_bytes"`
	LatencyUS     struct {
		P50, P90, P99, Max float64
	} `json:"latency_us"`
	ClientCPU float64  `json:"client_cpu_us_per_req"`
	ServerCPU *float64 `json:"server_cpu_us_per_req"`
	Baseline  *struct {
		Requests int64   `json:"requests"`
		Errors   int64   `json:"errors"`
		RPS      float64 `json:"rps"`
	} `json:"baseline"`
	Ratio *struct {
		Throughput float64 `json:"throughput"`
		P99        float64 `json:"p99"`
	} `json:"ratio"`
}

// TestBenchSmoke runs coffer bench for a couple of seconds per operation
// against a real server: it must create its fixtures, send only requests
// that succeed, read the server's CPU from /metrics and print one JSON
// object. It is a smoke test: no timing is asserted.
func TestBenchSmoke(t *testing.T) {
	s := startServer(t, serverOpts{})
	creds := filepath.Join(s.DataDir, "credentials")
	cases := []struct {
		op    string
		extra []string
	}{
		{"GetSecretValue", []string{"--baseline"}},
		{"PutSecretValue", nil},
		{"DescribeSecret", nil},
		{"ListSecrets", nil},
	}
	for _, c := range cases {
		t.Run(c.op, func(t *testing.T) {
			args := append([]string{"bench", "--endpoint", s.URL, "--credentials", creds, "--op", c.op,
				"--secrets", "50", "--concurrency", "8", "--warmup", "200ms", "--duration", "1s", "--json"}, c.extra...)
			cmd := exec.Command(binary, args...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("coffer bench: %v\n%s", err, stderr.String())
			}
			var r benchResult
			if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
				t.Fatalf("--json output does not parse: %v\n%s", err, stdout.String())
			}
			if bytes.Count(bytes.TrimSpace(stdout.Bytes()), []byte("\n")) != 0 {
				t.Errorf("--json printed more than one line:\n%s", stdout.String())
			}
			if r.Op != c.op || r.Requests <= 0 || r.RPS <= 0 || r.ResponseBytes <= 0 || r.LatencyUS.P99 <= 0 || r.LatencyUS.Max < r.LatencyUS.P50 {
				t.Errorf("implausible result: %s", stdout.String())
			}
			if r.Errors != 0 || len(r.ErrorsByType) != 0 {
				t.Errorf("errors: %d %v\n%s", r.Errors, r.ErrorsByType, stdout.String())
			}
			if r.ServerCPU == nil || *r.ServerCPU <= 0 {
				t.Errorf("no server CPU per request (is /metrics served?): %s", stdout.String())
			}
			if c.extra != nil {
				if r.Baseline == nil || r.Baseline.Requests <= 0 || r.Baseline.Errors != 0 || r.Ratio == nil || r.Ratio.Throughput <= 0 {
					t.Errorf("--baseline: no baseline or ratio: %s", stdout.String())
				}
			}
		})
	}
}

// TestBenchKMS: the KMS operations create their key (alias/coffer-bench,
// once) and ciphertexts, and run clean.
func TestBenchKMS(t *testing.T) {
	s := startServer(t, serverOpts{})
	for _, op := range []string{"Encrypt", "Decrypt", "GenerateDataKey"} {
		t.Run(op, func(t *testing.T) {
			cmd := exec.Command(binary, "bench", "--endpoint", s.URL, "--credentials", filepath.Join(s.DataDir, "credentials"),
				"--op", op, "--secrets", "20", "--concurrency", "4", "--warmup", "100ms", "--duration", "500ms", "--json", "--quiet")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("coffer bench --op %s: %v\n%s", op, err, stderr.String())
			}
			var r benchResult
			if err := json.Unmarshal(out, &r); err != nil {
				t.Fatalf("--json output does not parse: %v\n%s", err, out)
			}
			if r.Requests <= 0 || r.Errors != 0 || r.ServerCPU == nil {
				t.Fatalf("KMS %s: %s", op, out)
			}
		})
	}
}
