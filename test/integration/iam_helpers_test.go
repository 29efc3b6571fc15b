package integration

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// Helpers for the IAM/STS tests: credentials of any principal, a signed
// query client for IAM (the pinned modules have no IAM client), the AWS
// CLI v2, and a test OpenID Connect issuer.

type creds struct{ ID, Secret, Token string }

func (s *server) root() creds { return creds{ID: s.KeyID, Secret: s.Secret} }

func (s *server) cfgFor(c creds) aws.Config {
	return aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(c.ID, c.Secret, c.Token), Retryer: closedConnRetryer}
}

func (s *server) smAs(c creds) *secretsmanager.Client {
	return secretsmanager.NewFromConfig(s.cfgFor(c), func(o *secretsmanager.Options) { o.BaseEndpoint = aws.String(s.URL) })
}

func (s *server) stsAs(c creds) *sts.Client {
	return sts.NewFromConfig(s.cfgFor(c), func(o *sts.Options) { o.BaseEndpoint = aws.String(s.URL) })
}

// stsAnon is an STS client without credentials (AssumeRoleWithWebIdentity).
func (s *server) stsAnon() *sts.Client {
	cfg := aws.Config{Region: "us-east-1", Credentials: aws.AnonymousCredentials{}, Retryer: closedConnRetryer}
	return sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(s.URL) })
}

// queryResp is a raw IAM/STS query response.
type queryResp struct {
	Status int
	Body   string
}

// Code returns the <Code> of an error response ("" for success).
func (r queryResp) Code() string {
	var e struct {
		Error struct{ Code, Message string }
	}
	if xml.Unmarshal([]byte(r.Body), &e) != nil {
		return ""
	}
	return e.Error.Code
}

// query sends a signed IAM query request (Version 2010-05-08).
func (s *server) query(t testing.TB, c creds, action string, params map[string]string) queryResp {
	t.Helper()
	v := url.Values{"Action": {action}, "Version": {"2010-05-08"}}
	for k, val := range params {
		v.Set(k, val)
	}
	body := v.Encode()
	req, err := http.NewRequest(http.MethodPost, s.URL+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sum := sha256.Sum256([]byte(body))
	err = v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: c.ID, SecretAccessKey: c.Secret, SessionToken: c.Token},
		req, hex.EncodeToString(sum[:]), "iam", "us-east-1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return queryResp{Status: resp.StatusCode, Body: string(b)}
}

// mustQuery sends a query request that must succeed.
func (s *server) mustQuery(t testing.TB, c creds, action string, params map[string]string) string {
	t.Helper()
	r := s.query(t, c, action, params)
	if r.Status != http.StatusOK {
		t.Fatalf("%s: HTTP %d: %s", action, r.Status, r.Body)
	}
	return r.Body
}

// xmlField returns the text of the first <name> element of an XML body.
func xmlField(t testing.TB, body, name string) string {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(body))
	for {
		tok, err := d.Token()
		if err != nil {
			t.Fatalf("no <%s> in %s", name, body)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == name {
			var v string
			if err := d.DecodeElement(&v, &se); err != nil {
				t.Fatal(err)
			}
			return v
		}
	}
}

// newUser creates an IAM user with an access key.
func (s *server) newUser(t testing.TB, name string) creds {
	t.Helper()
	s.mustQuery(t, s.root(), "CreateUser", map[string]string{"UserName": name})
	body := s.mustQuery(t, s.root(), "CreateAccessKey", map[string]string{"UserName": name})
	return creds{ID: xmlField(t, body, "AccessKeyId"), Secret: xmlField(t, body, "SecretAccessKey")}
}

func (s *server) account(t testing.TB) string {
	t.Helper()
	out, err := s.stsAs(s.root()).GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.Account)
}

// errCode returns the AWS error code of an SDK error ("" for nil).
func errCode(err error) string {
	if err == nil {
		return ""
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return "not an API error: " + err.Error()
}

func errMessage(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorMessage()
	}
	return ""
}

// awsCLI runs the AWS CLI v2 (/usr/bin/aws) against the server with the
// given credentials (zero creds: none at all).
func (s *server) awsCLI(t *testing.T, c creds, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	home := t.TempDir()
	cmd := exec.Command("/usr/bin/aws", append([]string{"--endpoint-url", s.URL, "--output", "json"}, args...)...)
	cmd.Env = []string{
		"HOME=" + home, "PATH=" + os.Getenv("PATH"),
		"AWS_REGION=us-east-1", "AWS_CONFIG_FILE=" + filepath.Join(home, "none"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "none"),
		"AWS_PAGER=", "AWS_EC2_METADATA_DISABLED=true", "AWS_MAX_ATTEMPTS=1",
	}
	if c.ID != "" {
		cmd.Env = append(cmd.Env, "AWS_ACCESS_KEY_ID="+c.ID, "AWS_SECRET_ACCESS_KEY="+c.Secret)
		if c.Token != "" {
			cmd.Env = append(cmd.Env, "AWS_SESSION_TOKEN="+c.Token)
		}
	}
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

// oidcIssuer is a test OpenID Connect issuer: an RSA key and an HTTP
// server that publishes its JWKS (and a discovery document).
type oidcIssuer struct {
	URL    string // the issuer (iss) the tokens carry
	JWKS   string // where the key set is served
	key    *rsa.PrivateKey
	kid    string
	server *httptest.Server
}

func newOIDCIssuer(t testing.TB, issuer string) *oidcIssuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	o := &oidcIssuer{URL: issuer, key: key, kid: "test-key-1"}
	mux := http.NewServeMux()
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(jwksOf(&o.key.PublicKey, o.kid))
	})
	o.server = httptest.NewServer(mux)
	t.Cleanup(o.server.Close)
	o.JWKS = o.server.URL + "/jwks"
	return o
}

func jwksOf(pub *rsa.PublicKey, kid string) []byte {
	b, _ := json.Marshal(map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
		"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}}})
	return b
}

// token returns an RS256 JWT for sub and aud, expiring at exp.
func (o *oidcIssuer) token(t testing.TB, sub, aud string, exp time.Time) string {
	t.Helper()
	return signRS256(t, o.key, o.kid, map[string]any{
		"iss": o.URL, "sub": sub, "aud": []string{aud}, "exp": exp.Unix(), "iat": time.Now().Add(-time.Minute).Unix(),
		"kubernetes.io": map[string]any{"namespace": "payments", "serviceaccount": map[string]string{"name": "api"}},
	})
}

func signRS256(t testing.TB, key *rsa.PrivateKey, kid string, claims map[string]any) string {
	t.Helper()
	h, _ := json.Marshal(map[string]string{"alg": "RS256", "kid": kid, "typ": "JWT"})
	p, _ := json.Marshal(claims)
	in := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(p)
	sum := sha256.Sum256([]byte(in))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return in + "." + base64.RawURLEncoding.EncodeToString(sig)
}
