package identity_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coffer-dev/coffer/internal/iam"
	"github.com/coffer-dev/coffer/internal/identity"
	"github.com/coffer-dev/coffer/internal/keyring"
	"github.com/coffer-dev/coffer/internal/sqlite"
)

const acct = "111122223333"

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type fakeWeb struct {
	mu    sync.Mutex
	docs  map[string]string
	calls map[string]int
}

func (f *fakeWeb) fetch(ctx context.Context, url string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[url]++
	d, ok := f.docs[url]
	if !ok {
		return nil, errors.New("404")
	}
	return []byte(d), nil
}

func (f *fakeWeb) set(url, doc string) { f.mu.Lock(); f.docs[url] = doc; f.mu.Unlock() }

type env struct {
	svc   *identity.Service
	db    *sqlite.DB
	clock *clock
	web   *fakeWeb
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "coffer.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	raw := make([]byte, 32)
	rand.Read(raw)
	root, err := keyring.NewRoot(raw)
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Now()}
	w := &fakeWeb{docs: map[string]string{}, calls: map[string]int{}}
	svc := identity.New(identity.Config{Store: db, Root: root, Account: acct, Region: "us-east-1", Now: c.now, Fetch: w.fetch})
	return &env{svc: svc, db: db, clock: c, web: w}
}

func kindOf(err error) error {
	var e *identity.Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return err
}

