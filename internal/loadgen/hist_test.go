package loadgen_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/coffer-dev/coffer/internal/loadgen"
)

// nearestRank is the reference percentile: the smallest sample with at
// least p% of the samples at or below it.
func nearestRank(sorted []time.Duration, p float64) time.Duration {
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

func TestHistogramPercentiles(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	sets := map[string][]time.Duration{
		"one":      {1500 * time.Microsecond},
		"equal":    slices.Repeat([]time.Duration{42 * time.Microsecond}, 1000),
		"tiny":     {0, 1, 2, 3, 255, 256, 257},
		"two":      {time.Millisecond, time.Second},
		"uniform":  nil,
		"lognorm":  nil,
		"outliers": nil,
	}
	for range 20000 {
		sets["uniform"] = append(sets["uniform"], time.Duration(r.Int64N(int64(10*time.Millisecond))))
		sets["lognorm"] = append(sets["lognorm"], time.Duration(math.Exp(r.NormFloat64()*1.5+math.Log(500e3))))
	}
	for i := range 10000 {
		d := 300 * time.Microsecond
		if i%100 == 0 {
			d = 2 * time.Second
		}
		sets["outliers"] = append(sets["outliers"], d)
	}
	for name, samples := range sets {
		t.Run(name, func(t *testing.T) {
			var h loadgen.Histogram
			// Record into two histograms and merge, as workers do.
			var h2 loadgen.Histogram
			for i, d := range samples {
				if i%2 == 0 {
					h.Record(d)
				} else {
					h2.Record(d)
				}
			}
			h.Merge(&h2)
			sorted := slices.Clone(samples)
			slices.Sort(sorted)
			if h.Count() != uint64(len(samples)) {
				t.Fatalf("Count = %d, want %d", h.Count(), len(samples))
			}
			if h.Max() != sorted[len(sorted)-1] {
				t.Errorf("Max = %v, want %v", h.Max(), sorted[len(sorted)-1])
			}
			var sum float64
			for _, d := range samples {
				sum += float64(d)
			}
			if want := sum / float64(len(samples)); math.Abs(float64(h.Mean())-want) > 1 {
				t.Errorf("Mean = %v, want %v", h.Mean(), time.Duration(want))
			}
			for _, p := range []float64{0.1, 1, 50, 90, 99, 99.9, 100} {
				got, want := h.Percentile(p), nearestRank(sorted, p)
				// Never below the truth, at most one bucket (1/128) above.
				if got < want || float64(got) > float64(want)*(1+1.0/128)+1 {
					t.Errorf("p%v = %v, want %v (within 0.8%% above)", p, got, want)
				}
			}
			if h.Percentile(100) != h.Max() {
				t.Errorf("p100 = %v, want max %v", h.Percentile(100), h.Max())
			}
		})
	}
}

func TestHistogramEmpty(t *testing.T) {
	var h loadgen.Histogram
	if h.Percentile(99) != 0 || h.Max() != 0 || h.Mean() != 0 || h.Count() != 0 {
		t.Fatal("empty histogram reports samples")
	}
	h.Record(-time.Second) // clamps to zero
	if h.Count() != 1 || h.Percentile(50) != 0 {
		t.Fatalf("negative sample: count %d p50 %v", h.Count(), h.Percentile(50))
	}
}

func TestHistogramBucketEdges(t *testing.T) {
	// Every value lands in a bucket whose upper edge is ≥ it and within
	// 1/128 of it: check powers of two and their neighbours.
	for e := 0; e < 62; e++ {
		for _, v := range []int64{1<<e - 1, 1 << e, 1<<e + 1} {
			if v < 0 {
				continue
			}
			var h loadgen.Histogram
			h.Record(time.Duration(v))
			h.Record(time.Duration(v) * 2) // so the p50 is not clipped to max
			got := int64(h.Percentile(50))
			if got < v || float64(got) > float64(v)*(1+1.0/128)+1 {
				t.Fatalf("value %d: p50 %d", v, got)
			}
		}
	}
}

func BenchmarkHistogramRecord(b *testing.B) {
	var h loadgen.Histogram
	d := 1234567 * time.Nanosecond
	for b.Loop() {
		h.Record(d)
		d += 7
	}
}
