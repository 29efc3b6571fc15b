package identity_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/coffer-dev/coffer/internal/identity"
)

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func rsaJWK(pub *rsa.PublicKey, kid, alg string) map[string]string {
	m := map[string]string{"kty": "RSA", "kid": kid, "n": b64(pub.N.Bytes()), "e": b64(big.NewInt(int64(pub.E)).Bytes())}
	if alg != "" {
		m["alg"] = alg
	}
	return m
}

func ecJWK(pub *ecdsa.PublicKey, kid string) map[string]string {
	size := (pub.Curve.Params().BitSize + 7) / 8
	raw, _ := pub.Bytes()
	crv := map[int]string{256: "P-256", 384: "P-384", 521: "P-521"}[pub.Curve.Params().BitSize]
	return map[string]string{"kty": "EC", "kid": kid, "crv": crv, "x": b64(raw[1 : 1+size]), "y": b64(raw[1+size:])}
}

func jwks(keys ...map[string]string) []byte {
	b, _ := json.Marshal(map[string]any{"keys": keys})
	return b
}

// sign makes a compact JWS with a given header and claims; signer gets the
// signing input.
func sign(header, claims map[string]any, signer func(in []byte) []byte) string {
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(claims)
	in := b64(h) + "." + b64(c)
	return in + "." + b64(signer([]byte(in)))
}

