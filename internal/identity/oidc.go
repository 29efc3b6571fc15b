package identity

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// AWS's texts for web identity failures.
const (
	msgNoProvider      = "No OpenIDConnect provider found in your account for %s"
	msgNoVerifyKey     = "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements"
	msgAudience        = "Incorrect token audience"
	msgTokenExpired    = "Token expired: current date/time %d must be before the expiration date/time%d"
	msgBadSignature    = "The web identity token signature could not be verified."
	msgMalformedToken  = "The web identity token is not a valid signed JSON Web Token."
	msgTokenNotYet     = "The web identity token is not yet valid."
	msgTokenNoSubject  = "The web identity token has no sub claim."
	msgTokenNoExpiry   = "The web identity token has no exp claim."
	msgTokenNoIssuer   = "The web identity token has no iss claim."
	jwksTTL            = time.Hour
	jwksRefreshBackoff = 30 * time.Second
	clockLeeway        = 5 * time.Minute
)

// WebIdentityClaims is a verified web identity token.
type WebIdentityClaims struct {
	Provider *OIDCProvider
	// Issuer is the token's iss claim (AssumeRoleWithWebIdentity's Provider).
	Issuer   string
	Subject  string
	Audience string // the audience that matched one of the provider's client ids
	AMR      []string
	AZP      string
	Expires  time.Time
}

// ConditionKeys returns the trust-policy keys of the token: "<host/path>:sub",
// ":aud", ":amr" (multivalued), ":azp" and aws:FederatedProvider.
func (c *WebIdentityClaims) ConditionKeys(set func(key string, values ...string)) {
	p := c.Provider.Key()
	set(p+":sub", c.Subject)
	set(p+":aud", c.Audience)
	if c.AZP != "" {
		set(p+":azp", c.AZP)
	}
	if len(c.AMR) > 0 {
		set(p+":amr", c.AMR...)
	}
	set("aws:FederatedProvider", c.Provider.ARN)
}

// VerifyWebIdentity verifies a web identity token against the registered
// OpenID Connect provider of its issuer: signature (keys from the
// provider's static JWKS or from OIDC discovery), exp, nbf, aud (one of the
// provider's client ids) and sub. Errors are *Error with AWS's kinds:
// InvalidIdentityToken, ExpiredTokenException.
func (s *Service) VerifyWebIdentity(ctx context.Context, token string) (*WebIdentityClaims, error) {
	t, err := ParseJWT(token)
	if err != nil {
		return nil, &Error{Kind: ErrInvalidIdentity, Message: msgMalformedToken}
	}
	iss := t.Claims.Issuer
	if iss == "" {
		return nil, &Error{Kind: ErrInvalidIdentity, Message: msgTokenNoIssuer}
	}
	p, err := s.oidcByKey(ctx, ProviderKey(iss), "")
	if errors.Is(err, ErrNoSuchEntity) {
		return nil, errorf(ErrInvalidIdentity, msgNoProvider, iss)
	}
	if err != nil {
		return nil, err
	}
	if err := s.verifySignature(ctx, p, t); err != nil {
		return nil, err
	}
	now := s.now()
	if t.Claims.Expiry.IsZero() {
		return nil, &Error{Kind: ErrInvalidIdentity, Message: msgTokenNoExpiry}
	}
	if !now.Before(t.Claims.Expiry) {
		return nil, errorf(ErrExpiredIdentity, msgTokenExpired, now.Unix(), t.Claims.Expiry.Unix())
	}
	if !t.Claims.NotBefore.IsZero() && now.Add(clockLeeway).Before(t.Claims.NotBefore) {
		return nil, &Error{Kind: ErrInvalidIdentity, Message: msgTokenNotYet}
	}
	aud := ""
	for _, a := range t.Claims.Audience {
		if slices.Contains(p.ClientIDs, a) {
			aud = a
			break
		}
	}
	if aud == "" {
		return nil, &Error{Kind: ErrInvalidIdentity, Message: msgAudience}
	}
	if t.Claims.Subject == "" {
		return nil, &Error{Kind: ErrInvalidIdentity, Message: msgTokenNoSubject}
	}
	return &WebIdentityClaims{Provider: p, Issuer: iss, Subject: t.Claims.Subject, Audience: aud,
		AMR: t.Claims.AMR, AZP: t.Claims.AZP, Expires: t.Claims.Expiry}, nil
}

