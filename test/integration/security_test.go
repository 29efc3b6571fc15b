package integration

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// needle is something that must not be found, with a name for the report.
type needle struct {
	what string
	b    []byte
}

// needlesFor returns the forms of a secret value a leak could take: its
// bytes, its base64 (how binary values travel), and, for long values, a
// distinctive middle slice (a partial leak).
func needlesFor(what string, v []byte) []needle {
	ns := []needle{{what, v}, {what + " (base64)", []byte(base64.StdEncoding.EncodeToString(v))}}
	if len(v) >= 48 {
		ns = append(ns, needle{what + " (middle 16 bytes)", v[len(v)/2-8 : len(v)/2+8]})
	}
	return ns
}

// scanDataDir reads every file under dir (whatever its name) and reports
// every needle found in one.
func scanDataDir(t *testing.T, dir string, needles []needle) {
	t.Helper()
	files := 0
	err := filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		for _, n := range needles {
			if bytes.Contains(b, n.b) {
				t.Errorf("%s found in %s", n.what, path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 3 {
		t.Fatalf("scanned only %d files in %s", files, dir)
	}
	t.Logf("scanned %d files in %s", files, dir)
}

func scanLog(t *testing.T, log string, needles []needle) {
	t.Helper()
	if log == "" {
		t.Fatal("no log captured")
	}
	for _, n := range needles {
		if strings.Contains(log, string(n.b)) {
			t.Errorf("%s found in the server log", n.what)
		}
	}
}

func canary(kind string, i int) []byte {
	b := make([]byte, 12)
	rand.Read(b)
	return []byte(fmt.Sprintf("CofferCanary-%s-%d-%s", kind, i, hex.EncodeToString(b)))
}

// TestNoSecretAtRest writes known secret values through the API and finds
// none of them in any file of the data directory or in the server's log,
// both while the server runs (values still in the WAL) and after a restart
// (WAL checkpointed).
func TestNoSecretAtRest(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOpts{args: []string{"--log-level", "debug"}})
	c := s.sm()
	cx := ctx(t)
	var needles []needle
	str := func(i int) string {
		v := canary("string", i)
		needles = append(needles, needlesFor(fmt.Sprintf("string value %d", i), v)...)
		return string(v)
	}
	bin := func(i int) []byte {
		v := append([]byte{0, 0xff, 0x80}, canary("binary", i)...)
		v = append(v, 0xfe, 0)
		needles = append(needles, needlesFor(fmt.Sprintf("binary value %d", i), v)...)
		return v
	}
	type written struct {
		id, version string
		str         *string
		bin         []byte
	}
	var all []written
	for i := 0; i < 3; i++ {
		name := fmt.Sprintf("sec/%d", i)
		v := str(10 * i)
		out, err := c.CreateSecret(cx, &sm.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(v)})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, written{name, *out.VersionId, &v, nil})
		for j := 1; j <= 3; j++ {
			if j%2 == 1 {
				b := bin(10*i + j)
				p, err := c.PutSecretValue(cx, &sm.PutSecretValueInput{SecretId: aws.String(name), SecretBinary: b})
				if err != nil {
					t.Fatal(err)
				}
				all = append(all, written{name, *p.VersionId, nil, b})
			} else {
				v := str(10*i + j)
				u, err := c.UpdateSecret(cx, &sm.UpdateSecretInput{SecretId: aws.String(name), SecretString: aws.String(v)})
				if err != nil {
					t.Fatal(err)
				}
				all = append(all, written{name, *u.VersionId, &v, nil})
			}
		}
	}
	// A binary secret from the start, and one with a large value.
	b := bin(100)
	out, err := c.CreateSecret(cx, &sm.CreateSecretInput{Name: aws.String("sec/binary"), SecretBinary: b})
	if err != nil {
		t.Fatal(err)
	}
	all = append(all, written{"sec/binary", *out.VersionId, nil, b})
	rnd := make([]byte, 30000)
	rand.Read(rnd)
	large := append(canary("large", 0), hex.EncodeToString(rnd)...)[:60000]
	needles = append(needles, needlesFor("large value", large)...)
	out, err = c.CreateSecret(cx, &sm.CreateSecretInput{Name: aws.String("sec/large"), SecretString: aws.String(string(large))})
	if err != nil {
		t.Fatal(err)
	}
	all = append(all, written{"sec/large", *out.VersionId, aws.String(string(large)), nil})
	// Values sent in requests that fail must not leak either.
	for i, bad := range []*sm.PutSecretValueInput{
		{SecretId: aws.String("sec/0"), SecretString: aws.String(str(900)), SecretBinary: bin(901)},
		{SecretId: aws.String("sec/missing"), SecretString: aws.String(str(902))},
		{SecretId: aws.String("Inv Name"), SecretString: aws.String(str(903))},
		{SecretId: aws.String("sec/0"), SecretString: aws.String(str(904) + strings.Repeat("x", 65536))},
	} {
		if _, err := c.PutSecretValue(cx, bad); err == nil {
			t.Fatalf("bad put %d succeeded", i)
		}
	}
	// Generated passwords are secrets too.
	for i := 0; i < 3; i++ {
		pw, err := c.GetRandomPassword(cx, &sm.GetRandomPasswordInput{PasswordLength: aws.Int64(40)})
		if err != nil {
			t.Fatal(err)
		}
		needles = append(needles, needle{fmt.Sprintf("random password %d", i), []byte(*pw.RandomPassword)})
	}
	// Read everything back, so reads are covered too.
	check := func(t *testing.T) {
		t.Helper()
		for _, w := range all {
			g, err := c.GetSecretValue(cx, &sm.GetSecretValueInput{SecretId: aws.String(w.id), VersionId: aws.String(w.version)})
			if err != nil {
				t.Fatal(err)
			}
			if w.str != nil && (g.SecretString == nil || *g.SecretString != *w.str) || w.bin != nil && !bytes.Equal(g.SecretBinary, w.bin) {
				t.Fatalf("%s %s: value differs", w.id, w.version)
			}
		}
	}
	check(t)
	if _, err := c.BatchGetSecretValue(cx, &sm.BatchGetSecretValueInput{SecretIdList: []string{"sec/0", "sec/1", "sec/binary"}}); err != nil {
		t.Fatal(err)
	}

	// The server's own secrets: the access key's secret and the root key
	// are not in the database either (the root key lives in root.key, a
	// development convenience, and nowhere else).
	rootKeyB64, err := os.ReadFile(filepath.Join(s.DataDir, "root.key"))
	if err != nil {
		t.Fatal(err)
	}
	rootKey, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(rootKeyB64)))
	if err != nil || len(rootKey) != 32 {
		t.Fatalf("root.key: %v (%d bytes)", err, len(rootKey))
	}
	serverSecrets := []needle{
		{"secret access key", []byte(s.Secret)},
		{"root key", rootKey},
		{"root key (base64)", []byte(strings.TrimSpace(string(rootKeyB64)))},
	}
	scanDB := func(t *testing.T) {
		t.Helper()
		for _, f := range []string{"coffer.db", "coffer.db-wal", "coffer.db-shm"} {
			b, err := os.ReadFile(filepath.Join(s.DataDir, f))
			if err != nil {
				continue
			}
			for _, n := range serverSecrets {
				if bytes.Contains(b, n.b) {
					t.Errorf("%s found in %s", n.what, f)
				}
			}
		}
	}

	// The scan itself works: it finds what is meant to be on disk.
	if b, err := os.ReadFile(filepath.Join(s.DataDir, "credentials")); err != nil || !bytes.Contains(b, []byte(s.Secret)) {
		t.Fatalf("control: the credentials file does not hold the secret key (%v)", err)
	}

	t.Run("while running", func(t *testing.T) {
		if fi, err := os.Stat(filepath.Join(s.DataDir, "coffer.db-wal")); err != nil || fi.Size() == 0 {
			t.Logf("note: no WAL content while running (%v)", err)
		}
		scanDataDir(t, s.DataDir, needles)
		scanDB(t)
		scanLog(t, s.logs.String(), append(needles, serverSecrets[0]))
	})
	t.Run("after a restart", func(t *testing.T) {
		first := s.logs.String()
		s.restart(syscall.SIGTERM)
		c = s.sm() // the port changed
		check(t)
		scanDataDir(t, s.DataDir, needles)
		scanDB(t)
		scanLog(t, first+s.logs.String(), append(needles, serverSecrets[0]))
	})
}
