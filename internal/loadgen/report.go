package loadgen

import (
	"fmt"
	"io"
)

// WriteText prints a result for people.
func WriteText(w io.Writer, r *Result) {
	fmt.Fprintf(w, "%s  %s  concurrency %d, %d fixtures, %d-byte values, %d-byte responses, %d × %gs (+%gs warm-up)\n",
		r.Op, r.Endpoint, r.Concurrency, r.Secrets, r.ValueSize, r.ResponseBytes, r.Rounds, r.DurationS, r.WarmupS)
	fmt.Fprintf(w, "  machine     %d CPUs, GOMAXPROCS %d, %s %s\n", r.Machine.CPUs, r.Machine.GOMAXPROCS, r.Machine.Go, r.Machine.OS)
	writeStats(w, "coffer", &r.Stats)
	if r.Baseline != nil {
		writeStats(w, "baseline", r.Baseline)
	}
	if r.Ratio != nil {
		fmt.Fprintf(w, "  ratio       throughput %.2f of baseline, p99 %.2f× baseline\n", r.Ratio.Throughput, r.Ratio.P99)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "  note        %s\n", n)
	}
}

func writeStats(w io.Writer, name string, s *Stats) {
	fmt.Fprintf(w, "%s\n", name)
	fmt.Fprintf(w, "  requests    %d in %.1fs = %.0f/s, %d errors\n", s.Requests, s.Seconds, s.RPS, s.Errors)
	for _, k := range sortedKeys(s.ErrorsByType) {
		fmt.Fprintf(w, "    %-28s %d", k, s.ErrorsByType[k])
		if m := s.ErrorSamples[k]; m != "" {
			fmt.Fprintf(w, "  (%s)", m)
		}
		fmt.Fprintln(w)
	}
	l := s.LatencyUS
	fmt.Fprintf(w, "  latency     p50 %s  p90 %s  p99 %s  max %s  mean %s\n", us(l.P50), us(l.P90), us(l.P99), us(l.Max), us(l.Mean))
	fmt.Fprintf(w, "  client CPU  %.1f µs/request", s.ClientCPUUS)
	if name == "baseline" {
		fmt.Fprint(w, " (client and in-process server)")
	}
	fmt.Fprintln(w)
	if s.ServerCPUUS != nil {
		fmt.Fprintf(w, "  server CPU  %.1f µs/request", *s.ServerCPUUS)
		if s.ServerRSSMB != nil {
			fmt.Fprintf(w, ", RSS %.0f MB", *s.ServerRSSMB)
		}
		fmt.Fprintln(w)
	}
}

func us(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2fs", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.2fms", v/1e3)
	}
	return fmt.Sprintf("%.0fµs", v)
}
