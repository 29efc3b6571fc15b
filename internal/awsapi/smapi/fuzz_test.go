package smapi_test

import (
	"encoding/json"
	"errors"
	"sort"
	"testing"

	"github.com/coffer-dev/coffer/internal/awsapi/awsjson"
	"github.com/coffer-dev/coffer/internal/awsapi/smapi"
)

var fuzzSeeds = []string{
	``, `{}`, `null`, `[]`, `{"SecretId":"db"}`,
	`{"SecretId":"db","VersionId":"EXAMPLE1-90ab-cdef-fedc-ba987EXAMPLE","VersionStage":"AWSCURRENT"}`,
	`{"Name":"db","SecretString":"x","SecretBinary":"Zm9v","Tags":[{"Key":"k","Value":"v"},null,{}]}`,
	`{"Filters":[{"Key":"name","Values":["!a","b"]}],"MaxResults":5,"SortOrder":"asc"}`,
	`{"SecretId":"s","RotationRules":{"AutomaticallyAfterDays":1e3,"Duration":"2h","ScheduleExpression":"cron(0 1 * * ? *)"}}`,
	`{"SecretIdList":["a",""],"MaxResults":-1}`,
	`{"SecretId":"s","VersionStage":"AWSCURRENT","MoveToVersionId":null,"RemoveFromVersionId":7}`,
	`{"SecretId":"s","RemoveReplicaRegions":["us-east-1",""]}`,
	`{"SecretId":{"SecretId":[[[]]]}}`, `{"SecretBinary":"====" }`, `{"CreatedDate":"2018-04-17T00:00:00Z"}`,
}

var opNames = func() []string {
	var names []string
	for n := range smapi.Operations {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}()

// FuzzDecodeValidate feeds arbitrary bytes to every operation's input:
// Decode, Validate and AuditParams must never panic, and their errors must
// have the documented types.
func FuzzDecodeValidate(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, name := range opNames {
			in := smapi.Operations[name].NewInput()
			if err := awsjson.Decode(body, in); err != nil {
				var se *awsjson.SerializationError
				if !errors.As(err, &se) || se.Message == "" {
					t.Fatalf("%s: Decode error %T %v", name, err, err)
				}
				continue
			}
			if err := in.Validate(); err != nil {
				var ve *awsjson.ValidationError
				if !errors.As(err, &ve) || len(ve.Errors) == 0 {
					t.Fatalf("%s: Validate error %T %v", name, err, err)
				}
			}
			if _, err := json.Marshal(in.AuditParams()); err != nil {
				t.Fatalf("%s: AuditParams: %v", name, err)
			}
			if _, err := json.Marshal(in); err != nil {
				t.Fatalf("%s: re-encode: %v", name, err)
			}
		}
	})
}

// A typical GetSecretValue body (80 bytes), decoded and validated as the edge
// does for every request.
var benchBody = []byte(`{"SecretId":"prod/payments/postgres-credentials-ab","VersionStage":"AWSCURRENT"}`)

func BenchmarkDecodeGetSecretValue(b *testing.B) {
	op := smapi.Operations["GetSecretValue"]
	b.SetBytes(int64(len(benchBody)))
	b.ReportAllocs()
	for b.Loop() {
		in := op.NewInput()
		if err := awsjson.Decode(benchBody, in); err != nil {
			b.Fatal(err)
		}
		if err := in.Validate(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAuditParamsGetSecretValue(b *testing.B) {
	in := smapi.Operations["GetSecretValue"].NewInput()
	if err := awsjson.Decode(benchBody, in); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = in.AuditParams()
	}
}
