package kmsapi_test

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
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/coffer-dev/coffer/internal/awsapi/awsjson"
	"github.com/coffer-dev/coffer/internal/awsapi/kmsapi"
)

// fakeServer plays the HTTP edge for an aws-sdk-go-v2 KMS client.
type fakeServer struct {
	t      *testing.T
	target string
	input  kmsapi.Input
	reply  any
}

func (f *fakeServer) Do(r *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	f.target = r.Header.Get("X-Amz-Target")
	op, ok := kmsapi.Operations[strings.TrimPrefix(f.target, kmsapi.TargetPrefix+".")]
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

func TestSDKRoundTrip(t *testing.T) {
	ctx := context.Background()
	f := &fakeServer{t: t}
	c := kms.New(kms.Options{
		Region: "us-east-1", Credentials: aws.AnonymousCredentials{}, HTTPClient: f,
		BaseEndpoint: aws.String("http://coffer.test"), RetryMaxAttempts: 1,
	})

	f.reply = kmsapi.EncryptOutput{CiphertextBlob: []byte{0, 1, 2, 255}, KeyId: new("arn:k"), EncryptionAlgorithm: new("SYMMETRIC_DEFAULT")}
	enc, err := c.Encrypt(ctx, &kms.EncryptInput{
		KeyId: aws.String("alias/app"), Plaintext: []byte("data key \x00\xff"),
		EncryptionContext: map[string]string{"SecretARN": "arn:s", "SecretVersionId": "v1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if f.target != "TrentService.Encrypt" {
		t.Errorf("target %q", f.target)
	}
	in := f.input.(*kmsapi.EncryptInput)
	if string(in.Plaintext) != "data key \x00\xff" || in.EncryptionContext["SecretVersionId"] != "v1" || *in.KeyId != "alias/app" {
		t.Errorf("decoded input %+v", in)
	}
	if !bytes.Equal(enc.CiphertextBlob, []byte{0, 1, 2, 255}) || enc.EncryptionAlgorithm != kmstypes.EncryptionAlgorithmSpecSymmetricDefault {
		t.Errorf("SDK parsed %+v", enc)
	}

	created := time.UnixMilli(1523477145713).UTC()
	f.reply = kmsapi.DescribeKeyOutput{KeyMetadata: &kmsapi.KeyMetadata{
		KeyId: new("k"), Arn: new("arn:k"), CreationDate: awsjson.TimeOf(created), Enabled: new(false),
		KeyState: new("Disabled"), KeySpec: new("SYMMETRIC_DEFAULT"), EncryptionAlgorithms: []string{"SYMMETRIC_DEFAULT"},
	}}
	d, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("k"), GrantTokens: []string{"g"}})
	if err != nil {
		t.Fatal(err)
	}
	md := d.KeyMetadata
	if md.Enabled || md.KeyState != kmstypes.KeyStateDisabled || !md.CreationDate.Equal(created) || len(md.EncryptionAlgorithms) != 1 {
		t.Errorf("SDK parsed %+v", md)
	}

	f.reply = kmsapi.GenerateRandomOutput{Plaintext: []byte{9, 9}}
	r, err := c.GenerateRandom(ctx, &kms.GenerateRandomInput{NumberOfBytes: aws.Int32(2)})
	if err != nil {
		t.Fatal(err)
	}
	if gin := f.input.(*kmsapi.GenerateRandomInput); *gin.NumberOfBytes != 2 || !bytes.Equal(r.Plaintext, []byte{9, 9}) {
		t.Errorf("round trip: in %+v, out %+v", gin, r)
	}

	f.reply = kmsapi.EnableKeyOutput{}
	if _, err := c.EnableKey(ctx, &kms.EnableKeyInput{KeyId: aws.String("k")}); err != nil {
		t.Fatal(err)
	}
}
