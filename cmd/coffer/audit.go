package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coffer-dev/coffer/internal/audit"
	"github.com/coffer-dev/coffer/internal/awsapi"
	"github.com/coffer-dev/coffer/internal/jobs"
	"github.com/coffer-dev/coffer/internal/keyring"
	"github.com/coffer-dev/coffer/internal/postgres"
	"github.com/coffer-dev/coffer/internal/sqlite"
)

// The audit trail's wiring: its keys (kept in meta, wrapped by the root
// key), the mirrors (JSON Lines file, stdout) fed from committed records,
// checkpoint signing, and the `coffer audit` subcommands.

// Meta keys and wrapping purposes of the audit keys. Both keys are random
// and stored wrapped by the root key (not derived from it), so that a
// root-key rotation that re-wraps them keeps HMACs comparable and the
// checkpoint verifier key unchanged.
const (
	metaAuditHMACKey = "audit_hmac_key"
	metaAuditSignKey = "audit_signing_key"
	purposeAuditHMAC = "audit-hmac-key"
	purposeAuditSign = "audit-checkpoint-signing-key"
)

// Defaults of the server's audit flags.
const (
	defaultCheckpointEvery   = time.Minute
	defaultCheckpointRecords = 10000
	mirrorPage               = 1000
)

// auditFlags are the server's audit options.
type auditFlags struct {
	mode              string
	file              string
	fileMaxBytes      int64
	fileKeep          int
	stdout            bool
	checkpointEvery   time.Duration
	checkpointRecords uint64
}

func (f *auditFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.mode, "audit", envOr("COFFER_AUDIT", "on"), "audit trail: on, or off (for benchmarking only: requests are then NOT recorded) (also COFFER_AUDIT)")
	fs.StringVar(&f.file, "audit-file", "", "also mirror the audit log to this JSON Lines file (rotated by size)")
	fs.Int64Var(&f.fileMaxBytes, "audit-file-max-bytes", audit.DefaultMaxFileBytes, "rotate the --audit-file mirror at this size")
	fs.IntVar(&f.fileKeep, "audit-file-keep", audit.DefaultKeepFiles, "rotated --audit-file files to keep")
	fs.BoolVar(&f.stdout, "audit-stdout", false, "also write audit records to stdout as JSON Lines (for log collectors)")
	fs.DurationVar(&f.checkpointEvery, "audit-checkpoint-every", defaultCheckpointEvery, "sign an audit checkpoint this often (also on shutdown)")
	fs.Uint64Var(&f.checkpointRecords, "audit-checkpoint-records", defaultCheckpointRecords, "also sign a checkpoint after this many new records")
}

func (f *auditFlags) check() error {
	switch f.mode {
	case "on", "off":
	default:
		return fmt.Errorf("--audit must be on or off, got %q", f.mode)
	}
	if f.checkpointEvery <= 0 {
		return errors.New("--audit-checkpoint-every must be positive")
	}
	if f.checkpointRecords == 0 {
		return errors.New("--audit-checkpoint-records must be positive")
	}
	return nil
}

// auditOrigin names this server's log in checkpoints (a signed-note key
// name: no spaces, no '+').
func auditOrigin(account, region string) string {
	return "coffer-audit/" + account + "/" + region
}

// auditStorage is the audit sink contract a store implements for the
// server (internal/sqlite/audit.go and internal/postgres/audit.go document
// it; both adapters implement it).
type auditStorage interface {
	awsapi.AuditStore // StageAudit, LookupAudit
	AuditRecords(ctx context.Context, after uint64, limit int) ([]audit.Record, error)
	AuditHead(ctx context.Context) (audit.ChainState, error)
	PutAuditCheckpoint(ctx context.Context, size uint64, root [32]byte, note []byte) error
	LatestAuditCheckpoint(ctx context.Context) ([]byte, error)
	AuditCommitted() <-chan struct{}
}

var (
	_ auditStorage = (*sqlite.DB)(nil)
	_ auditStorage = (*postgres.DB)(nil)
)

// auditCheckpointLease names the cluster lease of the checkpoint signer:
// with several nodes on one PostgreSQL database, one node at a time signs
// the periodic checkpoints (with SQLite the only node always holds it).
const auditCheckpointLease = "audit-checkpoint"

// metaReader reads meta values (DB and AuditReader both do).
type metaReader interface {
	Meta(ctx context.Context, key string) ([]byte, error)
}

// ensureAuditKey returns the audit key stored under meta, creating a
// random one at first use.
func ensureAuditKey(ctx context.Context, db metaStore, root *keyring.Root, meta, purpose string) ([]byte, error) {
	blob, err := db.Meta(ctx, meta)
	if err != nil {
		return nil, err
	}
	if blob == nil {
		k := make([]byte, 32)
		rand.Read(k)
		blob, err = db.SetMetaIfAbsent(ctx, meta, root.Wrap(purpose, meta, k))
		clear(k)
		if err != nil {
			return nil, err
		}
	}
	return root.Unwrap(purpose, meta, blob)
}

