package iam

import (
	"strconv"
	"strings"
	"time"
)

// Labeled is a policy with the label an explanation shows for it. Use the
// policy ARN for managed policies: an explicit deny from an identity-based
// policy, permissions boundary or session policy whose label is an ARN puts
// that ARN in the AccessDenied message, as AWS does.
type Labeled struct {
	Label  string
	Policy *Policy
}

// Set is every policy that applies to one request.
type Set struct {
	// Identity holds the caller's identity-based policies (a user's inline,
	// attached and group policies; a session's role policies).
	Identity []Labeled
	// Resource is the resource's policy, if any. Its Kind decides the rules:
	// KindKeyPolicy and KindTrust must themselves allow the caller; any
	// other kind is an ordinary resource-based policy.
	Resource Labeled
	// Boundary is the caller's permissions boundary, if any.
	Boundary Labeled
	// Session holds the session policies passed to AssumeRole* (inline and
	// PolicyArns); empty means the session has none.
	Session []Labeled
}

// Request is one authorization question.
type Request struct {
	Principal *Principal // nil: anonymous
	Action    string     // "secretsmanager:GetSecretValue"
	Resource  string     // an ARN, or "*" for actions without a resource
	Context   Context    // may be nil
	// Time supplies aws:CurrentTime and aws:EpochTime when Context does not.
	Time time.Time
}

// Layer names the policy type a statement came from.
type Layer uint8

const (
	LayerIdentity Layer = iota + 1
	LayerResource
	LayerBoundary
	LayerSession
)

func (l Layer) String() string {
	switch l {
	case LayerIdentity:
		return "identity-based policy"
	case LayerResource:
		return "resource-based policy"
	case LayerBoundary:
		return "permissions boundary"
	case LayerSession:
		return "session policy"
	}
	return ""
}

// StatementRef identifies a statement that produced a decision.
type StatementRef struct {
	Layer  Layer
	Policy string // the Labeled.Label
	Index  int    // statement index in the document (0-based)
	Sid    string
	Effect Effect
}

// Reason says why a decision was made.
type Reason uint8

const (
	// AllowedByIdentity: an identity-based policy allows (and the boundary
	// and session policies, when present, allow too; for key and trust
	// policies, the policy delegates to the account).
	AllowedByIdentity Reason = iota + 1
	// AllowedByResource: the resource (key, trust) policy allows the caller.
	AllowedByResource
	// AllowedRoot: the caller is the account root user.
	AllowedRoot
	// AllowedAlways: sts:GetCallerIdentity, which no policy can deny.
	AllowedAlways
	DeniedExplicitIdentity
	DeniedExplicitResource
	DeniedExplicitBoundary
	DeniedExplicitSession
	// DeniedNoIdentity: no identity-based policy allows (and no resource
	// policy grants the caller directly).
	DeniedNoIdentity
	// DeniedNoResource: a cross-account request the resource policy does
	// not allow.
	DeniedNoResource
	// DeniedNoKeyPolicy: the KMS key policy neither allows the caller nor
	// delegates to the account.
	DeniedNoKeyPolicy
	// DeniedNoTrustPolicy: the role trust policy neither allows the caller
	// nor delegates to the account.
	DeniedNoTrustPolicy
	DeniedNoBoundary
	DeniedNoSession
)

var reasonText = [...]string{
	AllowedByIdentity:      "allowed by an identity-based policy",
	AllowedByResource:      "allowed by a resource-based policy",
	AllowedRoot:            "allowed: account root user",
	AllowedAlways:          "allowed: action cannot be denied",
	DeniedExplicitIdentity: "explicit deny in an identity-based policy",
	DeniedExplicitResource: "explicit deny in a resource-based policy",
	DeniedExplicitBoundary: "explicit deny in a permissions boundary",
	DeniedExplicitSession:  "explicit deny in a session policy",
	DeniedNoIdentity:       "no identity-based policy allows",
	DeniedNoResource:       "no resource-based policy allows",
	DeniedNoKeyPolicy:      "not allowed by the key policy",
	DeniedNoTrustPolicy:    "not allowed by the trust policy",
	DeniedNoBoundary:       "no permissions boundary allows",
	DeniedNoSession:        "no session policy allows",
}

