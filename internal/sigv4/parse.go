package sigv4

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

const (
	// Algorithm is the only signing algorithm accepted.
	Algorithm = "AWS4-HMAC-SHA256"
	// MaxSkew is how far the request time may be from the server's clock.
	MaxSkew = 15 * time.Minute
	// MaxExpires is the longest X-Amz-Expires a presigned request may carry.
	MaxExpires = 7 * 24 * time.Hour

	terminator = "aws4_request"
	isoBasic   = "20060102T150405Z"
)

// Auth is the authentication information parsed from a request (header or
// presigned query form). Its strings point into the request; it holds no
// secret (the signature proves nothing without the key, and is the client's own).
type Auth struct {
	AccessKeyID   string
	Date          string    // YYYYMMDD from the credential scope
	Region        string    // from the credential scope
	Service       string    // from the credential scope
	Time          time.Time // X-Amz-Date (or the Date header), UTC
	SignedHeaders []string  // lower-case, as listed by the client
	Signature     []byte    // decoded hex; nil when it is not 64 lower-case hex digits
	SecurityToken string    // X-Amz-Security-Token header or query parameter, "" if none
	Presigned     bool
	Expires       time.Duration // presigned X-Amz-Expires (0 if absent)

	hasExpires    bool
	amzDate       string // the request time as signed (ISO 8601 basic format)
	scope         string // date/region/service/terminator as sent
	term          string // the scope's terminator
	signedHeaders string // SignedHeaders as sent
	sig           [32]byte
}

// Names of the query-string authentication parameters.
const (
	qAlgorithm = iota
	qCredential
	qSignature
	qSignedHeaders
	qDate
	qExpires
	qToken
	numQueryParams
)

var queryParamNames = [numQueryParams]string{
	qAlgorithm:     "X-Amz-Algorithm",
	qCredential:    "X-Amz-Credential",
	qSignature:     "X-Amz-Signature",
	qSignedHeaders: "X-Amz-SignedHeaders",
	qDate:          "X-Amz-Date",
	qExpires:       "X-Amz-Expires",
	qToken:         "X-Amz-Security-Token",
}

// Parse extracts the authentication information from r: the Authorization
// header, or the X-Amz-* query parameters of a presigned request. It checks
// the form only; see CheckTime, CheckScope and Verify.
//
// Errors (*Error): KindMissing when there is no authentication at all;
// KindIncomplete when a part is missing or malformed; KindMismatch when both
// forms are present or host or the date header is not signed.
func Parse(r *http.Request) (*Auth, error) {
	authz := r.Header["Authorization"]
	if len(authz) > 1 {
		return nil, newError(KindIncomplete, msgMultiAuth)
	}
	header := ""
	if len(authz) == 1 {
		header = strings.TrimSpace(authz[0])
	}

	var q [numQueryParams]string
	var seen [numQueryParams]bool
	var dup string
	if raw := rawQuery(r); strings.Contains(raw, "X-Amz-") || strings.Contains(raw, "%") {
		scanQuery(raw, &q, &seen, &dup)
	}

	switch {
	case header != "" && seen[qAlgorithm]:
		return nil, newError(KindMismatch, msgBothAuth)
	case header != "":
		return parseHeader(r, header)
	case seen[qAlgorithm] && dup != "":
		return nil, errDuplicateParam(dup, "query string")
	case seen[qAlgorithm]:
		return parseQuery(r, &q, &seen)
	}
	return nil, newError(KindMissing, msgMissing)
}

func rawQuery(r *http.Request) string {
	if r.URL == nil {
		return ""
	}
	return r.URL.RawQuery
}

// String describes a without its session token or signature, so that an
// Auth can be logged.
func (a Auth) String() string {
	form := "header"
	if a.Presigned {
		form = "presigned"
	}
	tok := ""
	if a.SecurityToken != "" {
		tok = " token=<redacted>"
	}
	return "sigv4.Auth{" + form + " " + a.AccessKeyID + "/" + a.scope + " " + a.amzDate +
		" signed=" + a.signedHeaders + tok + "}"
}

// GoString is String, so that %#v does not print the session token either.
func (a Auth) GoString() string { return a.String() }

