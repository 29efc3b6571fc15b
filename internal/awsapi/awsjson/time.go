package awsjson

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"time"
)

// Time is an awsJson1_1 timestamp: on the wire a JSON number of seconds since
// the Unix epoch, with at most millisecond precision (1523477145.713, or
// 1523923200 for a whole second).
//
// The zero Time means "absent": IsZero reports true, so a `,omitzero` field
// holding it is omitted, and MarshalJSON renders it as null.
type Time struct {
	time.Time
}

// TimeOf returns a pointer to t as a Time, or nil when t is the zero time, so
// that an unset time.Time becomes an omitted member.
func TimeOf(t time.Time) *Time {
	if t.IsZero() {
		return nil
	}
	return &Time{Time: t}
}

// maxEpochSeconds bounds accepted timestamps to years 0001–9999, the range
// RFC 3339 can express.
const (
	minEpochSeconds = -62135596800 // 0001-01-01T00:00:00Z
	maxEpochSeconds = 253402300799 // 9999-12-31T23:59:59Z
)

var timeType = reflect.TypeFor[Time]()

// MarshalJSON renders t as epoch seconds truncated to milliseconds, without
// trailing zeros or an exponent.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return t.AppendEpoch(make([]byte, 0, 16)), nil
}

// AppendEpoch appends t as epoch seconds with millisecond precision, the
// format MarshalJSON uses.
func (t Time) AppendEpoch(b []byte) []byte {
	ms := t.UnixMilli()
	if ms < 0 {
		b = append(b, '-')
		ms = -ms
	}
	b = strconv.AppendInt(b, ms/1000, 10)
	frac := ms % 1000
	if frac == 0 {
		return b
	}
	digits := [3]byte{byte('0' + frac/100), byte('0' + frac/10%10), byte('0' + frac%10)}
	n := 3
	for digits[n-1] == '0' {
		n--
	}
	b = append(b, '.')
	return append(b, digits[:n]...)
}

// UnmarshalJSON accepts a JSON number of epoch seconds (integer or
// fractional, exponent allowed), leniently an RFC 3339 string, or null
// (which leaves t unchanged). Errors are *json.UnmarshalTypeError values that
// name only the JSON kind, never the submitted text, so encoding/json can add
// the member path.
func (t *Time) UnmarshalJSON(b []byte) error {
	if len(b) == 0 {
		return &json.UnmarshalTypeError{Value: "empty", Type: timeType}
	}
	switch c := b[0]; {
	case c == 'n':
		return nil
	case c == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return &json.UnmarshalTypeError{Value: "string", Type: timeType}
		}
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return &json.UnmarshalTypeError{Value: "string", Type: timeType}
		}
		t.Time = v.UTC()
		return nil
	case c == '-' || ('0' <= c && c <= '9'):
		v, ok := parseEpoch(b)
		if !ok {
			return &json.UnmarshalTypeError{Value: "number", Type: timeType}
		}
		t.Time = v
		return nil
	case c == 't' || c == 'f':
		return &json.UnmarshalTypeError{Value: "bool", Type: timeType}
	case c == '[':
		return &json.UnmarshalTypeError{Value: "array", Type: timeType}
	default:
		return &json.UnmarshalTypeError{Value: "object", Type: timeType}
	}
}

// parseEpoch parses a JSON number of epoch seconds. Plain decimals are parsed
// exactly (fraction truncated to nanoseconds); numbers with an exponent go
// through float64 and are rounded to milliseconds.
func parseEpoch(b []byte) (time.Time, bool) {
	if bytes.ContainsAny(b, "eE") {
		f, err := strconv.ParseFloat(string(b), 64)
		if err != nil || f < minEpochSeconds || f > maxEpochSeconds {
			return time.Time{}, false
		}
		return time.UnixMilli(int64(math.Round(f * 1000))).UTC(), true
	}
	neg := false
	i := 0
	if b[0] == '-' {
		neg = true
		i = 1
	}
	start := i
	var sec int64
	for ; i < len(b) && '0' <= b[i] && b[i] <= '9'; i++ {
		sec = sec*10 + int64(b[i]-'0')
		if sec > maxEpochSeconds+1 {
			return time.Time{}, false
		}
	}
	if i == start {
		return time.Time{}, false
	}
	var nsec int64
	if i < len(b) && b[i] == '.' {
		i++
		fracStart := i
		scale := int64(100_000_000)
		for ; i < len(b) && '0' <= b[i] && b[i] <= '9'; i++ {
			nsec += int64(b[i]-'0') * scale
			scale /= 10
		}
		if i == fracStart {
			return time.Time{}, false
		}
	}
	if i < len(b) {
		return time.Time{}, false
	}
	if neg {
		sec, nsec = -sec, -nsec
	}
	if sec < minEpochSeconds || sec > maxEpochSeconds {
		return time.Time{}, false
	}
	return time.Unix(sec, nsec).UTC(), true
}
