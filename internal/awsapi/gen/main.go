// Command gen generates the Go wire types of an awsJson1_1 service from its
// botocore service model: one <Op>Input and <Op>Output struct per operation,
// one struct per nested structure shape, Validate and AuditParams methods on
// every input, and the Operations table.
//
// Usage (from the module root):
//
//	go run ./internal/awsapi/gen -model internal/awsapi/gen/models/secretsmanager-service-2.json \
//		-pkg smapi -out internal/awsapi/smapi/types_gen.go
//
// The output packages carry matching //go:generate lines, so
// `go generate ./internal/awsapi/...` regenerates everything. Patterns that
// Go's RE2 cannot express are reported on stderr and listed at the top of
// the generated file; they are not enforced.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	modelPath := flag.String("model", "", "botocore service-2.json model `file`")
	pkg := flag.String("pkg", "", "Go package `name` of the output")
	out := flag.String("out", "", "output `file` (default: stdout)")
	flag.Parse()
	if *modelPath == "" || *pkg == "" {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*modelPath, *pkg, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(modelPath, pkg, out string) error {
	data, err := os.ReadFile(modelPath)
	if err != nil {
		return err
	}
	src, skipped, err := generate(data, filepath.Base(modelPath), pkg)
	if err != nil {
		return err
	}
	for _, s := range skipped {
		fmt.Fprintf(os.Stderr, "gen: %s: pattern %s not enforced: %s\n", s.shape, s.pattern, s.reason)
	}
	if out == "" {
		_, err = os.Stdout.Write(src)
		return err
	}
	return os.WriteFile(out, src, 0o644)
}
