package sigv4_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/coffer-dev/coffer/internal/sigv4"
)

// fakeAWS answers a few Secrets Manager, KMS and STS calls after verifying
// their signatures, and records what it verified.
type fakeAWS struct {
	v      verifier
	mu     sync.Mutex
	seen   []string // "service action presigned"
	errors []string
}

func (f *fakeAWS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	service, action := "", ""
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		prefix, op, _ := strings.Cut(target, ".")
		service, action = map[string]string{"secretsmanager": "secretsmanager", "TrentService": "kms"}[prefix], op
	} else {
		service = "sts"
	}
	f.v.set("us-east-1", service, time.Time{})
	a, body, err := f.v.verify(r)
	if service == "sts" {
		if r.Method == http.MethodGet {
			action = r.URL.Query().Get("Action")
		} else if q, perr := url.ParseQuery(string(body)); perr == nil {
			action = q.Get("Action")
		}
	}
	f.mu.Lock()
	if err != nil {
		f.errors = append(f.errors, fmt.Sprintf("%s %s: %v", service, action, err))
	} else {
		f.seen = append(f.seen, fmt.Sprintf("%s %s %s %v token=%v", r.Proto, service, action, a.Presigned, a.SecurityToken != ""))
	}
	f.mu.Unlock()

	if err != nil {
		// The mapping recommended in the package documentation.
		jsonCode, queryCode := "InternalFailure", "InternalFailure"
		var se *sigv4.Error
		if errors.As(err, &se) {
			switch se.Kind {
			case sigv4.KindMissing:
				jsonCode, queryCode = "MissingAuthenticationTokenException", "MissingAuthenticationToken"
			case sigv4.KindIncomplete:
				jsonCode, queryCode = "IncompleteSignatureException", "IncompleteSignature"
			default:
				jsonCode, queryCode = "InvalidSignatureException", "SignatureDoesNotMatch"
			}
		}
		if service == "sts" {
			w.Header().Set("Content-Type", "text/xml")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprintf(w, `<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>r</RequestId></ErrorResponse>`, queryCode, "rejected")
			return
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": jsonCode, "message": "rejected"})
		return
	}
	switch service {
	case "secretsmanager":
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf", "Name": "prod/db",
			"SecretString": "s3cr3t", "VersionId": "EXAMPLE1-90ab-cdef-fedc-ba987EXAMPLE", "VersionStages": []string{"AWSCURRENT"},
		})
	case "kms":
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_ = json.NewEncoder(w).Encode(map[string]any{"Keys": []any{}, "Truncated": false})
	default:
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprint(w, `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>`+
			`<Arn>arn:aws:iam::123456789012:user/test</Arn><UserId>AIDAEXAMPLE</UserId><Account>123456789012</Account>`+
			`</GetCallerIdentityResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetCallerIdentityResponse>`)
	}
}

// TestSDKClients drives the real aws-sdk-go-v2 clients against a server
// that verifies every request with this package.
func TestSDKClients(t *testing.T) {
	t.Run("HTTP/1.1", func(t *testing.T) {
		srv := httptest.NewServer(&fakeAWS{})
		defer srv.Close()
		testSDKClients(t, srv, "HTTP/1.1")
	})
	t.Run("HTTP/2", func(t *testing.T) {
		srv := httptest.NewUnstartedServer(&fakeAWS{})
		srv.EnableHTTP2 = true
		srv.StartTLS()
		defer srv.Close()
		testSDKClients(t, srv, "HTTP/2.0")
	})
}

func testSDKClients(t *testing.T, srv *httptest.Server, proto string) {
	f := srv.Config.Handler.(*fakeAWS)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	for _, c := range []aws.Credentials{longTerm, temporary} {
		t.Run(c.AccessKeyID, func(t *testing.T) {
			f.mu.Lock()
			f.seen, f.errors = nil, nil
			f.mu.Unlock()
			cfg := aws.Config{
				Region:           "us-east-1",
				Credentials:      credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken),
				BaseEndpoint:     aws.String(srv.URL),
				HTTPClient:       srv.Client(),
				RetryMaxAttempts: 1,
			}

			sm := secretsmanager.NewFromConfig(cfg)
			out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("prod/db")})
			if err != nil {
				t.Fatalf("GetSecretValue: %v", err)
			}
			if aws.ToString(out.SecretString) != "s3cr3t" {
				t.Errorf("SecretString = %q", aws.ToString(out.SecretString))
			}
			if _, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
				SecretId: aws.String("prod/db"), SecretString: aws.String(strings.Repeat("ü ", 1000)),
			}); err != nil {
				t.Fatalf("PutSecretValue: %v", err)
			}

			if _, err := kms.NewFromConfig(cfg).ListKeys(ctx, &kms.ListKeysInput{}); err != nil {
				t.Fatalf("kms ListKeys: %v", err)
			}

			stsClient := sts.NewFromConfig(cfg)
			id, err := stsClient.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			if err != nil {
				t.Fatalf("GetCallerIdentity: %v", err)
			}
			if aws.ToString(id.Account) != "123456789012" {
				t.Errorf("Account = %q", aws.ToString(id.Account))
			}

			p, err := sts.NewPresignClient(stsClient).PresignGetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			if err != nil {
				t.Fatalf("PresignGetCallerIdentity: %v", err)
			}
			req, err := http.NewRequestWithContext(ctx, p.Method, p.URL, nil)
			if err != nil {
				t.Fatal(err)
			}
			for k, vs := range p.SignedHeader {
				if !strings.EqualFold(k, "host") {
					req.Header[k] = vs
				}
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("presigned GetCallerIdentity: %s", resp.Status)
			}

			f.mu.Lock()
			defer f.mu.Unlock()
			if len(f.errors) > 0 {
				t.Fatalf("server rejected: %q", f.errors)
			}
			tok := c.SessionToken != ""
			want := []string{
				fmt.Sprintf("%s secretsmanager GetSecretValue false token=%v", proto, tok),
				fmt.Sprintf("%s secretsmanager PutSecretValue false token=%v", proto, tok),
				fmt.Sprintf("%s kms ListKeys false token=%v", proto, tok),
				fmt.Sprintf("%s sts GetCallerIdentity false token=%v", proto, tok),
				fmt.Sprintf("%s sts GetCallerIdentity true token=%v", proto, tok),
			}
			if strings.Join(f.seen, "\n") != strings.Join(want, "\n") {
				t.Errorf("verified:\n%s\nwant:\n%s", strings.Join(f.seen, "\n"), strings.Join(want, "\n"))
			}
		})
	}

	t.Run("wrong secret", func(t *testing.T) {
		f.mu.Lock()
		f.seen, f.errors = nil, nil
		f.mu.Unlock()
		cfg := aws.Config{
			Region:           "us-east-1",
			Credentials:      credentials.NewStaticCredentialsProvider(akid, "not-the-secret", ""),
			BaseEndpoint:     aws.String(srv.URL),
			HTTPClient:       srv.Client(),
			RetryMaxAttempts: 1,
		}
		_, err := secretsmanager.NewFromConfig(cfg).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("x")})
		if err == nil || !strings.Contains(err.Error(), "InvalidSignatureException") {
			t.Fatalf("err = %v", err)
		}
		_, err = sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err == nil || !strings.Contains(err.Error(), "SignatureDoesNotMatch") {
			t.Fatalf("err = %v", err)
		}
	})
}
