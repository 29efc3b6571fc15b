package identity

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	_ "crypto/sha256" // SHA-256 for RS256/PS256/ES256
	_ "crypto/sha512" // SHA-384/512
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strings"
	"time"
)

// JSON Web Token verification (RFC 7515/7517/7519) with the standard
// library, for AssumeRoleWithWebIdentity. Only the JWS compact form with
// asymmetric signatures is accepted: RS256/384/512, PS256/384/512 and
// ES256/384/512. "none" and the HMAC algorithms are refused (an HMAC
// "verified" with a public key is the classic algorithm-confusion attack),
// as are a "crit" header, keys weaker than 2048-bit RSA, and an EC key on a
// curve other than the algorithm's. Keys come only from the provider's
// JWKS, never from the token (jwk, jku, x5u and x5c headers are ignored).

// MaxTokenLen is the largest web identity token accepted (the STS model's
// limit).
const MaxTokenLen = 20000

// JWTHeader is the decoded JOSE header.
type JWTHeader struct {
	Alg  string          `json:"alg"`
	Kid  string          `json:"kid"`
	Typ  string          `json:"typ"`
	Crit json.RawMessage `json:"crit"`
}

// JWTClaims are the registered claims AssumeRoleWithWebIdentity uses.
type JWTClaims struct {
	Issuer    string
	Subject   string
	Audience  []string
	Expiry    time.Time // zero when absent
	NotBefore time.Time
	IssuedAt  time.Time
	AMR       []string
	AZP       string
}

// JWT is a parsed, not yet verified token.
type JWT struct {
	Header JWTHeader
	Claims JWTClaims
	signed []byte // header.payload, the signing input
	sig    []byte
}

// errMalformedJWT is returned for anything that is not a well-formed JWS
// compact token with JSON header and claims.
var errMalformedJWT = errors.New("malformed token")

// ParseJWT decodes a JWS compact token without verifying it.
func ParseJWT(token string) (*JWT, error) {
	if len(token) > MaxTokenLen {
		return nil, fmt.Errorf("%w: too long", errMalformedJWT)
	}
	h, rest, ok := strings.Cut(token, ".")
	if !ok {
		return nil, errMalformedJWT
	}
	p, sig, ok := strings.Cut(rest, ".")
	if !ok || strings.Contains(sig, ".") || h == "" || p == "" || sig == "" {
		return nil, errMalformedJWT
	}
	hb, err := b64url(h)
	if err != nil {
		return nil, fmt.Errorf("%w: header encoding", errMalformedJWT)
	}
	pb, err := b64url(p)
	if err != nil {
		return nil, fmt.Errorf("%w: payload encoding", errMalformedJWT)
	}
	sb, err := b64url(sig)
	if err != nil {
		return nil, fmt.Errorf("%w: signature encoding", errMalformedJWT)
	}
	t := &JWT{signed: []byte(token[:len(h)+1+len(p)]), sig: sb}
	if err := json.Unmarshal(hb, &t.Header); err != nil {
		return nil, fmt.Errorf("%w: header is not a JSON object", errMalformedJWT)
	}
	if err := parseClaims(pb, &t.Claims); err != nil {
		return nil, err
	}
	return t, nil
}

// b64url decodes base64url, with or without padding.
func b64url(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

type rawClaims struct {
	Iss string          `json:"iss"`
	Sub string          `json:"sub"`
	Aud json.RawMessage `json:"aud"`
	Exp json.RawMessage `json:"exp"`
	Nbf json.RawMessage `json:"nbf"`
	Iat json.RawMessage `json:"iat"`
	AMR json.RawMessage `json:"amr"`
	AZP string          `json:"azp"`
}

func parseClaims(b []byte, c *JWTClaims) error {
	var r rawClaims
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&r); err != nil {
		return fmt.Errorf("%w: claims are not a JSON object", errMalformedJWT)
	}
	c.Issuer, c.Subject, c.AZP = r.Iss, r.Sub, r.AZP
	var err error
	if c.Audience, err = stringOrList(r.Aud); err != nil {
		return fmt.Errorf("%w: aud", errMalformedJWT)
	}
	if c.AMR, err = stringOrList(r.AMR); err != nil {
		return fmt.Errorf("%w: amr", errMalformedJWT)
	}
	for _, f := range []struct {
		raw json.RawMessage
		dst *time.Time
		n   string
	}{{r.Exp, &c.Expiry, "exp"}, {r.Nbf, &c.NotBefore, "nbf"}, {r.Iat, &c.IssuedAt, "iat"}} {
		if *f.dst, err = numericDate(f.raw); err != nil {
			return fmt.Errorf("%w: %s", errMalformedJWT, f.n)
		}
	}
	return nil
}

func stringOrList(raw json.RawMessage) ([]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		return []string{one}, nil
	}
	var many []string
	if err := json.Unmarshal(raw, &many); err != nil {
		return nil, err
	}
	return many, nil
}

// numericDate parses a NumericDate (seconds since the epoch, integer or
// fraction).
func numericDate(raw json.RawMessage) (time.Time, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return time.Time{}, nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return time.Time{}, err
	}
	f, err := n.Float64()
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1e11 {
		return time.Time{}, errors.New("bad NumericDate")
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
}

