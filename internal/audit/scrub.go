package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"unicode/utf8"
)

// ErrScrubInput is returned by ScrubJSON for input that is not JSON.
var ErrScrubInput = errors.New("audit: request parameters are not valid json")

// maxScrubDepth bounds nesting, as encoding/json does.
const maxScrubDepth = 10000

// ScrubJSON returns params (a JSON value, normally the request-parameters
// object) with every member whose name is in drop removed entirely, key and
// value, and every member whose name is in hmacNames replaced by its
// [Hasher.HMAC]: a string value is hashed; for an object or array every
// string inside it is hashed (keys are kept; members named in drop are
// still removed); numbers, booleans and null pass through. Names match
// case-insensitively (so both the wire "SecretString" and CloudTrail's
// "secretString") after JSON unescaping (so "Secret\u0053tring" too), at
// any nesting depth; drop wins over hmacNames.
//
// The output is compact JSON in valid UTF-8: members keep their order
// (duplicates included), numbers keep their text, strings are re-encoded
// (invalid UTF-8 becomes U+FFFD). Empty input or null returns nil (which an
// Event renders as null). Invalid input returns ErrScrubInput and no part
// of the input.
func (h *Hasher) ScrubJSON(params []byte, drop, hmacNames []string) (json.RawMessage, error) {
	s := scrubber{h: h, drop: drop, hmac: hmacNames, in: params}
	s.ws()
	if s.i == len(s.in) {
		return nil, nil
	}
	out, err := s.value(make([]byte, 0, len(params)+16), modeEmit)
	if err != nil {
		return nil, ErrScrubInput
	}
	s.ws()
	if s.i != len(s.in) {
		return nil, ErrScrubInput
	}
	if string(out) == "null" {
		return nil, nil
	}
	return out, nil
}

type scrubMode uint8

const (
	modeEmit scrubMode = iota // copy, scrubbing members by name
	modeHash                  // HMAC every string; drop still applies
	modeSkip                  // validate only, write nothing
)

var errSyntax = errors.New("syntax")

// scrubber is a single-pass JSON validator and rewriter.
type scrubber struct {
	h          *Hasher
	drop, hmac []string
	in         []byte
	i          int
	depth      int
}