// readAuditKey returns an existing audit key.
func readAuditKey(ctx context.Context, db metaReader, root *keyring.Root, meta, purpose string) ([]byte, error) {
	blob, err := db.Meta(ctx, meta)
	if err != nil {
		return nil, err
	}
	if blob == nil {
		return nil, fmt.Errorf("no %s in this data directory yet (the server creates it at first start)", meta)
	}
	return root.Unwrap(purpose, meta, blob)
}

// auditRuntime runs the audit trail's background work in the server: the
// mirrors and checkpoint signing.
type auditRuntime struct {
	db      auditStorage
	leases  jobs.Leaser
	log     *slog.Logger
	signer  *audit.Signer
	origin  string
	every   time.Duration
	records uint64

	mirrors []*mirror
	lastCP  uint64 // size of the newest checkpoint this node stored (or found at start)
	// nextCheck is the log size at which the loop next considers a
	// checkpoint for the records it counts (--audit-checkpoint-records).
	nextCheck uint64

	mu     sync.Mutex // serializes sync/checkpoint between the loop and Close
	stop   chan struct{}
	done   chan struct{}
	closed bool
}

// mirror is one sink fed from the store's committed records.
type mirror struct {
	name   string
	sink   audit.Sink
	last   uint64 // records up to here were written
	failed bool   // last write failed (logged once until it recovers)
}

// startAudit prepares the audit trail of a server: keys, mirrors and the
// checkpoint loop. With --audit=off it returns a nil config.
func (a *App) startAudit(ctx context.Context, f auditFlags, stdout io.Writer) (*awsapi.AuditConfig, *auditRuntime, error) {
	if err := f.check(); err != nil {
		return nil, nil, err
	}
	if f.mode == "off" {
		a.log.Warn("THE AUDIT TRAIL IS OFF (--audit=off): requests are not recorded. Use this only to measure the cost of auditing")
		return nil, nil, nil
	}
	store := a.db
	hk, err := ensureAuditKey(ctx, a.db, a.root, metaAuditHMACKey, purposeAuditHMAC)
	if err != nil {
		return nil, nil, fmt.Errorf("audit key: %w", err)
	}
	hasher, err := audit.NewHasher(hk)
	clear(hk)
	if err != nil {
		return nil, nil, err
	}
	sk, err := ensureAuditKey(ctx, a.db, a.root, metaAuditSignKey, purposeAuditSign)
	if err != nil {
		return nil, nil, fmt.Errorf("audit signing key: %w", err)
	}
	signer, err := audit.NewSigner(sk)
	clear(sk)
	if err != nil {
		return nil, nil, err
	}
	r := &auditRuntime{
		db: store, leases: a.db, log: a.log, signer: signer, origin: auditOrigin(a.account, a.region),
		every: f.checkpointEvery, records: f.checkpointRecords,
		stop: make(chan struct{}), done: make(chan struct{}),
	}
	if note, err := store.LatestAuditCheckpoint(ctx); err != nil {
		return nil, nil, err
	} else if note != nil {
		cp, err := audit.VerifyCheckpoint(note, signer.PublicKey())
		if err != nil {
			return nil, nil, fmt.Errorf("the newest stored audit checkpoint does not verify under this server's key: %w", err)
		}
		r.lastCP = cp.Size
	}
	head, err := store.AuditHead(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("audit log: %w", err)
	}
	if f.file != "" {
		fsink, err := audit.OpenFileSink(f.file, audit.FileOptions{MaxBytes: f.fileMaxBytes, Keep: f.fileKeep})
		if err != nil {
			r.closeSinks()
			return nil, nil, err
		}
		m := &mirror{name: f.file, sink: fsink, last: fsink.LastSeq()}
		if m.last > head.Size {
			fsink.Close()
			r.closeSinks()
			return nil, nil, fmt.Errorf("audit mirror %s ends at seq %d but this store has %d records: it mirrors another log; move it away", f.file, m.last, head.Size)
		}
		if m.last > 0 {
			m.last-- // re-send the last mirrored record: the sink checks that it is the same
		}
		r.mirrors = append(r.mirrors, m)
	}
	if f.stdout {
		r.mirrors = append(r.mirrors, &mirror{name: "stdout", sink: audit.NewWriterSink(stdout), last: head.Size})
	}
	r.syncMirrors(ctx)
	go r.loop()
	a.log.Info("audit trail on", "origin", r.origin, "records", head.Size, "checkpoint_every", f.checkpointEvery, "mirrors", len(r.mirrors))
	return &awsapi.AuditConfig{Store: store, Hasher: hasher}, r, nil
}

