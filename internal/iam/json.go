package iam

import (
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// A small, strict JSON reader for policy documents. encoding/json would do,
// but policies need things it does not give cheaply: duplicate keys must be
// detected, member order must be kept (statement indexes and error texts
// depend on it), and numbers must keep their literal text so that a
// condition value 10 and "10" read the same.

type jkind uint8

const (
	jNull jkind = iota
	jBool
	jNumber
	jString
	jArray
	jObject
)

type jvalue struct {
	kind jkind
	str  string // string value, number literal, "true"/"false"
	arr  []jvalue
	obj  []jmember
}

type jmember struct {
	key string
	val jvalue
}

// get returns the member named key (exact, case-sensitive, as AWS does).
func (v *jvalue) get(key string) (*jvalue, bool) {
	for i := range v.obj {
		if v.obj[i].key == key {
			return &v.obj[i].val, true
		}
	}
	return nil, false
}

const maxJSONDepth = 64

type jsonError struct{ msg string }

func (e *jsonError) Error() string { return e.msg }

type jparser struct {
	s     string
	i     int
	depth int
}

// parseJSON parses exactly one JSON value with optional surrounding
// whitespace. Duplicate object keys are an error.
func parseJSON(s string) (jvalue, error) {
	if !utf8.ValidString(s) {
		return jvalue{}, &jsonError{"document is not valid utf-8"}
	}
	p := jparser{s: s}
	p.ws()
	v, err := p.value()
	if err != nil {
		return jvalue{}, err
	}
	p.ws()
	if p.i != len(p.s) {
		return jvalue{}, p.errf("unexpected data after the document")
	}
	return v, nil
}

func (p *jparser) errf(msg string) error {
	return &jsonError{msg + " at offset " + strconv.Itoa(p.i)}
}

func (p *jparser) ws() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jparser) value() (jvalue, error) {
	if p.i >= len(p.s) {
		return jvalue{}, p.errf("unexpected end of document")
	}
	switch c := p.s[p.i]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		s, err := p.str()
		return jvalue{kind: jString, str: s}, err
	case c == 't':
		return p.lit("true", jvalue{kind: jBool, str: "true"})
	case c == 'f':
		return p.lit("false", jvalue{kind: jBool, str: "false"})
	case c == 'n':
		return p.lit("null", jvalue{kind: jNull})
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	default:
		return jvalue{}, p.errf("unexpected character")
	}
}

func (p *jparser) lit(word string, v jvalue) (jvalue, error) {
	if len(p.s)-p.i < len(word) || p.s[p.i:p.i+len(word)] != word {
		return jvalue{}, p.errf("invalid literal")
	}
	p.i += len(word)
	return v, nil
}

func (p *jparser) enter() error {
	p.depth++
	if p.depth > maxJSONDepth {
		return p.errf("document nested too deeply")
	}
	return nil
}

func (p *jparser) object() (jvalue, error) {
	if err := p.enter(); err != nil {
		return jvalue{}, err
	}
	defer func() { p.depth-- }()
	p.i++ // {
	v := jvalue{kind: jObject}
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		return v, nil
	}
	for {
		p.ws()
		if p.i >= len(p.s) || p.s[p.i] != '"' {
			return jvalue{}, p.errf("expected a member name")
		}
		k, err := p.str()
		if err != nil {
			return jvalue{}, err
		}
		for _, m := range v.obj {
			if m.key == k {
				return jvalue{}, p.errf("duplicate member " + strconv.Quote(k))
			}
		}
		p.ws()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			return jvalue{}, p.errf("expected ':'")
		}
		p.i++
		p.ws()
		val, err := p.value()
		if err != nil {
			return jvalue{}, err
		}
		v.obj = append(v.obj, jmember{key: k, val: val})
		p.ws()
		if p.i >= len(p.s) {
			return jvalue{}, p.errf("unexpected end of document")
		}
		switch p.s[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			return v, nil
		default:
			return jvalue{}, p.errf("expected ',' or '}'")
		}
	}
}

func (p *jparser) array() (jvalue, error) {
	if err := p.enter(); err != nil {
		return jvalue{}, err
	}
	defer func() { p.depth-- }()
	p.i++ // [
	v := jvalue{kind: jArray}
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == ']' {
		p.i++
		return v, nil
	}
	for {
		p.ws()
		el, err := p.value()
		if err != nil {
			return jvalue{}, err
		}
		v.arr = append(v.arr, el)
		p.ws()
		if p.i >= len(p.s) {
			return jvalue{}, p.errf("unexpected end of document")
		}
		switch p.s[p.i] {
		case ',':
			p.i++
		case ']':
			p.i++
			return v, nil
		default:
			return jvalue{}, p.errf("expected ',' or ']'")
		}
	}
}

func (p *jparser) number() (jvalue, error) {
	start := p.i
	if p.s[p.i] == '-' {
		p.i++
	}
	digits := func() int {
		n := 0
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	if p.i < len(p.s) && p.s[p.i] == '0' {
		p.i++
	} else if digits() == 0 {
		return jvalue{}, p.errf("invalid number")
	}
	if p.i < len(p.s) && p.s[p.i] == '.' {
		p.i++
		if digits() == 0 {
			return jvalue{}, p.errf("invalid number")
		}
	}
	if p.i < len(p.s) && (p.s[p.i] == 'e' || p.s[p.i] == 'E') {
		p.i++
		if p.i < len(p.s) && (p.s[p.i] == '+' || p.s[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return jvalue{}, p.errf("invalid number")
		}
	}
	return jvalue{kind: jNumber, str: p.s[start:p.i]}, nil
}

// str reads a JSON string starting at the opening quote. Strings without
// escapes are returned as substrings of the document (no copy).
func (p *jparser) str() (string, error) {
	p.i++ // "
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			s := p.s[start:p.i]
			p.i++
			return s, nil
		case c == '\\':
			return p.strSlow(start)
		case c < 0x20:
			return "", p.errf("control character in string")
		default:
			p.i++
		}
	}
	return "", p.errf("unterminated string")
}

func (p *jparser) strSlow(start int) (string, error) {
	b := make([]byte, 0, p.i-start+16)
	b = append(b, p.s[start:p.i]...)
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			return string(b), nil
		case c < 0x20:
			return "", p.errf("control character in string")
		case c != '\\':
			b = append(b, c)
			p.i++
			continue
		}
		// escape
		p.i++
		if p.i >= len(p.s) {
			break
		}
		e := p.s[p.i]
		p.i++
		switch e {
		case '"', '\\', '/':
			b = append(b, e)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return "", p.errf("invalid unicode escape")
			}
			if utf16.IsSurrogate(r) {
				r2 := utf8.RuneError
				if p.i+1 < len(p.s) && p.s[p.i] == '\\' && p.s[p.i+1] == 'u' {
					save := p.i
					p.i += 2
					if lo, ok := p.hex4(); ok {
						if d := utf16.DecodeRune(r, lo); d != utf8.RuneError {
							r2 = d
						} else {
							p.i = save
						}
					} else {
						return "", p.errf("invalid unicode escape")
					}
				}
				r = r2
			}
			b = utf8.AppendRune(b, r)
		default:
			return "", p.errf("invalid escape")
		}
	}
	return "", p.errf("unterminated string")
}

func (p *jparser) hex4() (rune, bool) {
	if len(p.s)-p.i < 4 {
		return 0, false
	}
	var r rune
	for k := 0; k < 4; k++ {
		c := p.s[p.i+k]
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(d)
	}
	p.i += 4
	return r, true
}
