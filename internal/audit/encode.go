package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"unicode/utf8"
)

// A hand-written encoder for Event: the event is marshalled on every
// request, and reflection-based encoding/json costs several times more. It
// produces exactly the bytes encoding/json produces with HTML escaping off
// (TestEventMarshalMatchesEncodingJSON and FuzzEventMarshal hold it to
// that), so the struct tags remain the reference for the shape. A field
// added to Event or its parts must be added here too; the equivalence test
// fills every field by reflection and fails otherwise.

var errRawUTF8 = errors.New("invalid utf-8")

// fields writes the members of one JSON object.
type fields struct {
	b   []byte
	n   int // members written
	err error
}

func (f *fields) key(k string) {
	if f.n > 0 {
		f.b = append(f.b, ',')
	}
	f.n++
	f.b = append(f.b, '"')
	f.b = append(f.b, k...) // keys are constant ASCII identifiers
	f.b = append(f.b, '"', ':')
}

func (f *fields) str(k, v string) {
	f.key(k)
	f.b = appendJSONString(f.b, v)
}

func (f *fields) strOmit(k, v string) {
	if v != "" {
		f.str(k, v)
	}
}

func (f *fields) boolean(k string, v bool) {
	f.key(k)
	if v {
		f.b = append(f.b, "true"...)
	} else {
		f.b = append(f.b, "false"...)
	}
}

func (f *fields) time(k string, t Time) {
	f.key(k)
	f.b = append(f.b, '"')
	f.b = t.UTC().AppendFormat(f.b, TimeFormat)
	f.b = append(f.b, '"')
}

// raw writes a json.RawMessage the way encoding/json does: nil is null,
// anything else is validated and compacted. Unlike encoding/json it also
// refuses invalid UTF-8, which a record body may not contain.
func (f *fields) raw(k string, m json.RawMessage) {
	f.key(k)
	if m == nil {
		f.b = append(f.b, "null"...)
		return
	}
	if !utf8.Valid(m) {
		if f.err == nil {
			f.err = fmt.Errorf("audit: marshal event: %s: %w", k, errRawUTF8)
		}
		return
	}
	buf := bytes.NewBuffer(f.b)
	if err := json.Compact(buf, m); err != nil {
		if f.err == nil {
			f.err = fmt.Errorf("audit: marshal event: %s: %w", k, err)
		}
		return
	}
	f.b = buf.Bytes()
}

func (f *fields) rawOmit(k string, m json.RawMessage) {
	if len(m) != 0 {
		f.raw(k, m)
	}
}

// open starts the object member k; the returned count goes to close.
func (f *fields) open(k string) int {
	f.key(k)
	f.b = append(f.b, '{')
	n := f.n
	f.n = 0
	return n
}

// close ends the object started by the open that returned n.
func (f *fields) close(n int) {
	f.b = append(f.b, '}')
	f.n = n
}

func appendEvent(b []byte, e *Event) ([]byte, error) {
	f := fields{b: append(b, '{')}
	f.str("eventVersion", e.EventVersion)
	n := f.open("userIdentity")
	e.UserIdentity.fields(&f)
	f.close(n)
	f.time("eventTime", e.EventTime)
	f.str("eventSource", e.EventSource)
	f.str("eventName", e.EventName)
	f.str("awsRegion", e.AWSRegion)
	f.str("sourceIPAddress", e.SourceIPAddress)
	f.str("userAgent", e.UserAgent)
	f.strOmit("errorCode", e.ErrorCode)
	f.strOmit("errorMessage", e.ErrorMessage)
	f.raw("requestParameters", e.RequestParams)
	f.raw("responseElements", e.ResponseElements)
	f.rawOmit("additionalEventData", e.AdditionalEventData)
	f.strOmit("requestID", e.RequestID)
	f.str("eventID", e.EventID)
	f.boolean("readOnly", e.ReadOnly)
	if len(e.Resources) > 0 {
		f.key("resources")
		f.b = append(f.b, '[')
		for i := range e.Resources {
			if i > 0 {
				f.b = append(f.b, ',')
			}
			f.b = append(f.b, '{')
			n := f.n
			f.n = 0
			e.Resources[i].fields(&f)
			f.close(n)
		}
		f.b = append(f.b, ']')
	}
	f.str("eventType", e.EventType)
	f.strOmit("apiVersion", e.APIVersion)
	f.boolean("managementEvent", e.ManagementEvent)
	f.str("recipientAccountId", e.RecipientAccountID)
	f.strOmit("sharedEventID", e.SharedEventID)
	f.str("eventCategory", e.EventCategory)
	if t := e.TLSDetails; t != nil {
		n := f.open("tlsDetails")
		t.fields(&f)
		f.close(n)
	}
	if f.err != nil {
		return b, f.err
	}
	return append(f.b, '}'), nil
}

