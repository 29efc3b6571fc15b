package awsapi

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/coffer-dev/coffer/internal/awsapi/awsjson"
	"github.com/coffer-dev/coffer/internal/awsapi/smapi"
	"github.com/coffer-dev/coffer/internal/secrets"
)

// smHandlers implements Secrets Manager operations. Operations of the model
// without a handler answer with a clear error until they are implemented.
func (s *Server) smHandlers() map[string]func(context.Context, *call, any) (any, error) {
	return map[string]func(context.Context, *call, any) (any, error){
		"CreateSecret":             typed(s.smCreateSecret),
		"GetSecretValue":           typed(s.smGetSecretValue),
		"BatchGetSecretValue":      typed(s.smBatchGetSecretValue),
		"PutSecretValue":           typed(s.smPutSecretValue),
		"UpdateSecret":             typed(s.smUpdateSecret),
		"UpdateSecretVersionStage": typed(s.smUpdateSecretVersionStage),
		"DescribeSecret":           typed(s.smDescribeSecret),
		"ListSecrets":              typed(s.smListSecrets),
		"ListSecretVersionIds":     typed(s.smListSecretVersionIds),
		"DeleteSecret":             typed(s.smDeleteSecret),
		"RestoreSecret":            typed(s.smRestoreSecret),
		"GetRandomPassword":        typed(s.smGetRandomPassword),
		"TagResource":              typed(s.smTagResource),
		"UntagResource":            typed(s.smUntagResource),
		"PutResourcePolicy":        typed(s.smPutResourcePolicy),
		"GetResourcePolicy":        typed(s.smGetResourcePolicy),
		"DeleteResourcePolicy":     typed(s.smDeleteResourcePolicy),
		"ValidateResourcePolicy":   typed(s.smValidateResourcePolicy),
	}
}

// typed adapts a handler taking its concrete input type.
func typed[In any](f func(context.Context, *call, *In) (any, error)) func(context.Context, *call, any) (any, error) {
	return func(ctx context.Context, c *call, in any) (any, error) { return f(ctx, c, in.(*In)) }
}

func (s *Server) registerSecretsManager() {
	handlers := s.smHandlers()
	for name, info := range smapi.Operations {
		info := info
		op := &operation{service: svcSecretsManager, name: name, readOnly: info.ReadOnly,
			input: func() validator { return info.NewInput() }}
		if h, ok := handlers[name]; ok {
			op.run = h
		} else {
			op.run = func(context.Context, *call, any) (any, error) {
				return nil, clientErr("InvalidRequestException", fmt.Sprintf("%s is not supported by this Coffer server yet.", name))
			}
		}
		switch name {
		case "GetSecretValue":
			op.fastDecode = fastGetSecretValue
		case "DescribeSecret":
			op.fastDecode = fastDescribeSecret
		}
		s.ops[targetSecretsManager+"."+name] = op
	}
}

func deref[T any](p *T) (v T) {
	if p != nil {
		v = *p
	}
	return v
}

func ptr[T any](v T) *T { return &v }

// optStr returns nil for "" so that empty strings are omitted.
func optStr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// secretValue builds a value from SecretString / SecretBinary: at most one.
func secretValue(str *string, bin []byte) (*secrets.Value, error) {
	switch {
	case str != nil && bin != nil:
		return nil, clientErr("InvalidParameterException", "You can't specify both a binary secret value and a string secret value in the same secret.")
	case str != nil:
		return &secrets.Value{Data: []byte(*str)}, nil
	case bin != nil:
		return &secrets.Value{Data: bin, Binary: true}, nil
	}
	return nil, nil
}

func smTags(in []smapi.Tag) []secrets.Tag {
	if in == nil {
		return nil
	}
	out := make([]secrets.Tag, len(in))
	for i, t := range in {
		out[i] = secrets.Tag{Key: deref(t.Key), Value: deref(t.Value)}
	}
	return out
}

func wireTags(in []secrets.Tag) []smapi.Tag {
	out := make([]smapi.Tag, len(in))
	for i, t := range in {
		out[i] = smapi.Tag{Key: ptr(t.Key), Value: ptr(t.Value)}
	}
	return out
}

