package loadgen

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Config is one coffer bench run.
type Config struct {
	Endpoint    string // http(s)://host:port of the server
	Credentials Credentials
	Region      string        // default us-east-1
	Op          string        // one of Ops
	Secrets     int           // fixture secrets (or ciphertexts for Decrypt); default 1000
	ValueSize   int           // bytes of each secret value / plaintext; default 200
	Concurrency int           // connections, one request in flight each; default 64
	Duration    time.Duration // measured time per round
	Warmup      time.Duration // before each measured window
	// Rounds repeats the measurement (alternating with the baseline) and
	// reports the windows together; default 1.
	Rounds int
	// Baseline also runs the same client against an in-process bare
	// net/http handler answering a body as large as the operation's.
	Baseline bool
	// Prefix names the fixture secrets (<prefix>/<index>). Default:
	// "coffer-bench/v<size>" for reads (reused across runs) and a fresh
	// "coffer-bench/put-<run id>" for PutSecretValue, whose fixtures are
	// deleted afterwards unless KeepFixtures.
	Prefix       string
	KeepFixtures bool
	// SkipCreate trusts that the fixture secrets of a read operation exist
	// (from an earlier run with the same prefix and --secrets) and does not
	// send the CreateSecret calls; useful with 100,000 fixtures.
	SkipCreate  bool
	InsecureTLS bool          // skip TLS certificate verification
	Timeout     time.Duration // per request; default 30s
	Log         io.Writer     // progress lines; nil discards
}

// Latency percentiles in microseconds.
type Latency struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

// Stats are the measurements of one measured window.
type Stats struct {
	Requests     int64             `json:"requests"` // responses received in the window, errors included
	Errors       int64             `json:"errors"`
	ErrorsByType map[string]int64  `json:"errors_by_type"` // AWS error type, "HTTP <status>" or "TransportError"
	ErrorSamples map[string]string `json:"error_samples,omitempty"`
	Seconds      float64           `json:"seconds"`
	RPS          float64           `json:"rps"`
	LatencyUS    Latency           `json:"latency_us"`
	// ClientCPUUS is the CPU time (user+system, getrusage) of the bench
	// process per request. For the baseline it includes the in-process
	// server.
	ClientCPUUS float64 `json:"client_cpu_us_per_req"`
	// ServerCPUUS is the server's process_cpu_seconds_total increase over
	// the window divided by the requests it counted
	// (coffer_api_requests_total), from its /metrics; absent when the
	// server has no /metrics.
	ServerCPUUS *float64 `json:"server_cpu_us_per_req,omitempty"`
	ServerRSSMB *float64 `json:"server_rss_mb,omitempty"`
}

// Ratio compares a run with its baseline.
type Ratio struct {
	Throughput float64 `json:"throughput"` // rps / baseline rps
	P99        float64 `json:"p99"`        // p99 / baseline p99
}

