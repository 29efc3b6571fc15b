package awsapi

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/coffer-dev/coffer/internal/iam"
	"github.com/coffer-dev/coffer/internal/identity"
)

// IAM query API. Element names follow the botocore IAM model
// (iam/2010-05-08); policy documents in responses are URL-encoded, as IAM
// returns them.

type qhandler = func(context.Context, *call, *qparams) (any, error)

func (s *Server) iamHandlers() map[string]qhandler {
	h := map[string]qhandler{
		"CreateAccessKey":             s.iamCreateAccessKey,
		"ListAccessKeys":              s.iamListAccessKeys,
		"UpdateAccessKey":             s.iamUpdateAccessKey,
		"DeleteAccessKey":             s.iamDeleteAccessKey,
		"UpdateRole":                  s.iamUpdateRole,
		"UpdateAssumeRolePolicy":      s.iamUpdateAssumeRolePolicy,
		"CreatePolicy":                s.iamCreatePolicy,
		"GetPolicy":                   s.iamGetPolicy,
		"GetPolicyVersion":            s.iamGetPolicyVersion,
		"DeletePolicy":                s.iamDeletePolicy,
		"ListPolicies":                s.iamListPolicies,
		"CreatePolicyVersion":         s.iamCreatePolicyVersion,
		"DeletePolicyVersion":         s.iamDeletePolicyVersion,
		"ListPolicyVersions":          s.iamListPolicyVersions,
		"SetDefaultPolicyVersion":     s.iamSetDefaultPolicyVersion,
		"CreateOpenIDConnectProvider": s.iamCreateOIDCProvider,
		"GetOpenIDConnectProvider":    s.iamGetOIDCProvider,
		"ListOpenIDConnectProviders":  s.iamListOIDCProviders,
		"DeleteOpenIDConnectProvider": s.iamDeleteOIDCProvider,
	}
	for _, k := range []identity.EntityKind{identity.KindUser, identity.KindRole} {
		n := "User"
		if k == identity.KindRole {
			n = "Role"
		}
		h["Create"+n] = s.iamCreateEntity(k)
		h["Get"+n] = s.iamGetEntity(k)
		h["List"+n+"s"] = s.iamListEntities(k)
		h["Delete"+n] = s.iamDeleteEntity(k)
		h["Tag"+n] = s.iamTagEntity(k)
		h["Untag"+n] = s.iamUntagEntity(k)
		h["List"+n+"Tags"] = s.iamListEntityTags(k)
		h["Put"+n+"Policy"] = s.iamPutInline(k)
		h["Get"+n+"Policy"] = s.iamGetInline(k)
		h["Delete"+n+"Policy"] = s.iamDeleteInline(k)
		h["List"+n+"Policies"] = s.iamListInline(k)
		h["Attach"+n+"Policy"] = s.iamAttach(k)
		h["Detach"+n+"Policy"] = s.iamDetach(k)
		h["ListAttached"+n+"Policies"] = s.iamListAttached(k)
		h["Put"+n+"PermissionsBoundary"] = s.iamPutBoundary(k)
		h["Delete"+n+"PermissionsBoundary"] = s.iamDeleteBoundary(k)
	}
	return h
}

// ---- wire shapes ----

type xmlBoundary struct {
	PermissionsBoundaryType string `xml:"PermissionsBoundaryType"`
	PermissionsBoundaryArn  string `xml:"PermissionsBoundaryArn"`
}

type xmlUser struct {
	Path                string       `xml:"Path"`
	UserName            string       `xml:"UserName"`
	UserId              string       `xml:"UserId"`
	Arn                 string       `xml:"Arn"`
	CreateDate          xmlTime      `xml:"CreateDate"`
	PermissionsBoundary *xmlBoundary `xml:"PermissionsBoundary,omitempty"`
	Tags                *xmlTagSet   `xml:"Tags,omitempty"`
}

type xmlRole struct {
	Path                     string       `xml:"Path"`
	RoleName                 string       `xml:"RoleName"`
	RoleId                   string       `xml:"RoleId"`
	Arn                      string       `xml:"Arn"`
	CreateDate               xmlTime      `xml:"CreateDate"`
	AssumeRolePolicyDocument string       `xml:"AssumeRolePolicyDocument,omitempty"`
	Description              string       `xml:"Description,omitempty"`
	MaxSessionDuration       int          `xml:"MaxSessionDuration,omitempty"`
	PermissionsBoundary      *xmlBoundary `xml:"PermissionsBoundary,omitempty"`
	Tags                     *xmlTagSet   `xml:"Tags,omitempty"`
}

func boundaryOf(e *identity.Entity) *xmlBoundary {
	if e.Boundary == "" {
		return nil
	}
	return &xmlBoundary{PermissionsBoundaryType: "PermissionsBoundaryPolicy", PermissionsBoundaryArn: e.Boundary}
}

func wireUser(e *identity.Entity, tags bool) xmlUser {
	u := xmlUser{Path: e.Path, UserName: e.Name, UserId: e.ID, Arn: e.ARN, CreateDate: xmlTime(e.CreatedAt), PermissionsBoundary: boundaryOf(e)}
	if tags {
		u.Tags = xmlTags(e.Tags)
	}
	return u
}