func rsaSigner(k *rsa.PrivateKey, h crypto.Hash, pss bool) func([]byte) []byte {
	return func(in []byte) []byte {
		d := h.New()
		d.Write(in)
		var sig []byte
		var err error
		if pss {
			sig, err = rsa.SignPSS(rand.Reader, k, h, d.Sum(nil), &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		} else {
			sig, err = rsa.SignPKCS1v15(rand.Reader, k, h, d.Sum(nil))
		}
		if err != nil {
			panic(err)
		}
		return sig
	}
}

func ecSigner(k *ecdsa.PrivateKey, h crypto.Hash) func([]byte) []byte {
	return func(in []byte) []byte {
		d := h.New()
		d.Write(in)
		r, s, err := ecdsa.Sign(rand.Reader, k, d.Sum(nil))
		if err != nil {
			panic(err)
		}
		size := (k.Curve.Params().BitSize + 7) / 8
		out := make([]byte, 2*size)
		r.FillBytes(out[:size])
		s.FillBytes(out[size:])
		return out
	}
}

var (
	rsaKey, _   = rsa.GenerateKey(rand.Reader, 2048)
	rsaOther, _ = rsa.GenerateKey(rand.Reader, 2048)
	p256, _     = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _     = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p521, _     = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
)

func claims() map[string]any {
	return map[string]any{"iss": "https://issuer.test", "sub": "system:serviceaccount:ns:sa", "aud": "sts.amazonaws.com", "exp": time.Now().Add(time.Hour).Unix()}
}

func TestJWTVerify(t *testing.T) {
	set, err := identity.ParseJWKS(jwks(rsaJWK(&rsaKey.PublicKey, "r1", ""), ecJWK(&p256.PublicKey, "e256"), ecJWK(&p384.PublicKey, "e384"), ecJWK(&p521.PublicKey, "e521"),
		rsaJWK(&rsaOther.PublicKey, "r512only", "RS512")))
	if err != nil {
		t.Fatal(err)
	}
	hmacSigner := func(key []byte) func([]byte) []byte {
		return func(in []byte) []byte { m := hmac.New(sha256.New, key); m.Write(in); return m.Sum(nil) }
	}
	cases := []struct {
		name  string
		token string
		ok    bool
	}{
		{"RS256", sign(map[string]any{"alg": "RS256", "kid": "r1"}, claims(), rsaSigner(rsaKey, crypto.SHA256, false)), true},
		{"RS384", sign(map[string]any{"alg": "RS384", "kid": "r1"}, claims(), rsaSigner(rsaKey, crypto.SHA384, false)), true},
		{"RS512", sign(map[string]any{"alg": "RS512", "kid": "r1"}, claims(), rsaSigner(rsaKey, crypto.SHA512, false)), true},
		{"PS256", sign(map[string]any{"alg": "PS256", "kid": "r1"}, claims(), rsaSigner(rsaKey, crypto.SHA256, true)), true},
		{"RS256 without kid", sign(map[string]any{"alg": "RS256"}, claims(), rsaSigner(rsaKey, crypto.SHA256, false)), true},
		{"ES256", sign(map[string]any{"alg": "ES256", "kid": "e256"}, claims(), ecSigner(p256, crypto.SHA256)), true},
		{"ES384", sign(map[string]any{"alg": "ES384", "kid": "e384"}, claims(), ecSigner(p384, crypto.SHA384)), true},
		{"ES512", sign(map[string]any{"alg": "ES512", "kid": "e521"}, claims(), ecSigner(p521, crypto.SHA512)), true},
		{"ES256 without kid", sign(map[string]any{"alg": "ES256"}, claims(), ecSigner(p256, crypto.SHA256)), true},
		{"key restricted to RS512", sign(map[string]any{"alg": "RS512", "kid": "r512only"}, claims(), rsaSigner(rsaOther, crypto.SHA512, false)), true},

		{"alg none", sign(map[string]any{"alg": "none", "kid": "r1"}, claims(), func([]byte) []byte { return nil }), false},
		{"HS256 with the public modulus as secret", sign(map[string]any{"alg": "HS256", "kid": "r1"}, claims(), hmacSigner(rsaKey.PublicKey.N.Bytes())), false},
		{"HS256 with the JWK as secret", sign(map[string]any{"alg": "HS256"}, claims(), hmacSigner(jwks(rsaJWK(&rsaKey.PublicKey, "r1", "")))), false},
		{"wrong key", sign(map[string]any{"alg": "RS256", "kid": "r1"}, claims(), rsaSigner(rsaOther, crypto.SHA256, false)), false},
		{"kid of another key", sign(map[string]any{"alg": "RS256", "kid": "e256"}, claims(), rsaSigner(rsaKey, crypto.SHA256, false)), false},
		{"unknown kid", sign(map[string]any{"alg": "RS256", "kid": "nope"}, claims(), rsaSigner(rsaKey, crypto.SHA256, false)), false},
		{"RS256 signature labelled RS384", sign(map[string]any{"alg": "RS384", "kid": "r1"}, claims(), rsaSigner(rsaKey, crypto.SHA256, false)), false},
		{"RS256 signature labelled PS256", sign(map[string]any{"alg": "PS256", "kid": "r1"}, claims(), rsaSigner(rsaKey, crypto.SHA256, false)), false},
		{"key restricted to RS512 used with RS256", sign(map[string]any{"alg": "RS256", "kid": "r512only"}, claims(), rsaSigner(rsaOther, crypto.SHA256, false)), false},
		{"ES256 signature with a P-384 key", sign(map[string]any{"alg": "ES256", "kid": "e384"}, claims(), ecSigner(p384, crypto.SHA256)), false},
		{"ES384 labelled ES256", sign(map[string]any{"alg": "ES256", "kid": "e384"}, claims(), ecSigner(p384, crypto.SHA384)), false},
		{"crit header", sign(map[string]any{"alg": "RS256", "kid": "r1", "crit": []string{"exp"}}, claims(), rsaSigner(rsaKey, crypto.SHA256, false)), false},
		{"embedded jwk is ignored", sign(map[string]any{"alg": "RS256", "jwk": rsaJWK(&rsaOther.PublicKey, "x", "")}, claims(), rsaSigner(rsaOther, crypto.SHA256, false)), false},
	}
	for _, c := range cases {
		tok, err := identity.ParseJWT(c.token)
		if err != nil {
			if c.ok {
				t.Errorf("%s: parse: %v", c.name, err)
			}
			continue
		}
		if err := tok.Verify(set); (err == nil) != c.ok {
			t.Errorf("%s: Verify = %v, want ok=%v", c.name, err, c.ok)
		}
	}
	// Tampering with any part breaks the signature.
	good := cases[0].token
	parts := strings.Split(good, ".")
	c2 := claims()
	c2["sub"] = "system:serviceaccount:ns:admin"
	cb, _ := json.Marshal(c2)
	for name, tok := range map[string]string{
		"payload": parts[0] + "." + b64(cb) + "." + parts[2],
		"header":  b64([]byte(`{"alg":"RS256","kid":"r1","x":1}`)) + "." + parts[1] + "." + parts[2],
	} {
		jt, err := identity.ParseJWT(tok)
		if err != nil {
			t.Errorf("tampered %s: parse: %v", name, err)
			continue
		}
		if jt.Verify(set) == nil {
			t.Errorf("tampered %s verified", name)
		}
	}
}

func TestParseJWT(t *testing.T) {
	good := sign(map[string]any{"alg": "RS256"}, map[string]any{"iss": "i", "sub": "s", "aud": []string{"a", "b"}, "exp": 1893456000.5, "nbf": 1, "amr": "pwd"}, func([]byte) []byte { return []byte{1} })
	tok, err := identity.ParseJWT(good)
	if err != nil {
		t.Fatal(err)
	}
	c := tok.Claims
	if c.Issuer != "i" || c.Subject != "s" || len(c.Audience) != 2 || c.Audience[1] != "b" || c.Expiry.Unix() != 1893456000 || c.NotBefore.Unix() != 1 || len(c.AMR) != 1 {
		t.Errorf("claims = %+v", c)
	}
	bad := []string{
		"", "a", "a.b", "a.b.c.d", "..", "e30.e30.", "e30..AA", "!!.e30.AA",
		b64([]byte(`[]`)) + ".e30.AA",
		"e30." + b64([]byte(`{"exp":"tomorrow"}`)) + ".AA",
		"e30." + b64([]byte(`{"aud":5}`)) + ".AA",
		"e30." + b64([]byte(`{"exp":-1}`)) + ".AA",
		"e30." + b64([]byte(`{"exp":1e300}`)) + ".AA",
		"e30." + b64([]byte(`not json`)) + ".AA",
		strings.Repeat("A", identity.MaxTokenLen+1),
	}
	for _, b := range bad {
		if _, err := identity.ParseJWT(b); err == nil {
			t.Errorf("ParseJWT(%.40q) accepted", b)
		}
	}
}

func TestParseJWKS(t *testing.T) {
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	cases := []struct {
		name string
		doc  string
		n    int // usable keys; -1 = error
	}{
		{"rsa and ec", string(jwks(rsaJWK(&rsaKey.PublicKey, "a", ""), ecJWK(&p256.PublicKey, "b"))), 2},
		{"weak rsa skipped", string(jwks(rsaJWK(&small.PublicKey, "a", ""), ecJWK(&p256.PublicKey, "b"))), 1},
		{"only weak rsa", string(jwks(rsaJWK(&small.PublicKey, "a", ""))), -1},
		{"encryption key skipped", `{"keys":[{"kty":"RSA","use":"enc","n":"` + b64(rsaKey.N.Bytes()) + `","e":"AQAB"}]}`, -1},
		{"symmetric key skipped", `{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`, -1},
		{"point not on the curve", `{"keys":[{"kty":"EC","crv":"P-256","x":"` + b64(make([]byte, 32)) + `","y":"` + b64([]byte{1}) + `"}]}`, -1},
		{"unknown curve", `{"keys":[{"kty":"EC","crv":"secp256k1","x":"AA","y":"AA"}]}`, -1},
		{"even exponent", `{"keys":[{"kty":"RSA","n":"` + b64(rsaKey.N.Bytes()) + `","e":"AAI"}]}`, -1},
		{"not json", `{`, -1},
		{"no keys", `{"keys":[]}`, -1},
	}
	for _, c := range cases {
		keys, err := identity.ParseJWKS([]byte(c.doc))
		if c.n < 0 {
			if err == nil {
				t.Errorf("%s: accepted %d keys", c.name, len(keys))
			}
			continue
		}
		if err != nil || len(keys) != c.n {
			t.Errorf("%s: %d keys, %v; want %d", c.name, len(keys), err, c.n)
		}
	}
}