// Machine describes where the run happened.
type Machine struct {
	CPUs       int    `json:"cpus"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	Go         string `json:"go"`
	OS         string `json:"os"`
}

// Result is a run's report (coffer bench --json prints it).
type Result struct {
	Op            string  `json:"op"`
	Endpoint      string  `json:"endpoint"`
	Secrets       int     `json:"secrets"`
	ValueSize     int     `json:"value_size"`
	Concurrency   int     `json:"concurrency"`
	DurationS     float64 `json:"duration_s"`
	Rounds        int     `json:"rounds"`
	WarmupS       float64 `json:"warmup_s"`
	ResponseBytes int     `json:"response_bytes"`
	Stats
	Baseline *Stats   `json:"baseline,omitempty"`
	Ratio    *Ratio   `json:"ratio,omitempty"`
	Machine  Machine  `json:"machine"`
	Notes    []string `json:"notes,omitempty"`
}

// Run prepares the fixtures, runs the load and, with cfg.Baseline, the
// baseline, and reports.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	def, _ := lookupOp(cfg.Op)
	t, err := newTarget(cfg.Endpoint, cfg)
	if err != nil {
		return nil, err
	}
	res := &Result{
		Op: cfg.Op, Endpoint: cfg.Endpoint, Secrets: cfg.Secrets, ValueSize: cfg.ValueSize,
		Concurrency: cfg.Concurrency, DurationS: cfg.Duration.Seconds(), Rounds: cfg.Rounds, WarmupS: cfg.Warmup.Seconds(),
		Machine: Machine{CPUs: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), Go: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH},
	}

	fx, err := prepare(ctx, cfg, def, t)
	if err != nil {
		return nil, err
	}
	if fx.cleanup != nil {
		defer fx.cleanup()
	}

	// One request before the run: it must succeed, and its response size
	// is what the baseline answers with.
	probe := &worker{id: 0, target: t, def: def}
	body, hash := fx.src.next(probe)
	resp, err := probe.send(body, hash)
	probe.conn.close()
	if err != nil {
		return nil, fmt.Errorf("probe %s: %w", cfg.Op, err)
	}
	if resp.status != http.StatusOK {
		return nil, fmt.Errorf("probe %s: %s", cfg.Op, describe(resp))
	}
	res.ResponseBytes = len(resp.body)

	var bt *target
	if cfg.Baseline {
		var stop func()
		bt, stop, err = startBaseline(res.ResponseBytes, cfg)
		if err != nil {
			return nil, err
		}
		defer stop()
	}
	// Rounds alternate the server and the baseline, so that load from
	// elsewhere on a shared machine falls on both alike.
	var real, base window
	for round := range cfg.Rounds {
		cfg.logf("running %s: %d connections, warm-up %v, %v (round %d of %d)", cfg.Op, cfg.Concurrency, cfg.Warmup, cfg.Duration, round+1, cfg.Rounds)
		w, err := load(ctx, cfg, t, def, fx.src, true)
		if err != nil {
			return nil, err
		}
		real.add(w)
		if bt != nil {
			cfg.logf("running the baseline (bare net/http, %d-byte body)", res.ResponseBytes)
			w, err := load(ctx, cfg, bt, def, fx.src, false)
			if err != nil {
				return nil, err
			}
			base.add(w)
		}
	}
	res.Stats = *real.stats()
	if real.metricsErr != nil {
		res.Notes = append(res.Notes, "no server CPU: "+real.metricsErr.Error())
	}
	if bt != nil {
		bst := base.stats()
		res.Baseline = bst
		if bst.RPS > 0 && bst.LatencyUS.P99 > 0 {
			res.Ratio = &Ratio{Throughput: round(res.RPS/bst.RPS, 3), P99: round(res.LatencyUS.P99/bst.LatencyUS.P99, 3)}
		}
	}
	return res, nil
}

func (c *Config) defaults() error {
	if _, ok := lookupOp(c.Op); !ok {
		return fmt.Errorf("unknown operation %q (one of %v)", c.Op, Ops)
	}
	if c.Endpoint == "" {
		return errors.New("no endpoint")
	}
	if c.Credentials.AccessKeyID == "" {
		return errors.New("no credentials")
	}
	if c.Region == "" {
		c.Region = "us-east-1"
	}
	if c.Secrets <= 0 {
		c.Secrets = 1000
	}
	if c.ValueSize <= 0 {
		c.ValueSize = 200
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 64
	}
	if c.Duration <= 0 {
		c.Duration = 10 * time.Second
	}
	if c.Warmup < 0 {
		c.Warmup = 0
	}
	if c.Rounds <= 0 {
		c.Rounds = 1
	}
	if c.Timeout <= 0 {
		c.Timeout = 30 * time.Second
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
	return nil
}

func (c *Config) logf(format string, args ...any) {
	fmt.Fprintf(c.Log, format+"\n", args...)
}

// target is a server to send requests to.
type target struct {
	base    string // scheme://host:port, no trailing slash
	addr    string // host:port to dial
	host    string // Host header
	tls     *tls.Config
	creds   Credentials
	region  string
	timeout time.Duration
}

func newTarget(endpoint string, cfg Config) (*target, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return nil, fmt.Errorf("--endpoint: %w", err)
	}
	if u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") || (u.Path != "" && u.Path != "/") {
		return nil, fmt.Errorf("--endpoint %q: want http(s)://host[:port]", endpoint)
	}
	t := &target{base: u.Scheme + "://" + u.Host, host: u.Host, creds: cfg.Credentials, region: cfg.Region, timeout: cfg.Timeout}
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	t.addr = net.JoinHostPort(u.Hostname(), port)
	if u.Scheme == "https" {
		t.tls = &tls.Config{ServerName: u.Hostname(), InsecureSkipVerify: cfg.InsecureTLS, NextProtos: []string{"http/1.1"}}
	}
	return t, nil
}

// worker is one connection with one request in flight.
type worker struct {
	id     int
	target *target
	def    opDef
	conn   conn
	signer *Signer
	other  *Signer // for setup calls to the other service
	req    []byte
	body   []byte
	seq    uint64

	scratch []byte
	hash    [sha256.Size]byte

	hist    Histogram
	errs    map[string]int64
	samples map[string]string
}

func (w *worker) signerFor(service string) *Signer {
	t := w.target
	if w.conn.addr == "" {
		w.conn = conn{addr: t.addr, tls: t.tls, timeout: t.timeout}
	}
	if w.signer == nil || w.signer.service != service {
		if w.other != nil && w.other.service == service {
			w.signer, w.other = w.other, w.signer
		} else {
			w.other = w.signer
			w.signer = NewSigner(t.creds, t.region, service, t.host)
		}
	}
	return w.signer
}

// send signs and sends one request of the worker's operation.
func (w *worker) send(body []byte, hash *[sha256.Size]byte) (response, error) {
	return w.call(w.def.service, w.def.target, body, hash)
}

// call signs and sends one request.
func (w *worker) call(service, target string, body []byte, hash *[sha256.Size]byte) (response, error) {
	s := w.signerFor(service)
	if hash == nil {
		h := BodyHash(body)
		hash = &h
	}
	now := time.Now()
	w.req = s.AppendRequest(w.req[:0], now, target, body, hash)
	return w.conn.roundTrip(w.req, &w.body, now)
}

// describe renders a failed response for an error message.
func describe(r response) string {
	typ := r.errorType
	if typ == "" {
		typ = fmt.Sprintf("HTTP %d", r.status)
	}
	msg := jsonMessage(r.body)
	if msg == "" {
		return typ
	}
	return typ + ": " + msg
}

const (
	phaseWarmup int32 = iota
	phaseMeasure
	phaseStop
)

// window is what one measured window (or several, added) saw.
type window struct {
	hist       Histogram
	errs       map[string]int64
	samples    map[string]string
	elapsed    time.Duration
	cpu        time.Duration // this process
	srvCPU     float64       // seconds
	srvReqs    float64
	srvRSS     float64 // bytes, at the end of the last window
	hasServer  bool
	metricsErr error
}

func (a *window) add(b *window) {
	a.hist.Merge(&b.hist)
	if a.errs == nil {
		a.errs, a.samples = map[string]int64{}, map[string]string{}
	}
	for k, v := range b.errs {
		a.errs[k] += v
		if _, ok := a.samples[k]; !ok && b.samples[k] != "" {
			a.samples[k] = b.samples[k]
		}
	}
	a.elapsed += b.elapsed
	a.cpu += b.cpu
	if b.metricsErr != nil {
		a.metricsErr = b.metricsErr
	}
	if b.hasServer {
		a.srvCPU += b.srvCPU
		a.srvReqs += b.srvReqs
		a.srvRSS = b.srvRSS
		a.hasServer = a.metricsErr == nil
	}
}

func (a *window) stats() *Stats {
	h := &a.hist
	st := &Stats{ErrorsByType: map[string]int64{}, Seconds: round(a.elapsed.Seconds(), 3)}
	for k, v := range a.errs {
		st.ErrorsByType[k] = v
		st.Errors += v
		if m := a.samples[k]; m != "" {
			if st.ErrorSamples == nil {
				st.ErrorSamples = map[string]string{}
			}
			st.ErrorSamples[k] = m
		}
	}
	st.Requests = int64(h.Count())
	us := func(d time.Duration) float64 { return round(float64(d)/1e3, 1) }
	if a.elapsed > 0 {
		st.RPS = round(float64(st.Requests)/a.elapsed.Seconds(), 1)
	}
	st.LatencyUS = Latency{P50: us(h.Percentile(50)), P90: us(h.Percentile(90)), P99: us(h.Percentile(99)), Max: us(h.Max()), Mean: us(h.Mean())}
	if st.Requests > 0 {
		st.ClientCPUUS = round(a.cpu.Seconds()*1e6/float64(st.Requests), 1)
	}
	if a.hasServer && a.srvReqs > 0 {
		v := round(a.srvCPU*1e6/a.srvReqs, 1)
		st.ServerCPUUS = &v
	}
	if a.hasServer && a.srvRSS > 0 {
		v := round(a.srvRSS/(1<<20), 1)
		st.ServerRSSMB = &v
	}
	return st
}

// load runs C workers for the warm-up and the measured window. With
// serverMetrics it reads the server's /metrics around the window (a
// failure to do so is kept in window.metricsErr, not fatal).
func load(ctx context.Context, cfg Config, t *target, def opDef, src source, serverMetrics bool) (*window, error) {
	var phase atomic.Int32
	workers := make([]*worker, cfg.Concurrency)
	var wg sync.WaitGroup
	for i := range workers {
		w := &worker{id: i, target: t, def: def, errs: map[string]int64{}, samples: map[string]string{}}
		workers[i] = w
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer w.conn.close()
			w.loop(&phase, src)
		}()
	}
	stopAll := func() { phase.Store(phaseStop); wg.Wait() }

	if !sleep(ctx, cfg.Warmup) {
		stopAll()
		return nil, ctx.Err()
	}
	var before, after snapshot
	var merr error
	if serverMetrics {
		before, merr = scrape(ctx, t)
	}
	cpu0 := rusage()
	t0 := time.Now()
	phase.Store(phaseMeasure)
	ok := sleep(ctx, cfg.Duration)
	phase.Store(phaseStop)
	elapsed := time.Since(t0)
	cpu1 := rusage()
	if serverMetrics && merr == nil {
		after, merr = scrape(ctx, t)
	}
	wg.Wait()
	if !ok {
		return nil, ctx.Err()
	}
	win := &window{elapsed: elapsed, cpu: cpu1 - cpu0, errs: map[string]int64{}, samples: map[string]string{}}
	for _, w := range workers {
		win.hist.Merge(&w.hist)
		for k, v := range w.errs {
			win.errs[k] += v
			if _, ok := win.samples[k]; !ok {
				win.samples[k] = w.samples[k]
			}
		}
	}
	if serverMetrics {
		win.metricsErr = merr
		if merr == nil {
			win.hasServer = true
			win.srvCPU = after.cpu - before.cpu
			win.srvReqs = after.requests - before.requests
			win.srvRSS = after.rss
		}
	}
	return win, nil
}

func (w *worker) loop(phase *atomic.Int32, src source) {
	for {
		if phase.Load() == phaseStop {
			return
		}
		body, hash := src.next(w)
		start := time.Now()
		resp, err := w.send(body, hash)
		d := time.Since(start)
		if phase.Load() != phaseMeasure {
			if err != nil {
				time.Sleep(10 * time.Millisecond) // do not spin on a dead server
			}
			continue
		}
		w.hist.Record(d)
		switch {
		case err != nil:
			w.fail("TransportError", err.Error())
			time.Sleep(10 * time.Millisecond)
		case resp.status >= 300:
			typ := resp.errorType
			if typ == "" {
				typ = fmt.Sprintf("HTTP %d", resp.status)
			}
			w.fail(typ, jsonMessage(resp.body))
		}
	}
}

func (w *worker) fail(typ, msg string) {
	w.errs[typ]++
	if _, ok := w.samples[typ]; !ok {
		if len(msg) > 200 {
			msg = msg[:200]
		}
		w.samples[typ] = msg
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// rusage returns the process's user+system CPU time so far.
func rusage() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func round(v float64, places int) float64 {
	p := 1.0
	for range places {
		p *= 10
	}
	if v >= 0 {
		return float64(int64(v*p+0.5)) / p
	}
	return -float64(int64(-v*p+0.5)) / p
}
