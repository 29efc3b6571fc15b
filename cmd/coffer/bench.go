package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/coffer-dev/coffer/internal/loadgen"
)

const benchUsage = `Usage: coffer bench --endpoint URL --credentials FILE --op OP [flags]

Sends SigV4-signed requests of one operation to a Coffer (or any AWS-compatible)
server over --concurrency keep-alive connections and reports requests/s,
latency percentiles, errors by AWS error type, the client's CPU and the
server's CPU per request (from the server's /metrics). It first creates its
fixtures: secrets named coffer-bench/v<size>/<n> (kept and reused), or, for
PutSecretValue, secrets of the run's own (deleted afterwards), or a KMS key
alias/coffer-bench and ciphertexts.

OP is one of: ` + "GetSecretValue, PutSecretValue, DescribeSecret, ListSecrets, Encrypt, Decrypt, GenerateDataKey" + `

Examples:
  coffer bench --endpoint http://127.0.0.1:8484 --credentials ./coffer-data/credentials \
      --op GetSecretValue --secrets 1000 --value-size 200 --concurrency 64 --duration 10s --baseline
  coffer bench --endpoint http://127.0.0.1:8484 --credentials ./coffer-data/credentials \
      --op PutSecretValue --concurrency 64 --duration 10s --json

Flags:
`

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var (
		cfg      loadgen.Config
		credPath string
		profile  string
		jsonOut  bool
		quiet    bool
	)
	fs := flag.NewFlagSet("coffer bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, benchUsage); fs.PrintDefaults() }
	fs.StringVar(&cfg.Endpoint, "endpoint", envOr("COFFER_ENDPOINT", "http://127.0.0.1:8484"), "server URL (also COFFER_ENDPOINT)")
	fs.StringVar(&credPath, "credentials", "", "AWS shared-credentials file, e.g. <data-dir>/credentials (default ./coffer-data/credentials)")
	fs.StringVar(&profile, "profile", "default", "profile in the credentials file")
	fs.StringVar(&cfg.Region, "region", envOr("AWS_REGION", "us-east-1"), "region to sign for")
	fs.StringVar(&cfg.Op, "op", "GetSecretValue", "operation: "+strings.Join(loadgen.Ops, ", "))
	fs.IntVar(&cfg.Secrets, "secrets", 1000, "fixture secrets (Decrypt: ciphertexts)")
	fs.IntVar(&cfg.ValueSize, "value-size", 200, "bytes per secret value (KMS: plaintext bytes)")
	fs.IntVar(&cfg.Concurrency, "concurrency", 64, "connections, one request in flight on each")
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Second, "measured time")
	fs.DurationVar(&cfg.Warmup, "warmup", 2*time.Second, "unmeasured time before it")
	fs.IntVar(&cfg.Rounds, "rounds", 1, "repeat warm-up and measurement this many times, alternating with the baseline, and report them together (evens out load from elsewhere on a shared machine)")
	fs.BoolVar(&cfg.Baseline, "baseline", false, "also run the same load against an in-process bare net/http handler with a body of the same size, and print the ratios")
	fs.BoolVar(&jsonOut, "json", false, "print one JSON object instead of text")
	fs.StringVar(&cfg.Prefix, "prefix", "", "fixture secret name prefix (default coffer-bench/v<size>, or a fresh one per PutSecretValue run)")
	fs.BoolVar(&cfg.SkipCreate, "skip-create", false, "read operations: assume the fixture secrets exist (from an earlier run) and do not create them")
	fs.BoolVar(&cfg.KeepFixtures, "keep-fixtures", false, "keep a PutSecretValue run's own fixture secrets")
	fs.BoolVar(&cfg.InsecureTLS, "insecure-skip-verify", false, "do not verify the server's TLS certificate")
	fs.BoolVar(&quiet, "quiet", false, "no progress lines on stderr")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if credPath == "" {
		credPath = filepath.Join(envOr("COFFER_DATA_DIR", "./coffer-data"), "credentials")
	}
	creds, err := loadgen.ReadCredentials(credPath, profile)
	if err != nil {
		return fmt.Errorf("credentials: %w", err)
	}
	cfg.Credentials = creds
	if !quiet {
		cfg.Log = stderr
	}
	res, err := loadgen.Run(ctx, cfg)
	if err != nil {
		return err
	}
	if jsonOut {
		b, err := json.Marshal(res)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, string(b))
		return nil
	}
	loadgen.WriteText(stdout, res)
	return nil
}
