package auditlog

import (
	"bytes"
	"encoding/json"
	"errors"
	"time"
	"unicode/utf8"

	"github.com/coffer-dev/coffer/internal/audit"
)

// Attrs are the attributes CloudTrail's LookupEvents filters on, read from
// an event body by a scanner that decodes only them and skips everything
// else (no full JSON parse). They agree with encoding/json's reading of
// the same body (a member repeated: the last one counts; a member of
// another JSON type: absent) — FuzzAttrs holds them to that.
//
// Byte slices alias the body (or, for strings with escapes, a copy): they
// are valid while the body is.
type Attrs struct {
	Time        []byte // eventTime as written
	EventID     []byte
	EventName   []byte
	EventSource []byte
	AccessKeyID []byte // userIdentity.accessKeyId
	// ReadOnly is readOnly; HasReadOnly is false if the body has no
	// boolean readOnly.
	ReadOnly, HasReadOnly bool
	Resources             []ResourceAttrs

	// userIdentity members Username is derived from.
	idType, idUserName, idARN []byte
}

// ResourceAttrs is one element of resources.
type ResourceAttrs struct {
	ARN, Type []byte
}

// ErrAttrs is returned for a body that is not a JSON object.
var ErrAttrs = errors.New("auditlog: event body is not a json object")

// Username is the user name LookupEvents matches (awsapi.AuditUsername):
// userName; else "root" for the account root; else, for role sessions and
// federated and web-identity users, what follows the last "/" of the ARN;
// else empty.
func (a *Attrs) Username() []byte {
	switch {
	case len(a.idUserName) > 0:
		return a.idUserName
	case string(a.idType) == audit.IdentityRoot:
		return []byte("root")
	case string(a.idType) == audit.IdentityAssumedRole || string(a.idType) == audit.IdentityFederatedUser || string(a.idType) == audit.IdentityWebIdentityUser:
		if i := bytes.LastIndexByte(a.idARN, '/'); i >= 0 {
			return a.idARN[i+1:]
		}
	}
	return nil
}

// Unix returns the event time in seconds since 1970 (0 if it is missing
// or not a timestamp).
func (a *Attrs) Unix() int64 { return ParseEventTime(a.Time) }

// ParseEventTime parses CloudTrail's "2006-01-02T15:04:05Z" quickly, any
// other RFC 3339 time slowly, and returns seconds since 1970 (0 if t is
// not a time).
func ParseEventTime(t []byte) int64 {
	if len(t) == 20 && t[4] == '-' && t[7] == '-' && t[10] == 'T' && t[13] == ':' && t[16] == ':' && t[19] == 'Z' {
		y, ok1 := digits(t[0:4])
		mo, ok2 := digits(t[5:7])
		d, ok3 := digits(t[8:10])
		h, ok4 := digits(t[11:13])
		mi, ok5 := digits(t[14:16])
		s, ok6 := digits(t[17:19])
		if ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h < 24 && mi < 60 && s < 60 {
			tm := time.Date(y, time.Month(mo), d, h, mi, s, 0, time.UTC)
			if tm.Day() == d { // not 31 April
				return tm.Unix()
			}
		}
	}
	tm, err := time.Parse(time.RFC3339Nano, string(t))
	if err != nil {
		return 0
	}
	return tm.Unix()
}

