package loadgen

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
)

// Ops lists the operations coffer bench can drive.
var Ops = []string{"GetSecretValue", "PutSecretValue", "DescribeSecret", "ListSecrets", "Encrypt", "Decrypt", "GenerateDataKey"}

// opDef describes one operation: where it goes and what it needs.
type opDef struct {
	service string // signing name
	target  string // X-Amz-Target
	kms     bool   // needs a KMS key (else fixture secrets)
	put     bool   // writes versions: fixtures are per run
}

func lookupOp(name string) (opDef, bool) {
	switch name {
	case "GetSecretValue", "PutSecretValue", "DescribeSecret", "ListSecrets":
		return opDef{service: "secretsmanager", target: "secretsmanager." + name, put: name == "PutSecretValue"}, true
	case "Encrypt", "Decrypt", "GenerateDataKey":
		return opDef{service: "kms", target: "TrentService." + name, kms: true}, true
	}
	return opDef{}, false
}

// source yields the body of each request a worker sends.
type source interface {
	next(w *worker) (body []byte, hash *[sha256.Size]byte)
}

// fixedBodies cycles through prepared bodies; each worker starts at its own
// offset so that the workers spread over the fixtures.
type fixedBodies struct {
	bodies [][]byte
	hashes [][sha256.Size]byte
}

func newFixedBodies(bodies [][]byte) *fixedBodies {
	f := &fixedBodies{bodies: bodies, hashes: make([][sha256.Size]byte, len(bodies))}
	for i, b := range bodies {
		f.hashes[i] = BodyHash(b)
	}
	return f
}

func (f *fixedBodies) next(w *worker) ([]byte, *[sha256.Size]byte) {
	i := int((uint64(w.id)*7919 + w.seq) % uint64(len(f.bodies)))
	w.seq++
	return f.bodies[i], &f.hashes[i]
}

// putBodies builds a PutSecretValue per request with a fresh
// ClientRequestToken: run id, worker, sequence number (32 hex digits).
type putBodies struct {
	names []string
	value string // JSON-safe
	run   [8]byte
}

func (p *putBodies) next(w *worker) ([]byte, *[sha256.Size]byte) {
	name := p.names[int((uint64(w.id)*7919+w.seq)%uint64(len(p.names)))]
	b := w.scratch[:0]
	b = append(b, `{"SecretId":"`...)
	b = append(b, name...)
	b = append(b, `","ClientRequestToken":"`...)
	b = hex.AppendEncode(b, p.run[:])
	b = appendHex32(b, uint32(w.id))
	b = appendHex32(b, uint32(w.seq))
	b = append(b, `","SecretString":"`...)
	b = append(b, p.value...)
	b = append(b, `"}`...)
	w.seq++
	w.scratch = b
	w.hash = BodyHash(b)
	return b, &w.hash
}

func appendHex32(b []byte, v uint32) []byte {
	const digits = "0123456789abcdef"
	for s := 28; s >= 0; s -= 4 {
		b = append(b, digits[v>>uint(s)&15])
	}
	return b
}

// valueOf returns a printable, JSON-safe value of n bytes.
func valueOf(n int) string {
	const alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[i%len(alphabet)]
	}
	return string(b)
}

func fixtureName(prefix string, i int) string { return fmt.Sprintf("%s/%06d", prefix, i) }

// fixtureToken is the deterministic ClientRequestToken of a fixture's first
// version, so that creating a fixture again is an idempotent retry.
func fixtureToken(name string) string {
	sum := sha256.Sum256([]byte("coffer-bench|" + name))
	return hex.EncodeToString(sum[:16])
}

func jsonBody(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only maps of strings and numbers
	}
	return b
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// bodiesFor returns the request bodies of a read operation over the
// fixture names (or KMS inputs).
func secretBodies(op string, names []string) [][]byte {
	if op == "ListSecrets" {
		return [][]byte{[]byte(`{"MaxResults":100}`)}
	}
	out := make([][]byte, len(names))
	for i, n := range names {
		out[i] = jsonBody(map[string]string{"SecretId": n})
	}
	return out
}

func encryptBody(keyID string, plaintext []byte) []byte {
	return jsonBody(map[string]string{"KeyId": keyID, "Plaintext": base64.StdEncoding.EncodeToString(plaintext)})
}

func sortedKeys(m map[string]int64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func itoa(i int) string { return strconv.Itoa(i) }

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}
