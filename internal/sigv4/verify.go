package sigv4

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// SigningKey derives the SigV4 signing key:
// HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service), "aws4_request").
// It is valid for one (secret, date, region, service); cache it per access
// key and those three. Treat the result as a secret.
func SigningKey(secretAccessKey, date, region, service string) []byte {
	var kb [128]byte
	k := append(kb[:0], "AWS4"...)
	k = append(k, secretAccessKey...)
	m := hmacSHA256(k, date)
	clear(k)
	m = hmacSHA256(m[:], region)
	m = hmacSHA256(m[:], service)
	m = hmacSHA256(m[:], terminator)
	return m[:]
}

// Verify recomputes the signature of r (whose body is body) with signingKey,
// which must be SigningKey(secret, a.Date, a.Region, a.Service), and compares
// it with the one presented in constant time. It fails with KindMismatch
// (and with KindScope when the scope's terminator or date is wrong, so that a
// caller that skipped CheckScope still cannot accept a signing key of another day).
func (a *Auth) Verify(r *http.Request, body []byte, signingKey []byte) error {
	if a.term != terminator || a.dateMismatch() != "" {
		return newError(KindScope, a.scopeTermDateMessage())
	}
	if len(a.Signature) != sha256.Size || !validSignedHeaders(a.SignedHeaders) {
		return errMismatch()
	}

	var payload [2 * sha256.Size]byte
	sum := sha256.Sum256(body)
	hex.Encode(payload[:], sum[:])
	if v, ok := r.Header["X-Amz-Content-Sha256"]; ok {
		// S3's UNSIGNED-PAYLOAD and STREAMING-* are not accepted here.
		if len(v) != 1 || v[0] != string(payload[:]) {
			return errMismatch()
		}
	}

	var stack [1024]byte
	cr, ok := a.appendCanonicalRequest(stack[:0], r, payload[:])
	if !ok {
		return errMismatch()
	}
	crSum := sha256.Sum256(cr)

	// String to sign: algorithm, request time, scope, hex(SHA-256(canonical request)).
	sts := append(cr[:0], Algorithm+"\n"...)
	sts = append(sts, a.amzDate...)
	sts = append(sts, '\n')
	sts = append(sts, a.scope...)
	sts = append(sts, '\n')
	sts = hex.AppendEncode(sts, crSum[:])

	mac := hmacSHA256(signingKey, sts)
	if !hmac.Equal(mac[:], a.Signature) {
		return errMismatch()
	}
	return nil
}

func (a *Auth) scopeTermDateMessage() string {
	msg := ""
	if a.term != terminator {
		msg = "Credential should be scoped with a valid terminator: '" + terminator + "', not '" + echo(a.term) + "'. "
	}
	return msg + a.dateMismatch()
}

// validSignedHeaders reports whether names are sorted, unique, and lower-case
// header names (or ":authority").
func validSignedHeaders(names []string) bool {
	for i, n := range names {
		if n == "" || (i > 0 && names[i-1] >= n) {
			return false
		}
		if n == ":authority" {
			continue
		}
		for j := 0; j < len(n); j++ {
			if !isTokenLower(n[j]) {
				return false
			}
		}
	}
	return true
}

// tokenLower holds the bytes that may appear in a lower-case HTTP header name.
var tokenLower = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range []byte("!#$%&'*+-.^_`|~") {
		t[c] = true
	}
	return t
}()

func isTokenLower(c byte) bool { return tokenLower[c] }

// appendCanonicalRequest appends
// method \n URI \n query \n headers \n signed headers \n payload hash.
func (a *Auth) appendCanonicalRequest(b []byte, r *http.Request, payload []byte) ([]byte, bool) {
	b = append(b, r.Method...)
	b = append(b, '\n')
	path := "/"
	if r.URL != nil {
		if p := r.URL.EscapedPath(); p != "" {
			path = p
		}
	}
	b = appendEscaped(b, path, false)
	b = append(b, '\n')
	b, ok := appendCanonicalQuery(b, rawQuery(r), a.Presigned)
	if !ok {
		return b, false
	}
	b = append(b, '\n')
	for _, name := range a.SignedHeaders {
		b = append(b, name...)
		b = append(b, ':')
		b = appendHeaderValue(b, r, name)
		b = append(b, '\n')
	}
	b = append(b, '\n')
	b = append(b, a.signedHeaders...)
	b = append(b, '\n')
	b = append(b, payload...)
	return b, true
}

// appendHeaderValue appends the canonical value of the header name: values
// trimmed, runs of spaces collapsed, repeated headers joined with ",".
func appendHeaderValue(b []byte, r *http.Request, name string) []byte {
	switch name {
	case "host", ":authority":
		return appendTrimmed(b, r.Host)
	}
	vals := lookupHeader(r.Header, name)
	if len(vals) == 0 {
		// Go moves these out of r.Header on some paths.
		switch {
		case name == "content-length" && r.ContentLength > 0:
			return strconv.AppendInt(b, r.ContentLength, 10)
		case name == "transfer-encoding" && len(r.TransferEncoding) > 0:
			vals = r.TransferEncoding
		}
	}
	for i, v := range vals {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendTrimmed(b, v)
	}
	return b
}

