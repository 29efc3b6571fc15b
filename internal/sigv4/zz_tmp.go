package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
)

// TEMPORARY until the sigv4 branch lands.
func SigningKey(secret, date, region, service string) []byte {
	h := func(k []byte, s string) []byte { m := hmac.New(sha256.New, k); m.Write([]byte(s)); return m.Sum(nil) }
	return h(h(h(h([]byte("AWS4"+secret), date), region), service), "aws4_request")
}
