package loadgen

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// fixtures are what a run's requests need on the server.
type fixtures struct {
	src     source
	cleanup func() // nil when nothing is to be removed
}

// benchKeyAlias names the KMS key the KMS operations use (created once).
const benchKeyAlias = "alias/coffer-bench"

func prepare(ctx context.Context, cfg Config, def opDef, t *target) (*fixtures, error) {
	if def.kms {
		return prepareKMS(ctx, cfg, t)
	}
	prefix, own := cfg.Prefix, false
	if prefix == "" {
		if def.put {
			// Each version counts against a secret's 100 versions for 24
			// hours: a write run gets secrets of its own.
			prefix, own = "coffer-bench/put-"+randomHex(4), true
		} else {
			prefix = "coffer-bench/v" + itoa(cfg.ValueSize)
		}
	}
	names := make([]string, cfg.Secrets)
	for i := range names {
		names[i] = fixtureName(prefix, i)
	}
	value := valueOf(cfg.ValueSize)
	if cfg.SkipCreate && !def.put {
		cfg.logf("using %d fixture secrets %s/… as they are", len(names), prefix)
		return &fixtures{src: newFixedBodies(secretBodies(cfg.Op, names))}, nil
	}
	cfg.logf("creating %d fixture secrets %s/… (existing ones are kept)", len(names), prefix)
	start := time.Now()
	err := parallel(ctx, cfg, t, len(names), func(w *worker, i int) error {
		body := jsonBody(map[string]string{"Name": names[i], "ClientRequestToken": fixtureToken(names[i]), "SecretString": value})
		resp, err := w.call("secretsmanager", "secretsmanager.CreateSecret", body, nil)
		if err != nil {
			return fmt.Errorf("CreateSecret %s: %w", names[i], err)
		}
		if resp.status == http.StatusOK || resp.errorType == "ResourceExistsException" {
			return nil
		}
		return fmt.Errorf("CreateSecret %s: %s", names[i], describe(resp))
	})
	if err != nil {
		return nil, err
	}
	cfg.logf("fixtures ready in %v", time.Since(start).Round(time.Millisecond))
	fx := &fixtures{}
	if def.put {
		p := &putBodies{names: names, value: value}
		copy(p.run[:], randomBytes(len(p.run)))
		fx.src = p
	} else {
		fx.src = newFixedBodies(secretBodies(cfg.Op, names))
	}
	if own && !cfg.KeepFixtures {
		fx.cleanup = func() {
			cfg.logf("deleting the %d fixture secrets of this run", len(names))
			err := parallel(context.Background(), cfg, t, len(names), func(w *worker, i int) error {
				body := jsonBody(map[string]any{"SecretId": names[i], "ForceDeleteWithoutRecovery": true})
				resp, err := w.call("secretsmanager", "secretsmanager.DeleteSecret", body, nil)
				if err == nil && resp.status != http.StatusOK && resp.errorType != "ResourceNotFoundException" {
					err = errors.New(describe(resp))
				}
				return err
			})
			if err != nil {
				cfg.logf("deleting fixtures: %v", err)
			}
		}
	}
	return fx, nil
}

