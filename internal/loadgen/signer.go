package loadgen

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"strconv"
	"time"

	"github.com/coffer-dev/coffer/internal/sigv4"
)

// Credentials are an AWS access key pair (and a session token for
// temporary credentials).
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
}

// jsonContentType is the AWS JSON 1.1 media type.
const jsonContentType = "application/x-amz-json-1.1"

// Signer builds complete, SigV4-signed HTTP/1.1 POST requests of the AWS
// JSON 1.1 protocol for one service. It derives the signing key once per
// day, reuses its hash state and scratch space, and allocates nothing per
// request once warm. A Signer is not safe for concurrent use: give each
// connection its own.
type Signer struct {
	creds   Credentials
	region  string
	service string
	host    string

	day     string    // YYYYMMDD of key
	key     []byte    // the signing key of day
	mac     hash.Hash // HMAC-SHA256 keyed with key
	sec     int64     // unix second amzDate holds
	amzDate [16]byte  // YYYYMMDDTHHMMSSZ
	scratch []byte
	macSum  [sha256.Size]byte
}

// NewSigner returns a Signer for requests to host (the Host header,
// host[:port]) of service (the signing name, e.g. "secretsmanager", "kms")
// in region.
func NewSigner(creds Credentials, region, service, host string) *Signer {
	return &Signer{creds: creds, region: region, service: service, host: host, sec: -1, scratch: make([]byte, 0, 1024)}
}

// BodyHash returns the SHA-256 of a request body, for AppendRequest.
func BodyHash(body []byte) [sha256.Size]byte { return sha256.Sum256(body) }

// setTime brings the date fields and the signing key up to now.
func (s *Signer) setTime(now time.Time) {
	sec := now.Unix()
	if sec == s.sec {
		return
	}
	s.sec = sec
	now.UTC().AppendFormat(s.amzDate[:0], "20060102T150405Z")
	if day := string(s.amzDate[:8]); day != s.day {
		s.day = day
		s.key = sigv4.SigningKey(s.creds.SecretAccessKey, day, s.region, s.service)
		s.mac = hmac.New(sha256.New, s.key)
	}
}

// AppendRequest appends to dst a POST / request for the X-Amz-Target
// target with body, signed at now. bodyHash must be BodyHash(body); callers
// that send the same body many times compute it once.
func (s *Signer) AppendRequest(dst []byte, now time.Time, target string, body []byte, bodyHash *[sha256.Size]byte) []byte {
	s.setTime(now)
	amzDate := s.amzDate[:]
	signed := "content-type;host;x-amz-date;x-amz-target"
	if s.creds.SessionToken != "" {
		signed = "content-type;host;x-amz-date;x-amz-security-token;x-amz-target"
	}

	// Canonical request.
	cr := s.scratch[:0]
	cr = append(cr, "POST\n/\n\ncontent-type:"+jsonContentType+"\nhost:"...)
	cr = append(cr, s.host...)
	cr = append(cr, "\nx-amz-date:"...)
	cr = append(cr, amzDate...)
	if s.creds.SessionToken != "" {
		cr = append(cr, "\nx-amz-security-token:"...)
		cr = append(cr, s.creds.SessionToken...)
	}
	cr = append(cr, "\nx-amz-target:"...)
	cr = append(cr, target...)
	cr = append(cr, "\n\n"...)
	cr = append(cr, signed...)
	cr = append(cr, '\n')
	cr = hex.AppendEncode(cr, bodyHash[:])
	crSum := sha256.Sum256(cr)

	// String to sign.
	sts := cr[:0]
	sts = append(sts, "AWS4-HMAC-SHA256\n"...)
	sts = append(sts, amzDate...)
	sts = append(sts, '\n')
	sts = s.appendScope(sts)
	sts = append(sts, '\n')
	sts = hex.AppendEncode(sts, crSum[:])
	s.mac.Reset()
	s.mac.Write(sts)
	sig := s.mac.Sum(s.macSum[:0])
	s.scratch = sts[:0]

	// The request.
	dst = append(dst, "POST / HTTP/1.1\r\nHost: "...)
	dst = append(dst, s.host...)
	dst = append(dst, "\r\nUser-Agent: coffer-bench\r\nContent-Type: "+jsonContentType+"\r\nX-Amz-Target: "...)
	dst = append(dst, target...)
	dst = append(dst, "\r\nX-Amz-Date: "...)
	dst = append(dst, amzDate...)
	if s.creds.SessionToken != "" {
		dst = append(dst, "\r\nX-Amz-Security-Token: "...)
		dst = append(dst, s.creds.SessionToken...)
	}
	dst = append(dst, "\r\nAuthorization: AWS4-HMAC-SHA256 Credential="...)
	dst = append(dst, s.creds.AccessKeyID...)
	dst = append(dst, '/')
	dst = s.appendScope(dst)
	dst = append(dst, ", SignedHeaders="...)
	dst = append(dst, signed...)
	dst = append(dst, ", Signature="...)
	dst = hex.AppendEncode(dst, sig)
	dst = append(dst, "\r\nContent-Length: "...)
	dst = strconv.AppendInt(dst, int64(len(body)), 10)
	dst = append(dst, "\r\n\r\n"...)
	return append(dst, body...)
}

func (s *Signer) appendScope(b []byte) []byte {
	b = append(b, s.day...)
	b = append(b, '/')
	b = append(b, s.region...)
	b = append(b, '/')
	b = append(b, s.service...)
	return append(b, "/aws4_request"...)
}
