package iam

import (
	"strconv"
	"strings"
)

// PrincipalType is the kind of caller a request comes from.
type PrincipalType uint8

const (
	// PrincipalUser is an IAM user (long-term access key).
	PrincipalUser PrincipalType = iota + 1
	// PrincipalAssumedRole is a role session (AssumeRole, AssumeRoleWithWebIdentity).
	PrincipalAssumedRole
	// PrincipalRoot is the account root user.
	PrincipalRoot
	// PrincipalFederatedUser is a GetFederationToken session.
	PrincipalFederatedUser
	// PrincipalWebIdentity is the caller of AssumeRoleWithWebIdentity before
	// it has a session: it is known only by its identity provider.
	PrincipalWebIdentity
	// PrincipalService is an AWS service principal (e.g. secretsmanager
	// calling KMS on a caller's behalf).
	PrincipalService
)

// String returns the value AWS uses for aws:PrincipalType.
func (t PrincipalType) String() string {
	switch t {
	case PrincipalUser:
		return "User"
	case PrincipalAssumedRole:
		return "AssumedRole"
	case PrincipalRoot:
		return "Account"
	case PrincipalFederatedUser:
		return "FederatedUser"
	case PrincipalWebIdentity:
		return "WebIdentityUser"
	case PrincipalService:
		return "AWSService"
	}
	return "Anonymous"
}

// Principal is the authenticated caller of a request. Fields that do not
// apply to the type stay empty.
type Principal struct {
	Type PrincipalType
	// ARN is the caller's own ARN: the user ARN (with path), the session ARN
	// arn:aws:sts::ACCT:assumed-role/ROLE/SESSION, the federated-user ARN, or
	// arn:aws:iam::ACCT:root for the root user.
	ARN     string
	Account string
	// UserID is aws:userid: AIDA… for users, AROA…:session for role
	// sessions, the account ID for root, ACCT:name for federated users.
	UserID string
	// Username is aws:username; IAM users only.
	Username string
	// RoleARN is the role (with path) of a role session; it is also the
	// value of aws:PrincipalArn for sessions.
	RoleARN string
	// Tags are aws:PrincipalTag/… (user or role tags plus session tags).
	// Keys are matched case-insensitively.
	Tags map[string]string
	// SourceIdentity is aws:SourceIdentity, when set on the session.
	SourceIdentity string
	// FederatedProvider is the identity provider of a web-identity caller
	// (arn:aws:iam::ACCT:oidc-provider/HOST/PATH); it is what a trust
	// policy's {"Federated": …} names. Also aws:FederatedProvider.
	FederatedProvider string
	// Service is the service principal name, e.g. "secretsmanager.amazonaws.com".
	Service string
}

func (p *Principal) isAWS() bool {
	switch p.Type {
	case PrincipalUser, PrincipalAssumedRole, PrincipalRoot, PrincipalFederatedUser:
		return true
	}
	return false
}

// roleID is the role's unique ID (the part of aws:userid before ':').
func (p *Principal) roleID() string {
	if p.Type != PrincipalAssumedRole {
		return ""
	}
	id, _, _ := strings.Cut(p.UserID, ":")
	return id
}

// principalArn is aws:PrincipalArn.
func (p *Principal) principalArn() string {
	if p.Type == PrincipalAssumedRole && p.RoleARN != "" {
		return p.RoleARN
	}
	return p.ARN
}

func (p *Principal) tag(lowerKey string) (string, bool) {
	for k, v := range p.Tags {
		if keyEq(k, lowerKey) {
			return v, true
		}
	}
	return "", false
}

// PrincipalRef is one principal named in a policy, as written.
type PrincipalRef struct {
	Type  string // "AWS", "Service", "Federated", "CanonicalUser" or "*"
	Value string
}

// grant is how a Principal element matched a caller; higher is stronger.
type grant uint8

const (
	grantNone grant = iota
	// grantAccount: the caller's account was named (delegation to IAM).
	grantAccount
	// grantRole: the caller's role was named; a boundary and a session
	// policy still limit the grant.
	grantRole
	// grantDirect: the caller itself was named (user, session, service,
	// federated provider, or "*").
	grantDirect
)

