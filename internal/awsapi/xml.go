package awsapi

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/coffer-dev/coffer/internal/identity"
)

// The AWS query protocol (IAM, STS): form-encoded parameters in, XML out.

// maxQueryParams bounds the number of parameters of one request.
const maxQueryParams = 1000

// qparams reads the parameters of a query request. The first problem is
// kept in err (a ValidationError) and later reads return zero values.
type qparams struct {
	v   url.Values
	err *apiError
}

// Validate lets qparams stand as the call's input.
func (q *qparams) Validate() error { return nil }

// parseQueryParams parses a form-encoded body (or a URL query).
func parseQueryParams(raw string) (url.Values, *apiError) {
	if strings.Count(raw, "&") >= maxQueryParams {
		return nil, queryValidation("Too many parameters.")
	}
	v, err := url.ParseQuery(raw)
	if err != nil {
		return nil, &apiError{Type: "MalformedQueryString", Message: "The query string is malformed.", Status: http.StatusBadRequest}
	}
	return v, nil
}

func queryValidation(msg string) *apiError {
	return &apiError{Type: "ValidationError", Message: msg, Status: http.StatusBadRequest}
}

// memberName is the member name AWS's validation messages use
// (lower-camel: UserName → userName).
func memberName(p string) string {
	r, n := utf8.DecodeRuneInString(p)
	return string(unicode.ToLower(r)) + p[n:]
}

func (q *qparams) fail(e *apiError) {
	if q.err == nil {
		q.err = e
	}
}

// opt returns a parameter, nil when absent.
func (q *qparams) opt(name string) *string {
	vs, ok := q.v[name]
	if !ok || len(vs) == 0 {
		return nil
	}
	return &vs[0]
}

// str returns a parameter ("" when absent).
func (q *qparams) str(name string) string { return deref(q.opt(name)) }

// req returns a required parameter.
func (q *qparams) req(name string) string {
	v := q.opt(name)
	if v == nil {
		q.fail(queryValidation("1 validation error detected: Value null at '" + memberName(name) + "' failed to satisfy constraint: Member must not be null"))
		return ""
	}
	return *v
}

// maxLen checks a parameter's length (in characters) without echoing long
// values.
func (q *qparams) maxLen(name, v string, max int) {
	if utf8.RuneCountInString(v) > max {
		q.fail(queryValidation("1 validation error detected: Value at '" + memberName(name) + "' failed to satisfy constraint: Member must have length less than or equal to " + strconv.Itoa(max)))
	}
}

// minLen checks a parameter's minimum length.
func (q *qparams) minLen(name, v string, min int) {
	if utf8.RuneCountInString(v) < min {
		q.fail(queryValidation("1 validation error detected: Value at '" + memberName(name) + "' failed to satisfy constraint: Member must have length greater than or equal to " + strconv.Itoa(min)))
	}
}

// integer returns an integer parameter, nil when absent.
func (q *qparams) integer(name string) *int {
	v := q.opt(name)
	if v == nil {
		return nil
	}
	n, err := strconv.Atoi(*v)
	if err != nil {
		q.fail(queryValidation("1 validation error detected: Value '" + truncate(*v, 64) + "' at '" + memberName(name) + "' failed to satisfy constraint: Member must be a number"))
		return nil
	}
	return &n
}

// boolean returns a boolean parameter, nil when absent.
func (q *qparams) boolean(name string) *bool {
	v := q.opt(name)
	if v == nil {
		return nil
	}
	b, err := strconv.ParseBool(*v)
	if err != nil {
		q.fail(queryValidation("1 validation error detected: Value '" + truncate(*v, 64) + "' at '" + memberName(name) + "' failed to satisfy constraint: Member must be a boolean"))
		return nil
	}
	return &b
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// list returns a list parameter: Name.member.1, Name.member.2, … (stops at
// the first gap). An empty list may be sent as "Name=" (present, empty).
func (q *qparams) list(name string) []string {
	var out []string
	for i := 1; ; i++ {
		v, ok := q.v[name+".member."+strconv.Itoa(i)]
		if !ok || len(v) == 0 {
			break
		}
		out = append(out, v[0])
	}
	if out == nil {
		if _, ok := q.v[name]; ok {
			return []string{}
		}
	}
	return out
}

// fieldList returns one field of a list of structures:
// Name.member.N.field.
func (q *qparams) fieldList(name, field string) []string {
	var out []string
	for i := 1; ; i++ {
		v, ok := q.v[name+".member."+strconv.Itoa(i)+"."+field]
		if !ok || len(v) == 0 {
			break
		}
		out = append(out, v[0])
	}
	return out
}

// tags returns Name.member.N.Key / .Value.
func (q *qparams) tags(name string) []identity.Tag {
	var out []identity.Tag
	for i := 1; ; i++ {
		p := name + ".member." + strconv.Itoa(i) + "."
		k, ok := q.v[p+"Key"]
		if !ok || len(k) == 0 {
			break
		}
		out = append(out, identity.Tag{Key: k[0], Value: q.str(p + "Value")})
	}
	return out
}

// paging reads MaxItems (1–1000, default 100) and Marker.
func (q *qparams) paging() (max, start int) {
	max = 100
	if n := q.integer("MaxItems"); n != nil {
		switch {
		case *n < 1:
			q.fail(queryValidation("1 validation error detected: Value '" + strconv.Itoa(*n) + "' at 'maxItems' failed to satisfy constraint: Member must have value greater than or equal to 1"))
		case *n > 1000:
			q.fail(queryValidation("1 validation error detected: Value '" + strconv.Itoa(*n) + "' at 'maxItems' failed to satisfy constraint: Member must have value less than or equal to 1000"))
		default:
			max = *n
		}
	}
	if m := q.opt("Marker"); m != nil {
		b, err := base64.RawURLEncoding.DecodeString(*m)
		n, err2 := strconv.Atoi(string(b))
		if err != nil || err2 != nil || n < 0 {
			q.fail(&apiError{Type: "InvalidInput", Message: "Invalid Marker.", Status: http.StatusBadRequest})
			return max, 0
		}
		start = n
	}
	return max, start
}

// page cuts one page out of a list: the items, IsTruncated and the next
// Marker.
func page[T any](items []T, max, start int) ([]T, bool, string) {
	if start < 0 || start > len(items) {
		start = len(items)
	}
	if max < 1 {
		max = 100
	}
	end := start + max
	if end >= len(items) {
		return items[start:], false, ""
	}
	return items[start:end], true, base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(end)))
}

