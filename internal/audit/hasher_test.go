package audit_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-dev/coffer/internal/audit"
)

func testHasher(t testing.TB, b byte) *audit.Hasher {
	t.Helper()
	h, err := audit.NewHasher(bytes.Repeat([]byte{b}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestHasherHMAC(t *testing.T) {
	key := bytes.Repeat([]byte{5}, 32)
	h, err := audit.NewHasher(key)
	if err != nil {
		t.Fatal(err)
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte("token-1"))
	want := "hmac-sha256:" + hex.EncodeToString(m.Sum(nil))
	if got := h.HMAC("token-1"); got != want {
		t.Errorf("HMAC = %s, want %s", got, want)
	}
	if h.HMAC("token-1") != h.HMAC("token-1") {
		t.Error("not stable")
	}
	if h.HMAC("token-1") == h.HMAC("token-2") {
		t.Error("different values collide")
	}
	if testHasher(t, 6).HMAC("token-1") == want {
		t.Error("not keyed")
	}
	// Modifying the caller's key afterwards does not change the Hasher.
	key[0] ^= 1
	if h.HMAC("token-1") != want {
		t.Error("Hasher aliases the caller's key")
	}
	for _, n := range []int{0, 16, 31, 33, 64} {
		if _, err := audit.NewHasher(make([]byte, n)); !errors.Is(err, audit.ErrHasherKey) {
			t.Errorf("key of %d bytes: %v", n, err)
		}
	}
	// Concurrent use (run with -race).
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				if h.HMAC("token-1") != want {
					t.Error("concurrent HMAC differs")
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestScrubJSON(t *testing.T) {
	h := testHasher(t, 1)
	const (
		secretString  = "s3cr3t-Str1ng-VALUE"
		secretBinary  = "c2VjcmV0LWJpbmFyeS1WQUxVRQ=="
		plaintext     = "cGxhaW50ZXh0LVZBTFVF"
		password      = "hunter2-PASSWORD"
		secretKey     = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
		nestedSecret  = "nested-SECRET-in-object"
		hashedSecret  = "inside-HMACd-object-SECRET"
		sessionToken  = "FwoGZXIvYXdzEXAMPLETOKEN"
		clientReqTok  = "6f1e3c2a-0000-4000-8000-00000000abcd"
		contextSecret = "ctx-value-1"
	)
	in := `{
		"SecretId": "prod/db",
		"SecretString": "` + secretString + `",
		"secretBinary": "` + secretBinary + `",
		"Plaintext": "` + plaintext + `",
		"Tags": [{"Key": "team", "Value": "payments"}],
		"Credentials": {"AccessKeyId": "ASIAEXAMPLE", "SecretAccessKey": "` + secretKey + `", "SessionToken": "` + sessionToken + `", "Expiration": 1700000000},
		"Replica": [{"Region": "eu-west-1", "Nested": {"password": "` + password + `", "SecretString": "` + nestedSecret + `"}}],
		"ClientRequestToken": "` + clientReqTok + `",
		"EncryptionContext": {"SecretARN": "` + contextSecret + `", "Opaque": {"SecretString": "` + hashedSecret + `"}, "Count": 3},
		"Big": 12345678901234567890,
		"Flag": true,
		"Nothing": null
	}`
	drop := audit.DefaultDropParams()
	hm := append(audit.DefaultHMACParams(), "EncryptionContext")
	out, err := h.ScrubJSON([]byte(in), drop, hm)
	if err != nil {
		t.Fatal(err)
	}
	// No secret value appears in the output bytes, in any form we can think
	// of (raw, or as its HMAC: dropped values must not even be hashed).
	for _, s := range []string{secretString, secretBinary, plaintext, password, secretKey, nestedSecret, hashedSecret, sessionToken, clientReqTok, contextSecret} {
		if bytes.Contains(out, []byte(s)) {
			t.Errorf("output contains %q: %s", s, out)
		}
	}
	for _, s := range []string{secretString, secretBinary, plaintext, password, secretKey, nestedSecret, hashedSecret} {
		if bytes.Contains(out, []byte(h.HMAC(s))) {
			t.Errorf("output contains the HMAC of dropped value %q", s)
		}
	}
	for _, k := range []string{"SecretString", "secretBinary", "Plaintext", "SecretAccessKey", "password"} {
		if bytes.Contains(out, []byte(`"`+k+`"`)) {
			t.Errorf("dropped member %q still present: %s", k, out)
		}
	}
	var got map[string]any
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber()
	if err := dec.Decode(&got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"SecretId": "prod/db",
		"Tags":     []any{map[string]any{"Key": "team", "Value": "payments"}},
		"Credentials": map[string]any{
			"AccessKeyId":  "ASIAEXAMPLE",
			"SessionToken": h.HMAC(sessionToken),
			"Expiration":   json.Number("1700000000"),
		},
		"Replica":            []any{map[string]any{"Region": "eu-west-1", "Nested": map[string]any{}}},
		"ClientRequestToken": h.HMAC(clientReqTok),
		"EncryptionContext": map[string]any{
			"SecretARN": h.HMAC(contextSecret),
			"Opaque":    map[string]any{},
			"Count":     json.Number("3"),
		},
		"Big":     json.Number("12345678901234567890"),
		"Flag":    true,
		"Nothing": nil,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("scrubbed (-want +got):\n%s", diff)
	}
	// Stable: the same input gives the same bytes; keyed: another key differs.
	again, _ := h.ScrubJSON([]byte(in), drop, hm)
	if !bytes.Equal(out, again) {
		t.Error("scrub output not stable")
	}
	other, _ := testHasher(t, 2).ScrubJSON([]byte(in), drop, hm)
	if bytes.Equal(out, other) {
		t.Error("scrub output does not depend on the key")
	}
	if !strings.Contains(string(out), `"ClientRequestToken":"hmac-sha256:`) {
		t.Errorf("HMAC form: %s", out)
	}
}

func TestScrubJSONEdgeCases(t *testing.T) {
	h := testHasher(t, 1)
	for in, want := range map[string]string{
		``:                            ``,
		`null`:                        ``,
		`  null `:                     ``,
		`{}`:                          `{}`,
		`{"b":1,"a":"<&>"}`:           `{"b":1,"a":"<&>"}`,
		` { "b" : [ 1 , -0.5e+3 ] } `: `{"b":[1,-0.5e+3]}`,
		`{"Secret\u0053tring":"x","k":"\u00e9\n"}`: `{"k":"é\n"}`,
		`{"a":"\ud800"}`:                 "{\"a\":\"\uFFFD\"}", // a lone surrogate decodes to U+FFFD
		`{"a":"x","a":"y"}`:              `{"a":"x","a":"y"}`,
		`[{"SecretString":"x"},1]`:       `[{},1]`,
		`{"SessionToken":null}`:          `{"SessionToken":null}`,
		`{"SessionToken":["a",{"b":1}]}`: `{"SessionToken":["` + h.HMAC("a") + `",{"b":1}]}`,
		`"SecretString"`:                 `"SecretString"`,
	} {
		got, err := h.ScrubJSON([]byte(in), audit.DefaultDropParams(), audit.DefaultHMACParams())
		if err != nil || string(got) != want {
			t.Errorf("ScrubJSON(%s) = %s, %v; want %s", in, got, err, want)
		}
	}
	for _, in := range []string{`{`, `{"a":1}{"b":2}`, `{"SecretString":"leak"`, `nope`, `{"a":01}`, `{"a":1.}`,
		`{"a":.5}`, `{"a":-}`, `{"a":1e}`, `{"a":tru}`, `{"a" 1}`, `{"a":1,}`, `[1,]`, `{,}`, "{\"a\":\"\t\"}",
		`{"a":"\x"}`, `{"a":"\u12"}`, `{'a':1}`, `{"a":1]`, `[1}`, strings.Repeat("[", 10001) + strings.Repeat("]", 10001)} {
		got, err := h.ScrubJSON([]byte(in), audit.DefaultDropParams(), nil)
		if !errors.Is(err, audit.ErrScrubInput) || got != nil {
			t.Errorf("ScrubJSON(%s) = %s, %v", in, got, err)
		}
		if err != nil && strings.Contains(err.Error(), "leak") {
			t.Errorf("error leaks input: %v", err)
		}
	}
	// Default lists are fresh copies.
	d := audit.DefaultDropParams()
	d[0] = "changed"
	if audit.DefaultDropParams()[0] == "changed" {
		t.Error("DefaultDropParams shares its slice")
	}
}
