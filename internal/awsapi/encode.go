package awsapi

import (
	"encoding/base64"
	"time"
	"unicode/utf8"

	"github.com/coffer-dev/coffer/internal/awsapi/awsjson"
)

// Hand-written JSON for the hot outputs. encoding/json's reflection costs
// ≈ 2.7 µs and several allocations per GetSecretValue; the outputs below
// render themselves with exactly the bytes encoding/json's Encoder would
// produce (HTML escaping on, as json.NewEncoder does), which
// encode_test.go checks against encoding/json.

// jsonAppender is an output that renders itself as a JSON object.
type jsonAppender interface {
	appendJSON(dst []byte) []byte
}

// jsonSafe[c] is true for the ASCII bytes encoding/json (HTML escaping on)
// writes literally inside a string.
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendJSONString appends s as a JSON string exactly as encoding/json
// does with HTML escaping: short escapes for \b \f \n \r \t " and \\,
// \u00XX for other control characters and < > &, invalid UTF-8 as \ufffd,
// U+2028 and U+2029 escaped.
func appendJSONString[T string | []byte](dst []byte, s T) []byte {
	const hexDigits = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if jsonSafe[c] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '\\', '"':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		// A short conversion stays on the stack for both string and []byte.
		r, size := utf8.DecodeRuneInString(string(s[i:min(i+utf8.UTFMax, len(s))]))
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// jsonObject appends the members of one JSON object.
type jsonObject struct {
	b []byte
	n int
}

func (o *jsonObject) key(name string) {
	if o.n == 0 {
		o.b = append(o.b, '{')
	} else {
		o.b = append(o.b, ',')
	}
	o.n++
	o.b = append(o.b, '"')
	o.b = append(o.b, name...) // member names are plain ASCII
	o.b = append(o.b, '"', ':')
}

func (o *jsonObject) str(name, v string) {
	o.key(name)
	o.b = appendJSONString(o.b, v)
}

// optStr writes a member for a set *string (as omitzero does).
func (o *jsonObject) optStr(name string, v *string) {
	if v != nil {
		o.str(name, *v)
	}
}

// blob writes a []byte member as base64, as encoding/json does.
func (o *jsonObject) blob(name string, v []byte) {
	o.key(name)
	o.b = append(o.b, '"')
	o.b = base64.StdEncoding.AppendEncode(o.b, v)
	o.b = append(o.b, '"')
}

func (o *jsonObject) strs(name string, v []string) {
	o.key(name)
	o.b = appendJSONStrings(o.b, v)
}

func appendJSONStrings(dst []byte, v []string) []byte {
	dst = append(dst, '[')
	for i, s := range v {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, s)
	}
	return append(dst, ']')
}

// time writes a timestamp member (epoch seconds); the zero time is
// omitted, as awsjson.TimeOf and omitzero do.
func (o *jsonObject) time(name string, t time.Time) {
	if t.IsZero() {
		return
	}
	o.key(name)
	o.b = awsjson.Time{Time: t}.AppendEpoch(o.b)
}

func (o *jsonObject) end() []byte {
	if o.n == 0 {
		return append(o.b, '{', '}')
	}
	return append(o.b, '}')
}
