package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"iter"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/coffer-dev/coffer/internal/audit"
	"github.com/coffer-dev/coffer/internal/postgres"
	"github.com/coffer-dev/coffer/internal/sqlite"
)

// Offline copies of a store: `coffer migrate` (store to store), `coffer
// backup` (store to file) and `coffer restore` (file to store). Rows move
// exactly as stored — sealed payloads, wrapped key material, JSON
// documents — so nothing is decrypted and no root key is needed; the
// destination needs the source's root key to be served. The audit log
// goes with them, through the stores' audit copy methods (auditcopy.go).
// Every copy is verified: per-table row counts and checksums of what was
// read must equal those of what the destination holds afterwards, and the
// destination's audit log (head, checkpoints) must be the source's, whose
// hash chain and checkpoints are checked on the way.

// tableSum is a table's row count and an order-independent checksum: the
// sum, modulo 2^256, of the SHA-256 of each row's canonical encoding.
type tableSum struct {
	Table string `json:"table"`
	Rows  int64  `json:"rows"`
	Sum   string `json:"sum"` // hex
	acc   big.Int
}

var mod256 = new(big.Int).Lsh(big.NewInt(1), 256)

func (s *tableSum) add(vals []any) error {
	h := sha256.New()
	var n [binary.MaxVarintLen64]byte
	for _, v := range vals {
		switch v := v.(type) {
		case string:
			h.Write([]byte{'t'})
			h.Write(n[:binary.PutUvarint(n[:], uint64(len(v)))])
			h.Write([]byte(v))
		case []byte:
			h.Write([]byte{'b'})
			h.Write(n[:binary.PutUvarint(n[:], uint64(len(v)))])
			h.Write(v)
		case int64:
			h.Write([]byte{'i'})
			var b [8]byte
			binary.BigEndian.PutUint64(b[:], uint64(v))
			h.Write(b[:])
		default:
			return fmt.Errorf("%s: unexpected value type %T", s.Table, v)
		}
	}
	s.acc.Add(&s.acc, new(big.Int).SetBytes(h.Sum(nil)))
	s.acc.Mod(&s.acc, mod256)
	s.Rows++
	s.Sum = fmt.Sprintf("%064x", &s.acc)
	return nil
}

// sums collects tableSums in table order.
type sums struct {
	list []*tableSum
}

func (ss *sums) start(table string) *tableSum {
	s := &tableSum{Table: table, Sum: fmt.Sprintf("%064x", 0)}
	ss.list = append(ss.list, s)
	return s
}

// checksums reads a whole store and sums it.
func checksums(ctx context.Context, db snapshotter) (*sums, error) {
	ss := &sums{}
	var cur *tableSum
	err := db.Snapshot(ctx, func(name string, _ []string, _ int64) error {
		cur = ss.start(name)
		return nil
	}, func(vals []any) error { return cur.add(vals) })
	return ss, err
}

// compareSums reports whether want (what was read) and got (what the
// destination holds) agree, printing a table of both.
func compareSums(w io.Writer, want, got *sums) error {
	gotBy := map[string]*tableSum{}
	for _, s := range got.list {
		gotBy[s.Table] = s
	}
	fmt.Fprintf(w, "%-18s %10s  %-16s  %s\n", "table", "rows", "checksum", "verified")
	var bad []string
	for _, s := range want.list {
		g := gotBy[s.Table]
		ok := g != nil && g.Rows == s.Rows && g.Sum == s.Sum
		mark := "ok"
		if !ok {
			mark = "MISMATCH"
			if g != nil {
				mark += fmt.Sprintf(" (destination: %d rows, %.16s)", g.Rows, g.Sum)
			} else {
				mark += " (destination has no such table)"
			}
			bad = append(bad, s.Table)
		}
		fmt.Fprintf(w, "%-18s %10d  %.16s  %s\n", s.Table, s.Rows, s.Sum, mark)
	}
	if len(bad) > 0 {
		return fmt.Errorf("verification failed for %s: the destination does not hold exactly what was read", strings.Join(bad, ", "))
	}
	return nil
}