func (u *UserIdentity) fields(f *fields) {
	f.str("type", u.Type)
	f.strOmit("principalId", u.PrincipalID)
	f.strOmit("arn", u.ARN)
	f.strOmit("accountId", u.AccountID)
	f.strOmit("accessKeyId", u.AccessKeyID)
	f.strOmit("userName", u.UserName)
	if sc := u.SessionContext; sc != nil {
		n := f.open("sessionContext")
		sc.fields(f)
		f.close(n)
	}
	f.strOmit("invokedBy", u.InvokedBy)
	f.strOmit("identityProvider", u.IdentityProvider)
}

func (sc *SessionContext) fields(f *fields) {
	if si := sc.SessionIssuer; si != nil {
		n := f.open("sessionIssuer")
		si.fields(f)
		f.close(n)
	}
	if w := sc.WebIDFederationData; w != nil {
		n := f.open("webIdFederationData")
		w.fields(f)
		f.close(n)
	}
	n := f.open("attributes")
	sc.Attributes.fields(f)
	f.close(n)
}

func (si *SessionIssuer) fields(f *fields) {
	f.str("type", si.Type)
	f.strOmit("principalId", si.PrincipalID)
	f.strOmit("arn", si.ARN)
	f.strOmit("accountId", si.AccountID)
	f.strOmit("userName", si.UserName)
}

func (w *WebIDFederationData) fields(f *fields) {
	f.strOmit("federatedProvider", w.FederatedProvider)
	if len(w.Attributes) > 0 {
		n := f.open("attributes")
		keys := make([]string, 0, len(w.Attributes))
		for k := range w.Attributes {
			keys = append(keys, k)
		}
		slices.Sort(keys) // encoding/json sorts map keys
		for _, k := range keys {
			if f.n > 0 {
				f.b = append(f.b, ',')
			}
			f.n++
			f.b = appendJSONString(f.b, k)
			f.b = append(f.b, ':')
			f.b = appendJSONString(f.b, w.Attributes[k])
		}
		f.close(n)
	}
}

func (sa *SessionAttributes) fields(f *fields) {
	if !sa.CreationDate.IsZero() {
		f.time("creationDate", sa.CreationDate)
	}
	f.key("mfaAuthenticated")
	if sa.MFAAuthenticated {
		f.b = append(f.b, `"true"`...)
	} else {
		f.b = append(f.b, `"false"`...)
	}
}

func (r *Resource) fields(f *fields) {
	f.str("ARN", r.ARN)
	f.strOmit("accountId", r.AccountID)
	f.strOmit("type", r.Type)
}

func (t *TLSDetails) fields(f *fields) {
	f.strOmit("tlsVersion", t.TLSVersion)
	f.strOmit("cipherSuite", t.CipherSuite)
	f.strOmit("clientProvidedHostHeader", t.ClientProvidedHostHeader)
	f.strOmit("keyExchange", t.KeyExchange)
}

// jsonNoEscape[c] is true for ASCII bytes that appear literally inside a
// JSON string (everything but control characters, '"' and '\\').
var jsonNoEscape = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// appendJSONString appends s as a JSON string with encoding/json's choices
// (HTML escaping off): short escapes for \b \f \n \r \t " and \\, \u00XX
// for other control characters, invalid UTF-8 replaced by \ufffd, and
// U+2028/U+2029 escaped.
func appendJSONString[T string | []byte](b []byte, s T) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	done := 0 // s[:done] has been written
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if jsonNoEscape[c] {
				i++
				continue
			}
			b = append(b, s[done:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, `\b`...)
			case '\f':
				b = append(b, `\f`...)
			case '\n':
				b = append(b, `\n`...)
			case '\r':
				b = append(b, `\r`...)
			case '\t':
				b = append(b, `\t`...)
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			done = i
			continue
		}
		// A short conversion, kept on the stack, serves both string and []byte.
		r, size := utf8.DecodeRuneInString(string(s[i:min(i+utf8.UTFMax, len(s))]))
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[done:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[done:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		done = i
	}
	b = append(b, s[done:]...)
	return append(b, '"')
}