func (r *auditRuntime) loop() {
	defer close(r.done)
	tick := time.NewTicker(r.every)
	defer tick.Stop()
	ctx := context.Background()
	for {
		select {
		case <-r.stop:
			return
		case <-r.db.AuditCommitted():
			r.mu.Lock()
			r.syncMirrors(ctx)
			if head, err := r.db.AuditHead(ctx); err == nil && head.Size >= max(r.nextCheck, r.lastCP+r.records) {
				// Once per --audit-checkpoint-records records, whoever signs.
				r.nextCheck = head.Size + r.records
				if r.isSigner(ctx) {
					r.checkpoint(ctx)
				}
			}
			r.mu.Unlock()
		case <-tick.C:
			r.mu.Lock()
			r.syncMirrors(ctx)
			if r.isSigner(ctx) {
				r.checkpoint(ctx)
			}
			r.mu.Unlock()
		}
	}
}

// isSigner reports whether this node signs the periodic checkpoints: it
// holds the cluster's checkpoint lease (taking it if free).
func (r *auditRuntime) isSigner(ctx context.Context) bool {
	ok, err := r.leases.HoldLease(ctx, auditCheckpointLease)
	return ok && err == nil
}

// Close stops the loop, brings the mirrors up to date, signs a final
// checkpoint and closes the mirrors. Call it after the HTTP server has
// stopped, before the database closes. Every node signs a final checkpoint
// when it stops, signer or not, so that a cluster stopped node by node
// ends with one covering every record.
func (r *auditRuntime) Close() {
	if r == nil {
		return
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.closed = true
	r.mu.Unlock()
	close(r.stop)
	<-r.done
	ctx := context.Background()
	r.syncMirrors(ctx)
	r.checkpoint(ctx)
	r.leases.ReleaseLease(auditCheckpointLease)
	r.closeSinks()
}

func (r *auditRuntime) closeSinks() {
	for _, m := range r.mirrors {
		m.sink.Close()
	}
}

// syncMirrors writes committed records the mirrors have not seen yet. A
// failing mirror is retried at the next commit or tick; it never blocks
// requests (the store is the record of truth).
func (r *auditRuntime) syncMirrors(ctx context.Context) {
	for _, m := range r.mirrors {
		for {
			recs, err := r.db.AuditRecords(ctx, m.last, mirrorPage)
			if err == nil && len(recs) > 0 {
				err = m.sink.WriteRecords(recs)
				if fs, ok := m.sink.(*audit.FileSink); ok {
					m.last = max(m.last, fs.LastSeq())
				} else if err == nil {
					m.last = recs[len(recs)-1].Seq
				}
			}
			if err != nil {
				if !m.failed {
					r.log.Error("audit mirror write failed; will retry", "mirror", m.name, "err", err)
				}
				m.failed = true
				break
			}
			if m.failed {
				r.log.Info("audit mirror recovered", "mirror", m.name, "seq", m.last)
				m.failed = false
			}
			if len(recs) < mirrorPage {
				break
			}
		}
	}
}

// checkpoint signs and stores a checkpoint of the committed log if it grew
// since the last one.
func (r *auditRuntime) checkpoint(ctx context.Context) {
	head, err := r.db.AuditHead(ctx)
	if err != nil || head.Size == 0 || head.Size <= r.lastCP {
		return
	}
	root := head.Root()
	note, err := r.signer.SignCheckpoint(audit.Checkpoint{Origin: r.origin, Size: head.Size, Root: root})
	if err == nil {
		err = r.db.PutAuditCheckpoint(ctx, head.Size, root, note)
	}
	if err != nil {
		r.log.Error("audit checkpoint failed", "size", head.Size, "err", err)
		return
	}
	r.lastCP = head.Size
	r.log.Debug("audit checkpoint signed", "size", head.Size)
}

// ---- coffer audit … ----

func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	subs := []struct {
		name, summary string
		run           func(context.Context, []string, io.Writer, io.Writer) error
	}{
		{"verify", "prove the audit log (store or JSON Lines mirror) intact against a signed checkpoint", auditVerify},
		{"checkpoint", "export the newest signed checkpoint and its verifier key", auditCheckpoint},
		{"tail", "print the newest audit events (-f: follow)", auditTail},
		{"query", "search audit events", auditQuery},
		{"reindex", "rebuild the audit log's lookup index from the log (server stopped)", auditReindex},
	}
	help := len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help")
	if len(args) > 0 && !help {
		for _, s := range subs {
			if s.name == args[0] {
				return s.run(ctx, args[1:], stdout, stderr)
			}
		}
		fmt.Fprintf(stderr, "coffer audit: unknown subcommand %q\n\n", args[0])
	}
	out := stderr
	if help {
		out = stdout
	}
	fmt.Fprintln(out, "Usage: coffer audit <subcommand> [flags]   (coffer audit <subcommand> -h for its flags)")
	fmt.Fprintln(out)
	for _, s := range subs {
		fmt.Fprintf(out, "  %-11s %s\n", s.name, s.summary)
	}
	if help {
		return nil
	}
	return errUsage
}

