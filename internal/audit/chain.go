package audit

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/bits"
)

// ErrChainState is returned for an inconsistent or undecodable ChainState.
var ErrChainState = errors.New("audit: invalid chain state")

// ChainState is everything needed to continue the log: the number of
// records so far (which is also the last Seq and the Merkle tree size), the
// last record's hash, and the tree's compact range. A store persists it in
// the same transaction as the records it covers and reloads it at start-up;
// [VerifyResult.State] rebuilds it from the records themselves.
type ChainState struct {
	// Size is the number of records, i.e. the Seq of the last one.
	Size uint64
	// Last is the Hash of record Size (zero when Size is 0).
	Last [32]byte
	// Range is the compact range of the Merkle tree of Size leaves: the
	// roots of its perfect subtrees, left to right, one per set bit of
	// Size (largest first). len(Range) == popcount(Size).
	Range [][32]byte
}

// Validate checks the state's internal consistency.
func (s ChainState) Validate() error {
	if len(s.Range) != bits.OnesCount64(s.Size) {
		return fmt.Errorf("%w: %d range hashes for size %d", ErrChainState, len(s.Range), s.Size)
	}
	if s.Size == 0 && s.Last != ([32]byte{}) {
		return fmt.Errorf("%w: empty log with a last hash", ErrChainState)
	}
	return nil
}

// Root returns the Merkle root of the tree of Size records.
func (s ChainState) Root() [32]byte { return compactRoot(s.Range) }

// Clone returns a deep copy.
func (s ChainState) Clone() ChainState {
	s.Range = append([][32]byte(nil), s.Range...)
	return s
}

// Binary form of a ChainState:
//
//	version byte 0x01 || uint64be(Size) || Last (32) || Range[0] (32) || …
const (
	stateBinaryVersion = 0x01
	stateHeaderSize    = 1 + 8 + 32
)

// MarshalBinary implements encoding.BinaryMarshaler.
func (s ChainState) MarshalBinary() ([]byte, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	b := make([]byte, stateHeaderSize, stateHeaderSize+32*len(s.Range))
	b[0] = stateBinaryVersion
	binary.BigEndian.PutUint64(b[1:], s.Size)
	copy(b[9:], s.Last[:])
	for _, h := range s.Range {
		b = append(b, h[:]...)
	}
	return b, nil
}

// UnmarshalBinary implements encoding.BinaryUnmarshaler.
func (s *ChainState) UnmarshalBinary(b []byte) error {
	if len(b) < stateHeaderSize || b[0] != stateBinaryVersion || (len(b)-stateHeaderSize)%32 != 0 {
		return fmt.Errorf("%w: bad binary form", ErrChainState)
	}
	var st ChainState
	st.Size = binary.BigEndian.Uint64(b[1:])
	copy(st.Last[:], b[9:41])
	for rest := b[stateHeaderSize:]; len(rest) > 0; rest = rest[32:] {
		st.Range = append(st.Range, [32]byte(rest[:32]))
	}
	if err := st.Validate(); err != nil {
		return err
	}
	*s = st
	return nil
}

type stateJSON struct {
	Size  uint64   `json:"size"`
	Last  string   `json:"last"`
	Range []string `json:"range"`
}

// MarshalJSON renders {"size":N,"last":"<hex>","range":["<hex>",…]}.
func (s ChainState) MarshalJSON() ([]byte, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	j := stateJSON{Size: s.Size, Last: hex.EncodeToString(s.Last[:]), Range: make([]string, len(s.Range))}
	for i, h := range s.Range {
		j.Range[i] = hex.EncodeToString(h[:])
	}
	return json.Marshal(j)
}

// UnmarshalJSON implements json.Unmarshaler.
func (s *ChainState) UnmarshalJSON(b []byte) error {
	var j stateJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return fmt.Errorf("%w: %w", ErrChainState, err)
	}
	st := ChainState{Size: j.Size}
	if err := parseHex32(&st.Last, j.Last); err != nil {
		return fmt.Errorf("%w: last: %w", ErrChainState, err)
	}
	for _, h := range j.Range {
		var v [32]byte
		if err := parseHex32(&v, h); err != nil {
			return fmt.Errorf("%w: range: %w", ErrChainState, err)
		}
		st.Range = append(st.Range, v)
	}
	if err := st.Validate(); err != nil {
		return err
	}
	*s = st
	return nil
}

// Chain produces the records of one log. It is not safe for concurrent use:
// the store's committer owns it. To roll back records whose transaction
// failed, save State() before appending and Reset to it afterwards.
type Chain struct {
	st ChainState
}

// NewChain returns a Chain continuing from st (the zero ChainState starts
// a new log). st is copied.
func NewChain(st ChainState) (*Chain, error) {
	c := &Chain{}
	if err := c.Reset(st); err != nil {
		return nil, err
	}
	return c, nil
}

// Reset makes the chain continue from st (copied), e.g. to roll back.
func (c *Chain) Reset(st ChainState) error {
	if err := st.Validate(); err != nil {
		return err
	}
	st = st.Clone()
	if cap(st.Range) < 64 {
		st.Range = append(make([][32]byte, 0, 64), st.Range...) // never reallocates
	}
	c.st = st
	return nil
}

// State returns a copy of the current state.
func (c *Chain) State() ChainState { return c.st.Clone() }

// Size returns the number of records so far (the last Seq).
func (c *Chain) Size() uint64 { return c.st.Size }

// Root returns the current Merkle root.
func (c *Chain) Root() [32]byte { return c.st.Root() }

// Checkpoint returns the unsigned checkpoint of the current tree.
func (c *Chain) Checkpoint(origin string) Checkpoint {
	return Checkpoint{Origin: origin, Size: c.st.Size, Root: c.st.Root()}
}

// Append makes body the next record and returns it; the record keeps (does
// not copy) body.
//
// body must satisfy [ValidBody]. Because Append runs in the store's single
// committer, it checks only the cheap part (an object's braces, no raw line
// break, valid UTF-8: what keeps records line-separable) and trusts the
// JSON syntax, which encoding/json output (Event.Marshal) always has. Check
// bodies of other origin with ValidBody before staging them.
func (c *Chain) Append(body []byte) (Record, error) {
	if !bodyFraming(body) {
		return Record{}, ErrBody
	}
	return c.append(body), nil
}

func (c *Chain) append(body []byte) Record {
	seq := c.st.Size + 1
	r := Record{Seq: seq, Prev: c.st.Last, Body: body}
	r.Hash = RecordHash(seq, r.Prev, body)
	c.st.Range = compactAppend(c.st.Range, c.st.Size, LeafHash(r.Hash))
	c.st.Size = seq
	c.st.Last = r.Hash
	return r
}

// AppendEvent marshals ev with [Event.Marshal] and appends it.
func (c *Chain) AppendEvent(ev *Event) (Record, error) {
	body, err := ev.Marshal()
	if err != nil {
		return Record{}, err
	}
	return c.Append(body)
}
