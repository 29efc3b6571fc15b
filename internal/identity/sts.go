package identity

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"regexp"
	"strconv"
	"time"

	"github.com/coffer-dev/coffer/internal/iam"
)

// STS: role sessions. Authorization (the trust policy, sts:TagSession, …)
// is the edge's business; CreateSession validates the request's shape and
// mints the credentials.

var sessionNameRE = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)

// Session limits.
const (
	MinSessionDuration     = 900
	DefaultSessionDuration = 3600
	// ChainedSessionLimit caps sessions made with role credentials.
	ChainedSessionLimit  = 3600
	maxSessionPolicyARNs = 10
	// packedLimit is the session-policy budget PackedPolicySize is a
	// percentage of (decided: AWS publishes 2,048 characters for the
	// plaintext of inline plus managed session policies).
	packedLimit = 2048
)

// RoleByARN returns the role an ARN names in this account, or an
// AccessDenied-kind error (STS does not reveal whether a role exists).
func (s *Service) RoleByARN(ctx context.Context, arn string) (*Entity, error) {
	acct, typ, name, ok := ParseIAMARN(arn)
	if !ok || typ != "role" || acct != s.account {
		return nil, ErrNoSuchEntity
	}
	e, err := s.entity(ctx, KindRole, name)
	if err != nil {
		return nil, err
	}
	if e.ARN != arn {
		return nil, ErrNoSuchEntity
	}
	return e, nil
}

// TrustPolicy compiles a role's trust policy (cached with the role view's
// policies would be overkill: AssumeRole is not the hot path).
func TrustPolicy(e *Entity) (*iam.Policy, error) {
	return iam.Parse(e.TrustPolicy, iam.KindTrust)
}

// SessionInput asks for a role session.
type SessionInput struct {
	Role            *Entity
	Name            string
	DurationSeconds int // 0: default (3600)
	Policy          string
	PolicyARNs      []string
	Tags            []Tag
	TransitiveKeys  []string
	SourceIdentity  string
	// Parent is the session whose credentials made the request (role
	// chaining), nil otherwise.
	Parent      *Session
	WebIdentity *WebIdentity
}

// SessionCredentials is what AssumeRole* returns.
type SessionCredentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	Expiration      time.Time
	AssumedRoleID   string // ROLEID:session
	ARN             string // the session ARN
	// PackedPolicySize is the percentage of the session-policy budget used
	// (-1 when the request had no session policy or tags).
	PackedPolicySize int
	SourceIdentity   string
}

// CheckSessionRequest validates what does not need the role: the session
// name, duration bounds, session policies and tags. It runs before
// authorization, as AWS validates input first.
func CheckSessionRequest(in *SessionInput) error {
	if !sessionNameRE.MatchString(in.Name) {
		if len(in.Name) < 2 || len(in.Name) > 64 {
			return validationError("roleSessionName", in.Name, "Member must have length between 2 and 64")
		}
		return validationError("roleSessionName", in.Name, cPattern+`[\w+=,.@-]*`)
	}
	if d := in.DurationSeconds; d != 0 && (d < MinSessionDuration || d > 43200) {
		if d < MinSessionDuration {
			return validationError("durationSeconds", strconv.Itoa(d), "Member must have value greater than or equal to 900")
		}
		return validationError("durationSeconds", strconv.Itoa(d), "Member must have value less than or equal to 43200")
	}
	if in.Policy != "" {
		if _, err := parsePolicy(in.Policy, iam.KindSession); err != nil {
			return err
		}
	}
	if len(in.PolicyARNs) > maxSessionPolicyARNs {
		return validationError("policyArns", strconv.Itoa(len(in.PolicyARNs)), "Member must have length less than or equal to 10")
	}
	if err := CheckTags(in.Tags); err != nil {
		return err
	}
	for _, k := range in.TransitiveKeys {
		if findTag(in.Tags, k) < 0 {
			return errorf(ErrInvalidInput, "The specified transitive tag key must be included in the requested tags.")
		}
	}
	if in.SourceIdentity != "" && !sessionNameRE.MatchString(in.SourceIdentity) {
		return validationError("sourceIdentity", in.SourceIdentity, cPattern+`[\w+=,.@-]*`)
	}
	return nil
}