// scanQuery finds the X-Amz-* authentication parameters in a raw query
// string, and the name of the first one that appears twice, if any.
func scanQuery(raw string, q *[numQueryParams]string, seen *[numQueryParams]bool, dup *string) {
	for raw != "" {
		var seg string
		seg, raw, _ = strings.Cut(raw, "&")
		if seg == "" {
			continue
		}
		k, v, _ := strings.Cut(seg, "=")
		name, ok := unescapeQuery(k)
		if !ok {
			continue // not canonicalizable; Verify will fail
		}
		for i := range queryParamNames {
			if name != queryParamNames[i] {
				continue
			}
			if seen[i] && *dup == "" {
				*dup = name
			}
			seen[i] = true
			val, ok := unescapeQuery(v)
			if !ok {
				val = ""
			}
			q[i] = val
			break
		}
	}
}

// unescapeQuery decodes a query-string component as url.ParseQuery does
// ("+" is a space). It allocates only when there is something to decode.
func unescapeQuery(s string) (string, bool) {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return s, true
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return "", false
			}
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		case '+':
			b = append(b, ' ')
		default:
			b = append(b, c)
		}
	}
	return string(b), true
}

func parseHeader(r *http.Request, header string) (*Auth, error) {
	alg, rest := nextToken(header)
	if alg != Algorithm {
		return nil, errUnsupportedAlgorithm(alg)
	}

	var cred, signed, sig string
	var haveCred, haveSigned, haveSig bool
	for rest != "" {
		var tok string
		tok, rest = nextToken(rest)
		if tok == "" {
			continue
		}
		k, v, ok := strings.Cut(tok, "=")
		if !ok {
			return nil, errNotKeyValue(tok, header)
		}
		var dst *string
		var have *bool
		switch k {
		case "Credential":
			dst, have = &cred, &haveCred
		case "SignedHeaders":
			dst, have = &signed, &haveSigned
		case "Signature":
			dst, have = &sig, &haveSig
		default:
			continue // AWS ignores parameters it does not know
		}
		if *have {
			return nil, errDuplicateParam(k, "Authorization header")
		}
		*dst, *have = v, true
	}

	dateName, dateVals := "x-amz-date", r.Header["X-Amz-Date"]
	if len(dateVals) == 0 {
		dateName, dateVals = "date", r.Header["Date"]
	}
	dateValue := strings.Join(dateVals, ",") // one value, or an unparseable list
	if cred == "" || sig == "" || signed == "" || dateValue == "" {
		var b strings.Builder
		if cred == "" {
			b.WriteString("Authorization header requires 'Credential' parameter. ")
		}
		if sig == "" {
			b.WriteString("Authorization header requires 'Signature' parameter. ")
		}
		if signed == "" {
			b.WriteString("Authorization header requires 'SignedHeaders' parameter. ")
		}
		if dateValue == "" {
			b.WriteString("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ")
		}
		b.WriteString("Authorization=")
		b.WriteString(echo(header))
		return nil, newError(KindIncomplete, b.String())
	}

	a := &Auth{}
	t, amzDate, ok := parseDate(dateValue, dateName == "date")
	if !ok {
		return nil, errBadDate(dateValue)
	}
	a.Time, a.amzDate = t, amzDate
	if err := a.setCredential(cred); err != nil {
		return nil, err
	}
	a.setSignedHeaders(signed)
	if !a.signs("host") && !a.signs(":authority") {
		return nil, newError(KindMismatch, msgHostUnsig)
	}
	if !a.signs(dateName) {
		if dateName == "date" {
			return nil, errUnsigned("Date")
		}
		return nil, errUnsigned("X-Amz-Date")
	}
	a.setSignature(sig)
	if v := r.Header["X-Amz-Security-Token"]; len(v) > 0 {
		a.SecurityToken = strings.Join(v, ",")
	}
	return a, nil
}

// nextToken splits s at the first space, tab or comma (AWS separates the
// Authorization header's parts by either).
func nextToken(s string) (tok, rest string) {
	end := len(s)
	if i := strings.IndexByte(s, ','); i >= 0 {
		end = i
	}
	if i := strings.IndexByte(s[:end], ' '); i >= 0 {
		end = i
	}
	if i := strings.IndexByte(s[:end], '\t'); i >= 0 {
		end = i
	}
	if end == len(s) {
		return s, ""
	}
	return s[:end], s[end+1:]
}

