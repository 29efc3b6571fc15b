package awsjson_test

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/coffer-dev/coffer/internal/awsapi/awsjson"
)

func TestTimeMarshal(t *testing.T) {
	tests := []struct {
		name string
		in   time.Time
		want string
	}{
		{"millis", time.UnixMilli(1523477145713), "1523477145.713"},
		{"whole day", time.Date(2018, 4, 17, 0, 0, 0, 0, time.UTC), "1523923200"},
		{"trailing zero trimmed", time.UnixMilli(1523477145710), "1523477145.71"},
		{"one decimal", time.UnixMilli(1523477145500), "1523477145.5"},
		{"leading zero kept", time.UnixMilli(1523477145007), "1523477145.007"},
		{"sub-millisecond truncated", time.Unix(1523477145, 713999999), "1523477145.713"},
		{"epoch", time.Unix(0, 0), "0"},
		{"before epoch", time.UnixMilli(-1500), "-1.5"},
		{"non-UTC zone", time.Date(2018, 4, 17, 2, 0, 0, 0, time.FixedZone("x", 7200)), "1523923200"},
		{"zero is null", time.Time{}, "null"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.Marshal(awsjson.Time{Time: tt.in})
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("Marshal = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestTimeUnmarshal(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
	}{
		{"1523477145.713", time.UnixMilli(1523477145713)},
		{"1523923200", time.Unix(1523923200, 0)},
		{"1523923200.0", time.Unix(1523923200, 0)},
		{"1523477145.123456789123", time.Unix(1523477145, 123456789)},
		{"-1.5", time.UnixMilli(-1500)},
		{"0", time.Unix(0, 0)},
		{"1.523477145713e9", time.UnixMilli(1523477145713)},
		{"1523477145713E-3", time.UnixMilli(1523477145713)},
		{`"2018-04-17T00:00:00Z"`, time.Unix(1523923200, 0)},
		{`"2018-04-17T02:00:00.5+02:00"`, time.UnixMilli(1523923200500)},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var got awsjson.Time
			if err := json.Unmarshal([]byte(tt.in), &got); err != nil {
				t.Fatal(err)
			}
			if !got.Equal(tt.want) {
				t.Errorf("got %v, want %v", got.Time, tt.want)
			}
			if got.Location() != time.UTC {
				t.Errorf("location %v, want UTC", got.Location())
			}
		})
	}
}

func TestTimeUnmarshalNullKeepsZero(t *testing.T) {
	var v struct {
		T *awsjson.Time
		U awsjson.Time
	}
	if err := json.Unmarshal([]byte(`{"T":null,"U":null}`), &v); err != nil {
		t.Fatal(err)
	}
	if v.T != nil || !v.U.IsZero() {
		t.Errorf("null decoded to %+v", v)
	}
}

func TestTimeUnmarshalErrors(t *testing.T) {
	tests := []struct {
		body, want string
	}{
		{`{"D":"yesterday"}`, "Invalid timestamp at 'D': expected epoch seconds as a number (or an RFC 3339 string)"},
		{`{"D":1e300}`, "Invalid timestamp at 'D': expected epoch seconds between years 1 and 9999"},
		{`{"D":99999999999999999999}`, "Invalid timestamp at 'D': expected epoch seconds between years 1 and 9999"},
		{`{"D":-99999999999}`, "Invalid timestamp at 'D': expected epoch seconds between years 1 and 9999"},
		{`{"D":true}`, "Unexpected value type at 'D': expected timestamp, got boolean"},
		{`{"D":[1]}`, "Unexpected value type at 'D': expected timestamp, got array"},
		{`{"D":{"x":1}}`, "Unexpected value type at 'D': expected timestamp, got object"},
		{`{"N":{"D":"nope"}}`, "Invalid timestamp at 'N.D': expected epoch seconds as a number (or an RFC 3339 string)"},
	}
	type inner struct{ D *awsjson.Time }
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			var v struct {
				D *awsjson.Time
				N *inner
			}
			err := awsjson.Decode([]byte(tt.body), &v)
			var se *awsjson.SerializationError
			if !errors.As(err, &se) {
				t.Fatalf("Decode error = %v, want *SerializationError", err)
			}
			if se.Message != tt.want {
				t.Errorf("message\n got %q\nwant %q", se.Message, tt.want)
			}
		})
	}
}

// Every millisecond instant in years 1..9999 survives Marshal/Unmarshal.
func TestTimeRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const lo, hi = -62135596800000, 253402300799999
	for range 10000 {
		ms := lo + r.Int64N(hi-lo)
		in := awsjson.Time{Time: time.UnixMilli(ms)}
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		if strings.ContainsAny(string(b), "eE") {
			t.Fatalf("exponent in %s", b)
		}
		var out awsjson.Time
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("Unmarshal(%s): %v", b, err)
		}
		if !out.Equal(in.Time) {
			t.Fatalf("round trip of %d ms: %s -> %v", ms, b, out.Time)
		}
	}
}

func TestTimeOf(t *testing.T) {
	if awsjson.TimeOf(time.Time{}) != nil {
		t.Error("TimeOf(zero) != nil")
	}
	now := time.Now()
	if got := awsjson.TimeOf(now); got == nil || !got.Equal(now) {
		t.Errorf("TimeOf(now) = %v", got)
	}
}

func TestTimeOmitzero(t *testing.T) {
	v := struct {
		A awsjson.Time  `json:"A,omitzero"`
		B *awsjson.Time `json:"B,omitzero"`
		C *awsjson.Time `json:"C,omitzero"`
	}{C: awsjson.TimeOf(time.Unix(1523923200, 0))}
	got, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"C":1523923200}`; string(got) != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// FuzzTimeUnmarshal: any JSON value either fails with a non-echoing error
// or yields a time that re-encodes to a number and decodes back to the same
// millisecond.
func FuzzTimeUnmarshal(f *testing.F) {
	for _, s := range []string{`1523477145.713`, `0`, `-1.5`, `1e9`, `"2018-04-17T00:00:00Z"`, `null`, `true`, `[]`, `{}`, `"x"`, `1e400`, `-0.0001`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var v struct{ T awsjson.Time }
		err := awsjson.Decode(append(append([]byte(`{"T":`), b...), '}'), &v)
		if err != nil {
			var se *awsjson.SerializationError
			if !errors.As(err, &se) {
				t.Fatalf("error %T", err)
			}
			if len(b) > 6 && strings.Contains(se.Message, string(b)) {
				t.Fatalf("message echoes input: %q", se.Message)
			}
			return
		}
		if v.T.IsZero() {
			return
		}
		out, err := json.Marshal(v.T)
		if err != nil {
			t.Fatal(err)
		}
		var back awsjson.Time
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("re-decode %s: %v", out, err)
		}
		if back.UnixMilli() != v.T.UnixMilli() {
			t.Fatalf("%s -> %s -> %v", b, out, back.Time)
		}
	})
}