// offlineFlags locate a store (SQLite in a data directory, or PostgreSQL)
// and its root key for the audit tools.
type offlineFlags struct {
	dataDir string
	storage string
	timeout time.Duration
	rootKey rootKeyFlags
}

func (o *offlineFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&o.dataDir, "data-dir", envOr("COFFER_DATA_DIR", "./coffer-data"), "data directory (also COFFER_DATA_DIR)")
	fs.StringVar(&o.storage, "storage", envOr("COFFER_STORAGE", ""), "the store: sqlite://<data-dir or file.db> or postgres://… (default: SQLite in the data dir; also COFFER_STORAGE)")
	fs.DurationVar(&o.timeout, "storage-timeout", 30*time.Second, "PostgreSQL connect and statement timeout")
	o.rootKey.register(fs) // else COFFER_ROOT_KEY; else the development key in <data-dir>/root.key, if present
}

// auditSource is what the audit tools read: a SQLite database's audit
// tables (read-only, also while a server runs) or a PostgreSQL cluster's.
type auditSource interface {
	metaReader
	LookupAudit(ctx context.Context, key, value string, start, end time.Time, before uint64, limit int) ([]audit.Record, error)
	AuditRecords(ctx context.Context, after uint64, limit int) ([]audit.Record, error)
	AllAuditRecords(ctx context.Context) iter.Seq2[audit.Record, error]
	LatestAuditCheckpoint(ctx context.Context) ([]byte, error)
	// StoredHead returns the chain state stored with the records
	// (unsigned: evidence, not proof), and false if there is none.
	StoredHead(ctx context.Context) (audit.ChainState, bool, error)
	Close() error
}

type sqliteAuditSource struct{ *sqlite.AuditReader }

func (s sqliteAuditSource) StoredHead(ctx context.Context) (audit.ChainState, bool, error) {
	return s.AuditHead(ctx)
}

type pgAuditSource struct{ *postgres.DB }

func (s pgAuditSource) StoredHead(ctx context.Context) (audit.ChainState, bool, error) {
	st, err := s.AuditHead(ctx)
	return st, err == nil, err
}

// spec is the store the flags name.
func (o *offlineFlags) spec() (storageSpec, error) { return parseStorage(o.storage, o.dataDir) }

// openSource opens the store's audit log for reading, and describes the
// store (without credentials).
func (o *offlineFlags) openSource(ctx context.Context) (auditSource, string, error) {
	spec, err := o.spec()
	if err != nil {
		return nil, "", err
	}
	if spec.kind == "postgres" {
		db, err := postgres.Open(ctx, spec.dsn, postgres.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Timeout: o.timeout})
		if err != nil {
			return nil, "", err
		}
		return pgAuditSource{db}, "postgres " + db.String(), nil
	}
	r, err := sqlite.OpenAuditReader(spec.path)
	if err != nil {
		return nil, "", err
	}
	return sqliteAuditSource{r}, spec.path + " (audit log " + r.Dir() + ")", nil
}

// root loads the data directory's root key the way the server does, but
// never creates one (the directory holds data), and checks it.
func (o *offlineFlags) root(ctx context.Context, r metaReader) (*keyring.Root, error) {
	check, err := r.Meta(ctx, rootCheckMeta)
	if err != nil {
		return nil, err
	}
	if check == nil {
		return nil, fmt.Errorf("%s has no root key check value yet (start the server once)", o.dataDir)
	}
	return unsealRoot(ctx, appConfig{dataDir: o.dataDir, rootKeyFile: o.rootKey.file, rootKeyKMSKeyID: o.rootKey.kmsKeyID,
		log: slog.New(slog.NewTextHandler(io.Discard, nil))}, check)
}

// rewrapAuditKeys re-wraps the audit keys under a new root key, for
// root-key rotation (inside its transaction).
func rewrapAuditKeys(ctx context.Context, db rootKeyStore, old, next *keyring.Root) error {
	for _, k := range []struct{ meta, purpose string }{
		{metaAuditHMACKey, purposeAuditHMAC},
		{metaAuditSignKey, purposeAuditSign},
	} {
		blob, err := db.Meta(ctx, k.meta)
		if err != nil {
			return err
		}
		if blob == nil {
			continue
		}
		w, err := keyring.Rewrap(old, next, k.purpose, k.meta, blob)
		if err != nil {
			return fmt.Errorf("re-wrap %s: %w", k.meta, err)
		}
		if err := db.PutMeta(ctx, k.meta, w); err != nil {
			return err
		}
	}
	return nil
}

