package awsapi

import (
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metric names served at GET /metrics (Prometheus text format).
const (
	metricRequests = "coffer_api_requests_total"
	metricDuration = "coffer_api_request_duration_seconds"
)

// durationBuckets span a cached read on loopback (~50 µs) to a slow
// durable write.
var durationBuckets = []float64{
	0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
	0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
}

// metrics holds the edge's Prometheus collectors. Each Server has its own
// registry (tests run several servers in one process). Labels are the API
// (signing name), the operation name from the generated operation table and
// the AWS error type ("" for success): never anything a client sent, so
// cardinality is bounded and no request data reaches a label.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	// ok caches the success series of each operation, so the common case
	// costs no label hashing.
	ok sync.Map // *operation → *opSeries
}

type opSeries struct {
	requests prometheus.Counter
	duration prometheus.Observer
}

// initMetrics creates the server's collectors and returns the /metrics
// handler. /metrics is unauthenticated, like /healthz: it shows request
// counts per operation and error type and process statistics, never
// secrets, names or principals.
func (s *Server) initMetrics() http.Handler {
	m := &metrics{reg: prometheus.NewRegistry()}
	labels := []string{"api", "operation", "error_type"}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: metricRequests,
		Help: "API requests answered, by API, operation and AWS error type (empty for success).",
	}, labels)
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    metricDuration,
		Help:    "Time from reading the request headers to writing the response, by API, operation and AWS error type (empty for success).",
		Buckets: durationBuckets,
	}, labels)
	m.reg.MustRegister(m.requests, m.duration,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s.metrics = m
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// observe is called once per request after the response is written, with
// the error sent (nil on success). It is the metrics hook.
func (s *Server) observe(c *call, e *apiError) {
	m := s.metrics
	if m == nil {
		return
	}
	d := time.Since(c.start).Seconds()
	if d < 0 {
		d = 0 // an injected clock in tests
	}
	if e == nil && c.op != nil {
		v, ok := m.ok.Load(c.op)
		if !ok {
			v, _ = m.ok.LoadOrStore(c.op, &opSeries{
				requests: m.requests.WithLabelValues(c.op.service, c.op.name, ""),
				duration: m.duration.WithLabelValues(c.op.service, c.op.name, ""),
			})
		}
		se := v.(*opSeries)
		se.requests.Inc()
		se.duration.Observe(d)
		return
	}
	api, op, typ := c.service, "", ""
	if c.op != nil {
		op = c.op.name
	}
	if api == "" {
		api = "unknown"
	}
	if e != nil {
		typ = labelSafe(e.Type)
	}
	m.requests.WithLabelValues(api, op, typ).Inc()
	m.duration.WithLabelValues(api, op, typ).Observe(d)
}

// labelSafe returns an AWS error type for a label. Error types come from
// the code's own table, but a label must never carry request data, so
// anything that is not a plain identifier becomes "Other".
func labelSafe(t string) string {
	if t == "" || len(t) > 64 {
		return "Other"
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_') {
			return "Other"
		}
	}
	return t
}
