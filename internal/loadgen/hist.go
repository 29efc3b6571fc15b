package loadgen

import (
	"math"
	"math/bits"
	"time"
)

// Histogram records durations in log-linear buckets: exact below 256 ns,
// then 128 buckets per power of two, so a percentile is within 0.8% of the
// true value (it reports the upper edge of its bucket, never less than the
// true value). Recording is a few instructions and never allocates; one
// Histogram per worker, merged at the end. The zero value is empty and
// ready to use.
type Histogram struct {
	counts [numBuckets]uint64
	n      uint64
	sum    float64 // nanoseconds
	min    uint64
	max    uint64
}

const (
	subBits    = 7
	subCount   = 1 << subBits            // buckets per power of two
	linearTop  = 2 * subCount            // values below are exact
	numBuckets = linearTop + 56*subCount // up to 2^63 ns
)

func bucketOf(v uint64) int {
	if v < linearTop {
		return int(v)
	}
	e := bits.Len64(v) - (subBits + 1) // ≥ 1
	return linearTop + (e-1)*subCount + int(v>>e) - subCount
}

// bucketMax returns the largest value in bucket i.
func bucketMax(i int) uint64 {
	if i < linearTop {
		return uint64(i)
	}
	e := (i-linearTop)/subCount + 1
	m := uint64((i-linearTop)%subCount + subCount)
	return (m+1)<<e - 1
}

// Record adds one duration (negative counts as zero).
func (h *Histogram) Record(d time.Duration) {
	v := uint64(max(d, 0))
	h.counts[bucketOf(v)]++
	if h.n == 0 || v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	h.n++
	h.sum += float64(v)
}

// Merge adds o's samples to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.n == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	h.n += o.n
	h.sum += o.sum
}

// Count returns the number of samples.
func (h *Histogram) Count() uint64 { return h.n }

// Max returns the largest sample (exact).
func (h *Histogram) Max() time.Duration { return time.Duration(h.max) }

// Mean returns the average sample.
func (h *Histogram) Mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return time.Duration(h.sum / float64(h.n))
}

// Percentile returns the nearest-rank p-th percentile (0 < p ≤ 100): the
// smallest recorded value v such that at least p% of samples are ≤ v, up
// to the bucket resolution (rounded up, and never above Max).
func (h *Histogram) Percentile(p float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(p / 100 * float64(h.n)))
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return time.Duration(min(max(bucketMax(i), h.min), h.max))
		}
	}
	return time.Duration(h.max)
}
