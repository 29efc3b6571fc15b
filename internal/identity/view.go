package identity

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/coffer-dev/coffer/internal/iam"
)

// View is what policy evaluation needs to know about a caller: the iam
// principal and the compiled identity-based policies, permissions boundary
// and session policies. A View is immutable and shared; build an iam.Set
// from it per request (Set fills Identity, Boundary and Session).
type View struct {
	Principal iam.Principal
	Identity  []iam.Labeled
	Boundary  iam.Labeled
	Session   []iam.Labeled
	// TokenIssueTime is aws:TokenIssueTime for sessions ("" otherwise).
	TokenIssueTime string
	// RoleMissing: a session whose role no longer exists (it has no
	// permissions).
	RoleMissing bool

	deps []dep
}

// Set returns the policy set of the view (without a resource policy).
func (v *View) Set() iam.Set {
	return iam.Set{Identity: v.Identity, Boundary: v.Boundary, Session: v.Session}
}

// dep is a document a view was compiled from, at a revision.
type dep struct {
	kind, name string
	rev        int64
}

type viewCache struct {
	mu sync.RWMutex
	m  map[viewKey]*View
}

// viewKey names a cached view: a user (by name) or a session (by access
// key id). A struct key avoids building a string per request.
type viewKey struct {
	session bool
	name    string
}

const maxCachedViews = 20000

type compiledPolicy struct {
	rev int64
	p   *iam.Policy
	doc *ManagedPolicy
}

// policyCache holds compiled managed policies (default version) by name.
type policyCache struct {
	mu sync.Mutex
	m  map[string]*compiledPolicy
}

// View returns the compiled policy view of an authenticated caller. It is
// cached per principal and rebuilt when a document it was compiled from
// (the user or role, a managed policy) changes; checking that costs one
// store read per document.
func (s *Service) View(ctx context.Context, c *Caller) (*View, error) {
	if c.IsRoot() {
		return s.rootView(), nil
	}
	key := viewKey{session: c.Session != nil, name: c.UserName}
	if key.session {
		key.name = c.AccessKeyID
	}
	vc := &s.views
	vc.mu.RLock()
	v := vc.m[key]
	vc.mu.RUnlock()
	if v != nil {
		ok, err := s.fresh(ctx, v)
		if err != nil {
			return nil, err
		}
		if ok {
			return v, nil
		}
	}
	var err error
	if c.Session != nil {
		v, err = s.sessionView(ctx, c.ARN, c.Session)
	} else {
		v, err = s.userView(ctx, c.UserName)
	}
	if err != nil {
		return nil, err
	}
	vc.mu.Lock()
	if vc.m == nil || len(vc.m) >= maxCachedViews {
		vc.m = map[viewKey]*View{}
	}
	vc.m[key] = v
	vc.mu.Unlock()
	return v, nil
}

func (s *Service) rootView() *View {
	s.rootOnce.Do(func() {
		s.rootV = &View{Principal: iam.Principal{Type: iam.PrincipalRoot, ARN: s.RootARN(), Account: s.account, UserID: s.account}}
	})
	return s.rootV
}

// fresh reports whether every document a view was compiled from is still
// at the same revision (a missing document counts as revision 0).
func (s *Service) fresh(ctx context.Context, v *View) (bool, error) {
	for _, d := range v.deps {
		doc, err := s.store.Doc(ctx, d.kind, d.name)
		rev := int64(0)
		switch {
		case err == nil:
			rev = doc.Rev
		case !errors.Is(err, ErrNoSuchDoc):
			return false, err
		}
		if rev != d.rev {
			return false, nil
		}
	}
	return true, nil
}

// entityDoc reads an entity and its revision (0, nil entity if missing).
func (s *Service) entityDoc(ctx context.Context, kind EntityKind, name string) (*Entity, int64, error) {
	d, err := s.store.Doc(ctx, string(kind), docName(name))
	if errors.Is(err, ErrNoSuchDoc) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	e, err := unmarshalDoc[Entity](d)
	return e, d.Rev, err
}