func wireRole(e *identity.Entity, tags bool) xmlRole {
	r := xmlRole{Path: e.Path, RoleName: e.Name, RoleId: e.ID, Arn: e.ARN, CreateDate: xmlTime(e.CreatedAt),
		AssumeRolePolicyDocument: policyEscape(e.TrustPolicy), Description: e.Description, MaxSessionDuration: e.MaxSessionDuration,
		PermissionsBoundary: boundaryOf(e)}
	if tags {
		r.Tags = xmlTags(e.Tags)
	}
	return r
}

type xmlEntityResult struct {
	User *xmlUser `xml:"User,omitempty"`
	Role *xmlRole `xml:"Role,omitempty"`
}

func entityResult(e *identity.Entity, tags bool) *xmlEntityResult {
	if e.Kind == identity.KindRole {
		r := wireRole(e, tags)
		return &xmlEntityResult{Role: &r}
	}
	u := wireUser(e, tags)
	return &xmlEntityResult{User: &u}
}

type xmlListUsers struct {
	Users       []xmlUser `xml:"Users>member"`
	IsTruncated bool      `xml:"IsTruncated"`
	Marker      string    `xml:"Marker,omitempty"`
}

type xmlListRoles struct {
	Roles       []xmlRole `xml:"Roles>member"`
	IsTruncated bool      `xml:"IsTruncated"`
	Marker      string    `xml:"Marker,omitempty"`
}

type xmlTagPage struct {
	Tags        []xmlTag `xml:"Tags>member"`
	IsTruncated bool     `xml:"IsTruncated"`
	Marker      string   `xml:"Marker,omitempty"`
}

type xmlPolicyNames struct {
	PolicyNames []string `xml:"PolicyNames>member"`
	IsTruncated bool     `xml:"IsTruncated"`
	Marker      string   `xml:"Marker,omitempty"`
}

type xmlInlinePolicy struct {
	UserName       string `xml:"UserName,omitempty"`
	RoleName       string `xml:"RoleName,omitempty"`
	PolicyName     string `xml:"PolicyName"`
	PolicyDocument string `xml:"PolicyDocument"`
}

type xmlAttached struct {
	PolicyName string `xml:"PolicyName"`
	PolicyArn  string `xml:"PolicyArn"`
}

type xmlAttachedList struct {
	AttachedPolicies []xmlAttached `xml:"AttachedPolicies>member"`
	IsTruncated      bool          `xml:"IsTruncated"`
	Marker           string        `xml:"Marker,omitempty"`
}

type xmlAccessKey struct {
	UserName        string  `xml:"UserName,omitempty"`
	AccessKeyId     string  `xml:"AccessKeyId"`
	Status          string  `xml:"Status"`
	SecretAccessKey string  `xml:"SecretAccessKey,omitempty"`
	CreateDate      xmlTime `xml:"CreateDate"`
}

type xmlCreateAccessKey struct {
	AccessKey xmlAccessKey `xml:"AccessKey"`
}

type xmlListAccessKeys struct {
	AccessKeyMetadata []xmlAccessKey `xml:"AccessKeyMetadata>member"`
	IsTruncated       bool           `xml:"IsTruncated"`
	Marker            string         `xml:"Marker,omitempty"`
}

type xmlPolicy struct {
	PolicyName                    string     `xml:"PolicyName"`
	PolicyId                      string     `xml:"PolicyId"`
	Arn                           string     `xml:"Arn"`
	Path                          string     `xml:"Path"`
	DefaultVersionId              string     `xml:"DefaultVersionId"`
	AttachmentCount               int        `xml:"AttachmentCount"`
	PermissionsBoundaryUsageCount int        `xml:"PermissionsBoundaryUsageCount"`
	IsAttachable                  bool       `xml:"IsAttachable"`
	Description                   string     `xml:"Description,omitempty"`
	CreateDate                    xmlTime    `xml:"CreateDate"`
	UpdateDate                    xmlTime    `xml:"UpdateDate"`
	Tags                          *xmlTagSet `xml:"Tags,omitempty"`
}

type xmlPolicyResult struct {
	Policy xmlPolicy `xml:"Policy"`
}

type xmlPolicyVersion struct {
	Document         string  `xml:"Document,omitempty"`
	VersionId        string  `xml:"VersionId"`
	IsDefaultVersion bool    `xml:"IsDefaultVersion"`
	CreateDate       xmlTime `xml:"CreateDate"`
}

type xmlPolicyVersionResult struct {
	PolicyVersion xmlPolicyVersion `xml:"PolicyVersion"`
}

type xmlListPolicies struct {
	Policies    []xmlPolicy `xml:"Policies>member"`
	IsTruncated bool        `xml:"IsTruncated"`
	Marker      string      `xml:"Marker,omitempty"`
}

type xmlListPolicyVersions struct {
	Versions    []xmlPolicyVersion `xml:"Versions>member"`
	IsTruncated bool               `xml:"IsTruncated"`
	Marker      string             `xml:"Marker,omitempty"`
}