// CreateSession mints temporary credentials for a role session and stores
// them (in the unit of work in ctx).
func (s *Service) CreateSession(ctx context.Context, in SessionInput) (*SessionCredentials, error) {
	if err := CheckSessionRequest(&in); err != nil {
		return nil, err
	}
	role := in.Role
	d := in.DurationSeconds
	if d == 0 {
		d = DefaultSessionDuration
	}
	max := role.MaxSessionDuration
	if max == 0 {
		max = DefaultSessionDuration
	}
	if in.Parent != nil {
		if in.DurationSeconds > ChainedSessionLimit {
			return nil, errorf(ErrValidation, "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
		}
		if d > ChainedSessionLimit {
			d = ChainedSessionLimit
		}
	} else if d > max {
		return nil, errorf(ErrValidation, "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}
	for _, a := range in.PolicyARNs {
		if _, err := s.Policy(ctx, a); err != nil {
			if errors.Is(err, ErrNoSuchEntity) {
				return nil, errorf(ErrMalformedPolicy, "Policy %s does not exist or is not attachable.", a)
			}
			return nil, err
		}
	}
	tags := in.Tags
	transitive := in.TransitiveKeys
	sourceID := in.SourceIdentity
	if p := in.Parent; p != nil {
		// Transitive tags of the calling session carry over; they cannot be
		// overridden.
		for _, k := range p.TransitiveKeys {
			i := findTag(p.Tags, k)
			if i < 0 {
				continue
			}
			if j := findTag(tags, k); j >= 0 && tags[j].Value != p.Tags[i].Value {
				return nil, errorf(ErrInvalidInput, "One or more of the specified transitive tag keys can't be set because it conflicts with a transitive tag key from the calling session.")
			}
			if findTag(tags, k) < 0 {
				tags = append(tags, p.Tags[i])
				transitive = append(transitive, k)
			}
		}
		if p.SourceIdentity != "" {
			if sourceID != "" && sourceID != p.SourceIdentity {
				return nil, errorf(ErrAccessDenied, "The source identity of the calling session cannot be changed.")
			}
			sourceID = p.SourceIdentity
		}
	}
	packed := -1
	if in.Policy != "" || len(in.PolicyARNs) > 0 || len(in.Tags) > 0 {
		size := nonSpaceLen(in.Policy) + 20*len(in.PolicyARNs)
		for _, t := range in.Tags {
			size += len(t.Key) + len(t.Value)
		}
		packed = (size*100 + packedLimit - 1) / packedLimit
		if packed > 100 {
			return nil, errorf(ErrPackedPolicyTooLarge, "Packed policy consumes %d%% of allotted space, please use smaller policy for assume role.", packed)
		}
	}

	now := s.now().UTC().Truncate(time.Second)
	akid := NewSessionKeyID()
	secret := NewSecretAccessKey()
	token := newSessionToken()
	arn := SessionARN(s.account, role.Name, in.Name)
	ss := &Session{
		RoleName: role.Name, RoleARN: role.ARN, RoleID: role.ID, Name: in.Name,
		TokenHash: s.tokenHash(akid, token), IssuedAt: now, Expires: now.Add(time.Duration(d) * time.Second),
		Policy: in.Policy, PolicyARNs: in.PolicyARNs, Tags: tags, TransitiveKeys: transitive,
		SourceIdentity: sourceID, Chained: in.Parent != nil, WebIdentity: in.WebIdentity,
	}
	err := s.store.PutAccessKey(ctx, &AccessKey{
		ID: akid, UserName: SessionOwner, PrincipalARN: arn, Status: "Active", CreatedAt: now,
		SecretWrapped: s.root.Wrap(secretKeyPurpose, akid, []byte(secret)), RootKeyID: s.root.ID(), Session: ss,
	})
	if err != nil {
		return nil, err
	}
	return &SessionCredentials{AccessKeyID: akid, SecretAccessKey: secret, SessionToken: token, Expiration: ss.Expires,
		AssumedRoleID: role.ID + ":" + in.Name, ARN: arn, PackedPolicySize: packed, SourceIdentity: sourceID}, nil
}

// newSessionToken returns an opaque session token: 96 random bytes,
// base64.
func newSessionToken() string {
	var b [96]byte
	rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

// PurgeExpiredSessions deletes session keys that expired more than grace
// ago and returns how many it deleted.
func (s *Service) PurgeExpiredSessions(ctx context.Context, grace time.Duration) (int, error) {
	keys, err := s.store.ListAccessKeys(ctx, SessionOwner)
	if err != nil {
		return 0, err
	}
	cutoff := s.now().Add(-grace)
	n := 0
	for _, k := range keys {
		if k.Session == nil || k.Session.Expires.After(cutoff) {
			continue
		}
		if err := s.store.DeleteAccessKey(ctx, k.ID); err != nil {
			return n, err
		}
		n++
	}
	if n > 0 {
		s.views.mu.Lock()
		for key := range s.views.m {
			if key.session {
				delete(s.views.m, key)
			}
		}
		s.views.mu.Unlock()
	}
	return n, nil
}
