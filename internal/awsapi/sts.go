package awsapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/coffer-dev/coffer/internal/iam"
	"github.com/coffer-dev/coffer/internal/identity"
)

// STS query API (sts/2011-06-15): GetCallerIdentity, AssumeRole and the
// unsigned AssumeRoleWithWebIdentity.

type xmlCallerIdentity struct {
	UserId  string `xml:"UserId"`
	Account string `xml:"Account"`
	Arn     string `xml:"Arn"`
}

type xmlCredentials struct {
	AccessKeyId     string  `xml:"AccessKeyId"`
	SecretAccessKey string  `xml:"SecretAccessKey"`
	SessionToken    string  `xml:"SessionToken"`
	Expiration      xmlTime `xml:"Expiration"`
}

type xmlAssumedRoleUser struct {
	AssumedRoleId string `xml:"AssumedRoleId"`
	Arn           string `xml:"Arn"`
}

type xmlAssumeRole struct {
	Credentials      xmlCredentials     `xml:"Credentials"`
	AssumedRoleUser  xmlAssumedRoleUser `xml:"AssumedRoleUser"`
	PackedPolicySize *int               `xml:"PackedPolicySize,omitempty"`
	SourceIdentity   string             `xml:"SourceIdentity,omitempty"`
}

type xmlAssumeRoleWithWebIdentity struct {
	Credentials                 xmlCredentials     `xml:"Credentials"`
	SubjectFromWebIdentityToken string             `xml:"SubjectFromWebIdentityToken"`
	AssumedRoleUser             xmlAssumedRoleUser `xml:"AssumedRoleUser"`
	PackedPolicySize            *int               `xml:"PackedPolicySize,omitempty"`
	Provider                    string             `xml:"Provider"`
	Audience                    string             `xml:"Audience"`
}

func wireCredentials(cr *identity.SessionCredentials) (xmlCredentials, xmlAssumedRoleUser, *int) {
	var packed *int
	if cr.PackedPolicySize >= 0 {
		packed = ptr(cr.PackedPolicySize)
	}
	return xmlCredentials{AccessKeyId: cr.AccessKeyID, SecretAccessKey: cr.SecretAccessKey, SessionToken: cr.SessionToken, Expiration: xmlTime(cr.Expiration)},
		xmlAssumedRoleUser{AssumedRoleId: cr.AssumedRoleID, Arn: cr.ARN}, packed
}

// stsGetCallerIdentity needs no permission and cannot be denied.
func (s *Server) stsGetCallerIdentity(ctx context.Context, c *call, q *qparams) (any, error) {
	return &xmlCallerIdentity{UserId: c.caller.UserID, Account: c.caller.Account, Arn: c.caller.ARN}, nil
}

// sessionInput reads the parameters AssumeRole and
// AssumeRoleWithWebIdentity share.
func sessionInput(q *qparams) identity.SessionInput {
	in := identity.SessionInput{Name: q.req("RoleSessionName"), Policy: q.str("Policy"), PolicyARNs: q.fieldList("PolicyArns", "arn")}
	if d := q.integer("DurationSeconds"); d != nil {
		switch {
		case *d < identity.MinSessionDuration:
			q.fail(queryValidation("1 validation error detected: Value '" + strconv.Itoa(*d) + "' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900"))
		case *d > 43200:
			q.fail(queryValidation("1 validation error detected: Value '" + strconv.Itoa(*d) + "' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200"))
		}
		in.DurationSeconds = *d
	}
	return in
}

