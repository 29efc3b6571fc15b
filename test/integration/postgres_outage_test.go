package integration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/coffer-dev/coffer/internal/postgres/pgtest"
)

// The outage test stops and starts a PostgreSQL cluster of its own (set up
// by scripts/test-setup.sh), so that other tests keep their database.
const (
	envOutageDSN     = "COFFER_TEST_POSTGRES_OUTAGE_DSN"
	envOutageCluster = "COFFER_TEST_POSTGRES_OUTAGE_CLUSTER" // "<version>/<name>" for pg_ctlcluster
)

// outageCluster returns the DSN of the outage cluster and a function that
// runs pg_ctlcluster on it ("stop", "start").
func outageCluster(t *testing.T) (string, func(action string)) {
	t.Helper()
	required := os.Getenv(pgtest.EnvDSN) != "" // under make test: never skip
	dsn, cluster := os.Getenv(envOutageDSN), os.Getenv(envOutageCluster)
	ver, name, ok := strings.Cut(cluster, "/")
	if dsn == "" || !ok {
		if required {
			t.Fatalf("%s and %s must be set (scripts/test-setup.sh --print-env)", envOutageDSN, envOutageCluster)
		}
		t.Skipf("set %s and %s to run the outage test (scripts/test-setup.sh --print-env)", envOutageDSN, envOutageCluster)
	}
	pgtest.Reachable(t, dsn, required, envOutageDSN)
	if _, err := exec.LookPath("pg_ctlcluster"); err != nil {
		t.Fatalf("pg_ctlcluster: %v", err)
	}
	ctl := func(action string) {
		t.Helper()
		args := []string{"--skip-systemctl-redirect", ver, name, action}
		if action == "stop" {
			args = append(args, "-m", "fast")
		}
		out, err := exec.Command("pg_ctlcluster", args...).CombinedOutput()
		if err != nil && !(action == "start" && strings.Contains(string(out), "already running")) {
			t.Fatalf("pg_ctlcluster %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	// Whatever happens, leave the cluster running.
	t.Cleanup(func() { ctl("start") })
	return dsn, ctl
}

// clusterProcesses returns the PIDs of the outage cluster's postmaster and
// its children (the backends and workers).
func clusterProcesses(t *testing.T) []int {
	t.Helper()
	ver, name, _ := strings.Cut(os.Getenv(envOutageCluster), "/")
	out, err := exec.Command("pg_lsclusters", "-h").Output()
	if err != nil {
		t.Fatalf("pg_lsclusters: %v", err)
	}
	var dataDir string
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) >= 6 && f[0] == ver && f[1] == name {
			dataDir = f[5]
		}
	}
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		t.Fatalf("postmaster.pid: %v", err)
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pm, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil {
		t.Fatalf("postmaster.pid: %v", err)
	}
	pids := []int{pm}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// pid (comm) state ppid …; comm may hold spaces but not ")".
		rest := string(stat[strings.LastIndexByte(string(stat), ')')+1:])
		f := strings.Fields(rest)
		if len(f) >= 2 && f[1] == strconv.Itoa(pm) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// freeze stops every process of the outage cluster (SIGSTOP): the server
// hangs instead of refusing connections, the hard case for timeouts. The
// returned function (also run at cleanup) thaws it.
func freeze(t *testing.T) (thaw func()) {
	t.Helper()
	pids := clusterProcesses(t)
	var once sync.Once
	thaw = func() {
		once.Do(func() {
			for _, pid := range pids {
				syscall.Kill(pid, syscall.SIGCONT)
			}
		})
	}
	t.Cleanup(thaw)
	for _, pid := range pids {
		if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
			t.Fatalf("SIGSTOP %d: %v", pid, err)
		}
	}
	return thaw
}

// TestPostgresOutage stops PostgreSQL under two serving nodes: requests fail
// fast with an AWS-shaped error, the nodes recover on their own when it
// returns, every acknowledged write is there, and the cluster's audit log
// is one intact hash chain.
func TestPostgresOutage(t *testing.T) {
	base, ctl := outageCluster(t)
	dsn := pgtest.Schema(t, base)
	const timeout = 2 * time.Second
	args := []string{"--storage-timeout", timeout.String(), "--purge-interval", "500ms", "--audit-checkpoint-every", "1s"}
	env := clusterEnv(dsn)
	nodes := []*server{startServer(t, serverOpts{args: args, env: env}), startServer(t, serverOpts{args: args, env: env})}
	c := ctx(t)

	// acked records every acknowledged write: secret name → version → value.
	var mu sync.Mutex
	acked := map[string]map[string]string{}
	ack := func(name, version, value string) {
		mu.Lock()
		defer mu.Unlock()
		if acked[name] == nil {
			acked[name] = map[string]string{}
		}
		acked[name][version] = value
	}
	create := func(s *server, name string) error {
		tok := newToken()
		_, err := s.sm().CreateSecret(c, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String("v-" + tok), ClientRequestToken: aws.String(tok)})
		if err == nil {
			ack(name, tok, "v-"+tok)
		}
		return err
	}
	for i := range 4 {
		if err := create(nodes[i%2], fmt.Sprint("before-", i)); err != nil {
			t.Fatal(err)
		}
	}
	// The background writers spread their versions over a few secrets
	// (each may hold at most 100 versions).
	for n := range nodes {
		for k := range 5 {
			if err := create(nodes[n], fmt.Sprintf("steady-%d-%d", n, k)); err != nil {
				t.Fatal(err)
			}
		}
	}

	// A writer on each node keeps writing through the whole test.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var writes, failures [2]int
	for n, s := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sm := s.sm()
			for k := 0; ; k++ {
				select {
				case <-stop:
					return
				case <-time.After(50 * time.Millisecond):
				}
				name := fmt.Sprintf("steady-%d-%d", n, k%5)
				tok := newToken()
				rctx, cancel := context.WithTimeout(c, 30*time.Second)
				_, err := sm.PutSecretValue(rctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(name), SecretString: aws.String("w-" + tok), ClientRequestToken: aws.String(tok)})
				cancel()
				if err == nil {
					ack(name, tok, "w-"+tok)
					writes[n]++
				} else {
					failures[n]++
				}
			}
		}()
	}
	time.Sleep(500 * time.Millisecond)

	// outage sends requests for a while: every one fails, within the
	// storage timeout (plus slack), with the service's internal error; then
	// end() brings the database back and both nodes serve again on their own.
	outage := func(what string, span time.Duration, end func()) {
		t.Helper()
		began := time.Now()
		var slowest time.Duration
		for i := 0; time.Since(began) < span || i < 3; i++ {
			s := nodes[i%2]
			start := time.Now()
			var err error
			switch i % 3 {
			case 0:
				_, err = s.sm().GetSecretValue(c, &secretsmanager.GetSecretValueInput{SecretId: aws.String("before-0")})
			case 1:
				_, err = s.sm().PutSecretValue(c, &secretsmanager.PutSecretValueInput{SecretId: aws.String("before-1"), SecretString: aws.String("x"), ClientRequestToken: aws.String(newToken())})
			case 2:
				err = create(s, fmt.Sprintf("during-%s-%d", what, i))
			}
			d := time.Since(start)
			slowest = max(slowest, d)
			if err == nil {
				t.Fatalf("%s: request %d succeeded", what, i)
			}
			if code := apiCode(err); code != "InternalServiceError" {
				t.Fatalf("%s: request %d: %v (code %q), want InternalServiceError", what, i, err, code)
			}
			// A request makes a few storage calls, each bounded by the timeout.
			if d > 3*timeout+2*time.Second {
				t.Fatalf("%s: request %d took %v with a %v storage timeout", what, i, d, timeout)
			}
		}
		t.Logf("%s: the slowest failing request took %v", what, slowest.Round(time.Millisecond))
		for i, s := range nodes {
			select {
			case <-s.exited:
				t.Fatalf("node %d exited during the outage:\n%s", i, s.logs)
			default:
			}
		}
		end()
		back := time.Now()
		for i, s := range nodes {
			waitFor(t, fmt.Sprintf("node %d to serve again", i), 60*time.Second, func() bool {
				_, err := s.sm().GetSecretValue(c, &secretsmanager.GetSecretValueInput{SecretId: aws.String("before-0")})
				return err == nil
			})
		}
		t.Logf("%s: both nodes served again %v after the database came back", what, time.Since(back).Round(time.Millisecond))
	}

	ctl("stop")
	outage("stopped", 2*time.Second, func() { ctl("start") })
	for i := range 2 {
		if err := create(nodes[i%2], fmt.Sprint("between-", i)); err != nil {
			t.Fatal(err)
		}
	}
	thaw := freeze(t)
	outage("frozen", 2*time.Second, thaw)
	for i := range 4 {
		if err := create(nodes[i%2], fmt.Sprint("after-", i)); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(500 * time.Millisecond)
	close(stop)
	wg.Wait()
	t.Logf("background writers: %v acknowledged, %v failed", writes, failures)
	if writes[0] == 0 || writes[1] == 0 || failures[0] == 0 {
		t.Errorf("the background writers did not see both sides of the outage: %v acknowledged, %v failed", writes, failures)
	}

	// Every acknowledged write is there, read from either node.
	for name, versions := range acked {
		for i, s := range nodes {
			out, err := s.sm().ListSecretVersionIds(c, &secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String(name), IncludeDeprecated: aws.Bool(true), MaxResults: aws.Int32(100)})
			if err != nil {
				t.Fatalf("node %d: %s: %v", i, name, err)
			}
			have := map[string]bool{}
			for _, v := range out.Versions {
				have[aws.ToString(v.VersionId)] = true
			}
			for v := range versions {
				if !have[v] {
					t.Errorf("node %d: acknowledged version %s of %s is missing", i, v, name)
				}
			}
		}
		for v, want := range versions {
			out, err := nodes[0].sm().GetSecretValue(c, &secretsmanager.GetSecretValueInput{SecretId: aws.String(name), VersionId: aws.String(v)})
			if err != nil || aws.ToString(out.SecretString) != want {
				t.Errorf("%s version %s: %v", name, v, err)
			}
		}
	}
	// The audit log went through it all in one piece.
	time.Sleep(1500 * time.Millisecond) // a checkpoint after the last writes
	verifyAuditLog(t, env, "--storage", dsn)
}
