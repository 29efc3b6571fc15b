package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/coffer-dev/coffer/internal/awsapi"
	"github.com/coffer-dev/coffer/internal/identity"
	"github.com/coffer-dev/coffer/internal/jobs"
	"github.com/coffer-dev/coffer/internal/keyring"
	"github.com/coffer-dev/coffer/internal/kms"
	"github.com/coffer-dev/coffer/internal/postgres"
	"github.com/coffer-dev/coffer/internal/secrets"
)

type serverFlags struct {
	listen       string
	dataDir      string
	region       string
	accountID    string
	tlsCert      string
	tlsKey       string
	insecureHTTP bool
	rootKey      rootKeyFlags
	logLevel     string
	logFormat    string
	pprof        string
	storage      string
	storageTO    time.Duration
	purgeEvery   time.Duration
	iamBootstrap string
	dataKeyCache int
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func runServer(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f serverFlags
	var af auditFlags
	fs := flag.NewFlagSet("coffer server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.listen, "listen", envOr("COFFER_LISTEN", "127.0.0.1:8484"), "address to listen on (host:port)")
	fs.StringVar(&f.dataDir, "data-dir", envOr("COFFER_DATA_DIR", "./coffer-data"), "data directory (also COFFER_DATA_DIR)")
	fs.StringVar(&f.region, "region", envOr("COFFER_REGION", ""), "AWS region this server is (default us-east-1; fixed at first start)")
	fs.StringVar(&f.accountID, "account-id", envOr("COFFER_ACCOUNT_ID", ""), "12-digit account id (default: chosen at first start and kept in the data dir)")
	fs.StringVar(&f.tlsCert, "tls-cert", "", "TLS certificate file (PEM)")
	fs.StringVar(&f.tlsKey, "tls-key", "", "TLS private key file (PEM)")
	fs.BoolVar(&f.insecureHTTP, "insecure-http", false, "allow plain HTTP on a non-loopback address")
	f.rootKey.register(fs) // else COFFER_ROOT_KEY; else a development key in <data-dir>/root.key
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.StringVar(&f.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&f.pprof, "pprof", envOr("COFFER_PPROF", ""), "serve net/http/pprof on this loopback address, e.g. 127.0.0.1:6060 (off by default; also COFFER_PPROF)")
	fs.StringVar(&f.storage, "storage", envOr("COFFER_STORAGE", ""), "where the data lives: sqlite://<data-dir or file.db>, or postgres://user:password@host:port/database?… shared by several nodes (default: SQLite in the data dir; prefer COFFER_STORAGE for a DSN with a password)")
	storageTO, err := envDuration("COFFER_STORAGE_TIMEOUT", postgres.DefaultTimeout)
	if err != nil {
		return err
	}
	fs.DurationVar(&f.storageTO, "storage-timeout", storageTO, "how long one storage operation (connect, lock wait, statement, commit) may take before the request fails; PostgreSQL only (also COFFER_STORAGE_TIMEOUT)")
	purgeEvery, err := envDuration("COFFER_PURGE_INTERVAL", time.Minute)
	if err != nil {
		return err
	}
	fs.DurationVar(&f.purgeEvery, "purge-interval", purgeEvery, "how often the purge of secrets past their recovery window runs, on one node of the cluster (also COFFER_PURGE_INTERVAL)")
	fs.IntVar(&f.dataKeyCache, "data-key-cache", 0, "keep the ready AES-GCM state of up to 2×N recently used data keys in memory between requests: faster reads, but data keys outlive their request (docs/PERFORMANCE.md); 0, the default, keeps each for one request")
	fs.StringVar(&f.iamBootstrap, "iam-bootstrap", envOr("COFFER_IAM_BOOTSTRAP", ""), "IAM bootstrap file (YAML or JSON: users, roles, managed policies, OIDC providers; no secrets) applied at start")
	af.register(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	log := newLogger(stderr, f.logLevel, f.logFormat)

	if (f.tlsCert == "") != (f.tlsKey == "") {
		return errors.New("--tls-cert and --tls-key must be given together")
	}
	if err := checkListen(f.listen, f.tlsCert != "", f.insecureHTTP); err != nil {
		return err
	}
	if f.dataKeyCache < 0 {
		return errors.New("--data-key-cache must be 0 (off) or a number of data keys")
	}

	if f.storageTO <= 0 || f.purgeEvery <= 0 {
		return errors.New("--storage-timeout and --purge-interval must be positive")
	}
	stopPprof, err := startPprof(f.pprof, log)
	if err != nil {
		return err
	}
	defer stopPprof()

	app, err := openApp(ctx, appConfig{dataDir: f.dataDir, region: f.region, accountID: f.accountID,
		rootKeyFile: f.rootKey.file, rootKeyKMSKeyID: f.rootKey.kmsKeyID, log: log,
		storage: f.storage, storageTimeout: f.storageTO, purgeEvery: f.purgeEvery, dataKeyCache: f.dataKeyCache})
	if err != nil {
		return err
	}
	defer app.Close()
	// On a shared store, show this node as running (coffer root-key rotate
	// refuses to start while any node is).
	if n, ok := app.db.(interface{ AnnounceNode(context.Context) error }); ok {
		if err := n.AnnounceNode(ctx); err != nil {
			return fmt.Errorf("announce the node on %s: %w", app.storageDesc, err)
		}
	}

	if err := app.ensureRootCredentials(ctx); err != nil {
		return err
	}
	if f.iamBootstrap != "" {
		if err := app.applyIAMBootstrap(ctx, f.iamBootstrap); err != nil {
			return err
		}
	}

	auditCfg, aud, err := app.startAudit(ctx, af, stdout)
	if err != nil {
		return err
	}
	defer aud.Close() // after the HTTP server stopped: final mirror sync and checkpoint

	api := awsapi.New(awsapi.Config{
		Region: app.region, Account: app.account,
		Secrets: app.secrets, KMS: app.kms, Identity: app.identity,
		Units: app.db, Log: log, Audit: auditCfg,
	})

	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           api,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	scheme := "http"
	if f.tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(f.tlsCert, f.tlsKey)
		if err != nil {
			ln.Close()
			return fmt.Errorf("TLS: %w", err)
		}
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		ln = tls.NewListener(ln, srv.TLSConfig)
		scheme = "https"
	}

	jobsCtx, stopJobs := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		app.runBackground(jobsCtx)
	}()

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("coffer is serving", "url", scheme+"://"+ln.Addr().String(), "region", app.region, "account", app.account, "data_dir", f.dataDir, "storage", app.storageDesc)
	fmt.Fprintf(stdout, "Coffer listening on %s://%s (region %s, account %s)\n", scheme, ln.Addr(), app.region, app.account)

	select {
	case err := <-errc:
		stopJobs()
		<-done
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err = srv.Shutdown(shutdownCtx)
	stopJobs()
	<-done
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}

func newLogger(w io.Writer, level, format string) *slog.Logger {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		lv = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: lv}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// checkListen refuses plain HTTP on addresses other than loopback unless
// the operator insists.
func checkListen(addr string, tlsOn, insecure bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--listen %q: %w", addr, err)
	}
	if tlsOn || insecure {
		return nil
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("refusing to serve plain HTTP on %s, which is not a loopback address: secrets would cross the network unencrypted. Give --tls-cert and --tls-key, or --insecure-http if something else terminates TLS", addr)
}

// appConfig says where an App's state lives.
type appConfig struct {
	dataDir         string
	region          string
	accountID       string
	rootKeyFile     string
	rootKeyKMSKeyID string
	log             *slog.Logger
	// storage is the --storage value ("" = SQLite in dataDir).
	storage        string
	storageTimeout time.Duration
	purgeEvery     time.Duration
	dataKeyCache   int // kms.Config.DataKeyCache
}

// App is an opened data directory with its services wired up. Server and
// offline subcommands share it.
type App struct {
	dataDir     string
	region      string
	account     string
	log         *slog.Logger
	db          storage
	storageDesc string
	purgeEvery  time.Duration
	root        *keyring.Root
	kms         *kms.Service
	secrets     *secrets.Service
	identity    *identity.Service
}

var accountRE = regexp.MustCompile(`^[0-9]{12}$`)

func openApp(ctx context.Context, c appConfig) (*App, error) {
	if c.accountID != "" && !accountRE.MatchString(c.accountID) {
		return nil, fmt.Errorf("--account-id must be 12 digits, got %q", c.accountID)
	}
	if err := os.MkdirAll(c.dataDir, 0o700); err != nil {
		return nil, err
	}
	spec, err := parseStorage(c.storage, c.dataDir)
	if err != nil {
		return nil, err
	}
	if c.storageTimeout <= 0 {
		c.storageTimeout = postgres.DefaultTimeout
	}
	if c.purgeEvery <= 0 {
		c.purgeEvery = time.Minute
	}
	db, desc, err := openStorage(ctx, spec, c.storageTimeout, c.log)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*App, error) { db.Close(); return nil, err }
	check, err := db.Meta(ctx, rootCheckMeta)
	if err != nil {
		return fail(err)
	}
	root, err := unsealRoot(ctx, c, check)
	if err != nil {
		return fail(err)
	}
	if check == nil {
		check, err = db.SetMetaIfAbsent(ctx, rootCheckMeta, root.NewCheck())
		if err != nil {
			return fail(err)
		}
		if err := root.VerifyCheck(check); err != nil {
			return fail(fmt.Errorf("the root key does not match the data in %s: refusing to start", desc))
		}
	}
	app := &App{dataDir: c.dataDir, log: c.log, db: db, storageDesc: desc, purgeEvery: c.purgeEvery, root: root}
	if app.account, err = fixedMeta(ctx, db, "account_id", c.accountID, "--account-id", randomAccountID); err != nil {
		return fail(err)
	}
	if app.region, err = fixedMeta(ctx, db, "region", c.region, "--region", func() string { return "us-east-1" }); err != nil {
		return fail(err)
	}
	app.kms = kms.New(kms.Config{Store: db, Root: root, Region: app.region, Account: app.account, DataKeyCache: c.dataKeyCache})
	app.secrets = secrets.New(secrets.Config{Store: db, Keys: app.kms, Region: app.region, Account: app.account, Log: c.log})
	app.identity = identity.New(identity.Config{Store: db, Root: root, Account: app.account, Region: app.region, Now: identityClock(c.log), Fetch: fetchOIDC})
	return app, nil
}

// fixedMeta returns the value recorded under key, recording want (or def())
// at first start; a different explicit want later is an error, because
// ARNs already issued embed the value.
func fixedMeta(ctx context.Context, db metaStore, key, want, flagName string, def func() string) (string, error) {
	have, err := db.Meta(ctx, key)
	if err != nil {
		return "", err
	}
	if have != nil {
		if want != "" && want != string(have) {
			return "", fmt.Errorf("%s %s differs from %s, which this store was created with; ARNs already issued name it", flagName, want, have)
		}
		return string(have), nil
	}
	if want == "" {
		want = def()
	}
	got, err := db.SetMetaIfAbsent(ctx, key, []byte(want))
	return string(got), err
}

func randomAccountID() string {
	b := make([]byte, 12)
	for i := range b {
		var r [1]byte
		for {
			rand.Read(r[:])
			if r[0] < 250 {
				break
			}
		}
		b[i] = '0' + r[0]%10
	}
	if b[0] == '0' {
		b[0] = '1'
	}
	return string(b)
}

// ensureRootCredentials gives the account root an access key: the one in
// COFFER_ROOT_ACCESS_KEY_ID/COFFER_ROOT_SECRET_ACCESS_KEY, or a new one
// written to <data-dir>/credentials. The secret key is never logged.
func (a *App) ensureRootCredentials(ctx context.Context) error {
	var given *identity.Credentials
	id, secret := os.Getenv("COFFER_ROOT_ACCESS_KEY_ID"), os.Getenv("COFFER_ROOT_SECRET_ACCESS_KEY")
	if id != "" || secret != "" {
		given = &identity.Credentials{AccessKeyID: id, SecretAccessKey: secret}
	}
	var created *identity.Credentials
	err := a.db.Atomic(ctx, func(ctx context.Context) error {
		var err error
		created, err = a.identity.EnsureRoot(ctx, given)
		return err
	})
	if err != nil {
		return err
	}
	if given != nil {
		a.log.Info("root credentials from the environment", "access_key_id", given.AccessKeyID)
		return nil
	}
	if created == nil {
		return nil
	}
	path := filepath.Join(a.dataDir, "credentials")
	content := "[default]\naws_access_key_id = " + created.AccessKeyID + "\naws_secret_access_key = " + created.SecretAccessKey + "\n"
	if err := writeFileAtomic(path, []byte(content), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	a.log.Info("created root credentials", "access_key_id", created.AccessKeyID, "credentials_file", path, "profile", "default")
	return nil
}

// writeFileAtomic writes data to path via a temporary file and rename, so
// readers never see a partial file.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// runBackground runs the periodic jobs until ctx ends: the purge of
// secrets whose recovery window has ended, and the KMS keys that are due
// (automatic rotation, deletion at the end of the waiting period). Each job
// runs on one node of the cluster at a time: the node holding the job's
// lease (with SQLite, the only node). Add jobs with r.Add(name, every, fn).
func (a *App) runBackground(ctx context.Context) {
	r := jobs.New(a.db, a.log)
	r.Add("purge-deleted-secrets", a.purgeEvery, func(ctx context.Context) error {
		n, err := a.secrets.PurgeDue(ctx)
		if n > 0 {
			a.log.Info("purged deleted secrets", "count", n)
		}
		return err
	})
	r.Add("purge-expired-sessions", time.Minute, func(ctx context.Context) error {
		n, err := a.identity.PurgeExpiredSessions(ctx, expiredSessionGrace)
		if n > 0 {
			a.log.Debug("purged expired sessions", "count", n)
		}
		return err
	})
	r.Add("kms-due-keys", time.Minute, func(ctx context.Context) error {
		rotated, deleted, err := a.kms.RunDue(ctx)
		if rotated+deleted > 0 {
			a.log.Info("scheduled KMS key work", "rotated", rotated, "deleted", deleted)
		}
		return err
	})
	r.Run(ctx)
}

// Close releases the store.
func (a *App) Close() error { return a.db.Close() }

var _ = strings.TrimSpace
