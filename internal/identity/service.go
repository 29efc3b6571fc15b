package identity

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/coffer-dev/coffer/internal/envelope"
	"github.com/coffer-dev/coffer/internal/keyring"
	"github.com/coffer-dev/coffer/internal/sigv4"
)

const secretKeyPurpose = "iam-secret-access-key"

// SecretKeyPurpose is the keyring purpose secret access keys are wrapped
// under (root-key rotation re-wraps them).
const SecretKeyPurpose = secretKeyPurpose

// Caller is an authenticated principal, as policy evaluation and the audit
// trail see it.
type Caller struct {
	Type        string // TypeRoot, TypeUser, TypeAssumedRole
	ARN         string
	Account     string
	UserID      string // aws:userid
	UserName    string // aws:username (IAM users only)
	AccessKeyID string
	// Session is set for role sessions (shared, read-only).
	Session *Session
}

// IsRoot reports whether the caller is the account root.
func (c *Caller) IsRoot() bool { return c.Type == TypeRoot }

// Service resolves access keys to signing keys and callers, manages IAM
// entities and STS sessions, and compiles the policies of callers.
type Service struct {
	store   Store
	root    *keyring.Root
	account string
	region  string
	now     func() time.Time
	fetch   Fetcher
	// tokenKey keys the session-token hash.
	tokenKey []byte

	mu    sync.Mutex
	cache map[sigKeyID]*sigKeyEntry

	views    viewCache
	policies policyCache
	jwks     jwksCache
	rootOnce sync.Once
	rootV    *View
}

// Fetcher fetches a URL (OIDC discovery documents and JWKS) and returns the
// body of a 200 response. The identity package does no network I/O itself.
type Fetcher func(ctx context.Context, url string) ([]byte, error)

// Config configures a Service.
type Config struct {
	Store   Store
	Root    *keyring.Root
	Account string
	Region  string
	Now     func() time.Time
	// Fetch serves OIDC discovery; nil means providers need a static JWKS.
	Fetch Fetcher
}

// New returns a Service.
func New(c Config) *Service {
	now := c.Now
	if now == nil {
		now = time.Now
	}
	s := &Service{store: c.Store, root: c.Root, account: c.Account, region: c.Region, now: now, fetch: c.Fetch, cache: map[sigKeyID]*sigKeyEntry{}}
	if c.Root != nil {
		s.tokenKey = c.Root.Derive("sts-session-token")
	}
	return s
}

// Account is the account id of every principal.
func (s *Service) Account() string { return s.account }

// Now is the service's clock.
func (s *Service) Now() time.Time { return s.now() }

// RootARN is the ARN of the account root.
func (s *Service) RootARN() string { return "arn:aws:iam::" + s.account + ":root" }

type sigKeyID struct{ akid, date, region, service string }

type sigKeyEntry struct {
	record *AccessKey // the record the key was derived from; a new record invalidates
	key    []byte
	caller *Caller
}

const maxCachedSigningKeys = 10000

// SigningKey is SigningKeyWithToken for a request without a session token.
func (s *Service) SigningKey(ctx context.Context, akid, date, region, service string) ([]byte, *Caller, error) {
	return s.SigningKeyWithToken(ctx, akid, "", date, region, service)
}

// SigningKeyWithToken returns the SigV4 signing key of access key akid for
// a credential scope, and the caller it authenticates. token is the
// request's X-Amz-Security-Token ("" if none). Unknown or inactive keys, a token
// with a long-term key, and a missing or wrong token with session
// credentials give ErrUnrecognized; session credentials past their expiry
// give ErrExpired (checked after the token).
func (s *Service) SigningKeyWithToken(ctx context.Context, akid, token, date, region, service string) ([]byte, *Caller, error) {
	rec, err := s.store.AccessKey(ctx, akid)
	if errors.Is(err, ErrNoSuchAccessKey) {
		return nil, nil, ErrUnrecognized
	}
	if err != nil {
		return nil, nil, err
	}
	if rec.Status != "Active" {
		return nil, nil, ErrUnrecognized
	}
	if sess := rec.Session; sess != nil {
		if token == "" || !s.tokenMatches(sess, akid, token) {
			return nil, nil, ErrUnrecognized
		}
		if !s.now().Before(sess.Expires) {
			return nil, nil, ErrExpired
		}
	} else if token != "" {
		return nil, nil, ErrUnrecognized
	}
	id := sigKeyID{akid, date, region, service}
	s.mu.Lock()
	e := s.cache[id]
	s.mu.Unlock()
	if e != nil && e.record == rec {
		return e.key, e.caller, nil
	}
	secret, err := s.root.Unwrap(secretKeyPurpose, rec.ID, rec.SecretWrapped)
	if err != nil {
		return nil, nil, err
	}
	key := sigv4.SigningKey(string(secret), date, region, service)
	envelope.Zero(secret)
	caller, err := s.callerOf(ctx, rec)
	if err != nil {
		return nil, nil, err
	}
	e = &sigKeyEntry{record: rec, key: key, caller: caller}
	s.mu.Lock()
	if len(s.cache) >= maxCachedSigningKeys {
		clear(s.cache)
	}
	s.cache[id] = e
	s.mu.Unlock()
	return e.key, e.caller, nil
}

