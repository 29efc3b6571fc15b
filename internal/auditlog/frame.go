package auditlog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"

	"github.com/coffer-dev/coffer/internal/audit"
)

// A frame holds one record:
//
//	offset 0  uint32be  n      payload length (bytes after this 8-byte header); 0 ends the segment's data
//	offset 4  uint32be  crc    CRC-32C (Castagnoli) of the 4 length bytes followed by the payload
//	offset 8  payload:
//	          byte      flags  FlagBatchEnd | FlagStore
//	          uint64be  batch  seq of the first record of the frame's batch
//	          record           audit.Record binary form: 0x01 || uint64be(seq) || prev (32) || hash (32) || body
//
// A batch is the records one group commit wrote with one write: its frames
// are contiguous, carry the same batch id, and the last one has
// FlagBatchEnd. FlagStore marks the frames of a batch whose units also had
// store writes, committed in a store transaction after the frames were
// durable; that transaction records the batch id (see Start.StoreBatch).
const (
	FrameHeaderSize = 8
	// FrameOverhead is the size of a frame without its record body.
	FrameOverhead = FrameHeaderSize + payloadPrefix + audit.RecordHeaderSize
	// MaxBody bounds a record body (16 MiB, like the JSON Lines mirror's lines).
	MaxBody = 16 << 20

	payloadPrefix = 1 + 8 // flags, batch
	recordVersion = 0x01  // audit.Record binary form version
	minPayload    = payloadPrefix + audit.RecordHeaderSize
	maxPayload    = minPayload + MaxBody
)

// Frame flags.
const (
	// FlagBatchEnd marks the last frame of a batch.
	FlagBatchEnd byte = 1 << 0
	// FlagStore marks the frames of a batch that also committed store
	// writes (after its frames were durable).
	FlagStore byte = 1 << 1

	knownFlags = FlagBatchEnd | FlagStore
)

// Frame is one decoded frame.
type Frame struct {
	Flags byte
	// Batch is the seq of the first record of the frame's batch.
	Batch  uint64
	Record audit.Record
}

// Errors from frame parsing.
var (
	// ErrEnd is a zero length: the end of a segment's data.
	ErrEnd = errors.New("auditlog: end of segment data")
	// ErrShort means the buffer ends inside the frame.
	ErrShort = errors.New("auditlog: truncated frame")
	// ErrCorrupt is a frame that cannot be decoded at all.
	ErrCorrupt = errors.New("auditlog: corrupt frame")
	// ErrChecksum is a frame that decodes but whose CRC does not match: a
	// torn write, or damage (ParseFrame still returns what it decoded).
	ErrChecksum = errors.New("auditlog: frame checksum mismatch")
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// FrameSize is the size of the frame of a record with a body of n bytes.
func FrameSize(n int) int { return FrameOverhead + n }

// AppendFrame appends the frame of r (with flags and batch id) to dst. The
// body must be at most MaxBody bytes (the caller checks; a larger body
// makes an unreadable frame).
func AppendFrame(dst []byte, flags byte, batch uint64, r *audit.Record) []byte {
	start := len(dst)
	n := minPayload + len(r.Body)
	dst = binary.BigEndian.AppendUint32(dst, uint32(n))
	dst = append(dst, 0, 0, 0, 0) // CRC, below
	dst = append(dst, flags)
	dst = binary.BigEndian.AppendUint64(dst, batch)
	dst = append(dst, recordVersion)
	dst = binary.BigEndian.AppendUint64(dst, r.Seq)
	dst = append(dst, r.Prev[:]...)
	dst = append(dst, r.Hash[:]...)
	dst = append(dst, r.Body...)
	binary.BigEndian.PutUint32(dst[start+4:], frameCRC(dst[start:start+4], dst[start+FrameHeaderSize:]))
	return dst
}

func frameCRC(length, payload []byte) uint32 {
	return crc32.Update(crc32.Checksum(length, castagnoli), castagnoli, payload)
}

// SetFlags ORs flags into the frame at the start of b (made by
// AppendFrame) and fixes its CRC.
func SetFlags(b []byte, flags byte) {
	b[FrameHeaderSize] |= flags
	n := binary.BigEndian.Uint32(b)
	binary.BigEndian.PutUint32(b[4:], frameCRC(b[:4], b[FrameHeaderSize:FrameHeaderSize+int(n)]))
}

// ParseFrame decodes the frame at the start of b and returns it with its
// total size. The record's body aliases b.
//
// Errors: ErrEnd for a zero length; ErrShort when b ends inside the frame
// (the length says how much is needed: FrameHeaderSize+n); ErrCorrupt for
// a length out of range or an undecodable payload; ErrChecksum when the
// frame decodes but its CRC does not match (the decoded frame and its size
// are returned too, for verification to report what it holds).
func ParseFrame(b []byte) (Frame, int, error) {
	if len(b) < FrameHeaderSize {
		if allZero(b) {
			return Frame{}, 0, ErrEnd // too short to hold a frame, and zero: no data here
		}
		return Frame{}, 0, ErrShort
	}
	n := int(binary.BigEndian.Uint32(b))
	if n == 0 {
		return Frame{}, 0, ErrEnd
	}
	if n < minPayload || n > maxPayload {
		return Frame{}, 0, fmt.Errorf("%w: payload length %d", ErrCorrupt, n)
	}
	size := FrameHeaderSize + n
	if len(b) < size {
		return Frame{}, size, ErrShort
	}
	p := b[FrameHeaderSize:size]
	var f Frame
	f.Flags = p[0]
	f.Batch = binary.BigEndian.Uint64(p[1:])
	rec := p[payloadPrefix:]
	if rec[0] != recordVersion || f.Flags&^knownFlags != 0 {
		return Frame{}, size, fmt.Errorf("%w: unknown version or flags", ErrCorrupt)
	}
	f.Record.Seq = binary.BigEndian.Uint64(rec[1:])
	copy(f.Record.Prev[:], rec[9:41])
	copy(f.Record.Hash[:], rec[41:73])
	f.Record.Body = rec[audit.RecordHeaderSize:len(rec):len(rec)]
	if frameCRC(b[:4], p) != binary.BigEndian.Uint32(b[4:]) {
		return f, size, ErrChecksum
	}
	return f, size, nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