// storeVerifier returns the data directory's checkpoint origin and public
// key (from the wrapped signing key: needs the root key).
func (o *offlineFlags) storeVerifier(ctx context.Context, r metaReader) (string, ed25519.PublicKey, error) {
	root, err := o.root(ctx, r)
	if err != nil {
		return "", nil, err
	}
	seed, err := readAuditKey(ctx, r, root, metaAuditSignKey, purposeAuditSign)
	if err != nil {
		return "", nil, err
	}
	signer, err := audit.NewSigner(seed)
	clear(seed)
	if err != nil {
		return "", nil, err
	}
	account, _ := r.Meta(ctx, "account_id")
	region, _ := r.Meta(ctx, "region")
	return auditOrigin(string(account), string(region)), signer.PublicKey(), nil
}

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	return nil
}

// errHelp ends a subcommand that printed its help.
var errHelp = errors.New("help")

// Exported checkpoint files hold the verifier key on the first line, a
// blank line, then the signed checkpoint note.
func formatCheckpointFile(vkey string, note []byte) []byte {
	return append([]byte(vkey+"\n\n"), note...)
}

func parseCheckpointFile(b []byte) (vkey string, note []byte, err error) {
	k, rest, ok := bytes.Cut(b, []byte("\n\n"))
	if !ok || len(rest) == 0 {
		return "", nil, errors.New("not a checkpoint file (want: verifier key line, blank line, signed note)")
	}
	return string(bytes.TrimSpace(k)), rest, nil
}

// auditVerify implements `coffer audit verify`.
func auditVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o offlineFlags
	var file, cpFile, vkeyFlag string
	fs := newFlagSet("coffer audit verify", stderr)
	o.register(fs)
	fs.StringVar(&file, "file", "", "verify this JSON Lines mirror (with its rotated files) instead of the store")
	fs.StringVar(&cpFile, "checkpoint", "", "trust this exported checkpoint file (from `coffer audit checkpoint --out`) instead of the store's newest checkpoint")
	fs.StringVar(&vkeyFlag, "key", "", "verifier key to trust (default: the one in --checkpoint FILE, or the data directory's)")
	if err := parseFlags(fs, args); err != nil {
		return helpOK(err)
	}
	var (
		note      []byte
		pub       ed25519.PublicKey
		reader    auditSource
		storeDesc string
		head      audit.ChainState
		haveSt    bool
	)
	if file == "" || cpFile == "" {
		r, desc, err := o.openSource(ctx)
		switch {
		case err == nil:
			defer r.Close()
			reader, storeDesc = r, desc
		case file == "":
			return err
		default:
			fmt.Fprintf(stdout, "note: no store to take a checkpoint from (%v)\n", err)
		}
		if file == "" {
			// Read the state before the records: records appended meanwhile
			// (by a running server, or the nodes of a cluster) only extend
			// the log.
			if head, haveSt, err = r.StoredHead(ctx); err != nil {
				return err
			}
		}
	}
	if cpFile != "" {
		b, err := os.ReadFile(cpFile)
		if err != nil {
			return err
		}
		vkey, n, err := parseCheckpointFile(b)
		if err != nil {
			return fmt.Errorf("%s: %w", cpFile, err)
		}
		if vkeyFlag != "" {
			vkey = vkeyFlag
		}
		if _, pub, err = audit.ParseVerifierKey(vkey); err != nil {
			return fmt.Errorf("verifier key: %w", err)
		}
		note = n
	} else if reader != nil {
		var err error
		if note, err = reader.LatestAuditCheckpoint(ctx); err != nil {
			return err
		}
		if vkeyFlag != "" {
			if _, pub, err = audit.ParseVerifierKey(vkeyFlag); err != nil {
				return fmt.Errorf("verifier key: %w", err)
			}
		} else if note != nil {
			if _, pub, err = o.storeVerifier(ctx, reader); err != nil {
				return err
			}
		}
	}

	var records iter.Seq2[audit.Record, error]
	source := "store " + storeDesc
	if file != "" {
		records = audit.ReadFiles(file)
		source = "mirror " + file
	} else {
		records = reader.AllAuditRecords(ctx)
	}
	opts := audit.VerifyOptions{}
	var cp audit.Checkpoint
	if note != nil {
		var err error
		if cp, err = audit.VerifyCheckpoint(note, pub); err != nil {
			fmt.Fprintf(stdout, "FAIL: %s: the checkpoint does not verify: %v\n", source, err)
			return errVerifyFailed
		}
		opts.Checkpoints = append(opts.Checkpoints, cp)
	}
	if haveSt && head.Size > 0 {
		// The stored chain state (unsigned, written with every commit) also
		// pins the log's length and root: evidence beyond the newest
		// checkpoint, although someone who can rewrite the table can
		// rewrite it too.
		opts.Checkpoints = append(opts.Checkpoints, audit.Checkpoint{Origin: "state", Size: head.Size, Root: head.Root()})
	}
	if file != "" {
		first, ok := firstRecord(records)
		if ok && first > 1 {
			// The oldest mirror files were rotated away: only the chain from
			// the first remaining record can be checked.
			opts = audit.VerifyOptions{FromFirst: true}
			fmt.Fprintf(stdout, "note: the mirror starts at seq %d (older files rotated away): checking the hash chain from there; the checkpoint cannot be applied\n", first)
			note = nil
		}
	}
	res, err := audit.VerifyWith(records, opts)
	if err != nil {
		var ve *audit.VerifyError
		if errors.As(err, &ve) {
			fmt.Fprintf(stdout, "FAIL: %s: first bad record: seq %d (%s)\n%v\n", source, ve.Seq, ve.Reason, err)
			return errVerifyFailed
		}
		return err
	}
	switch {
	case note != nil:
		fmt.Fprintf(stdout, "OK: %s: %d records intact; signed checkpoint %s size %d verified", source, res.Records, cp.Origin, cp.Size)
		if after := res.State.Size - cp.Size; after > 0 {
			fmt.Fprintf(stdout, "; %d newer records hash-chained (covered by the next checkpoint)", after)
		}
		fmt.Fprintln(stdout)
	default:
		fmt.Fprintf(stdout, "OK: %s: %d records, hash chain intact; no signed checkpoint applied, so a truncated tail would go unnoticed\n", source, res.Records)
	}
	return nil
}