func TestWebIdentityVerification(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const iss = "https://oidc.example.test/id/C1"
	e.web.set(iss+"/.well-known/openid-configuration", `{"issuer":"`+iss+`","jwks_uri":"https://keys.example.test/jwks"}`)
	e.web.set("https://keys.example.test/jwks", string(jwks(rsaJWK(&rsaKey.PublicKey, "k1", ""))))
	if _, err := e.svc.CreateOIDCProvider(ctx, identity.OIDCProviderInput{URL: iss, ClientIDs: []string{"sts.amazonaws.com"}}); err != nil {
		t.Fatal(err)
	}
	now := e.clock.now()
	tok := func(kid string, key *rsa.PrivateKey, mut func(c map[string]any)) string {
		c := map[string]any{"iss": iss, "sub": "system:serviceaccount:payments:api", "aud": "sts.amazonaws.com", "exp": now.Add(time.Hour).Unix(), "amr": []string{"a", "b"}}
		if mut != nil {
			mut(c)
		}
		return sign(map[string]any{"alg": "RS256", "kid": kid}, c, rsaSigner(key, crypto.SHA256, false))
	}
	claims, err := e.svc.VerifyWebIdentity(ctx, tok("k1", rsaKey, nil))
	if err != nil {
		t.Fatalf("valid token: %v", err)
	}
	if claims.Subject != "system:serviceaccount:payments:api" || claims.Audience != "sts.amazonaws.com" || claims.Issuer != iss || claims.Provider.ARN != "arn:aws:iam::"+acct+":oidc-provider/oidc.example.test/id/C1" {
		t.Errorf("claims = %+v", claims)
	}
	keys := map[string][]string{}
	claims.ConditionKeys(func(k string, v ...string) { keys[k] = v })
	if keys["oidc.example.test/id/C1:sub"][0] != "system:serviceaccount:payments:api" || len(keys["oidc.example.test/id/C1:amr"]) != 2 || keys["aws:FederatedProvider"][0] != claims.Provider.ARN {
		t.Errorf("condition keys = %v", keys)
	}
	// The key set is fetched once and cached.
	e.svc.VerifyWebIdentity(ctx, tok("k1", rsaKey, nil))
	if n := e.web.calls["https://keys.example.test/jwks"]; n != 1 {
		t.Errorf("JWKS fetched %d times", n)
	}

	rejects := []struct {
		name string
		tok  string
		kind error
		msg  string
	}{
		{"expired", tok("k1", rsaKey, func(c map[string]any) { c["exp"] = now.Add(-time.Second).Unix() }), identity.ErrExpiredIdentity, "Token expired: current date/time "},
		{"no exp", tok("k1", rsaKey, func(c map[string]any) { delete(c, "exp") }), identity.ErrInvalidIdentity, ""},
		{"not yet valid", tok("k1", rsaKey, func(c map[string]any) { c["nbf"] = now.Add(time.Hour).Unix() }), identity.ErrInvalidIdentity, ""},
		{"wrong audience", tok("k1", rsaKey, func(c map[string]any) { c["aud"] = []string{"x", "y"} }), identity.ErrInvalidIdentity, "Incorrect token audience"},
		{"no subject", tok("k1", rsaKey, func(c map[string]any) { delete(c, "sub") }), identity.ErrInvalidIdentity, ""},
		{"unknown issuer", tok("k1", rsaKey, func(c map[string]any) { c["iss"] = "https://other.test" }), identity.ErrInvalidIdentity, "No OpenIDConnect provider found in your account for https://other.test"},
		{"wrong key", tok("k1", rsaOther, nil), identity.ErrInvalidIdentity, "The web identity token signature could not be verified."},
		{"garbage", "x.y.z", identity.ErrInvalidIdentity, ""},
	}
	for _, r := range rejects {
		_, err := e.svc.VerifyWebIdentity(ctx, r.tok)
		if kindOf(err) != r.kind || !strings.HasPrefix(err.Error(), r.msg) {
			t.Errorf("%s: %v (kind %v), want %v %q", r.name, err, kindOf(err), r.kind, r.msg)
		}
	}

	// Key rotation: a token with an unknown kid refreshes the set once.
	e.web.set("https://keys.example.test/jwks", string(jwks(rsaJWK(&rsaKey.PublicKey, "k1", ""), rsaJWK(&rsaOther.PublicKey, "k2", ""))))
	e.clock.add(time.Minute) // past the refresh back-off
	if _, err := e.svc.VerifyWebIdentity(ctx, tok("k2", rsaOther, func(c map[string]any) { c["exp"] = now.Add(2 * time.Hour).Unix() })); err != nil {
		t.Errorf("rotated key: %v", err)
	}
	// An unreachable issuer: AWS's "Couldn't retrieve verification key".
	const iss2 = "https://down.example.test"
	if _, err := e.svc.CreateOIDCProvider(ctx, identity.OIDCProviderInput{URL: iss2, ClientIDs: []string{"sts.amazonaws.com"}}); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.VerifyWebIdentity(ctx, tok("k1", rsaKey, func(c map[string]any) { c["iss"] = iss2 }))
	if kindOf(err) != identity.ErrInvalidIdentity || !strings.HasPrefix(err.Error(), "Couldn't retrieve verification key") {
		t.Errorf("unreachable issuer: %v", err)
	}
	// A discovery document naming another issuer is refused.
	const iss3 = "https://liar.example.test"
	e.web.set(iss3+"/.well-known/openid-configuration", `{"issuer":"https://someone-else","jwks_uri":"https://keys.example.test/jwks"}`)
	e.svc.CreateOIDCProvider(ctx, identity.OIDCProviderInput{URL: iss3, ClientIDs: []string{"sts.amazonaws.com"}})
	if _, err := e.svc.VerifyWebIdentity(ctx, tok("k1", rsaKey, func(c map[string]any) { c["iss"] = iss3 })); kindOf(err) != identity.ErrInvalidIdentity {
		t.Errorf("issuer mismatch in discovery: %v", err)
	}
	// A static key set (bootstrap) needs no network.
	const iss4 = "https://static.example.test"
	if _, err := e.svc.CreateOIDCProvider(ctx, identity.OIDCProviderInput{URL: iss4, ClientIDs: []string{"sts.amazonaws.com"}, JWKS: string(jwks(rsaJWK(&rsaKey.PublicKey, "k1", "")))}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.VerifyWebIdentity(ctx, tok("k1", rsaKey, func(c map[string]any) { c["iss"] = iss4 })); err != nil {
		t.Errorf("static JWKS: %v", err)
	}
	if e.web.calls[iss4+"/.well-known/openid-configuration"] != 0 {
		t.Errorf("static provider used discovery")
	}
}

func TestSessionCredentials(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	role, err := e.svc.CreateEntity(ctx, identity.CreateEntityInput{Kind: identity.KindRole, Name: "r", MaxSessionDuration: 7200,
		TrustPolicy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + acct + `"},"Action":"sts:AssumeRole"}]}`})
	if err != nil {
		t.Fatal(err)
	}
	cr, err := e.svc.CreateSession(ctx, identity.SessionInput{Role: role, Name: "sess", DurationSeconds: 900, Tags: []identity.Tag{{Key: "team", Value: "blue"}}})
	if err != nil {
		t.Fatal(err)
	}
	date := e.clock.now().UTC().Format("20060102")
	key, caller, err := e.svc.SigningKeyWithToken(ctx, cr.AccessKeyID, cr.SessionToken, date, "us-east-1", "secretsmanager")
	if err != nil || len(key) != 32 || caller.Type != identity.TypeAssumedRole || caller.ARN != "arn:aws:sts::"+acct+":assumed-role/r/sess" || caller.UserID != role.ID+":sess" {
		t.Fatalf("SigningKey = %v %+v", err, caller)
	}
	for name, tok := range map[string]string{"none": "", "wrong": strings.Repeat("A", len(cr.SessionToken)), "prefix": cr.SessionToken[:20]} {
		if _, _, err := e.svc.SigningKeyWithToken(ctx, cr.AccessKeyID, tok, date, "us-east-1", "secretsmanager"); !errors.Is(err, identity.ErrUnrecognized) {
			t.Errorf("token %s: %v", name, err)
		}
	}
	// The stored record holds neither the token nor the secret in clear.
	rec, err := e.db.AccessKey(ctx, cr.AccessKeyID)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(rec)
	if strings.Contains(string(b), cr.SessionToken) || strings.Contains(string(b), cr.SecretAccessKey) {
		t.Error("session token or secret stored in clear")
	}
	// The view: role policies, session tags as principal tags, token issue time.
	v, err := e.svc.View(ctx, caller)
	if err != nil || v.Principal.Tags["team"] != "blue" || v.TokenIssueTime == "" || v.Principal.RoleARN != role.ARN {
		t.Errorf("view = %+v %v", v, err)
	}
	// Expiry.
	e.clock.add(899 * time.Second)
	if _, _, err := e.svc.SigningKeyWithToken(ctx, cr.AccessKeyID, cr.SessionToken, date, "us-east-1", "secretsmanager"); err != nil {
		t.Errorf("before expiry: %v", err)
	}
	e.clock.add(time.Second)
	if _, _, err := e.svc.SigningKeyWithToken(ctx, cr.AccessKeyID, cr.SessionToken, date, "us-east-1", "secretsmanager"); !errors.Is(err, identity.ErrExpired) {
		t.Errorf("at expiry: %v", err)
	}
	// Wrong token after expiry is still "invalid", not "expired".
	if _, _, err := e.svc.SigningKeyWithToken(ctx, cr.AccessKeyID, "x", date, "us-east-1", "secretsmanager"); !errors.Is(err, identity.ErrUnrecognized) {
		t.Errorf("wrong token after expiry: %v", err)
	}
	// Purge after the grace period.
	e.clock.add(2 * time.Hour)
	if n, err := e.svc.PurgeExpiredSessions(ctx, time.Hour); err != nil || n != 1 {
		t.Errorf("purge = %d %v", n, err)
	}
	// A long-term key with a session token is refused.
	if _, err := e.svc.CreateEntity(ctx, identity.CreateEntityInput{Kind: identity.KindUser, Name: "u"}); err != nil {
		t.Fatal(err)
	}
	k, _, err := e.svc.CreateAccessKey(ctx, "u")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.SigningKeyWithToken(ctx, k.ID, "token", date, "us-east-1", "sts"); !errors.Is(err, identity.ErrUnrecognized) {
		t.Errorf("long-term key with token: %v", err)
	}

	// Duration rules.
	for _, c := range []struct {
		in   identity.SessionInput
		kind error
	}{
		{identity.SessionInput{Role: role, Name: "xx", DurationSeconds: 7201}, identity.ErrValidation},
		{identity.SessionInput{Role: role, Name: "xx", DurationSeconds: 899}, identity.ErrValidation},
		{identity.SessionInput{Role: role, Name: "xx", DurationSeconds: 3601, Parent: &identity.Session{}}, identity.ErrValidation},
		{identity.SessionInput{Role: role, Name: "x y"}, identity.ErrValidation},
		{identity.SessionInput{Role: role, Name: "xx", Policy: `{"Statement":[]`}, identity.ErrMalformedPolicy},
		{identity.SessionInput{Role: role, Name: "xx", Policy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::` + strings.Repeat("a", 3000) + `"}]}`}, identity.ErrPackedPolicyTooLarge},
		{identity.SessionInput{Role: role, Name: "xx", PolicyARNs: []string{"arn:aws:iam::" + acct + ":policy/none"}}, identity.ErrMalformedPolicy},
		{identity.SessionInput{Role: role, Name: "xx", TransitiveKeys: []string{"k"}}, identity.ErrInvalidInput},
	} {
		if _, err := e.svc.CreateSession(ctx, c.in); kindOf(err) != c.kind {
			t.Errorf("%q %d %.40q: %v, want %v", c.in.Name, c.in.DurationSeconds, c.in.Policy, err, c.kind)
		}
	}
}

func TestViewCacheFollowsChanges(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.svc.CreateEntity(ctx, identity.CreateEntityInput{Kind: identity.KindUser, Name: "u", Tags: []identity.Tag{{Key: "team", Value: "a"}}}); err != nil {
		t.Fatal(err)
	}
	k, _, err := e.svc.CreateAccessKey(ctx, "u")
	if err != nil {
		t.Fatal(err)
	}
	_, caller, err := e.svc.SigningKey(ctx, k.ID, "20260101", "us-east-1", "iam")
	if err != nil {
		t.Fatal(err)
	}
	decide := func(action string) bool {
		v, err := e.svc.View(ctx, caller)
		if err != nil {
			t.Fatal(err)
		}
		set := v.Set()
		d := iam.Evaluate(&iam.Request{Principal: &v.Principal, Action: action, Resource: "*"}, &set)
		return d.Allowed
	}
	v1, _ := e.svc.View(ctx, caller)
	v2, _ := e.svc.View(ctx, caller)
	if v1 != v2 {
		t.Error("unchanged view was rebuilt")
	}
	if decide("secretsmanager:ListSecrets") {
		t.Fatal("allowed without policy")
	}
	p, err := e.svc.CreatePolicy(ctx, identity.CreatePolicyInput{Name: "list", Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:ListSecrets","Resource":"*"}]}`})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.AttachPolicy(ctx, identity.KindUser, "u", p.ARN); err != nil {
		t.Fatal(err)
	}
	if !decide("secretsmanager:ListSecrets") {
		t.Error("attachment not seen")
	}
	if _, err := e.svc.CreatePolicyVersion(ctx, p.ARN, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:ListKeys","Resource":"*"}]}`, true); err != nil {
		t.Fatal(err)
	}
	if decide("secretsmanager:ListSecrets") || !decide("kms:ListKeys") {
		t.Error("new default version not seen")
	}
	if err := e.svc.PutInlinePolicy(ctx, identity.KindUser, "u", "deny", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`); err != nil {
		t.Fatal(err)
	}
	if decide("kms:ListKeys") {
		t.Error("inline deny not seen")
	}
	if err := e.svc.DeleteInlinePolicy(ctx, identity.KindUser, "u", "deny"); err != nil {
		t.Fatal(err)
	}
	if !decide("kms:ListKeys") {
		t.Error("inline delete not seen")
	}
	if err := e.svc.TagEntity(ctx, identity.KindUser, "u", []identity.Tag{{Key: "team", Value: "b"}}); err != nil {
		t.Fatal(err)
	}
	if v, _ := e.svc.View(ctx, caller); v.Principal.Tags["team"] != "b" {
		t.Errorf("tags = %v", v.Principal.Tags)
	}
}

func TestIAMEntityRules(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	mk := func(in identity.CreateEntityInput) error { _, err := e.svc.CreateEntity(ctx, in); return err }
	if err := mk(identity.CreateEntityInput{Kind: identity.KindUser, Name: "Bob", Path: "/ops/"}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		in   identity.CreateEntityInput
		kind error
	}{
		{identity.CreateEntityInput{Kind: identity.KindUser, Name: "bob"}, identity.ErrEntityExists},
		{identity.CreateEntityInput{Kind: identity.KindUser, Name: "a b"}, identity.ErrValidation},
		{identity.CreateEntityInput{Kind: identity.KindUser, Name: strings.Repeat("a", 65)}, identity.ErrValidation},
		{identity.CreateEntityInput{Kind: identity.KindUser, Name: "p", Path: "ops"}, identity.ErrValidation},
		{identity.CreateEntityInput{Kind: identity.KindUser, Name: "t", Tags: []identity.Tag{{Key: "aws:x", Value: "v"}}}, identity.ErrInvalidInput},
		{identity.CreateEntityInput{Kind: identity.KindUser, Name: "t", Tags: []identity.Tag{{Key: "a", Value: "1"}, {Key: "A", Value: "2"}}}, identity.ErrInvalidInput},
		{identity.CreateEntityInput{Kind: identity.KindUser, Name: "b", Boundary: "arn:aws:iam::" + acct + ":policy/none"}, identity.ErrNoSuchEntity},
		{identity.CreateEntityInput{Kind: identity.KindRole, Name: "r", TrustPolicy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}`}, identity.ErrMalformedPolicy},
		{identity.CreateEntityInput{Kind: identity.KindRole, Name: "r", TrustPolicy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:user/ghost"},"Action":"sts:AssumeRole"}]}`}, identity.ErrMalformedPolicy},
		{identity.CreateEntityInput{Kind: identity.KindRole, Name: "r", MaxSessionDuration: 100, TrustPolicy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + acct + `"},"Action":"sts:AssumeRole"}]}`}, identity.ErrValidation},
	} {
		if err := mk(c.in); kindOf(err) != c.kind {
			t.Errorf("%+v: %v, want %v", c.in, err, c.kind)
		}
	}
	u, err := e.svc.Entity(ctx, identity.KindUser, "BOB")
	if err != nil || u.ARN != "arn:aws:iam::"+acct+":user/ops/Bob" {
		t.Errorf("case-insensitive lookup: %+v %v", u, err)
	}
	// Trust policy naming an existing user is accepted.
	if err := mk(identity.CreateEntityInput{Kind: identity.KindRole, Name: "r", TrustPolicy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:user/ops/Bob"},"Action":"sts:AssumeRole"}]}`}); err != nil {
		t.Errorf("trust naming Bob: %v", err)
	}
	// Managed policy versions.
	p, err := e.svc.CreatePolicy(ctx, identity.CreatePolicyInput{Name: "p", Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`})
	if err != nil {
		t.Fatal(err)
	}
	for i := 2; i <= 5; i++ {
		if _, err := e.svc.CreatePolicyVersion(ctx, p.ARN, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`, false); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.svc.CreatePolicyVersion(ctx, p.ARN, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`, false); kindOf(err) != identity.ErrLimitExceeded {
		t.Errorf("sixth version: %v", err)
	}
	if err := e.svc.DeletePolicyVersion(ctx, p.ARN, "v1"); kindOf(err) != identity.ErrDeleteConflict {
		t.Errorf("delete default version: %v", err)
	}
	if err := e.svc.DeletePolicy(ctx, p.ARN); kindOf(err) != identity.ErrDeleteConflict {
		t.Errorf("delete with versions: %v", err)
	}
	for _, v := range []string{"v2", "v3", "v4", "v5"} {
		if err := e.svc.DeletePolicyVersion(ctx, p.ARN, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.svc.AttachPolicy(ctx, identity.KindUser, "bob", p.ARN); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.DeletePolicy(ctx, p.ARN); kindOf(err) != identity.ErrDeleteConflict {
		t.Errorf("delete attached: %v", err)
	}
	if err := e.svc.DeleteEntity(ctx, identity.KindUser, "bob"); kindOf(err) != identity.ErrDeleteConflict {
		t.Errorf("delete user with attachment: %v", err)
	}
	if err := e.svc.DetachPolicy(ctx, identity.KindUser, "bob", p.ARN); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.DeletePolicy(ctx, p.ARN); err != nil {
		t.Errorf("delete detached: %v", err)
	}
	if err := e.svc.DeleteEntity(ctx, identity.KindUser, "bob"); err != nil {
		t.Errorf("delete user: %v", err)
	}
	// OIDC providers.
	for _, c := range []struct {
		in   identity.OIDCProviderInput
		kind error
	}{
		{identity.OIDCProviderInput{URL: "http://example.com"}, identity.ErrInvalidInput},
		{identity.OIDCProviderInput{URL: "https://"}, identity.ErrInvalidInput},
		{identity.OIDCProviderInput{URL: "https://a.test", Thumbprints: []string{"short"}}, identity.ErrValidation},
		{identity.OIDCProviderInput{URL: "https://a.test", JWKS: "{}"}, identity.ErrInvalidInput},
	} {
		if _, err := e.svc.CreateOIDCProvider(ctx, c.in); kindOf(err) != c.kind {
			t.Errorf("%+v: %v, want %v", c.in, err, c.kind)
		}
	}
	if _, err := e.svc.CreateOIDCProvider(ctx, identity.OIDCProviderInput{URL: "https://a.test/x/"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CreateOIDCProvider(ctx, identity.OIDCProviderInput{URL: "https://a.test/x"}); kindOf(err) != identity.ErrEntityExists {
		t.Errorf("duplicate provider: %v", err)
	}
	if _, err := e.svc.OIDCProvider(ctx, "arn:aws:iam::"+acct+":oidc-provider/a.test/x"); err != nil {
		t.Errorf("get provider: %v", err)
	}
}

func TestBootstrapParse(t *testing.T) {
	b, err := identity.ParseBootstrap([]byte(`
policies:
  - name: p
    document:
      Version: 2012-10-17
      Statement:
        - Effect: Allow
          Action: [secretsmanager:GetSecretValue]
          Resource: "arn:aws:secretsmanager:{{region}}:{{account}}:secret:x-*"
          Condition: {NumericLessThan: {"secretsmanager:RecoveryWindowInDays": 10}, Bool: {"aws:SecureTransport": true}}
users:
  - name: u
    tags: {a: b}
roles:
  - name: r
    tags: [{key: k, value: v}]
    assumeRolePolicy: '{"Version":"2012-10-17"}'
`), acct, "eu-west-1")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b.Policies[0].Document)
	want := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["secretsmanager:GetSecretValue"],"Resource":"arn:aws:secretsmanager:eu-west-1:` + acct + `:secret:x-*","Condition":{"NumericLessThan":{"secretsmanager:RecoveryWindowInDays":10},"Bool":{"aws:SecureTransport":true}}}]}`
	if doc != want {
		t.Errorf("document\n got %s\nwant %s", doc, want)
	}
	if _, err := iam.Parse(doc, iam.KindIdentity); err != nil {
		t.Errorf("converted document does not parse: %v", err)
	}
	if b.Users[0].Tags[0] != (identity.Tag{Key: "a", Value: "b"}) || b.Roles[0].Tags[0] != (identity.Tag{Key: "k", Value: "v"}) {
		t.Errorf("tags: %+v %+v", b.Users[0].Tags, b.Roles[0].Tags)
	}
	if b.Roles[0].AssumeRolePolicy != `{"Version":"2012-10-17"}` {
		t.Errorf("string document: %q", b.Roles[0].AssumeRolePolicy)
	}
	if _, err := identity.ParseBootstrap([]byte("users:\n  - nme: x\n"), acct, "r"); err == nil {
		t.Error("unknown field accepted")
	}
	if b, err := identity.ParseBootstrap(nil, acct, "r"); err != nil || len(b.Users) != 0 {
		t.Errorf("empty file: %v", err)
	}
	// JSON works too.
	if b, err := identity.ParseBootstrap([]byte(`{"users":[{"name":"j","managedPolicies":["p"]}]}`), acct, "r"); err != nil || b.Users[0].Name != "j" {
		t.Errorf("JSON file: %+v %v", b, err)
	}
}

func TestBootstrapApplyIdempotent(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	file := `
policies:
  - name: read
    document: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"*"}]}'
users:
  - name: ci
    managedPolicies: [read]
    inlinePolicies:
      extra: {Version: "2012-10-17", Statement: [{Effect: Deny, Action: "*", Resource: "*"}]}
    permissionsBoundary: read
`
	for i := 0; i < 3; i++ {
		b, err := identity.ParseBootstrap([]byte(file), acct, "us-east-1")
		if err != nil {
			t.Fatal(err)
		}
		if err := e.db.Atomic(ctx, func(ctx context.Context) error { return e.svc.ApplyBootstrap(ctx, b, t.TempDir()) }); err != nil {
			t.Fatalf("apply %d: %v", i, err)
		}
	}
	u, err := e.svc.Entity(ctx, identity.KindUser, "ci")
	if err != nil || len(u.Attached) != 1 || len(u.Inline) != 1 || u.Boundary != "arn:aws:iam::"+acct+":policy/read" {
		t.Errorf("user = %+v %v", u, err)
	}
	p, _ := e.svc.Policy(ctx, "arn:aws:iam::"+acct+":policy/read")
	if len(p.Versions) != 1 {
		t.Errorf("versions after 3 applies: %d", len(p.Versions))
	}
	// A failing file applies nothing.
	b, _ := identity.ParseBootstrap([]byte("users:\n  - name: x\n    managedPolicies: [missing]\n"), acct, "us-east-1")
	if err := e.db.Atomic(ctx, func(ctx context.Context) error { return e.svc.ApplyBootstrap(ctx, b, "") }); err == nil {
		t.Error("missing policy accepted")
	}
	if _, err := e.svc.Entity(ctx, identity.KindUser, "x"); kindOf(err) != identity.ErrNoSuchEntity {
		t.Errorf("failed bootstrap left user x: %v", err)
	}
}
