package audit

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Checkpoints follow C2SP tlog-checkpoint: the note text is
//
//	<origin>\n<tree size, decimal>\n<base64 root hash>\n[<extension line>\n]…
//
// and it is signed as a C2SP signed note:
//
//	<text>\n— <key name> <base64(key ID (4 bytes, big-endian) || Ed25519 signature of text)>\n
//
// with key ID = SHA-256(key name || 0x0A || 0x01 || public key)[:4]. Coffer
// signs under a key name equal to the origin (tlog-checkpoint: the log's key
// name SHOULD match the origin line), so a verifier needs only the origin
// (read from the note) and the public key.

// Errors about checkpoints.
var (
	ErrCheckpoint  = errors.New("audit: malformed checkpoint")
	ErrNote        = errors.New("audit: malformed signed note")
	ErrSignature   = errors.New("audit: checkpoint signature does not verify")
	ErrUnsigned    = errors.New("audit: checkpoint has no signature from the trusted key")
	ErrSignerKey   = errors.New("audit: signing seed must be 32 bytes")
	ErrKeyName     = errors.New("audit: invalid key name or origin")
	ErrVerifierKey = errors.New("audit: malformed verifier key")
)

// Limits applied to notes from untrusted sources.
const (
	maxNoteSize       = 64 << 10
	maxNoteSignatures = 64 // signed-note: verifiers must accept at least 16
	sigTypeEd25519    = 0x01
)

// Checkpoint is a signed tree head: the log named Origin had Size records
// with Merkle root Root.
type Checkpoint struct {
	Origin string
	Size   uint64
	Root   [32]byte
	// Extensions are optional extension lines (without newlines). C2SP
	// does not recommend them; Coffer writes none but parses them.
	Extensions []string
}

// Text returns the checkpoint's note text (the signed part).
func (c Checkpoint) Text() ([]byte, error) {
	if err := validKeyName(c.Origin); err != nil {
		return nil, fmt.Errorf("%w: origin", err)
	}
	var b []byte
	b = append(b, c.Origin...)
	b = append(b, '\n')
	b = strconv.AppendUint(b, c.Size, 10)
	b = append(b, '\n')
	b = base64.StdEncoding.AppendEncode(b, c.Root[:])
	b = append(b, '\n')
	for _, e := range c.Extensions {
		if e == "" || strings.ContainsFunc(e, isControl) {
			return nil, fmt.Errorf("%w: bad extension line", ErrCheckpoint)
		}
		b = append(b, e...)
		b = append(b, '\n')
	}
	return b, nil
}

// ParseCheckpoint parses checkpoint note text (the part above the blank
// line of a signed note; see VerifyCheckpoint for signed notes). It is
// strict: decimal size without leading zeros, canonical base64 of 32 bytes,
// non-empty lines, final newline. Parsing alone proves nothing: only a
// verified checkpoint may be trusted.
func ParseCheckpoint(text []byte) (Checkpoint, error) {
	if len(text) > maxNoteSize || !utf8.Valid(text) || bytes.ContainsFunc(text, isControlNotNL) {
		return Checkpoint{}, fmt.Errorf("%w: not clean utf-8", ErrCheckpoint)
	}
	if len(text) == 0 || text[len(text)-1] != '\n' {
		return Checkpoint{}, fmt.Errorf("%w: missing final newline", ErrCheckpoint)
	}
	lines := strings.Split(string(text[:len(text)-1]), "\n")
	if len(lines) < 3 {
		return Checkpoint{}, fmt.Errorf("%w: fewer than 3 lines", ErrCheckpoint)
	}
	var c Checkpoint
	c.Origin = lines[0]
	if c.Origin == "" {
		return Checkpoint{}, fmt.Errorf("%w: empty origin", ErrCheckpoint)
	}
	sz := lines[1]
	if sz == "" || (len(sz) > 1 && sz[0] == '0') || strings.TrimLeft(sz, "0123456789") != "" {
		return Checkpoint{}, fmt.Errorf("%w: bad tree size", ErrCheckpoint)
	}
	n, err := strconv.ParseUint(sz, 10, 64)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("%w: bad tree size", ErrCheckpoint)
	}
	c.Size = n
	root, err := base64.StdEncoding.Strict().DecodeString(lines[2])
	if err != nil || len(root) != 32 {
		return Checkpoint{}, fmt.Errorf("%w: bad root hash", ErrCheckpoint)
	}
	c.Root = [32]byte(root)
	for _, e := range lines[3:] {
		if e == "" {
			return Checkpoint{}, fmt.Errorf("%w: empty extension line", ErrCheckpoint)
		}
		c.Extensions = append(c.Extensions, e)
	}
	return c, nil
}