func (s *Server) stsAssumeRole(ctx context.Context, c *call, q *qparams) (any, error) {
	roleARN := q.req("RoleArn")
	in := sessionInput(q)
	in.Tags = q.tags("Tags")
	in.TransitiveKeys = q.list("TransitiveTagKeys")
	externalID := q.opt("ExternalId")
	in.SourceIdentity = q.str("SourceIdentity")
	if q.err != nil {
		return nil, q.err
	}
	if externalID != nil {
		q.minLen("ExternalId", *externalID, 2)
		q.maxLen("ExternalId", *externalID, 1224)
	}
	q.maxLen("RoleArn", roleARN, 2048)
	if q.err != nil {
		return nil, q.err
	}
	if err := identity.CheckSessionRequest(&in); err != nil {
		return nil, err
	}
	if c.caller.IsRoot() {
		return nil, &apiError{Type: "AccessDenied", Message: "Roles may not be assumed by root accounts.", Status: http.StatusForbidden}
	}
	role, err := s.cfg.Identity.RoleByARN(ctx, roleARN)
	if errors.Is(err, identity.ErrNoSuchEntity) {
		// STS does not say whether the role exists.
		d, derr := s.decide(ctx, c, "sts:AssumeRole", roleARN, iam.Labeled{}, nil)
		if derr != nil {
			return nil, derr
		}
		msg := d.Message()
		if d.Allowed {
			msg = "User: " + c.caller.ARN + " is not authorized to perform: sts:AssumeRole on resource: " + roleARN
		}
		return nil, &apiError{Type: "AccessDenied", Message: msg, Status: http.StatusForbidden}
	}
	if err != nil {
		return nil, err
	}
	trust, err := identity.TrustPolicy(role)
	if err != nil {
		return nil, err
	}
	res := iam.Labeled{Label: "trust policy of " + role.ARN, Policy: trust}
	keys := func(ck *CondKeys) {
		ck.Set("sts:RoleSessionName", in.Name)
		if externalID != nil {
			ck.Set("sts:ExternalId", *externalID)
		}
		if in.SourceIdentity != "" {
			ck.Set("sts:SourceIdentity", in.SourceIdentity)
		}
		for _, t := range in.Tags {
			ck.RequestTag(t.Key, t.Value)
		}
		if len(in.TransitiveKeys) > 0 {
			ck.SetList("sts:TransitiveTagKeys", in.TransitiveKeys)
		}
	}
	if err := s.authorizeWith(ctx, c, "sts:AssumeRole", role.ARN, res, keys); err != nil {
		return nil, err
	}
	if len(in.Tags) > 0 {
		if err := s.authorizeWith(ctx, c, "sts:TagSession", role.ARN, res, keys); err != nil {
			return nil, err
		}
	}
	if in.SourceIdentity != "" {
		if err := s.authorizeWith(ctx, c, "sts:SetSourceIdentity", role.ARN, res, keys); err != nil {
			return nil, err
		}
	}
	in.Role = role
	in.Parent = c.caller.Session
	cr, err := s.cfg.Identity.CreateSession(ctx, in)
	if err != nil {
		return nil, err
	}
	out := &xmlAssumeRole{SourceIdentity: cr.SourceIdentity}
	out.Credentials, out.AssumedRoleUser, out.PackedPolicySize = wireCredentials(cr)
	return out, nil
}

// msgWebIdentityDenied is STS's text when the trust policy does not allow
// the web identity (or the role does not exist).
const msgWebIdentityDenied = "Not authorized to perform sts:AssumeRoleWithWebIdentity"

func (s *Server) stsAssumeRoleWithWebIdentity(ctx context.Context, c *call, q *qparams) (any, error) {
	roleARN := q.req("RoleArn")
	in := sessionInput(q)
	token := q.req("WebIdentityToken")
	if q.err != nil {
		return nil, q.err
	}
	q.minLen("WebIdentityToken", token, 4)
	q.maxLen("WebIdentityToken", token, identity.MaxTokenLen)
	q.maxLen("Policy", in.Policy, 2048)
	if q.err != nil {
		return nil, q.err
	}
	if err := identity.CheckSessionRequest(&in); err != nil {
		return nil, err
	}
	claims, err := s.cfg.Identity.VerifyWebIdentity(ctx, token)
	if err != nil {
		return nil, err
	}
	denied := &apiError{Type: "AccessDenied", Message: msgWebIdentityDenied, Status: http.StatusForbidden}
	role, err := s.cfg.Identity.RoleByARN(ctx, roleARN)
	if errors.Is(err, identity.ErrNoSuchEntity) {
		return nil, denied
	}
	if err != nil {
		return nil, err
	}
	trust, err := identity.TrustPolicy(role)
	if err != nil {
		return nil, err
	}
	// The caller is known only by its identity provider; the trust policy
	// alone decides, with the token's claims as condition keys.
	ck := getCondKeys()
	defer putCondKeys(ck)
	if c.sourceIP != "" {
		ck.Set("aws:SourceIp", c.sourceIP)
	}
	ck.SetBool("aws:SecureTransport", c.r.TLS != nil)
	ck.Set("aws:RequestedRegion", s.cfg.Region)
	if c.userAgent != "" {
		ck.Set("aws:UserAgent", c.userAgent)
	}
	ck.Set("sts:RoleSessionName", in.Name)
	claims.ConditionKeys(func(key string, values ...string) {
		if len(values) == 1 {
			ck.Set(key, values[0])
		} else {
			ck.SetList(key, values)
		}
	})
	principal := iam.Principal{Type: iam.PrincipalWebIdentity, FederatedProvider: claims.Provider.ARN}
	d := iam.Evaluate(&iam.Request{Principal: &principal, Action: "sts:AssumeRoleWithWebIdentity", Resource: role.ARN, Context: ck, Time: s.now()},
		&iam.Set{Resource: iam.Labeled{Label: "trust policy of " + role.ARN, Policy: trust}})
	if !d.Allowed {
		return nil, denied
	}
	in.Role = role
	in.WebIdentity = &identity.WebIdentity{ProviderARN: claims.Provider.ARN, Subject: claims.Subject, Audience: claims.Audience}
	cr, err := s.cfg.Identity.CreateSession(ctx, in)
	if err != nil {
		return nil, err
	}
	// Provider is the provider's ARN, as STS returns it (e.g. the SPIFFE
	// federation guide's recorded output), not the iss claim.
	out := &xmlAssumeRoleWithWebIdentity{SubjectFromWebIdentityToken: claims.Subject, Provider: claims.Provider.ARN, Audience: claims.Audience}
	out.Credentials, out.AssumedRoleUser, out.PackedPolicySize = wireCredentials(cr)
	return out, nil
}
