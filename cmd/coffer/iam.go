package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/coffer-dev/coffer/internal/iam"
	"github.com/coffer-dev/coffer/internal/identity"
)

// expiredSessionGrace is how long expired session keys are kept (so that
// their use is answered with ExpiredToken rather than an unknown key).
const expiredSessionGrace = 12 * time.Hour

// applyIAMBootstrap applies the IAM bootstrap file in one unit of work.
func (a *App) applyIAMBootstrap(ctx context.Context, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("--iam-bootstrap: %w", err)
	}
	b, err := identity.ParseBootstrap(data, a.account, a.region)
	if err != nil {
		return fmt.Errorf("--iam-bootstrap %s: %w", path, err)
	}
	err = a.db.Atomic(ctx, func(ctx context.Context) error {
		return a.identity.ApplyBootstrap(ctx, b, filepath.Dir(path))
	})
	if err != nil {
		return fmt.Errorf("--iam-bootstrap %s: %w", path, err)
	}
	a.log.Info("applied IAM bootstrap file", "path", path, "policies", len(b.Policies), "users", len(b.Users), "roles", len(b.Roles), "oidc_providers", len(b.OIDCProviders))
	return nil
}

// fetchOIDC fetches OIDC discovery documents and key sets.
func fetchOIDC(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := oidcClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20+1))
	if err != nil {
		return nil, err
	}
	if len(b) > 1<<20 {
		return nil, fmt.Errorf("GET %s: response larger than 1 MiB", url)
	}
	return b, nil
}

var oidcClient = &http.Client{Timeout: 10 * time.Second}

// identityClock is the identity service's clock. Only under COFFER_TESTING=1
// may COFFER_TEST_CLOCK_FILE name a file holding a Go duration that is
// added to the time (for end-to-end tests of session expiry; SigV4 keeps
// the real clock).
func identityClock(log *slog.Logger) func() time.Time {
	path := os.Getenv("COFFER_TEST_CLOCK_FILE")
	if os.Getenv("COFFER_TESTING") != "1" || path == "" {
		return time.Now
	}
	log.Warn("test clock in use for identity (COFFER_TESTING=1)", "file", path)
	return func() time.Time {
		b, err := os.ReadFile(path)
		if err != nil {
			return time.Now()
		}
		d, err := time.ParseDuration(strings.TrimSpace(string(b)))
		if err != nil {
			return time.Now()
		}
		return time.Now().Add(d)
	}
}

