package identity

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/coffer-dev/coffer/internal/iam"
)

// IAM management operations. Every mutation first takes the account-wide
// IAM lock (held until the unit of work in ctx commits), so read-modify-
// write sequences across documents (attachments, deletion conflicts) are
// serialized.

func (s *Service) lockIAM(ctx context.Context) error {
	return s.store.UpdateDoc(ctx, DocLock, "iam", func(cur *Doc) (*Doc, error) { return cur, nil })
}

func (s *Service) timestamp() time.Time { return s.now().UTC().Truncate(time.Second) }

// Entity returns a user or role by name (case-insensitive).
func (s *Service) Entity(ctx context.Context, kind EntityKind, name string) (*Entity, error) {
	return s.entity(ctx, kind, name)
}

func (s *Service) entity(ctx context.Context, kind EntityKind, name string) (*Entity, error) {
	d, err := s.store.Doc(ctx, string(kind), docName(name))
	if errors.Is(err, ErrNoSuchDoc) {
		return nil, noSuchEntity(kind, name)
	}
	if err != nil {
		return nil, err
	}
	return unmarshalDoc[Entity](d)
}

// updateEntity runs fn on a copy of the entity under its lock and stores it.
func (s *Service) updateEntity(ctx context.Context, kind EntityKind, name string, fn func(e *Entity) error) (*Entity, error) {
	var out *Entity
	err := s.store.UpdateDoc(ctx, string(kind), docName(name), func(cur *Doc) (*Doc, error) {
		if cur == nil {
			return nil, noSuchEntity(kind, name)
		}
		e, err := unmarshalDoc[Entity](cur)
		if err != nil {
			return nil, err
		}
		if err := fn(e); err != nil {
			return nil, err
		}
		out = e
		return marshalDoc(string(kind), docName(e.Name), e)
	})
	return out, err
}

// CreateEntityInput creates a user or a role.
type CreateEntityInput struct {
	Kind     EntityKind
	Name     string
	Path     string
	Boundary string
	Tags     []Tag
	// Roles only.
	TrustPolicy        string
	Description        string
	MaxSessionDuration int // 0 = 3600
}

