package integration

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

func randomText(prefix string) string {
	b := make([]byte, 12)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// Secret values, passwords, KMS plaintexts and data keys, and session
// tokens go through every API; afterwards no audit sink holds any of them:
// not the database files (the audit table and everything else), not the
// JSON Lines mirror, not stdout.
func TestAuditNeverRecordsSecrets(t *testing.T) {
	// The mirror lives in the data dir so that the search below covers it.
	dir := t.TempDir()
	s := startServer(t, serverOpts{dataDir: dir, args: []string{
		"--audit-file", filepath.Join(dir, "audit.jsonl"), "--audit-file-max-bytes", "8192", "--audit-stdout"}})
	c := ctx(t)
	sm := s.sm()

	var needles [][]byte
	add := func(b []byte) {
		needles = append(needles, bytes.Clone(b), []byte(base64.StdEncoding.EncodeToString(b)))
	}
	str1, str2, str3 := randomText("sv1-"), randomText("sv2-"), randomText("sv3-")
	bin := make([]byte, 48)
	rand.Read(bin)
	for _, v := range []string{str1, str2, str3} {
		add([]byte(v))
	}
	add(bin)

	if _, err := sm.CreateSecret(c, &secretsmanager.CreateSecretInput{Name: aws.String("leak/a"), SecretString: aws.String(str1),
		Tags: []smtypes.Tag{{Key: aws.String("team"), Value: aws.String("x")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := sm.CreateSecret(c, &secretsmanager.CreateSecretInput{Name: aws.String("leak/b"), SecretBinary: bin}); err != nil {
		t.Fatal(err)
	}
	if _, err := sm.PutSecretValue(c, &secretsmanager.PutSecretValueInput{SecretId: aws.String("leak/a"), SecretString: aws.String(str2)}); err != nil {
		t.Fatal(err)
	}
	if _, err := sm.UpdateSecret(c, &secretsmanager.UpdateSecretInput{SecretId: aws.String("leak/a"), SecretString: aws.String(str3)}); err != nil {
		t.Fatal(err)
	}
	if _, err := sm.GetSecretValue(c, &secretsmanager.GetSecretValueInput{SecretId: aws.String("leak/a")}); err != nil {
		t.Fatal(err)
	}
	if _, err := sm.BatchGetSecretValue(c, &secretsmanager.BatchGetSecretValueInput{SecretIdList: []string{"leak/a", "leak/b"}}); err != nil {
		t.Fatal(err)
	}
	// A failing write that carries a value (the secret does not exist).
	if _, err := sm.PutSecretValue(c, &secretsmanager.PutSecretValueInput{SecretId: aws.String("leak/none"), SecretString: aws.String(str1)}); err == nil {
		t.Fatal("put to a missing secret succeeded")
	}
	// A value too long for the model: the validation message must not echo it.
	long := randomText("long-") + strings.Repeat("Z", 70000)
	if _, err := sm.PutSecretValue(c, &secretsmanager.PutSecretValueInput{SecretId: aws.String("leak/a"), SecretString: aws.String(long)}); err == nil {
		t.Fatal("oversized value accepted")
	}
	needles = append(needles, []byte(long[:30]))
	for range 3 {
		pw, err := sm.GetRandomPassword(c, &secretsmanager.GetRandomPasswordInput{PasswordLength: aws.Int64(40)})
		if err != nil {
			t.Fatal(err)
		}
		needles = append(needles, []byte(*pw.RandomPassword))
	}

	// KMS plaintexts and data keys, when this build serves the KMS API.
	k := s.kms()
	if key, err := k.CreateKey(c, &kms.CreateKeyInput{}); err == nil {
		pt := []byte(randomText("kms-pt-"))
		add(pt)
		enc, err := k.Encrypt(c, &kms.EncryptInput{KeyId: key.KeyMetadata.KeyId, Plaintext: pt})
		if err != nil {
			t.Fatal(err)
		}
		dec, err := k.Decrypt(c, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob})
		if err != nil || !bytes.Equal(dec.Plaintext, pt) {
			t.Fatal(err)
		}
		dk, err := k.GenerateDataKey(c, &kms.GenerateDataKeyInput{KeyId: key.KeyMetadata.KeyId, NumberOfBytes: aws.Int32(32)})
		if err != nil {
			t.Fatal(err)
		}
		add(dk.Plaintext)
	} else {
		t.Logf("KMS API not served (%v): checking Secrets Manager values only", apiCode(err))
	}

	// Session tokens: requests signed with temporary credentials (rejected
	// until STS lands, recorded either way).
	token := randomText("IQoJb3JpZ2luX2VjEXAMPLE-")
	needles = append(needles, []byte(token))
	cfg := s.awsConfig()
	cfg.Credentials = credentials.NewStaticCredentialsProvider("ASIATEMPORARYKEY0001", "temporary-secret", token)
	tmp := secretsmanager.NewFromConfig(cfg, func(o *secretsmanager.Options) { o.BaseEndpoint = aws.String(s.URL) })
	tmp.GetSecretValue(c, &secretsmanager.GetSecretValueInput{SecretId: aws.String("leak/a")})
	s.callJSON(t, "ASIATEMPORARYKEY0001", "temporary-secret", token, "kms", "TrentService.Decrypt", `{"CiphertextBlob":"AAAA"}`)

	// The events are there (so the search below searches something).
	evs := s.auditEvents(t)
	if len(evs) < 12 {
		t.Fatalf("only %d events", len(evs))
	}
	tokenEv := findEvent(evs, map[string]any{"userIdentity.accessKeyId": "ASIATEMPORARYKEY0001"})
	if h, _ := jsonPath(tokenEv, "additionalEventData.securityToken").(string); !strings.HasPrefix(h, "hmac-sha256:") {
		t.Errorf("session-token request: %v", tokenEv)
	}
	stdout := s.stdout.String()
	s.stop(syscall.SIGTERM) // flush the mirrors, checkpoint, close the database

	if n := len(parseAuditLines(t, stdout)); n != len(evs) {
		t.Errorf("stdout mirror has %d records, the store %d", n, len(evs))
	}
	files, _ := filepath.Glob(filepath.Join(s.DataDir, "audit.jsonl*"))
	if len(files) < 2 {
		t.Errorf("mirror did not rotate: %v", files)
	}
	haystacks := map[string][]byte{"stdout": []byte(stdout), "mirror files": nil}
	entries, err := os.ReadDir(s.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() == "credentials" || e.IsDir() { // the root's own key file, by design
			continue
		}
		b, err := os.ReadFile(filepath.Join(s.DataDir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		haystacks[e.Name()] = b
		if strings.HasPrefix(e.Name(), "audit.jsonl") {
			haystacks["mirror files"] = append(haystacks["mirror files"], b...)
		}
	}
	// The search sees what is there: names are recorded in clear.
	for _, name := range []string{"stdout", "coffer.db", "mirror files"} {
		if !bytes.Contains(haystacks[name], []byte("leak/a")) {
			t.Fatalf("%s: the secret's name is not found, so the search proves nothing", name)
		}
	}
	for name, hay := range haystacks {
		for _, n := range needles {
			if bytes.Contains(hay, n) {
				t.Errorf("%s contains a secret (%.12q…)", name, n)
			}
		}
	}
	out, _, code := cofferRun(t, nil, "audit", "verify", "--file", filepath.Join(s.DataDir, "audit.jsonl"), "--data-dir", s.DataDir)
	if code != 0 {
		t.Errorf("rotated mirror does not verify:\n%s", out)
	}
}
