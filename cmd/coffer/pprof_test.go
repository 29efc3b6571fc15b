package main

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

// TestPprofLoopbackOnly: --pprof serves profiles on loopback and refuses
// any other address.
func TestPprofLoopbackOnly(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:6060", "example.com:6060", "nonsense"} {
		if stop, err := startPprof(addr, log); err == nil {
			stop()
			t.Errorf("startPprof(%q) accepted a non-loopback address", addr)
		}
	}
	stop, err := startPprof("", log) // off
	if err != nil {
		t.Fatal(err)
	}
	stop()
}

func TestPprofServes(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ln, err := listenPprof("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	stop := servePprof(ln, log)
	defer stop()
	resp, err := http.Get("http://" + ln.Addr().String() + "/debug/pprof/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "test") {
		t.Fatalf("GET /debug/pprof/cmdline: %d %q", resp.StatusCode, b)
	}
}