// CreateEntity creates a user or role (CreateUser, CreateRole).
func (s *Service) CreateEntity(ctx context.Context, in CreateEntityInput) (*Entity, error) {
	member := "userName"
	if in.Kind == KindRole {
		member = "roleName"
	}
	if err := checkName(member, in.Name, 64); err != nil {
		return nil, err
	}
	path, err := checkPath("path", in.Path)
	if err != nil {
		return nil, err
	}
	if err := CheckTags(in.Tags); err != nil {
		return nil, err
	}
	e := &Entity{Kind: in.Kind, Name: in.Name, Path: path, CreatedAt: s.timestamp(), Tags: in.Tags}
	if in.Kind == KindRole {
		e.ID = newUniqueID("AROA")
		e.ARN = arnFor(s.account, "role", path, in.Name)
		if err := s.checkTrustPolicy(ctx, in.TrustPolicy); err != nil {
			return nil, err
		}
		e.TrustPolicy = in.TrustPolicy
		if len(in.Description) > 1000 {
			return nil, validationError("description", in.Description, cLenMax+"1000")
		}
		e.Description = in.Description
		e.MaxSessionDuration = in.MaxSessionDuration
		if e.MaxSessionDuration == 0 {
			e.MaxSessionDuration = 3600
		}
		if e.MaxSessionDuration < 3600 || e.MaxSessionDuration > 43200 {
			return nil, validationError("maxSessionDuration", strconv.Itoa(e.MaxSessionDuration), "Member must have value less than or equal to 43200")
		}
	} else {
		e.ID = newUniqueID("AIDA")
		e.ARN = arnFor(s.account, "user", path, in.Name)
	}
	if err := s.lockIAM(ctx); err != nil {
		return nil, err
	}
	if in.Boundary != "" {
		if _, err := s.attachable(ctx, in.Boundary); err != nil {
			return nil, err
		}
		e.Boundary = in.Boundary
	}
	err = s.store.UpdateDoc(ctx, string(in.Kind), docName(in.Name), func(cur *Doc) (*Doc, error) {
		if cur != nil {
			if in.Kind == KindRole {
				return nil, errorf(ErrEntityExists, "Role with name %s already exists.", in.Name)
			}
			return nil, errorf(ErrEntityExists, "User with name %s already exists.", in.Name)
		}
		return marshalDoc(string(in.Kind), docName(in.Name), e)
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

// ListEntities lists users or roles whose path starts with pathPrefix.
func (s *Service) ListEntities(ctx context.Context, kind EntityKind, pathPrefix string) ([]*Entity, error) {
	return listDocs(ctx, s.store, string(kind), func(e *Entity) bool { return strings.HasPrefix(e.Path, pathPrefix) })
}

// DeleteEntity deletes a user or role that has no access keys, inline
// policies or attached policies left.
func (s *Service) DeleteEntity(ctx context.Context, kind EntityKind, name string) error {
	if err := s.lockIAM(ctx); err != nil {
		return err
	}
	e, err := s.entity(ctx, kind, name)
	if err != nil {
		return err
	}
	if kind == KindUser {
		keys, err := s.store.ListAccessKeys(ctx, e.Name)
		if err != nil {
			return err
		}
		if len(keys) > 0 {
			return errorf(ErrDeleteConflict, "Cannot delete entity, must delete access keys first.")
		}
	}
	if len(e.Inline) > 0 {
		return errorf(ErrDeleteConflict, "Cannot delete entity, must delete policies first.")
	}
	if len(e.Attached) > 0 {
		return errorf(ErrDeleteConflict, "Cannot delete entity, must detach all policies first.")
	}
	return s.store.UpdateDoc(ctx, string(kind), docName(name), func(cur *Doc) (*Doc, error) { return nil, nil })
}

// UpdateRole changes a role's description and maximum session duration.
func (s *Service) UpdateRole(ctx context.Context, name string, description *string, maxSession *int) error {
	if maxSession != nil && (*maxSession < 3600 || *maxSession > 43200) {
		return validationError("maxSessionDuration", strconv.Itoa(*maxSession), "Member must have value less than or equal to 43200")
	}
	if err := s.lockIAM(ctx); err != nil {
		return err
	}
	_, err := s.updateEntity(ctx, KindRole, name, func(e *Entity) error {
		if description != nil {
			e.Description = *description
		}
		if maxSession != nil {
			e.MaxSessionDuration = *maxSession
		}
		return nil
	})
	return err
}

// checkTrustPolicy validates a role trust policy, including that the IAM
// users and roles of this account it names exist.
func (s *Service) checkTrustPolicy(ctx context.Context, doc string) error {
	if nonSpaceLen(doc) > maxTrustPolicySize {
		return errorf(ErrLimitExceeded, "Cannot exceed quota for ACLSizePerRole: %d", maxTrustPolicySize)
	}
	p, err := parsePolicy(doc, iam.KindTrust)
	if err != nil {
		return err
	}
	for _, ref := range p.Principals() {
		if ref.Type != "AWS" {
			continue
		}
		acct, typ, name, ok := ParseIAMARN(ref.Value)
		if !ok || acct != s.account || (typ != "user" && typ != "role") {
			continue
		}
		e, err := s.entity(ctx, EntityKind(typ), name)
		if errors.Is(err, ErrNoSuchEntity) || (err == nil && e.ARN != ref.Value) {
			return &Error{Kind: ErrMalformedPolicy, Message: iam.NewInvalidPrincipalError(ref).Message}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// UpdateTrustPolicy replaces a role's trust policy (UpdateAssumeRolePolicy).
func (s *Service) UpdateTrustPolicy(ctx context.Context, name, doc string) error {
	if err := s.lockIAM(ctx); err != nil {
		return err
	}
	if err := s.checkTrustPolicy(ctx, doc); err != nil {
		return err
	}
	_, err := s.updateEntity(ctx, KindRole, name, func(e *Entity) error {
		e.TrustPolicy = doc
		return nil
	})
	return err
}

// PutInlinePolicy adds or replaces an inline policy (PutUserPolicy, PutRolePolicy).
func (s *Service) PutInlinePolicy(ctx context.Context, kind EntityKind, name, policyName, doc string) error {
	if err := checkName("policyName", policyName, 128); err != nil {
		return err
	}
	if _, err := parsePolicy(doc, iam.KindIdentity); err != nil {
		return err
	}
	if err := s.lockIAM(ctx); err != nil {
		return err
	}
	_, err := s.updateEntity(ctx, kind, name, func(e *Entity) error {
		total := nonSpaceLen(doc)
		replaced := false
		for i := range e.Inline {
			if e.Inline[i].Name == policyName {
				e.Inline[i].Document = doc
				replaced = true
			} else {
				total += nonSpaceLen(e.Inline[i].Document)
			}
		}
		limit := maxInlineUserPolicies
		if kind == KindRole {
			limit = maxInlineRolePolicies
		}
		if total > limit {
			return errorf(ErrLimitExceeded, "Maximum policy size of %d bytes exceeded for %s %s", limit, kind, e.Name)
		}
		if !replaced {
			e.Inline = append(e.Inline, InlinePolicy{Name: policyName, Document: doc})
		}
		return nil
	})
	return err
}

// InlinePolicy returns one inline policy of a user or role.
func (s *Service) InlinePolicy(ctx context.Context, kind EntityKind, name, policyName string) (*Entity, *InlinePolicy, error) {
	e, err := s.entity(ctx, kind, name)
	if err != nil {
		return nil, nil, err
	}
	for i := range e.Inline {
		if e.Inline[i].Name == policyName {
			return e, &e.Inline[i], nil
		}
	}
	return nil, nil, errorf(ErrNoSuchEntity, "The %s policy with name %s cannot be found.", kind, policyName)
}

// DeleteInlinePolicy removes an inline policy.
func (s *Service) DeleteInlinePolicy(ctx context.Context, kind EntityKind, name, policyName string) error {
	if err := s.lockIAM(ctx); err != nil {
		return err
	}
	_, err := s.updateEntity(ctx, kind, name, func(e *Entity) error {
		i := slices.IndexFunc(e.Inline, func(p InlinePolicy) bool { return p.Name == policyName })
		if i < 0 {
			return errorf(ErrNoSuchEntity, "The %s policy with name %s cannot be found.", kind, policyName)
		}
		e.Inline = slices.Delete(e.Inline, i, i+1)
		return nil
	})
	return err
}

// attachable returns the managed policy an ARN names, or the error
// Attach*Policy and Put*PermissionsBoundary give.
func (s *Service) attachable(ctx context.Context, arn string) (*ManagedPolicy, error) {
	p, err := s.Policy(ctx, arn)
	if errors.Is(err, ErrNoSuchEntity) {
		return nil, errorf(ErrNoSuchEntity, "Policy %s does not exist or is not attachable.", arn)
	}
	return p, err
}

// AttachPolicy attaches a managed policy to a user or role.
func (s *Service) AttachPolicy(ctx context.Context, kind EntityKind, name, arn string) error {
	if err := s.lockIAM(ctx); err != nil {
		return err
	}
	if _, err := s.attachable(ctx, arn); err != nil {
		return err
	}
	_, err := s.updateEntity(ctx, kind, name, func(e *Entity) error {
		if slices.Contains(e.Attached, arn) {
			return nil
		}
		if len(e.Attached) >= maxAttachedPolicies {
			return errorf(ErrLimitExceeded, "Cannot exceed quota for PoliciesPer%s: %d", quotaNoun(kind), maxAttachedPolicies)
		}
		e.Attached = append(e.Attached, arn)
		return nil
	})
	return err
}

func quotaNoun(kind EntityKind) string {
	if kind == KindRole {
		return "Role"
	}
	return "User"
}

// DetachPolicy detaches a managed policy.
func (s *Service) DetachPolicy(ctx context.Context, kind EntityKind, name, arn string) error {
	if err := s.lockIAM(ctx); err != nil {
		return err
	}
	_, err := s.updateEntity(ctx, kind, name, func(e *Entity) error {
		i := slices.Index(e.Attached, arn)
		if i < 0 {
			return noSuchPolicy(arn)
		}
		e.Attached = slices.Delete(e.Attached, i, i+1)
		return nil
	})
	return err
}

// TagEntity adds or overwrites tags.
func (s *Service) TagEntity(ctx context.Context, kind EntityKind, name string, tags []Tag) error {
	if err := CheckTags(tags); err != nil {
		return err
	}
	if err := s.lockIAM(ctx); err != nil {
		return err
	}
	_, err := s.updateEntity(ctx, kind, name, func(e *Entity) error {
		e.Tags = mergeTags(e.Tags, tags)
		if len(e.Tags) > MaxTags {
			return errorf(ErrLimitExceeded, "Cannot exceed quota for TagsPerEntity: %d", MaxTags)
		}
		return nil
	})
	return err
}

// UntagEntity removes tags by key.
func (s *Service) UntagEntity(ctx context.Context, kind EntityKind, name string, keys []string) error {
	if err := s.lockIAM(ctx); err != nil {
		return err
	}
	_, err := s.updateEntity(ctx, kind, name, func(e *Entity) error {
		e.Tags = removeTags(e.Tags, keys)
		return nil
	})
	return err
}

// PutBoundary sets the permissions boundary.
func (s *Service) PutBoundary(ctx context.Context, kind EntityKind, name, arn string) error {
	if err := s.lockIAM(ctx); err != nil {
		return err
	}
	if _, err := s.attachable(ctx, arn); err != nil {
		return err
	}
	_, err := s.updateEntity(ctx, kind, name, func(e *Entity) error {
		e.Boundary = arn
		return nil
	})
	return err
}

// DeleteBoundary removes the permissions boundary.
func (s *Service) DeleteBoundary(ctx context.Context, kind EntityKind, name string) error {
	if err := s.lockIAM(ctx); err != nil {
		return err
	}
	_, err := s.updateEntity(ctx, kind, name, func(e *Entity) error {
		e.Boundary = ""
		return nil
	})
	return err
}

// ---- access keys ----

// CreateAccessKey creates an access key for a user ("" = the account
// root) and returns it with its secret, which is never retrievable again.
func (s *Service) CreateAccessKey(ctx context.Context, userName string) (*AccessKey, string, error) {
	if err := s.lockIAM(ctx); err != nil {
		return nil, "", err
	}
	principal := s.RootARN()
	owner := ""
	if userName != "" {
		u, err := s.entity(ctx, KindUser, userName)
		if err != nil {
			return nil, "", err
		}
		principal, owner = u.ARN, u.Name
	}
	keys, err := s.store.ListAccessKeys(ctx, owner)
	if err != nil {
		return nil, "", err
	}
	if len(keys) >= maxAccessKeysPerUser {
		return nil, "", errorf(ErrLimitExceeded, "Cannot exceed quota for AccessKeysPerUser: %d", maxAccessKeysPerUser)
	}
	c := Credentials{AccessKeyID: NewAccessKeyID(), SecretAccessKey: NewSecretAccessKey()}
	if err := s.putKey(ctx, owner, principal, c); err != nil {
		return nil, "", err
	}
	k, err := s.store.AccessKey(ctx, c.AccessKeyID)
	if err != nil {
		return nil, "", err
	}
	return k, c.SecretAccessKey, nil
}

// UserAccessKeys lists a user's access keys ("" = root).
func (s *Service) UserAccessKeys(ctx context.Context, userName string) ([]*AccessKey, error) {
	owner := ""
	if userName != "" {
		u, err := s.entity(ctx, KindUser, userName)
		if err != nil {
			return nil, err
		}
		owner = u.Name
	}
	return s.store.ListAccessKeys(ctx, owner)
}

func (s *Service) userKey(ctx context.Context, userName, id string) (*AccessKey, error) {
	owner := ""
	if userName != "" {
		u, err := s.entity(ctx, KindUser, userName)
		if err != nil {
			return nil, err
		}
		owner = u.Name
	}
	k, err := s.store.AccessKey(ctx, id)
	if errors.Is(err, ErrNoSuchAccessKey) || (err == nil && (k.UserName != owner || k.Session != nil)) {
		return nil, errorf(ErrNoSuchEntity, "The Access Key with id %s cannot be found.", id)
	}
	return k, err
}

// UpdateAccessKey sets a key Active or Inactive.
func (s *Service) UpdateAccessKey(ctx context.Context, userName, id, status string) error {
	if status != "Active" && status != "Inactive" {
		return validationError("status", status, "Member must satisfy enum value set: [Active, Inactive, Expired]")
	}
	if err := s.lockIAM(ctx); err != nil {
		return err
	}
	k, err := s.userKey(ctx, userName, id)
	if err != nil {
		return err
	}
	n := *k
	n.Status = status
	return s.store.PutAccessKey(ctx, &n)
}

// DeleteAccessKey deletes a user's access key.
func (s *Service) DeleteAccessKey(ctx context.Context, userName, id string) error {
	if err := s.lockIAM(ctx); err != nil {
		return err
	}
	if _, err := s.userKey(ctx, userName, id); err != nil {
		return err
	}
	return s.store.DeleteAccessKey(ctx, id)
}

// ---- managed policies ----

// AWSManagedPolicyARNPrefix is where AWS managed policies live.
const AWSManagedPolicyARNPrefix = "arn:aws:iam::aws:policy/"

// builtinPolicies are the AWS managed policies Coffer knows.
var builtinPolicies = map[string]string{
	"AdministratorAccess": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`,
}

func builtinPolicy(arn string) *ManagedPolicy {
	name, ok := strings.CutPrefix(arn, AWSManagedPolicyARNPrefix)
	if !ok {
		return nil
	}
	doc, ok := builtinPolicies[name]
	if !ok {
		return nil
	}
	epoch := time.Date(2015, 2, 6, 18, 39, 46, 0, time.UTC)
	return &ManagedPolicy{Name: name, ID: "ANPAIWMBCKSKIEE64ZLYK", Path: "/", ARN: arn, CreatedAt: epoch, UpdatedAt: epoch,
		DefaultVersion: "v1", Versions: []PolicyVersion{{ID: "v1", Document: doc, CreatedAt: epoch}}, NextVersion: 2}
}

// policyName returns the document name of a customer managed policy ARN of
// this account.
func (s *Service) policyName(arn string) (string, bool) {
	acct, typ, name, ok := ParseIAMARN(arn)
	if !ok || acct != s.account || typ != "policy" {
		return "", false
	}
	return name, true
}

// Policy returns a managed policy by ARN.
func (s *Service) Policy(ctx context.Context, arn string) (*ManagedPolicy, error) {
	if p := builtinPolicy(arn); p != nil {
		return p, nil
	}
	name, ok := s.policyName(arn)
	if !ok {
		return nil, noSuchPolicy(arn)
	}
	d, err := s.store.Doc(ctx, DocPolicy, docName(name))
	if errors.Is(err, ErrNoSuchDoc) {
		return nil, noSuchPolicy(arn)
	}
	if err != nil {
		return nil, err
	}
	p, err := unmarshalDoc[ManagedPolicy](d)
	if err != nil {
		return nil, err
	}
	if p.ARN != arn {
		return nil, noSuchPolicy(arn)
	}
	return p, nil
}

// CreatePolicyInput creates a customer managed policy.
type CreatePolicyInput struct {
	Name, Path, Document, Description string
	Tags                              []Tag
}

func checkManagedDocument(doc string) error {
	p, err := parsePolicy(doc, iam.KindIdentity)
	if err != nil {
		return err
	}
	if err := requireCurrentVersion(p); err != nil {
		return err
	}
	if nonSpaceLen(doc) > maxManagedPolicySize {
		return errorf(ErrLimitExceeded, "Cannot exceed quota for PolicySize: %d", maxManagedPolicySize)
	}
	return nil
}

// CreatePolicy creates a customer managed policy with version v1.
func (s *Service) CreatePolicy(ctx context.Context, in CreatePolicyInput) (*ManagedPolicy, error) {
	if err := checkName("policyName", in.Name, 128); err != nil {
		return nil, err
	}
	path, err := checkPolicyPath("path", in.Path)
	if err != nil {
		return nil, err
	}
	if len(in.Description) > 1000 {
		return nil, validationError("description", in.Description, cLenMax+"1000")
	}
	if err := CheckTags(in.Tags); err != nil {
		return nil, err
	}
	if err := checkManagedDocument(in.Document); err != nil {
		return nil, err
	}
	if err := s.lockIAM(ctx); err != nil {
		return nil, err
	}
	now := s.timestamp()
	p := &ManagedPolicy{Name: in.Name, ID: newUniqueID("ANPA"), Path: path, ARN: arnFor(s.account, "policy", path, in.Name),
		Description: in.Description, CreatedAt: now, UpdatedAt: now, DefaultVersion: "v1",
		Versions: []PolicyVersion{{ID: "v1", Document: in.Document, CreatedAt: now}}, NextVersion: 2, Tags: in.Tags}
	err = s.store.UpdateDoc(ctx, DocPolicy, docName(in.Name), func(cur *Doc) (*Doc, error) {
		if cur != nil {
			return nil, errorf(ErrEntityExists, "A policy called %s already exists. Duplicate names are not allowed.", in.Name)
		}
		return marshalDoc(DocPolicy, docName(in.Name), p)
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// ListPolicies lists the customer managed policies (Scope Local).
func (s *Service) ListPolicies(ctx context.Context) ([]*ManagedPolicy, error) {
	return listDocs[ManagedPolicy](ctx, s.store, DocPolicy, nil)
}

// BuiltinPolicies lists the AWS managed policies Coffer knows.
func BuiltinPolicies() []*ManagedPolicy {
	names := make([]string, 0, len(builtinPolicies))
	for n := range builtinPolicies {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]*ManagedPolicy, len(names))
	for i, n := range names {
		out[i] = builtinPolicy(AWSManagedPolicyARNPrefix + n)
	}
	return out
}

// PolicyUsage counts, per policy ARN, the users and roles it is attached to
// and those that use it as their permissions boundary.
type PolicyUsage struct{ Attachments, Boundaries int }

// PolicyUsages scans every user and role.
func (s *Service) PolicyUsages(ctx context.Context) (map[string]PolicyUsage, error) {
	out := map[string]PolicyUsage{}
	for _, kind := range []EntityKind{KindUser, KindRole} {
		es, err := s.ListEntities(ctx, kind, "")
		if err != nil {
			return nil, err
		}
		for _, e := range es {
			for _, a := range e.Attached {
				u := out[a]
				u.Attachments++
				out[a] = u
			}
			if e.Boundary != "" {
				u := out[e.Boundary]
				u.Boundaries++
				out[e.Boundary] = u
			}
		}
	}
	return out, nil
}

// DeletePolicy deletes a customer managed policy that is not attached,
// not used as a boundary, and has no version but the default.
func (s *Service) DeletePolicy(ctx context.Context, arn string) error {
	if err := s.lockIAM(ctx); err != nil {
		return err
	}
	p, err := s.Policy(ctx, arn)
	if err != nil {
		return err
	}
	if builtinPolicy(arn) != nil {
		return errorf(ErrInvalidInput, "ARN %s is not valid.", arn)
	}
	usage, err := s.PolicyUsages(ctx)
	if err != nil {
		return err
	}
	if u := usage[arn]; u.Attachments > 0 || u.Boundaries > 0 {
		return errorf(ErrDeleteConflict, "Cannot delete a policy attached to entities.")
	}
	if len(p.Versions) > 1 {
		return errorf(ErrDeleteConflict, "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.")
	}
	return s.store.UpdateDoc(ctx, DocPolicy, docName(p.Name), func(*Doc) (*Doc, error) { return nil, nil })
}

func (s *Service) updatePolicy(ctx context.Context, arn string, fn func(p *ManagedPolicy) error) (*ManagedPolicy, error) {
	if builtinPolicy(arn) != nil {
		return nil, errorf(ErrInvalidInput, "ARN %s is not valid.", arn)
	}
	name, ok := s.policyName(arn)
	if !ok {
		return nil, noSuchPolicy(arn)
	}
	var out *ManagedPolicy
	err := s.store.UpdateDoc(ctx, DocPolicy, docName(name), func(cur *Doc) (*Doc, error) {
		if cur == nil {
			return nil, noSuchPolicy(arn)
		}
		p, err := unmarshalDoc[ManagedPolicy](cur)
		if err != nil {
			return nil, err
		}
		if p.ARN != arn {
			return nil, noSuchPolicy(arn)
		}
		if err := fn(p); err != nil {
			return nil, err
		}
		out = p
		return marshalDoc(DocPolicy, docName(name), p)
	})
	return out, err
}

// CreatePolicyVersion adds a version, optionally making it the default.
func (s *Service) CreatePolicyVersion(ctx context.Context, arn, doc string, setDefault bool) (*PolicyVersion, error) {
	if err := checkManagedDocument(doc); err != nil {
		return nil, err
	}
	if err := s.lockIAM(ctx); err != nil {
		return nil, err
	}
	var v PolicyVersion
	_, err := s.updatePolicy(ctx, arn, func(p *ManagedPolicy) error {
		if len(p.Versions) >= maxPolicyVersions {
			return errorf(ErrLimitExceeded, "A managed policy can have up to %d versions. Before you create a new version, you must delete an existing version.", maxPolicyVersions)
		}
		now := s.timestamp()
		v = PolicyVersion{ID: "v" + strconv.Itoa(p.NextVersion), Document: doc, CreatedAt: now}
		p.NextVersion++
		p.Versions = append(p.Versions, v)
		if setDefault {
			p.DefaultVersion = v.ID
		}
		p.UpdatedAt = now
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &v, nil
}

func noSuchVersion(arn, vid string) *Error {
	return errorf(ErrNoSuchEntity, "Policy %s version %s does not exist or is not attachable.", arn, vid)
}

// DeletePolicyVersion deletes a non-default version.
func (s *Service) DeletePolicyVersion(ctx context.Context, arn, vid string) error {
	if err := s.lockIAM(ctx); err != nil {
		return err
	}
	_, err := s.updatePolicy(ctx, arn, func(p *ManagedPolicy) error {
		i := slices.IndexFunc(p.Versions, func(v PolicyVersion) bool { return v.ID == vid })
		if i < 0 {
			return noSuchVersion(arn, vid)
		}
		if vid == p.DefaultVersion {
			return errorf(ErrDeleteConflict, "Cannot delete the default version of a policy.")
		}
		p.Versions = slices.Delete(p.Versions, i, i+1)
		return nil
	})
	return err
}

// SetDefaultPolicyVersion makes a version the default.
func (s *Service) SetDefaultPolicyVersion(ctx context.Context, arn, vid string) error {
	if err := s.lockIAM(ctx); err != nil {
		return err
	}
	_, err := s.updatePolicy(ctx, arn, func(p *ManagedPolicy) error {
		if p.Version(vid) == nil {
			return noSuchVersion(arn, vid)
		}
		p.DefaultVersion = vid
		p.UpdatedAt = s.timestamp()
		return nil
	})
	return err
}

// PolicyVersionOf returns one version of a managed policy.
func (s *Service) PolicyVersionOf(ctx context.Context, arn, vid string) (*ManagedPolicy, *PolicyVersion, error) {
	p, err := s.Policy(ctx, arn)
	if err != nil {
		return nil, nil, err
	}
	v := p.Version(vid)
	if v == nil {
		return nil, nil, noSuchVersion(arn, vid)
	}
	return p, v, nil
}

// ---- OpenID Connect providers ----

// OIDCProviderInput registers a provider.
type OIDCProviderInput struct {
	URL         string
	ClientIDs   []string
	Thumbprints []string
	Tags        []Tag
	JWKS        string // static key set (bootstrap only)
	JWKSURI     string // key set URL (bootstrap; or the coffer:jwks-uri tag)
}

// checkIssuerURL accepts https URLs, and http URLs on loopback hosts (for
// tests and local development).
func checkIssuerURL(u string) error {
	rest, ok := strings.CutPrefix(u, "https://")
	if !ok {
		rest, ok = strings.CutPrefix(u, "http://")
		if ok {
			host := rest
			if i := strings.IndexAny(host, "/?#"); i >= 0 {
				host = host[:i]
			}
			if h, _, found := strings.Cut(host, ":"); found {
				host = h
			}
			ok = host == "127.0.0.1" || host == "localhost" || host == "[::1]"
		}
	}
	if !ok || rest == "" || strings.ContainsAny(rest, "?# ") || len(u) > 255 {
		return errorf(ErrInvalidInput, "Invalid Openid Connect Provider URL")
	}
	return nil
}

func (s *Service) oidcARN(url string) string {
	return "arn:aws:iam::" + s.account + ":oidc-provider/" + ProviderKey(url)
}

// CreateOIDCProvider registers an OpenID Connect provider.
func (s *Service) CreateOIDCProvider(ctx context.Context, in OIDCProviderInput) (*OIDCProvider, error) {
	if err := checkIssuerURL(in.URL); err != nil {
		return nil, err
	}
	if len(in.ClientIDs) > 100 {
		return nil, errorf(ErrLimitExceeded, "Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: 100")
	}
	for _, c := range in.ClientIDs {
		if c == "" || len(c) > 255 {
			return nil, validationError("clientIDList", c, cLenMax+"255")
		}
	}
	for _, t := range in.Thumbprints {
		if len(t) != 40 {
			return nil, validationError("thumbprintList", t, cLenMin+"40")
		}
	}
	if err := CheckTags(in.Tags); err != nil {
		return nil, err
	}
	if in.JWKS != "" {
		if _, err := ParseJWKS([]byte(in.JWKS)); err != nil {
			return nil, errorf(ErrInvalidInput, "The JSON Web Key Set of the provider is not valid: %v", err)
		}
	}
	jwksURI := in.JWKSURI
	if i := findTag(in.Tags, JWKSURITag); i >= 0 && jwksURI == "" {
		jwksURI = in.Tags[i].Value
	}
	if jwksURI != "" {
		if err := checkIssuerURL(jwksURI); err != nil {
			return nil, errorf(ErrInvalidInput, "Invalid JWKS URL")
		}
	}
	if err := s.lockIAM(ctx); err != nil {
		return nil, err
	}
	p := &OIDCProvider{ARN: s.oidcARN(in.URL), URL: strings.TrimSuffix(in.URL, "/"), ClientIDs: in.ClientIDs, Thumbprints: in.Thumbprints,
		CreatedAt: s.timestamp(), Tags: in.Tags, JWKS: in.JWKS, JWKSURI: jwksURI}
	err := s.store.UpdateDoc(ctx, DocOIDC, p.Key(), func(cur *Doc) (*Doc, error) {
		if cur != nil {
			return nil, errorf(ErrEntityExists, "Provider with url %s already exists.", in.URL)
		}
		return marshalDoc(DocOIDC, p.Key(), p)
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

func noSuchOIDC(arn string) *Error {
	return errorf(ErrNoSuchEntity, "OpenIDConnect Provider not found for arn %s", arn)
}

func (s *Service) oidcKey(arn string) (string, bool) {
	acct, typ, key, ok := ParseIAMARN(arn)
	return key, ok && acct == s.account && typ == "oidc-provider"
}

// OIDCProvider returns a provider by ARN.
func (s *Service) OIDCProvider(ctx context.Context, arn string) (*OIDCProvider, error) {
	key, ok := s.oidcKey(arn)
	if !ok {
		return nil, noSuchOIDC(arn)
	}
	return s.oidcByKey(ctx, key, arn)
}

func (s *Service) oidcByKey(ctx context.Context, key, arn string) (*OIDCProvider, error) {
	d, err := s.store.Doc(ctx, DocOIDC, key)
	if errors.Is(err, ErrNoSuchDoc) {
		return nil, noSuchOIDC(arn)
	}
	if err != nil {
		return nil, err
	}
	return unmarshalDoc[OIDCProvider](d)
}

// ListOIDCProviders lists every provider.
func (s *Service) ListOIDCProviders(ctx context.Context) ([]*OIDCProvider, error) {
	return listDocs[OIDCProvider](ctx, s.store, DocOIDC, nil)
}

// DeleteOIDCProvider removes a provider.
func (s *Service) DeleteOIDCProvider(ctx context.Context, arn string) error {
	key, ok := s.oidcKey(arn)
	if !ok {
		return noSuchOIDC(arn)
	}
	if err := s.lockIAM(ctx); err != nil {
		return err
	}
	return s.store.UpdateDoc(ctx, DocOIDC, key, func(cur *Doc) (*Doc, error) {
		if cur == nil {
			return nil, noSuchOIDC(arn)
		}
		return nil, nil
	})
}

// updateOIDC replaces a provider's settings (bootstrap).
func (s *Service) putOIDC(ctx context.Context, p *OIDCProvider) error {
	return s.store.UpdateDoc(ctx, DocOIDC, p.Key(), func(*Doc) (*Doc, error) {
		return marshalDoc(DocOIDC, p.Key(), p)
	})
}