func (r Reason) String() string {
	if int(r) < len(reasonText) && reasonText[r] != "" {
		return reasonText[r]
	}
	return "reason(" + strconv.Itoa(int(r)) + ")"
}

// Explicit reports whether the reason is an explicit deny.
func (r Reason) Explicit() bool {
	return r >= DeniedExplicitIdentity && r <= DeniedExplicitSession
}

// Decision is the outcome of Evaluate. It does not allocate; Statements
// returns the statements that produced it (at most one per layer; none for
// an implicit deny where no layer matched).
type Decision struct {
	Allowed bool
	Reason  Reason

	refs      [4]StatementRef
	n         uint8
	principal string
	action    string
	resource  string
}

// Statements returns the statements behind the decision.
func (d *Decision) Statements() []StatementRef { return d.refs[:d.n] }

func (d *Decision) add(layer Layer, l *Labeled, idx int) {
	if idx < 0 || int(d.n) == len(d.refs) {
		return
	}
	s := &l.Policy.stmts[idx]
	d.refs[d.n] = StatementRef{Layer: layer, Policy: l.Label, Index: idx, Sid: s.sid, Effect: s.effect}
	d.n++
}

// Message renders AWS's AccessDenied text for a denied decision ("" when
// allowed), e.g. "User: arn:aws:iam::123456789012:user/bob is not
// authorized to perform: secretsmanager:GetSecretValue on resource: arn:…
// because no identity-based policy allows the secretsmanager:GetSecretValue
// action". Key-policy and trust-policy denials use the resource-based
// wording, as KMS does.
func (d *Decision) Message() string {
	if d.Allowed {
		return ""
	}
	who := d.principal
	if who == "" {
		who = "anonymous"
	}
	head := "User: " + who + " is not authorized to perform: " + d.action + " on resource: " + d.resource
	because := func(layer string) string {
		return head + " because no " + layer + " allows the " + d.action + " action"
	}
	explicit := func(layer string, withARN bool) string {
		m := head + " with an explicit deny in " + layer
		if withARN && d.n > 0 && strings.HasPrefix(d.refs[0].Policy, "arn:") {
			m += ": " + d.refs[0].Policy
		}
		return m
	}
	switch d.Reason {
	case DeniedExplicitIdentity:
		return explicit("an identity-based policy", true)
	case DeniedExplicitResource:
		return explicit("a resource-based policy", false)
	case DeniedExplicitBoundary:
		return explicit("a permissions boundary", true)
	case DeniedExplicitSession:
		return explicit("a session policy", true)
	case DeniedNoIdentity:
		return because("identity-based policy")
	case DeniedNoResource, DeniedNoKeyPolicy, DeniedNoTrustPolicy:
		return because("resource-based policy")
	case DeniedNoBoundary:
		return because("permissions boundary")
	case DeniedNoSession:
		return because("session policy")
	}
	return head
}

// evalState is the per-request state; it lives on Evaluate's stack.
type evalState struct {
	act         reqAction
	action      string
	resource    string
	now         time.Time
	p           *Principal
	ctx         Context
	hasBoundary bool
	scratch     [1]string
}

