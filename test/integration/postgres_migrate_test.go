package integration

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/google/go-cmp/cmp"

	"github.com/coffer-dev/coffer/internal/postgres/pgtest"
)

// secretState is everything the API shows about a secret.
type secretState struct {
	ARN, Name, Description, KmsKeyID string
	Tags                             []string
	Created, Changed, Accessed       time.Time
	Deleted                          time.Time
	Stages                           map[string][]string
	Versions                         []versionState
}

type versionState struct {
	ID           string
	Stages       []string
	Created      time.Time
	LastAccessed time.Time
	KmsKeyIDs    []string
	String       string
	Binary       []byte
}

func tm(p *time.Time) time.Time {
	if p == nil {
		return time.Time{}
	}
	return p.UTC()
}

// capture reads every secret (scheduled deletions included) through s.
func capture(t *testing.T, s *server) []secretState {
	t.Helper()
	c := ctx(t)
	sm := s.sm()
	var out []secretState
	p := secretsmanager.NewListSecretsPaginator(sm, &secretsmanager.ListSecretsInput{IncludePlannedDeletion: aws.Bool(true), MaxResults: aws.Int32(7)})
	for p.HasMorePages() {
		page, err := p.NextPage(c)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.SecretList {
			d, err := sm.DescribeSecret(c, &secretsmanager.DescribeSecretInput{SecretId: e.ARN})
			if err != nil {
				t.Fatal(err)
			}
			st := secretState{
				ARN: aws.ToString(d.ARN), Name: aws.ToString(d.Name), Description: aws.ToString(d.Description), KmsKeyID: aws.ToString(d.KmsKeyId),
				Created: tm(d.CreatedDate), Changed: tm(d.LastChangedDate), Accessed: tm(d.LastAccessedDate), Deleted: tm(d.DeletedDate),
				Stages: d.VersionIdsToStages,
			}
			for _, tag := range d.Tags {
				st.Tags = append(st.Tags, aws.ToString(tag.Key)+"="+aws.ToString(tag.Value))
			}
			vs, err := sm.ListSecretVersionIds(c, &secretsmanager.ListSecretVersionIdsInput{SecretId: e.ARN, IncludeDeprecated: aws.Bool(true), MaxResults: aws.Int32(100)})
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range vs.Versions {
				vst := versionState{ID: aws.ToString(v.VersionId), Stages: v.VersionStages, Created: tm(v.CreatedDate), LastAccessed: tm(v.LastAccessedDate), KmsKeyIDs: v.KmsKeyIds}
				if st.Deleted.IsZero() {
					val, err := sm.GetSecretValue(c, &secretsmanager.GetSecretValueInput{SecretId: e.ARN, VersionId: v.VersionId})
					if err != nil {
						t.Fatalf("%s version %s: %v", st.Name, vst.ID, err)
					}
					vst.String, vst.Binary = aws.ToString(val.SecretString), val.SecretBinary
				}
				st.Versions = append(st.Versions, vst)
			}
			slices.SortFunc(st.Versions, func(a, b versionState) int { return strings.Compare(a.ID, b.ID) })
			out = append(out, st)
		}
	}
	slices.SortFunc(out, func(a, b secretState) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// populate writes secrets of every shape.
func populate(t *testing.T, s *server) {
	t.Helper()
	c := ctx(t)
	sm := s.sm()
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(sm.CreateSecret(c, &secretsmanager.CreateSecretInput{Name: aws.String("app/db"), Description: aws.String("the database"), SecretString: aws.String(`{"user":"app","password":"p1"}`),
		ClientRequestToken: aws.String(newToken()), Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("core")}, {Key: aws.String("env"), Value: aws.String("")}}}))
	var first string
	for i := range 3 {
		tok := newToken()
		if i == 0 {
			first = tok
		}
		must(sm.PutSecretValue(c, &secretsmanager.PutSecretValueInput{SecretId: aws.String("app/db"), SecretString: aws.String(fmt.Sprintf(`{"password":"p%d"}`, i+2)), ClientRequestToken: aws.String(tok)}))
	}
	must(sm.UpdateSecretVersionStage(c, &secretsmanager.UpdateSecretVersionStageInput{SecretId: aws.String("app/db"), VersionStage: aws.String("BLUE"), MoveToVersionId: aws.String(first)}))
	must(sm.CreateSecret(c, &secretsmanager.CreateSecretInput{Name: aws.String("binary"), SecretBinary: []byte{0, 1, 2, 0xfe, 0xff}, ClientRequestToken: aws.String(newToken())}))
	must(sm.CreateSecret(c, &secretsmanager.CreateSecretInput{Name: aws.String("no-value"), Description: aws.String("metadata only")}))
	must(sm.CreateSecret(c, &secretsmanager.CreateSecretInput{Name: aws.String("doomed"), SecretString: aws.String("bye"), ClientRequestToken: aws.String(newToken())}))
	must(sm.DeleteSecret(c, &secretsmanager.DeleteSecretInput{SecretId: aws.String("doomed"), RecoveryWindowInDays: aws.Int64(7)}))
	for i := range 20 {
		must(sm.CreateSecret(c, &secretsmanager.CreateSecretInput{Name: aws.String(fmt.Sprintf("bulk/%02d", i)), SecretString: aws.String(fmt.Sprint("value ", i)), ClientRequestToken: aws.String(newToken())}))
	}
	// A customer managed key with an alias and automatic rotation, and a
	// secret under it.
	k := s.kms()
	key, err := k.CreateKey(c, &kms.CreateKeyInput{Description: aws.String("migrated key")})
	if err != nil {
		t.Fatal(err)
	}
	must(k.CreateAlias(c, &kms.CreateAliasInput{AliasName: aws.String("alias/migrated"), TargetKeyId: key.KeyMetadata.KeyId}))
	must(k.EnableKeyRotation(c, &kms.EnableKeyRotationInput{KeyId: key.KeyMetadata.KeyId}))
	must(sm.CreateSecret(c, &secretsmanager.CreateSecretInput{Name: aws.String("kms/custom"), KmsKeyId: aws.String("alias/migrated"), SecretString: aws.String("under a customer key"), ClientRequestToken: aws.String(newToken())}))
}

