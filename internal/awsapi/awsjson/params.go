package awsjson

import (
	"maps"
	"slices"
)

// Params accumulates request parameters the way CloudTrail records them
// (requestParameters): lower-camel-case member names, nested structures as
// nested objects, absent members left out. Generated AuditParams methods
// never add sensitive members or blobs.
//
// Values are copies: scalars as string, int64, float64, bool or Time; lists
// and maps are cloned.
type Params map[string]any

// OrNil returns p, or nil when p is empty (CloudTrail shows a request
// without parameters as "requestParameters": null).
func (p Params) OrNil() map[string]any {
	if len(p) == 0 {
		return nil
	}
	return p
}

// String sets k to *s when s is not nil.
func (p Params) String(k string, s *string) {
	if s != nil {
		p[k] = *s
	}
}

// Int sets k to *n when n is not nil.
func (p Params) Int(k string, n *int64) {
	if n != nil {
		p[k] = *n
	}
}

// Float sets k to *f when f is not nil.
func (p Params) Float(k string, f *float64) {
	if f != nil {
		p[k] = *f
	}
}

// Bool sets k to *b when b is not nil.
func (p Params) Bool(k string, b *bool) {
	if b != nil {
		p[k] = *b
	}
}

// Time sets k to *t when t is not nil.
func (p Params) Time(k string, t *Time) {
	if t != nil {
		p[k] = *t
	}
}

// SetList sets k to a copy of l when l is not nil.
func SetList[T any](p Params, k string, l []T) {
	if l != nil {
		p[k] = slices.Clone(l)
	}
}

// SetMap sets k to a copy of m when m is not nil.
func SetMap[V any](p Params, k string, m map[string]V) {
	if m != nil {
		p[k] = maps.Clone(m)
	}
}

// SetObject sets k to f(s) when s is not nil.
func SetObject[T any](p Params, k string, s *T, f func(*T) map[string]any) {
	if s != nil {
		p[k] = f(s)
	}
}

// SetObjects sets k to the list of f(element) when l is not nil.
func SetObjects[T any](p Params, k string, l []T, f func(*T) map[string]any) {
	if l == nil {
		return
	}
	out := make([]any, len(l))
	for i := range l {
		out[i] = f(&l[i])
	}
	p[k] = out
}
