package kmsapi_test

import (
	"encoding/json"
	"errors"
	"sort"
	"testing"

	"github.com/coffer-dev/coffer/internal/awsapi/awsjson"
	"github.com/coffer-dev/coffer/internal/awsapi/kmsapi"
)

var fuzzSeeds = []string{
	``, `{}`, `null`, `[]`, `{"KeyId":"alias/k"}`,
	`{"KeyId":"k","Plaintext":"aGk=","EncryptionContext":{"a":"b","":""},"GrantTokens":["g",""]}`,
	`{"CiphertextBlob":"AAEC/w==","EncryptionContext":null,"Recipient":{"AttestationDocument":"","KeyEncryptionAlgorithm":"X"}}`,
	`{"KeyId":"k","NumberOfBytes":1e2,"KeySpec":"AES_256"}`,
	`{"NumberOfBytes":-1}`, `{"Tags":[{"TagKey":"k"},null]}`,
	`{"KeyId":"k","GranteePrincipal":"p","Operations":["Decrypt","X"],"Constraints":{"EncryptionContextSubset":{"a":"b"}}}`,
	`{"CustomKeyStoreName":"s","XksProxyAuthenticationCredential":{"AccessKeyId":"A","RawSecretAccessKey":"b"}}`,
	`{"Marker":"\u0100","Limit":0}`, `{"KeyId":{"KeyId":[[]]}}`, `{"Plaintext":"===="}`,
}

var opNames = func() []string {
	var names []string
	for n := range kmsapi.Operations {
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
			in := kmsapi.Operations[name].NewInput()
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

// A typical Decrypt body as Secrets Manager-style envelope encryption sends it.
var benchBody = []byte(`{"CiphertextBlob":"AQIDAHhBVtlYT3nL4j6wqlrRGwnFWs7cY5WTl0TTIcaAXJJ6kAFmX0Esp1cXAAAAfjB8BgkqhkiG9w0BBwagbzBtAgEAMGgGCSqGSIb3DQEHATAeBglghkgBZQMEAS4wEQQMtR7s6Y5wMmhqhnQ3AgEQgDv7u1n0nH9Ru7r9pZqJ2m3qE8uN9wV1kQx9f0y4vZ2H8dB7cX3qK1oL5pA2sT6uW8yZ0a==","EncryptionContext":{"SecretARN":"arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbCdEf","SecretVersionId":"EXAMPLE1-90ab-cdef-fedc-ba987EXAMPLE"}}`)

func BenchmarkDecodeDecrypt(b *testing.B) {
	op := kmsapi.Operations["Decrypt"]
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
