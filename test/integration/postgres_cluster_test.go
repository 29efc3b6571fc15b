package integration

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmw "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"github.com/coffer-dev/coffer/internal/identity"
	"github.com/coffer-dev/coffer/internal/keyring"
	"github.com/coffer-dev/coffer/internal/postgres"
	"github.com/coffer-dev/coffer/internal/postgres/pgtest"
	"github.com/coffer-dev/coffer/internal/secrets"
)

// clusterEnv is the environment every node of one test cluster shares: the
// store, the root key and the root credentials.
func clusterEnv(dsn string) []string {
	raw := make([]byte, 32)
	rand.Read(raw)
	return []string{
		"COFFER_STORAGE=" + dsn,
		"COFFER_ROOT_KEY=" + keyring.EncodeKey(raw),
		"COFFER_ROOT_ACCESS_KEY_ID=" + identity.NewAccessKeyID(),
		"COFFER_ROOT_SECRET_ACCESS_KEY=" + identity.NewSecretAccessKey(),
	}
}

// requestID returns the request ID of an SDK call's result.
func requestID(md middleware.Metadata) string {
	id, _ := awsmw.GetRequestIDMetadata(md)
	return id
}

// lookupEventIDs asks s's CloudTrail LookupEvents for the events with one
// attribute (all pages) and returns their event IDs.
func lookupEventIDs(t *testing.T, s *server, key, value string) []string {
	t.Helper()
	var ids []string
	token := ""
	for {
		body := fmt.Sprintf(`{"LookupAttributes":[{"AttributeKey":%q,"AttributeValue":%q}]`, key, value)
		if token != "" {
			body += fmt.Sprintf(`,"NextToken":%q`, token)
		}
		status, errType, out := s.callJSON(t, s.KeyID, s.Secret, "", "cloudtrail", "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents", body+"}")
		if status != 200 {
			t.Fatalf("LookupEvents %s=%s: %d %s %s", key, value, status, errType, out)
		}
		var o lookupOutput
		if err := json.Unmarshal(out, &o); err != nil {
			t.Fatal(err)
		}
		for _, e := range o.Events {
			ids = append(ids, e.EventId)
		}
		if token = o.NextToken; token == "" {
			return ids
		}
	}
}

// verifyAuditLog runs `coffer audit verify` on a store (args pick it and,
// optionally, a checkpoint file) and fails unless it verifies against a
// signed checkpoint.
func verifyAuditLog(t *testing.T, env []string, args ...string) string {
	t.Helper()
	out, errOut, code := cofferRun(t, env, append([]string{"audit", "verify"}, args...)...)
	if code != 0 || !strings.HasPrefix(out, "OK: ") || !strings.Contains(out, "signed checkpoint") {
		t.Fatalf("coffer audit verify %v: exit %d\n%s%s", args, code, out, errOut)
	}
	t.Logf("coffer audit verify %v: %s", args, strings.TrimSpace(out))
	return out
}

// storeEvents reads every event of a store with `coffer audit query --json`.
func storeEvents(t *testing.T, env []string, args ...string) []map[string]any {
	t.Helper()
	out, errOut, code := cofferRun(t, env, append([]string{"audit", "query", "--json", "--limit", "1000000"}, args...)...)
	if code != 0 {
		t.Fatalf("coffer audit query %v: exit %d %s", args, code, errOut)
	}
	return parseAuditLines(t, out)
}

