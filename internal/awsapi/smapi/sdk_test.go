package smapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/coffer-dev/coffer/internal/awsapi/awsjson"
	"github.com/coffer-dev/coffer/internal/awsapi/smapi"
)

// fakeServer plays the HTTP edge for an aws-sdk-go-v2 client: it decodes
// the request into the generated input, validates it, and answers with the
// JSON encoding of a generated output.
type fakeServer struct {
	t      *testing.T
	target string
	input  smapi.Input
	reply  any
}

func (f *fakeServer) Do(r *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	f.target = r.Header.Get("X-Amz-Target")
	name := strings.TrimPrefix(f.target, smapi.TargetPrefix+".")
	op, ok := smapi.Operations[name]
	if !ok {
		f.t.Fatalf("unknown target %q", f.target)
	}
	f.input = op.NewInput()
	if err := awsjson.Decode(body, f.input); err != nil {
		f.t.Fatalf("Decode(%s): %v", body, err)
	}
	if err := f.input.Validate(); err != nil {
		f.t.Fatalf("Validate(%s): %v", body, err)
	}
	out, err := json.Marshal(f.reply)
	if err != nil {
		f.t.Fatal(err)
	}
	return &http.Response{
		StatusCode: 200,
		Header:     http.Header{"Content-Type": {"application/x-amz-json-1.1"}},
		Body:       io.NopCloser(bytes.NewReader(out)),
		Request:    r,
	}, nil
}

func newClient(f *fakeServer) *secretsmanager.Client {
	return secretsmanager.New(secretsmanager.Options{
		Region:           "us-east-1",
		Credentials:      aws.AnonymousCredentials{},
		HTTPClient:       f,
		BaseEndpoint:     aws.String("http://coffer.test"),
		RetryMaxAttempts: 1,
	})
}

// The AWS SDK's requests decode into the generated inputs and the SDK parses
// the generated outputs: names, timestamps, blobs, empty lists.
func TestSDKRoundTrip(t *testing.T) {
	ctx := context.Background()
	f := &fakeServer{t: t}
	c := newClient(f)
	created := time.UnixMilli(1523477145713).UTC()

	f.reply = smapi.GetSecretValueOutput{
		ARN: new("arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"), Name: new("db"),
		VersionId: new("EXAMPLE1-90ab-cdef-fedc-ba987EXAMPLE"), SecretBinary: []byte("footest"),
		VersionStages: []string{"AWSCURRENT"}, CreatedDate: awsjson.TimeOf(created),
	}
	got, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("db"), VersionStage: aws.String("AWSCURRENT")})
	if err != nil {
		t.Fatal(err)
	}
	if f.target != "secretsmanager.GetSecretValue" {
		t.Errorf("target %q", f.target)
	}
	in := f.input.(*smapi.GetSecretValueInput)
	if *in.SecretId != "db" || *in.VersionStage != "AWSCURRENT" || in.VersionId != nil {
		t.Errorf("decoded input %+v", in)
	}
	if string(got.SecretBinary) != "footest" || !got.CreatedDate.Equal(created) || got.VersionStages[0] != "AWSCURRENT" {
		t.Errorf("SDK parsed %+v", got)
	}

	f.reply = smapi.CreateSecretOutput{ARN: new("arn"), Name: new("db"), VersionId: new("v")}
	_, err = c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String("db"), SecretString: aws.String("s3cr3t"),
		Tags: []smtypes.Tag{{Key: aws.String("team"), Value: aws.String("infra")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	cin := f.input.(*smapi.CreateSecretInput)
	if cin.ClientRequestToken == nil || len(*cin.ClientRequestToken) != 36 {
		t.Errorf("SDK idempotency token not decoded: %v", cin.ClientRequestToken)
	}
	if *cin.SecretString != "s3cr3t" || len(cin.Tags) != 1 || *cin.Tags[0].Key != "team" {
		t.Errorf("decoded input %+v", cin)
	}

	f.reply = smapi.DescribeSecretOutput{
		Name: new("db"), RotationEnabled: new(false), Tags: []smapi.Tag{},
		RotationRules:      &smapi.RotationRulesType{AutomaticallyAfterDays: new(int64(30))},
		VersionIdsToStages: map[string][]string{"v": {"AWSCURRENT", "AWSPREVIOUS"}},
		LastAccessedDate:   awsjson.TimeOf(time.Date(2018, 4, 17, 0, 0, 0, 0, time.UTC)),
	}
	d, err := c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("db")})
	if err != nil {
		t.Fatal(err)
	}
	if d.RotationEnabled == nil || *d.RotationEnabled || d.Tags == nil || len(d.Tags) != 0 ||
		*d.RotationRules.AutomaticallyAfterDays != 30 || len(d.VersionIdsToStages["v"]) != 2 ||
		d.LastAccessedDate.Unix() != 1523923200 {
		t.Errorf("SDK parsed %+v", d)
	}

	f.reply = smapi.TagResourceOutput{}
	if _, err := c.TagResource(ctx, &secretsmanager.TagResourceInput{SecretId: aws.String("db"), Tags: []smtypes.Tag{}}); err != nil {
		t.Fatal(err)
	}
	if tin := f.input.(*smapi.TagResourceInput); tin.Tags == nil {
		t.Error(`"Tags":[] must stay a present, empty list`)
	}
}