func (s *scrubber) ws() {
	for s.i < len(s.in) {
		switch s.in[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scrubber) peek() byte {
	if s.i < len(s.in) {
		return s.in[s.i]
	}
	return 0
}

func (s *scrubber) value(out []byte, mode scrubMode) ([]byte, error) {
	switch c := s.peek(); {
	case c == '{':
		return s.object(out, mode)
	case c == '[':
		return s.array(out, mode)
	case c == '"':
		str, err := s.str()
		if err != nil {
			return out, err
		}
		switch mode {
		case modeEmit:
			out = appendJSONString(out, str)
		case modeHash:
			out = append(out, '"')
			out = appendHMAC(s.h, out, str)
			out = append(out, '"')
		}
		return out, nil
	case c == 't':
		return s.literal(out, mode, "true")
	case c == 'f':
		return s.literal(out, mode, "false")
	case c == 'n':
		return s.literal(out, mode, "null")
	case c == '-' || '0' <= c && c <= '9':
		return s.number(out, mode)
	}
	return out, errSyntax
}

func (s *scrubber) object(out []byte, mode scrubMode) ([]byte, error) {
	if s.depth++; s.depth > maxScrubDepth {
		return out, errSyntax
	}
	s.i++ // '{'
	if mode != modeSkip {
		out = append(out, '{')
	}
	s.ws()
	if s.peek() == '}' {
		s.i++
	} else {
		n := 0
		for {
			if s.peek() != '"' {
				return out, errSyntax
			}
			key, err := s.str()
			if err != nil {
				return out, err
			}
			s.ws()
			if s.peek() != ':' {
				return out, errSyntax
			}
			s.i++
			s.ws()
			m := mode
			switch {
			case mode == modeSkip || nameMatch(key, s.drop):
				m = modeSkip
			case mode == modeEmit && nameMatch(key, s.hmac):
				m = modeHash
			}
			if m != modeSkip {
				if n > 0 {
					out = append(out, ',')
				}
				n++
				out = appendJSONString(out, key)
				out = append(out, ':')
			}
			if out, err = s.value(out, m); err != nil {
				return out, err
			}
			s.ws()
			if c := s.peek(); c == ',' {
				s.i++
				s.ws()
				continue
			} else if c == '}' {
				s.i++
				break
			}
			return out, errSyntax
		}
	}
	if mode != modeSkip {
		out = append(out, '}')
	}
	s.depth--
	return out, nil
}

func (s *scrubber) array(out []byte, mode scrubMode) ([]byte, error) {
	if s.depth++; s.depth > maxScrubDepth {
		return out, errSyntax
	}
	s.i++ // '['
	if mode != modeSkip {
		out = append(out, '[')
	}
	s.ws()
	if s.peek() == ']' {
		s.i++
	} else {
		for n := 0; ; n++ {
			if n > 0 && mode != modeSkip {
				out = append(out, ',')
			}
			var err error
			if out, err = s.value(out, mode); err != nil {
				return out, err
			}
			s.ws()
			if c := s.peek(); c == ',' {
				s.i++
				s.ws()
				continue
			} else if c == ']' {
				s.i++
				break
			}
			return out, errSyntax
		}
	}
	if mode != modeSkip {
		out = append(out, ']')
	}
	s.depth--
	return out, nil
}

// str consumes a string token and returns its decoded content (which may
// alias the input).
func (s *scrubber) str() ([]byte, error) {
	start := s.i // the opening quote
	escaped := false
	j := start + 1
	for ; j < len(s.in); j++ {
		c := s.in[j]
		if c == '"' {
			break
		}
		if c < 0x20 {
			return nil, errSyntax
		}
		if c == '\\' {
			escaped = true
			j++ // the escaped byte cannot end the string
		}
	}
	if j >= len(s.in) {
		return nil, errSyntax
	}
	s.i = j + 1
	raw := s.in[start+1 : j]
	if !escaped && utf8.Valid(raw) {
		return raw, nil
	}
	// Rare: escapes or invalid UTF-8. Let encoding/json decode (and check)
	// the escapes and map invalid UTF-8 to U+FFFD.
	var v string
	if err := json.Unmarshal(s.in[start:j+1], &v); err != nil {
		return nil, errSyntax
	}
	return []byte(v), nil
}

func (s *scrubber) literal(out []byte, mode scrubMode, word string) ([]byte, error) {
	if !bytes.HasPrefix(s.in[s.i:], []byte(word)) {
		return out, errSyntax
	}
	s.i += len(word)
	if mode != modeSkip {
		out = append(out, word...)
	}
	return out, nil
}

// number consumes a JSON number and copies its text.
func (s *scrubber) number(out []byte, mode scrubMode) ([]byte, error) {
	start := s.i
	digits := func() int {
		n := 0
		for s.i < len(s.in) && '0' <= s.in[s.i] && s.in[s.i] <= '9' {
			s.i++
			n++
		}
		return n
	}
	if s.peek() == '-' {
		s.i++
	}
	switch c := s.peek(); {
	case c == '0':
		s.i++
	case '1' <= c && c <= '9':
		digits()
	default:
		return out, errSyntax
	}
	if s.peek() == '.' {
		s.i++
		if digits() == 0 {
			return out, errSyntax
		}
	}
	if c := s.peek(); c == 'e' || c == 'E' {
		s.i++
		if c := s.peek(); c == '+' || c == '-' {
			s.i++
		}
		if digits() == 0 {
			return out, errSyntax
		}
	}
	if mode != modeSkip {
		out = append(out, s.in[start:s.i]...)
	}
	return out, nil
}

// nameMatch reports whether key equals one of names, ignoring case.
func nameMatch(key []byte, names []string) bool {
	for _, n := range names {
		if bytes.EqualFold(key, []byte(n)) {
			return true
		}
	}
	return false
}

// ScrubParams returns what ScrubJSON returns for the JSON encoding of
// params (encoding/json: keys sorted), without encoding and re-reading it,
// when every value is a string and every key and value is valid UTF-8
// (the common case: most requests' parameters are names and ids); ok is
// false otherwise, and the caller takes the long way.
func (h *Hasher) ScrubParams(params map[string]any, drop, hmacNames []string) (out json.RawMessage, ok bool) {
	if len(params) == 0 {
		return nil, false
	}
	var keys [8]string
	ks := keys[:0]
	n := 2
	for k, v := range params {
		s, isStr := v.(string)
		if !isStr || !utf8.ValidString(k) || !utf8.ValidString(s) {
			return nil, false
		}
		ks = append(ks, k)
		n += len(k) + len(s) + 6
	}
	slices.Sort(ks)
	b := make([]byte, 0, n+16)
	b = append(b, '{')
	for _, k := range ks {
		if nameMatchString(k, drop) {
			continue
		}
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		if s := params[k].(string); nameMatchString(k, hmacNames) {
			b = append(b, '"')
			b = appendHMAC(h, b, s)
			b = append(b, '"')
		} else {
			b = appendJSONString(b, s)
		}
	}
	return append(b, '}'), true
}

// nameMatchString is nameMatch for a string key.
func nameMatchString(key string, names []string) bool {
	for _, n := range names {
		if strings.EqualFold(key, n) {
			return true
		}
	}
	return false
}