func wirePolicy(p *identity.ManagedPolicy, u identity.PolicyUsage, tags bool) xmlPolicy {
	w := xmlPolicy{PolicyName: p.Name, PolicyId: p.ID, Arn: p.ARN, Path: p.Path, DefaultVersionId: p.DefaultVersion,
		AttachmentCount: u.Attachments, PermissionsBoundaryUsageCount: u.Boundaries, IsAttachable: true,
		Description: p.Description, CreateDate: xmlTime(p.CreatedAt), UpdateDate: xmlTime(p.UpdatedAt)}
	if tags {
		w.Tags = xmlTags(p.Tags)
	}
	return w
}

// ---- authorization helpers ----

func (s *Server) iamARN(res, path, name string) string {
	return "arn:aws:iam::" + s.cfg.Account + ":" + res + path + name
}

func entityKeys(e *identity.Entity, extra func(*CondKeys)) func(*CondKeys) {
	return func(ck *CondKeys) {
		if e != nil {
			ck.svcTagPfx = "iam:resourcetag/"
			for _, t := range e.Tags {
				ck.ResourceTag(t.Key, t.Value)
			}
		}
		if extra != nil {
			extra(ck)
		}
	}
}

func requestTags(tags []identity.Tag) func(*CondKeys) {
	return func(ck *CondKeys) {
		for _, t := range tags {
			ck.RequestTag(t.Key, t.Value)
		}
	}
}