// tokenHash is the keyed hash stored for a session token.
func (s *Service) tokenHash(akid, token string) []byte {
	m := hmac.New(sha256.New, s.tokenKey)
	m.Write([]byte(akid))
	m.Write([]byte{0})
	m.Write([]byte(token))
	return m.Sum(nil)
}

func (s *Service) tokenMatches(sess *Session, akid, token string) bool {
	return hmac.Equal(s.tokenHash(akid, token), sess.TokenHash)
}

func (s *Service) callerOf(ctx context.Context, rec *AccessKey) (*Caller, error) {
	switch {
	case rec.Session != nil:
		ss := rec.Session
		return &Caller{Type: TypeAssumedRole, ARN: rec.PrincipalARN, Account: s.account, UserID: ss.RoleID + ":" + ss.Name, AccessKeyID: rec.ID, Session: ss}, nil
	case rec.UserName == "":
		return &Caller{Type: TypeRoot, ARN: s.RootARN(), Account: s.account, UserID: s.account, AccessKeyID: rec.ID}, nil
	}
	c := &Caller{Type: TypeUser, ARN: rec.PrincipalARN, Account: s.account, UserName: rec.UserName, AccessKeyID: rec.ID}
	if u, err := s.entity(ctx, KindUser, rec.UserName); err == nil {
		c.UserID, c.ARN, c.UserName = u.ID, u.ARN, u.Name
	} else if !errors.Is(err, ErrNoSuchEntity) {
		return nil, err
	}
	return c, nil
}

// Credentials is a plaintext access key pair, returned only at creation.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
}

// EnsureRoot makes sure the account root has an access key. With given
// credentials (from the environment) it stores exactly those; otherwise it
// creates a key if the root has none. It returns the credentials it created
// (nil when nothing was created), so the caller can hand them to the user.
//
// Run it inside one unit of work: it takes the IAM lock first, so nodes
// starting together on an empty shared database create one root key
// between them, not one each.
func (s *Service) EnsureRoot(ctx context.Context, given *Credentials) (*Credentials, error) {
	if err := s.lockIAM(ctx); err != nil {
		return nil, err
	}
	if given != nil {
		if given.AccessKeyID == "" || given.SecretAccessKey == "" {
			return nil, errors.New("both COFFER_ROOT_ACCESS_KEY_ID and COFFER_ROOT_SECRET_ACCESS_KEY must be set")
		}
		existing, err := s.store.AccessKey(ctx, given.AccessKeyID)
		if err == nil && existing.UserName == "" {
			secret, err := s.root.Unwrap(secretKeyPurpose, existing.ID, existing.SecretWrapped)
			if err == nil && subtle.ConstantTimeCompare(secret, []byte(given.SecretAccessKey)) == 1 && existing.Status == "Active" {
				envelope.Zero(secret)
				return nil, nil
			}
			envelope.Zero(secret)
		} else if err == nil {
			return nil, fmt.Errorf("access key %s belongs to IAM user %s, not to the account root", given.AccessKeyID, existing.UserName)
		} else if !errors.Is(err, ErrNoSuchAccessKey) {
			return nil, err
		}
		return nil, s.putKey(ctx, "", s.RootARN(), *given)
	}
	keys, err := s.store.ListAccessKeys(ctx, "")
	if err != nil {
		return nil, err
	}
	if len(keys) > 0 {
		return nil, nil
	}
	c := Credentials{AccessKeyID: NewAccessKeyID(), SecretAccessKey: NewSecretAccessKey()}
	if err := s.putKey(ctx, "", s.RootARN(), c); err != nil {
		return nil, err
	}
	return &c, nil
}

func (s *Service) putKey(ctx context.Context, user, principalARN string, c Credentials) error {
	return s.store.PutAccessKey(ctx, &AccessKey{
		ID:            c.AccessKeyID,
		UserName:      user,
		PrincipalARN:  principalARN,
		Status:        "Active",
		CreatedAt:     s.now().UTC().Truncate(time.Second),
		SecretWrapped: s.root.Wrap(secretKeyPurpose, c.AccessKeyID, []byte(c.SecretAccessKey)),
		RootKeyID:     s.root.ID(),
	})
}
