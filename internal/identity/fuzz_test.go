package identity_test

import (
	"crypto"
	"testing"

	"github.com/coffer-dev/coffer/internal/identity"
)

// FuzzParseJWT feeds arbitrary tokens to the parser and the verifier: no
// panics, and nothing but a correctly signed token verifies.
func FuzzParseJWT(f *testing.F) {
	set, err := identity.ParseJWKS(jwks(rsaJWK(&rsaKey.PublicKey, "k", ""), ecJWK(&p256.PublicKey, "e")))
	if err != nil {
		f.Fatal(err)
	}
	good := sign(map[string]any{"alg": "RS256", "kid": "k"}, claims(), rsaSigner(rsaKey, crypto.SHA256, false))
	f.Add(good)
	f.Add(sign(map[string]any{"alg": "ES256", "kid": "e"}, claims(), ecSigner(p256, crypto.SHA256)))
	f.Add(sign(map[string]any{"alg": "none"}, claims(), func([]byte) []byte { return []byte{0} }))
	f.Add(sign(map[string]any{"alg": "HS256", "crit": []string{"x"}}, map[string]any{"exp": 1.5, "aud": []any{1}}, func([]byte) []byte { return []byte{1, 2} }))
	f.Add("eyJhbGciOiJSUzI1NiJ9.e30.AAAA")
	f.Add("..")
	f.Fuzz(func(t *testing.T, token string) {
		tok, err := identity.ParseJWT(token)
		if err != nil {
			return
		}
		if tok.Verify(set) == nil && token != good {
			// Only tokens really signed by our keys verify; the fuzzer
			// cannot forge one, but it may re-encode the good one.
			if _, err := identity.ParseJWT(good); err != nil {
				t.Fatal(err)
			}
			if tok.Header.Alg != "RS256" && tok.Header.Alg != "ES256" {
				t.Fatalf("token with alg %q verified", tok.Header.Alg)
			}
		}
	})
}

// FuzzParseJWKS: key sets from the network or a file never panic the
// parser.
func FuzzParseJWKS(f *testing.F) {
	f.Add(string(jwks(rsaJWK(&rsaKey.PublicKey, "k", "RS256"), ecJWK(&p384.PublicKey, "e"))))
	f.Add(`{"keys":[{"kty":"EC","crv":"P-521","x":"AA","y":"AA"},{"kty":"RSA","n":"AQAB","e":"AQAB"}]}`)
	f.Add(`{"keys":null}`)
	f.Fuzz(func(t *testing.T, doc string) {
		identity.ParseJWKS([]byte(doc))
	})
}

// FuzzParseBootstrap: the bootstrap file parser never panics.
func FuzzParseBootstrap(f *testing.F) {
	f.Add("users:\n  - name: u\n    tags: {a: b}\npolicies:\n  - name: p\n    document: {Version: 2012-10-17, Statement: [{Effect: Allow}]}\n")
	f.Add(`{"roles":[{"name":"r","assumeRolePolicy":{"a":[1,true,null,"x"]}}]}`)
	f.Add("oidcProviders:\n  - url: https://x\n    jwks: &a {k: *a}\n")
	f.Fuzz(func(t *testing.T, doc string) {
		identity.ParseBootstrap([]byte(doc), "111122223333", "us-east-1")
	})
}