// kmsState is what the KMS API shows about every key and alias.
type kmsState struct {
	Keys    []string
	Aliases []string
}

func captureKMS(t *testing.T, s *server) kmsState {
	t.Helper()
	c := ctx(t)
	k := s.kms()
	var st kmsState
	keys, err := k.ListKeys(c, &kms.ListKeysInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range keys.Keys {
		d, err := k.DescribeKey(c, &kms.DescribeKeyInput{KeyId: e.KeyId})
		if err != nil {
			t.Fatal(err)
		}
		m := d.KeyMetadata
		r, err := k.GetKeyRotationStatus(c, &kms.GetKeyRotationStatusInput{KeyId: e.KeyId})
		if err != nil {
			t.Fatal(err)
		}
		st.Keys = append(st.Keys, fmt.Sprintf("%s %s %s %s %v %s rotation=%v next=%v", aws.ToString(m.KeyId), aws.ToString(m.Arn), m.KeyState, m.KeyManager,
			tm(m.CreationDate), aws.ToString(m.Description), r.KeyRotationEnabled, tm(r.NextRotationDate)))
	}
	aliases, err := k.ListAliases(c, &kms.ListAliasesInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range aliases.Aliases {
		st.Aliases = append(st.Aliases, aws.ToString(a.AliasName)+" → "+aws.ToString(a.TargetKeyId))
	}
	slices.Sort(st.Keys)
	slices.Sort(st.Aliases)
	return st
}

// coffer runs a coffer subcommand and returns its stdout and stderr.
func coffer(t *testing.T, env []string, args ...string) (string, string, error) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(cmd.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

func mustCoffer(t *testing.T, env []string, args ...string) string {
	t.Helper()
	out, errOut, err := coffer(t, env, args...)
	if err != nil {
		t.Fatalf("coffer %s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
	}
	if !strings.Contains(out, "verified") && args[0] != "backup" {
		t.Fatalf("coffer %s printed no verification:\n%s", args[0], out)
	}
	if strings.Contains(out, "MISMATCH") {
		t.Fatalf("coffer %s:\n%s", args[0], out)
	}
	t.Logf("coffer %s:\n%s%s", args[0], errOut, out)
	return out
}

// exportCheckpoint signs (SQLite, server stopped) and exports a store's
// newest audit checkpoint with `coffer audit checkpoint`; storeArgs pick
// the store.
func exportCheckpoint(t *testing.T, env []string, storeArgs ...string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "checkpoint")
	if out, errOut, code := cofferRun(t, env, append(append([]string{"audit", "checkpoint"}, storeArgs...), "--out", f)...); code != 0 {
		t.Fatalf("coffer audit checkpoint %v: exit %d\n%s%s", storeArgs, code, out, errOut)
	}
	return f
}

// eventIDs returns the event IDs of a store's events named name.
func eventIDs(t *testing.T, env []string, name string, storeArgs ...string) []string {
	t.Helper()
	var ids []string
	for _, ev := range storeEvents(t, env, append([]string{"--event-name", name}, storeArgs...)...) {
		ids = append(ids, ev["eventID"].(string))
	}
	slices.Sort(ids)
	return ids
}

// TestMigrateRoundTrip copies a store SQLite → PostgreSQL → SQLite and
// through backup files, and serves each copy: every secret reads back
// identical (values, versions, labels, tags, timestamps), and the audit
// log comes along: each copy's log verifies against the source's newest
// signed checkpoint, and LookupEvents on the copy finds the source's
// events.
func TestMigrateRoundTrip(t *testing.T) {
	base := pgtest.DSN(t)
	pg1, pg2 := pgtest.Schema(t, base), pgtest.Schema(t, base)
	env := clusterEnv("") // the root key and credentials; storage per server
	serve := func(dataDir, storage string) *server {
		t.Helper()
		return startServer(t, serverOpts{dataDir: dataDir, env: append(slices.Clone(env), "COFFER_STORAGE="+storage)})
	}
	var (
		wantKMS     kmsState
		wantCreates []string // event IDs of the original's CreateSecret events
	)
	check := func(what string, s *server, want []secretState) {
		t.Helper()
		got := capture(t, s)
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("%s differs from the original (-want +got):\n%s", what, d)
		}
		if d := cmp.Diff(wantKMS, captureKMS(t, s)); d != "" {
			t.Fatalf("%s: KMS differs from the original (-want +got):\n%s", what, d)
		}
		ids := lookupEventIDs(t, s, "EventName", "CreateSecret")
		slices.Sort(ids)
		if d := cmp.Diff(wantCreates, ids); d != "" {
			t.Fatalf("%s: LookupEvents EventName=CreateSecret differs from the original's events (-want +got):\n%s", what, d)
		}
		s.stop(syscall.SIGTERM)
	}

	d1 := t.TempDir()
	s1 := serve(d1, "")
	populate(t, s1)
	capture(t, s1) // the reads of the first capture are recorded as accesses
	want := capture(t, s1)
	wantKMS = captureKMS(t, s1)
	if len(want) != 25 || len(wantKMS.Keys) != 2 || len(wantKMS.Aliases) < 2 {
		t.Fatalf("captured %d secrets, KMS %+v", len(want), wantKMS)
	}
	s1.stop(syscall.SIGTERM)
	wantCreates = eventIDs(t, env, "CreateSecret", "--data-dir", d1)
	if len(wantCreates) != 25 {
		t.Fatalf("%d CreateSecret events in the original's audit log", len(wantCreates))
	}
	// The original's newest checkpoint (signed now, with the server stopped:
	// it covers the whole log). Each copy must verify against the newest
	// checkpoint of what it was copied from.
	cp1 := exportCheckpoint(t, env, "--data-dir", d1)

	mustCoffer(t, nil, "migrate", "--from", "sqlite://"+d1, "--to", pg1)
	verifyAuditLog(t, env, "--storage", pg1, "--checkpoint", cp1)
	check("SQLite → PostgreSQL", serve(t.TempDir(), pg1), want)
	cpPG1 := exportCheckpoint(t, env, "--storage", pg1) // the log grew: the check's requests

	d3 := filepath.Join(t.TempDir(), "back")
	mustCoffer(t, nil, "migrate", "--from", pg1, "--to", "sqlite://"+d3)
	verifyAuditLog(t, env, "--data-dir", d3, "--storage", "", "--checkpoint", cpPG1)
	verifyAuditLog(t, env, "--data-dir", d3, "--storage", "", "--checkpoint", cp1) // and still against the original's
	check("SQLite → PostgreSQL → SQLite", serve(d3, ""), want)

	// The copy is still encrypted under the original root key.
	var otherKey string
	for _, kv := range clusterEnv("") {
		if strings.HasPrefix(kv, "COFFER_ROOT_KEY=") {
			otherKey = kv
		}
	}
	cmd := exec.Command(binary, "server", "--listen", "127.0.0.1:0", "--data-dir", d3)
	cmd.Env = append(cmd.Environ(), otherKey)
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "does not match") {
		t.Fatalf("a server with another root key started on the copy: %v\n%s", err, out)
	}

	// A second migration into a store that holds data is refused.
	if _, errOut, err := coffer(t, nil, "migrate", "--from", "sqlite://"+d1, "--to", pg1); err == nil || !strings.Contains(errOut, "not empty") {
		t.Fatalf("migrating into a non-empty store: %v\n%s", err, errOut)
	}

	// Backups: SQLite → file → SQLite, PostgreSQL → file → PostgreSQL.
	dir := t.TempDir()
	f1, f2 := filepath.Join(dir, "sqlite.backup"), filepath.Join(dir, "pg.backup")
	cp3 := exportCheckpoint(t, env, "--data-dir", d3, "--storage", "")
	mustCoffer(t, nil, "backup", "--data-dir", d3, "--out", f1)
	d4 := filepath.Join(t.TempDir(), "restored")
	mustCoffer(t, nil, "restore", "--in", f1, "--data-dir", d4)
	if _, errOut, err := coffer(t, nil, "restore", "--in", f1, "--data-dir", d4); err == nil || !strings.Contains(errOut, "not empty") {
		t.Fatalf("restoring into a non-empty store: %v\n%s", err, errOut)
	}
	// --force replaces the data; the audit log is the backup's already.
	mustCoffer(t, nil, "restore", "--in", f1, "--data-dir", d4, "--force")
	verifyAuditLog(t, env, "--data-dir", d4, "--storage", "", "--checkpoint", cp3)
	check("SQLite backup restored", serve(d4, ""), want)
	// A store whose audit log is another one is never overwritten.
	if _, errOut, err := coffer(t, nil, "restore", "--in", f1, "--data-dir", d4, "--force"); err == nil || !strings.Contains(errOut, "another audit log") {
		t.Fatalf("restoring over another audit log: %v\n%s", err, errOut)
	}

	mustCoffer(t, []string{"COFFER_STORAGE=" + pg1}, "backup", "--out", f2)
	mustCoffer(t, []string{"COFFER_STORAGE=" + pg2}, "restore", "--in", f2)
	verifyAuditLog(t, env, "--storage", pg2, "--checkpoint", cpPG1)
	check("PostgreSQL backup restored", serve(t.TempDir(), pg2), want)

	// A damaged file loads nothing.
	b, err := os.ReadFile(f1)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ what, old, new, want string }{
		{"a secret's row", `["bulk/07",`, `["bulk/7x",`, "checksum"},
		{"an audit record", `"name":"bulk/07"`, `"name":"bulk/7x"`, "does not verify at seq"},
	} {
		damaged := filepath.Join(dir, "damaged.backup")
		changed := bytes.Replace(b, []byte(c.old), []byte(c.new), 1)
		if bytes.Equal(changed, b) {
			t.Fatalf("%s: %s is not in the backup", c.what, c.old)
		}
		if err := os.WriteFile(damaged, changed, 0o600); err != nil {
			t.Fatal(err)
		}
		d5 := filepath.Join(t.TempDir(), "damaged")
		_, errOut, err := coffer(t, nil, "restore", "--in", damaged, "--data-dir", d5)
		if err == nil || !strings.Contains(errOut, c.want) || !strings.Contains(errOut, "nothing was restored") {
			t.Fatalf("restoring a file with a damaged %s: %v\n%s", c.what, err, errOut)
		}
		if _, err := os.Stat(filepath.Join(d5, "coffer.db")); err == nil {
			t.Fatalf("restoring a file with a damaged %s created a store", c.what)
		}
	}
}
