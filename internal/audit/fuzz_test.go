package audit_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-dev/coffer/internal/audit"
)

// FuzzParseRecordLine: parsing never panics, and whatever parses re-encodes
// to a canonical line that parses back to the same record.
func FuzzParseRecordLine(f *testing.F) {
	recs, _ := testLog(f, 3)
	for i := range recs {
		line, _ := audit.AppendRecordLine(nil, &recs[i])
		f.Add(line)
		f.Add(bytes.TrimSuffix(line, []byte("\n")))
		f.Add(line[:len(line)/2])
	}
	ev, _ := assumedRoleEvent().Marshal()
	c, _ := audit.NewChain(audit.ChainState{})
	r, _ := c.Append(ev)
	line, _ := audit.AppendRecordLine(nil, &r)
	f.Add(line)
	f.Add([]byte(`{"seq":1,"prev":"","hash":"","event":{}}`))
	f.Add([]byte(`{"seq":18446744073709551615,"event":{"a":[1,2,{"b":null}]},"hash":"` + hexString([32]byte{1}) + `","prev":"` + hexString([32]byte{}) + `"}`))
	f.Add([]byte(`{"seq":1e3}`))
	f.Add([]byte("{\"event\":{\"\xff\":1}}"))

	f.Fuzz(func(t *testing.T, line []byte) {
		r, err := audit.ParseRecordLine(line)
		if err != nil {
			return
		}
		if r.Seq == 0 || !audit.ValidBody(r.Body) {
			t.Fatalf("parsed an invalid record: seq %d body %q", r.Seq, r.Body)
		}
		out, err := audit.AppendRecordLine(nil, &r)
		if err != nil {
			t.Fatalf("parsed record does not re-encode: %v", err)
		}
		r2, err := audit.ParseRecordLine(out)
		if err != nil {
			t.Fatalf("re-encoded line does not parse: %v\n%s", err, out)
		}
		if diff := cmp.Diff(r, r2); diff != "" {
			t.Fatalf("round trip (-first +second):\n%s", diff)
		}
		out2, _ := audit.AppendRecordLine(nil, &r2)
		if !bytes.Equal(out, out2) {
			t.Fatalf("encoding not canonical:\n%s\n%s", out, out2)
		}
	})
}

// FuzzParseCheckpoint: parsing and verifying never panic; a parsed
// checkpoint whose origin is a valid key name re-encodes to the same bytes;
// only notes signed by the trusted key verify.
func FuzzParseCheckpoint(f *testing.F) {
	s := testSigner(f, 11)
	pub := s.PublicKey()
	for _, c := range []audit.Checkpoint{
		{Origin: testOrigin, Size: 0, Root: audit.EmptyRoot()},
		{Origin: "example.com/behind-the-sofa", Size: 20852163, Root: [32]byte{0x0a, 0xc5}},
		{Origin: testOrigin, Size: 1, Root: [32]byte{9}, Extensions: []string{"ext line"}},
	} {
		note, err := s.SignCheckpoint(c)
		if err != nil {
			f.Fatal(err)
		}
		text, _ := c.Text()
		f.Add(note)
		f.Add(text)
		f.Add(note[:len(note)-5])
	}
	f.Add([]byte("o\n01\nAAAA\n\n— o AAAAAAA=\n"))
	f.Add([]byte("\n\n\n"))
	f.Add([]byte("a\n1\n" + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" + "\n\n— a \n"))

	f.Fuzz(func(t *testing.T, data []byte) {
		if c, err := audit.ParseCheckpoint(data); err == nil {
			if text, err := c.Text(); err == nil && !bytes.Equal(text, data) {
				t.Fatalf("Text() = %q, parsed from %q", text, data)
			}
		}
		c, err := audit.VerifyCheckpoint(data, pub)
		if err != nil {
			return
		}
		// It verified, so it carries our signature over its text: re-signing
		// the parsed checkpoint must produce the same text.
		again, err := s.SignCheckpoint(c)
		if err != nil {
			t.Fatalf("verified checkpoint cannot be re-signed: %v", err)
		}
		text, _ := c.Text()
		if !bytes.HasPrefix(data, append(text, '\n')) || !bytes.HasPrefix(again, append(text, '\n')) {
			t.Fatalf("verified note text mismatch:\n%q\n%q", data, again)
		}
	})
}

// FuzzScrubJSON: the single-pass scrubber accepts exactly valid JSON and
// means the same as the map-based reference (referenceScrub); its output is
// valid JSON in valid UTF-8.
func FuzzScrubJSON(f *testing.F) {
	h := testHasher(f, 1)
	drop := audit.DefaultDropParams()
	hm := append(audit.DefaultHMACParams(), "EncryptionContext")
	for _, s := range []string{
		`{"SecretId":"a","SecretString":"s","ClientRequestToken":"t"}`,
		`{"EncryptionContext":{"k":"v","SecretString":"x","n":[1,"y",{"z":null}]}}`,
		`[{"secretstring":1},{"SessionToken":["a",true,-1.5e-3]}]`,
		`{"Secret\u0053tring":"x","\u00e9":"\ud800\n"}`,
		"{\"a\":\"\xff\xfe\"}", `  "str" `, `null`, `{"a":1,"a":2}`, `{"a":01}`, `[1,]`, ``, ` `,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := h.ScrubJSON(data, drop, hm)
		if len(bytes.Trim(data, " \t\r\n")) == 0 {
			if err != nil || got != nil {
				t.Fatalf("blank input: %s, %v", got, err)
			}
			return
		}
		if valid := json.Valid(data); valid != (err == nil) {
			t.Fatalf("json.Valid %v but ScrubJSON error %v", valid, err)
		}
		if err != nil {
			return
		}
		if got != nil && (!json.Valid(got) || !utf8.Valid(got)) {
			t.Fatalf("output is not valid JSON/UTF-8: %q", got)
		}
		want, _ := referenceScrub(h, data, drop, hm)
		gotV, err := decodeJSON(got)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, gotV); diff != "" {
			t.Fatalf("differs from the reference (-want +got):\n%s\ninput %q\noutput %s", diff, data, got)
		}
	})
}
