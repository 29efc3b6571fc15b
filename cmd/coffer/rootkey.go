package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/coffer-dev/coffer/internal/envelope"
	"github.com/coffer-dev/coffer/internal/identity"
	"github.com/coffer-dev/coffer/internal/keyring"
	"github.com/coffer-dev/coffer/internal/keyring/kmsunseal"
	"github.com/coffer-dev/coffer/internal/kms"
	"github.com/coffer-dev/coffer/internal/postgres"
	"github.com/coffer-dev/coffer/internal/sqlite"
)

// Files in the data directory that hold root keys:
//   - devKeyFile: a development root key in plain text (only when no other
//     provider is configured; the server warns);
//   - kmsKeyFile: the root key wrapped by an external KMS key.
//
// A root-key rotation writes the new one next to the old as <name>.new and
// renames it over the old one once the database has switched; start-up
// finishes (or discards) a rename that an interruption left undone.
const (
	devKeyFile     = "root.key"
	kmsKeyFile     = "root.key.kms"
	pendingSuffix  = ".new"
	rootCheckMeta  = "root_key_check"
	envRootKey     = "COFFER_ROOT_KEY"
	envRootKeyFile = "COFFER_ROOT_KEY_FILE"
	envRootKMSKey  = "COFFER_ROOT_KEY_KMS_KEY_ID"
)

// accessKeyPurpose is the purpose IAM secret access keys are wrapped under;
// root-key rotation re-wraps them.
const accessKeyPurpose = identity.SecretKeyPurpose

// rootKeyFlags are the root-key settings shared by the server and the
// offline commands.
type rootKeyFlags struct {
	file     string
	kmsKeyID string
}

func (f *rootKeyFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.file, "root-key-file", envOr(envRootKeyFile, ""), "file holding the base64 root key, kept outside the data dir (also "+envRootKeyFile+")")
	fs.StringVar(&f.kmsKeyID, "root-key-kms-key-id", envOr(envRootKMSKey, ""), "KMS key (AWS KMS or another Coffer) that wraps the root key, stored wrapped in <data-dir>/"+kmsKeyFile+"; endpoint and credentials from the usual AWS settings (AWS_ENDPOINT_URL_KMS, AWS_REGION, AWS_ACCESS_KEY_ID, shared config) (also "+envRootKMSKey+")")
}

// pendingKey is a root key a rotation wrote but did not yet put in place.
type pendingKey struct {
	path, final string
	load        func(ctx context.Context) ([]byte, error)
}

// rootKeyProvider picks the root key source for a data directory. fresh
// means the database holds nothing yet (a KMS provider may then create the
// wrapped root key).
func rootKeyProvider(ctx context.Context, c appConfig, fresh bool) (keyring.KeyProvider, *pendingKey, error) {
	kmsPath := filepath.Join(c.dataDir, kmsKeyFile)
	switch {
	case c.rootKeyFile != "" && c.rootKeyKMSKeyID != "":
		return nil, nil, errors.New("give either --root-key-file or --root-key-kms-key-id, not both")
	case c.rootKeyFile != "":
		return keyring.FileProvider{Path: c.rootKeyFile}, nil, nil
	case c.rootKeyKMSKeyID != "":
		p, err := kmsunseal.New(ctx, c.rootKeyKMSKeyID, kmsPath)
		if err != nil {
			return nil, nil, err
		}
		p.Create = fresh
		pending := &pendingKey{path: kmsPath + pendingSuffix, final: kmsPath}
		pending.load = func(ctx context.Context) ([]byte, error) {
			q := *p
			q.Path, q.Create = pending.path, false
			return q.RootKey(ctx)
		}
		return p, pending, nil
	case os.Getenv(envRootKey) != "":
		return keyring.EnvProvider{Var: envRootKey}, nil, nil
	}
	if _, err := os.Stat(kmsPath); err == nil {
		id, _ := kmsunseal.KeyIDOf(kmsPath)
		return nil, nil, fmt.Errorf("the root key of %s is wrapped by KMS key %s (%s): start with --root-key-kms-key-id and that key's KMS endpoint and credentials", c.dataDir, id, kmsPath)
	}
	path := filepath.Join(c.dataDir, devKeyFile)
	if _, err := os.Stat(path); err != nil && !fresh {
		// The data already exists under a root key kept elsewhere: never
		// invent a new one (it could not open the data, and the file would
		// be picked up by every later start).
		return nil, nil, fmt.Errorf("no root key given for %s, which already holds data: start with --root-key-file, COFFER_ROOT_KEY or --root-key-kms-key-id (the key it was created with)", c.dataDir)
	}
	created, err := keyring.GenerateFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("generate development root key: %w", err)
	}
	if created {
		c.log.Warn("generated a root key in the data directory: for development only. In production, give --root-key-file (kept elsewhere), --root-key-kms-key-id or COFFER_ROOT_KEY", "path", path)
	} else {
		c.log.Warn("using the root key stored in the data directory: for development only", "path", path)
	}
	pending := &pendingKey{path: path + pendingSuffix, final: path}
	pending.load = keyring.FileProvider{Path: pending.path}.RootKey
	return keyring.FileProvider{Path: path}, pending, nil
}

