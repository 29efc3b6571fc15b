package awsapi

import (
	"context"
	"errors"

	"github.com/coffer-dev/coffer/internal/awsapi/smapi"
	"github.com/coffer-dev/coffer/internal/iam"
	"github.com/coffer-dev/coffer/internal/secrets"
)

// Secrets Manager resource policies: Put/Get/Delete/ValidateResourcePolicy.

const msgPublicPolicy = "The BlockPublicPolicy parameter is set to true, and the resource policy did not prevent broad access to the secret."

// parseResourcePolicy parses a secret resource policy, failing with
// MalformedPolicyDocumentException and IAM's text.
func parseResourcePolicy(doc string) (*iam.Policy, error) {
	p, err := iam.Parse(doc, iam.KindResource)
	if err != nil {
		msg := "This resource policy contains a syntax error."
		var pe *iam.PolicyError
		if errors.As(err, &pe) {
			msg = pe.Message
		}
		return nil, &secrets.Error{Kind: secrets.ErrMalformedPolicy, Message: msg}
	}
	return p, nil
}

func (s *Server) smPutResourcePolicy(ctx context.Context, c *call, in *smapi.PutResourcePolicyInput) (any, error) {
	sec, err := s.secret(ctx, c, in.SecretId, "secretsmanager:PutResourcePolicy")
	if err != nil {
		return nil, err
	}
	doc := deref(in.ResourcePolicy)
	p, err := parseResourcePolicy(doc)
	if err != nil {
		return nil, err
	}
	if deref(in.BlockPublicPolicy) {
		if broad, _ := iam.BroadAccess(p, s.cfg.Account); broad {
			return nil, &secrets.Error{Kind: secrets.ErrPublicPolicy, Message: msgPublicPolicy}
		}
	}
	res, err := s.cfg.Secrets.PutResourcePolicy(ctx, sec, doc)
	if err != nil {
		return nil, err
	}
	return &smapi.PutResourcePolicyOutput{ARN: &res.ARN, Name: &res.Name}, nil
}

func (s *Server) smGetResourcePolicy(ctx context.Context, c *call, in *smapi.GetResourcePolicyInput) (any, error) {
	sec, err := s.secret(ctx, c, in.SecretId, "secretsmanager:GetResourcePolicy")
	if err != nil {
		return nil, err
	}
	return &smapi.GetResourcePolicyOutput{ARN: ptr(sec.ARN), Name: ptr(sec.Name), ResourcePolicy: optStr(sec.ResourcePolicy)}, nil
}

func (s *Server) smDeleteResourcePolicy(ctx context.Context, c *call, in *smapi.DeleteResourcePolicyInput) (any, error) {
	sec, err := s.secret(ctx, c, in.SecretId, "secretsmanager:DeleteResourcePolicy")
	if err != nil {
		return nil, err
	}
	res, err := s.cfg.Secrets.DeleteResourcePolicy(ctx, sec)
	if err != nil {
		return nil, err
	}
	return &smapi.DeleteResourcePolicyOutput{ARN: &res.ARN, Name: &res.Name}, nil
}

// smValidateResourcePolicy needs ValidateResourcePolicy and
// PutResourcePolicy on the secret (API reference); without a SecretId the
// resource is "*".
func (s *Server) smValidateResourcePolicy(ctx context.Context, c *call, in *smapi.ValidateResourcePolicyInput) (any, error) {
	arn := "*"
	if in.SecretId != nil {
		sec, err := s.secret(ctx, c, in.SecretId, "secretsmanager:ValidateResourcePolicy")
		if err != nil {
			return nil, err
		}
		if err := s.authorize(ctx, c, "secretsmanager:PutResourcePolicy", sec.ARN, sec); err != nil {
			return nil, err
		}
		arn = sec.ARN
	} else {
		for _, a := range []string{"secretsmanager:ValidateResourcePolicy", "secretsmanager:PutResourcePolicy"} {
			if err := s.authorize(ctx, c, a, "*", nil); err != nil {
				return nil, err
			}
		}
	}
	doc := deref(in.ResourcePolicy)
	if _, err := parseResourcePolicy(doc); err != nil {
		return nil, err
	}
	secARN := ""
	if arn != "*" {
		secARN = arn
	}
	findings, err := iam.ValidateResourcePolicy(doc, s.cfg.Account, secARN)
	if err != nil {
		return nil, err
	}
	out := &smapi.ValidateResourcePolicyOutput{PolicyValidationPassed: ptr(len(findings) == 0), ValidationErrors: []smapi.ValidationErrorsEntry{}}
	for _, f := range findings {
		out.ValidationErrors = append(out.ValidationErrors, smapi.ValidationErrorsEntry{CheckName: ptr(f.CheckName), ErrorMessage: ptr(f.ErrorMessage)})
	}
	return out, nil
}