// iamEntity looks a user or role up and authorizes action on it. A missing
// entity is authorized against the ARN it would have with path "/" before
// NoSuchEntity is returned, so that callers without permission cannot
// probe names.
func (s *Server) iamEntity(ctx context.Context, c *call, kind identity.EntityKind, name, action string, extra func(*CondKeys)) (*identity.Entity, error) {
	e, err := s.cfg.Identity.Entity(ctx, kind, name)
	if errors.Is(err, identity.ErrNoSuchEntity) {
		if aerr := s.authorizeWith(ctx, c, action, s.iamARN(string(kind)+"/", "", name), iam.Labeled{}, extra); aerr != nil {
			return nil, aerr
		}
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	if aerr := s.authorizeWith(ctx, c, action, e.ARN, iam.Labeled{}, entityKeys(e, extra)); aerr != nil {
		return nil, aerr
	}
	return e, nil
}

func nameParam(kind identity.EntityKind) string {
	if kind == identity.KindRole {
		return "RoleName"
	}
	return "UserName"
}

func noun(kind identity.EntityKind) string {
	if kind == identity.KindRole {
		return "Role"
	}
	return "User"
}

// ---- users and roles ----

func (s *Server) iamCreateEntity(kind identity.EntityKind) qhandler {
	return func(ctx context.Context, c *call, q *qparams) (any, error) {
		in := identity.CreateEntityInput{Kind: kind, Name: q.req(nameParam(kind)), Path: q.str("Path"), Boundary: q.str("PermissionsBoundary"), Tags: q.tags("Tags")}
		if kind == identity.KindRole {
			in.TrustPolicy = q.req("AssumeRolePolicyDocument")
			in.Description = q.str("Description")
			if n := q.integer("MaxSessionDuration"); n != nil {
				in.MaxSessionDuration = *n
			}
		}
		if q.err != nil {
			return nil, q.err
		}
		path := in.Path
		if path == "" {
			path = "/"
		}
		err := s.authorizeWith(ctx, c, "iam:Create"+noun(kind), s.iamARN(string(kind)+"/", strings.TrimPrefix(path, "/"), in.Name), iam.Labeled{}, func(ck *CondKeys) {
			requestTags(in.Tags)(ck)
			if in.Boundary != "" {
				ck.Set("iam:PermissionsBoundary", in.Boundary)
			}
		})
		if err != nil {
			return nil, err
		}
		e, err := s.cfg.Identity.CreateEntity(ctx, in)
		if err != nil {
			return nil, err
		}
		return entityResult(e, true), nil
	}
}

func (s *Server) iamGetEntity(kind identity.EntityKind) qhandler {
	return func(ctx context.Context, c *call, q *qparams) (any, error) {
		name := q.str(nameParam(kind))
		if kind == identity.KindRole {
			name = q.req("RoleName")
		}
		if q.err != nil {
			return nil, q.err
		}
		if name == "" { // GetUser: the caller's own user
			switch {
			case c.caller.IsRoot():
				return &xmlEntityResult{User: &xmlUser{UserId: c.caller.Account, Arn: c.caller.ARN, CreateDate: xmlTime(s.now())}}, nil
			case c.caller.Type != identity.TypeUser:
				return nil, &apiError{Type: "ValidationError", Message: "Must specify userName when calling with non-User credentials", Status: http.StatusBadRequest}
			}
			name = c.caller.UserName
		}
		e, err := s.iamEntity(ctx, c, kind, name, "iam:Get"+noun(kind), nil)
		if err != nil {
			return nil, err
		}
		return entityResult(e, true), nil
	}
}

func (s *Server) iamListEntities(kind identity.EntityKind) qhandler {
	return func(ctx context.Context, c *call, q *qparams) (any, error) {
		prefix := q.str("PathPrefix")
		max, start := q.paging()
		if q.err != nil {
			return nil, q.err
		}
		if err := s.authorizeWith(ctx, c, "iam:List"+noun(kind)+"s", "*", iam.Labeled{}, nil); err != nil {
			return nil, err
		}
		es, err := s.cfg.Identity.ListEntities(ctx, kind, prefix)
		if err != nil {
			return nil, err
		}
		items, trunc, marker := page(es, max, start)
		if kind == identity.KindRole {
			out := &xmlListRoles{Roles: []xmlRole{}, IsTruncated: trunc, Marker: marker}
			for _, e := range items {
				out.Roles = append(out.Roles, wireRole(e, false))
			}
			return out, nil
		}
		out := &xmlListUsers{Users: []xmlUser{}, IsTruncated: trunc, Marker: marker}
		for _, e := range items {
			out.Users = append(out.Users, wireUser(e, false))
		}
		return out, nil
	}
}

func (s *Server) iamDeleteEntity(kind identity.EntityKind) qhandler {
	return func(ctx context.Context, c *call, q *qparams) (any, error) {
		name := q.req(nameParam(kind))
		if q.err != nil {
			return nil, q.err
		}
		if _, err := s.iamEntity(ctx, c, kind, name, "iam:Delete"+noun(kind), nil); err != nil {
			return nil, err
		}
		return nil, s.cfg.Identity.DeleteEntity(ctx, kind, name)
	}
}

func (s *Server) iamUpdateRole(ctx context.Context, c *call, q *qparams) (any, error) {
	name := q.req("RoleName")
	desc := q.opt("Description")
	max := q.integer("MaxSessionDuration")
	if q.err != nil {
		return nil, q.err
	}
	if _, err := s.iamEntity(ctx, c, identity.KindRole, name, "iam:UpdateRole", nil); err != nil {
		return nil, err
	}
	if err := s.cfg.Identity.UpdateRole(ctx, name, desc, max); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func (s *Server) iamUpdateAssumeRolePolicy(ctx context.Context, c *call, q *qparams) (any, error) {
	name := q.req("RoleName")
	doc := q.req("PolicyDocument")
	if q.err != nil {
		return nil, q.err
	}
	if _, err := s.iamEntity(ctx, c, identity.KindRole, name, "iam:UpdateAssumeRolePolicy", nil); err != nil {
		return nil, err
	}
	return nil, s.cfg.Identity.UpdateTrustPolicy(ctx, name, doc)
}

func (s *Server) iamTagEntity(kind identity.EntityKind) qhandler {
	return func(ctx context.Context, c *call, q *qparams) (any, error) {
		name := q.req(nameParam(kind))
		tags := q.tags("Tags")
		if q.err != nil {
			return nil, q.err
		}
		if _, err := s.iamEntity(ctx, c, kind, name, "iam:Tag"+noun(kind), requestTags(tags)); err != nil {
			return nil, err
		}
		return nil, s.cfg.Identity.TagEntity(ctx, kind, name, tags)
	}
}

func (s *Server) iamUntagEntity(kind identity.EntityKind) qhandler {
	return func(ctx context.Context, c *call, q *qparams) (any, error) {
		name := q.req(nameParam(kind))
		keys := q.list("TagKeys")
		if q.err != nil {
			return nil, q.err
		}
		if _, err := s.iamEntity(ctx, c, kind, name, "iam:Untag"+noun(kind), func(ck *CondKeys) { ck.TagKeys(keys) }); err != nil {
			return nil, err
		}
		return nil, s.cfg.Identity.UntagEntity(ctx, kind, name, keys)
	}
}

func (s *Server) iamListEntityTags(kind identity.EntityKind) qhandler {
	return func(ctx context.Context, c *call, q *qparams) (any, error) {
		name := q.req(nameParam(kind))
		max, start := q.paging()
		if q.err != nil {
			return nil, q.err
		}
		e, err := s.iamEntity(ctx, c, kind, name, "iam:List"+noun(kind)+"Tags", nil)
		if err != nil {
			return nil, err
		}
		items, trunc, marker := page(e.Tags, max, start)
		return &xmlTagPage{Tags: xmlTagList(items), IsTruncated: trunc, Marker: marker}, nil
	}
}

// ---- inline policies ----

func (s *Server) iamPutInline(kind identity.EntityKind) qhandler {
	return func(ctx context.Context, c *call, q *qparams) (any, error) {
		name, pname, doc := q.req(nameParam(kind)), q.req("PolicyName"), q.req("PolicyDocument")
		if q.err != nil {
			return nil, q.err
		}
		if _, err := s.iamEntity(ctx, c, kind, name, "iam:Put"+noun(kind)+"Policy", nil); err != nil {
			return nil, err
		}
		return nil, s.cfg.Identity.PutInlinePolicy(ctx, kind, name, pname, doc)
	}
}

func (s *Server) iamGetInline(kind identity.EntityKind) qhandler {
	return func(ctx context.Context, c *call, q *qparams) (any, error) {
		name, pname := q.req(nameParam(kind)), q.req("PolicyName")
		if q.err != nil {
			return nil, q.err
		}
		if _, err := s.iamEntity(ctx, c, kind, name, "iam:Get"+noun(kind)+"Policy", nil); err != nil {
			return nil, err
		}
		e, p, err := s.cfg.Identity.InlinePolicy(ctx, kind, name, pname)
		if err != nil {
			return nil, err
		}
		out := &xmlInlinePolicy{PolicyName: p.Name, PolicyDocument: policyEscape(p.Document)}
		if kind == identity.KindRole {
			out.RoleName = e.Name
		} else {
			out.UserName = e.Name
		}
		return out, nil
	}
}

func (s *Server) iamDeleteInline(kind identity.EntityKind) qhandler {
	return func(ctx context.Context, c *call, q *qparams) (any, error) {
		name, pname := q.req(nameParam(kind)), q.req("PolicyName")
		if q.err != nil {
			return nil, q.err
		}
		if _, err := s.iamEntity(ctx, c, kind, name, "iam:Delete"+noun(kind)+"Policy", nil); err != nil {
			return nil, err
		}
		return nil, s.cfg.Identity.DeleteInlinePolicy(ctx, kind, name, pname)
	}
}

func (s *Server) iamListInline(kind identity.EntityKind) qhandler {
	return func(ctx context.Context, c *call, q *qparams) (any, error) {
		name := q.req(nameParam(kind))
		max, start := q.paging()
		if q.err != nil {
			return nil, q.err
		}
		e, err := s.iamEntity(ctx, c, kind, name, "iam:List"+noun(kind)+"Policies", nil)
		if err != nil {
			return nil, err
		}
		names := make([]string, len(e.Inline))
		for i, p := range e.Inline {
			names[i] = p.Name
		}
		items, trunc, marker := page(names, max, start)
		return &xmlPolicyNames{PolicyNames: items, IsTruncated: trunc, Marker: marker}, nil
	}
}

// ---- attached policies and boundaries ----

func (s *Server) iamAttach(kind identity.EntityKind) qhandler {
	return func(ctx context.Context, c *call, q *qparams) (any, error) {
		name, arn := q.req(nameParam(kind)), q.req("PolicyArn")
		if q.err != nil {
			return nil, q.err
		}
		if _, err := s.iamEntity(ctx, c, kind, name, "iam:Attach"+noun(kind)+"Policy", func(ck *CondKeys) { ck.Set("iam:PolicyARN", arn) }); err != nil {
			return nil, err
		}
		return nil, s.cfg.Identity.AttachPolicy(ctx, kind, name, arn)
	}
}

func (s *Server) iamDetach(kind identity.EntityKind) qhandler {
	return func(ctx context.Context, c *call, q *qparams) (any, error) {
		name, arn := q.req(nameParam(kind)), q.req("PolicyArn")
		if q.err != nil {
			return nil, q.err
		}
		if _, err := s.iamEntity(ctx, c, kind, name, "iam:Detach"+noun(kind)+"Policy", func(ck *CondKeys) { ck.Set("iam:PolicyARN", arn) }); err != nil {
			return nil, err
		}
		return nil, s.cfg.Identity.DetachPolicy(ctx, kind, name, arn)
	}
}

func (s *Server) iamListAttached(kind identity.EntityKind) qhandler {
	return func(ctx context.Context, c *call, q *qparams) (any, error) {
		name := q.req(nameParam(kind))
		prefix := q.str("PathPrefix")
		max, start := q.paging()
		if q.err != nil {
			return nil, q.err
		}
		e, err := s.iamEntity(ctx, c, kind, name, "iam:ListAttached"+noun(kind)+"Policies", nil)
		if err != nil {
			return nil, err
		}
		var list []xmlAttached
		for _, arn := range e.Attached {
			p, err := s.cfg.Identity.Policy(ctx, arn)
			if err != nil {
				continue
			}
			if prefix != "" && !strings.HasPrefix(p.Path, prefix) {
				continue
			}
			list = append(list, xmlAttached{PolicyName: p.Name, PolicyArn: arn})
		}
		items, trunc, marker := page(list, max, start)
		if items == nil {
			items = []xmlAttached{}
		}
		return &xmlAttachedList{AttachedPolicies: items, IsTruncated: trunc, Marker: marker}, nil
	}
}

func (s *Server) iamPutBoundary(kind identity.EntityKind) qhandler {
	return func(ctx context.Context, c *call, q *qparams) (any, error) {
		name, arn := q.req(nameParam(kind)), q.req("PermissionsBoundary")
		if q.err != nil {
			return nil, q.err
		}
		if _, err := s.iamEntity(ctx, c, kind, name, "iam:Put"+noun(kind)+"PermissionsBoundary", func(ck *CondKeys) { ck.Set("iam:PermissionsBoundary", arn) }); err != nil {
			return nil, err
		}
		return nil, s.cfg.Identity.PutBoundary(ctx, kind, name, arn)
	}
}

func (s *Server) iamDeleteBoundary(kind identity.EntityKind) qhandler {
	return func(ctx context.Context, c *call, q *qparams) (any, error) {
		name := q.req(nameParam(kind))
		if q.err != nil {
			return nil, q.err
		}
		if _, err := s.iamEntity(ctx, c, kind, name, "iam:Delete"+noun(kind)+"PermissionsBoundary", nil); err != nil {
			return nil, err
		}
		return nil, s.cfg.Identity.DeleteBoundary(ctx, kind, name)
	}
}

// ---- access keys ----

// keyOwner returns the user an access-key operation is about: UserName,
// or the caller's own user ("" for the root).
func (s *Server) keyOwner(c *call, q *qparams) (string, error) {
	if n := q.str("UserName"); n != "" {
		return n, nil
	}
	switch {
	case c.caller.IsRoot():
		return "", nil
	case c.caller.Type == identity.TypeUser:
		return c.caller.UserName, nil
	}
	return "", &apiError{Type: "ValidationError", Message: "Must specify userName when calling with non-User credentials", Status: http.StatusBadRequest}
}

// authorizeKeyOwner authorizes an access-key action on the owning user
// (the root for "").
func (s *Server) authorizeKeyOwner(ctx context.Context, c *call, user, action string) error {
	if user == "" {
		return s.authorizeWith(ctx, c, action, s.cfg.Identity.RootARN(), iam.Labeled{}, nil)
	}
	_, err := s.iamEntity(ctx, c, identity.KindUser, user, action, nil)
	return err
}

func (s *Server) iamCreateAccessKey(ctx context.Context, c *call, q *qparams) (any, error) {
	user, err := s.keyOwner(c, q)
	if err != nil {
		return nil, err
	}
	if err := s.authorizeKeyOwner(ctx, c, user, "iam:CreateAccessKey"); err != nil {
		return nil, err
	}
	k, secret, err := s.cfg.Identity.CreateAccessKey(ctx, user)
	if err != nil {
		return nil, err
	}
	return &xmlCreateAccessKey{AccessKey: xmlAccessKey{UserName: k.UserName, AccessKeyId: k.ID, Status: k.Status, SecretAccessKey: secret, CreateDate: xmlTime(k.CreatedAt)}}, nil
}

func (s *Server) iamListAccessKeys(ctx context.Context, c *call, q *qparams) (any, error) {
	user, err := s.keyOwner(c, q)
	if err != nil {
		return nil, err
	}
	max, start := q.paging()
	if q.err != nil {
		return nil, q.err
	}
	if err := s.authorizeKeyOwner(ctx, c, user, "iam:ListAccessKeys"); err != nil {
		return nil, err
	}
	keys, err := s.cfg.Identity.UserAccessKeys(ctx, user)
	if err != nil {
		return nil, err
	}
	items, trunc, marker := page(keys, max, start)
	out := &xmlListAccessKeys{AccessKeyMetadata: []xmlAccessKey{}, IsTruncated: trunc, Marker: marker}
	for _, k := range items {
		out.AccessKeyMetadata = append(out.AccessKeyMetadata, xmlAccessKey{UserName: k.UserName, AccessKeyId: k.ID, Status: k.Status, CreateDate: xmlTime(k.CreatedAt)})
	}
	return out, nil
}

func (s *Server) iamUpdateAccessKey(ctx context.Context, c *call, q *qparams) (any, error) {
	user, err := s.keyOwner(c, q)
	if err != nil {
		return nil, err
	}
	id, status := q.req("AccessKeyId"), q.req("Status")
	if q.err != nil {
		return nil, q.err
	}
	if err := s.authorizeKeyOwner(ctx, c, user, "iam:UpdateAccessKey"); err != nil {
		return nil, err
	}
	return nil, s.cfg.Identity.UpdateAccessKey(ctx, user, id, status)
}

func (s *Server) iamDeleteAccessKey(ctx context.Context, c *call, q *qparams) (any, error) {
	user, err := s.keyOwner(c, q)
	if err != nil {
		return nil, err
	}
	id := q.req("AccessKeyId")
	if q.err != nil {
		return nil, q.err
	}
	if err := s.authorizeKeyOwner(ctx, c, user, "iam:DeleteAccessKey"); err != nil {
		return nil, err
	}
	return nil, s.cfg.Identity.DeleteAccessKey(ctx, user, id)
}

// ---- managed policies ----

func (s *Server) iamCreatePolicy(ctx context.Context, c *call, q *qparams) (any, error) {
	in := identity.CreatePolicyInput{Name: q.req("PolicyName"), Path: q.str("Path"), Document: q.req("PolicyDocument"), Description: q.str("Description"), Tags: q.tags("Tags")}
	if q.err != nil {
		return nil, q.err
	}
	path := in.Path
	if path == "" {
		path = "/"
	}
	if err := s.authorizeWith(ctx, c, "iam:CreatePolicy", s.iamARN("policy", path, in.Name), iam.Labeled{}, requestTags(in.Tags)); err != nil {
		return nil, err
	}
	p, err := s.cfg.Identity.CreatePolicy(ctx, in)
	if err != nil {
		return nil, err
	}
	return &xmlPolicyResult{Policy: wirePolicy(p, identity.PolicyUsage{}, true)}, nil
}

// iamPolicy authorizes action on a policy ARN and returns the policy.
func (s *Server) iamPolicy(ctx context.Context, c *call, arn, action string) (*identity.ManagedPolicy, error) {
	if err := s.authorizeWith(ctx, c, action, arn, iam.Labeled{}, nil); err != nil {
		return nil, err
	}
	return s.cfg.Identity.Policy(ctx, arn)
}

func (s *Server) iamGetPolicy(ctx context.Context, c *call, q *qparams) (any, error) {
	arn := q.req("PolicyArn")
	if q.err != nil {
		return nil, q.err
	}
	p, err := s.iamPolicy(ctx, c, arn, "iam:GetPolicy")
	if err != nil {
		return nil, err
	}
	usage, err := s.cfg.Identity.PolicyUsages(ctx)
	if err != nil {
		return nil, err
	}
	return &xmlPolicyResult{Policy: wirePolicy(p, usage[arn], true)}, nil
}

func (s *Server) iamGetPolicyVersion(ctx context.Context, c *call, q *qparams) (any, error) {
	arn, vid := q.req("PolicyArn"), q.req("VersionId")
	if q.err != nil {
		return nil, q.err
	}
	if _, err := s.iamPolicy(ctx, c, arn, "iam:GetPolicyVersion"); err != nil {
		return nil, err
	}
	p, v, err := s.cfg.Identity.PolicyVersionOf(ctx, arn, vid)
	if err != nil {
		return nil, err
	}
	return &xmlPolicyVersionResult{PolicyVersion: xmlPolicyVersion{Document: policyEscape(v.Document), VersionId: v.ID, IsDefaultVersion: v.ID == p.DefaultVersion, CreateDate: xmlTime(v.CreatedAt)}}, nil
}

func (s *Server) iamDeletePolicy(ctx context.Context, c *call, q *qparams) (any, error) {
	arn := q.req("PolicyArn")
	if q.err != nil {
		return nil, q.err
	}
	if err := s.authorizeWith(ctx, c, "iam:DeletePolicy", arn, iam.Labeled{}, nil); err != nil {
		return nil, err
	}
	return nil, s.cfg.Identity.DeletePolicy(ctx, arn)
}

func (s *Server) iamListPolicies(ctx context.Context, c *call, q *qparams) (any, error) {
	scope := q.str("Scope")
	onlyAttached := q.boolean("OnlyAttached")
	prefix := q.str("PathPrefix")
	usageFilter := q.str("PolicyUsageFilter")
	max, start := q.paging()
	if q.err != nil {
		return nil, q.err
	}
	if err := s.authorizeWith(ctx, c, "iam:ListPolicies", "*", iam.Labeled{}, nil); err != nil {
		return nil, err
	}
	var all []*identity.ManagedPolicy
	if scope == "" || scope == "All" || scope == "AWS" {
		all = append(all, identity.BuiltinPolicies()...)
	}
	if scope == "" || scope == "All" || scope == "Local" {
		local, err := s.cfg.Identity.ListPolicies(ctx)
		if err != nil {
			return nil, err
		}
		all = append(all, local...)
	}
	usage, err := s.cfg.Identity.PolicyUsages(ctx)
	if err != nil {
		return nil, err
	}
	var list []xmlPolicy
	for _, p := range all {
		u := usage[p.ARN]
		switch {
		case prefix != "" && !strings.HasPrefix(p.Path, prefix):
			continue
		case onlyAttached != nil && *onlyAttached && u.Attachments+u.Boundaries == 0:
			continue
		case usageFilter == "PermissionsPolicy" && u.Attachments == 0 && onlyAttached != nil && *onlyAttached:
			continue
		case usageFilter == "PermissionsBoundary" && u.Boundaries == 0:
			continue
		}
		list = append(list, wirePolicy(p, u, false))
	}
	items, trunc, marker := page(list, max, start)
	if items == nil {
		items = []xmlPolicy{}
	}
	return &xmlListPolicies{Policies: items, IsTruncated: trunc, Marker: marker}, nil
}

func (s *Server) iamCreatePolicyVersion(ctx context.Context, c *call, q *qparams) (any, error) {
	arn, doc := q.req("PolicyArn"), q.req("PolicyDocument")
	setDefault := q.boolean("SetAsDefault")
	if q.err != nil {
		return nil, q.err
	}
	if err := s.authorizeWith(ctx, c, "iam:CreatePolicyVersion", arn, iam.Labeled{}, nil); err != nil {
		return nil, err
	}
	v, err := s.cfg.Identity.CreatePolicyVersion(ctx, arn, doc, setDefault != nil && *setDefault)
	if err != nil {
		return nil, err
	}
	return &xmlPolicyVersionResult{PolicyVersion: xmlPolicyVersion{VersionId: v.ID, IsDefaultVersion: setDefault != nil && *setDefault, CreateDate: xmlTime(v.CreatedAt)}}, nil
}

func (s *Server) iamDeletePolicyVersion(ctx context.Context, c *call, q *qparams) (any, error) {
	arn, vid := q.req("PolicyArn"), q.req("VersionId")
	if q.err != nil {
		return nil, q.err
	}
	if err := s.authorizeWith(ctx, c, "iam:DeletePolicyVersion", arn, iam.Labeled{}, nil); err != nil {
		return nil, err
	}
	return nil, s.cfg.Identity.DeletePolicyVersion(ctx, arn, vid)
}

func (s *Server) iamSetDefaultPolicyVersion(ctx context.Context, c *call, q *qparams) (any, error) {
	arn, vid := q.req("PolicyArn"), q.req("VersionId")
	if q.err != nil {
		return nil, q.err
	}
	if err := s.authorizeWith(ctx, c, "iam:SetDefaultPolicyVersion", arn, iam.Labeled{}, nil); err != nil {
		return nil, err
	}
	return nil, s.cfg.Identity.SetDefaultPolicyVersion(ctx, arn, vid)
}

func (s *Server) iamListPolicyVersions(ctx context.Context, c *call, q *qparams) (any, error) {
	arn := q.req("PolicyArn")
	max, start := q.paging()
	if q.err != nil {
		return nil, q.err
	}
	p, err := s.iamPolicy(ctx, c, arn, "iam:ListPolicyVersions")
	if err != nil {
		return nil, err
	}
	vs := make([]xmlPolicyVersion, 0, len(p.Versions))
	for i := len(p.Versions) - 1; i >= 0; i-- {
		v := p.Versions[i]
		vs = append(vs, xmlPolicyVersion{VersionId: v.ID, IsDefaultVersion: v.ID == p.DefaultVersion, CreateDate: xmlTime(v.CreatedAt)})
	}
	items, trunc, marker := page(vs, max, start)
	return &xmlListPolicyVersions{Versions: items, IsTruncated: trunc, Marker: marker}, nil
}

// ---- OpenID Connect providers ----

type xmlCreateOIDC struct {
	OpenIDConnectProviderArn string     `xml:"OpenIDConnectProviderArn"`
	Tags                     *xmlTagSet `xml:"Tags,omitempty"`
}

type xmlGetOIDC struct {
	Url            string   `xml:"Url"`
	ClientIDList   []string `xml:"ClientIDList>member"`
	ThumbprintList []string `xml:"ThumbprintList>member"`
	CreateDate     xmlTime  `xml:"CreateDate"`
	Tags           []xmlTag `xml:"Tags>member"`
}

type xmlOIDCEntry struct {
	Arn string `xml:"Arn"`
}

type xmlListOIDC struct {
	OpenIDConnectProviderList []xmlOIDCEntry `xml:"OpenIDConnectProviderList>member"`
}

func (s *Server) iamCreateOIDCProvider(ctx context.Context, c *call, q *qparams) (any, error) {
	in := identity.OIDCProviderInput{URL: q.req("Url"), ClientIDs: q.list("ClientIDList"), Thumbprints: q.list("ThumbprintList"), Tags: q.tags("Tags")}
	if q.err != nil {
		return nil, q.err
	}
	arn := s.iamARN("oidc-provider/", "", identity.ProviderKey(in.URL))
	if err := s.authorizeWith(ctx, c, "iam:CreateOpenIDConnectProvider", arn, iam.Labeled{}, requestTags(in.Tags)); err != nil {
		return nil, err
	}
	p, err := s.cfg.Identity.CreateOIDCProvider(ctx, in)
	if err != nil {
		return nil, err
	}
	return &xmlCreateOIDC{OpenIDConnectProviderArn: p.ARN, Tags: xmlTags(p.Tags)}, nil
}

func (s *Server) iamGetOIDCProvider(ctx context.Context, c *call, q *qparams) (any, error) {
	arn := q.req("OpenIDConnectProviderArn")
	if q.err != nil {
		return nil, q.err
	}
	if err := s.authorizeWith(ctx, c, "iam:GetOpenIDConnectProvider", arn, iam.Labeled{}, nil); err != nil {
		return nil, err
	}
	p, err := s.cfg.Identity.OIDCProvider(ctx, arn)
	if err != nil {
		return nil, err
	}
	out := &xmlGetOIDC{Url: identity.ProviderKey(p.URL), ClientIDList: p.ClientIDs, ThumbprintList: p.Thumbprints, CreateDate: xmlTime(p.CreatedAt), Tags: xmlTagList(p.Tags)}
	if out.ClientIDList == nil {
		out.ClientIDList = []string{}
	}
	if out.ThumbprintList == nil {
		out.ThumbprintList = []string{}
	}
	return out, nil
}

func (s *Server) iamListOIDCProviders(ctx context.Context, c *call, q *qparams) (any, error) {
	if err := s.authorizeWith(ctx, c, "iam:ListOpenIDConnectProviders", "*", iam.Labeled{}, nil); err != nil {
		return nil, err
	}
	ps, err := s.cfg.Identity.ListOIDCProviders(ctx)
	if err != nil {
		return nil, err
	}
	out := &xmlListOIDC{OpenIDConnectProviderList: []xmlOIDCEntry{}}
	for _, p := range ps {
		out.OpenIDConnectProviderList = append(out.OpenIDConnectProviderList, xmlOIDCEntry{Arn: p.ARN})
	}
	return out, nil
}

func (s *Server) iamDeleteOIDCProvider(ctx context.Context, c *call, q *qparams) (any, error) {
	arn := q.req("OpenIDConnectProviderArn")
	if q.err != nil {
		return nil, q.err
	}
	if err := s.authorizeWith(ctx, c, "iam:DeleteOpenIDConnectProvider", arn, iam.Labeled{}, nil); err != nil {
		return nil, err
	}
	return nil, s.cfg.Identity.DeleteOIDCProvider(ctx, arn)
}