// secret resolves a SecretId and authorizes action on it. A secret that
// does not exist is authorized against the ARN it would have, so that a
// caller without permission cannot probe which names exist.
func (s *Server) secret(ctx context.Context, c *call, id *string, action string) (*secrets.Secret, error) {
	sec, err := s.cfg.Secrets.Lookup(ctx, deref(id))
	if errors.Is(err, secrets.ErrNotFound) {
		name, arn, _ := s.cfg.Secrets.ParseID(deref(id))
		if arn == "" {
			arn = s.cfg.Secrets.ARNPattern(name)
		}
		if aerr := s.authorize(ctx, c, action, arn, nil); aerr != nil {
			return nil, aerr
		}
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, c, action, sec.ARN, sec); err != nil {
		return nil, err
	}
	return sec, nil
}

func (s *Server) smCreateSecret(ctx context.Context, c *call, in *smapi.CreateSecretInput) (any, error) {
	if len(in.AddReplicaRegions) > 0 {
		return nil, clientErr("InvalidRequestException", "Replication to other Regions is not supported by this Coffer server yet.")
	}
	name := deref(in.Name)
	if err := s.authorize(ctx, c, "secretsmanager:CreateSecret", s.cfg.Secrets.ARNPattern(name), nil); err != nil {
		return nil, err
	}
	if in.Tags != nil {
		if err := s.authorize(ctx, c, "secretsmanager:TagResource", s.cfg.Secrets.ARNPattern(name), nil); err != nil {
			return nil, err
		}
	}
	v, err := secretValue(in.SecretString, in.SecretBinary)
	if err != nil {
		return nil, err
	}
	res, err := s.cfg.Secrets.Create(ctx, secrets.CreateInput{
		Name: name, Token: deref(in.ClientRequestToken), Description: deref(in.Description),
		KmsKeyID: deref(in.KmsKeyId), Value: v, Tags: smTags(in.Tags), Type: deref(in.Type),
	})
	if err != nil {
		return nil, err
	}
	return &smapi.CreateSecretOutput{ARN: &res.ARN, Name: &res.Name, VersionId: optStr(res.VersionID)}, nil
}

func (s *Server) smGetSecretValue(ctx context.Context, c *call, in *smapi.GetSecretValueInput) (any, error) {
	sec, err := s.secret(ctx, c, in.SecretId, "secretsmanager:GetSecretValue")
	if err != nil {
		return nil, err
	}
	v, err := s.cfg.Secrets.GetValue(ctx, sec, deref(in.VersionId), deref(in.VersionStage))
	if err != nil {
		return nil, err
	}
	return (*secretValueOut)(v), nil
}

// secretValueOut is GetSecretValue's output (smapi.GetSecretValueOutput on
// the wire). It renders itself straight from the decrypted bytes, so the
// plaintext is never copied into an immutable string, and the edge zeroes
// it once the response is written (or when the request fails after all).
type secretValueOut secrets.SecretValue

var _ sensitiveOutput = (*secretValueOut)(nil)

// appendJSON writes the members in smapi.GetSecretValueOutput's order with
// its omitzero rules (encode_test.go compares the two).
func (o *secretValueOut) appendJSON(dst []byte) []byte {
	j := jsonObject{b: dst}
	j.str("ARN", o.ARN)
	j.str("Name", o.Name)
	j.str("VersionId", o.VersionID)
	if o.Value.Binary {
		if o.Value.Data != nil {
			j.blob("SecretBinary", o.Value.Data)
		}
	} else {
		j.key("SecretString")
		j.b = appendJSONString(j.b, o.Value.Data)
	}
	if o.Stages != nil {
		j.strs("VersionStages", o.Stages)
	}
	j.time("CreatedDate", o.CreatedAt)
	return j.end()
}

func (o *secretValueOut) wipe() { o.Value.Zero() }

