package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/coffer-dev/coffer/internal/postgres"
	"github.com/coffer-dev/coffer/internal/sqlite"
)

// Offline copies of a store: `coffer migrate` (store to store), `coffer
// backup` (store to file) and `coffer restore` (file to store). Rows move
// exactly as stored — sealed payloads, wrapped key material, JSON
// documents — so nothing is decrypted and no root key is needed; the
// destination needs the source's root key to be served. Every copy is
// verified: per-table row counts and checksums of what was read must equal
// those of what the destination holds afterwards.

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

func notEmpty(err error) bool {
	return errors.Is(err, sqlite.ErrNotEmpty) || errors.Is(err, postgres.ErrNotEmpty)
}

// --- coffer migrate ---

func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("coffer migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "source store: sqlite://<data-dir or file.db> or postgres://…")
	to := fs.String("to", "", "destination store: sqlite://<data-dir or file.db> or postgres://…")
	force := fs.Bool("force", false, "replace everything the destination holds")
	timeout := fs.Duration("storage-timeout", time.Minute, "PostgreSQL connect and lock timeout")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: coffer migrate --from <store> --to <store> [--force]")
		fmt.Fprintln(stderr, "Copies every record, still encrypted, and verifies counts and checksums. Stop the")
		fmt.Fprintln(stderr, "Coffer servers using either store first. The destination needs the source's root key.")
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
	read, err := copyStore(ctx, src, dst, *force, newProgress(stderr))
	if notEmpty(err) {
		return fmt.Errorf("%w; nothing was copied (give --force to replace its contents)", err)
	}
	if err != nil {
		return fmt.Errorf("copy: %w (the destination is unchanged)", err)
	}
	held, err := checksums(ctx, dst)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	if err := compareSums(stdout, read, held); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "migrated %s → %s\n", srcDesc, dstDesc)
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

// The backup file is JSON lines: a header, then per table a line naming it
// with its columns and column types followed by one JSON array per row
// (text as strings, integers as numbers, bytes as standard base64), then a
// trailer with every table's row count and checksum.
const snapshotFormat = "coffer-snapshot"

type fileHeader struct {
	Format  string    `json:"format"`
	Version int       `json:"version"`
	Created time.Time `json:"created"`
	Source  string    `json:"source"` // "sqlite" or "postgres"
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
		fmt.Fprintln(stderr, "Writes a consistent snapshot of the store (one read transaction), still encrypted: the file")
		fmt.Fprintln(stderr, "holds only what the database holds. A SQLite store must not be in use by a server.")
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
	read, err := writeBackup(ctx, db, spec.kind, bw, newProgress(stderr))
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
	fmt.Fprintf(stderr, "wrote %d rows in %d tables to %s\n", rows, len(read.list), *out)
	return nil
}

func writeBackup(ctx context.Context, db snapshotter, source string, w io.Writer, p *progress) (*sums, error) {
	enc := json.NewEncoder(w)
	if err := enc.Encode(fileHeader{Format: snapshotFormat, Version: 1, Created: time.Now().UTC(), Source: source}); err != nil {
		return nil, err
	}
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
	if err := flushHeader(nil); err != nil {
		return nil, err
	}
	return read, enc.Encode(fileTrailer{End: true, Tables: read.list})
}

func runRestore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("coffer restore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir, store, timeout := storeFlags(fs)
	in := fs.String("in", "", `backup file to load ("-" for standard input)`)
	force := fs.Bool("force", false, "replace everything the store holds")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: coffer restore --in FILE [--storage <store> | --data-dir DIR] [--force]")
		fmt.Fprintln(stderr, "Loads a backup into an empty store (or, with --force, replaces its contents) in one")
		fmt.Fprintln(stderr, "transaction, after checking the file's counts and checksums.")
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
		f, err := os.Open(*in)
		if err != nil {
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
	var trailer *fileTrailer
	err = db.Load(ctx, *force, func(put func(string, []string, []any) error) error {
		var err error
		trailer, err = readBackup(bufio.NewReaderSize(r, 1<<20), put, newProgress(stderr))
		return err
	})
	if notEmpty(err) {
		return fmt.Errorf("%w; nothing was restored (give --force to replace its contents)", err)
	}
	if err != nil {
		return fmt.Errorf("restore: %w (the store is unchanged)", err)
	}
	held, err := checksums(ctx, db)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	if err := compareSums(stdout, &sums{list: trailer.Tables}, held); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restored %s into %s\n", *in, desc)
	return nil
}

// readBackup streams a backup file into put and checks it against its
// trailer (so that a truncated or altered file loads nothing).
func readBackup(r io.Reader, put func(string, []string, []any) error, p *progress) (*fileTrailer, error) {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	var h fileHeader
	if err := dec.Decode(&h); err != nil || h.Format != snapshotFormat {
		return nil, errors.New("not a Coffer backup file")
	}
	if h.Version != 1 {
		return nil, fmt.Errorf("backup format version %d is not supported by this Coffer", h.Version)
	}
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