func (s *Service) verifySignature(ctx context.Context, p *OIDCProvider, t *JWT) error {
	keys, err := s.keysOf(ctx, p, false)
	if err != nil {
		return &Error{Kind: ErrInvalidIdentity, Message: msgNoVerifyKey}
	}
	err = t.Verify(keys)
	if errors.Is(err, errUnknownKey) && p.JWKS == "" {
		// The provider may have rotated its keys: refresh once.
		if keys, err = s.keysOf(ctx, p, true); err != nil {
			return &Error{Kind: ErrInvalidIdentity, Message: msgNoVerifyKey}
		}
		err = t.Verify(keys)
	}
	if err != nil {
		return &Error{Kind: ErrInvalidIdentity, Message: msgBadSignature}
	}
	return nil
}

// jwksCache holds each provider's keys: parsed once for a static set,
// fetched through discovery (and refreshed after jwksTTL, or on an
// unknown kid at most every jwksRefreshBackoff) otherwise.
type jwksCache struct {
	mu sync.Mutex
	m  map[string]*jwksEntry
}

type jwksEntry struct {
	source  string // the static JWKS text, or "discovery:"+URL
	keys    []JWK
	fetched time.Time
}

func (s *Service) keysOf(ctx context.Context, p *OIDCProvider, refresh bool) ([]JWK, error) {
	source := p.JWKS
	switch {
	case source != "":
	case p.JWKSURI != "":
		source = "uri:" + p.JWKSURI
	default:
		source = "discovery:" + p.URL
	}
	now := s.now()
	c := &s.jwks
	c.mu.Lock()
	e := c.m[p.ARN]
	c.mu.Unlock()
	if e != nil && e.source == source {
		fresh := p.JWKS != "" || now.Sub(e.fetched) < jwksTTL
		if fresh && (!refresh || now.Sub(e.fetched) < jwksRefreshBackoff) {
			return e.keys, nil
		}
	}
	var keys []JWK
	var err error
	switch {
	case p.JWKS != "":
		keys, err = ParseJWKS([]byte(p.JWKS))
	case p.JWKSURI != "":
		keys, err = s.fetchJWKS(ctx, p.JWKSURI)
	default:
		keys, err = s.discover(ctx, p.URL)
	}
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]*jwksEntry{}
	}
	c.m[p.ARN] = &jwksEntry{source: source, keys: keys, fetched: now}
	c.mu.Unlock()
	return keys, nil
}

// discover fetches the issuer's OpenID configuration and its JWKS.
func (s *Service) discover(ctx context.Context, issuer string) ([]JWK, error) {
	if s.fetch == nil {
		return nil, errors.New("OIDC discovery is not available")
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	b, err := s.fetch(ctx, strings.TrimSuffix(issuer, "/")+"/.well-known/openid-configuration")
	if err != nil {
		return nil, err
	}
	var conf struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.Unmarshal(b, &conf); err != nil {
		return nil, fmt.Errorf("discovery document: %w", err)
	}
	if strings.TrimSuffix(conf.Issuer, "/") != strings.TrimSuffix(issuer, "/") {
		return nil, fmt.Errorf("discovery document names issuer %q, not %q", conf.Issuer, issuer)
	}
	if conf.JWKSURI == "" {
		return nil, errors.New("discovery document has no jwks_uri")
	}
	return s.fetchJWKS(ctx, conf.JWKSURI)
}

func (s *Service) fetchJWKS(ctx context.Context, uri string) ([]JWK, error) {
	if s.fetch == nil {
		return nil, errors.New("fetching key sets is not available")
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	b, err := s.fetch(ctx, uri)
	if err != nil {
		return nil, err
	}
	return ParseJWKS(b)
}
