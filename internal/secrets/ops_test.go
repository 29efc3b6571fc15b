package secrets_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-dev/coffer/internal/secrets"
)

// Messages recorded from AWS (spec §2.8), verbatim.
const (
	msgNotFound      = "Secrets Manager can't find the specified secret."
	msgInvalidName   = "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!"
	msgMarked        = "You can't perform this operation on the secret because it was marked for deletion."
	msgScheduled     = "You can't create this secret because a secret with this name is already scheduled for deletion."
	msgNeedToken     = "You must provide a ClientRequestToken value. We recommend a UUID-type value."
	msgStageMismatch = "You provided a VersionStage that is not associated to the provided VersionId."
)

func msgNoStage(stage string) string {
	return "Secrets Manager can't find the specified secret value for staging label: " + stage
}

func msgNoVersion(id string) string {
	return "Secrets Manager can't find the specified secret value for VersionId: " + id
}

// fixture is the state every error case starts from: "s" has one version
// (tok(1), "v1"), "empty" has no value, "gone" is scheduled for deletion.
func fixture(t *testing.T) *env {
	t.Helper()
	e := newEnv(t)
	e.create(t, "s", tok(1), "v1")
	e.create(t, "empty", "", "")
	e.create(t, "gone", tok(1), "v")
	if _, err := e.svc.Delete(e.ctx, "gone", nil, false); err != nil {
		t.Fatal(err)
	}
	return e
}