// Evaluate decides one request the way AWS does within an account:
//
//  1. An explicit Deny in any policy (identity, resource, boundary,
//     session) wins. sts:GetCallerIdentity is the exception: always allowed.
//  2. The account root user is allowed in its own account, except that a
//     KMS key policy or a trust policy must still allow it (a statement
//     naming the account names root); in another account it gets what
//     the resource policy grants its account.
//  3. Cross-account (the resource ARN's account differs from the caller's):
//     the resource policy must name the caller (or its account) and the
//     identity path (identity ∩ boundary ∩ session) must allow.
//  4. Same account, ordinary resource policy: allowed if the resource
//     policy names the caller directly (user ARN, session ARN, "*",
//     service, federated provider), or names the caller's role and the
//     boundary and session policies allow, or the identity path allows. A
//     statement naming the account root only delegates to IAM.
//  5. KMS key policies and trust policies: the same, except that the
//     identity path counts only when the policy delegates to the account.
//
// The identity path is: some identity-based policy allows, the permissions
// boundary (if any) allows, and some session policy (if any) allows.
func Evaluate(req *Request, set *Set) Decision {
	// st copies what it needs from req: keeping the pointer would make
	// every caller's Request escape to the heap.
	st := evalState{act: splitAction(req.Action), action: req.Action, resource: req.Resource, now: req.Time, p: req.Principal, ctx: req.Context, hasBoundary: set.Boundary.Policy != nil}
	d := Decision{action: req.Action, resource: req.Resource}
	if st.p != nil {
		d.principal = st.p.ARN
	}
	if strings.EqualFold(req.Action, "sts:GetCallerIdentity") {
		d.Allowed, d.Reason = true, AllowedAlways
		return d
	}

	// 1. Explicit denies.
	for i := range set.Identity {
		if idx := st.firstDeny(set.Identity[i].Policy); idx >= 0 {
			d.Reason = DeniedExplicitIdentity
			d.add(LayerIdentity, &set.Identity[i], idx)
			return d
		}
	}
	res := &set.Resource
	if idx := st.firstDeny(res.Policy); idx >= 0 {
		d.Reason = DeniedExplicitResource
		d.add(LayerResource, res, idx)
		return d
	}
	if idx := st.firstDeny(set.Boundary.Policy); idx >= 0 {
		d.Reason = DeniedExplicitBoundary
		d.add(LayerBoundary, &set.Boundary, idx)
		return d
	}
	for i := range set.Session {
		if idx := st.firstDeny(set.Session[i].Policy); idx >= 0 {
			d.Reason = DeniedExplicitSession
			d.add(LayerSession, &set.Session[i], idx)
			return d
		}
	}

	rkind := KindResource
	if res.Policy != nil {
		rkind = res.Policy.kind
	}
	strict := res.Policy != nil && (rkind == KindKeyPolicy || rkind == KindTrust)
	noStrict := DeniedNoKeyPolicy
	if rkind == KindTrust {
		noStrict = DeniedNoTrustPolicy
	}

	// Resource grants.
	rg := resGrants{direct: -1, role: -1, account: -1}
	if res.Policy != nil {
		rg = st.resourceGrants(res.Policy)
	}

	// Cross-account: the resource's account is not the caller's.
	cross := false
	if st.p != nil && st.p.isAWS() && st.p.Account != "" {
		ra := arnAccount(req.Resource)
		cross = ra != "" && ra != "*" && ra != st.p.Account
	}

	// 2. Root: everything in its own account; elsewhere only what the
	// resource policy grants (to the account or to root).
	if st.p != nil && st.p.Type == PrincipalRoot {
		switch {
		case cross:
			if best := rg.best(); best >= 0 {
				d.Allowed, d.Reason = true, AllowedByResource
				d.add(LayerResource, res, best)
				return d
			}
			d.Reason = DeniedNoResource
			if strict {
				d.Reason = noStrict
			}
			return d
		case strict:
			if rg.direct < 0 {
				d.Reason = noStrict
				return d
			}
			d.Allowed, d.Reason = true, AllowedByResource
			d.add(LayerResource, res, rg.direct)
			return d
		}
		d.Allowed, d.Reason = true, AllowedRoot
		return d
	}

	// A same-account grant naming the caller itself needs nothing else.
	if !cross && rg.direct >= 0 {
		d.Allowed, d.Reason = true, AllowedByResource
		d.add(LayerResource, res, rg.direct)
		return d
	}

	// Identity path.
	// An anonymous caller has no identity, so only a resource policy can
	// grant it anything.
	idPol, idIdx := -1, -1
	for i := range set.Identity {
		if st.p == nil {
			break
		}
		if idx := st.firstAllow(set.Identity[i].Policy); idx >= 0 {
			idPol, idIdx = i, idx
			break
		}
	}
	bndIdx := -1
	bndOK := set.Boundary.Policy == nil
	if !bndOK {
		bndIdx = st.firstAllow(set.Boundary.Policy)
		bndOK = bndIdx >= 0
	}
	sesPol, sesIdx := -1, -1
	sesOK := len(set.Session) == 0
	for i := range set.Session {
		if idx := st.firstAllow(set.Session[i].Policy); idx >= 0 {
			sesPol, sesIdx, sesOK = i, idx, true
			break
		}
	}
	idOK := idIdx >= 0 && bndOK && sesOK
	addLimits := func() {
		if bndIdx >= 0 {
			d.add(LayerBoundary, &set.Boundary, bndIdx)
		}
		if sesIdx >= 0 {
			d.add(LayerSession, &set.Session[sesPol], sesIdx)
		}
	}
	allowIdentity := func() Decision {
		d.Allowed, d.Reason = true, AllowedByIdentity
		d.add(LayerIdentity, &set.Identity[idPol], idIdx)
		addLimits()
		return d
	}
	denyIdentityPath := func() Decision {
		switch {
		case idIdx < 0:
			d.Reason = DeniedNoIdentity
		case !bndOK:
			d.Reason = DeniedNoBoundary
			d.add(LayerIdentity, &set.Identity[idPol], idIdx)
		default:
			d.Reason = DeniedNoSession
			d.add(LayerIdentity, &set.Identity[idPol], idIdx)
			if bndIdx >= 0 {
				d.add(LayerBoundary, &set.Boundary, bndIdx)
			}
		}
		return d
	}

	// 3. Cross-account: both sides must allow.
	if cross {
		best := rg.best()
		if best < 0 {
			d.Reason = DeniedNoResource
			if strict {
				d.Reason = noStrict
			}
			return d
		}
		if !idOK {
			return denyIdentityPath()
		}
		d.add(LayerResource, res, best)
		return allowIdentity()
	}

	// 4/5. Same account (direct grants were handled above).
	if rg.role >= 0 && bndOK && sesOK {
		d.Allowed, d.Reason = true, AllowedByResource
		d.add(LayerResource, res, rg.role)
		addLimits()
		return d
	}
	if strict {
		if rg.account < 0 {
			if rg.role >= 0 { // named the role, but a limit failed
				if !bndOK {
					d.Reason = DeniedNoBoundary
				} else {
					d.Reason = DeniedNoSession
				}
				d.add(LayerResource, res, rg.role)
				return d
			}
			d.Reason = noStrict
			return d
		}
		if idOK {
			d.add(LayerResource, res, rg.account)
			return allowIdentity()
		}
		if rg.role >= 0 && idIdx < 0 {
			// the role grant stands in for the identity allow
			if !bndOK {
				d.Reason = DeniedNoBoundary
			} else {
				d.Reason = DeniedNoSession
			}
			return d
		}
		return denyIdentityPath()
	}
	if idOK {
		return allowIdentity()
	}
	if rg.role >= 0 && idIdx < 0 {
		if !bndOK {
			d.Reason = DeniedNoBoundary
		} else {
			d.Reason = DeniedNoSession
		}
		d.add(LayerResource, res, rg.role)
		return d
	}
	return denyIdentityPath()
}

