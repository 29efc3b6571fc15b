package awsapi_test

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/coffer-dev/coffer/internal/awsapi/smapi"
	"github.com/coffer-dev/coffer/internal/loadgen"
)

// series is one sample line of the Prometheus text format.
type series struct {
	name   string
	labels map[string]string
	value  string
}

var (
	sampleRE = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$`)
	labelRE  = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"`)
)

func scrapeMetrics(t *testing.T, e *perfEnv) (string, []series) {
	t.Helper()
	w := httptest.NewRecorder()
	e.srv.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if w.Code != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", w.Code, w.Body)
	}
	text := w.Body.String()
	var out []series
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		m := sampleRE.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("unparsable line %q", line)
		}
		s := series{name: m[1], labels: map[string]string{}, value: m[4]}
		for _, l := range labelRE.FindAllStringSubmatch(m[3], -1) {
			s.labels[l[1]] = l[2]
		}
		out = append(out, s)
	}
	return text, out
}

func find(all []series, name string, labels map[string]string) *series {
next:
	for i, s := range all {
		if s.name != name {
			continue
		}
		for k, v := range labels {
			if s.labels[k] != v {
				continue next
			}
		}
		return &all[i]
	}
	return nil
}

func TestMetrics(t *testing.T) {
	e := newPerfEnv(t)
	const (
		name  = "SENSITIVE-NAME-c0ffee"
		value = "SENSITIVE-VALUE-d00d"
	)
	e.mustDo(t, "CreateSecret", `{"Name":"`+name+`","ClientRequestToken":"00000000-0000-0000-0000-000000000001","SecretString":"`+value+`"}`)
	for range 3 {
		e.mustDo(t, "GetSecretValue", `{"SecretId":"`+name+`"}`)
	}
	expectErr := func(target, body, typ string) {
		t.Helper()
		if code, got, out := e.do(t, target, body); got != typ {
			t.Fatalf("%s: %d %s %s, want %s", target, code, got, out, typ)
		}
	}
	expectErr("GetSecretValue", `{"SecretId":"SENSITIVE-MISSING-beef"}`, "ResourceNotFoundException")
	expectErr("GetSecretValue", `{"SecretId":""}`, "ValidationException")
	expectErr("SENSITIVE-OP-Bogus", `{}`, "UnknownOperationException")
	// A request signed with a wrong secret key.
	bad := loadgen.NewSigner(loadgen.Credentials{AccessKeyID: e.creds.AccessKeyID, SecretAccessKey: "SENSITIVE-KEY-wrong"}, "us-east-1", "secretsmanager", "coffer.test")
	saved := e.sm
	e.sm = bad
	expectErr("GetSecretValue", `{"SecretId":"`+name+`"}`, "InvalidSignatureException")
	e.sm = saved

	text, all := scrapeMetrics(t, e)

	wantCount := []struct {
		op, typ, count string
	}{
		{"CreateSecret", "", "1"},
		{"GetSecretValue", "", "3"},
		{"GetSecretValue", "ResourceNotFoundException", "1"},
		{"GetSecretValue", "ValidationException", "1"},
		{"GetSecretValue", "InvalidSignatureException", "1"},
		{"", "UnknownOperationException", "1"},
	}
	for _, w := range wantCount {
		l := map[string]string{"api": "secretsmanager", "operation": w.op, "error_type": w.typ}
		if s := find(all, "coffer_api_requests_total", l); s == nil || s.value != w.count {
			t.Errorf("coffer_api_requests_total%v = %v, want %s", l, s, w.count)
		}
		if s := find(all, "coffer_api_request_duration_seconds_count", l); s == nil || s.value != w.count {
			t.Errorf("coffer_api_request_duration_seconds_count%v = %v, want %s", l, s, w.count)
		}
		l["le"] = "+Inf"
		if s := find(all, "coffer_api_request_duration_seconds_bucket", l); s == nil || s.value != w.count {
			t.Errorf("coffer_api_request_duration_seconds_bucket%v = %v, want %s", l, s, w.count)
		}
	}
	for _, std := range []string{"process_cpu_seconds_total", "process_resident_memory_bytes", "go_goroutines", "go_memstats_alloc_bytes"} {
		if find(all, std, nil) == nil {
			t.Errorf("standard metric %s missing", std)
		}
	}

	// No request data in any label: only known APIs, operation names from
	// the model and identifier-like error types.
	for _, leak := range []string{"SENSITIVE", e.creds.AccessKeyID, e.creds.SecretAccessKey} {
		if strings.Contains(text, leak) {
			t.Errorf("/metrics contains %q", leak)
		}
	}
	errType := regexp.MustCompile(`^[A-Za-z]*$`)
	for _, s := range all {
		if !strings.HasPrefix(s.name, "coffer_") {
			continue
		}
		for k, v := range s.labels {
			ok := true
			switch k {
			case "api":
				ok = v == "secretsmanager" || v == "kms" || v == "iam" || v == "sts" || v == "unknown"
			case "operation":
				_, known := smapi.Operations[v]
				ok = v == "" || known
			case "error_type":
				ok = errType.MatchString(v)
			case "le":
			default:
				ok = false
			}
			if !ok {
				t.Errorf("%s has label %s=%q", s.name, k, v)
			}
		}
	}
}

// TestMetricsUnauthenticated: /metrics, like /healthz, needs no signature.
func TestMetricsUnauthenticated(t *testing.T) {
	e := newPerfEnv(t)
	srv := httptest.NewServer(e.srv)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}