// managed returns the compiled default version of a managed policy and
// records it as a dependency. A missing policy gives nil.
func (s *Service) managed(ctx context.Context, arn string, deps *[]dep) (*iam.Policy, error) {
	if b := builtinPolicy(arn); b != nil {
		p, err := iam.Parse(b.Default().Document, iam.KindIdentity)
		return p, err
	}
	name, ok := s.policyName(arn)
	if !ok {
		return nil, nil
	}
	dn := docName(name)
	d, err := s.store.Doc(ctx, DocPolicy, dn)
	if errors.Is(err, ErrNoSuchDoc) {
		*deps = append(*deps, dep{DocPolicy, dn, 0})
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	*deps = append(*deps, dep{DocPolicy, dn, d.Rev})
	pc := &s.policies
	pc.mu.Lock()
	cp := pc.m[dn]
	pc.mu.Unlock()
	if cp != nil && cp.rev == d.Rev {
		if cp.doc.ARN != arn {
			return nil, nil
		}
		return cp.p, nil
	}
	mp, err := unmarshalDoc[ManagedPolicy](d)
	if err != nil {
		return nil, err
	}
	v := mp.Default()
	if v == nil {
		return nil, nil
	}
	p, err := iam.Parse(v.Document, iam.KindIdentity)
	if err != nil {
		return nil, err
	}
	pc.mu.Lock()
	if pc.m == nil {
		pc.m = map[string]*compiledPolicy{}
	}
	pc.m[dn] = &compiledPolicy{rev: d.Rev, p: p, doc: mp}
	pc.mu.Unlock()
	if mp.ARN != arn {
		return nil, nil
	}
	return p, nil
}

// entityPolicies compiles an entity's inline and attached policies and its
// boundary into v.
func (s *Service) entityPolicies(ctx context.Context, e *Entity, v *View) error {
	for _, ip := range e.Inline {
		p, err := iam.Parse(ip.Document, iam.KindIdentity)
		if err != nil {
			continue // stored documents were validated; skip rather than fail every request
		}
		v.Identity = append(v.Identity, iam.Labeled{Label: string(e.Kind) + "/" + e.Name + " inline policy " + ip.Name, Policy: p})
	}
	for _, arn := range e.Attached {
		p, err := s.managed(ctx, arn, &v.deps)
		if err != nil {
			return err
		}
		if p != nil {
			v.Identity = append(v.Identity, iam.Labeled{Label: arn, Policy: p})
		}
	}
	if e.Boundary != "" {
		p, err := s.managed(ctx, e.Boundary, &v.deps)
		if err != nil {
			return err
		}
		if p == nil {
			// A boundary that no longer exists allows nothing.
			p, _ = iam.Parse(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotAction":"*","Resource":"*"}]}`, iam.KindBoundary)
		}
		v.Boundary = iam.Labeled{Label: e.Boundary, Policy: p}
	}
	return nil
}

func tagMap(tags ...[]Tag) map[string]string {
	n := 0
	for _, t := range tags {
		n += len(t)
	}
	if n == 0 {
		return nil
	}
	m := make(map[string]string, n)
	for _, ts := range tags {
		for _, t := range ts {
			for k := range m {
				if strings.EqualFold(k, t.Key) {
					delete(m, k)
				}
			}
			m[t.Key] = t.Value
		}
	}
	return m
}

func (s *Service) userView(ctx context.Context, name string) (*View, error) {
	e, rev, err := s.entityDoc(ctx, KindUser, name)
	if err != nil {
		return nil, err
	}
	v := &View{deps: []dep{{DocUser, docName(name), rev}}}
	if e == nil {
		// The user is gone (its keys go first, so this is a race): no
		// permissions.
		v.Principal = iam.Principal{Type: iam.PrincipalUser, ARN: arnFor(s.account, "user", "/", name), Account: s.account, Username: name}
		return v, nil
	}
	v.Principal = iam.Principal{Type: iam.PrincipalUser, ARN: e.ARN, Account: s.account, UserID: e.ID, Username: e.Name, Tags: tagMap(e.Tags)}
	if err := s.entityPolicies(ctx, e, v); err != nil {
		return nil, err
	}
	return v, nil
}

func (s *Service) sessionView(ctx context.Context, arn string, ss *Session) (*View, error) {
	e, rev, err := s.entityDoc(ctx, KindRole, ss.RoleName)
	if err != nil {
		return nil, err
	}
	v := &View{deps: []dep{{DocRole, docName(ss.RoleName), rev}}, TokenIssueTime: ss.IssuedAt.UTC().Format(time.RFC3339)}
	v.Principal = iam.Principal{Type: iam.PrincipalAssumedRole, ARN: arn, Account: s.account, UserID: ss.RoleID + ":" + ss.Name,
		RoleARN: ss.RoleARN, SourceIdentity: ss.SourceIdentity}
	if ss.WebIdentity != nil {
		v.Principal.FederatedProvider = ss.WebIdentity.ProviderARN
	}
	if e == nil || e.ID != ss.RoleID {
		v.RoleMissing = true
		v.Principal.Tags = tagMap(ss.Tags)
		return v, nil
	}
	v.Principal.Tags = tagMap(e.Tags, ss.Tags)
	if err := s.entityPolicies(ctx, e, v); err != nil {
		return nil, err
	}
	if ss.Policy != "" {
		p, err := iam.Parse(ss.Policy, iam.KindSession)
		if err != nil {
			p, _ = iam.Parse(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotAction":"*","Resource":"*"}]}`, iam.KindSession)
		}
		v.Session = append(v.Session, iam.Labeled{Label: "session policy", Policy: p})
	}
	for _, a := range ss.PolicyARNs {
		p, err := s.managed(ctx, a, &v.deps)
		if err != nil {
			return nil, err
		}
		if p == nil {
			continue
		}
		v.Session = append(v.Session, iam.Labeled{Label: a, Policy: p})
	}
	if len(v.Session) == 0 && (ss.Policy != "" || len(ss.PolicyARNs) > 0) {
		// Every session policy is gone: the session may do nothing.
		p, _ := iam.Parse(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotAction":"*","Resource":"*"}]}`, iam.KindSession)
		v.Session = append(v.Session, iam.Labeled{Label: "session policy", Policy: p})
	}
	return v, nil
}

// ViewOf returns the view of a principal named by ARN, for offline
// explanation: the account root, a user, an assumed-role session (without
// session policies), or a role (as a session named "explain").
func (s *Service) ViewOf(ctx context.Context, arn string) (*View, error) {
	if arn == s.RootARN() || arn == s.account {
		return s.rootView(), nil
	}
	if rest, ok := strings.CutPrefix(arn, "arn:aws:sts::"+s.account+":assumed-role/"); ok {
		role, sess, ok := strings.Cut(rest, "/")
		if !ok || sess == "" {
			return nil, errorf(ErrInvalidInput, "not a session ARN: %s", arn)
		}
		return s.roleSessionView(ctx, role, sess)
	}
	acct, typ, name, ok := ParseIAMARN(arn)
	if !ok || acct != s.account {
		return nil, errorf(ErrInvalidInput, "not a principal of account %s: %s", s.account, arn)
	}
	switch typ {
	case "user":
		e, err := s.entity(ctx, KindUser, name)
		if err != nil {
			return nil, err
		}
		return s.userView(ctx, e.Name)
	case "role":
		return s.roleSessionView(ctx, name, "explain")
	}
	return nil, errorf(ErrInvalidInput, "not a user, role or session ARN: %s", arn)
}

func (s *Service) roleSessionView(ctx context.Context, role, session string) (*View, error) {
	e, err := s.entity(ctx, KindRole, role)
	if err != nil {
		return nil, err
	}
	ss := &Session{RoleName: e.Name, RoleARN: e.ARN, RoleID: e.ID, Name: session, IssuedAt: s.now()}
	return s.sessionView(ctx, SessionARN(s.account, e.Name, session), ss)
}
