package audit_test

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
)

// ScrubParams must return exactly what the long way returns: ScrubJSON of
// encoding/json's encoding of the same map.
func TestScrubParamsMatchesScrubJSON(t *testing.T) {
	h := testHasher(t, 7)
	drop := []string{"SecretString", "Password"}
	hm := []string{"ClientRequestToken", "GrantTokens"}
	cases := []map[string]any{
		{"secretId": "prod/db"},
		{"secretId": "prod/db", "versionStage": "AWSCURRENT"},
		{"SecretString": "hunter2"},
		{"secretString": "hunter2", "name": "x"},
		{"clientRequestToken": "tok-1", "name": "a<b>&c"},
		{"b": "\u2028 \"quoted\" \\ \t\n\x01", "a": "é✓", "c": ""},
		{"PASSWORD": "p", "Name": "n"},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []rune("aZ0/_-<>&\"\\\u00e9\u2028\x00\x1f ")
	word := func() string {
		r := make([]rune, rng.IntN(12))
		for i := range r {
			r[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return string(r)
	}
	names := []string{"secretId", "SecretString", "clientRequestToken", "name", "versionId", "grantTokens"}
	for range 500 {
		m := map[string]any{}
		for range 1 + rng.IntN(6) {
			k := word()
			if rng.IntN(2) == 0 {
				k = names[rng.IntN(len(names))]
			}
			m[k] = word()
		}
		cases = append(cases, m)
	}
	for _, m := range cases {
		raw, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		want, err := h.ScrubJSON(raw, drop, hm)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := h.ScrubParams(m, drop, hm)
		if !ok {
			t.Fatalf("%q: not taken", raw)
		}
		if string(got) != string(want) {
			t.Fatalf("%s:\n got %s\nwant %s", raw, got, want)
		}
	}
	for _, m := range []map[string]any{
		{"n": 1},
		{"list": []any{"a"}},
		{"bad": "\xff"},
		{"\xff": "x"},
		{},
	} {
		if _, ok := h.ScrubParams(m, drop, hm); ok {
			t.Errorf("%v: taken, want the long way", m)
		}
	}
}
