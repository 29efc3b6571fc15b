package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// RecordDomain is the domain-separation prefix of a record hash.
const RecordDomain = "coffer-audit-record-v1"

// Record is one entry of the audit log: an event body bound into the hash
// chain.
//
//	Hash = SHA-256(RecordDomain || 0x00 || uint64be(Seq) || Prev || Body)
//
// Seq starts at 1 and increases by one per record; Prev is the Hash of
// record Seq-1 (all zero for Seq 1). Body is the event's JSON object,
// byte for byte as it was hashed: compact enough to contain no raw newline
// (see [ValidBody]).
type Record struct {
	Seq  uint64
	Prev [32]byte
	Hash [32]byte
	Body []byte
}

// Errors describing malformed records.
var (
	ErrBody   = errors.New("audit: record body must be a single-line json object")
	ErrRecord = errors.New("audit: malformed record")
)

// RecordHash computes the hash of the record (seq, prev, body).
func RecordHash(seq uint64, prev [32]byte, body []byte) [32]byte {
	h := sha256.New()
	var hdr [len(RecordDomain) + 1 + 8 + 32]byte
	copy(hdr[:], RecordDomain)
	hdr[len(RecordDomain)] = 0x00
	binary.BigEndian.PutUint64(hdr[len(RecordDomain)+1:], seq)
	copy(hdr[len(RecordDomain)+9:], prev[:])
	h.Write(hdr[:])
	h.Write(body)
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// Valid reports whether r.Hash is the hash of its seq, prev and body.
func (r *Record) Valid() bool {
	return r.Seq != 0 && RecordHash(r.Seq, r.Prev, r.Body) == r.Hash
}

// ValidBody reports whether body can be a record body: valid UTF-8, a
// valid JSON object, with no raw newline or carriage return (so that it
// embeds unchanged in one JSON Lines line). Output of [Event.Marshal]
// always qualifies.
func ValidBody(body []byte) bool {
	return bodyFraming(body) && json.Valid(body)
}

// bodyFraming is the cheap part of ValidBody: what a JSON Lines line needs
// (braces, no raw line break, valid UTF-8), without the JSON syntax check.
func bodyFraming(body []byte) bool {
	if len(body) < 2 || body[0] != '{' || body[len(body)-1] != '}' {
		return false
	}
	if bytes.IndexByte(body, '\n') >= 0 || bytes.IndexByte(body, '\r') >= 0 {
		return false
	}
	return utf8.Valid(body)
}

// Binary form of a record (for stores that keep a record in one blob):
//
//	version byte 0x01 || uint64be(Seq) || Prev (32) || Hash (32) || Body
//
// Body runs to the end; the fixed header is RecordHeaderSize bytes.
const (
	recordBinaryVersion = 0x01
	RecordHeaderSize    = 1 + 8 + 32 + 32
)

// MarshalBinary implements encoding.BinaryMarshaler.
func (r Record) MarshalBinary() ([]byte, error) {
	b := make([]byte, RecordHeaderSize, RecordHeaderSize+len(r.Body))
	b[0] = recordBinaryVersion
	binary.BigEndian.PutUint64(b[1:], r.Seq)
	copy(b[9:], r.Prev[:])
	copy(b[41:], r.Hash[:])
	return append(b, r.Body...), nil
}

// UnmarshalBinary implements encoding.BinaryUnmarshaler. It copies the
// body and does not check the hash (Verify does).
func (r *Record) UnmarshalBinary(b []byte) error {
	if len(b) < RecordHeaderSize || b[0] != recordBinaryVersion {
		return fmt.Errorf("%w: bad binary header", ErrRecord)
	}
	r.Seq = binary.BigEndian.Uint64(b[1:])
	copy(r.Prev[:], b[9:41])
	copy(r.Hash[:], b[41:73])
	r.Body = bytes.Clone(b[RecordHeaderSize:])
	return nil
}

// AppendRecordLine appends the JSON Lines form of r to dst:
//
//	{"seq":<decimal>,"prev":"<64 hex>","hash":"<64 hex>","event":<Body>}\n
//
// Members appear in exactly this order with no whitespace; hex is
// lowercase; Body is embedded verbatim as a JSON object (not a string), so
// a line's event bytes are exactly the hashed bytes.
//
// The body must satisfy [ValidBody], as every body made by Chain does. For
// speed only its framing is checked here (an object's braces, no raw line
// break, valid UTF-8), which keeps the file line-separable whatever the
// body; full JSON validation is Chain.Append's job.
func AppendRecordLine(dst []byte, r *Record) ([]byte, error) {
	if r.Seq == 0 {
		return dst, fmt.Errorf("%w: seq 0", ErrRecord)
	}
	if !bodyFraming(r.Body) {
		return dst, fmt.Errorf("seq %d: %w", r.Seq, ErrBody)
	}
	return appendLine(dst, r), nil
}

func appendLine(dst []byte, r *Record) []byte {
	dst = append(dst, `{"seq":`...)
	dst = strconv.AppendUint(dst, r.Seq, 10)
	dst = append(dst, `,"prev":"`...)
	dst = hex.AppendEncode(dst, r.Prev[:])
	dst = append(dst, `","hash":"`...)
	dst = hex.AppendEncode(dst, r.Hash[:])
	dst = append(dst, `","event":`...)
	dst = append(dst, r.Body...)
	return append(dst, '}', '\n')
}

type recordLine struct {
	Seq   *uint64         `json:"seq"`
	Prev  *string         `json:"prev"`
	Hash  *string         `json:"hash"`
	Event json.RawMessage `json:"event"`
}

// ParseRecordLine parses one line in the form written by AppendRecordLine
// (a trailing "\n" or "\r\n" is allowed). It is strict: every member must be
// present, no unknown member is accepted, seq must be ≥ 1, prev and hash
// must be 64 lowercase hex digits, and event must be a JSON object. It does
// not check the hash (Verify does). The returned body does not alias line.
func ParseRecordLine(line []byte) (Record, error) {
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	if bytes.IndexByte(line, '\n') >= 0 {
		return Record{}, fmt.Errorf("%w: embedded newline", ErrRecord)
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	var l recordLine
	if err := dec.Decode(&l); err != nil {
		return Record{}, fmt.Errorf("%w: %w", ErrRecord, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Record{}, fmt.Errorf("%w: trailing data", ErrRecord)
	}
	if l.Seq == nil || l.Prev == nil || l.Hash == nil || l.Event == nil {
		return Record{}, fmt.Errorf("%w: missing member", ErrRecord)
	}
	if *l.Seq == 0 {
		return Record{}, fmt.Errorf("%w: seq 0", ErrRecord)
	}
	r := Record{Seq: *l.Seq}
	if err := parseHex32(&r.Prev, *l.Prev); err != nil {
		return Record{}, fmt.Errorf("%w: prev: %w", ErrRecord, err)
	}
	if err := parseHex32(&r.Hash, *l.Hash); err != nil {
		return Record{}, fmt.Errorf("%w: hash: %w", ErrRecord, err)
	}
	// The decoder has checked the JSON syntax; RawMessage holds the value
	// without surrounding whitespace, so framing is what is left to check.
	if !bodyFraming(l.Event) {
		return Record{}, fmt.Errorf("%w: %w", ErrRecord, ErrBody)
	}
	r.Body = l.Event // RawMessage.UnmarshalJSON copies
	return r, nil
}

var errHex = errors.New("want 64 lowercase hex digits")

// parseHex32 decodes exactly 64 lowercase hex digits.
func parseHex32(dst *[32]byte, s string) error {
	if len(s) != 64 {
		return errHex
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return errHex
		}
	}
	_, err := hex.Decode(dst[:], []byte(s))
	return err
}