// Signer signs checkpoints with an Ed25519 key. It is safe for concurrent
// use.
type Signer struct {
	priv ed25519.PrivateKey
	pub  ed25519.PublicKey
}

// NewSigner derives the Ed25519 key pair from a 32-byte seed (which the
// server derives from, or stores under, its root key). The seed is not
// retained beyond the private key.
func NewSigner(seed []byte) (*Signer, error) {
	if len(seed) != ed25519.SeedSize {
		return nil, ErrSignerKey
	}
	priv := ed25519.NewKeyFromSeed(seed)
	return &Signer{priv: priv, pub: priv.Public().(ed25519.PublicKey)}, nil
}

// PublicKey returns the verification key.
func (s *Signer) PublicKey() ed25519.PublicKey { return bytes.Clone(s.pub) }

// SignCheckpoint returns c as a signed note, signed under the key name
// c.Origin.
func (s *Signer) SignCheckpoint(c Checkpoint) ([]byte, error) {
	text, err := c.Text()
	if err != nil {
		return nil, err
	}
	sig := make([]byte, 4, 4+ed25519.SignatureSize)
	binary.BigEndian.PutUint32(sig, keyID(c.Origin, s.pub))
	sig = append(sig, ed25519.Sign(s.priv, text)...)

	note := append(text, '\n')
	note = append(note, "— "...)
	note = append(note, c.Origin...)
	note = append(note, ' ')
	note = base64.StdEncoding.AppendEncode(note, sig)
	return append(note, '\n'), nil
}

// SignCheckpoint signs c with the key derived from seed; see
// [Signer.SignCheckpoint].
func SignCheckpoint(c Checkpoint, seed []byte) ([]byte, error) {
	s, err := NewSigner(seed)
	if err != nil {
		return nil, err
	}
	return s.SignCheckpoint(c)
}

// VerifyCheckpoint verifies a signed checkpoint note against pub and
// returns the checkpoint. The trusted key is (name = the note's origin line,
// pub). Following the signed-note rules, signatures by other keys are
// ignored, a failing signature by the trusted key rejects the note, and a
// note without a verifying signature by it is rejected.
func VerifyCheckpoint(note []byte, pub ed25519.PublicKey) (Checkpoint, error) {
	if len(pub) != ed25519.PublicKeySize {
		return Checkpoint{}, fmt.Errorf("%w: public key size", ErrVerifierKey)
	}
	text, sigs, err := splitNote(note)
	if err != nil {
		return Checkpoint{}, err
	}
	c, err := ParseCheckpoint(text)
	if err != nil {
		return Checkpoint{}, err
	}
	if validKeyName(c.Origin) != nil {
		return Checkpoint{}, fmt.Errorf("%w: origin is not a key name", ErrCheckpoint)
	}
	id := keyID(c.Origin, pub)
	verified := false
	for _, s := range sigs {
		if s.name != c.Origin || s.id != id {
			continue // unknown key
		}
		if len(s.sig) != ed25519.SignatureSize || !ed25519.Verify(pub, text, s.sig) {
			return Checkpoint{}, ErrSignature
		}
		verified = true
	}
	if !verified {
		return Checkpoint{}, ErrUnsigned
	}
	return c, nil
}

type noteSig struct {
	name string
	id   uint32
	sig  []byte
}