func parseQuery(r *http.Request, q *[numQueryParams]string, seen *[numQueryParams]bool) (*Auth, error) {
	var b strings.Builder
	for _, i := range [...]int{qAlgorithm, qCredential, qSignature, qSignedHeaders, qDate} {
		if q[i] == "" {
			b.WriteString("AWS query-string parameters must include '")
			b.WriteString(queryParamNames[i])
			b.WriteString("'. ")
		}
	}
	if b.Len() > 0 {
		b.WriteString("Re-examine the query-string parameters.")
		return nil, newError(KindIncomplete, b.String())
	}
	if q[qAlgorithm] != Algorithm {
		return nil, errUnsupportedAlgorithm(q[qAlgorithm])
	}

	a := &Auth{Presigned: true}
	t, amzDate, ok := parseDate(q[qDate], false)
	if !ok {
		return nil, errBadDate(q[qDate])
	}
	a.Time, a.amzDate = t, amzDate
	if err := a.setCredential(q[qCredential]); err != nil {
		return nil, err
	}
	if seen[qExpires] {
		d, err := parseExpires(q[qExpires])
		if err != nil {
			return nil, err
		}
		a.Expires, a.hasExpires = d, true
	}
	a.setSignedHeaders(q[qSignedHeaders])
	if !a.signs("host") && !a.signs(":authority") {
		return nil, newError(KindMismatch, msgHostUnsig)
	}
	a.setSignature(q[qSignature])
	if seen[qToken] {
		a.SecurityToken = q[qToken]
	} else if v := r.Header["X-Amz-Security-Token"]; len(v) > 0 {
		a.SecurityToken = strings.Join(v, ",")
	}
	return a, nil
}

// parseExpires parses X-Amz-Expires (seconds, 0 to 604800). The messages are
// the ones S3 uses.
func parseExpires(v string) (time.Duration, error) {
	switch {
	case len(v) > 1 && v[0] == '-' && isDigits(v[1:]):
		return 0, errExpires("X-Amz-Expires must be non-negative")
	case !isDigits(v):
		return 0, errExpires("X-Amz-Expires should be a number")
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n > int64(MaxExpires/time.Second) {
		return 0, errExpires("X-Amz-Expires must be less than a week (in seconds) that is 604800")
	}
	return time.Duration(n) * time.Second, nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// setCredential splits AKID/YYYYMMDD/region/service/aws4_request.
func (a *Auth) setCredential(cred string) error {
	akid, scope, ok := strings.Cut(cred, "/")
	if !ok || akid == "" {
		return errCredentialElements(cred)
	}
	date, rest, ok1 := strings.Cut(scope, "/")
	region, rest, ok2 := strings.Cut(rest, "/")
	service, term, ok3 := strings.Cut(rest, "/")
	if !ok1 || !ok2 || !ok3 || date == "" || region == "" || service == "" || term == "" || strings.IndexByte(term, '/') >= 0 {
		return errCredentialElements(cred)
	}
	a.AccessKeyID, a.scope = akid, scope
	a.Date, a.Region, a.Service, a.term = date, region, service, term
	return nil
}

func (a *Auth) setSignedHeaders(s string) {
	a.signedHeaders = s
	a.SignedHeaders = strings.Split(s, ";")
}

func (a *Auth) signs(name string) bool {
	for _, h := range a.SignedHeaders {
		if h == name {
			return true
		}
	}
	return false
}

// setSignature decodes 64 lower-case hex digits; anything else leaves
// Signature nil, which Verify reports as a mismatch (as AWS does).
func (a *Auth) setSignature(s string) {
	if len(s) != 2*len(a.sig) {
		return
	}
	for i := 0; i < len(a.sig); i++ {
		hi, lo := s[2*i], s[2*i+1]
		if !isLowerHex(hi) || !isLowerHex(lo) {
			return
		}
		a.sig[i] = unhex(hi)<<4 | unhex(lo)
	}
	a.Signature = a.sig[:]
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

func isLowerHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' }

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// parseDate parses the request time: ISO 8601 basic format
// (20150830T123600Z), or, for the Date header, also an HTTP date. It returns
// the time and its ISO 8601 basic form, which is what the string to sign holds.
func parseDate(v string, httpDate bool) (time.Time, string, bool) {
	if t, ok := parseISOBasic(v); ok {
		return t, v, true
	}
	if httpDate {
		if t, err := http.ParseTime(v); err == nil {
			t = t.UTC()
			return t, t.Format(isoBasic), true
		}
	}
	return time.Time{}, "", false
}

func parseISOBasic(v string) (time.Time, bool) {
	if len(v) != len(isoBasic) || v[8] != 'T' || v[15] != 'Z' {
		return time.Time{}, false
	}
	num := func(s string) (int, bool) {
		n := 0
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	year, ok1 := num(v[0:4])
	month, ok2 := num(v[4:6])
	day, ok3 := num(v[6:8])
	hour, ok4 := num(v[9:11])
	minute, ok5 := num(v[11:13])
	sec, ok6 := num(v[13:15])
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 ||
		month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC)
	if t.Day() != day { // e.g. 20150230 normalised to March
		return time.Time{}, false
	}
	return t, true
}