type resGrants struct{ direct, role, account int }

func (g resGrants) best() int {
	switch {
	case g.direct >= 0:
		return g.direct
	case g.role >= 0:
		return g.role
	}
	return g.account
}

// firstDeny returns the index of the first Deny statement of p that
// applies, or -1.
func (st *evalState) firstDeny(p *Policy) int {
	if p == nil {
		return -1
	}
	for _, i := range p.denies {
		s := &p.stmts[i]
		if st.matchesAR(s) && st.principalApplies(s) != grantNone && st.conditionsHold(s) {
			return int(i)
		}
	}
	return -1
}

// firstAllow returns the index of the first Allow statement of an
// identity-rules policy that applies, or -1.
func (st *evalState) firstAllow(p *Policy) int {
	if p == nil {
		return -1
	}
	for _, i := range p.allows {
		s := &p.stmts[i]
		if st.matchesAR(s) && st.conditionsHold(s) {
			return int(i)
		}
	}
	return -1
}

// resourceGrants finds the Allow statements of a resource policy that
// apply, by how they name the caller.
func (st *evalState) resourceGrants(p *Policy) resGrants {
	g := resGrants{direct: -1, role: -1, account: -1}
	for _, i := range p.allows {
		s := &p.stmts[i]
		if !st.matchesAR(s) {
			continue
		}
		kind := st.principalApplies(s)
		if kind == grantNone {
			continue
		}
		var slot *int
		switch kind {
		case grantDirect:
			slot = &g.direct
		case grantRole:
			slot = &g.role
		default:
			slot = &g.account
		}
		if *slot >= 0 || !st.conditionsHold(s) {
			continue
		}
		*slot = int(i)
		if kind == grantDirect {
			break
		}
	}
	return g
}

