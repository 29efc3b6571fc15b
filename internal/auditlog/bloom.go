package auditlog

import "github.com/coffer-dev/coffer/internal/audit"

// Bloom is a Bloom filter over lookup keys (attribute kind + value): the
// summary of a block of records that tells a lookup which blocks it can
// skip. Its size is a power of two bytes; four probes per key.
type Bloom []byte

// BloomBytes is the size of a block's filter. With the keys of 1,024
// records that each name a different resource (≈ 2,100 distinct keys) it
// answers "maybe" for an absent key about 0.3 % of the time.
const BloomBytes = 4096

const bloomProbes = 4

// NewBloom returns an empty filter of n bytes (a power of two).
func NewBloom(n int) Bloom { return make(Bloom, n) }

// Key kinds: one per CloudTrail lookup attribute.
const (
	KindEventID      byte = 'i'
	KindEventName    byte = 'n'
	KindEventSource  byte = 's'
	KindAccessKeyID  byte = 'k'
	KindUsername     byte = 'u'
	KindReadOnly     byte = 'o'
	KindResourceName byte = 'r'
	KindResourceType byte = 't'
)

// LookupKind returns the key kind of a CloudTrail LookupAttributeKey.
func LookupKind(key string) (byte, bool) {
	switch key {
	case "EventId":
		return KindEventID, true
	case "EventName":
		return KindEventName, true
	case "EventSource":
		return KindEventSource, true
	case "AccessKeyId":
		return KindAccessKeyID, true
	case "Username":
		return KindUsername, true
	case "ReadOnly":
		return KindReadOnly, true
	case "ResourceName":
		return KindResourceName, true
	case "ResourceType":
		return KindResourceType, true
	}
	return 0, false
}

// keyHash is FNV-1a over kind and value, then a 64-bit finalizer
// (splitmix64's) so that both halves are well mixed.
func keyHash[T string | []byte](kind byte, v T) uint64 {
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	h = (h ^ uint64(kind)) * prime
	for i := 0; i < len(v); i++ {
		h = (h ^ uint64(v[i])) * prime
	}
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h
}

func (b Bloom) add(h uint64) {
	mask := uint32(len(b)*8 - 1)
	h1, h2 := uint32(h), uint32(h>>32)|1
	for i := range uint32(bloomProbes) {
		bit := (h1 + i*h2) & mask
		b[bit>>3] |= 1 << (bit & 7)
	}
}

func (b Bloom) has(h uint64) bool {
	if len(b) == 0 {
		return true // no filter: anything may be there
	}
	mask := uint32(len(b)*8 - 1)
	h1, h2 := uint32(h), uint32(h>>32)|1
	for i := range uint32(bloomProbes) {
		bit := (h1 + i*h2) & mask
		if b[bit>>3]&(1<<(bit&7)) == 0 {
			return false
		}
	}
	return true
}

// Add adds the key (kind, v).
func (b Bloom) Add(kind byte, v []byte) { b.add(keyHash(kind, v)) }

// Has reports whether the key (kind, v) may have been added (false: it
// certainly was not).
func (b Bloom) Has(kind byte, v string) bool { return b.has(keyHash(kind, v)) }

// Summary accumulates the lookup keys of a block of records into a Bloom
// filter, skipping a key equal to the same attribute of the record before
// (most blocks repeat a few event names, users and access keys).
type Summary struct {
	Bloom Bloom
	// Keys counts the keys added (repeats skipped), for sizing blocks.
	Keys int

	prev [6][]byte // the previous record's name, source, key, user, read-only, type
}

// NewSummary returns an empty summary with a filter of BloomBytes.
func NewSummary() *Summary { return &Summary{Bloom: NewBloom(BloomBytes)} }

// Clone returns a copy of s that goes on where s stands, repeat rule
// included (so that a block summarised over several passes equals one
// summarised at once).
func (s *Summary) Clone() *Summary {
	c := &Summary{Bloom: append(Bloom(nil), s.Bloom...), Keys: s.Keys}
	for i, p := range s.prev {
		c.prev[i] = append([]byte(nil), p...)
	}
	return c
}

// Reset empties the summary for the next block.
func (s *Summary) Reset() {
	clear(s.Bloom)
	s.Keys = 0
	for i := range s.prev {
		s.prev[i] = s.prev[i][:0]
	}
}

var (
	trueBytes  = []byte("true")
	falseBytes = []byte("false")
)

// Add adds the keys of one record's attributes.
func (s *Summary) Add(a *Attrs) {
	addKey(s, KindEventID, a.EventID)
	addRepeat(s, 0, KindEventName, a.EventName)
	addRepeat(s, 1, KindEventSource, a.EventSource)
	addRepeat(s, 2, KindAccessKeyID, a.AccessKeyID)
	addRepeat(s, 3, KindUsername, a.Username())
	if a.HasReadOnly {
		v := falseBytes
		if a.ReadOnly {
			v = trueBytes
		}
		addRepeat(s, 4, KindReadOnly, v)
	}
	for i, r := range a.Resources {
		addKey(s, KindResourceName, r.ARN)
		if i == 0 {
			addRepeat(s, 5, KindResourceType, r.Type)
		} else {
			addKey(s, KindResourceType, r.Type)
		}
	}
}

// AddKeys adds the keys of one record from the event it was rendered
// from: the same keys, in the same order, as Add of the Attrs read from
// its body (TestSummaryAddKeys holds them to that). An event always has a
// readOnly.
func (s *Summary) AddKeys(k *audit.LookupKeys) {
	addKey(s, KindEventID, k.EventID)
	addRepeat(s, 0, KindEventName, k.EventName)
	addRepeat(s, 1, KindEventSource, k.EventSource)
	addRepeat(s, 2, KindAccessKeyID, k.AccessKeyID)
	addRepeat(s, 3, KindUsername, k.Username)
	v := "false"
	if k.ReadOnly {
		v = "true"
	}
	addRepeat(s, 4, KindReadOnly, v)
	for i := range k.Resources {
		r := &k.Resources[i]
		addKey(s, KindResourceName, r.ARN)
		if i == 0 {
			addRepeat(s, 5, KindResourceType, r.Type)
		} else {
			addKey(s, KindResourceType, r.Type)
		}
	}
}

func addKey[T string | []byte](s *Summary, kind byte, v T) {
	if len(v) == 0 {
		return
	}
	s.Bloom.add(keyHash(kind, v))
	s.Keys++
}

func addRepeat[T string | []byte](s *Summary, i int, kind byte, v T) {
	if len(v) == 0 || (len(s.prev[i]) > 0 && string(s.prev[i]) == string(v)) {
		return
	}
	s.prev[i] = append(s.prev[i][:0], v...)
	addKey(s, kind, v)
}
