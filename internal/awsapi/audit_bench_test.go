package awsapi_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
)

// BenchmarkEdgeAudit measures an authenticated GetSecretValue through the
// whole edge (routing, SigV4, decode, authorize, store, audit, commit,
// encode) with the audit trail off and on, many requests in flight (group
// commit needs concurrency: 32 goroutines per CPU), called in process
// (inproc: the edge alone) and over loopback HTTP/1.1 (http: what clients
// see). Compare audit=off and audit=on with benchstat; with audit on every
// request waits for the fsync of its batch.
func BenchmarkEdgeAudit(b *testing.B) {
	for _, transport := range []string{"inproc", "http"} {
		for _, mode := range []string{"off", "on"} {
			b.Run("GetSecretValue/transport="+transport+"/audit="+mode, func(b *testing.B) {
				e := newTestEdge(b, mode == "on")
				e.ok(smTarget+"CreateSecret", `{"Name":"bench","SecretString":"`+string(bytes.Repeat([]byte("v"), 200))+`","ClientRequestToken":"`+newToken()+`"}`)
				body := []byte(`{"SecretId":"bench"}`)
				signed := e.request(rootCreds, smTarget+"GetSecretValue", string(body))
				b.ReportAllocs()
				b.SetParallelism(32)
				c0 := processCPU()
				if transport == "http" {
					benchHTTP(b, e, signed, body)
				} else {
					benchInproc(b, e, signed, body)
				}
				// CPU per request (server, and client for http) is steadier than
				// wall time on a shared machine, and what throughput comes down
				// to once batches are large.
				b.ReportMetric(float64(processCPU()-c0)/float64(b.N), "cpu-ns/op")
			})
		}
	}
}

// benchInproc replays a signed request straight into the handler.
func benchInproc(b *testing.B, e *testEdge, signed *http.Request, body []byte) {
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		w := &discardWriter{h: http.Header{}} // bench_test.go
		for pb.Next() {
			req := signed.Clone(signed.Context())
			req.Body = io.NopCloser(bytes.NewReader(body))
			w.reset()
			e.srv.ServeHTTP(w, req)
			if w.code != http.StatusOK {
				b.Fatalf("status %d", w.code)
			}
		}
	})
}

// benchHTTP replays a signed request over loopback HTTP (keep-alive).
func benchHTTP(b *testing.B, e *testEdge, signed *http.Request, body []byte) {
	ts := httptest.NewServer(e.srv)
	defer ts.Close()
	cl := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1024}}
	defer cl.CloseIdleConnections()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, err := http.NewRequest(http.MethodPost, ts.URL+"/", bytes.NewReader(body))
			if err != nil {
				b.Fatal(err)
			}
			req.Header = signed.Header.Clone()
			req.Host = signed.Host // signed as coffer.test
			resp, err := cl.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
	})
}

// processCPU returns the process's user+system CPU time in nanoseconds.
func processCPU() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}
