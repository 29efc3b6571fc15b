package integration

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
)

// wantAPIError asserts that err is the AWS error code with exactly msg
// ("" = any message).
func wantAPIError(t testing.TB, err error, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v, want %s", err, code)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("error code %s (%s), want %s", ae.ErrorCode(), ae.ErrorMessage(), code)
	}
	if msg != "" && ae.ErrorMessage() != msg {
		t.Fatalf("message %q\nwant        %q", ae.ErrorMessage(), msg)
	}
}

func must[T any](t testing.TB) func(v T, err error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// stagesOf returns DescribeSecret's VersionIdsToStages with sorted lists.
func stagesOf(t testing.TB, c *sm.Client, id string) map[string][]string {
	t.Helper()
	d := must[*sm.DescribeSecretOutput](t)(c.DescribeSecret(ctx(t), &sm.DescribeSecretInput{SecretId: &id}))
	out := map[string][]string{}
	for k, v := range d.VersionIdsToStages {
		out[k] = slices.Sorted(slices.Values(v))
	}
	return out
}

const (
	msgNotFound = "Secrets Manager can't find the specified secret."
	msgMarked   = "You can't perform this operation on the secret because it was marked for deletion."
	msgBadName  = "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!"
)

func tokN(i int) string { return fmt.Sprintf("aaaaaaaa-0000-4000-8000-%012d", i) }

// TestSecretsManagerSDK drives every implemented Secrets Manager operation
// and every documented error through aws-sdk-go-v2 against the binary.
func TestSecretsManagerSDK(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOpts{})
	c := s.sm()
	cx := ctx(t)

	var strARN, binARN string
	t.Run("CreateSecret", func(t *testing.T) {
		out := must[*sm.CreateSecretOutput](t)(c.CreateSecret(cx, &sm.CreateSecretInput{
			Name: aws.String("sdk/string"), SecretString: aws.String(`{"user":"u","password":"p"}`),
			Description: aws.String("string secret"), Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("blue")}},
			ClientRequestToken: aws.String(tokN(1)),
		}))
		strARN = *out.ARN
		if !strings.HasPrefix(strARN, "arn:aws:secretsmanager:us-east-1:") || !strings.Contains(strARN, ":secret:sdk/string-") || *out.VersionId != tokN(1) {
			t.Fatalf("%+v", out)
		}
		out = must[*sm.CreateSecretOutput](t)(c.CreateSecret(cx, &sm.CreateSecretInput{
			Name: aws.String("sdk/binary"), SecretBinary: []byte{0, 1, 2, 0xfe, 0xff}, KmsKeyId: aws.String("alias/aws/secretsmanager"),
		}))
		binARN = *out.ARN
		if out.VersionId == nil || len(*out.VersionId) != 36 {
			t.Errorf("SDK-generated token as VersionId: %v", out.VersionId)
		}
		out = must[*sm.CreateSecretOutput](t)(c.CreateSecret(cx, &sm.CreateSecretInput{Name: aws.String("sdk/empty")}))
		if out.VersionId != nil {
			t.Errorf("no value but VersionId %s", *out.VersionId)
		}
		// Idempotent retry and its conflict.
		again := must[*sm.CreateSecretOutput](t)(c.CreateSecret(cx, &sm.CreateSecretInput{
			Name: aws.String("sdk/string"), SecretString: aws.String(`{"user":"u","password":"p"}`), ClientRequestToken: aws.String(tokN(1)),
		}))
		if *again.ARN != strARN || *again.VersionId != tokN(1) {
			t.Errorf("retry: %+v", again)
		}
		_, err := c.CreateSecret(cx, &sm.CreateSecretInput{Name: aws.String("sdk/string"), SecretString: aws.String("other"), ClientRequestToken: aws.String(tokN(1))})
		wantAPIError(t, err, "ResourceExistsException", "You can't use ClientRequestToken "+tokN(1)+" because that value is already in use for a version of secret "+strARN+".")
		var exists *types.ResourceExistsException
		if !errors.As(err, &exists) {
			t.Errorf("not a *types.ResourceExistsException: %T", err)
		}
		_, err = c.CreateSecret(cx, &sm.CreateSecretInput{Name: aws.String("sdk/string"), SecretString: aws.String("other")})
		wantAPIError(t, err, "ResourceExistsException", "The operation failed because the secret sdk/string already exists.")
		for _, bad := range []string{"Inv Name", " Inv Name", " Inv*Name? ", ` Inv *?!]Name\-`} {
			_, err = c.CreateSecret(cx, &sm.CreateSecretInput{Name: aws.String(bad), SecretString: aws.String("x")})
			wantAPIError(t, err, "ValidationException", msgBadName)
		}
		_, err = c.CreateSecret(cx, &sm.CreateSecretInput{Name: aws.String("sdk/both"), SecretString: aws.String("x"), SecretBinary: []byte("x")})
		wantAPIError(t, err, "InvalidParameterException", "You can't specify both a binary secret value and a string secret value in the same secret.")
		_, err = c.CreateSecret(cx, &sm.CreateSecretInput{Name: aws.String("sdk/aws-tag"), Tags: []types.Tag{{Key: aws.String("aws:reserved"), Value: aws.String("x")}}})
		wantAPIError(t, err, "InvalidParameterException", "Invalid tag key. Tag keys beginning with 'aws:' are reserved for AWS use.")
		_, err = c.CreateSecret(cx, &sm.CreateSecretInput{Name: aws.String(strings.Repeat("n", 513))})
		wantAPIError(t, err, "ValidationException", "")
		_, err = c.CreateSecret(cx, &sm.CreateSecretInput{Name: aws.String("sdk/huge"), SecretString: aws.String(strings.Repeat("h", 65537))})
		wantAPIError(t, err, "ValidationException", "1 validation error detected: Value at 'secretString' failed to satisfy constraint: Member must have length less than or equal to 65536")
		// 64 KiB exactly is fine, as binary too.
		must[*sm.CreateSecretOutput](t)(c.CreateSecret(cx, &sm.CreateSecretInput{Name: aws.String("sdk/max"), SecretBinary: make([]byte, 65536)}))
	})

	t.Run("GetSecretValue", func(t *testing.T) {
		for _, id := range []string{"sdk/string", strARN, strARN[:len(strARN)-7]} {
			out := must[*sm.GetSecretValueOutput](t)(c.GetSecretValue(cx, &sm.GetSecretValueInput{SecretId: aws.String(id)}))
			if *out.SecretString != `{"user":"u","password":"p"}` || *out.ARN != strARN || *out.Name != "sdk/string" || *out.VersionId != tokN(1) ||
				!cmp.Equal(out.VersionStages, []string{"AWSCURRENT"}) || out.CreatedDate == nil || out.SecretBinary != nil {
				t.Errorf("by %s: %+v", id, out)
			}
		}
		out := must[*sm.GetSecretValueOutput](t)(c.GetSecretValue(cx, &sm.GetSecretValueInput{SecretId: aws.String(binARN), VersionStage: aws.String("AWSCURRENT")}))
		if !cmp.Equal(out.SecretBinary, []byte{0, 1, 2, 0xfe, 0xff}) || out.SecretString != nil {
			t.Errorf("binary: %+v", out)
		}
		out = must[*sm.GetSecretValueOutput](t)(c.GetSecretValue(cx, &sm.GetSecretValueInput{SecretId: aws.String("sdk/max")}))
		if len(out.SecretBinary) != 65536 {
			t.Errorf("64 KiB value: %d bytes", len(out.SecretBinary))
		}
		_, err := c.GetSecretValue(cx, &sm.GetSecretValueInput{SecretId: aws.String("sdk/nope")})
		wantAPIError(t, err, "ResourceNotFoundException", msgNotFound)
		var rnf *types.ResourceNotFoundException
		if !errors.As(err, &rnf) {
			t.Errorf("not a *types.ResourceNotFoundException: %T", err)
		}
		_, err = c.GetSecretValue(cx, &sm.GetSecretValueInput{SecretId: aws.String("sdk/empty")})
		wantAPIError(t, err, "ResourceNotFoundException", "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT")
		_, err = c.GetSecretValue(cx, &sm.GetSecretValueInput{SecretId: aws.String("sdk/string"), VersionStage: aws.String("AWSPREVIOUS")})
		wantAPIError(t, err, "ResourceNotFoundException", "Secrets Manager can't find the specified secret value for staging label: AWSPREVIOUS")
		_, err = c.GetSecretValue(cx, &sm.GetSecretValueInput{SecretId: aws.String("sdk/string"), VersionId: aws.String(tokN(99))})
		wantAPIError(t, err, "ResourceNotFoundException", "Secrets Manager can't find the specified secret value for VersionId: "+tokN(99))
		_, err = c.GetSecretValue(cx, &sm.GetSecretValueInput{SecretId: aws.String("sdk/string"), VersionId: aws.String(tokN(1)), VersionStage: aws.String("AWSPENDING")})
		wantAPIError(t, err, "InvalidRequestException", "You provided a VersionStage that is not associated to the provided VersionId.")
		_, err = c.GetSecretValue(cx, &sm.GetSecretValueInput{SecretId: aws.String("Inv Name")})
		wantAPIError(t, err, "ValidationException", msgBadName)
		_, err = c.GetSecretValue(cx, &sm.GetSecretValueInput{SecretId: aws.String(strings.Replace(strARN, ":secret:", ":secret:x", 1))})
		wantAPIError(t, err, "ResourceNotFoundException", msgNotFound)
	})

	t.Run("PutSecretValue", func(t *testing.T) {
		out := must[*sm.PutSecretValueOutput](t)(c.PutSecretValue(cx, &sm.PutSecretValueInput{SecretId: aws.String("sdk/string"), SecretString: aws.String("v2"), ClientRequestToken: aws.String(tokN(2))}))
		if *out.VersionId != tokN(2) || !cmp.Equal(out.VersionStages, []string{"AWSCURRENT"}) || *out.ARN != strARN {
			t.Errorf("%+v", out)
		}
		retry := must[*sm.PutSecretValueOutput](t)(c.PutSecretValue(cx, &sm.PutSecretValueInput{SecretId: aws.String("sdk/string"), SecretString: aws.String("v2"), ClientRequestToken: aws.String(tokN(2))}))
		if *retry.VersionId != tokN(2) {
			t.Errorf("retry %+v", retry)
		}
		_, err := c.PutSecretValue(cx, &sm.PutSecretValueInput{SecretId: aws.String("sdk/string"), SecretString: aws.String("v2'"), ClientRequestToken: aws.String(tokN(2))})
		wantAPIError(t, err, "ResourceExistsException", "You can't use ClientRequestToken "+tokN(2)+" because that value is already in use for a version of secret "+strARN+".")
		pend := must[*sm.PutSecretValueOutput](t)(c.PutSecretValue(cx, &sm.PutSecretValueInput{SecretId: aws.String("sdk/string"), SecretBinary: []byte("pending"), VersionStages: []string{"AWSPENDING"}, ClientRequestToken: aws.String(tokN(3))}))
		if !cmp.Equal(pend.VersionStages, []string{"AWSPENDING"}) {
			t.Errorf("pending %+v", pend)
		}
		if diff := cmp.Diff(map[string][]string{tokN(1): {"AWSPREVIOUS"}, tokN(2): {"AWSCURRENT"}, tokN(3): {"AWSPENDING"}}, stagesOf(t, c, "sdk/string")); diff != "" {
			t.Error(diff)
		}
		_, err = c.PutSecretValue(cx, &sm.PutSecretValueInput{SecretId: aws.String("sdk/string")})
		wantAPIError(t, err, "InvalidRequestException", "You must provide either SecretString or SecretBinary.")
		_, err = c.PutSecretValue(cx, &sm.PutSecretValueInput{SecretId: aws.String("sdk/nope"), SecretString: aws.String("x")})
		wantAPIError(t, err, "ResourceNotFoundException", msgNotFound)
		first := must[*sm.PutSecretValueOutput](t)(c.PutSecretValue(cx, &sm.PutSecretValueInput{SecretId: aws.String("sdk/empty"), SecretString: aws.String("first")}))
		if !cmp.Equal(first.VersionStages, []string{"AWSCURRENT"}) {
			t.Errorf("first version %+v", first)
		}
	})

	t.Run("UpdateSecretVersionStage", func(t *testing.T) {
		_, err := c.UpdateSecretVersionStage(cx, &sm.UpdateSecretVersionStageInput{SecretId: aws.String("sdk/string"), VersionStage: aws.String("AWSCURRENT"), MoveToVersionId: aws.String(tokN(3))})
		wantAPIError(t, err, "InvalidParameterException", "The parameter RemoveFromVersionId can't be empty. Staging label AWSCURRENT is currently attached to version "+tokN(2)+", so you must explicitly reference that version in RemoveFromVersionId.")
		out := must[*sm.UpdateSecretVersionStageOutput](t)(c.UpdateSecretVersionStage(cx, &sm.UpdateSecretVersionStageInput{SecretId: aws.String("sdk/string"), VersionStage: aws.String("AWSCURRENT"), MoveToVersionId: aws.String(tokN(3)), RemoveFromVersionId: aws.String(tokN(2))}))
		if *out.ARN != strARN || *out.Name != "sdk/string" {
			t.Errorf("%+v", out)
		}
		if diff := cmp.Diff(map[string][]string{tokN(2): {"AWSPREVIOUS"}, tokN(3): {"AWSCURRENT", "AWSPENDING"}}, stagesOf(t, c, "sdk/string")); diff != "" {
			t.Error(diff)
		}
		_, err = c.UpdateSecretVersionStage(cx, &sm.UpdateSecretVersionStageInput{SecretId: aws.String("sdk/string"), VersionStage: aws.String("AWSPENDING"), RemoveFromVersionId: aws.String(tokN(3))})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.UpdateSecretVersionStage(cx, &sm.UpdateSecretVersionStageInput{SecretId: aws.String("sdk/string"), VersionStage: aws.String("X"), MoveToVersionId: aws.String(tokN(98))})
		wantAPIError(t, err, "InvalidParameterException", "")
		g := must[*sm.GetSecretValueOutput](t)(c.GetSecretValue(cx, &sm.GetSecretValueInput{SecretId: aws.String("sdk/string")}))
		if string(g.SecretBinary) != "pending" {
			t.Errorf("current after move: %+v", g)
		}
	})

	t.Run("UpdateSecret", func(t *testing.T) {
		out := must[*sm.UpdateSecretOutput](t)(c.UpdateSecret(cx, &sm.UpdateSecretInput{SecretId: aws.String("sdk/binary"), Description: aws.String("described")}))
		if out.VersionId != nil {
			t.Errorf("description-only update created version %s", *out.VersionId)
		}
		out = must[*sm.UpdateSecretOutput](t)(c.UpdateSecret(cx, &sm.UpdateSecretInput{SecretId: aws.String("sdk/binary"), SecretString: aws.String("now a string")}))
		if out.VersionId == nil {
			t.Fatal("value update without VersionId")
		}
		g := must[*sm.GetSecretValueOutput](t)(c.GetSecretValue(cx, &sm.GetSecretValueInput{SecretId: aws.String("sdk/binary")}))
		if *g.SecretString != "now a string" || *g.VersionId != *out.VersionId {
			t.Errorf("%+v", g)
		}
		_, err := c.UpdateSecret(cx, &sm.UpdateSecretInput{SecretId: aws.String("sdk/nope"), Description: aws.String("x")})
		wantAPIError(t, err, "ResourceNotFoundException", msgNotFound)
		_, err = c.UpdateSecret(cx, &sm.UpdateSecretInput{SecretId: aws.String("sdk/binary"), SecretString: aws.String("a"), SecretBinary: []byte("b")})
		wantAPIError(t, err, "InvalidParameterException", "You can't specify both a binary secret value and a string secret value in the same secret.")
	})

	t.Run("DescribeSecret", func(t *testing.T) {
		d := must[*sm.DescribeSecretOutput](t)(c.DescribeSecret(cx, &sm.DescribeSecretInput{SecretId: aws.String(strARN)}))
		if *d.Name != "sdk/string" || *d.Description != "string secret" || d.KmsKeyId != nil || d.CreatedDate == nil || d.LastChangedDate == nil ||
			d.LastAccessedDate == nil || d.DeletedDate != nil || d.RotationEnabled != nil || len(d.Tags) != 1 {
			t.Errorf("%+v", d)
		}
		if la := d.LastAccessedDate.UTC(); la.Hour() != 0 || la.Minute() != 0 || la.Second() != 0 || time.Since(la) > 25*time.Hour {
			t.Errorf("LastAccessedDate %v is not today's midnight", la)
		}
		e := must[*sm.DescribeSecretOutput](t)(c.DescribeSecret(cx, &sm.DescribeSecretInput{SecretId: aws.String("sdk/empty")}))
		if e.Tags != nil || e.Description != nil || e.LastAccessedDate != nil || e.KmsKeyId != nil || e.RotationEnabled != nil {
			t.Errorf("fields that should be absent: tags %v description %v accessed %v", e.Tags, e.Description, e.LastAccessedDate)
		}
		// Created with KmsKeyId alias/aws/secretsmanager: the default key is not shown.
		b := must[*sm.DescribeSecretOutput](t)(c.DescribeSecret(cx, &sm.DescribeSecretInput{SecretId: aws.String("sdk/binary")}))
		if b.KmsKeyId != nil {
			t.Errorf("default key shown as %s", *b.KmsKeyId)
		}
		_, err := c.DescribeSecret(cx, &sm.DescribeSecretInput{SecretId: aws.String("sdk/nope")})
		wantAPIError(t, err, "ResourceNotFoundException", msgNotFound)
	})

	t.Run("TagResource", func(t *testing.T) {
		must[*sm.TagResourceOutput](t)(c.TagResource(cx, &sm.TagResourceInput{SecretId: aws.String("sdk/max"), Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("1")}, {Key: aws.String("b"), Value: aws.String("2")}}}))
		must[*sm.UntagResourceOutput](t)(c.UntagResource(cx, &sm.UntagResourceInput{SecretId: aws.String("sdk/max"), TagKeys: []string{"a", "b", "c"}}))
		d := must[*sm.DescribeSecretOutput](t)(c.DescribeSecret(cx, &sm.DescribeSecretInput{SecretId: aws.String("sdk/max")}))
		if d.Tags == nil || len(d.Tags) != 0 {
			t.Errorf("after untagging everything: %v (want an empty list)", d.Tags)
		}
		_, err := c.TagResource(cx, &sm.TagResourceInput{SecretId: aws.String("sdk/nope"), Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("1")}}})
		wantAPIError(t, err, "ResourceNotFoundException", msgNotFound)
		_, err = c.UntagResource(cx, &sm.UntagResourceInput{SecretId: aws.String("sdk/nope"), TagKeys: []string{"a"}})
		wantAPIError(t, err, "ResourceNotFoundException", msgNotFound)
	})

	t.Run("ListSecretVersionIds", func(t *testing.T) {
		var ids []string
		p := sm.NewListSecretVersionIdsPaginator(c, &sm.ListSecretVersionIdsInput{SecretId: aws.String("sdk/string"), IncludeDeprecated: aws.Bool(true), MaxResults: aws.Int32(1)})
		for p.HasMorePages() {
			page := must[*sm.ListSecretVersionIdsOutput](t)(p.NextPage(cx))
			for _, v := range page.Versions {
				ids = append(ids, *v.VersionId)
				if !cmp.Equal(v.KmsKeyIds, []string{"DefaultEncryptionKey"}) {
					t.Errorf("KmsKeyIds %v", v.KmsKeyIds)
				}
				if *v.VersionId == tokN(1) && v.VersionStages != nil {
					t.Errorf("deprecated version with stages %v", v.VersionStages)
				}
			}
		}
		slices.Sort(ids)
		if diff := cmp.Diff([]string{tokN(1), tokN(2), tokN(3)}, ids); diff != "" {
			t.Error(diff)
		}
		out := must[*sm.ListSecretVersionIdsOutput](t)(c.ListSecretVersionIds(cx, &sm.ListSecretVersionIdsInput{SecretId: aws.String("sdk/string")}))
		if len(out.Versions) != 2 || *out.ARN != strARN {
			t.Errorf("without deprecated: %d versions", len(out.Versions))
		}
		_, err := c.ListSecretVersionIds(cx, &sm.ListSecretVersionIdsInput{SecretId: aws.String("sdk/string"), NextToken: aws.String("garbage")})
		wantAPIError(t, err, "InvalidNextTokenException", "")
	})

	t.Run("ListSecrets", func(t *testing.T) {
		var names []string
		p := sm.NewListSecretsPaginator(c, &sm.ListSecretsInput{MaxResults: aws.Int32(2), SortBy: types.SortByTypeName,
			Filters: []types.Filter{{Key: types.FilterNameStringTypeName, Values: []string{"sdk/"}}}})
		for p.HasMorePages() {
			for _, e := range must[*sm.ListSecretsOutput](t)(p.NextPage(cx)).SecretList {
				names = append(names, *e.Name)
			}
		}
		if diff := cmp.Diff([]string{"sdk/binary", "sdk/empty", "sdk/max", "sdk/string"}, names); diff != "" {
			t.Error(diff)
		}
		out := must[*sm.ListSecretsOutput](t)(c.ListSecrets(cx, &sm.ListSecretsInput{Filters: []types.Filter{
			{Key: types.FilterNameStringTypeDescription, Values: []string{"string"}},
			{Key: types.FilterNameStringTypeTagKey, Values: []string{"team"}},
		}}))
		if len(out.SecretList) != 1 || *out.SecretList[0].Name != "sdk/string" || len(out.SecretList[0].SecretVersionsToStages) != 2 {
			t.Errorf("%+v", out.SecretList)
		}
		_, err := c.ListSecrets(cx, &sm.ListSecretsInput{Filters: []types.Filter{{Key: "invalid", Values: []string{"x"}}}})
		wantAPIError(t, err, "ValidationException", "1 validation error detected: Value 'invalid' at 'filters.1.member.key' failed to satisfy constraint: Member must satisfy enum value set: [description, name, tag-key, tag-value, primary-region, owning-service, all]")
		_, err = c.ListSecrets(cx, &sm.ListSecretsInput{NextToken: aws.String("garbage")})
		wantAPIError(t, err, "InvalidNextTokenException", "The NextToken value is invalid.")
	})

	t.Run("BatchGetSecretValue", func(t *testing.T) {
		out := must[*sm.BatchGetSecretValueOutput](t)(c.BatchGetSecretValue(cx, &sm.BatchGetSecretValueInput{SecretIdList: []string{"sdk/string", binARN, "sdk/nope"}}))
		if len(out.SecretValues) != 2 || len(out.Errors) != 1 || *out.Errors[0].ErrorCode != "ResourceNotFoundException" || *out.Errors[0].SecretId != "sdk/nope" || *out.Errors[0].Message != msgNotFound {
			t.Errorf("%+v", out)
		}
		var got []string
		p := sm.NewBatchGetSecretValuePaginator(c, &sm.BatchGetSecretValueInput{Filters: []types.Filter{{Key: types.FilterNameStringTypeName, Values: []string{"sdk/"}}}, MaxResults: aws.Int32(1)})
		for p.HasMorePages() {
			for _, v := range must[*sm.BatchGetSecretValueOutput](t)(p.NextPage(cx)).SecretValues {
				got = append(got, *v.Name)
			}
		}
		slices.Sort(got)
		if diff := cmp.Diff([]string{"sdk/binary", "sdk/empty", "sdk/max", "sdk/string"}, got); diff != "" {
			t.Error(diff)
		}
		_, err := c.BatchGetSecretValue(cx, &sm.BatchGetSecretValueInput{SecretIdList: []string{"sdk/string"}, Filters: []types.Filter{{Key: types.FilterNameStringTypeName, Values: []string{"sdk/"}}}})
		wantAPIError(t, err, "InvalidParameterException", "Either 'SecretIdList' or 'Filters' must be provided, but not both.")
		_, err = c.BatchGetSecretValue(cx, &sm.BatchGetSecretValueInput{SecretIdList: []string{"sdk/string"}, MaxResults: aws.Int32(5)})
		wantAPIError(t, err, "InvalidParameterException", "'Filters' not specified. 'Filters' must also be specified when 'MaxResults' is provided.")
	})

	t.Run("GetRandomPassword", func(t *testing.T) {
		out := must[*sm.GetRandomPasswordOutput](t)(c.GetRandomPassword(cx, &sm.GetRandomPasswordInput{}))
		if len(*out.RandomPassword) != 32 {
			t.Errorf("default length %d", len(*out.RandomPassword))
		}
		out = must[*sm.GetRandomPasswordOutput](t)(c.GetRandomPassword(cx, &sm.GetRandomPasswordInput{PasswordLength: aws.Int64(120), ExcludeCharacters: aws.String("xyzDje@?!.")}))
		if len(*out.RandomPassword) != 120 || strings.ContainsAny(*out.RandomPassword, "xyzDje@?!.") {
			t.Errorf("%q", *out.RandomPassword)
		}
		_, err := c.GetRandomPassword(cx, &sm.GetRandomPasswordInput{PasswordLength: aws.Int64(3)})
		wantAPIError(t, err, "InvalidParameterException", "Password length is too short based on the required types.")
		_, err = c.GetRandomPassword(cx, &sm.GetRandomPasswordInput{PasswordLength: aws.Int64(4097)})
		wantAPIError(t, err, "ValidationException", "1 validation error detected: Value '4097' at 'passwordLength' failed to satisfy constraint: Member must have value less than or equal to 4096")
	})

	t.Run("DeleteSecret and RestoreSecret", func(t *testing.T) {
		_, err := c.DeleteSecret(cx, &sm.DeleteSecretInput{SecretId: aws.String("sdk/binary"), RecoveryWindowInDays: aws.Int64(6)})
		wantAPIError(t, err, "InvalidParameterException", "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).")
		_, err = c.DeleteSecret(cx, &sm.DeleteSecretInput{SecretId: aws.String("sdk/binary"), RecoveryWindowInDays: aws.Int64(7), ForceDeleteWithoutRecovery: aws.Bool(true)})
		wantAPIError(t, err, "InvalidParameterException", "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.")
		before := time.Now()
		del := must[*sm.DeleteSecretOutput](t)(c.DeleteSecret(cx, &sm.DeleteSecretInput{SecretId: aws.String("sdk/binary"), RecoveryWindowInDays: aws.Int64(7)}))
		if *del.ARN != binARN || del.DeletionDate.Before(before.Add(7*24*time.Hour-time.Minute)) || del.DeletionDate.After(time.Now().Add(7*24*time.Hour+time.Minute)) {
			t.Errorf("%+v", del)
		}
		_, err = c.DeleteSecret(cx, &sm.DeleteSecretInput{SecretId: aws.String("sdk/binary")})
		wantAPIError(t, err, "InvalidRequestException", "")
		_, err = c.GetSecretValue(cx, &sm.GetSecretValueInput{SecretId: aws.String("sdk/binary")})
		wantAPIError(t, err, "InvalidRequestException", msgMarked)
		_, err = c.PutSecretValue(cx, &sm.PutSecretValueInput{SecretId: aws.String("sdk/binary"), SecretString: aws.String("x")})
		wantAPIError(t, err, "InvalidRequestException", msgMarked)
		_, err = c.UpdateSecret(cx, &sm.UpdateSecretInput{SecretId: aws.String("sdk/binary"), Description: aws.String("x")})
		wantAPIError(t, err, "InvalidRequestException", msgMarked)
		_, err = c.TagResource(cx, &sm.TagResourceInput{SecretId: aws.String("sdk/binary"), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
		wantAPIError(t, err, "InvalidRequestException", msgMarked)
		_, err = c.UntagResource(cx, &sm.UntagResourceInput{SecretId: aws.String("sdk/binary"), TagKeys: []string{"k"}})
		wantAPIError(t, err, "InvalidRequestException", msgMarked)
		_, err = c.CreateSecret(cx, &sm.CreateSecretInput{Name: aws.String("sdk/binary")})
		wantAPIError(t, err, "InvalidRequestException", "You can't create this secret because a secret with this name is already scheduled for deletion.")
		d := must[*sm.DescribeSecretOutput](t)(c.DescribeSecret(cx, &sm.DescribeSecretInput{SecretId: aws.String("sdk/binary")}))
		if d.DeletedDate == nil {
			t.Error("DescribeSecret without DeletedDate")
		}
		b := must[*sm.BatchGetSecretValueOutput](t)(c.BatchGetSecretValue(cx, &sm.BatchGetSecretValueInput{SecretIdList: []string{"sdk/binary"}}))
		if len(b.Errors) != 1 || *b.Errors[0].ErrorCode != "InvalidRequestException" || *b.Errors[0].Message != msgMarked {
			t.Errorf("batch on deleted: %+v", b.Errors)
		}
		l := must[*sm.ListSecretsOutput](t)(c.ListSecrets(cx, &sm.ListSecretsInput{Filters: []types.Filter{{Key: types.FilterNameStringTypeName, Values: []string{"sdk/binary"}}}}))
		lp := must[*sm.ListSecretsOutput](t)(c.ListSecrets(cx, &sm.ListSecretsInput{IncludePlannedDeletion: aws.Bool(true), Filters: []types.Filter{{Key: types.FilterNameStringTypeName, Values: []string{"sdk/binary"}}}}))
		if len(l.SecretList) != 0 || len(lp.SecretList) != 1 || lp.SecretList[0].DeletedDate == nil {
			t.Errorf("listing: %d without, %d with planned deletion", len(l.SecretList), len(lp.SecretList))
		}
		r := must[*sm.RestoreSecretOutput](t)(c.RestoreSecret(cx, &sm.RestoreSecretInput{SecretId: aws.String("sdk/binary")}))
		if *r.ARN != binARN {
			t.Errorf("%+v", r)
		}
		must[*sm.GetSecretValueOutput](t)(c.GetSecretValue(cx, &sm.GetSecretValueInput{SecretId: aws.String("sdk/binary")}))
		_, err = c.RestoreSecret(cx, &sm.RestoreSecretInput{SecretId: aws.String("sdk/nope")})
		wantAPIError(t, err, "ResourceNotFoundException", msgNotFound)
		_, err = c.DeleteSecret(cx, &sm.DeleteSecretInput{SecretId: aws.String("sdk/nope")})
		wantAPIError(t, err, "ResourceNotFoundException", msgNotFound)

		f := must[*sm.DeleteSecretOutput](t)(c.DeleteSecret(cx, &sm.DeleteSecretInput{SecretId: aws.String("sdk/binary"), ForceDeleteWithoutRecovery: aws.Bool(true)}))
		if *f.ARN != binARN {
			t.Errorf("%+v", f)
		}
		_, err = c.DescribeSecret(cx, &sm.DescribeSecretInput{SecretId: aws.String("sdk/binary")})
		wantAPIError(t, err, "ResourceNotFoundException", msgNotFound)
		m := must[*sm.DeleteSecretOutput](t)(c.DeleteSecret(cx, &sm.DeleteSecretInput{SecretId: aws.String("sdk/never"), ForceDeleteWithoutRecovery: aws.Bool(true)}))
		if *m.Name != "sdk/never" || m.DeletionDate == nil {
			t.Errorf("force delete of a missing secret: %+v", m)
		}
		re := must[*sm.CreateSecretOutput](t)(c.CreateSecret(cx, &sm.CreateSecretInput{Name: aws.String("sdk/binary"), SecretString: aws.String("reborn")}))
		if *re.ARN == binARN {
			t.Error("re-created secret has the old ARN")
		}
	})

	t.Run("every SecretId operation: invalid name and unknown secret", func(t *testing.T) {
		ops := map[string]func(id string) error{
			"GetSecretValue": func(id string) error {
				_, err := c.GetSecretValue(cx, &sm.GetSecretValueInput{SecretId: &id})
				return err
			},
			"DescribeSecret": func(id string) error {
				_, err := c.DescribeSecret(cx, &sm.DescribeSecretInput{SecretId: &id})
				return err
			},
			"PutSecretValue": func(id string) error {
				_, err := c.PutSecretValue(cx, &sm.PutSecretValueInput{SecretId: &id, SecretString: aws.String("x")})
				return err
			},
			"UpdateSecret": func(id string) error {
				_, err := c.UpdateSecret(cx, &sm.UpdateSecretInput{SecretId: &id, Description: aws.String("x")})
				return err
			},
			"UpdateSecretVersionStage": func(id string) error {
				_, err := c.UpdateSecretVersionStage(cx, &sm.UpdateSecretVersionStageInput{SecretId: &id, VersionStage: aws.String("X"), MoveToVersionId: aws.String(tokN(1))})
				return err
			},
			"ListSecretVersionIds": func(id string) error {
				_, err := c.ListSecretVersionIds(cx, &sm.ListSecretVersionIdsInput{SecretId: &id})
				return err
			},
			"DeleteSecret": func(id string) error {
				_, err := c.DeleteSecret(cx, &sm.DeleteSecretInput{SecretId: &id})
				return err
			},
			"RestoreSecret": func(id string) error {
				_, err := c.RestoreSecret(cx, &sm.RestoreSecretInput{SecretId: &id})
				return err
			},
			"TagResource": func(id string) error {
				_, err := c.TagResource(cx, &sm.TagResourceInput{SecretId: &id, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
				return err
			},
			"UntagResource": func(id string) error {
				_, err := c.UntagResource(cx, &sm.UntagResourceInput{SecretId: &id, TagKeys: []string{"k"}})
				return err
			},
		}
		for name, op := range ops {
			for _, bad := range []string{"Inv Name", " Inv*Name? "} {
				if err := op(bad); err == nil {
					t.Errorf("%s(%q) succeeded", name, bad)
				} else {
					var ae smithy.APIError
					if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationException" || ae.ErrorMessage() != msgBadName {
						t.Errorf("%s(%q): %v", name, bad, err)
					}
				}
			}
			for _, missing := range []string{"sdk/absent", "arn:aws:secretsmanager:us-east-1:" + strings.Split(strARN, ":")[4] + ":secret:sdk/absent-AbCdEf"} {
				err := op(missing)
				var ae smithy.APIError
				if !errors.As(err, &ae) || ae.ErrorCode() != "ResourceNotFoundException" || ae.ErrorMessage() != msgNotFound {
					t.Errorf("%s(%q): %v", name, missing, err)
				}
			}
		}
		// UpdateSecret reusing a token with another value, and a label move
		// on a secret scheduled for deletion.
		u := must[*sm.UpdateSecretOutput](t)(c.UpdateSecret(cx, &sm.UpdateSecretInput{SecretId: aws.String("sdk/max"), SecretString: aws.String("u1"), ClientRequestToken: aws.String(tokN(50))}))
		_, err := c.UpdateSecret(cx, &sm.UpdateSecretInput{SecretId: aws.String("sdk/max"), SecretString: aws.String("u2"), ClientRequestToken: aws.String(tokN(50))})
		wantAPIError(t, err, "ResourceExistsException", "You can't use ClientRequestToken "+tokN(50)+" because that value is already in use for a version of secret "+*u.ARN+".")
		must[*sm.DeleteSecretOutput](t)(c.DeleteSecret(cx, &sm.DeleteSecretInput{SecretId: aws.String("sdk/max")}))
		_, err = c.UpdateSecretVersionStage(cx, &sm.UpdateSecretVersionStageInput{SecretId: aws.String("sdk/max"), VersionStage: aws.String("X"), MoveToVersionId: aws.String(tokN(50))})
		wantAPIError(t, err, "InvalidRequestException", msgMarked)
		must[*sm.RestoreSecretOutput](t)(c.RestoreSecret(cx, &sm.RestoreSecretInput{SecretId: aws.String("sdk/max")}))
	})

	t.Run("not yet implemented operations", func(t *testing.T) {
		_, err := c.RotateSecret(cx, &sm.RotateSecretInput{SecretId: aws.String("sdk/string")})
		wantAPIError(t, err, "InvalidRequestException", "RotateSecret is not supported by this Coffer server yet.")
		// Resource policies are implemented (test/integration/iam_users_test.go).
		if out, err := c.GetResourcePolicy(cx, &sm.GetResourcePolicyInput{SecretId: aws.String("sdk/string")}); err != nil || out.ResourcePolicy != nil {
			t.Errorf("GetResourcePolicy without a policy: %+v %v", out, err)
		}
	})
}
