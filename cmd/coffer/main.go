// Command coffer is Coffer's single binary: the server and its tools.
//
//	coffer server [flags]     run the AWS-compatible API server
//	coffer audit <sub> [flags] verify|checkpoint|tail|query the audit trail
//	coffer bench [flags]      load-test a server (see docs/PERFORMANCE.md)
//	coffer migrate --from S --to S   copy a store (SQLite ⇄ PostgreSQL), still encrypted
//	coffer backup --out FILE  write a consistent encrypted snapshot of a store
//	coffer restore --in FILE  load a snapshot into an empty store
//	coffer iam explain …      explain an IAM decision offline
//	coffer root-key rotate    re-wrap key material under a new root key (offline)
//	coffer version            print the version
//
// Run "coffer <command> -h" for a command's flags.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"server", "run the AWS-compatible API server", runServer},
		{"audit", "verify, export, tail and query the audit trail", runAudit},
		{"bench", "load-test a server with signed requests of one operation", runBench},
		{"migrate", "copy every record from one store to another (SQLite ⇄ PostgreSQL), still encrypted", runMigrate},
		{"backup", "write a consistent, still encrypted snapshot of a store to a file", runBackup},
		{"restore", "load a backup file into an empty store", runRestore},
		{"iam", "IAM tools: explain a policy decision offline", runIAM},
		{"root-key", "rotate the root key (offline): coffer root-key rotate -h", runRootKey},
		{"version", "print the version", func(_ context.Context, _ []string, out, _ io.Writer) error {
			fmt.Fprintln(out, "coffer", version)
			return nil
		}},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] {
			if err := c.run(ctx, args[1:], stdout, stderr); err != nil {
				if err == errUsage {
					return 2
				}
				fmt.Fprintf(stderr, "coffer %s: %v\n", c.name, err)
				return 1
			}
			return 0
		}
	}
	fmt.Fprintf(stderr, "coffer: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

// errUsage means a flag set already reported a usage error.
var errUsage = fmt.Errorf("usage")

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: coffer <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
}