// xmlTime renders a timestamp as IAM and STS do (ISO 8601, UTC).
type xmlTime time.Time

func (t xmlTime) MarshalText() ([]byte, error) {
	return []byte(time.Time(t).UTC().Format("2006-01-02T15:04:05Z")), nil
}

// xmlTag is an IAM/STS tag.
type xmlTag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

// xmlTagSet is a Tags element (<Tags><member>…</member></Tags>); a nil
// *xmlTagSet with omitempty leaves the element out, as AWS does for
// entities without tags (encoding/xml would write an empty parent for a
// nil slice under "Tags>member").
type xmlTagSet struct {
	Members []xmlTag `xml:"member"`
}

func xmlTagList(tags []identity.Tag) []xmlTag {
	out := make([]xmlTag, len(tags))
	for i, t := range tags {
		out[i] = xmlTag(t)
	}
	return out
}

// xmlTags returns the Tags element, nil when there are none.
func xmlTags(tags []identity.Tag) *xmlTagSet {
	if len(tags) == 0 {
		return nil
	}
	return &xmlTagSet{Members: xmlTagList(tags)}
}

// policyEscape URL-encodes a policy document the way IAM returns policy
// documents (RFC 3986: everything but the unreserved characters).
func policyEscape(doc string) string {
	const hexd = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(doc) * 2)
	for i := 0; i < len(doc); i++ {
		c := doc[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexd[c>>4])
		b.WriteByte(hexd[c&15])
	}
	return b.String()
}

// xmlNamespace of each query service.
var xmlNamespace = map[string]string{
	svcIAM: "https://iam.amazonaws.com/doc/2010-05-08/",
	svcSTS: "https://sts.amazonaws.com/doc/2011-06-15/",
}

// writeQueryResult writes <ActionResponse><ActionResult>…</ActionResult>
// <ResponseMetadata>…</ResponseMetadata></ActionResponse>. out nil means
// an operation without a result element.
func (s *Server) writeQueryResult(w http.ResponseWriter, c *call, action string, out any) {
	var b bytes.Buffer
	b.WriteString(`<` + action + `Response xmlns="` + xmlNamespace[c.service] + `">`)
	if out != nil {
		if err := xml.NewEncoder(&b).EncodeElement(out, xml.StartElement{Name: xml.Name{Local: action + "Result"}}); err != nil {
			s.log.Error("encode XML response", "op", action, "err", err)
			s.writeQueryError(w, c, &apiError{Type: "InternalFailure", Message: "An internal error occurred.", Status: http.StatusInternalServerError})
			return
		}
	}
	b.WriteString(`<ResponseMetadata><RequestId>` + c.requestID + `</RequestId></ResponseMetadata></` + action + `Response>`)
	w.Header().Set("Content-Type", "text/xml")
	w.Write(b.Bytes())
}

// writeQueryError writes the query protocol's ErrorResponse.
func (s *Server) writeQueryError(w http.ResponseWriter, c *call, e *apiError) {
	if e.internal != nil {
		s.log.Error("internal error", "request_id", c.requestID, "op", c.opName(), "err", e.internal)
	}
	typ := "Sender"
	if e.Status >= 500 {
		typ = "Receiver"
	}
	var b bytes.Buffer
	ns := xmlNamespace[c.service]
	if ns == "" {
		ns = xmlNamespace[svcIAM]
	}
	b.WriteString(`<ErrorResponse xmlns="` + ns + `"><Error><Type>` + typ + `</Type><Code>`)
	xml.EscapeText(&b, []byte(e.Type))
	b.WriteString(`</Code><Message>`)
	xml.EscapeText(&b, []byte(e.Message))
	b.WriteString(`</Message></Error><RequestId>` + c.requestID + `</RequestId></ErrorResponse>`)
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(e.Status)
	w.Write(b.Bytes())
}