// unsealRoot gets the root key of a data directory and checks it against
// the stored check value (nil for a new directory). If the configured key
// does not match but a rotation left its new key pending, and that one
// matches, the rotation is finished by putting the pending key in place.
func unsealRoot(ctx context.Context, c appConfig, check []byte) (*keyring.Root, error) {
	p, pending, err := rootKeyProvider(ctx, c, check == nil)
	if err != nil {
		return nil, err
	}
	raw, err := p.RootKey(ctx)
	if err != nil {
		return nil, fmt.Errorf("root key from %s: %w", p, err)
	}
	root, err := keyring.NewRoot(raw)
	envelope.Zero(raw)
	if err != nil {
		return nil, err
	}
	pendingExists := false
	if pending != nil {
		if _, err := os.Stat(pending.path); err == nil {
			pendingExists = true
		}
	}
	if check == nil || root.VerifyCheck(check) == nil {
		if pendingExists { // a rotation that did not commit
			c.log.Warn("removing the new root key of a root-key rotation that did not complete", "path", pending.path)
			os.Remove(pending.path)
		}
		return root, nil
	}
	if pendingExists {
		raw, err := pending.load(ctx)
		if err == nil {
			next, err := keyring.NewRoot(raw)
			envelope.Zero(raw)
			if err == nil && next.VerifyCheck(check) == nil {
				if err := os.Rename(pending.path, pending.final); err != nil {
					return nil, fmt.Errorf("finish root-key rotation: %w", err)
				}
				c.log.Info("finished an interrupted root-key rotation: the new root key is now in place", "path", pending.final)
				return next, nil
			}
		}
	}
	return nil, fmt.Errorf("the root key from %s does not match the data in %s: refusing to start (no data was changed). Start with the root key this data directory was created with", p, c.dataDir)
}

const rootKeyUsage = `Usage: coffer root-key rotate [flags]

Re-wraps everything the root key protects directly — the key material of
every KMS key, every IAM secret access key and the audit trail's HMAC and
checkpoint-signing keys — under a new root key, in one
database transaction, then replaces the root key check value. Secret values
are not touched: they are protected by KMS key material, which stays the
same. The server must be stopped: on SQLite the data directory is locked;
on PostgreSQL (--storage postgres://…) every node must be stopped, the
command refuses to start while any is running, and a node that runs on with
the old root key afterwards can no longer store anything the root key wraps.

The current root key is given as for "coffer server" (--root-key-file,
--root-key-kms-key-id or COFFER_ROOT_KEY; else the development key in the
data dir). The new one is one of:
  --new-root-key-file F         read from F (created with a random key, mode
                                0600, if F does not exist)
  --new-root-key-kms-key-id K   generated by KMS key K and stored wrapped in
                                <data-dir>/root.key.kms (auto-unseal)
  (neither)                     a new development key in <data-dir>/root.key

If the command is interrupted, nothing has changed (the transaction did not
commit) and the old root key still works; if it is interrupted after the
commit but before a new key file in the data dir was renamed into place, the
server finishes that rename at its next start. Afterwards start the server
with the new root key only (on PostgreSQL: every node; copy a new key file
of the data dir to the nodes that read theirs from their data dir), and
destroy the old one.

Flags:
`

// runRootKey is "coffer root-key <subcommand>".
func runRootKey(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, rootKeyUsage)
		rotateFlags(new(rotateOptions), stderr).PrintDefaults()
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	if args[0] != "rotate" {
		fmt.Fprintf(stderr, "coffer root-key: unknown subcommand %q (want rotate)\n", args[0])
		return errUsage
	}
	var o rotateOptions
	fs := rotateFlags(&o, stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, rootKeyUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	o.log = newLogger(stderr, "warn", "text")
	o.stderr = stderr
	res, err := rotateRootKey(ctx, o)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Root key rotated: %d KMS key materials and %d access keys re-wrapped under root key %s.\n", res.materials, res.accessKeys, res.newID)
	fmt.Fprintln(stdout, res.next)
	return nil
}

type rotateOptions struct {
	dataDir     string
	storage     string // --storage ("" = SQLite in dataDir)
	old         rootKeyFlags
	newFile     string
	newKMSKeyID string
	log         *slog.Logger
	stderr      io.Writer
	// fail, when set, is called after each re-wrapped item (tests
	// interrupt the rotation through it).
	fail func(n int) error
}

