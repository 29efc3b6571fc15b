package audit_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-dev/coffer/internal/audit"
)

const testOrigin = "coffer.test/audit"

func testSeed(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

func testSigner(t testing.TB, b byte) *audit.Signer {
	t.Helper()
	s, err := audit.NewSigner(testSeed(b))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestParseCheckpointSpecExample parses the example from c2sp.org/tlog-checkpoint.
func TestParseCheckpointSpecExample(t *testing.T) {
	text := "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
	c, err := audit.ParseCheckpoint([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	root, _ := base64.StdEncoding.DecodeString("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
	want := audit.Checkpoint{Origin: "example.com/behind-the-sofa", Size: 20852163, Root: [32]byte(root)}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	got, err := c.Text()
	if err != nil || string(got) != text {
		t.Errorf("Text() = %q, %v", got, err)
	}
}

func TestSignVerifyCheckpoint(t *testing.T) {
	s := testSigner(t, 7)
	c := audit.Checkpoint{Origin: testOrigin, Size: 42, Root: sha256.Sum256([]byte("root"))}
	note, err := s.SignCheckpoint(c)
	if err != nil {
		t.Fatal(err)
	}
	// Shape: text, blank line, one signature line naming the origin.
	text, _ := c.Text()
	if !bytes.HasPrefix(note, append(text, '\n')) {
		t.Fatalf("note does not start with text + blank line:\n%s", note)
	}
	sigLine := strings.TrimSuffix(string(note[len(text)+1:]), "\n")
	name, b64, ok := strings.Cut(strings.TrimPrefix(sigLine, "— "), " ")
	if !strings.HasPrefix(sigLine, "— ") || !ok || name != testOrigin {
		t.Fatalf("signature line %q", sigLine)
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(raw) != 4+ed25519.SignatureSize {
		t.Fatalf("signature bytes: %d, %v", len(raw), err)
	}
	// Key ID per signed-note: SHA-256(name || 0x0A || 0x01 || pub)[:4].
	pub := s.PublicKey()
	idIn := sha256.Sum256(append(append([]byte(testOrigin), '\n', 0x01), pub...))
	if binary.BigEndian.Uint32(raw) != binary.BigEndian.Uint32(idIn[:4]) {
		t.Error("key ID mismatch")
	}
	if !ed25519.Verify(pub, text, raw[4:]) {
		t.Error("signature is not an Ed25519 signature of the note text")
	}

	got, err := audit.VerifyCheckpoint(note, pub)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(c, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// The function form signs identically (Ed25519 is deterministic).
	note2, err := audit.SignCheckpoint(c, testSeed(7))
	if err != nil || !bytes.Equal(note, note2) {
		t.Errorf("SignCheckpoint differs from Signer.SignCheckpoint: %v", err)
	}
}

func TestVerifyCheckpointRejects(t *testing.T) {
	s := testSigner(t, 7)
	other := testSigner(t, 8)
	c := audit.Checkpoint{Origin: testOrigin, Size: 42, Root: sha256.Sum256([]byte("root"))}
	note, _ := s.SignCheckpoint(c)
	pub := s.PublicKey()

	edit := func(from, to string) []byte {
		t.Helper()
		if !bytes.Contains(note, []byte(from)) {
			t.Fatalf("%q not in note", from)
		}
		return bytes.Replace(note, []byte(from), []byte(to), 1)
	}
	rootB64 := base64.StdEncoding.EncodeToString(c.Root[:])
	otherRoot := sha256.Sum256([]byte("other"))
	otherNote, _ := other.SignCheckpoint(c)

	// Signatures by other keys (another name, or our name with another key
	// ID) are ignored; ours must verify.
	foreign := "— witness.example " + base64.StdEncoding.EncodeToString(make([]byte, 68)) + "\n" +
		"— " + testOrigin + " " + base64.StdEncoding.EncodeToString(append([]byte{0, 0, 0, 0}, make([]byte, 64)...)) + "\n"
	if _, err := audit.VerifyCheckpoint(append(bytes.Clone(note), foreign...), pub); err != nil {
		t.Errorf("note with extra foreign signatures: %v", err)
	}

	for name, tc := range map[string]struct {
		note []byte
		pub  ed25519.PublicKey
		want error
	}{
		"wrong key":             {note, other.PublicKey(), audit.ErrUnsigned},
		"signed by other key":   {otherNote, pub, audit.ErrUnsigned},
		"edited size":           {edit("\n42\n", "\n43\n"), pub, audit.ErrSignature},
		"edited root":           {edit(rootB64, base64.StdEncoding.EncodeToString(otherRoot[:])), pub, audit.ErrSignature},
		"edited origin":         {edit(testOrigin+"\n", "coffer.test/other\n"), pub, audit.ErrUnsigned},
		"added extension line":  {edit(rootB64+"\n", rootB64+"\nextra\n"), pub, audit.ErrSignature},
		"no signature":          {append(mustText(t, c), '\n'), pub, audit.ErrNote},
		"text only":             {mustText(t, c), pub, audit.ErrNote},
		"bad base64 signature":  {edit(" "+strings.SplitN(strings.SplitN(string(note), "— ", 2)[1], " ", 2)[1], " !!!\n"), pub, audit.ErrNote},
		"missing final newline": {note[:len(note)-1], pub, audit.ErrNote},
		"control character":     {edit(testOrigin+"\n", testOrigin+"\x01\n"), pub, audit.ErrNote},
		"leading zero size":     {edit("\n42\n", "\n042\n"), pub, audit.ErrCheckpoint},
		"bad public key":        {note, pub[:31], audit.ErrVerifierKey},
		"empty":                 {nil, pub, audit.ErrNote},
	} {
		if _, err := audit.VerifyCheckpoint(tc.note, tc.pub); !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", name, err, tc.want)
		}
	}
}

func mustText(t testing.TB, c audit.Checkpoint) []byte {
	t.Helper()
	b, err := c.Text()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseCheckpointRejects(t *testing.T) {
	root := base64.StdEncoding.EncodeToString(make([]byte, 32))
	for name, text := range map[string]string{
		"empty":              "",
		"two lines":          "o\n1\n",
		"no final newline":   "o\n1\n" + root,
		"empty origin":       "\n1\n" + root + "\n",
		"negative size":      "o\n-1\n" + root + "\n",
		"plus size":          "o\n+1\n" + root + "\n",
		"leading zero":       "o\n01\n" + root + "\n",
		"size overflow":      "o\n18446744073709551616\n" + root + "\n",
		"hex root":           "o\n1\n" + strings.Repeat("00", 32) + "\n",
		"short root":         "o\n1\n" + base64.StdEncoding.EncodeToString(make([]byte, 31)) + "\n",
		"unpadded root":      "o\n1\n" + strings.TrimRight(root, "=") + "\n",
		"empty extension":    "o\n1\n" + root + "\n\n",
		"control character":  "o\x7f\x00\n1\n" + root + "\n",
		"invalid utf-8":      "o\xff\n1\n" + root + "\n",
		"space in size line": "o\n 1\n" + root + "\n",
	} {
		if _, err := audit.ParseCheckpoint([]byte(text)); !errors.Is(err, audit.ErrCheckpoint) {
			t.Errorf("%s: got %v, want ErrCheckpoint", name, err)
		}
	}
	c, err := audit.ParseCheckpoint([]byte("o\n0\n" + root + "\next one\next two\n"))
	if err != nil || c.Size != 0 || len(c.Extensions) != 2 {
		t.Errorf("size 0 with extensions: %+v, %v", c, err)
	}
}

func TestCheckpointTextRejectsBadOrigin(t *testing.T) {
	s := testSigner(t, 1)
	for _, origin := range []string{"", "has space", "a+b", "line\nbreak", "tab\t"} {
		if _, err := s.SignCheckpoint(audit.Checkpoint{Origin: origin}); !errors.Is(err, audit.ErrKeyName) {
			t.Errorf("origin %q: got %v", origin, err)
		}
	}
	if _, err := s.SignCheckpoint(audit.Checkpoint{Origin: "o", Extensions: []string{"a\nb"}}); !errors.Is(err, audit.ErrCheckpoint) {
		t.Errorf("extension with newline: got %v", err)
	}
	if _, err := audit.NewSigner(make([]byte, 31)); !errors.Is(err, audit.ErrSignerKey) {
		t.Errorf("short seed: got %v", err)
	}
}

func TestVerifierKey(t *testing.T) {
	s := testSigner(t, 3)
	vkey, err := audit.VerifierKey(testOrigin, s.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(vkey, testOrigin+"+") || strings.Count(vkey, "+") < 2 {
		t.Fatalf("vkey %q", vkey)
	}
	name, pub, err := audit.ParseVerifierKey(vkey)
	if err != nil || name != testOrigin || !pub.Equal(s.PublicKey()) {
		t.Fatalf("ParseVerifierKey = %q, %x, %v", name, pub, err)
	}
	// A key ID that does not match is refused.
	parts := strings.SplitN(vkey, "+", 3)
	if _, _, err := audit.ParseVerifierKey(parts[0] + "+00000000+" + parts[2]); !errors.Is(err, audit.ErrVerifierKey) {
		t.Errorf("wrong key id: got %v", err)
	}
	for _, bad := range []string{"", "name", "name+1234", "a b+12345678+AA==", parts[0] + "+" + parts[1] + "+AAAA"} {
		if _, _, err := audit.ParseVerifierKey(bad); !errors.Is(err, audit.ErrVerifierKey) {
			t.Errorf("ParseVerifierKey(%q): got %v", bad, err)
		}
	}
}
