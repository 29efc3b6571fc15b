package smapi_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-dev/coffer/internal/awsapi/awsjson"
	"github.com/coffer-dev/coffer/internal/awsapi/awsjson/awsjsontest"
	"github.com/coffer-dev/coffer/internal/awsapi/smapi"
)

func TestOperationsTable(t *testing.T) {
	if len(smapi.Operations) != 23 {
		t.Errorf("%d operations, want 23", len(smapi.Operations))
	}
	var readOnly []string
	for name, op := range smapi.Operations {
		if op.Name != name {
			t.Errorf("Operations[%s].Name = %s", name, op.Name)
		}
		if got := reflect.TypeOf(op.NewInput()).Elem().Name(); got != name+"Input" {
			t.Errorf("Operations[%s].NewInput() is a %s", name, got)
		}
		if op.InputShape != name+"Request" || len(op.Errors) == 0 {
			t.Errorf("Operations[%s] = %+v", name, op)
		}
		if op.ReadOnly {
			readOnly = append(readOnly, name)
		}
	}
	want := []string{"BatchGetSecretValue", "DescribeSecret", "GetRandomPassword", "GetResourcePolicy",
		"GetSecretValue", "ListSecretVersionIds", "ListSecrets", "ValidateResourcePolicy"}
	if diff := cmp.Diff(want, sorted(readOnly)); diff != "" {
		t.Errorf("read-only operations (-want +got):\n%s", diff)
	}
	if got := smapi.Operations["TagResource"].OutputShape; got != "" {
		t.Errorf("TagResource OutputShape = %q, want none", got)
	}
	if smapi.TargetPrefix != "secretsmanager" || smapi.SigningName != "secretsmanager" {
		t.Errorf("metadata: %q %q", smapi.TargetPrefix, smapi.SigningName)
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func validate(t *testing.T, op, body string) error {
	t.Helper()
	in := smapi.Operations[op].NewInput()
	if err := awsjson.Decode([]byte(body), in); err != nil {
		t.Fatalf("Decode(%s): %v", body, err)
	}
	return in.Validate()
}

const hunter = "hunter2-do-not-echo"

// Golden validation messages: AWS's framework text for representative bad
// requests.
func TestValidationMessages(t *testing.T) {
	long := strings.Repeat("s", 65537)
	ids21 := `["s1","s2","s3","s4","s5","s6","s7","s8","s9","s10","s11","s12","s13","s14","s15","s16","s17","s18","s19","s20","s21"]`
	tests := []struct {
		name, op, body, want string
	}{
		{"valid", "GetSecretValue", `{"SecretId":"MySecret","VersionStage":"AWSCURRENT"}`, ""},
		{"empty body", "GetSecretValue", ``,
			"1 validation error detected: Value null at 'secretId' failed to satisfy constraint: Member must not be null"},
		{"explicit null", "DescribeSecret", `{"SecretId":null}`,
			"1 validation error detected: Value null at 'secretId' failed to satisfy constraint: Member must not be null"},
		{"too short", "GetSecretValue", `{"SecretId":""}`,
			"1 validation error detected: Value '' at 'secretId' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"several, in member order", "GetSecretValue", `{"VersionStage":"","VersionId":"abc"}`,
			"3 validation errors detected: " +
				"Value null at 'secretId' failed to satisfy constraint: Member must not be null; " +
				"Value 'abc' at 'versionId' failed to satisfy constraint: Member must have length greater than or equal to 32; " +
				"Value '' at 'versionStage' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"too long", "CreateSecret", `{"Name":"n","Description":"` + strings.Repeat("d", 2049)[:2049] + `"}`,
			"1 validation error detected: Value '" + strings.Repeat("d", 256) + "...' at 'description' failed to satisfy constraint: Member must have length less than or equal to 2048"},
		{"enum", "ListSecrets", `{"SortOrder":"up"}`,
			"1 validation error detected: Value 'up' at 'sortOrder' failed to satisfy constraint: Member must satisfy enum value set: [asc, desc]"},
		{"range", "ListSecrets", `{"MaxResults":101}`,
			"1 validation error detected: Value '101' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 100"},
		{"range low", "BatchGetSecretValue", `{"MaxResults":0}`,
			"1 validation error detected: Value '0' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{"nested list element enum", "ListSecrets", `{"Filters":[{"Key":"name","Values":["a"]},{"Key":"nam","Values":["b"]}]}`,
			"1 validation error detected: Value 'nam' at 'filters.2.member.key' failed to satisfy constraint: " +
				"Member must satisfy enum value set: [description, name, tag-key, tag-value, primary-region, owning-service, all]"},
		{"nested list of strings pattern", "ListSecrets", `{"Filters":[{"Key":"name","Values":["ok","a#b"]}]}`,
			"1 validation error detected: Value '[ok, a#b]' at 'filters.1.member.values' failed to satisfy constraint: " +
				"Member must satisfy constraint: [Member must have length less than or equal to 512, " +
				`Member must satisfy regular expression pattern: ^\!?[a-zA-Z0-9 :_@\/\+\=\.\-\!]*$]`},
		{"nested list of strings empty", "ListSecrets", `{"Filters":[{"Key":"all","Values":[]}]}`,
			"1 validation error detected: Value '[]' at 'filters.1.member.values' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"list of structures too long", "ListSecrets", `{"Filters":[{},{},{},{},{},{},{},{},{},{},{}]}`,
			"1 validation error detected: Value at 'filters' failed to satisfy constraint: Member must have length less than or equal to 10"},
		{"list too long", "BatchGetSecretValue", `{"SecretIdList":` + ids21 + `}`,
			"1 validation error detected: Value '[s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, s12, s13, s14, s15, s16, s17, s18, s19, s20, s21]' " +
				"at 'secretIdList' failed to satisfy constraint: Member must have length less than or equal to 20"},
		{"list element", "BatchGetSecretValue", `{"SecretIdList":["a",""]}`,
			"1 validation error detected: Value '[a, ]' at 'secretIdList' failed to satisfy constraint: Member must satisfy constraint: " +
				"[Member must have length less than or equal to 2048, Member must have length greater than or equal to 1]"},
		{"list element pattern", "RemoveRegionsFromReplication", `{"SecretId":"s","RemoveReplicaRegions":["us-east-1","Mars"]}`,
			"1 validation error detected: Value '[us-east-1, Mars]' at 'removeReplicaRegions' failed to satisfy constraint: Member must satisfy constraint: " +
				`[Member must have length less than or equal to 128, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: ^([a-z]+-)+\d+$]`},
		{"required list", "UntagResource", `{"SecretId":"s"}`,
			"1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null"},
		{"tags", "TagResource", `{"SecretId":"s","Tags":[{"Key":"ok","Value":"v"},{"Key":"","Value":"v"}]}`,
			"1 validation error detected: Value '' at 'tags.2.member.key' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"nested structure", "RotateSecret", `{"SecretId":"s","RotationRules":{"AutomaticallyAfterDays":0,"Duration":"5d","ScheduleExpression":"rate(10 days)"}}`,
			"2 validation errors detected: " +
				"Value '0' at 'rotationRules.automaticallyAfterDays' failed to satisfy constraint: Member must have value greater than or equal to 1; " +
				"Value '5d' at 'rotationRules.duration' failed to satisfy constraint: Member must satisfy regular expression pattern: [0-9]+h"},
		{"pattern and length together", "RotateSecret", `{"SecretId":"s","RotationRules":{"Duration":"h"}}`,
			"2 validation errors detected: " +
				"Value 'h' at 'rotationRules.duration' failed to satisfy constraint: Member must satisfy regular expression pattern: [0-9]+h; " +
				"Value 'h' at 'rotationRules.duration' failed to satisfy constraint: Member must have length greater than or equal to 2"},
		{"pattern is a whole-value match", "RotateSecret", `{"SecretId":"s","RotationRules":{"Duration":"2hh"}}`,
			"1 validation error detected: Value '2hh' at 'rotationRules.duration' failed to satisfy constraint: Member must satisfy regular expression pattern: [0-9]+h"},
		{"sensitive too long", "CreateSecret", `{"Name":"n","SecretString":"` + hunter + long + `"}`,
			"1 validation error detected: Value at 'secretString' failed to satisfy constraint: Member must have length less than or equal to 65536"},
		{"sensitive empty", "PutSecretValue", `{"SecretId":"s","SecretString":""}`,
			"1 validation error detected: Value at 'secretString' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"sensitive blob empty", "PutSecretValue", `{"SecretId":"s","SecretBinary":""}`,
			"1 validation error detected: Value at 'secretBinary' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"sensitive pattern", "PutSecretValue", `{"SecretId":"s","RotationToken":"` + hunter + `!!!!!!!!!!!!!!!!!!!!!!"}`,
			"1 validation error detected: Value at 'rotationToken' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9\\-]+$"},
		{"password length", "GetRandomPassword", `{"PasswordLength":4097}`,
			"1 validation error detected: Value '4097' at 'passwordLength' failed to satisfy constraint: Member must have value less than or equal to 4096"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := validate(t, tt.op, tt.body)
			got := ""
			if err != nil {
				got = err.Error()
				var ve *awsjson.ValidationError
				if !errors.As(err, &ve) {
					t.Errorf("error is a %T, want *awsjson.ValidationError", err)
				}
			}
			if got != tt.want {
				t.Errorf("Validate()\n got %q\nwant %q", got, tt.want)
			}
			if strings.Contains(got, "hunter2") {
				t.Errorf("a sensitive value was rendered")
			}
		})
	}
}

func TestSensitiveSweep(t *testing.T) {
	hit := awsjsontest.SensitiveSweep(t, "../gen/models/secretsmanager-service-2.json", smapi.Operations)
	want := []string{"CreateSecret", "PutSecretValue", "UpdateSecret"}
	if diff := cmp.Diff(want, hit); diff != "" {
		t.Errorf("operations reporting a sensitive member (-want +got):\n%s", diff)
	}
}

func TestAuditParams(t *testing.T) {
	tests := []struct {
		op, body string
		want     map[string]any
	}{
		{"CreateSecret", `{"Name":"db","ClientRequestToken":"tok","SecretString":"` + hunter + `","SecretBinary":"aGk=",` +
			`"Tags":[{"Key":"k","Value":"v"}],"AddReplicaRegions":[{"Region":"eu-west-1"}],"ForceOverwriteReplicaSecret":false}`,
			map[string]any{
				"name": "db", "clientRequestToken": "tok",
				"tags":                        []any{map[string]any{"key": "k", "value": "v"}},
				"addReplicaRegions":           []any{map[string]any{"region": "eu-west-1"}},
				"forceOverwriteReplicaSecret": false,
			}},
		{"RotateSecret", `{"SecretId":"s","RotationRules":{"AutomaticallyAfterDays":30,"Duration":"2h"},"RotateImmediately":true}`,
			map[string]any{
				"secretId":          "s",
				"rotationRules":     map[string]any{"automaticallyAfterDays": int64(30), "duration": "2h"},
				"rotateImmediately": true,
			}},
		{"ListSecrets", `{"Filters":[{"Key":"name","Values":["a","b"]}],"MaxResults":0}`,
			map[string]any{
				"filters":    []any{map[string]any{"key": "name", "values": []string{"a", "b"}}},
				"maxResults": int64(0),
			}},
		{"PutSecretValue", `{"SecretId":"s","SecretString":"` + hunter + `","RotationToken":"` + hunter + `","VersionStages":["AWSPENDING"]}`,
			map[string]any{"secretId": "s", "versionStages": []string{"AWSPENDING"}}},
		{"GetSecretValue", `{"SecretId":"s"}`, map[string]any{"secretId": "s"}},
		{"ListSecrets", `{}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.op, func(t *testing.T) {
			in := smapi.Operations[tt.op].NewInput()
			if err := awsjson.Decode([]byte(tt.body), in); err != nil {
				t.Fatal(err)
			}
			got := in.AuditParams()
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("AuditParams (-want +got):\n%s", diff)
			}
			b, _ := json.Marshal(got)
			if strings.Contains(string(b), "hunter2") || strings.Contains(string(b), "aGk=") {
				t.Errorf("sensitive member logged: %s", b)
			}
		})
	}
}

func TestOutputEncoding(t *testing.T) {
	created := time.UnixMilli(1523477145713)
	tests := []struct {
		name string
		out  any
		want string
	}{
		{"no output", smapi.TagResourceOutput{}, `{}`},
		{"omits nil, keeps empty list and false", smapi.DescribeSecretOutput{
			ARN: new("arn"), Name: new("n"), RotationEnabled: new(false), Tags: []smapi.Tag{},
			CreatedDate: awsjson.TimeOf(created), LastAccessedDate: awsjson.TimeOf(time.Time{}),
		}, `{"ARN":"arn","Name":"n","RotationEnabled":false,"Tags":[],"CreatedDate":1523477145.713}`},
		{"binary value", smapi.GetSecretValueOutput{
			Name: new("n"), SecretBinary: []byte("footest"), VersionStages: []string{"AWSCURRENT"},
			CreatedDate: awsjson.TimeOf(time.Unix(1523923200, 0)),
		}, `{"Name":"n","SecretBinary":"Zm9vdGVzdA==","VersionStages":["AWSCURRENT"],"CreatedDate":1523923200}`},
		{"nested map of lists", smapi.ListSecretsOutput{SecretList: []smapi.SecretListEntry{{
			Name: new("n"), SecretVersionsToStages: map[string][]string{"v1": {"AWSCURRENT"}},
		}}}, `{"SecretList":[{"Name":"n","SecretVersionsToStages":{"v1":["AWSCURRENT"]}}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.out)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Errorf("got  %s\nwant %s", b, tt.want)
			}
		})
	}
}