// apiCode returns the AWS error code of err ("" if none).
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func newToken() string {
	b := make([]byte, 16)
	rand.Read(b)
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// countLines counts log lines matching all of the given substrings.
func countLines(logs string, subs ...string) int {
	n := 0
	for _, line := range strings.Split(logs, "\n") {
		ok := true
		for _, s := range subs {
			if !strings.Contains(line, s) {
				ok = false
				break
			}
		}
		if ok {
			n++
		}
	}
	return n
}

// waitFor polls cond until it holds or the time is up.
func waitFor(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// expirePurge moves a deleted secret's purge time into the past, as the
// passing of its recovery window would.
func expirePurge(t *testing.T, dsn, name string) {
	t.Helper()
	db, err := postgres.Open(context.Background(), dsn, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(ctx(t), name, func(cur *secrets.Secret) (*secrets.Change, error) {
		if cur == nil || !cur.Deleted() {
			return nil, fmt.Errorf("secret %s is not scheduled for deletion", name)
		}
		cur.PurgeAt = time.Now().Add(-time.Minute)
		return &secrets.Change{Secret: cur}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

const purgeJob = "job=purge-deleted-secrets"

// TestPostgresCluster runs two Coffer nodes on one PostgreSQL schema.
func TestPostgresCluster(t *testing.T) {
	dsn := pgtest.Schema(t, pgtest.DSN(t))
	env := clusterEnv(dsn)
	args := []string{"--purge-interval", "300ms", "--log-level", "debug", "--storage-timeout", "5s", "--audit-checkpoint-every", "1s"}
	a := startServer(t, serverOpts{args: args, env: env})
	b := startServer(t, serverOpts{args: args, env: env})
	nodes := []*server{a, b}
	// requests are the request IDs of calls to each node, looked for in
	// the cluster's one audit log at the end.
	requests := map[*server][]string{}

	t.Run("ReadAfterWrite", func(t *testing.T) {
		c := ctx(t)
		name := "cluster/raw"
		created, err := a.sm().CreateSecret(c, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String("one"), ClientRequestToken: aws.String(newToken())})
		if err != nil {
			t.Fatal(err)
		}
		requests[a] = append(requests[a], requestID(created.ResultMetadata))
		get := func(s *server) string {
			t.Helper()
			out, err := s.sm().GetSecretValue(c, &secretsmanager.GetSecretValueInput{SecretId: aws.String(name)})
			if err != nil {
				t.Fatal(err)
			}
			requests[s] = append(requests[s], requestID(out.ResultMetadata))
			return aws.ToString(out.SecretString)
		}
		if v := get(b); v != "one" {
			t.Fatalf("node B read %q right after node A's create", v)
		}
		for i, w := range []*server{b, a, b} {
			want := fmt.Sprint("value-", i)
			if _, err := w.sm().PutSecretValue(c, &secretsmanager.PutSecretValueInput{SecretId: aws.String(name), SecretString: aws.String(want), ClientRequestToken: aws.String(newToken())}); err != nil {
				t.Fatal(err)
			}
			for _, r := range nodes {
				if v := get(r); v != want {
					t.Fatalf("read %q after a write of %q on another node", v, want)
				}
			}
		}
		if _, err := a.sm().UpdateSecret(c, &secretsmanager.UpdateSecretInput{SecretId: aws.String(name), Description: aws.String("described on A")}); err != nil {
			t.Fatal(err)
		}
		d, err := b.sm().DescribeSecret(c, &secretsmanager.DescribeSecretInput{SecretId: aws.String(name)})
		if err != nil || aws.ToString(d.Description) != "described on A" {
			t.Fatalf("node B's DescribeSecret = %v, %v", d, err)
		}
		if _, err := b.sm().DeleteSecret(c, &secretsmanager.DeleteSecretInput{SecretId: aws.String(name), RecoveryWindowInDays: aws.Int64(7)}); err != nil {
			t.Fatal(err)
		}
		if _, err := a.sm().GetSecretValue(c, &secretsmanager.GetSecretValueInput{SecretId: aws.String(name)}); apiCode(err) != "InvalidRequestException" {
			t.Fatalf("node A reads a secret node B deleted: %v", err)
		}
		if _, err := a.sm().RestoreSecret(c, &secretsmanager.RestoreSecretInput{SecretId: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
		if v := get(b); v != "value-2" {
			t.Fatalf("after restore on A, node B read %q", v)
		}
		// KMS: a key made on A encrypts on B and decrypts on A; a disable
		// on B is seen by A.
		key, err := a.kms().CreateKey(c, &kms.CreateKeyInput{Description: aws.String("cluster key")})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.kms().CreateAlias(c, &kms.CreateAliasInput{AliasName: aws.String("alias/cluster"), TargetKeyId: key.KeyMetadata.KeyId}); err != nil {
			t.Fatal(err)
		}
		enc, err := b.kms().Encrypt(c, &kms.EncryptInput{KeyId: aws.String("alias/cluster"), Plaintext: []byte("across nodes")})
		if err != nil {
			t.Fatal(err)
		}
		dec, err := a.kms().Decrypt(c, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob})
		if err != nil || string(dec.Plaintext) != "across nodes" {
			t.Fatalf("Decrypt on node A of node B's ciphertext: %v", err)
		}
		if _, err := b.kms().DisableKey(c, &kms.DisableKeyInput{KeyId: key.KeyMetadata.KeyId}); err != nil {
			t.Fatal(err)
		}
		if _, err := a.kms().Decrypt(c, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob}); apiCode(err) != "DisabledException" {
			t.Fatalf("node A decrypts with a key node B disabled: %v", err)
		}
	})

	// The root key of a shared store cannot be rotated under running
	// nodes: they would keep the old one in memory.
	t.Run("RootKeyRotateRefusedWhileNodesRun", func(t *testing.T) {
		newKey := filepath.Join(t.TempDir(), "new.key")
		_, stderr, code := cofferRun(t, env, "root-key", "rotate", "--data-dir", t.TempDir(), "--new-root-key-file", newKey)
		if code == 0 || !strings.Contains(stderr, "2 Coffer server node(s) are running") {
			t.Fatalf("coffer root-key rotate with two nodes running: exit %d, %s", code, stderr)
		}
	})

	t.Run("ConcurrentWriters", func(t *testing.T) {
		c := ctx(t)
		name := "cluster/hot"
		first := newToken()
		if _, err := a.sm().CreateSecret(c, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(first), ClientRequestToken: aws.String(first)}); err != nil {
			t.Fatal(err)
		}
		var (
			mu    sync.Mutex
			acked = []string{first} // versions whose PutSecretValue succeeded
			moves int               // successful label moves
		)
		var wg sync.WaitGroup
		for n, node := range nodes {
			for g := range 3 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					sm := node.sm()
					var mine []string
					for i := range 6 {
						tok := newToken()
						_, err := sm.PutSecretValue(c, &secretsmanager.PutSecretValueInput{SecretId: aws.String(name), SecretString: aws.String(tok), ClientRequestToken: aws.String(tok)})
						if err != nil {
							t.Errorf("node %d writer %d: PutSecretValue: %v", n, g, err)
							continue
						}
						mine = append(mine, tok)
						mu.Lock()
						acked = append(acked, tok)
						mu.Unlock()
						if i%2 == 1 {
							// Move AWSCURRENT back to an older version of ours.
							d, err := sm.DescribeSecret(c, &secretsmanager.DescribeSecretInput{SecretId: aws.String(name)})
							if err != nil {
								t.Errorf("DescribeSecret: %v", err)
								continue
							}
							holder := ""
							for id, stages := range d.VersionIdsToStages {
								if slices.Contains(stages, "AWSCURRENT") {
									holder = id
								}
							}
							_, err = sm.UpdateSecretVersionStage(c, &secretsmanager.UpdateSecretVersionStageInput{
								SecretId: aws.String(name), VersionStage: aws.String("AWSCURRENT"),
								MoveToVersionId: aws.String(mine[0]), RemoveFromVersionId: aws.String(holder),
							})
							switch {
							case err == nil:
								mu.Lock()
								moves++
								mu.Unlock()
							case apiCode(err) == "InvalidParameterException":
								// Another writer moved the label since we looked.
							default:
								t.Errorf("node %d writer %d: UpdateSecretVersionStage: %v", n, g, err)
							}
						}
					}
				}()
			}
		}
		wg.Wait()
		t.Logf("%d versions written, %d label moves succeeded", len(acked), moves)
		if moves == 0 {
			t.Error("no label move succeeded")
		}
		for _, node := range nodes {
			out, err := node.sm().ListSecretVersionIds(c, &secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String(name), IncludeDeprecated: aws.Bool(true), MaxResults: aws.Int32(100)})
			if err != nil {
				t.Fatal(err)
			}
			have := map[string]bool{}
			current := 0
			for _, v := range out.Versions {
				have[aws.ToString(v.VersionId)] = true
				if slices.Contains(v.VersionStages, "AWSCURRENT") {
					current++
				}
			}
			if current != 1 {
				t.Errorf("%d versions carry AWSCURRENT", current)
			}
			for _, tok := range acked {
				if !have[tok] {
					t.Errorf("acknowledged version %s is missing", tok)
				}
			}
			if len(out.Versions) != len(acked) {
				t.Errorf("%d versions, %d acknowledged", len(out.Versions), len(acked))
			}
		}
		// Every acknowledged value reads back from the other node.
		for i, tok := range acked {
			out, err := nodes[i%2].sm().GetSecretValue(c, &secretsmanager.GetSecretValueInput{SecretId: aws.String(name), VersionId: aws.String(tok)})
			if err != nil || aws.ToString(out.SecretString) != tok {
				t.Fatalf("version %s: %v", tok, err)
			}
		}
	})

	t.Run("IdempotencyAcrossNodes", func(t *testing.T) {
		c := ctx(t)
		name := "cluster/idem"
		createTok := newToken()
		var wg sync.WaitGroup
		arns := make([]string, 4)
		for i := range arns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out, err := nodes[i%2].sm().CreateSecret(c, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String("v0"), ClientRequestToken: aws.String(createTok)})
				if err != nil {
					t.Errorf("CreateSecret retry on node %d: %v", i%2, err)
					return
				}
				arns[i] = aws.ToString(out.ARN)
			}()
		}
		wg.Wait()
		for _, arn := range arns[1:] {
			if arn != arns[0] {
				t.Fatalf("retries of one CreateSecret returned different ARNs: %v", arns)
			}
		}
		tok := newToken()
		ids := make([]string, 6)
		for i := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out, err := nodes[i%2].sm().PutSecretValue(c, &secretsmanager.PutSecretValueInput{SecretId: aws.String(name), SecretString: aws.String("same"), ClientRequestToken: aws.String(tok)})
				if err != nil {
					t.Errorf("PutSecretValue retry on node %d: %v", i%2, err)
					return
				}
				ids[i] = aws.ToString(out.VersionId)
			}()
		}
		wg.Wait()
		for _, id := range ids {
			if id != tok {
				t.Fatalf("retries returned version ids %v, want %s", ids, tok)
			}
		}
		_, err := b.sm().PutSecretValue(c, &secretsmanager.PutSecretValueInput{SecretId: aws.String(name), SecretString: aws.String("different"), ClientRequestToken: aws.String(tok)})
		if apiCode(err) != "ResourceExistsException" {
			t.Fatalf("reusing a token with another value on the other node: %v", err)
		}
		out, err := a.sm().ListSecretVersionIds(c, &secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String(name), IncludeDeprecated: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Versions) != 2 {
			t.Fatalf("%d versions after retried writes, want 2", len(out.Versions))
		}
	})

	// The purge runs on exactly one node (the lease holder), and it purges a
	// due secret exactly once.
	leader, follower := a, b
	t.Run("PurgeRunsOnce", func(t *testing.T) {
		c := ctx(t)
		waitFor(t, "a purge run", 10*time.Second, func() bool {
			return countLines(a.logs.String()+b.logs.String(), "background job ran", purgeJob) >= 3
		})
		runsA := countLines(a.logs.String(), "background job ran", purgeJob)
		runsB := countLines(b.logs.String(), "background job ran", purgeJob)
		if runsA > 0 && runsB > 0 {
			t.Fatalf("the purge ran on both nodes (%d and %d runs)", runsA, runsB)
		}
		// One node signs the audit checkpoints (it takes the lease at its
		// first --audit-checkpoint-every tick).
		signers := 0
		waitFor(t, "a node to take the audit checkpoint lease", 10*time.Second, func() bool {
			signers = 0
			for _, s := range nodes {
				if countLines(s.logs.String(), "holding the cluster lease", "lease="+"audit-checkpoint") > 0 {
					signers++
				}
			}
			return signers > 0
		})
		if signers != 1 {
			t.Fatalf("%d nodes took the audit checkpoint lease", signers)
		}
		if runsB > 0 {
			leader, follower = b, a
		}
		t.Logf("leader ran the purge %d times, follower 0", max(runsA, runsB))
		name := "cluster/purge-1"
		out, err := follower.sm().CreateSecret(c, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String("x"), ClientRequestToken: aws.String(newToken())})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := follower.sm().DeleteSecret(c, &secretsmanager.DeleteSecretInput{SecretId: aws.String(name), RecoveryWindowInDays: aws.Int64(7)}); err != nil {
			t.Fatal(err)
		}
		expirePurge(t, dsn, name)
		waitFor(t, "the purge of "+name, 15*time.Second, func() bool {
			_, err := follower.sm().DescribeSecret(c, &secretsmanager.DescribeSecretInput{SecretId: aws.String(name)})
			return apiCode(err) == "ResourceNotFoundException"
		})
		arn := aws.ToString(out.ARN)
		time.Sleep(time.Second) // a few more runs on both schedules
		if n := countLines(leader.logs.String(), "purged secret at the end of its recovery window", arn); n != 1 {
			t.Fatalf("the leader purged %s %d times", arn, n)
		}
		if n := countLines(follower.logs.String(), "background job ran", purgeJob) + countLines(follower.logs.String(), "purged secret", arn); n != 0 {
			t.Fatalf("the follower ran the purge (%d log lines)", n)
		}
	})

	t.Run("LeadershipMovesOnKill", func(t *testing.T) {
		c := ctx(t)
		before := countLines(follower.logs.String(), "background job ran", purgeJob)
		if before != 0 {
			t.Fatalf("the follower already ran the purge %d times", before)
		}
		leader.stop(syscall.SIGKILL)
		start := time.Now()
		waitFor(t, "the follower to take the purge over", 20*time.Second, func() bool {
			return countLines(follower.logs.String(), "background job ran", purgeJob) > 0
		})
		t.Logf("the follower took over %v after the leader was killed", time.Since(start).Round(10*time.Millisecond))
		if !regexp.MustCompile(`holding the cluster lease.*lease=purge-deleted-secrets`).MatchString(follower.logs.String()) {
			t.Error("the follower did not log taking the lease")
		}
		// The new leader purges due secrets.
		name := "cluster/purge-2"
		if _, err := follower.sm().CreateSecret(c, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String("x"), ClientRequestToken: aws.String(newToken())}); err != nil {
			t.Fatal(err)
		}
		if _, err := follower.sm().DeleteSecret(c, &secretsmanager.DeleteSecretInput{SecretId: aws.String(name), RecoveryWindowInDays: aws.Int64(7)}); err != nil {
			t.Fatal(err)
		}
		expirePurge(t, dsn, name)
		waitFor(t, "the purge of "+name+" by the new leader", 15*time.Second, func() bool {
			_, err := follower.sm().DescribeSecret(c, &secretsmanager.DescribeSecretInput{SecretId: aws.String(name)})
			return apiCode(err) == "ResourceNotFoundException"
		})
	})

	// One audit log for the cluster: both nodes' requests are in it, in one
	// hash chain that `coffer audit verify` proves against the checkpoint
	// the cluster signed, and LookupEvents on either node finds them.
	t.Run("OneAuditLog", func(t *testing.T) {
		verifyAuditLog(t, env, "--storage", dsn)
		evs := storeEvents(t, env, "--storage", dsn)
		seen := map[string]bool{}
		seqs := make([]int, 0, len(evs))
		for _, ev := range evs {
			if id, ok := ev["requestID"].(string); ok {
				seen[id] = true
			}
			seqs = append(seqs, int(ev["_seq"].(float64)))
		}
		slices.Sort(seqs)
		for i, seq := range seqs {
			if seq != i+1 {
				t.Fatalf("the log's seqs are not 1..%d: %d at %d", len(seqs), seq, i)
			}
		}
		for i, s := range nodes {
			if len(requests[s]) == 0 {
				t.Fatalf("no requests recorded for node %d", i)
			}
			for _, id := range requests[s] {
				if !seen[id] {
					t.Errorf("request %s on node %d is not in the audit log", id, i)
				}
			}
		}
		t.Logf("%d records; %d and %d requests of the nodes found", len(evs), len(requests[a]), len(requests[b]))
		// LookupEvents on the surviving node finds events of both nodes:
		// the alias was created on B, the key on A.
		for _, name := range []string{"CreateKey", "CreateAlias", "PutSecretValue"} {
			if ids := lookupEventIDs(t, follower, "EventName", name); len(ids) == 0 {
				t.Errorf("LookupEvents EventName=%s on the surviving node: nothing", name)
			}
		}
	})
}
