package audit_test

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/coffer-dev/coffer/internal/audit"
)

// referenceScrub is a straightforward map-based statement of ScrubJSON's
// semantics (decode, delete/hash by name, re-encode), used as the oracle
// for the single-pass implementation. It returns ok=false for invalid JSON.
func referenceScrub(h *audit.Hasher, params []byte, drop, hm []string) (any, bool) {
	dec := json.NewDecoder(bytes.NewReader(params))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	if _, err := dec.Token(); err == nil {
		return nil, false
	}
	var scrub, hashAll func(any) any
	in := func(k string, names []string) bool {
		for _, n := range names {
			if strings.EqualFold(k, n) {
				return true
			}
		}
		return false
	}
	scrub = func(v any) any {
		switch t := v.(type) {
		case map[string]any:
			for k, val := range t {
				switch {
				case in(k, drop):
					delete(t, k)
				case in(k, hm):
					t[k] = hashAll(val)
				default:
					t[k] = scrub(val)
				}
			}
		case []any:
			for i := range t {
				t[i] = scrub(t[i])
			}
		}
		return v
	}
	hashAll = func(v any) any {
		switch t := v.(type) {
		case string:
			return h.HMAC(t)
		case map[string]any:
			for k, val := range t {
				if in(k, drop) {
					delete(t, k)
					continue
				}
				t[k] = hashAll(val)
			}
		case []any:
			for i := range t {
				t[i] = hashAll(t[i])
			}
		}
		return v
	}
	return scrub(v), true
}

// decodeJSON decodes b with numbers as json.Number (nil for empty input).
func decodeJSON(b []byte) (any, error) {
	if len(b) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}