// lookupHeader returns the values of the header whose lower-case name is
// name. Go's server stores names in canonical form; other keys (requests
// built by hand) are matched case-insensitively, in sorted key order.
func lookupHeader(h http.Header, name string) []string {
	var kb [64]byte
	if len(name) <= len(kb) {
		k := kb[:len(name)]
		upper := true
		for i := 0; i < len(name); i++ {
			c := name[i]
			if upper && 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			k[i] = c
			upper = c == '-'
		}
		if v, ok := h[string(k)]; ok {
			return v
		}
	}
	var keys []string
	for k := range h {
		if strings.EqualFold(k, name) {
			keys = append(keys, k)
		}
	}
	switch len(keys) {
	case 0:
		return nil
	case 1:
		return h[keys[0]]
	}
	slices.Sort(keys)
	var vals []string
	for _, k := range keys {
		vals = append(vals, h[k]...)
	}
	return vals
}

// appendTrimmed appends v without leading and trailing white space and with
// each run of spaces replaced by one space (as the AWS SDKs and CLI sign it).
func appendTrimmed(b []byte, v string) []byte {
	v = strings.TrimSpace(v)
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == ' ' && i > 0 && v[i-1] == ' ' {
			continue
		}
		b = append(b, c)
	}
	return b
}

const upperHex = "0123456789ABCDEF"

// isUnreserved reports whether c is in RFC 3986's unreserved set.
func isUnreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// appendEscaped percent-encodes every byte of s outside the unreserved set
// (and '/' when encodeSlash is set), with upper-case hex.
func appendEscaped(b []byte, s string, encodeSlash bool) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isUnreserved(c) || (c == '/' && !encodeSlash) {
			b = append(b, c)
		} else {
			b = append(b, '%', upperHex[c>>4], upperHex[c&15])
		}
	}
	return b
}

// appendRecoded decodes a query component ("%XX", "+" is a space) and appends
// it re-encoded with the unreserved set. It fails on a malformed escape.
func appendRecoded(b []byte, s string) ([]byte, bool) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return b, false
			}
			c = unhex(s[i+1])<<4 | unhex(s[i+2])
			i += 2
		case '+':
			c = ' '
		}
		if isUnreserved(c) {
			b = append(b, c)
		} else {
			b = append(b, '%', upperHex[c>>4], upperHex[c&15])
		}
	}
	return b, true
}

type queryPair struct{ k0, k1, v0, v1 int }

// appendCanonicalQuery appends the canonical query string of raw: each name
// and value decoded and re-encoded, "name=" for an empty value, sorted by
// encoded name then value, X-Amz-Signature left out of presigned requests.
func appendCanonicalQuery(b []byte, raw string, presigned bool) ([]byte, bool) {
	if raw == "" {
		return b, true
	}
	var sb [512]byte
	var pb [16]queryPair
	scratch, pairs := sb[:0], pb[:0]
	for raw != "" {
		var seg string
		seg, raw, _ = strings.Cut(raw, "&")
		if seg == "" {
			continue
		}
		k, v, _ := strings.Cut(seg, "=")
		var p queryPair
		var ok bool
		p.k0 = len(scratch)
		if scratch, ok = appendRecoded(scratch, k); !ok {
			return b, false
		}
		p.k1 = len(scratch)
		if presigned && string(scratch[p.k0:p.k1]) == "X-Amz-Signature" {
			scratch = scratch[:p.k0]
			continue
		}
		p.v0 = p.k1
		if scratch, ok = appendRecoded(scratch, v); !ok {
			return b, false
		}
		p.v1 = len(scratch)
		pairs = append(pairs, p)
	}
	slices.SortFunc(pairs, func(x, y queryPair) int {
		if c := bytes.Compare(scratch[x.k0:x.k1], scratch[y.k0:y.k1]); c != 0 {
			return c
		}
		return bytes.Compare(scratch[x.v0:x.v1], scratch[y.v0:y.v1])
	})
	for i, p := range pairs {
		if i > 0 {
			b = append(b, '&')
		}
		b = append(b, scratch[p.k0:p.k1]...)
		b = append(b, '=')
		b = append(b, scratch[p.v0:p.v1]...)
	}
	return b, true
}

// hmacSHA256 computes HMAC-SHA256(key, msg) (RFC 2104) without allocating
// for messages of up to a few hundred bytes.
func hmacSHA256[M ~string | ~[]byte](key []byte, msg M) [sha256.Size]byte {
	const block = 64
	var k [block]byte
	if len(key) > block {
		s := sha256.Sum256(key)
		copy(k[:], s[:])
	} else {
		copy(k[:], key)
	}
	var ib [block + 512]byte
	in := ib[:0]
	for _, c := range k {
		in = append(in, c^0x36)
	}
	in = append(in, msg...)
	inner := sha256.Sum256(in)
	var ob [block + sha256.Size]byte
	for i, c := range k {
		ob[i] = c ^ 0x5c
	}
	copy(ob[block:], inner[:])
	clear(k[:])
	clear(ib[:block])
	return sha256.Sum256(ob[:])
}