func digits(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// Match reports whether the event has the lookup attribute key (a
// CloudTrail LookupAttributeKey) equal to value. ReadOnly takes "true" or
// "false". An unknown key, or an empty value, matches nothing.
func (a *Attrs) Match(key, value string) bool {
	if value == "" {
		return false
	}
	switch key {
	case "EventId":
		return string(a.EventID) == value
	case "EventName":
		return string(a.EventName) == value
	case "EventSource":
		return string(a.EventSource) == value
	case "AccessKeyId":
		return string(a.AccessKeyID) == value
	case "Username":
		u := a.Username()
		return len(u) > 0 && string(u) == value
	case "ReadOnly":
		return a.HasReadOnly && (value == "true") == a.ReadOnly && (value == "true" || value == "false")
	case "ResourceName":
		for _, r := range a.Resources {
			if string(r.ARN) == value {
				return true
			}
		}
	case "ResourceType":
		for _, r := range a.Resources {
			if string(r.Type) == value {
				return true
			}
		}
	}
	return false
}

// Parse reads the attributes of body.
func (a *Attrs) Parse(body []byte) error {
	*a = Attrs{Resources: a.Resources[:0]}
	p := parser{b: body, a: a}
	p.ws()
	if !p.object(p.top) {
		return ErrAttrs
	}
	p.ws()
	if p.i != len(p.b) {
		return ErrAttrs
	}
	return nil
}

// parser is a minimal JSON reader for one body.
type parser struct {
	b   []byte
	i   int
	a   *Attrs
	res ResourceAttrs // the resource being read
}

func (p *parser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// object reads an object, calling member for each key (the raw bytes
// between the quotes, escapes unresolved) with p.i at the value; member
// must consume the value. It reports whether the object was well formed.
func (p *parser) object(member func(key []byte) bool) bool {
	if p.i >= len(p.b) || p.b[p.i] != '{' {
		return false
	}
	p.i++
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == '}' {
		p.i++
		return true
	}
	for {
		p.ws()
		key, esc, ok := p.rawString()
		if !ok {
			return false
		}
		if esc { // a key with escapes is never one we want unescaped … unless it unescapes to one
			key = unescape(key)
		}
		p.ws()
		if p.i >= len(p.b) || p.b[p.i] != ':' {
			return false
		}
		p.i++
		p.ws()
		if !member(key) {
			return false
		}
		if done, ok := p.sep('}'); done || !ok {
			return ok
		}
	}
}

// rawString reads a string at p.i and returns its contents (without the
// quotes) and whether it has escapes.
func (p *parser) rawString() (s []byte, esc, ok bool) {
	if p.i >= len(p.b) || p.b[p.i] != '"' {
		return nil, false, false
	}
	start := p.i + 1
	j := start
	for {
		k := bytes.IndexByte(p.b[j:], '"')
		if k < 0 {
			return nil, false, false
		}
		q := j + k
		// The quote is escaped if an odd number of backslashes precede it.
		n := 0
		for m := q - 1; m >= start && p.b[m] == '\\'; m-- {
			n++
		}
		if n%2 == 0 {
			s = p.b[start:q]
			p.i = q + 1
			for _, c := range s {
				if c < 0x20 {
					return nil, false, false // a raw control character: not JSON
				}
			}
			return s, bytes.IndexByte(s, '\\') >= 0, true
		}
		j = q + 1
	}
}

// str reads a string value into *dst ("" and false if the value is not a
// string, which is consumed all the same).
func (p *parser) str(dst *[]byte) bool {
	*dst = nil
	if p.i < len(p.b) && p.b[p.i] != '"' {
		return p.skip()
	}
	s, esc, ok := p.rawString()
	if !ok {
		return false
	}
	if !esc && utf8.Valid(s) {
		*dst = s
		return true
	}
	// Escapes or invalid UTF-8: decode as encoding/json does.
	*dst = decodeString(s)
	return true
}

func decodeString(raw []byte) []byte {
	q := make([]byte, 0, len(raw)+2)
	q = append(q, '"')
	q = append(q, raw...)
	q = append(q, '"')
	var s string
	if json.Unmarshal(q, &s) != nil {
		return nil
	}
	return []byte(s)
}

func unescape(raw []byte) []byte { return decodeString(raw) }

// top handles the members of the event object.
func (p *parser) top(key []byte) bool {
	a := p.a
	switch string(key) {
	case "eventTime":
		return p.str(&a.Time)
	case "eventID":
		return p.str(&a.EventID)
	case "eventName":
		return p.str(&a.EventName)
	case "eventSource":
		return p.str(&a.EventSource)
	case "readOnly":
		a.ReadOnly, a.HasReadOnly = false, false
		switch {
		case bytes.HasPrefix(p.b[p.i:], []byte("true")):
			a.ReadOnly, a.HasReadOnly = true, true
		case bytes.HasPrefix(p.b[p.i:], []byte("false")):
			a.HasReadOnly = true
		}
		return p.skip()
	case "userIdentity":
		a.idType, a.idUserName, a.idARN, a.AccessKeyID = nil, nil, nil, nil
		if p.i < len(p.b) && p.b[p.i] == '{' {
			return p.object(p.identity)
		}
		return p.skip()
	case "resources":
		a.Resources = a.Resources[:0]
		if p.i < len(p.b) && p.b[p.i] == '[' {
			return p.resources()
		}
		return p.skip()
	}
	return p.skip()
}

func (p *parser) identity(key []byte) bool {
	a := p.a
	switch string(key) {
	case "type":
		return p.str(&a.idType)
	case "userName":
		return p.str(&a.idUserName)
	case "arn":
		return p.str(&a.idARN)
	case "accessKeyId":
		return p.str(&a.AccessKeyID)
	}
	return p.skip()
}

func (p *parser) resources() bool {
	p.i++ // '['
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == ']' {
		p.i++
		return true
	}
	for {
		p.ws()
		if p.i < len(p.b) && p.b[p.i] == '{' {
			p.res = ResourceAttrs{}
			if !p.object(p.resource) {
				return false
			}
			p.a.Resources = append(p.a.Resources, p.res)
		} else if !p.skip() {
			return false
		}
		if done, ok := p.sep(']'); done || !ok {
			return ok
		}
	}
}

func (p *parser) resource(key []byte) bool {
	switch string(key) {
	case "ARN":
		return p.str(&p.res.ARN)
	case "type":
		return p.str(&p.res.Type)
	}
	return p.skip()
}

// sep consumes what follows a member or element: a comma (more to come)
// or the closing byte (done). Anything else is not ok.
func (p *parser) sep(closing byte) (done, ok bool) {
	p.ws()
	if p.i >= len(p.b) {
		return false, false
	}
	switch p.b[p.i] {
	case ',':
		p.i++
		return false, true
	case closing:
		p.i++
		return true, true
	}
	return false, false
}

// skip consumes one value of any type, checking its syntax only as far as
// needed to find its end.
func (p *parser) skip() bool {
	if p.i >= len(p.b) {
		return false
	}
	switch c := p.b[p.i]; {
	case c == '"':
		_, _, ok := p.rawString()
		return ok
	case c == '{' || c == '[':
		depth := 0
		for p.i < len(p.b) {
			switch p.b[p.i] {
			case '"':
				if _, _, ok := p.rawString(); !ok {
					return false
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					p.i++
					return true
				}
			}
			p.i++
		}
		return false
	default:
		start := p.i
		for p.i < len(p.b) {
			switch p.b[p.i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return p.i > start
			}
			p.i++
		}
		return p.i > start
	}
}