// errVerifyFailed makes `coffer audit verify` exit non-zero after it
// printed the finding.
var errVerifyFailed = errors.New("audit log verification failed")

// firstRecord returns the seq of the first record (false if none or
// unreadable).
func firstRecord(records iter.Seq2[audit.Record, error]) (uint64, bool) {
	for r, err := range records {
		return r.Seq, err == nil
	}
	return 0, false
}

func helpOK(err error) error {
	if err == errHelp {
		return nil
	}
	return err
}

// auditCheckpoint implements `coffer audit checkpoint`.
func auditCheckpoint(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o offlineFlags
	var out string
	fs := newFlagSet("coffer audit checkpoint", stderr)
	o.register(fs)
	fs.StringVar(&out, "out", "", "write the checkpoint file here (default: stdout)")
	if err := parseFlags(fs, args); err != nil {
		return helpOK(err)
	}
	spec, err := o.spec()
	if err != nil {
		return err
	}
	if spec.kind == "sqlite" {
		if _, err := os.Stat(spec.path); err != nil {
			return err
		}
		// With the server stopped, sign a checkpoint of everything first.
		// (A PostgreSQL cluster's nodes sign their own: the one holding
		// the checkpoint lease, and each node as it stops.)
		if db, err := sqlite.Open(spec.path, sqlite.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))}); err == nil {
			err = signOffline(ctx, db, &o)
			db.Close()
			if err != nil {
				return err
			}
		} else if !errors.Is(err, sqlite.ErrLocked) {
			return err
		}
	}
	r, _, err := o.openSource(ctx)
	if err != nil {
		return err
	}
	defer r.Close()
	note, err := r.LatestAuditCheckpoint(ctx)
	if err != nil {
		return err
	}
	if note == nil {
		return errors.New("no audit checkpoint yet (the server signs one every --audit-checkpoint-every and at shutdown)")
	}
	origin, pub, err := o.storeVerifier(ctx, r)
	if err != nil {
		return err
	}
	cp, err := audit.VerifyCheckpoint(note, pub)
	if err != nil {
		return fmt.Errorf("the stored checkpoint does not verify under this data directory's key: %w", err)
	}
	vkey, err := audit.VerifierKey(origin, pub)
	if err != nil {
		return err
	}
	content := formatCheckpointFile(vkey, note)
	if out == "" {
		_, err = stdout.Write(content)
		return err
	}
	if err := writeFileAtomic(out, content, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "wrote checkpoint %s size %d to %s\n", cp.Origin, cp.Size, out)
	return nil
}