// progress shows rows copied per table: a line that updates in place on a
// terminal, one line per table otherwise.
type progress struct {
	w     io.Writer
	tty   bool
	table string
	total int64
	done  int64
	last  time.Time
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

func (p *progress) start(table string, total int64) {
	p.finish()
	p.table, p.total, p.done = table, total, 0
	p.show()
}

func (p *progress) row() {
	p.done++
	if p.tty && time.Since(p.last) > 100*time.Millisecond {
		p.show()
	}
}

func (p *progress) show() {
	if p.tty {
		fmt.Fprintf(p.w, "\r  %-18s %10d / %d rows", p.table, p.done, p.total)
		p.last = time.Now()
	}
}

func (p *progress) finish() {
	if p.table == "" {
		return
	}
	if p.tty {
		p.show()
		fmt.Fprintln(p.w)
	} else {
		fmt.Fprintf(p.w, "  %-18s %10d / %d rows\n", p.table, p.done, p.total)
	}
	p.table = ""
}

// --- coffer migrate ---

func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("coffer migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "source store: sqlite://<data-dir or file.db> or postgres://…")
	to := fs.String("to", "", "destination store: sqlite://<data-dir or file.db> or postgres://…")
	force := fs.Bool("force", false, "replace everything the destination holds (but never an audit log: see below)")
	timeout := fs.Duration("storage-timeout", time.Minute, "PostgreSQL connect and lock timeout")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: coffer migrate --from <store> --to <store> [--force]")
		fmt.Fprintln(stderr, "Copies every record, still encrypted, and the audit log, and verifies counts, checksums")
		fmt.Fprintln(stderr, "and the audit hash chain. Stop the Coffer servers using either store first. The")
		fmt.Fprintln(stderr, "destination needs the source's root key. Its audit log must be empty (or already be the")
		fmt.Fprintln(stderr, "source's, when a copy is run again): audit logs are never deleted.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	if *from == "" || *to == "" || fs.NArg() > 0 {
		fs.Usage()
		return errUsage
	}
	fromSpec, err := parseStorage(*from, "")
	if err != nil {
		return fmt.Errorf("--from: %w", err)
	}
	toSpec, err := parseStorage(*to, "")
	if err != nil {
		return fmt.Errorf("--to: %w", err)
	}
	log := newLogger(stderr, "warn", "text")
	src, srcDesc, err := openExisting(ctx, fromSpec, *timeout, log)
	if err != nil {
		return fmt.Errorf("source: %w", err)
	}
	defer src.Close()
	if toSpec.kind == "sqlite" {
		if err := os.MkdirAll(filepath.Dir(toSpec.path), 0o700); err != nil {
			return err
		}
	}
	dst, dstDesc, err := openStorage(ctx, toSpec, *timeout, log)
	if err != nil {
		return fmt.Errorf("destination: %w", err)
	}
	defer dst.Close()
	if srcDesc == dstDesc {
		return errors.New("the source and the destination are the same store")
	}
	fmt.Fprintf(stderr, "copying %s → %s\n", srcDesc, dstDesc)
	p := newProgress(stderr)
	var (
		read     *sums
		srcLog   *logCopy
		imported bool
	)
	err = readSnapshot(ctx, src, func(ctx context.Context) error {
		var err error
		if srcLog, err = readLog(ctx, src); err != nil {
			return err
		}
		importIt, err := prepareDestination(ctx, dst, srcLog.sum, *force)
		if err != nil {
			return err
		}
		if importIt {
			if err := dst.ImportAudit(ctx, withProgress(srcLog.recs, p, srcLog.sum.Records), srcLog.cps); err != nil {
				return fmt.Errorf("audit log: %w", err)
			}
			imported = true
		}
		read, err = copyStore(ctx, src, dst, *force, p)
		return err
	})
	if err != nil {
		return copyFailed("copy", err, imported)
	}
	return verifyCopy(ctx, stdout, dst, read, srcLog.sum, fmt.Sprintf("migrated %s → %s", srcDesc, dstDesc))
}

// errDestNotEmpty is returned when a copy's destination holds data and
// --force was not given.
var errDestNotEmpty = errors.New("the destination store is not empty")

func notEmpty(err error) bool {
	return errors.Is(err, errDestNotEmpty) || errors.Is(err, sqlite.ErrNotEmpty) || errors.Is(err, postgres.ErrNotEmpty)
}

// prepareDestination checks, before anything is written, that dst can take
// a copy: no data unless replace, and an audit log that is empty or
// already the source's (planLog). It reports whether the log must be
// imported.
func prepareDestination(ctx context.Context, dst storage, srcLog auditSummary, replace bool) (importLog bool, err error) {
	if !replace {
		if table, err := firstNonEmpty(ctx, dst); err != nil {
			return false, err
		} else if table != "" {
			return false, fmt.Errorf("%w (table %s has rows)", errDestNotEmpty, table)
		}
	}
	dstLog, err := storeLog(ctx, dst)
	if err != nil {
		return false, err
	}
	return planLog(srcLog, dstLog)
}

// firstNonEmpty names the first table of db's snapshot that has rows ("" if
// none).
func firstNonEmpty(ctx context.Context, db snapshotter) (string, error) {
	found := errors.New("found")
	var table string
	err := db.Snapshot(ctx, func(name string, _ []string, rows int64) error {
		if rows > 0 {
			table = name
			return found
		}
		return nil
	}, func([]any) error { return nil })
	if err != nil && err != found {
		return "", err
	}
	return table, nil
}

// copyFailed words a failed copy's error: what the destination holds now.
func copyFailed(what string, err error, imported bool) error {
	switch {
	case notEmpty(err):
		return fmt.Errorf("%w; nothing was copied (give --force to replace its contents)", err)
	case errors.Is(err, errOtherLog):
		return fmt.Errorf("%w; nothing was copied", err)
	case imported:
		return fmt.Errorf("%s: %w (the destination holds the audit log now but none of the data: run the same command again, it will not import the log twice)", what, err)
	}
	return fmt.Errorf("%s: %w (the destination is unchanged)", what, err)
}

// verifyCopy compares what the destination holds with what was read —
// tables and audit log — and prints the table of both.
func verifyCopy(ctx context.Context, stdout io.Writer, dst storage, read *sums, log auditSummary, done string) error {
	held, err := checksums(ctx, dst)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	heldLog, err := storeLog(ctx, dst)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	errTables := compareSums(stdout, read, held)
	errLog := compareLog(stdout, log, heldLog)
	if err := errors.Join(errTables, errLog); err != nil {
		return err
	}
	fmt.Fprintln(stdout, done)
	return nil
}

// copyStore copies src's snapshot into dst in one transaction and returns
// the sums of what it read.
func copyStore(ctx context.Context, src, dst snapshotter, replace bool, p *progress) (*sums, error) {
	read := &sums{}
	err := dst.Load(ctx, replace, func(put func(string, []string, []any) error) error {
		var (
			table string
			cols  []string
			cur   *tableSum
		)
		err := src.Snapshot(ctx, func(name string, c []string, n int64) error {
			table, cols = name, c
			cur = read.start(name)
			p.start(name, n)
			return nil
		}, func(vals []any) error {
			if err := cur.add(vals); err != nil {
				return err
			}
			p.row()
			return put(table, cols, vals)
		})
		p.finish()
		return err
	})
	return read, err
}

// --- coffer backup / restore ---

// The backup file is JSON lines: a header; the audit log — a line with
// its summary (records, head hash and root, checkpoints), one line per
// checkpoint (size, root hex, note base64, created) and one line per
// record in the JSON Lines form of `--audit-file` (seq, prev, hash and the
// event verbatim); then per table a line naming it with its columns and
// column types followed by one JSON array per row (text as strings,
// integers as numbers, bytes as standard base64); then a trailer with
// every table's row count and checksum. Version 1 files (before the audit
// log was copied) have no audit section.
const (
	snapshotFormat  = "coffer-snapshot"
	snapshotVersion = 2
)

type fileHeader struct {
	Format  string    `json:"format"`
	Version int       `json:"version"`
	Created time.Time `json:"created"`
	Source  string    `json:"source"` // "sqlite" or "postgres"
}

// fileLog starts the audit section.
type fileLog struct {
	Audit bool `json:"audit"`
	auditSummary
}

type fileCheckpoint struct {
	Size    uint64    `json:"size"`
	Root    string    `json:"root"` // hex
	Note    []byte    `json:"note"`
	Created time.Time `json:"created"`
}

type fileTable struct {
	Table   string   `json:"table"`
	Columns []string `json:"columns"`
	Types   string   `json:"types"` // per column: t text, i integer, b bytes ("" when the table has no rows)
	Rows    int64    `json:"rows"`
}

type fileTrailer struct {
	End    bool        `json:"end"`
	Tables []*tableSum `json:"tables"`
}

func storeFlags(fs *flag.FlagSet) (dataDir, store *string, timeout *time.Duration) {
	dataDir = fs.String("data-dir", envOr("COFFER_DATA_DIR", "./coffer-data"), "data directory of the SQLite store (also COFFER_DATA_DIR)")
	store = fs.String("storage", envOr("COFFER_STORAGE", ""), "the store: sqlite://<data-dir or file.db> or postgres://… (default: SQLite in the data dir; also COFFER_STORAGE)")
	timeout = fs.Duration("storage-timeout", time.Minute, "PostgreSQL connect and lock timeout")
	return
}

func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("coffer backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir, store, timeout := storeFlags(fs)
	out := fs.String("out", "", `file to write ("-" for standard output)`)
	force := fs.Bool("force", false, "overwrite an existing file")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: coffer backup --out FILE [--storage <store> | --data-dir DIR]")
		fmt.Fprintln(stderr, "Writes a consistent snapshot of the store (one read transaction) with its audit log, still")
		fmt.Fprintln(stderr, "encrypted: the file holds only what the database holds. A SQLite store must not be in use")
		fmt.Fprintln(stderr, "by a server. A store whose audit log does not verify is not backed up.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	if *out == "" || fs.NArg() > 0 {
		fs.Usage()
		return errUsage
	}
	spec, err := parseStorage(*store, *dataDir)
	if err != nil {
		return err
	}
	if *out != "-" && !*force {
		if _, err := os.Stat(*out); err == nil {
			return fmt.Errorf("%s exists (give --force to overwrite it)", *out)
		}
	}
	db, desc, err := openExisting(ctx, spec, *timeout, newLogger(stderr, "warn", "text"))
	if err != nil {
		return err
	}
	defer db.Close()
	fmt.Fprintf(stderr, "backing up %s\n", desc)
	var (
		w      io.Writer = stdout
		tmp    *os.File
		commit = func() error { return nil }
	)
	if *out != "-" {
		tmp, err = os.CreateTemp(filepath.Dir(*out), "."+filepath.Base(*out)+".tmp*")
		if err != nil {
			return err
		}
		defer os.Remove(tmp.Name())
		defer tmp.Close()
		if err := tmp.Chmod(0o600); err != nil {
			return err
		}
		w = tmp
		commit = func() error {
			if err := tmp.Sync(); err != nil {
				return err
			}
			if err := tmp.Close(); err != nil {
				return err
			}
			return os.Rename(tmp.Name(), *out)
		}
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	read, log, err := writeBackup(ctx, db, spec.kind, bw, newProgress(stderr))
	if err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := commit(); err != nil {
		return err
	}
	var rows int64
	for _, s := range read.list {
		rows += s.Rows
	}
	fmt.Fprintf(stderr, "wrote %d rows in %d tables, %d audit records and %d audit checkpoints to %s\n", rows, len(read.list), log.Records, log.Checkpoints, *out)
	return nil
}

// backupSource is what a backup reads.
type backupSource interface {
	snapshotter
	auditLogReader
}

// writeBackup writes a backup of db (its audit log, then its tables, from
// one read snapshot) to w and returns the sums of what it read.
func writeBackup(ctx context.Context, db backupSource, source string, w io.Writer, p *progress) (*sums, auditSummary, error) {
	enc := json.NewEncoder(w)
	if err := enc.Encode(fileHeader{Format: snapshotFormat, Version: snapshotVersion, Created: time.Now().UTC(), Source: source}); err != nil {
		return nil, auditSummary{}, err
	}
	var (
		read *sums
		log  auditSummary
	)
	err := readSnapshot(ctx, db, func(ctx context.Context) error {
		l, err := readLog(ctx, db)
		if err != nil {
			return err
		}
		log = l.sum
		if err := writeLog(enc, w, l, p); err != nil {
			return err
		}
		read, err = writeTables(ctx, db, enc, p)
		return err
	})
	if err != nil {
		return nil, auditSummary{}, err
	}
	return read, log, enc.Encode(fileTrailer{End: true, Tables: read.list})
}

// writeLog writes the audit section.
func writeLog(enc *json.Encoder, w io.Writer, l *logCopy, p *progress) error {
	if err := enc.Encode(fileLog{Audit: true, auditSummary: l.sum}); err != nil {
		return err
	}
	for _, c := range l.cps {
		if err := enc.Encode(fileCheckpoint{Size: c.Size, Root: hex.EncodeToString(c.Root[:]), Note: c.Note, Created: c.Created.UTC()}); err != nil {
			return err
		}
	}
	var line []byte
	for r, err := range withProgress(l.recs, p, l.sum.Records) {
		if err != nil {
			return err
		}
		if line, err = audit.AppendRecordLine(line[:0], &r); err != nil {
			return err
		}
		if _, err := w.Write(line); err != nil {
			return err
		}
	}
	return nil
}

// writeTables writes the table sections.
func writeTables(ctx context.Context, db snapshotter, enc *json.Encoder, p *progress) (*sums, error) {
	read := &sums{}
	var (
		pending *fileTable // written before its first row, when its types are known
		cur     *tableSum
	)
	flushHeader := func(vals []any) error {
		if pending == nil {
			return nil
		}
		if vals != nil {
			var b strings.Builder
			for _, v := range vals {
				switch v.(type) {
				case string:
					b.WriteByte('t')
				case int64:
					b.WriteByte('i')
				default:
					b.WriteByte('b')
				}
			}
			pending.Types = b.String()
		}
		err := enc.Encode(pending)
		pending = nil
		return err
	}
	err := db.Snapshot(ctx, func(name string, cols []string, n int64) error {
		if err := flushHeader(nil); err != nil {
			return err
		}
		pending = &fileTable{Table: name, Columns: cols, Rows: n}
		cur = read.start(name)
		p.start(name, n)
		return nil
	}, func(vals []any) error {
		if err := flushHeader(vals); err != nil {
			return err
		}
		if err := cur.add(vals); err != nil {
			return err
		}
		p.row()
		return enc.Encode(vals) // []byte encodes as standard base64
	})
	p.finish()
	if err != nil {
		return nil, err
	}
	return read, flushHeader(nil)
}

func runRestore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("coffer restore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir, store, timeout := storeFlags(fs)
	in := fs.String("in", "", `backup file to load ("-" for standard input)`)
	force := fs.Bool("force", false, "replace everything the store holds (but never an audit log: see below)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: coffer restore --in FILE [--storage <store> | --data-dir DIR] [--force]")
		fmt.Fprintln(stderr, "Loads a backup into an empty store (or, with --force, replaces its contents), after")
		fmt.Fprintln(stderr, "checking the whole file: counts, checksums, the audit hash chain and checkpoints. The")
		fmt.Fprintln(stderr, "store's audit log must be empty (or already be the backup's, when a restore is run")
		fmt.Fprintln(stderr, "again): audit logs are never deleted. From standard input the file is checked while it")
		fmt.Fprintln(stderr, "loads, so a damaged one can leave the audit log loaded without the data.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	if *in == "" || fs.NArg() > 0 {
		fs.Usage()
		return errUsage
	}
	spec, err := parseStorage(*store, *dataDir)
	if err != nil {
		return err
	}
	var r io.Reader = os.Stdin
	if *in != "-" {
		// Check the whole file before anything is written.
		f, err := os.Open(*in)
		if err != nil {
			return err
		}
		_, err = readBackup(bufio.NewReaderSize(f, 1<<20), func(string, []string, []any) error { return nil }, newProgress(io.Discard))
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w (nothing was restored)", *in, err)
		}
		if f, err = os.Open(*in); err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	if spec.kind == "sqlite" {
		if err := os.MkdirAll(filepath.Dir(spec.path), 0o700); err != nil {
			return err
		}
	}
	db, desc, err := openStorage(ctx, spec, *timeout, newLogger(stderr, "warn", "text"))
	if err != nil {
		return err
	}
	defer db.Close()
	fmt.Fprintf(stderr, "restoring %s into %s\n", *in, desc)
	p := newProgress(stderr)
	b, err := openBackup(bufio.NewReaderSize(r, 1<<20))
	if err != nil {
		return err
	}
	importLog, err := prepareDestination(ctx, db, b.log, *force)
	if err != nil {
		return copyFailed("restore", err, false)
	}
	imported := false
	if importLog {
		if err := db.ImportAudit(ctx, withProgress(b.records(), p, b.log.Records), b.cps); err != nil {
			return copyFailed("restore", fmt.Errorf("audit log: %w", err), false)
		}
		imported = true
	} else {
		for _, err := range b.records() { // already there: read past it
			if err != nil {
				return copyFailed("restore", err, false)
			}
		}
	}
	var trailer *fileTrailer
	err = db.Load(ctx, *force, func(put func(string, []string, []any) error) error {
		var err error
		trailer, err = b.tables(put, p)
		return err
	})
	if err != nil {
		return copyFailed("restore", err, imported)
	}
	return verifyCopy(ctx, stdout, db, &sums{list: trailer.Tables}, b.log, fmt.Sprintf("restored %s into %s", *in, desc))
}

// backupReader reads a backup file in order: openBackup reads the header
// and the audit log's summary and checkpoints, records its records, tables
// the rest.
type backupReader struct {
	dec *json.Decoder
	hdr fileHeader
	log auditSummary
	cps []audit.StoredCheckpoint
}

func openBackup(r io.Reader) (*backupReader, error) {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	b := &backupReader{dec: dec}
	if err := dec.Decode(&b.hdr); err != nil || b.hdr.Format != snapshotFormat {
		return nil, errors.New("not a Coffer backup file")
	}
	switch b.hdr.Version {
	case 1: // no audit log
		b.log = summarize(audit.ChainState{}, nil)
		return b, nil
	case snapshotVersion:
	default:
		return nil, fmt.Errorf("backup format version %d is not supported by this Coffer", b.hdr.Version)
	}
	var l fileLog
	if err := dec.Decode(&l); err != nil || !l.Audit {
		return nil, errors.New("backup file: expected the audit log's summary after the header")
	}
	b.log = l.auditSummary
	for i := 0; i < l.Checkpoints; i++ {
		var c fileCheckpoint
		if err := dec.Decode(&c); err != nil {
			return nil, fmt.Errorf("backup file: audit checkpoint %d: %w", i+1, err)
		}
		root, err := hex.DecodeString(c.Root)
		if err != nil || len(root) != 32 {
			return nil, fmt.Errorf("backup file: audit checkpoint %d: bad root", i+1)
		}
		b.cps = append(b.cps, audit.StoredCheckpoint{Size: c.Size, Root: [32]byte(root), Note: c.Note, Created: c.Created})
	}
	if got := summarize(audit.ChainState{}, b.cps); got.CheckpointSum != l.CheckpointSum {
		return nil, errors.New("backup file: the audit checkpoints do not match their checksum (damaged file?)")
	}
	return b, nil
}

// records reads the audit log's records, checking them against the
// summary; it must be read to the end before tables.
func (b *backupReader) records() iter.Seq2[audit.Record, error] {
	n := b.log.Records
	if b.hdr.Version < snapshotVersion {
		n = 0
	}
	raw := func(yield func(audit.Record, error) bool) {
		for i := uint64(1); i <= n; i++ {
			var line json.RawMessage
			if err := b.dec.Decode(&line); err != nil {
				yield(audit.Record{}, fmt.Errorf("backup file: audit record %d: %w", i, err))
				return
			}
			r, err := audit.ParseRecordLine(line)
			if err != nil {
				yield(audit.Record{}, fmt.Errorf("backup file: audit record %d: %w", i, err))
				return
			}
			if !yield(r, nil) {
				return
			}
		}
	}
	return checkedRecords(raw, b.log, "the backup's")
}

// readBackup reads and checks a whole backup file: the audit log (every
// record, the head, every checkpoint against the records) and the tables,
// which go to put, against the trailer (so that a truncated or altered
// file loads nothing).
func readBackup(r io.Reader, put func(string, []string, []any) error, p *progress) (*fileTrailer, error) {
	b, err := openBackup(r)
	if err != nil {
		return nil, err
	}
	if _, err := audit.CheckImport(b.records(), b.cps, func(*audit.Record) error { return nil }); err != nil {
		return nil, fmt.Errorf("backup file: audit log: %w", err)
	}
	return b.tables(put, p)
}

// tables streams the table sections into put and checks them against the
// trailer.
func (b *backupReader) tables(put func(string, []string, []any) error, p *progress) (*fileTrailer, error) {
	dec := b.dec
	read := &sums{}
	for {
		var line struct {
			fileTable
			End    bool        `json:"end"`
			Tables []*tableSum `json:"tables"`
		}
		if err := dec.Decode(&line); err != nil {
			if err == io.EOF {
				return nil, fmt.Errorf("backup file: %w (truncated?)", io.ErrUnexpectedEOF)
			}
			var se *json.SyntaxError
			if errors.As(err, &se) {
				return nil, fmt.Errorf("backup file: %w", err)
			}
			return nil, errors.New("backup file: expected a table line or the trailer (more rows than the table line announced?)")
		}
		if line.End {
			p.finish()
			tr := &fileTrailer{End: true, Tables: line.Tables}
			return tr, compareQuiet(&sums{list: tr.Tables}, read)
		}
		t := line.fileTable
		if t.Table == "" {
			return nil, errors.New("backup file: expected a table line")
		}
		if t.Rows > 0 && len(t.Types) != len(t.Columns) {
			return nil, fmt.Errorf("backup file: table %s: %d types for %d columns", t.Table, len(t.Types), len(t.Columns))
		}
		cur := read.start(t.Table)
		p.start(t.Table, t.Rows)
		for i := int64(0); i < t.Rows; i++ {
			var row []any
			if err := dec.Decode(&row); err != nil {
				return nil, fmt.Errorf("backup file: table %s row %d: %w", t.Table, i+1, err)
			}
			vals, err := typed(row, t.Types)
			if err != nil {
				return nil, fmt.Errorf("backup file: table %s row %d: %w", t.Table, i+1, err)
			}
			if err := cur.add(vals); err != nil {
				return nil, err
			}
			if err := put(t.Table, t.Columns, vals); err != nil {
				return nil, err
			}
			p.row()
		}
	}
}

// typed converts a decoded JSON row to the column types.
func typed(row []any, types string) ([]any, error) {
	if len(row) != len(types) {
		return nil, fmt.Errorf("%d values for %d columns", len(row), len(types))
	}
	out := make([]any, len(row))
	for i, v := range row {
		switch types[i] {
		case 't':
			s, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("column %d: want text", i+1)
			}
			out[i] = s
		case 'i':
			n, ok := v.(json.Number)
			if !ok {
				return nil, fmt.Errorf("column %d: want an integer", i+1)
			}
			x, err := n.Int64()
			if err != nil {
				return nil, fmt.Errorf("column %d: %w", i+1, err)
			}
			out[i] = x
		case 'b':
			s, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("column %d: want base64", i+1)
			}
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return nil, fmt.Errorf("column %d: %w", i+1, err)
			}
			out[i] = b
		default:
			return nil, fmt.Errorf("unknown column type %q", types[i])
		}
	}
	return out, nil
}

// compareQuiet checks a file's trailer against what was read from it.
func compareQuiet(want, got *sums) error {
	if len(want.list) != len(got.list) {
		return fmt.Errorf("backup file: the trailer lists %d tables, the file holds %d", len(want.list), len(got.list))
	}
	for i, w := range want.list {
		g := got.list[i]
		if w.Table != g.Table || w.Rows != g.Rows || w.Sum != g.Sum {
			return fmt.Errorf("backup file: table %s does not match its checksum (damaged file?)", w.Table)
		}
	}
	return nil
}