func rotateFlags(o *rotateOptions, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("coffer root-key rotate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.dataDir, "data-dir", envOr("COFFER_DATA_DIR", "./coffer-data"), "data directory (also COFFER_DATA_DIR)")
	fs.StringVar(&o.storage, "storage", envOr("COFFER_STORAGE", ""), "the store, as for coffer server: sqlite://<data-dir or file.db> or postgres://… (default: SQLite in --data-dir; also COFFER_STORAGE)")
	o.old.register(fs)
	fs.StringVar(&o.newFile, "new-root-key-file", "", "file with the new base64 root key (created with a random key if missing)")
	fs.StringVar(&o.newKMSKeyID, "new-root-key-kms-key-id", "", "KMS key that wraps the new root key (stored in <data-dir>/"+kmsKeyFile+")")
	return fs
}

type rotateResult struct {
	materials, accessKeys int
	newID                 string
	next                  string // how to start the server now
}

// rotateRootKey implements "coffer root-key rotate".
//
// Design: the whole re-wrap is one unit of work, i.e. one database
// transaction — KMS key material, access keys and the root check value
// commit together or not at all. An interrupted run therefore leaves
// every item under the old root key, and a completed one leaves every
// item under the new one; no item ever needs "either key". The data is
// small (key material and access keys, never secret values), so one
// transaction is cheap. The only step outside the transaction is moving a
// new key file of the data dir into place, which start-up completes.
func rotateRootKey(ctx context.Context, o rotateOptions) (*rotateResult, error) {
	if o.log == nil {
		o.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.stderr == nil {
		o.stderr = io.Discard
	}
	if o.newFile != "" && o.newKMSKeyID != "" {
		return nil, errors.New("give either --new-root-key-file or --new-root-key-kms-key-id, not both")
	}
	spec, err := parseStorage(o.storage, o.dataDir)
	if err != nil {
		return nil, err
	}
	opened, desc, err := openExisting(ctx, spec, postgres.DefaultTimeout, o.log)
	if err != nil {
		if errors.Is(err, sqlite.ErrLocked) {
			return nil, fmt.Errorf("%w: stop the server before rotating the root key", err)
		}
		return nil, err
	}
	defer opened.Close()
	db, ok := opened.(rootKeyStore)
	if !ok {
		return nil, fmt.Errorf("%s cannot rotate its root key", desc)
	}
	fencer, shared := opened.(rootKeyFencer)
	nodesRunning := func() error {
		if !shared {
			return nil // SQLite: the open above locked the data directory
		}
		n, err := fencer.RunningNodes(ctx)
		if err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("%d Coffer server node(s) are running on %s: stop every node before rotating the root key", n, desc)
		}
		return nil
	}
	if err := nodesRunning(); err != nil {
		return nil, err
	}
	check, err := db.Meta(ctx, rootCheckMeta)
	if err != nil {
		return nil, err
	}
	if check == nil {
		return nil, fmt.Errorf("%s has no root key yet: start the server once first", desc)
	}
	cfg := appConfig{dataDir: o.dataDir, rootKeyFile: o.old.file, rootKeyKMSKeyID: o.old.kmsKeyID, log: o.log}
	old, err := unsealRoot(ctx, cfg, check)
	if err != nil {
		return nil, err
	}
	oldDev := o.old.file == "" && o.old.kmsKeyID == "" && os.Getenv(envRootKey) == ""
	oldKMS := o.old.kmsKeyID != ""

	// The new root key, and the data-dir file that will hold it.
	var (
		raw     []byte
		pending string // file to rename into place after the commit
		final   string
		next    string
	)
	switch {
	case o.newFile != "":
		if created, err := keyring.GenerateFile(o.newFile); err != nil {
			return nil, err
		} else if created {
			fmt.Fprintf(o.stderr, "generated a new root key in %s\n", o.newFile)
		}
		raw, err = keyring.FileProvider{Path: o.newFile}.RootKey(ctx)
		if err != nil {
			return nil, err
		}
		next = "Start the server with --root-key-file " + o.newFile + " from now on."
	case o.newKMSKeyID != "":
		final = filepath.Join(o.dataDir, kmsKeyFile)
		pending = final + pendingSuffix
		p, err := kmsunseal.New(ctx, o.newKMSKeyID, pending)
		if err != nil {
			return nil, err
		}
		var content []byte
		raw, content, err = p.Generate(ctx)
		if err != nil {
			return nil, err
		}
		os.Remove(pending)
		if err := kmsunseal.WriteNew(pending, content); err != nil {
			envelope.Zero(raw)
			return nil, err
		}
		next = "Start the server with --root-key-kms-key-id " + o.newKMSKeyID + " from now on."
	default:
		if !oldDev {
			return nil, errors.New("give the new root key: --new-root-key-file or --new-root-key-kms-key-id")
		}
		final = filepath.Join(o.dataDir, devKeyFile)
		pending = final + pendingSuffix
		raw = envelope.NewDataKey()
		os.Remove(pending)
		if err := os.WriteFile(pending, []byte(keyring.EncodeKey(raw)+"\n"), 0o600); err != nil {
			envelope.Zero(raw)
			return nil, err
		}
		next = "The new development root key is in " + final + "."
	}
	if shared {
		next = strings.Replace(next, "Start the server", "Start every node", 1)
		if pending != "" {
			next += " Nodes that read the root key from their own data directory need a copy of " + final + "."
		}
	}
	newRoot, err := keyring.NewRoot(raw)
	envelope.Zero(raw)
	if err != nil {
		return nil, err
	}
	abandon := func(err error) (*rotateResult, error) {
		if pending != "" {
			os.Remove(pending)
		}
		return nil, err
	}
	if newRoot.ID() == old.ID() {
		return abandon(errors.New("the new root key is the current root key"))
	}

	res := &rotateResult{newID: newRoot.ID(), next: next}
	region, _ := db.Meta(ctx, "region")
	account, _ := db.Meta(ctx, "account_id")
	ksvc := kms.New(kms.Config{Store: db, Root: old, Region: string(region), Account: string(account)})
	count := 0
	step := func() error {
		count++
		if o.fail != nil {
			return o.fail(count)
		}
		return nil
	}
	err = db.Atomic(ctx, func(ctx context.Context) error {
		if shared {
			if err := fencer.BeginRootKeyRotation(ctx, newRoot.ID()); err != nil {
				return err
			}
		}
		n, err := ksvc.RewrapKeys(ctx, newRoot, step)
		if err != nil {
			return fmt.Errorf("re-wrap KMS key material: %w", err)
		}
		res.materials = n
		aks, err := db.AllAccessKeys(ctx)
		if err != nil {
			return err
		}
		for _, ak := range aks {
			w, err := keyring.Rewrap(old, newRoot, accessKeyPurpose, ak.ID, ak.SecretWrapped)
			if err != nil {
				return fmt.Errorf("re-wrap access key %s: %w", ak.ID, err)
			}
			c := *ak
			c.SecretWrapped, c.RootKeyID = w, newRoot.ID()
			if err := db.PutAccessKey(ctx, &c); err != nil {
				return err
			}
			res.accessKeys++
			if err := step(); err != nil {
				return err
			}
		}
		if err := rewrapAuditKeys(ctx, db, old, newRoot); err != nil {
			return err
		}
		if err := nodesRunning(); err != nil { // one started meanwhile
			return err
		}
		return db.PutMeta(ctx, rootCheckMeta, newRoot.NewCheck())
	})
	if err != nil {
		return abandon(fmt.Errorf("root-key rotation failed; nothing was changed and the old root key still works: %w", err))
	}
	if pending != "" {
		if err := os.Rename(pending, final); err != nil {
			return nil, fmt.Errorf("the database now uses the new root key, but %s could not be renamed to %s (the server does it at its next start): %w", pending, final, err)
		}
	}
	// Old root keys kept in the data dir are useless now; remove them so
	// that no stale key lingers (an external key file is the operator's).
	if oldDev && final != filepath.Join(o.dataDir, devKeyFile) {
		removeIfExists(o.stderr, filepath.Join(o.dataDir, devKeyFile))
	}
	if oldKMS && final != filepath.Join(o.dataDir, kmsKeyFile) {
		removeIfExists(o.stderr, filepath.Join(o.dataDir, kmsKeyFile))
	}
	return res, nil
}

// rootKeyStore is what a root-key rotation needs of a store.
type rootKeyStore interface {
	storage
	// AllAccessKeys returns every stored access key (users, root and
	// sessions).
	AllAccessKeys(ctx context.Context) ([]*identity.AccessKey, error)
	// PutMeta sets a meta value within the unit of work in ctx.
	PutMeta(ctx context.Context, key string, value []byte) error
}

// rootKeyFencer is implemented by stores several nodes share
// (PostgreSQL); see internal/postgres/rootkey.go.
type rootKeyFencer interface {
	// RunningNodes counts the servers running on the store.
	RunningNodes(ctx context.Context) (int, error)
	// BeginRootKeyRotation starts the rotation in the unit of work in ctx:
	// it holds off writes of root-wrapped items by running nodes and
	// records the new root key id at commit.
	BeginRootKeyRotation(ctx context.Context, newID string) error
}

var (
	_ rootKeyStore  = (*sqlite.DB)(nil)
	_ rootKeyStore  = (*postgres.DB)(nil)
	_ rootKeyFencer = (*postgres.DB)(nil)
)

func removeIfExists(stderr io.Writer, path string) {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(stderr, "could not remove %s: %v\n", path, err)
	}
}