func prepareKMS(ctx context.Context, cfg Config, t *target) (*fixtures, error) {
	if (cfg.Op == "Encrypt" || cfg.Op == "Decrypt") && cfg.ValueSize > 4096 {
		return nil, fmt.Errorf("KMS %s takes at most 4096 bytes of plaintext; --value-size is %d", cfg.Op, cfg.ValueSize)
	}
	w := &worker{target: t}
	defer w.conn.close()
	keyID, err := ensureKey(w)
	if err != nil {
		return nil, err
	}
	plaintext := []byte(valueOf(cfg.ValueSize))
	switch cfg.Op {
	case "Encrypt":
		return &fixtures{src: newFixedBodies([][]byte{encryptBody(keyID, plaintext)})}, nil
	case "GenerateDataKey":
		return &fixtures{src: newFixedBodies([][]byte{jsonBody(map[string]string{"KeyId": keyID, "KeySpec": "AES_256"})})}, nil
	}
	// Decrypt: as many ciphertexts as --secrets.
	cfg.logf("encrypting %d fixture ciphertexts under %s", cfg.Secrets, benchKeyAlias)
	bodies := make([][]byte, cfg.Secrets)
	err = parallel(ctx, cfg, t, len(bodies), func(w *worker, i int) error {
		resp, err := w.call("kms", "TrentService.Encrypt", encryptBody(keyID, plaintext), nil)
		if err != nil {
			return fmt.Errorf("Encrypt: %w", err)
		}
		if resp.status != http.StatusOK {
			return fmt.Errorf("Encrypt: %s", describe(resp))
		}
		var out struct{ CiphertextBlob string }
		if err := json.Unmarshal(resp.body, &out); err != nil || out.CiphertextBlob == "" {
			return fmt.Errorf("Encrypt: unexpected response")
		}
		bodies[i] = jsonBody(map[string]string{"CiphertextBlob": out.CiphertextBlob})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &fixtures{src: newFixedBodies(bodies)}, nil
}

// ensureKey returns the id of the bench KMS key, creating it (and its
// alias) on first use.
func ensureKey(w *worker) (string, error) {
	kmsCall := func(op string, in any) (response, error) {
		resp, err := w.call("kms", "TrentService."+op, jsonBody(in), nil)
		if err != nil {
			return resp, fmt.Errorf("KMS %s: %w", op, err)
		}
		if resp.status != http.StatusOK && (resp.errorType == "UnknownOperationException" || resp.errorType == "InvalidRequestException" && strings.Contains(jsonMessage(resp.body), "not supported")) {
			return resp, fmt.Errorf("the server at %s does not implement the KMS API operation %s (%s); the KMS benchmarks need CreateKey, CreateAlias and DescribeKey", w.target.base, op, describe(resp))
		}
		return resp, nil
	}
	keyOf := func(r response) (string, error) {
		var out struct{ KeyMetadata struct{ KeyId string } }
		if err := json.Unmarshal(r.body, &out); err != nil || out.KeyMetadata.KeyId == "" {
			return "", errors.New("unexpected KMS response")
		}
		return out.KeyMetadata.KeyId, nil
	}
	for attempt := 0; attempt < 2; attempt++ {
		resp, err := kmsCall("DescribeKey", map[string]string{"KeyId": benchKeyAlias})
		if err != nil {
			return "", err
		}
		if resp.status == http.StatusOK {
			return keyOf(resp)
		}
		if resp.errorType != "NotFoundException" {
			return "", fmt.Errorf("KMS DescribeKey %s: %s", benchKeyAlias, describe(resp))
		}
		resp, err = kmsCall("CreateKey", map[string]string{"Description": "coffer bench fixture key"})
		if err != nil {
			return "", err
		}
		if resp.status != http.StatusOK {
			return "", fmt.Errorf("KMS CreateKey: %s", describe(resp))
		}
		id, err := keyOf(resp)
		if err != nil {
			return "", err
		}
		resp, err = kmsCall("CreateAlias", map[string]string{"AliasName": benchKeyAlias, "TargetKeyId": id})
		if err != nil {
			return "", err
		}
		if resp.status == http.StatusOK {
			return id, nil
		}
		if resp.errorType != "AlreadyExistsException" { // else another run won: use its key
			return "", fmt.Errorf("KMS CreateAlias: %s", describe(resp))
		}
	}
	return "", errors.New("KMS: could not create or find " + benchKeyAlias)
}

// parallel runs fn for 0 ≤ i < n on up to cfg.Concurrency connections and
// returns the first error.
func parallel(ctx context.Context, cfg Config, t *target, n int, fn func(w *worker, i int) error) error {
	var (
		next     atomic.Int64
		done     atomic.Int64
		firstErr error
		once     sync.Once
		wg       sync.WaitGroup
		failed   atomic.Bool
	)
	progress := n >= 10000
	step := int64(max(n/10, 1))
	for id := range min(cfg.Concurrency, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := &worker{id: id, target: t}
			defer w.conn.close()
			for !failed.Load() && ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(w, i); err != nil {
					once.Do(func() { firstErr = err })
					failed.Store(true)
					return
				}
				if d := done.Add(1); progress && d%step == 0 {
					cfg.logf("  %d/%d", d, n)
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

// jsonMessage returns the message of an AWS JSON error body.
func jsonMessage(body []byte) string {
	var e struct {
		Message  string `json:"message"`
		Message2 string `json:"Message"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	if e.Message != "" {
		return e.Message
	}
	return e.Message2
}

// snapshot is what the bench reads from a server's /metrics.
type snapshot struct {
	cpu      float64 // process_cpu_seconds_total
	hasCPU   bool
	rss      float64 // process_resident_memory_bytes
	requests float64 // sum of coffer_api_requests_total
}

// scrape reads the server's /metrics (Prometheus text format).
func scrape(ctx context.Context, t *target) (snapshot, error) {
	var s snapshot
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: t.tls, DisableKeepAlives: true}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.base+"/metrics", nil)
	if err != nil {
		return s, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return s, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return s, fmt.Errorf("GET /metrics: HTTP %d", resp.StatusCode)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		sp := strings.LastIndexByte(line, ' ')
		if sp < 0 {
			continue
		}
		name, val := line[:sp], line[sp+1:]
		if i := strings.IndexByte(name, '{'); i >= 0 {
			name = name[:i]
		}
		v, err := strconv.ParseFloat(val, 64)
		if err != nil {
			continue
		}
		switch strings.TrimSpace(name) {
		case "process_cpu_seconds_total":
			s.cpu, s.hasCPU = v, true
		case "process_resident_memory_bytes":
			s.rss = v
		case "coffer_api_requests_total":
			s.requests += v
		}
	}
	if err := sc.Err(); err != nil {
		return s, err
	}
	if !s.hasCPU {
		return s, errors.New("the server's /metrics has no process_cpu_seconds_total")
	}
	return s, nil
}

// startBaseline serves, on loopback in this process, a bare net/http
// handler answering every request with a fixed body of size bytes.
func startBaseline(size int, cfg Config) (*target, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	body := []byte(strings.Repeat("a", size))
	if size >= 8 {
		body = []byte(`{"x":"` + strings.Repeat("a", size-8) + `"}`)
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", jsonContentType)
			w.Write(body)
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go srv.Serve(ln)
	addr := ln.Addr().String()
	t := &target{base: "http://" + addr, addr: addr, host: addr, creds: cfg.Credentials, region: cfg.Region, timeout: cfg.Timeout}
	return t, func() { srv.Close() }, nil
}