// TestErrors runs every documented error of every operation against the
// service, with AWS's exact message.
func TestErrors(t *testing.T) {
	win := func(n int64) *int64 { return &n }
	type tc struct {
		name string
		call func(e *env, t *testing.T) error
		kind error
		msg  string // "" = compute from the secret (see msgFn)
		// msgFn builds the message when it names the secret's ARN.
		msgFn func(e *env, t *testing.T) string
	}
	look := func(e *env, t *testing.T, id string) *secrets.Secret { return e.lookup(t, id) }
	cases := []tc{
		// Names and lookup (every SecretId-taking operation goes through Lookup).
		{name: "lookup/unknown", kind: secrets.ErrNotFound, msg: msgNotFound,
			call: func(e *env, t *testing.T) error { _, err := e.svc.Lookup(e.ctx, "nope"); return err }},
		{name: "lookup/unknown ARN", kind: secrets.ErrNotFound, msg: msgNotFound,
			call: func(e *env, t *testing.T) error {
				_, err := e.svc.Lookup(e.ctx, "arn:aws:secretsmanager:us-east-1:123456789012:secret:nope-abcdef")
				return err
			}},
		{name: "lookup/ARN of another account", kind: secrets.ErrNotFound, msg: msgNotFound,
			call: func(e *env, t *testing.T) error {
				arn := strings.Replace(e.lookup(t, "s").ARN, "123456789012", "210987654321", 1)
				_, err := e.svc.Lookup(e.ctx, arn)
				return err
			}},
		{name: "lookup/ARN of another region", kind: secrets.ErrNotFound, msg: msgNotFound,
			call: func(e *env, t *testing.T) error {
				arn := strings.Replace(e.lookup(t, "s").ARN, "us-east-1", "eu-west-1", 1)
				_, err := e.svc.Lookup(e.ctx, arn)
				return err
			}},
		{name: "lookup/Inv Name", kind: secrets.ErrValidation, msg: msgInvalidName,
			call: func(e *env, t *testing.T) error { _, err := e.svc.Lookup(e.ctx, "Inv Name"); return err }},
		{name: "lookup/ Inv Name", kind: secrets.ErrValidation, msg: msgInvalidName,
			call: func(e *env, t *testing.T) error { _, err := e.svc.Lookup(e.ctx, " Inv Name"); return err }},
		{name: "lookup/ Inv*Name? ", kind: secrets.ErrValidation, msg: msgInvalidName,
			call: func(e *env, t *testing.T) error { _, err := e.svc.Lookup(e.ctx, " Inv*Name? "); return err }},
		{name: `lookup/ Inv *?!]Name\-`, kind: secrets.ErrValidation, msg: msgInvalidName,
			call: func(e *env, t *testing.T) error { _, err := e.svc.Lookup(e.ctx, ` Inv *?!]Name\-`); return err }},

		// CreateSecret
		{name: "create/invalid name", kind: secrets.ErrValidation, msg: msgInvalidName,
			call: func(e *env, t *testing.T) error {
				_, err := e.svc.Create(e.ctx, secrets.CreateInput{Name: "Inv Name", Token: tok(9), Value: str("x")})
				return err
			}},
		{name: "create/name too long", kind: secrets.ErrValidation, msg: msgInvalidName,
			call: func(e *env, t *testing.T) error {
				_, err := e.svc.Create(e.ctx, secrets.CreateInput{Name: strings.Repeat("a", 513)})
				return err
			}},
		{name: "create/exists", kind: secrets.ErrExists, msg: "The operation failed because the secret s already exists.",
			call: func(e *env, t *testing.T) error {
				_, err := e.svc.Create(e.ctx, secrets.CreateInput{Name: "s", Token: tok(9), Value: str("x")})
				return err
			}},
		{name: "create/exists without value", kind: secrets.ErrExists, msg: "The operation failed because the secret s already exists.",
			call: func(e *env, t *testing.T) error {
				_, err := e.svc.Create(e.ctx, secrets.CreateInput{Name: "s"})
				return err
			}},
		{name: "create/scheduled for deletion", kind: secrets.ErrInvalidRequest, msg: msgScheduled,
			call: func(e *env, t *testing.T) error {
				_, err := e.svc.Create(e.ctx, secrets.CreateInput{Name: "gone", Token: tok(9), Value: str("x")})
				return err
			}},
		{name: "create/no token", kind: secrets.ErrInvalidRequest, msg: msgNeedToken,
			call: func(e *env, t *testing.T) error {
				_, err := e.svc.Create(e.ctx, secrets.CreateInput{Name: "new", Value: str("x")})
				return err
			}},
		{name: "create/token reused with another value", kind: secrets.ErrExists,
			msgFn: func(e *env, t *testing.T) string {
				return "You can't use ClientRequestToken " + tok(1) + " because that value is already in use for a version of secret " + e.lookup(t, "s").ARN + "."
			},
			call: func(e *env, t *testing.T) error {
				_, err := e.svc.Create(e.ctx, secrets.CreateInput{Name: "s", Token: tok(1), Value: str("other")})
				return err
			}},
		{name: "create/token reused with binary of same bytes", kind: secrets.ErrExists,
			msgFn: func(e *env, t *testing.T) string {
				return "You can't use ClientRequestToken " + tok(1) + " because that value is already in use for a version of secret " + e.lookup(t, "s").ARN + "."
			},
			call: func(e *env, t *testing.T) error {
				_, err := e.svc.Create(e.ctx, secrets.CreateInput{Name: "s", Token: tok(1), Value: bin('v', '1')})
				return err
			}},
		{name: "create/reserved tag key", kind: secrets.ErrInvalidParameter,
			msg: "Invalid tag key. Tag keys beginning with 'aws:' are reserved for AWS use.",
			call: func(e *env, t *testing.T) error {
				_, err := e.svc.Create(e.ctx, secrets.CreateInput{Name: "new", Tags: []secrets.Tag{{Key: "aws:x", Value: "1"}}})
				return err
			}},

		// GetSecretValue
		{name: "get/unknown version", kind: secrets.ErrNotFound, msg: msgNoVersion(tok(7)),
			call: func(e *env, t *testing.T) error {
				_, err := e.svc.GetValue(e.ctx, look(e, t, "s"), tok(7), "")
				return err
			}},
		{name: "get/unknown stage", kind: secrets.ErrNotFound, msg: msgNoStage("AWSPENDING"),
			call: func(e *env, t *testing.T) error {
				_, err := e.svc.GetValue(e.ctx, look(e, t, "s"), "", "AWSPENDING")
				return err
			}},
		{name: "get/no previous", kind: secrets.ErrNotFound, msg: msgNoStage("AWSPREVIOUS"),
			call: func(e *env, t *testing.T) error {
				_, err := e.svc.GetValue(e.ctx, look(e, t, "s"), "", "AWSPREVIOUS")
				return err
			}},
		{name: "get/empty secret", kind: secrets.ErrNotFound, msg: msgNoStage("AWSCURRENT"),
			call: func(e *env, t *testing.T) error {
				_, err := e.svc.GetValue(e.ctx, look(e, t, "empty"), "", "")
				return err
			}},
		{name: "get/stage not on version", kind: secrets.ErrInvalidRequest, msg: msgStageMismatch,
			call: func(e *env, t *testing.T) error {
				_, err := e.svc.GetValue(e.ctx, look(e, t, "s"), tok(1), "AWSPREVIOUS")
				return err
			}},
		{name: "get/marked for deletion", kind: secrets.ErrInvalidRequest, msg: msgMarked,
			call: func(e *env, t *testing.T) error {
				_, err := e.svc.GetValue(e.ctx, look(e, t, "gone"), "", "")
				return err
			}},

		// PutSecretValue
		{name: "put/no token", kind: secrets.ErrInvalidRequest, msg: msgNeedToken,
			call: func(e *env, t *testing.T) error {
				_, err := e.svc.PutValue(e.ctx, look(e, t, "s"), secrets.PutInput{Value: *str("x")})
				return err
			}},
		{name: "put/token reused with another value", kind: secrets.ErrExists,
			msgFn: func(e *env, t *testing.T) string {
				return "You can't use ClientRequestToken " + tok(1) + " because that value is already in use for a version of secret " + e.lookup(t, "s").ARN + "."
			},
			call: func(e *env, t *testing.T) error {
				_, err := e.svc.PutValue(e.ctx, look(e, t, "s"), secrets.PutInput{Token: tok(1), Value: *str("v2")})
				return err
			}},
		{name: "put/marked for deletion", kind: secrets.ErrInvalidRequest, msg: msgMarked,
			call: func(e *env, t *testing.T) error {
				_, err := e.svc.PutValue(e.ctx, look(e, t, "gone"), secrets.PutInput{Token: tok(2), Value: *str("x")})
				return err
			}},
		{name: "put/too many labels", kind: secrets.ErrLimitExceeded,
			msg: "A secret can have at most 20 staging labels attached across all of its versions.",
			call: func(e *env, t *testing.T) error {
				var ls []string
				for i := 0; i < 20; i++ {
					ls = append(ls, "L"+string(rune('a'+i)))
				}
				_, err := e.svc.PutValue(e.ctx, look(e, t, "s"), secrets.PutInput{Token: tok(2), Value: *str("x"), Stages: ls})
				return err
			}},
		{name: "put/secret deleted meanwhile", kind: secrets.ErrNotFound, msg: msgNotFound,
			call: func(e *env, t *testing.T) error {
				sec := look(e, t, "s")
				if _, err := e.svc.Delete(e.ctx, "s", nil, true); err != nil {
					t.Fatal(err)
				}
				_, err := e.svc.PutValue(e.ctx, sec, secrets.PutInput{Token: tok(2), Value: *str("x")})
				return err
			}},

		// UpdateSecret
		{name: "update/value without token", kind: secrets.ErrInvalidRequest, msg: msgNeedToken,
			call: func(e *env, t *testing.T) error {
				_, err := e.svc.Update(e.ctx, look(e, t, "s"), secrets.UpdateInput{Value: str("x")})
				return err
			}},
		{name: "update/token reused with another value", kind: secrets.ErrExists,
			msgFn: func(e *env, t *testing.T) string {
				return "You can't use ClientRequestToken " + tok(1) + " because that value is already in use for a version of secret " + e.lookup(t, "s").ARN + "."
			},
			call: func(e *env, t *testing.T) error {
				_, err := e.svc.Update(e.ctx, look(e, t, "s"), secrets.UpdateInput{Token: tok(1), Value: str("v2")})
				return err
			}},
		{name: "update/marked for deletion", kind: secrets.ErrInvalidRequest, msg: msgMarked,
			call: func(e *env, t *testing.T) error {
				d := "x"
				_, err := e.svc.Update(e.ctx, look(e, t, "gone"), secrets.UpdateInput{Description: &d})
				return err
			}},

		// UpdateSecretVersionStage
		{name: "stage/move AWSCURRENT without RemoveFromVersionId", kind: secrets.ErrInvalidParameter,
			msg: "The parameter RemoveFromVersionId can't be empty. Staging label AWSCURRENT is currently attached to version " + tok(1) + ", so you must explicitly reference that version in RemoveFromVersionId.",
			call: func(e *env, t *testing.T) error {
				e.put(t, "s", tok(2), "v2", "AWSPENDING")
				_, err := e.svc.UpdateVersionStage(e.ctx, look(e, t, "s"), "AWSCURRENT", tok(2), "")
				return err
			}},
		{name: "stage/move custom label without RemoveFromVersionId", kind: secrets.ErrInvalidParameter,
			msg: "The parameter RemoveFromVersionId can't be empty. Staging label X is currently attached to version " + tok(1) + ", so you must explicitly reference that version in RemoveFromVersionId.",
			call: func(e *env, t *testing.T) error {
				e.stage(t, "s", "X", tok(1), "")
				e.put(t, "s", tok(2), "v2", "AWSPENDING")
				_, err := e.svc.UpdateVersionStage(e.ctx, look(e, t, "s"), "X", tok(2), "")
				return err
			}},
		{name: "stage/RemoveFromVersionId does not hold the label", kind: secrets.ErrInvalidParameter,
			msg: "The staging label AWSCURRENT is not attached to version " + tok(2) + ", so you can't remove it from that version.",
			call: func(e *env, t *testing.T) error {
				e.put(t, "s", tok(2), "v2", "AWSPENDING")
				_, err := e.svc.UpdateVersionStage(e.ctx, look(e, t, "s"), "AWSCURRENT", tok(1), tok(2))
				return err
			}},
		{name: "stage/unknown MoveToVersionId", kind: secrets.ErrInvalidParameter,
			msgFn: func(e *env, t *testing.T) string {
				return "The version " + tok(8) + " doesn't exist for secret " + e.lookup(t, "s").ARN + "."
			},
			call: func(e *env, t *testing.T) error {
				_, err := e.svc.UpdateVersionStage(e.ctx, look(e, t, "s"), "AWSCURRENT", tok(8), tok(1))
				return err
			}},
		{name: "stage/unknown RemoveFromVersionId", kind: secrets.ErrInvalidParameter,
			msgFn: func(e *env, t *testing.T) string {
				return "The version " + tok(8) + " doesn't exist for secret " + e.lookup(t, "s").ARN + "."
			},
			call: func(e *env, t *testing.T) error {
				_, err := e.svc.UpdateVersionStage(e.ctx, look(e, t, "s"), "X", "", tok(8))
				return err
			}},
		{name: "stage/neither version", kind: secrets.ErrInvalidParameter,
			msg: "You must specify MoveToVersionId, RemoveFromVersionId, or both.",
			call: func(e *env, t *testing.T) error {
				_, err := e.svc.UpdateVersionStage(e.ctx, look(e, t, "s"), "X", "", "")
				return err
			}},
		{name: "stage/remove AWSCURRENT", kind: secrets.ErrInvalidParameter,
			msg: "You can't remove the staging label AWSCURRENT without moving it to another version. Specify MoveToVersionId.",
			call: func(e *env, t *testing.T) error {
				_, err := e.svc.UpdateVersionStage(e.ctx, look(e, t, "s"), "AWSCURRENT", "", tok(1))
				return err
			}},
		{name: "stage/marked for deletion", kind: secrets.ErrInvalidRequest, msg: msgMarked,
			call: func(e *env, t *testing.T) error {
				_, err := e.svc.UpdateVersionStage(e.ctx, look(e, t, "gone"), "X", tok(1), "")
				return err
			}},

		// DeleteSecret
		{name: "delete/window too short", kind: secrets.ErrInvalidParameter,
			msg:  "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).",
			call: func(e *env, t *testing.T) error { _, err := e.svc.Delete(e.ctx, "s", win(6), false); return err }},
		{name: "delete/window too long", kind: secrets.ErrInvalidParameter,
			msg:  "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).",
			call: func(e *env, t *testing.T) error { _, err := e.svc.Delete(e.ctx, "s", win(31), false); return err }},
		{name: "delete/window and force", kind: secrets.ErrInvalidParameter,
			msg:  "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.",
			call: func(e *env, t *testing.T) error { _, err := e.svc.Delete(e.ctx, "s", win(7), true); return err }},
		{name: "delete/unknown", kind: secrets.ErrNotFound, msg: msgNotFound,
			call: func(e *env, t *testing.T) error { _, err := e.svc.Delete(e.ctx, "nope", nil, false); return err }},
		{name: "delete/invalid name even with force", kind: secrets.ErrValidation, msg: msgInvalidName,
			call: func(e *env, t *testing.T) error { _, err := e.svc.Delete(e.ctx, "Inv Name", nil, true); return err }},
		{name: "delete/already scheduled", kind: secrets.ErrInvalidRequest,
			msg:  "You can't perform this operation on the secret because it was already scheduled for deletion.",
			call: func(e *env, t *testing.T) error { _, err := e.svc.Delete(e.ctx, "gone", nil, false); return err }},

		// TagResource / UntagResource
		{name: "tag/marked for deletion", kind: secrets.ErrInvalidRequest, msg: msgMarked,
			call: func(e *env, t *testing.T) error {
				return e.svc.Tag(e.ctx, look(e, t, "gone"), []secrets.Tag{{Key: "k", Value: "v"}})
			}},
		{name: "untag/marked for deletion", kind: secrets.ErrInvalidRequest, msg: msgMarked,
			call: func(e *env, t *testing.T) error { return e.svc.Untag(e.ctx, look(e, t, "gone"), []string{"k"}) }},
		{name: "tag/reserved key", kind: secrets.ErrInvalidParameter,
			msg: "Invalid tag key. Tag keys beginning with 'aws:' are reserved for AWS use.",
			call: func(e *env, t *testing.T) error {
				return e.svc.Tag(e.ctx, look(e, t, "s"), []secrets.Tag{{Key: "AWS:x", Value: "v"}})
			}},
		{name: "tag/more than 50", kind: secrets.ErrLimitExceeded, msg: "A secret can have at most 50 tags.",
			call: func(e *env, t *testing.T) error {
				var tags []secrets.Tag
				for i := 0; i < 51; i++ {
					tags = append(tags, secrets.Tag{Key: tok(i), Value: "v"})
				}
				return e.svc.Tag(e.ctx, look(e, t, "s"), tags)
			}},

		// ListSecrets / ListSecretVersionIds / BatchGetSecretValue
		{name: "list/bad token", kind: secrets.ErrInvalidNextToken, msg: "The NextToken value is invalid.",
			call: func(e *env, t *testing.T) error {
				_, _, err := e.svc.List(e.ctx, secrets.ListInput{NextToken: "!!not a token"})
				return err
			}},
		{name: "list/token of another sort order", kind: secrets.ErrInvalidNextToken, msg: "The NextToken value is invalid.",
			call: func(e *env, t *testing.T) error {
				_, next, err := e.svc.List(e.ctx, secrets.ListInput{MaxResults: 1, IncludeDeleted: true})
				if err != nil || next == "" {
					t.Fatalf("first page: next %q, %v", next, err)
				}
				_, _, err = e.svc.List(e.ctx, secrets.ListInput{MaxResults: 1, NextToken: next, SortBy: "name"})
				return err
			}},
		{name: "list/invalid filter values", kind: secrets.ErrInvalidParameter, msg: "Invalid filter values for key: description",
			call: func(e *env, t *testing.T) error {
				_, _, err := e.svc.List(e.ctx, secrets.ListInput{Filters: []secrets.Filter{{Key: "description"}}})
				return err
			}},
		{name: "versions/bad token", kind: secrets.ErrInvalidNextToken, msg: "The NextToken value is invalid.",
			call: func(e *env, t *testing.T) error {
				_, _, err := e.svc.ListVersions(e.ctx, look(e, t, "s"), false, 0, "garbage")
				return err
			}},
		{name: "batch/ids and filters", kind: secrets.ErrInvalidParameter,
			msg: "Either 'SecretIdList' or 'Filters' must be provided, but not both.",
			call: func(e *env, t *testing.T) error {
				_, _, _, err := e.svc.BatchGet(e.ctx, secrets.BatchInput{IDs: []string{"s"}, Filters: []secrets.Filter{{Key: "name", Values: []string{"s"}}}}, allow)
				return err
			}},
		{name: "batch/neither", kind: secrets.ErrInvalidParameter,
			msg: "Either 'SecretIdList' or 'Filters' must be provided, but not both.",
			call: func(e *env, t *testing.T) error {
				_, _, _, err := e.svc.BatchGet(e.ctx, secrets.BatchInput{}, allow)
				return err
			}},
		{name: "batch/MaxResults without filters", kind: secrets.ErrInvalidParameter,
			msg: "'Filters' not specified. 'Filters' must also be specified when 'MaxResults' is provided.",
			call: func(e *env, t *testing.T) error {
				_, _, _, err := e.svc.BatchGet(e.ctx, secrets.BatchInput{IDs: []string{"s"}, MaxResults: 5}, allow)
				return err
			}},
		{name: "batch/bad token", kind: secrets.ErrInvalidNextToken, msg: "The NextToken value is invalid.",
			call: func(e *env, t *testing.T) error {
				_, _, _, err := e.svc.BatchGet(e.ctx, secrets.BatchInput{Filters: []secrets.Filter{{Key: "name", Values: []string{"s"}}}, NextToken: "x"}, allow)
				return err
			}},

		// GetRandomPassword
		{name: "password/too short for required types", kind: secrets.ErrInvalidParameter,
			msg: "Password length is too short based on the required types.",
			call: func(e *env, t *testing.T) error {
				_, err := secrets.RandomPassword(secrets.PasswordSpec{Length: 3})
				return err
			}},
		{name: "password/everything excluded", kind: secrets.ErrInvalidParameter,
			msg: "All characters have been excluded from selection.",
			call: func(e *env, t *testing.T) error {
				_, err := secrets.RandomPassword(secrets.PasswordSpec{ExcludeLowercase: true, ExcludeUppercase: true, ExcludeNumbers: true, ExcludePunctuation: true})
				return err
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := fixture(t)
			err := c.call(e, t)
			msg := c.msg
			if c.msgFn != nil {
				msg = c.msgFn(e, t)
			}
			wantErr(t, err, c.kind, msg)
		})
	}
}

