package sigv4

import (
	"strconv"
	"strings"
	"time"
)

// Kind classifies a verification failure. A Kind is an error, so
// errors.Is(err, KindMismatch) reports whether err is an *Error of that kind.
type Kind uint8

const (
	// KindMissing: the request carries neither an Authorization header nor
	// query-string authentication (X-Amz-Algorithm).
	KindMissing Kind = iota + 1
	// KindIncomplete: the authentication information is malformed or lacks a
	// required part (parameter, date, credential element), or names an
	// unsupported algorithm (including SigV4a).
	KindIncomplete
	// KindMismatch: the signature does not match the request, or the request
	// is signed in a way the server does not accept (host or date unsigned,
	// SignedHeaders unsorted, both header and query authentication, an
	// X-Amz-Content-Sha256 that is not the body's hash).
	KindMismatch
	// KindExpired: the request time is outside the allowed window (15 minutes
	// either way, or a presigned request's X-Amz-Expires).
	KindExpired
	// KindScope: the credential scope names another region, service, date or
	// terminator than the server expects.
	KindScope
)

var kindNames = [...]string{
	KindMissing:    "missing authentication",
	KindIncomplete: "incomplete signature",
	KindMismatch:   "signature mismatch",
	KindExpired:    "request expired",
	KindScope:      "invalid credential scope",
}

// String returns a short lower-case name of the kind.
func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Error makes a Kind usable as an errors.Is target.
func (k Kind) Error() string { return "sigv4: " + k.String() }

// Error is a verification failure: its kind and AWS's message text.
type Error struct {
	Kind    Kind
	Message string // as AWS words it; safe to return to the client
}

func (e *Error) Error() string { return "sigv4: " + e.Kind.String() + ": " + e.Message }

// Unwrap returns the kind, so errors.Is(err, KindX) works.
func (e *Error) Unwrap() error { return e.Kind }

func newError(k Kind, msg string) *Error { return &Error{Kind: k, Message: msg} }

// AWS's message texts.
const (
	msgMissing   = "Missing Authentication Token"
	msgMismatch  = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	msgBothAuth  = "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header."
	msgHostUnsig = "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
	// Not AWS texts (no source found); phrased in the same style.
	msgMultiAuth = "Found more than one 'Authorization' HTTP header."

	maxEcho = 1024 // longest client-supplied text echoed in a message
)

func errMismatch() *Error { return newError(KindMismatch, msgMismatch) }

// echo caps client-supplied text that is quoted back in a message.
func echo(s string) string {
	if len(s) <= maxEcho {
		return s
	}
	return s[:maxEcho] + "..."
}

func errUnsupportedAlgorithm(alg string) *Error {
	return newError(KindIncomplete, "Unsupported AWS 'algorithm': '"+echo(alg)+"'.")
}

func errNotKeyValue(tok, header string) *Error {
	return newError(KindIncomplete, "'"+echo(tok)+"' not a valid key=value pair (missing equal-sign) in Authorization header: '"+echo(header)+"'")
}

func errDuplicateParam(name, where string) *Error {
	return newError(KindIncomplete, "Found more than one '"+name+"' parameter in the "+where+".")
}

func errBadDate(v string) *Error {
	return newError(KindIncomplete, "Date must be in ISO-8601 'basic format'. Got '"+echo(v)+"'. See http://en.wikipedia.org/wiki/ISO_8601")
}

func errCredentialElements(cred string) *Error {
	return newError(KindIncomplete, "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '"+echo(cred)+"'")
}

func errUnsigned(header string) *Error {
	return newError(KindMismatch, "'"+header+"' must be a 'SignedHeader' in the AWS Authorization.")
}

func errExpires(msg string) *Error { return newError(KindIncomplete, msg) }

// errSkew builds AWS's clock-skew messages, e.g.
// "Signature expired: 20140325T143453Z is now earlier than 20140325T143751Z (20140325T145251Z - 15 min.)".
func errExpired(t, now time.Time, window time.Duration) *Error {
	return newError(KindExpired, "Signature expired: "+t.Format(isoBasic)+" is now earlier than "+
		now.Add(-window).Format(isoBasic)+" ("+now.Format(isoBasic)+" - "+fmtWindow(window)+")")
}

func errNotYetCurrent(t, now time.Time, window time.Duration) *Error {
	return newError(KindExpired, "Signature not yet current: "+t.Format(isoBasic)+" is still later than "+
		now.Add(window).Format(isoBasic)+" ("+now.Format(isoBasic)+" + "+fmtWindow(window)+")")
}

// fmtWindow formats a window as AWS does for its 15- and 5-minute windows
// ("15 min."); windows that are not whole minutes are given in seconds.
func fmtWindow(d time.Duration) string {
	s := int64(d / time.Second)
	if s%60 == 0 {
		return strconv.FormatInt(s/60, 10) + " min."
	}
	return strconv.FormatInt(s, 10) + " sec."
}

func joinMessages(parts []string) string { return strings.Join(parts, "") }