type principalSpec struct {
	any       bool
	accounts  []string
	users     []string
	roles     []string
	sessions  []string // assumed-role and federated-user ARNs
	userIDs   []string
	roleIDs   []string
	services  []string
	federated []string
	canonical []string
	refs      []PrincipalRef
}

func has(list []string, s string) bool {
	if s == "" {
		return false
	}
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// grant returns how strongly the spec names p (as Principal).
func (ps *principalSpec) grant(p *Principal) grant {
	if ps.any {
		return grantDirect
	}
	if p == nil {
		return grantNone
	}
	g := grantNone
	switch p.Type {
	case PrincipalService:
		if has(ps.services, p.Service) {
			return grantDirect
		}
		return grantNone
	case PrincipalWebIdentity:
		if has(ps.federated, p.FederatedProvider) {
			return grantDirect
		}
		return grantNone
	case PrincipalUser:
		if has(ps.users, p.ARN) || has(ps.userIDs, p.UserID) {
			return grantDirect
		}
	case PrincipalAssumedRole:
		if has(ps.sessions, p.ARN) {
			return grantDirect
		}
		if has(ps.roles, p.RoleARN) || has(ps.roleIDs, p.roleID()) {
			g = grantRole
		}
	case PrincipalFederatedUser:
		if has(ps.sessions, p.ARN) {
			return grantDirect
		}
	case PrincipalRoot:
		if has(ps.accounts, p.Account) {
			return grantDirect
		}
		return grantNone
	}
	if g == grantNone && p.isAWS() && has(ps.accounts, p.Account) {
		g = grantAccount
	}
	return g
}

// covers reports whether every identity of p is listed, which is what a
// NotPrincipal element needs to exempt p: a user is the account and the
// user; a role session is the account, the role and the session.
func (ps *principalSpec) covers(p *Principal) bool {
	if ps.any {
		return true
	}
	if p == nil {
		return false
	}
	acct := has(ps.accounts, p.Account)
	switch p.Type {
	case PrincipalUser:
		return acct && (has(ps.users, p.ARN) || has(ps.userIDs, p.UserID))
	case PrincipalAssumedRole:
		return acct && (has(ps.roles, p.RoleARN) || has(ps.roleIDs, p.roleID())) && has(ps.sessions, p.ARN)
	case PrincipalRoot:
		return acct
	case PrincipalFederatedUser:
		return acct && has(ps.sessions, p.ARN)
	case PrincipalService:
		return has(ps.services, p.Service)
	case PrincipalWebIdentity:
		return has(ps.federated, p.FederatedProvider)
	}
	return false
}

// broadAccounts reports whether the spec reaches everyone or an account
// other than own (used by the public-access check).
func (ps *principalSpec) broadAccounts(own string) bool {
	if ps.any {
		return true
	}
	for _, a := range ps.accounts {
		if a != own {
			return true
		}
	}
	for _, list := range [][]string{ps.users, ps.roles, ps.sessions} {
		for _, arn := range list {
			if arnAccount(arn) != own {
				return true
			}
		}
	}
	return false
}

// arnAccount returns the account field (5th) of an ARN ("" for strings
// that are not ARNs).
func arnAccount(arn string) string {
	if !strings.HasPrefix(arn, "arn:") {
		return ""
	}
	n, start := 0, 0
	for i := 0; i < len(arn); i++ {
		if arn[i] != ':' {
			continue
		}
		n++
		switch n {
		case 4:
			start = i + 1
		case 5:
			return arn[start:i]
		}
	}
	return ""
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isUniqueID(s string) bool {
	if len(s) < 16 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func invalidPrincipal(typ, value string) *PolicyError {
	return &PolicyError{
		Message: "Invalid principal in policy: " + strconv.Quote(typ) + ":" + strconv.Quote(value),
		Detail:  "invalid principal " + typ + " " + strconv.Quote(value),
	}
}

// NewInvalidPrincipalError returns the MalformedPolicyDocument error IAM
// gives for a principal that is well formed but does not exist. Callers
// that check Policy.Principals against their identity store use it.
func NewInvalidPrincipalError(ref PrincipalRef) *PolicyError {
	return invalidPrincipal(ref.Type, ref.Value)
}

// addAWS classifies one {"AWS": v} entry.
func (ps *principalSpec) addAWS(v string) *PolicyError {
	switch {
	case v == "*":
		ps.any = true
		return nil
	case isAccountID(v):
		ps.accounts = append(ps.accounts, v)
		return nil
	case strings.ContainsAny(v, "*?"):
		return invalidPrincipal("AWS", v)
	case strings.HasPrefix(v, "arn:"):
		parts := strings.SplitN(v, ":", 6)
		if len(parts) != 6 || parts[1] == "" || parts[3] != "" || !isAccountID(parts[4]) {
			return invalidPrincipal("AWS", v)
		}
		acct, res := parts[4], parts[5]
		switch parts[2] {
		case "iam":
			switch {
			case res == "root":
				ps.accounts = append(ps.accounts, acct)
				return nil
			case strings.HasPrefix(res, "user/") && validPathName(res[len("user/"):]):
				ps.users = append(ps.users, v)
				return nil
			case strings.HasPrefix(res, "role/") && validPathName(res[len("role/"):]):
				ps.roles = append(ps.roles, v)
				return nil
			}
		case "sts":
			if r, ok := strings.CutPrefix(res, "assumed-role/"); ok {
				role, sess, ok := strings.Cut(r, "/")
				if ok && role != "" && sess != "" {
					ps.sessions = append(ps.sessions, v)
					return nil
				}
			} else if n, ok := strings.CutPrefix(res, "federated-user/"); ok && n != "" {
				ps.sessions = append(ps.sessions, v)
				return nil
			}
		}
		return invalidPrincipal("AWS", v)
	case isUniqueID(v) && strings.HasPrefix(v, "AIDA"):
		ps.userIDs = append(ps.userIDs, v)
		return nil
	case isUniqueID(v) && strings.HasPrefix(v, "AROA"):
		ps.roleIDs = append(ps.roleIDs, v)
		return nil
	}
	return invalidPrincipal("AWS", v)
}

// validPathName checks "path/name" (path optional): non-empty last element.
func validPathName(s string) bool {
	i := strings.LastIndexByte(s, '/')
	return s[i+1:] != ""
}

// compilePrincipal compiles a Principal or NotPrincipal value.
func compilePrincipal(v *jvalue) (*principalSpec, *PolicyError) {
	ps := &principalSpec{}
	switch v.kind {
	case jString:
		if v.str != "*" {
			return nil, syntaxError("Principal must be \"*\" or an object, got " + strconv.Quote(v.str))
		}
		ps.any = true
		ps.refs = append(ps.refs, PrincipalRef{Type: "*", Value: "*"})
		return ps, nil
	case jObject:
	default:
		return nil, syntaxError("Principal must be \"*\" or an object")
	}
	if len(v.obj) == 0 {
		return nil, syntaxError("Principal is an empty object")
	}
	for _, m := range v.obj {
		vals, ok := stringList(&m.val)
		if !ok {
			return nil, syntaxError("Principal " + m.key + " must be a string or a list of strings")
		}
		if len(vals) == 0 {
			return nil, syntaxError("Principal " + m.key + " is empty")
		}
		for _, s := range vals {
			ps.refs = append(ps.refs, PrincipalRef{Type: m.key, Value: s})
			switch m.key {
			case "AWS":
				if err := ps.addAWS(s); err != nil {
					return nil, err
				}
			case "Service", "Federated", "CanonicalUser":
				if s == "" || strings.ContainsAny(s, "*?") {
					return nil, invalidPrincipal(m.key, s)
				}
				switch m.key {
				case "Service":
					ps.services = append(ps.services, s)
				case "Federated":
					ps.federated = append(ps.federated, s)
				default:
					ps.canonical = append(ps.canonical, s)
				}
			default:
				return nil, syntaxError("unknown principal type " + strconv.Quote(m.key))
			}
		}
	}
	return ps, nil
}