func allow(context.Context, *secrets.Secret) error { return nil }

// TestCreate covers CreateSecret's successful shapes.
func TestCreate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	long := strings.Repeat("n", 512)
	for _, c := range []struct {
		name   string
		in     secrets.CreateInput
		wantID string
	}{
		{"with string value", secrets.CreateInput{Name: "a/b_c+d=e.f@g-h", Token: tok(1), Value: str("v")}, tok(1)},
		{"with binary value", secrets.CreateInput{Name: "bin", Token: tok(1), Value: bin(0, 1, 2, 255)}, tok(1)},
		{"without value, token ignored", secrets.CreateInput{Name: "novalue", Token: tok(1)}, ""},
		{"without value or token", secrets.CreateInput{Name: "novalue2", Description: "d"}, ""},
		{"512-character name", secrets.CreateInput{Name: long, Token: tok(1), Value: str("v")}, tok(1)},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, err := e.svc.Create(e.ctx, c.in)
			if err != nil {
				t.Fatal(err)
			}
			prefix := "arn:aws:secretsmanager:us-east-1:123456789012:secret:" + c.in.Name + "-"
			if !strings.HasPrefix(res.ARN, prefix) || len(res.ARN) != len(prefix)+6 || strings.Trim(res.ARN[len(prefix):], "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != "" {
				t.Errorf("ARN %q, want %s + 6 alphanumerics", res.ARN, prefix)
			}
			if res.Name != c.in.Name || res.VersionID != c.wantID {
				t.Errorf("result %+v", res)
			}
			sec := e.lookup(t, c.in.Name)
			if c.wantID == "" {
				if len(sec.Versions) != 0 || len(res.Stages) != 0 {
					t.Errorf("versions %+v stages %v, want none", sec.Versions, res.Stages)
				}
				return
			}
			if diff := cmp.Diff(l("AWSCURRENT"), e.labels(t, c.in.Name)[c.wantID]); diff != "" {
				t.Errorf("labels: %s", diff)
			}
			v, err := e.svc.GetValue(e.ctx, sec, "", "")
			if err != nil {
				t.Fatal(err)
			}
			if !v.Value.Equal(*c.in.Value) {
				t.Errorf("value %q binary=%v", v.Value.Data, v.Value.Binary)
			}
			if !v.CreatedAt.Equal(e.clock.Now()) || !sec.CreatedAt.Equal(e.clock.Now()) || !sec.LastChangedAt.Equal(e.clock.Now()) {
				t.Errorf("dates: version %v secret %v/%v, want %v", v.CreatedAt, sec.CreatedAt, sec.LastChangedAt, e.clock.Now())
			}
		})
	}
}

// TestRecreateGetsNewARN: a secret re-created under the same name gets a
// different suffix (spec §2.1).
func TestRecreateGetsNewARN(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	seen := map[string]bool{}
	for i := 0; i < 5; i++ {
		s := e.create(t, "again", tok(1), "v")
		if seen[s.ARN] {
			t.Fatalf("ARN %s reused", s.ARN)
		}
		seen[s.ARN] = true
		if _, err := e.svc.Delete(e.ctx, "again", nil, true); err != nil {
			t.Fatal(err)
		}
	}
}