// principalApplies returns how the statement's Principal/NotPrincipal
// names the caller (grantDirect for statements without one).
func (st *evalState) principalApplies(s *statement) grant {
	ps := s.principal
	if ps == nil {
		return grantDirect
	}
	if s.notPrincipal {
		// AWS: a Deny with NotPrincipal always applies to a principal that
		// has a permissions boundary (access_policies_boundaries).
		if s.effect == Deny && st.hasBoundary {
			return grantDirect
		}
		if ps.covers(st.p) {
			return grantNone
		}
		return grantDirect
	}
	return ps.grant(st.p)
}

func (st *evalState) matchesAR(s *statement) bool {
	hit := false
	for i := range s.actions {
		if s.actions[i].match(&st.act) {
			hit = true
			break
		}
	}
	if hit == s.notAction {
		return false
	}
	if s.resources == nil {
		return true
	}
	hit = false
	for i := range s.resources {
		if s.resources[i].matchVars(st, st.resource, false) {
			hit = true
			break
		}
	}
	return hit != s.notResource
}

func (st *evalState) conditionsHold(s *statement) bool {
	for i := range s.conds {
		if !st.holds(&s.conds[i]) {
			return false
		}
	}
	return true
}

// lookup returns the values of a (lower-case) condition key.
func (st *evalState) lookup(key string) ([]string, bool) {
	if st.ctx != nil {
		if v, ok := st.ctx.Lookup(key); ok {
			return v, true
		}
	}
	s, ok := st.derived(key)
	if !ok || s == "" {
		return nil, false
	}
	st.scratch[0] = s
	return st.scratch[:], true
}

// resolveVar returns the value of a policy variable: the key must have
// exactly one value.
func (st *evalState) resolveVar(key string) (string, bool) {
	if st.ctx != nil {
		if v, ok := st.ctx.Lookup(key); ok {
			if len(v) == 1 {
				return v[0], true
			}
			return "", false
		}
	}
	s, ok := st.derived(key)
	return s, ok && s != ""
}

// derived returns keys the evaluator knows from the principal and the
// request time.
func (st *evalState) derived(key string) (string, bool) {
	if !strings.HasPrefix(key, "aws:") {
		return "", false
	}
	switch key {
	case "aws:currenttime":
		if st.now.IsZero() {
			return "", false
		}
		return st.now.UTC().Format(time.RFC3339), true
	case "aws:epochtime":
		if st.now.IsZero() {
			return "", false
		}
		return strconv.FormatInt(st.now.Unix(), 10), true
	}
	p := st.p
	if p == nil {
		return "", false
	}
	switch key {
	case "aws:principalarn":
		return p.principalArn(), true
	case "aws:principalaccount":
		return p.Account, true
	case "aws:principaltype":
		return p.Type.String(), true
	case "aws:userid":
		return p.UserID, true
	case "aws:username":
		if p.Type == PrincipalUser {
			return p.Username, true
		}
		return "", false
	case "aws:principalisawsservice":
		if p.Type == PrincipalService {
			return "true", true
		}
		return "false", true
	case "aws:principalservicename":
		return p.Service, true
	case "aws:sourceidentity":
		return p.SourceIdentity, true
	case "aws:federatedprovider":
		return p.FederatedProvider, true
	}
	if tag, ok := strings.CutPrefix(key, "aws:principaltag/"); ok {
		return p.tag(tag)
	}
	return "", false
}