// JWK is one public key of a JSON Web Key Set.
type JWK struct {
	Kid string
	Alg string // optional: the only algorithm the key may be used with
	Key crypto.PublicKey
}

type rawJWK struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	N   string `json:"n"`
	E   string `json:"e"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

// MinRSABits is the smallest RSA modulus accepted.
const MinRSABits = 2048

// ParseJWKS parses a JSON Web Key Set, keeping the RSA and EC signature
// keys it can use and skipping others (encryption keys, unknown types).
// A set with no usable key is an error.
func ParseJWKS(b []byte) ([]JWK, error) {
	var set struct {
		Keys []rawJWK `json:"keys"`
	}
	if err := json.Unmarshal(b, &set); err != nil {
		return nil, fmt.Errorf("not a JSON Web Key Set: %w", err)
	}
	var out []JWK
	for _, k := range set.Keys {
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		var pub crypto.PublicKey
		switch k.Kty {
		case "RSA":
			n, err1 := b64url(k.N)
			e, err2 := b64url(k.E)
			if err1 != nil || err2 != nil || len(e) == 0 || len(e) > 4 {
				continue
			}
			ev := 0
			for _, c := range e {
				ev = ev<<8 | int(c)
			}
			mod := new(big.Int).SetBytes(n)
			if mod.BitLen() < MinRSABits || ev < 3 || ev%2 == 0 {
				continue
			}
			pub = &rsa.PublicKey{N: mod, E: ev}
		case "EC":
			var curve elliptic.Curve
			switch k.Crv {
			case "P-256":
				curve = elliptic.P256()
			case "P-384":
				curve = elliptic.P384()
			case "P-521":
				curve = elliptic.P521()
			default:
				continue
			}
			size := (curve.Params().BitSize + 7) / 8
			x, err1 := b64url(k.X)
			y, err2 := b64url(k.Y)
			if err1 != nil || err2 != nil || len(x) > size || len(y) > size {
				continue
			}
			pt := make([]byte, 1+2*size)
			pt[0] = 4
			copy(pt[1+size-len(x):1+size], x)
			copy(pt[1+2*size-len(y):], y)
			p, err := ecdsa.ParseUncompressedPublicKey(curve, pt)
			if err != nil {
				continue
			}
			pub = p
		default:
			continue
		}
		out = append(out, JWK{Kid: k.Kid, Alg: k.Alg, Key: pub})
	}
	if len(out) == 0 {
		return nil, errors.New("the key set has no usable signature key")
	}
	return out, nil
}

// errBadSignature: no key of the set verifies the token.
var errBadSignature = errors.New("signature verification failed")

// errUnknownKey: the token names a kid the set does not have (the caller
// may refresh the set once).
var errUnknownKey = errors.New("no key with the token's kid")

func algHash(alg string) (crypto.Hash, bool) {
	switch alg[2:] {
	case "256":
		return crypto.SHA256, true
	case "384":
		return crypto.SHA384, true
	case "512":
		return crypto.SHA512, true
	}
	return 0, false
}

// Verify checks the token's signature with the keys of a set.
func (t *JWT) Verify(keys []JWK) error {
	alg := t.Header.Alg
	if len(alg) != 5 || (alg[:2] != "RS" && alg[:2] != "PS" && alg[:2] != "ES") {
		return fmt.Errorf("unsupported signature algorithm %q", alg)
	}
	if len(t.Header.Crit) > 0 {
		return errors.New("unsupported critical header parameters")
	}
	h, ok := algHash(alg)
	if !ok {
		return fmt.Errorf("unsupported signature algorithm %q", alg)
	}
	hasher := h.New()
	hasher.Write(t.signed)
	digest := hasher.Sum(nil)
	tried := false
	for _, k := range keys {
		if t.Header.Kid != "" && k.Kid != t.Header.Kid {
			continue
		}
		if k.Alg != "" && k.Alg != alg {
			continue
		}
		switch pub := k.Key.(type) {
		case *rsa.PublicKey:
			switch alg[:2] {
			case "RS":
				tried = true
				if rsa.VerifyPKCS1v15(pub, h, digest, t.sig) == nil {
					return nil
				}
			case "PS":
				tried = true
				if rsa.VerifyPSS(pub, h, digest, t.sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) == nil {
					return nil
				}
			}
		case *ecdsa.PublicKey:
			if alg[:2] != "ES" || pub.Curve.Params().BitSize != map[string]int{"256": 256, "384": 384, "512": 521}[alg[2:]] {
				continue
			}
			tried = true
			size := (pub.Curve.Params().BitSize + 7) / 8
			if len(t.sig) != 2*size {
				continue
			}
			r := new(big.Int).SetBytes(t.sig[:size])
			s := new(big.Int).SetBytes(t.sig[size:])
			if ecdsa.Verify(pub, digest, r, s) {
				return nil
			}
		}
	}
	if !tried && t.Header.Kid != "" {
		return errUnknownKey
	}
	return errBadSignature
}