// signOffline signs a checkpoint of the whole log of a database no server
// holds, if the newest one does not cover it.
func signOffline(ctx context.Context, db *sqlite.DB, o *offlineFlags) error {
	head, err := db.AuditHead(ctx)
	if err != nil || head.Size == 0 {
		return err
	}
	root, err := o.root(ctx, db)
	if err != nil {
		return err
	}
	seed, err := readAuditKey(ctx, db, root, metaAuditSignKey, purposeAuditSign)
	if err != nil {
		return err
	}
	signer, err := audit.NewSigner(seed)
	clear(seed)
	if err != nil {
		return err
	}
	if note, err := db.LatestAuditCheckpoint(ctx); err != nil {
		return err
	} else if note != nil {
		if cp, err := audit.VerifyCheckpoint(note, signer.PublicKey()); err == nil && cp.Size >= head.Size {
			return nil
		}
	}
	account, _ := db.Meta(ctx, "account_id")
	region, _ := db.Meta(ctx, "region")
	r := head.Root()
	note, err := signer.SignCheckpoint(audit.Checkpoint{Origin: auditOrigin(string(account), string(region)), Size: head.Size, Root: r})
	if err != nil {
		return err
	}
	return db.PutAuditCheckpoint(ctx, head.Size, r, note)
}

// eventFilter is what `coffer audit query` matches, besides the attribute
// the store looks up.
type eventFilter struct {
	eventName, user, source, resource, accessKey, eventID, readOnly string
}

func (f *eventFilter) attributes() [][2]string {
	var a [][2]string
	add := func(k, v string) {
		if v != "" {
			a = append(a, [2]string{k, v})
		}
	}
	add("EventId", f.eventID)
	add("ResourceName", f.resource)
	add("AccessKeyId", f.accessKey)
	add("Username", f.user)
	add("EventName", f.eventName)
	add("EventSource", f.source)
	add("ReadOnly", f.readOnly)
	return a
}

func matchAttr(ev *audit.Event, k, v string) bool {
	switch k {
	case "EventId":
		return ev.EventID == v
	case "EventName":
		return ev.EventName == v
	case "EventSource":
		return ev.EventSource == v
	case "Username":
		return awsapi.AuditUsername(&ev.UserIdentity) == v
	case "AccessKeyId":
		return ev.UserIdentity.AccessKeyID == v
	case "ReadOnly":
		return strconv.FormatBool(ev.ReadOnly) == v
	case "ResourceName":
		for _, r := range ev.Resources {
			if r.ARN == v {
				return true
			}
		}
	}
	return false
}

// parseSince accepts a duration before now ("1h") or an RFC 3339 time.
func parseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is neither a duration (1h30m) nor an RFC 3339 time", s)
}

// auditQuery implements `coffer audit query`.
func auditQuery(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o offlineFlags
	var f eventFilter
	var since, until string
	var limit int
	var asJSON bool
	fs := newFlagSet("coffer audit query", stderr)
	o.register(fs)
	fs.StringVar(&f.eventName, "event-name", "", "operation name, e.g. GetSecretValue")
	fs.StringVar(&f.user, "user", "", "user name (root, an IAM user, a role session)")
	fs.StringVar(&f.source, "source", "", "event source, e.g. secretsmanager.amazonaws.com")
	fs.StringVar(&f.resource, "resource", "", "resource ARN")
	fs.StringVar(&f.accessKey, "access-key", "", "access key id")
	fs.StringVar(&f.eventID, "event-id", "", "event id")
	fs.StringVar(&f.readOnly, "read-only", "", "true or false")
	fs.StringVar(&since, "since", "", "events at or after this time (RFC 3339, or a duration before now such as 24h)")
	fs.StringVar(&until, "until", "", "events at or before this time (RFC 3339, or a duration before now)")
	fs.IntVar(&limit, "limit", 100, "at most this many events")
	fs.BoolVar(&asJSON, "json", false, "print records as JSON Lines instead of one summary line per event")
	if err := parseFlags(fs, args); err != nil {
		return helpOK(err)
	}
	now := time.Now()
	start, err := parseSince(since, now)
	if err != nil {
		return fmt.Errorf("--since: %w", err)
	}
	end, err := parseSince(until, now)
	if err != nil {
		return fmt.Errorf("--until: %w", err)
	}
	if f.readOnly != "" && f.readOnly != "true" && f.readOnly != "false" {
		return errors.New("--read-only must be true or false")
	}
	r, _, err := o.openSource(ctx)
	if err != nil {
		return err
	}
	defer r.Close()
	attrs := f.attributes()
	var key, value string
	if len(attrs) > 0 {
		key, value = attrs[0][0], attrs[0][1]
		attrs = attrs[1:]
	}
	var before uint64
	found := 0
	for found < limit {
		recs, err := r.LookupAudit(ctx, key, value, start, end, before, 500)
		if err != nil {
			return err
		}
		for i := range recs {
			before = recs[i].Seq
			var ev audit.Event
			if err := json.Unmarshal(recs[i].Body, &ev); err != nil {
				return fmt.Errorf("record %d: %w", recs[i].Seq, err)
			}
			ok := true
			for _, a := range attrs {
				ok = ok && matchAttr(&ev, a[0], a[1])
			}
			if !ok {
				continue
			}
			printRecord(stdout, &recs[i], &ev, asJSON)
			if found++; found == limit {
				break
			}
		}
		if len(recs) < 500 {
			break
		}
	}
	return nil
}