// runIAM is `coffer iam <subcommand>`.
func runIAM(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(stderr, "Usage: coffer iam explain --principal ARN --action ACTION --resource ARN [--context key=value ...] [--data-dir DIR]")
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	switch args[0] {
	case "explain":
		return runIAMExplain(ctx, args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "coffer iam: unknown subcommand %q\n", args[0])
	return errUsage
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// runIAMExplain evaluates one request offline against the data directory
// (the server must not be running on it) and prints the decision, the
// reason and the statements that produced it.
func runIAMExplain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var principal, action, resource, dataDir string
	var rootKey rootKeyFlags
	var ctxFlags multiFlag
	fs := flag.NewFlagSet("coffer iam explain", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&principal, "principal", "", "principal ARN: arn:aws:iam::ACCT:user/NAME, …:role/NAME (as a session), arn:aws:sts::ACCT:assumed-role/ROLE/SESSION, or …:root")
	fs.StringVar(&action, "action", "", "action, e.g. secretsmanager:GetSecretValue")
	fs.StringVar(&resource, "resource", "*", "resource ARN (a secret, KMS key or role ARN brings its resource, key or trust policy and tags)")
	fs.Var(&ctxFlags, "context", "condition key=value (repeat; a key given twice gets both values)")
	fs.StringVar(&dataDir, "data-dir", envOr("COFFER_DATA_DIR", "./coffer-data"), "data directory")
	rootKey.register(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	if principal == "" || action == "" {
		fmt.Fprintln(stderr, "coffer iam explain: --principal and --action are required")
		return errUsage
	}
	if _, err := os.Stat(filepath.Join(dataDir, "coffer.db")); err != nil {
		return fmt.Errorf("no Coffer data in %s", dataDir)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	app, err := openApp(ctx, appConfig{dataDir: dataDir, rootKeyFile: rootKey.file, rootKeyKMSKeyID: rootKey.kmsKeyID, log: log})
	if err != nil {
		return err
	}
	defer app.Close()

	view, err := app.identity.ViewOf(ctx, principal)
	if err != nil {
		return err
	}
	var vals iam.Values
	multi := map[string][]string{}
	for _, kv := range ctxFlags {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return fmt.Errorf("--context %q: want key=value", kv)
		}
		multi[k] = append(multi[k], v)
	}
	set := iam.Set{Identity: view.Identity, Boundary: view.Boundary, Session: view.Session}
	var notes []string
	tags := func(prefix string, kv [][2]string) {
		for _, t := range kv {
			for _, p := range []string{"aws:ResourceTag/", prefix} {
				if p == "" {
					continue
				}
				if _, given := multi[p+t[0]]; !given {
					multi[p+t[0]] = []string{t[1]}
				}
			}
		}
	}
	switch {
	case strings.Contains(resource, ":secretsmanager:") && strings.Contains(resource, ":secret:"):
		sec, err := app.secrets.Lookup(ctx, resource)
		if err != nil {
			notes = append(notes, "secret not found: evaluated without resource policy or tags")
			break
		}
		var kv [][2]string
		for _, t := range sec.Tags {
			kv = append(kv, [2]string{t.Key, t.Value})
		}
		tags("secretsmanager:ResourceTag/", kv)
		if sec.ResourcePolicy != "" {
			p, err := iam.Parse(sec.ResourcePolicy, iam.KindResource)
			if err != nil {
				return fmt.Errorf("resource policy of %s: %w", sec.ARN, err)
			}
			set.Resource = iam.Labeled{Label: "resource policy of " + sec.ARN, Policy: p}
		}
		resource = sec.ARN
	case strings.Contains(resource, ":kms:"):
		k, err := app.kms.Resolve(ctx, resource, true)
		if err != nil {
			notes = append(notes, "KMS key not found: evaluated without key policy")
			break
		}
		var kv [][2]string
		for _, t := range k.Tags {
			kv = append(kv, [2]string{t.Key, t.Value})
		}
		tags("", kv)
		p, err := iam.Parse(k.Policy, iam.KindKeyPolicy)
		if err != nil {
			return fmt.Errorf("key policy of %s: %w", k.ARN, err)
		}
		set.Resource = iam.Labeled{Label: "key policy of " + k.ARN, Policy: p}
		if _, given := multi["kms:CallerAccount"]; !given {
			multi["kms:CallerAccount"] = []string{app.account}
		}
		resource = k.ARN
	case strings.HasPrefix(strings.ToLower(action), "sts:assumerole") || strings.EqualFold(action, "sts:TagSession"):
		role, err := app.identity.RoleByARN(ctx, resource)
		if err != nil {
			notes = append(notes, "role not found: evaluated without trust policy")
			break
		}
		p, err := identity.TrustPolicy(role)
		if err != nil {
			return fmt.Errorf("trust policy of %s: %w", role.ARN, err)
		}
		set.Resource = iam.Labeled{Label: "trust policy of " + role.ARN, Policy: p}
	}
	for k, v := range multi {
		if len(v) == 1 {
			vals.Set(k, v[0])
		} else {
			vals.SetList(k, v)
		}
	}
	if view.TokenIssueTime != "" {
		if _, given := multi["aws:TokenIssueTime"]; !given {
			vals.Set("aws:TokenIssueTime", view.TokenIssueTime)
		}
	}
	d := iam.Evaluate(&iam.Request{Principal: &view.Principal, Action: action, Resource: resource, Context: &vals, Time: time.Now()}, &set)
	verdict := "DENIED"
	if d.Allowed {
		verdict = "ALLOWED"
	}
	fmt.Fprintf(stdout, "Decision:  %s\n", verdict)
	fmt.Fprintf(stdout, "Reason:    %s\n", d.Reason)
	fmt.Fprintf(stdout, "Principal: %s\n", view.Principal.ARN)
	fmt.Fprintf(stdout, "Action:    %s\n", action)
	fmt.Fprintf(stdout, "Resource:  %s\n", resource)
	fmt.Fprintf(stdout, "Policies:  %d identity-based", len(set.Identity))
	if set.Boundary.Policy != nil {
		fmt.Fprintf(stdout, ", permissions boundary %s", set.Boundary.Label)
	}
	if len(set.Session) > 0 {
		fmt.Fprintf(stdout, ", %d session", len(set.Session))
	}
	if set.Resource.Policy != nil {
		fmt.Fprintf(stdout, ", %s", set.Resource.Label)
	}
	fmt.Fprintln(stdout)
	if refs := d.Statements(); len(refs) > 0 {
		fmt.Fprintln(stdout, "Statements:")
		for _, r := range refs {
			sid := ""
			if r.Sid != "" {
				sid = fmt.Sprintf(" (Sid %q)", r.Sid)
			}
			fmt.Fprintf(stdout, "  %-6s statement %d%s of %s [%s]\n", r.Effect, r.Index, sid, r.Policy, r.Layer)
		}
	} else {
		fmt.Fprintln(stdout, "Statements: none matched")
	}
	for _, n := range notes {
		fmt.Fprintf(stdout, "Note:      %s\n", n)
	}
	if !d.Allowed {
		fmt.Fprintf(stdout, "Message:   %s\n", d.Message())
	}
	return nil
}
