package awsapi

import (
	"strings"

	"github.com/coffer-dev/coffer/internal/awsapi/smapi"
)

// A fast path for the tiny inputs of the hot reads: GetSecretValue and
// DescribeSecret bodies are flat objects of a few short strings
// ({"SecretId":"app/db"}), for which encoding/json's reflection costs
// ≈ 1 µs and six allocations. decodeFlat accepts only the plainest form of
// such a body and gives up on anything else — escapes, non-ASCII bytes,
// non-string values, a member name that differs from a known one only in
// case (encoding/json would fill it), trailing data — so that awsjson.Decode
// decides every case the fast path does not take, errors included.
// FuzzDecodeFlat checks that whatever the fast path accepts, encoding/json
// decodes to the same input.

// maxFlatMembers bounds the members decodeFlat fills.
const maxFlatMembers = 3

// flatMembers are the member names of a flat input, in field order.
type flatMembers []string

var (
	getSecretValueMembers = flatMembers{"SecretId", "VersionId", "VersionStage"}
	describeSecretMembers = flatMembers{"SecretId"}
)

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// plainString returns the length of a JSON string at the start of b (after
// its opening quote) made only of printable ASCII without escapes, or -1.
func plainString(b []byte) int {
	for i, c := range b {
		switch {
		case c == '"':
			return i
		case c < 0x20 || c >= 0x7f || c == '\\':
			return -1
		}
	}
	return -1
}

// decodeFlat decodes body, a JSON object whose members are all plain
// strings, into vals (vals[i] is names[i]'s value, set[i] whether it was
// present; the last occurrence wins, as in encoding/json). Unknown members
// are ignored. It reports false when body is anything else; vals and set
// are then meaningless.
func decodeFlat(body []byte, names flatMembers, vals *[maxFlatMembers]string, set *[maxFlatMembers]bool) bool {
	i := 0
	skip := func() {
		for i < len(body) && isJSONSpace(body[i]) {
			i++
		}
	}
	skip()
	if i == len(body) || body[i] != '{' {
		return false
	}
	i++
	skip()
	if i < len(body) && body[i] == '}' {
		i++
		skip()
		return i == len(body)
	}
	for {
		if i == len(body) || body[i] != '"' {
			return false
		}
		n := plainString(body[i+1:])
		if n < 0 {
			return false
		}
		key := body[i+1 : i+1+n]
		i += n + 2
		skip()
		if i == len(body) || body[i] != ':' {
			return false
		}
		i++
		skip()
		if i == len(body) || body[i] != '"' {
			return false
		}
		m := plainString(body[i+1:])
		if m < 0 {
			return false
		}
		val := body[i+1 : i+1+m]
		i += m + 2
		field := -1
		for f, name := range names {
			if string(key) == name {
				field = f
				break
			}
			if strings.EqualFold(string(key), name) {
				return false // encoding/json would fill it: let it decide
			}
		}
		if field >= 0 {
			vals[field] = string(val)
			set[field] = true
		}
		skip()
		if i == len(body) {
			return false
		}
		switch body[i] {
		case ',':
			i++
			skip()
		case '}':
			i++
			skip()
			return i == len(body)
		default:
			return false
		}
	}
}

// Fast decoders: each returns the decoded input, or nil to fall back to
// awsjson.Decode. The input and its strings' headers share one allocation.

func fastGetSecretValue(body []byte) validator {
	var vals [maxFlatMembers]string
	var set [maxFlatMembers]bool
	if !decodeFlat(body, getSecretValueMembers, &vals, &set) {
		return nil
	}
	w := new(struct {
		in   smapi.GetSecretValueInput
		vals [maxFlatMembers]string
	})
	w.vals = vals
	if set[0] {
		w.in.SecretId = &w.vals[0]
	}
	if set[1] {
		w.in.VersionId = &w.vals[1]
	}
	if set[2] {
		w.in.VersionStage = &w.vals[2]
	}
	return &w.in
}

func fastDescribeSecret(body []byte) validator {
	var vals [maxFlatMembers]string
	var set [maxFlatMembers]bool
	if !decodeFlat(body, describeSecretMembers, &vals, &set) {
		return nil
	}
	w := new(struct {
		in smapi.DescribeSecretInput
		id string
	})
	if set[0] {
		w.id = vals[0]
		w.in.SecretId = &w.id
	}
	return &w.in
}