// auditReindex implements `coffer audit reindex`: the lookup index
// (audit_blocks) is rebuilt from the segment log. The server also does it
// at start when the index does not fit the log.
func auditReindex(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o offlineFlags
	fs := newFlagSet("coffer audit reindex", stderr)
	o.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return helpOK(err)
	}
	spec, err := o.spec()
	if err != nil {
		return err
	}
	if spec.kind != "sqlite" {
		return errors.New("coffer audit reindex: only the embedded SQLite store has a lookup index to rebuild (PostgreSQL keeps its audit records in tables)")
	}
	if _, err := os.Stat(spec.path); err != nil {
		return err
	}
	db, err := sqlite.Open(spec.path, sqlite.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		if errors.Is(err, sqlite.ErrLocked) {
			return fmt.Errorf("%w: stop the server first", err)
		}
		return err
	}
	defer db.Close()
	if err := db.ReindexAudit(ctx); err != nil {
		return err
	}
	head, _ := db.AuditHead(ctx)
	fmt.Fprintf(stdout, "reindexed %d audit records in %s\n", head.Size, db.AuditLogDir())
	return nil
}

// auditTail implements `coffer audit tail`.
func auditTail(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o offlineFlags
	var n int
	var follow, asJSON bool
	var every time.Duration
	fs := newFlagSet("coffer audit tail", stderr)
	o.register(fs)
	fs.IntVar(&n, "n", 20, "print the last n events first")
	fs.BoolVar(&follow, "f", false, "keep printing new events as they are committed")
	fs.DurationVar(&every, "poll", 500*time.Millisecond, "with -f, how often to look for new events")
	fs.BoolVar(&asJSON, "json", false, "print records as JSON Lines instead of one summary line per event")
	if err := parseFlags(fs, args); err != nil {
		return helpOK(err)
	}
	r, _, err := o.openSource(ctx)
	if err != nil {
		return err
	}
	defer r.Close()
	recs, err := r.LookupAudit(ctx, "", "", time.Time{}, time.Time{}, 0, max(n, 1))
	if err != nil {
		return err
	}
	var last uint64
	if len(recs) > 0 {
		last = recs[0].Seq
	}
	if n > 0 {
		for i := len(recs) - 1; i >= 0; i-- {
			if err := printBody(stdout, &recs[i], asJSON); err != nil {
				return err
			}
		}
	}
	if !follow {
		return nil
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		for {
			recs, err := r.AuditRecords(ctx, last, 500)
			if err != nil {
				return err
			}
			for i := range recs {
				if err := printBody(stdout, &recs[i], asJSON); err != nil {
					return err
				}
				last = recs[i].Seq
			}
			if len(recs) < 500 {
				break
			}
		}
	}
}

func printBody(w io.Writer, rec *audit.Record, asJSON bool) error {
	var ev audit.Event
	if !asJSON {
		if err := json.Unmarshal(rec.Body, &ev); err != nil {
			return fmt.Errorf("record %d: %w", rec.Seq, err)
		}
	}
	printRecord(w, rec, &ev, asJSON)
	return nil
}

// printRecord prints a record as its JSON Lines form or as one summary
// line: time, seq, source, event, user, source IP, outcome, resources.
func printRecord(w io.Writer, rec *audit.Record, ev *audit.Event, asJSON bool) {
	if asJSON {
		line, err := audit.AppendRecordLine(nil, rec)
		if err == nil {
			w.Write(line)
		}
		return
	}
	who := awsapi.AuditUsername(&ev.UserIdentity)
	if who == "" {
		who = ev.UserIdentity.Type
		if ev.UserIdentity.AccessKeyID != "" {
			who += "(" + ev.UserIdentity.AccessKeyID + ")"
		}
	}
	outcome := "OK"
	if ev.ErrorCode != "" {
		outcome = ev.ErrorCode
	}
	var res []string
	for _, r := range ev.Resources {
		res = append(res, r.ARN)
	}
	fmt.Fprintf(w, "%s #%d %s %s %s %s %s %s\n", ev.EventTime, rec.Seq,
		strings.TrimSuffix(ev.EventSource, ".amazonaws.com"), ev.EventName, who, ev.SourceIPAddress, outcome, strings.Join(res, ","))
}
