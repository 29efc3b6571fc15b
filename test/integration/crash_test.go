package integration

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/google/go-cmp/cmp"
)

// TestCrashDuringPuts kills the server with SIGKILL in the middle of a
// stream of PutSecretValue calls from several goroutines, restarts it on
// the same data directory and checks that every acknowledged version is
// there with its exact value, that the labels are consistent, and that
// the audit log verifies with a record for every acknowledged put.
func TestCrashDuringPuts(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOpts{})
	c := s.sm()
	const (
		nSecrets = 3
		writers  = 6  // two per secret
		killAt   = 90 // acknowledged puts before the kill (< 100 versions per secret)
	)
	names := make([]string, nSecrets)
	for i := range names {
		names[i] = fmt.Sprintf("crash/%d", i)
		if _, err := c.CreateSecret(ctx(t), &sm.CreateSecretInput{Name: aws.String(names[i]), SecretString: aws.String("initial"), ClientRequestToken: aws.String(crashToken(i, 999, 999))}); err != nil {
			t.Fatal(err)
		}
	}
	valueOf := func(token string) string { return "value-of-" + token }

	var (
		mu    sync.Mutex
		acked = map[string][]string{} // secret → acknowledged tokens
		sent  = map[string]bool{}     // every token sent, acknowledged or not
		n     atomic.Int32
		wg    sync.WaitGroup
	)
	for i := range names {
		acked[names[i]] = []string{crashToken(i, 999, 999)}
		sent[crashToken(i, 999, 999)] = true
	}
	stop := make(chan struct{})
	wctx := ctx(t)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := names[w%nSecrets]
			for seq := 0; ; seq++ {
				select {
				case <-stop:
					return
				default:
				}
				tok := crashToken(w%nSecrets, w, seq)
				mu.Lock()
				sent[tok] = true
				mu.Unlock()
				_, err := c.PutSecretValue(wctx, &sm.PutSecretValueInput{SecretId: aws.String(name), SecretString: aws.String(valueOf(tok)), ClientRequestToken: aws.String(tok)})
				if err != nil {
					return // the server is gone (or refused): not acknowledged
				}
				mu.Lock()
				acked[name] = append(acked[name], tok)
				mu.Unlock()
				n.Add(1)
			}
		}()
	}
	deadline := time.After(60 * time.Second)
	for n.Load() < killAt {
		select {
		case <-deadline:
			t.Fatalf("only %d puts acknowledged in a minute", n.Load())
		case <-time.After(time.Millisecond):
		}
	}
	s.stop(syscall.SIGKILL) // mid-stream: writers are still sending
	close(stop)
	wg.Wait()
	total := 0
	for _, a := range acked {
		total += len(a) - 1
	}
	t.Logf("%d puts acknowledged before SIGKILL", total)

	s.start()
	c = s.sm()
	cx := ctx(t)
	for _, name := range names {
		// Every version, deprecated ones included.
		listed := map[string][]string{}
		p := sm.NewListSecretVersionIdsPaginator(c, &sm.ListSecretVersionIdsInput{SecretId: aws.String(name), IncludeDeprecated: aws.Bool(true)})
		for p.HasMorePages() {
			page, err := p.NextPage(cx)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range page.Versions {
				if _, dup := listed[*v.VersionId]; dup {
					t.Errorf("%s: version %s listed twice", name, *v.VersionId)
				}
				listed[*v.VersionId] = slices.Sorted(slices.Values(v.VersionStages))
			}
		}
		for _, tok := range acked[name] {
			if _, ok := listed[tok]; !ok {
				t.Errorf("%s: acknowledged version %s lost", name, tok)
			}
		}
		// Every version there is one that was sent, with its exact value.
		var current, previous []string
		labelled := map[string][]string{}
		for id, stages := range listed {
			if !sent[id] {
				t.Errorf("%s: version %s was never sent", name, id)
				continue
			}
			g, err := c.GetSecretValue(cx, &sm.GetSecretValueInput{SecretId: aws.String(name), VersionId: aws.String(id)})
			if err != nil {
				t.Errorf("%s: version %s unreadable: %v", name, id, err)
				continue
			}
			want := valueOf(id)
			if id == crashToken(0, 999, 999) || id == crashToken(1, 999, 999) || id == crashToken(2, 999, 999) {
				want = "initial"
			}
			if *g.SecretString != want {
				t.Errorf("%s: version %s holds %q, want %q", name, id, *g.SecretString, want)
			}
			if len(stages) > 0 {
				labelled[id] = stages
			}
			for _, l := range stages {
				switch l {
				case "AWSCURRENT":
					current = append(current, id)
				case "AWSPREVIOUS":
					previous = append(previous, id)
				default:
					t.Errorf("%s: unexpected label %s on %s", name, l, id)
				}
			}
		}
		if len(current) != 1 || len(previous) > 1 {
			t.Errorf("%s: AWSCURRENT on %v, AWSPREVIOUS on %v", name, current, previous)
			continue
		}
		if len(listed) > 1 && len(previous) != 1 {
			t.Errorf("%s: %d versions but no AWSPREVIOUS", name, len(listed))
		}
		// DescribeSecret agrees with ListSecretVersionIds.
		if diff := cmp.Diff(labelled, stagesOf(t, c, name)); diff != "" {
			t.Errorf("%s: DescribeSecret and ListSecretVersionIds disagree (-list +describe):\n%s", name, diff)
		}
		// And GetSecretValue reads the AWSCURRENT version.
		g, err := c.GetSecretValue(cx, &sm.GetSecretValueInput{SecretId: aws.String(name)})
		if err != nil || *g.VersionId != current[0] {
			t.Errorf("%s: GetSecretValue reads %v (%v), AWSCURRENT is on %s", name, g, err, current[0])
		}
	}
	// The audit log verifies (read while the server runs), and every
	// acknowledged put has its record (versionId in its responseElements).
	if out, errOut, code := cofferRun(t, nil, "audit", "verify", "--data-dir", s.DataDir); code != 0 || !strings.HasPrefix(out, "OK:") {
		t.Errorf("audit log after the crash: exit %d\n%s%s", code, out, errOut)
	}
	recorded := map[string]bool{}
	for _, ev := range s.auditEvents(t) {
		if ev["eventName"] == "PutSecretValue" && ev["errorCode"] == nil {
			if v, ok := jsonPath(ev, "responseElements.versionId").(string); ok {
				recorded[v] = true
			}
		}
	}
	for name, toks := range acked {
		for _, tok := range toks[1:] {
			if !recorded[tok] {
				t.Errorf("%s: acknowledged put %s has no audit record", name, tok)
			}
		}
	}
	// The server keeps working after the crash.
	if _, err := c.PutSecretValue(cx, &sm.PutSecretValueInput{SecretId: aws.String(names[0]), SecretString: aws.String("after")}); err != nil {
		t.Fatal(err)
	}
}

func crashToken(secret, writer, seq int) string {
	return fmt.Sprintf("c%07d-%04d-4000-8000-%012d", secret, writer, seq)
}