// splitNote splits a signed note into its text (with final newline) and
// its signature lines, enforcing the signed-note format.
func splitNote(note []byte) ([]byte, []noteSig, error) {
	if len(note) > maxNoteSize {
		return nil, nil, fmt.Errorf("%w: too large", ErrNote)
	}
	if !utf8.Valid(note) || bytes.ContainsFunc(note, isControlNotNL) {
		return nil, nil, fmt.Errorf("%w: not clean utf-8", ErrNote)
	}
	if len(note) == 0 || note[len(note)-1] != '\n' {
		return nil, nil, fmt.Errorf("%w: missing final newline", ErrNote)
	}
	i := bytes.LastIndex(note, []byte("\n\n"))
	if i < 0 {
		return nil, nil, fmt.Errorf("%w: no signature block", ErrNote)
	}
	text, block := note[:i+1], note[i+2:]
	if len(block) == 0 {
		return nil, nil, fmt.Errorf("%w: no signatures", ErrNote)
	}
	var sigs []noteSig
	for _, line := range strings.Split(string(block[:len(block)-1]), "\n") {
		if len(sigs) == maxNoteSignatures {
			return nil, nil, fmt.Errorf("%w: too many signatures", ErrNote)
		}
		rest, ok := strings.CutPrefix(line, "— ")
		if !ok {
			return nil, nil, fmt.Errorf("%w: bad signature line", ErrNote)
		}
		name, b64, ok := strings.Cut(rest, " ")
		if !ok || validKeyName(name) != nil {
			return nil, nil, fmt.Errorf("%w: bad signature line", ErrNote)
		}
		raw, err := base64.StdEncoding.Strict().DecodeString(b64)
		if err != nil || len(raw) < 5 {
			return nil, nil, fmt.Errorf("%w: bad signature encoding", ErrNote)
		}
		sigs = append(sigs, noteSig{name: name, id: binary.BigEndian.Uint32(raw), sig: raw[4:]})
	}
	return text, sigs, nil
}

// keyID is the signed-note key ID of an Ed25519 key.
func keyID(name string, pub ed25519.PublicKey) uint32 {
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte{'\n', sigTypeEd25519})
	h.Write(pub)
	var sum [32]byte
	return binary.BigEndian.Uint32(h.Sum(sum[:0]))
}

// VerifierKey returns the verifier key string in the signed-note ecosystem's
// usual form, "<name>+<key ID, 8 hex digits>+<base64(0x01 || public key)>",
// for publishing next to exported checkpoints. name should be the origin.
func VerifierKey(name string, pub ed25519.PublicKey) (string, error) {
	if err := validKeyName(name); err != nil {
		return "", err
	}
	if len(pub) != ed25519.PublicKeySize {
		return "", fmt.Errorf("%w: public key size", ErrVerifierKey)
	}
	var id [4]byte
	binary.BigEndian.PutUint32(id[:], keyID(name, pub))
	return name + "+" + hex.EncodeToString(id[:]) + "+" +
		base64.StdEncoding.EncodeToString(append([]byte{sigTypeEd25519}, pub...)), nil
}

// ParseVerifierKey parses a string made by VerifierKey and checks its key ID.
func ParseVerifierKey(vkey string) (name string, pub ed25519.PublicKey, err error) {
	name, rest, ok1 := strings.Cut(vkey, "+")
	idHex, b64, ok2 := strings.Cut(rest, "+")
	if !ok1 || !ok2 || validKeyName(name) != nil || len(idHex) != 8 {
		return "", nil, ErrVerifierKey
	}
	id, err := strconv.ParseUint(idHex, 16, 32)
	if err != nil {
		return "", nil, ErrVerifierKey
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(b64)
	if err != nil || len(raw) != 1+ed25519.PublicKeySize || raw[0] != sigTypeEd25519 {
		return "", nil, ErrVerifierKey
	}
	pub = ed25519.PublicKey(raw[1:])
	if keyID(name, pub) != uint32(id) {
		return "", nil, fmt.Errorf("%w: key id mismatch", ErrVerifierKey)
	}
	return name, pub, nil
}

// validKeyName: non-empty, no Unicode space, no '+', no control character.
func validKeyName(s string) error {
	if s == "" || !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || r == '+' || isControl(r)
	}) {
		return ErrKeyName
	}
	return nil
}

func isControl(r rune) bool      { return r < 0x20 }
func isControlNotNL(r rune) bool { return r != '\n' && r < 0x20 }
