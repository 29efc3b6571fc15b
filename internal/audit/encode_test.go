package audit_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/coffer-dev/coffer/internal/audit"
)

// referenceMarshal is the shape's reference: encoding/json over the struct
// tags, HTML escaping off, no trailing newline.
func referenceMarshal(ev *audit.Event) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(ev); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

var trickyStrings = []string{
	"plain", `quote " backslash \ slash /`, "html <&> 'x'", "ctl \x00\x01\x08\x0c\n\r\t\x1f\x7f",
	"ünïcödé ✓ 🔑", "bad utf-8 \xff\xfe\xc3", "seps \u2028 \u2029", "",
}

// fill sets every field reachable from v to a non-zero value.
func fill(t *testing.T, v reflect.Value, n *int) {
	*n++
	switch v.Type() {
	case reflect.TypeFor[json.RawMessage]():
		v.SetBytes([]byte(" { \"a\" : [ 1 , 2.50, null ] ,\n \"b\" : \"<&>\\u2028\" } "))
		return
	case reflect.TypeFor[audit.Time]():
		v.Set(reflect.ValueOf(audit.TimeOf(time.Date(2025, 6, 7, 8, 9, 10, 11, time.UTC))))
		return
	}
	switch v.Kind() {
	case reflect.String:
		s := trickyStrings[*n%len(trickyStrings)]
		if s == "" {
			s = "x"
		}
		v.SetString(s)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(t, v.Elem(), n)
	case reflect.Struct:
		for i := range v.NumField() {
			fill(t, v.Field(i), n)
		}
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			fill(t, v.Index(i), n)
		}
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for _, k := range []string{"zeta", "alpha", "\u2028k\"ey"} {
			val := reflect.New(v.Type().Elem()).Elem()
			fill(t, val, n)
			m.SetMapIndex(reflect.ValueOf(k), val)
		}
		v.Set(m)
	default:
		t.Fatalf("fill: unhandled kind %s (%s): extend the test and the encoder", v.Kind(), v.Type())
	}
	if v.IsZero() {
		t.Fatalf("fill left %s zero", v.Type())
	}
}

func TestEventMarshalMatchesEncodingJSON(t *testing.T) {
	full := &audit.Event{}
	n := 0
	fill(t, reflect.ValueOf(full).Elem(), &n)

	cases := map[string]*audit.Event{
		"every field set": full,
		"zero event":      {},
		"typical":         assumedRoleEvent(),
	}
	// Each optional part left out in turn.
	for name, clear := range map[string]func(*audit.Event){
		"no session context": func(e *audit.Event) { e.UserIdentity.SessionContext = nil },
		"no issuer":          func(e *audit.Event) { e.UserIdentity.SessionContext.SessionIssuer = nil },
		"no web identity":    func(e *audit.Event) { e.UserIdentity.SessionContext.WebIDFederationData = nil },
		"empty web identity": func(e *audit.Event) {
			e.UserIdentity.SessionContext.WebIDFederationData = &audit.WebIDFederationData{}
		},
		"no creation date": func(e *audit.Event) { e.UserIdentity.SessionContext.Attributes.CreationDate = audit.Time{} },
		"no resources":     func(e *audit.Event) { e.Resources = []audit.Resource{} },
		"no tls":           func(e *audit.Event) { e.TLSDetails = nil },
		"empty tls":        func(e *audit.Event) { e.TLSDetails = &audit.TLSDetails{} },
		"null raw":         func(e *audit.Event) { e.RequestParams, e.ResponseElements, e.AdditionalEventData = nil, nil, nil },
		"empty omitempty":  func(e *audit.Event) { e.ErrorCode, e.RequestID, e.APIVersion, e.SharedEventID = "", "", "", "" },
		"false bools": func(e *audit.Event) {
			e.ReadOnly, e.ManagementEvent = false, false
			e.UserIdentity.SessionContext.Attributes.MFAAuthenticated = false
		},
	} {
		ev := *full
		ui := full.UserIdentity
		sc := *ui.SessionContext
		ui.SessionContext = &sc
		ev.UserIdentity = ui
		clear(&ev)
		cases[name] = &ev
	}
	for name, ev := range cases {
		want, werr := referenceMarshal(ev)
		got, gerr := ev.Marshal()
		if (werr != nil) != (gerr != nil) {
			t.Errorf("%s: error mismatch: encoding/json %v, Marshal %v", name, werr, gerr)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s:\n got %s\nwant %s", name, got, want)
		}
	}

	// Invalid raw JSON is an error in both.
	bad := assumedRoleEvent()
	bad.RequestParams = json.RawMessage(`{"a":`)
	if _, err := bad.Marshal(); err == nil {
		t.Error("invalid requestParameters accepted")
	}
	bad.RequestParams = json.RawMessage{}
	if _, err := bad.Marshal(); err == nil {
		t.Error("empty non-nil requestParameters accepted (encoding/json rejects it)")
	}
}

// FuzzEventMarshal holds the hand-written encoder to encoding/json's output.
func FuzzEventMarshal(f *testing.F) {
	for _, s := range trickyStrings {
		f.Add(s, s+"2", []byte(`{"k":"`+s+`"}`), true)
	}
	f.Add("", "", []byte(nil), false)
	f.Add("a", "b", []byte(" [1, {\"x\" : \"\\u0000\"}] "), false)
	f.Fuzz(func(t *testing.T, s1, s2 string, raw []byte, flag bool) {
		ev := assumedRoleEvent()
		ev.EventName, ev.UserAgent, ev.ErrorMessage = s1, s2, s1+s2
		ev.UserIdentity.UserName = s2
		ev.UserIdentity.SessionContext.WebIDFederationData.Attributes = map[string]string{s1: s2, s2: s1}
		ev.ReadOnly = flag
		ev.RequestParams = raw
		if flag {
			ev.Resources = []audit.Resource{{ARN: s1, Type: s2}}
		}
		want, werr := referenceMarshal(ev)
		got, gerr := ev.Marshal()
		if !utf8.Valid(raw) {
			if gerr == nil {
				t.Fatalf("raw JSON with invalid UTF-8 accepted")
			}
			return
		}
		if (werr != nil) != (gerr != nil) {
			t.Fatalf("error mismatch: encoding/json %v, Marshal %v", werr, gerr)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("\n got %s\nwant %s", got, want)
		}
		if gerr == nil && !audit.ValidBody(got) {
			t.Fatalf("not a valid body: %s", got)
		}
	})
}