func (s *Server) smBatchGetSecretValue(ctx context.Context, c *call, in *smapi.BatchGetSecretValueInput) (any, error) {
	if err := s.authorize(ctx, c, "secretsmanager:BatchGetSecretValue", "*", nil); err != nil {
		return nil, err
	}
	if len(in.Filters) > 0 {
		if err := s.authorize(ctx, c, "secretsmanager:ListSecrets", "*", nil); err != nil {
			return nil, err
		}
	}
	vals, errs, next, err := s.cfg.Secrets.BatchGet(ctx, secrets.BatchInput{
		IDs: in.SecretIdList, Filters: smFilters(in.Filters), MaxResults: int(deref(in.MaxResults)), NextToken: deref(in.NextToken),
	}, func(ctx context.Context, sec *secrets.Secret) error {
		if err := s.authorize(ctx, c, "secretsmanager:GetSecretValue", sec.ARN, sec); err != nil {
			return &secrets.Error{Kind: secrets.ErrAccessDenied, Message: toAPIError(svcSecretsManager, err).Message}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := &smapi.BatchGetSecretValueOutput{SecretValues: []smapi.SecretValueEntry{}, Errors: []smapi.APIErrorType{}, NextToken: optStr(next)}
	for _, v := range vals {
		e := smapi.SecretValueEntry{ARN: ptr(v.ARN), Name: ptr(v.Name), VersionId: ptr(v.VersionID),
			VersionStages: v.Stages, CreatedDate: awsjson.TimeOf(v.CreatedAt)}
		if v.Value.Binary {
			e.SecretBinary = v.Value.Data
		} else {
			e.SecretString = ptr(string(v.Value.Data))
			v.Value.Zero()
		}
		out.SecretValues = append(out.SecretValues, e)
	}
	for _, e := range errs {
		ae := toAPIError(svcSecretsManager, e.Err)
		out.Errors = append(out.Errors, smapi.APIErrorType{SecretId: ptr(e.SecretID), ErrorCode: ptr(ae.Type), Message: ptr(ae.Message)})
	}
	return out, nil
}

func smFilters(in []smapi.Filter) []secrets.Filter {
	if in == nil {
		return nil
	}
	out := make([]secrets.Filter, len(in))
	for i, f := range in {
		out[i] = secrets.Filter{Key: deref(f.Key), Values: f.Values}
	}
	return out
}

func (s *Server) smPutSecretValue(ctx context.Context, c *call, in *smapi.PutSecretValueInput) (any, error) {
	sec, err := s.secret(ctx, c, in.SecretId, "secretsmanager:PutSecretValue")
	if err != nil {
		return nil, err
	}
	v, err := secretValue(in.SecretString, in.SecretBinary)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, clientErr("InvalidRequestException", "You must provide either SecretString or SecretBinary.")
	}
	res, err := s.cfg.Secrets.PutValue(ctx, sec, secrets.PutInput{
		Token: deref(in.ClientRequestToken), Value: *v, Stages: in.VersionStages, RotationToken: deref(in.RotationToken),
	})
	if err != nil {
		return nil, err
	}
	return &smapi.PutSecretValueOutput{ARN: &res.ARN, Name: &res.Name, VersionId: &res.VersionID, VersionStages: res.Stages}, nil
}

func (s *Server) smUpdateSecret(ctx context.Context, c *call, in *smapi.UpdateSecretInput) (any, error) {
	sec, err := s.secret(ctx, c, in.SecretId, "secretsmanager:UpdateSecret")
	if err != nil {
		return nil, err
	}
	v, err := secretValue(in.SecretString, in.SecretBinary)
	if err != nil {
		return nil, err
	}
	res, err := s.cfg.Secrets.Update(ctx, sec, secrets.UpdateInput{
		Token: deref(in.ClientRequestToken), Description: in.Description, KmsKeyID: in.KmsKeyId, Value: v, Type: in.Type,
	})
	if err != nil {
		return nil, err
	}
	return &smapi.UpdateSecretOutput{ARN: &res.ARN, Name: &res.Name, VersionId: optStr(res.VersionID)}, nil
}

func (s *Server) smUpdateSecretVersionStage(ctx context.Context, c *call, in *smapi.UpdateSecretVersionStageInput) (any, error) {
	sec, err := s.secret(ctx, c, in.SecretId, "secretsmanager:UpdateSecretVersionStage")
	if err != nil {
		return nil, err
	}
	res, err := s.cfg.Secrets.UpdateVersionStage(ctx, sec, deref(in.VersionStage), deref(in.MoveToVersionId), deref(in.RemoveFromVersionId))
	if err != nil {
		return nil, err
	}
	return &smapi.UpdateSecretVersionStageOutput{ARN: &res.ARN, Name: &res.Name}, nil
}

// stagesMap lists the labelled versions of a secret (nil when none).
func stagesMap(sec *secrets.Secret) map[string][]string {
	var m map[string][]string
	for _, v := range sec.Versions {
		if len(v.Stages) == 0 {
			continue
		}
		if m == nil {
			m = make(map[string][]string, len(sec.Versions))
		}
		m[v.ID] = v.Stages
	}
	return m
}

// kmsKeyShown is the KmsKeyId DescribeSecret and ListSecrets show: nothing
// for the default key.
func (s *Server) kmsKeyShown(sec *secrets.Secret) *string {
	if sec.KmsKeyID == "" || s.isDefaultKeyRef(sec.KmsKeyID) {
		return nil
	}
	return ptr(sec.KmsKeyID)
}

func (s *Server) isDefaultKeyRef(ref string) bool {
	return ref == "alias/aws/secretsmanager" || ref == s.cfg.KMS.AliasARN("alias/aws/secretsmanager")
}

func (s *Server) describe(sec *secrets.Secret) *smapi.DescribeSecretOutput {
	out := &smapi.DescribeSecretOutput{
		ARN: ptr(sec.ARN), Name: ptr(sec.Name), Type: optStr(sec.Type), Description: optStr(sec.Description),
		KmsKeyId:           s.kmsKeyShown(sec),
		LastChangedDate:    awsjson.TimeOf(sec.LastChangedAt),
		LastAccessedDate:   awsjson.TimeOf(sec.LastAccessedAt),
		DeletedDate:        awsjson.TimeOf(sec.DeletedAt),
		VersionIdsToStages: stagesMap(sec),
		CreatedDate:        awsjson.TimeOf(sec.CreatedAt),
	}
	if sec.TagsSet {
		out.Tags = wireTags(sec.Tags)
	}
	if r := sec.Rotation; r != nil {
		out.RotationEnabled = ptr(r.Enabled)
		out.RotationLambdaARN = optStr(r.LambdaARN)
		out.RotationRules = rotationRules(r)
		out.LastRotatedDate = awsjson.TimeOf(r.LastRotatedAt)
		if r.Enabled {
			out.NextRotationDate = awsjson.TimeOf(r.NextRotationAt)
		}
	}
	return out
}

func rotationRules(r *secrets.Rotation) *smapi.RotationRulesType {
	if r.AfterDays == 0 && r.Schedule == "" && r.Duration == "" {
		return nil
	}
	rr := &smapi.RotationRulesType{Duration: optStr(r.Duration), ScheduleExpression: optStr(r.Schedule)}
	if r.AfterDays > 0 {
		rr.AutomaticallyAfterDays = ptr(r.AfterDays)
	}
	return rr
}

func (s *Server) smDescribeSecret(ctx context.Context, c *call, in *smapi.DescribeSecretInput) (any, error) {
	sec, err := s.secret(ctx, c, in.SecretId, "secretsmanager:DescribeSecret")
	if err != nil {
		return nil, err
	}
	return s.describe(sec), nil
}

func (s *Server) smListSecrets(ctx context.Context, c *call, in *smapi.ListSecretsInput) (any, error) {
	if err := s.authorize(ctx, c, "secretsmanager:ListSecrets", "*", nil); err != nil {
		return nil, err
	}
	page, next, err := s.cfg.Secrets.List(ctx, secrets.ListInput{
		Filters: smFilters(in.Filters), IncludeDeleted: deref(in.IncludePlannedDeletion),
		MaxResults: int(deref(in.MaxResults)), NextToken: deref(in.NextToken),
		SortBy: deref(in.SortBy), SortOrder: deref(in.SortOrder),
	})
	if err != nil {
		return nil, err
	}
	out := &smapi.ListSecretsOutput{SecretList: make([]smapi.SecretListEntry, 0, len(page)), NextToken: optStr(next)}
	for _, sec := range page {
		d := s.describe(sec)
		out.SecretList = append(out.SecretList, smapi.SecretListEntry{
			ARN: d.ARN, Name: d.Name, Type: d.Type, Description: d.Description, KmsKeyId: d.KmsKeyId,
			RotationEnabled: d.RotationEnabled, RotationLambdaARN: d.RotationLambdaARN, RotationRules: d.RotationRules,
			LastRotatedDate: d.LastRotatedDate, LastChangedDate: d.LastChangedDate, LastAccessedDate: d.LastAccessedDate,
			DeletedDate: d.DeletedDate, NextRotationDate: d.NextRotationDate, Tags: d.Tags,
			SecretVersionsToStages: d.VersionIdsToStages, CreatedDate: d.CreatedDate,
		})
	}
	return out, nil
}

func (s *Server) smListSecretVersionIds(ctx context.Context, c *call, in *smapi.ListSecretVersionIdsInput) (any, error) {
	sec, err := s.secret(ctx, c, in.SecretId, "secretsmanager:ListSecretVersionIds")
	if err != nil {
		return nil, err
	}
	vs, next, err := s.cfg.Secrets.ListVersions(ctx, sec, deref(in.IncludeDeprecated), int(deref(in.MaxResults)), deref(in.NextToken))
	if err != nil {
		return nil, err
	}
	out := &smapi.ListSecretVersionIdsOutput{ARN: ptr(sec.ARN), Name: ptr(sec.Name), NextToken: optStr(next), Versions: make([]smapi.SecretVersionsListEntry, 0, len(vs))}
	for _, v := range vs {
		e := smapi.SecretVersionsListEntry{VersionId: ptr(v.ID), LastAccessedDate: awsjson.TimeOf(v.LastAccessedAt), CreatedDate: awsjson.TimeOf(v.CreatedAt)}
		if len(v.Stages) > 0 {
			e.VersionStages = v.Stages
		}
		if v.KmsKeyARN != "" {
			if s.cfg.KMS.IsAWSManagedKeyARN(ctx, v.KmsKeyARN) {
				e.KmsKeyIds = []string{"DefaultEncryptionKey"}
			} else {
				e.KmsKeyIds = []string{v.KmsKeyARN}
			}
		}
		out.Versions = append(out.Versions, e)
	}
	return out, nil
}

func (s *Server) smDeleteSecret(ctx context.Context, c *call, in *smapi.DeleteSecretInput) (any, error) {
	force := deref(in.ForceDeleteWithoutRecovery)
	if err := secrets.CheckDeleteParams(in.RecoveryWindowInDays, force); err != nil {
		return nil, err
	}
	sec, err := s.secret(ctx, c, in.SecretId, "secretsmanager:DeleteSecret")
	var res *secrets.Result
	switch {
	case errors.Is(err, secrets.ErrNotFound) && force:
		// Force-deleting a secret that does not exist succeeds, as in AWS.
		res, err = s.cfg.Secrets.Delete(ctx, deref(in.SecretId), nil, true)
	case err == nil:
		res, err = s.cfg.Secrets.DeleteSecret(ctx, sec, in.RecoveryWindowInDays, force)
	}
	if err != nil {
		return nil, err
	}
	return &smapi.DeleteSecretOutput{ARN: &res.ARN, Name: &res.Name, DeletionDate: awsjson.TimeOf(res.DeletionDate)}, nil
}

func (s *Server) smRestoreSecret(ctx context.Context, c *call, in *smapi.RestoreSecretInput) (any, error) {
	sec, err := s.secret(ctx, c, in.SecretId, "secretsmanager:RestoreSecret")
	if err != nil {
		return nil, err
	}
	res, err := s.cfg.Secrets.Restore(ctx, sec)
	if err != nil {
		return nil, err
	}
	return &smapi.RestoreSecretOutput{ARN: &res.ARN, Name: &res.Name}, nil
}

func (s *Server) smGetRandomPassword(ctx context.Context, c *call, in *smapi.GetRandomPasswordInput) (any, error) {
	if err := s.authorize(ctx, c, "secretsmanager:GetRandomPassword", "*", nil); err != nil {
		return nil, err
	}
	pw, err := secrets.RandomPassword(secrets.PasswordSpec{
		Length: deref(in.PasswordLength), ExcludeCharacters: deref(in.ExcludeCharacters),
		ExcludeNumbers: deref(in.ExcludeNumbers), ExcludePunctuation: deref(in.ExcludePunctuation),
		ExcludeUppercase: deref(in.ExcludeUppercase), ExcludeLowercase: deref(in.ExcludeLowercase),
		IncludeSpace: deref(in.IncludeSpace), RequireEachIncludedType: in.RequireEachIncludedType,
	})
	if err != nil {
		return nil, err
	}
	return &smapi.GetRandomPasswordOutput{RandomPassword: &pw}, nil
}

func (s *Server) smTagResource(ctx context.Context, c *call, in *smapi.TagResourceInput) (any, error) {
	sec, err := s.secret(ctx, c, in.SecretId, "secretsmanager:TagResource")
	if err != nil {
		return nil, err
	}
	return nil, s.cfg.Secrets.Tag(ctx, sec, smTags(in.Tags))
}

func (s *Server) smUntagResource(ctx context.Context, c *call, in *smapi.UntagResourceInput) (any, error) {
	sec, err := s.secret(ctx, c, in.SecretId, "secretsmanager:UntagResource")
	if err != nil {
		return nil, err
	}
	keys := slices.Clone(in.TagKeys)
	return nil, s.cfg.Secrets.Untag(ctx, sec, keys)
}
