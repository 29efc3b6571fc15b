package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/coffer-dev/coffer/internal/txn"
)

// A snapshot is every row of every table of txn.SnapshotTables, exactly as
// stored; internal/postgres reads and loads the same tables, and `coffer
// migrate`, `backup` and `restore` move rows between the two.
type snapshotTable = txn.SnapshotTable

var snapshotTables = txn.SnapshotTables

// ErrNotEmpty is returned by Load when the store already holds data and
// replace was not asked for.
var ErrNotEmpty = errors.New("the destination store is not empty")

// Snapshot reads every table in one read transaction (a consistent
// snapshot): for each table it calls table with its columns and row count,
// then row for each row (values string, int64 or []byte, in column order),
// in primary-key order.
func (db *DB) Snapshot(ctx context.Context, table func(name string, cols []string, rows int64) error, row func(vals []any) error) (err error) {
	conn, err := db.read.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN DEFERRED"); err != nil {
		return err
	}
	defer func() {
		if _, cerr := conn.ExecContext(context.WithoutCancel(ctx), "COMMIT"); err == nil {
			err = cerr
		}
	}()
	for _, t := range snapshotTables {
		var n int64
		if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM "+t.Name).Scan(&n); err != nil {
			return fmt.Errorf("%s: %w", t.Name, err)
		}
		if err := table(t.Name, t.Cols, n); err != nil {
			return err
		}
		if err := snapshotRows(ctx, conn, t, row); err != nil {
			return err
		}
	}
	return nil
}

func snapshotRows(ctx context.Context, conn *sql.Conn, t snapshotTable, row func(vals []any) error) error {
	rows, err := conn.QueryContext(ctx, "SELECT "+strings.Join(t.Cols, ", ")+" FROM "+t.Name+" ORDER BY "+t.Order)
	if err != nil {
		return fmt.Errorf("%s: %w", t.Name, err)
	}
	defer rows.Close()
	for rows.Next() {
		ptrs := make([]any, len(t.Cols))
		for i, ty := range t.Types {
			switch ty {
			case 't':
				ptrs[i] = new(string)
			case 'i':
				ptrs[i] = new(int64)
			default:
				ptrs[i] = new([]byte)
			}
		}
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("%s: %w", t.Name, err)
		}
		vals := make([]any, len(ptrs))
		for i, p := range ptrs {
			switch p := p.(type) {
			case *string:
				vals[i] = *p
			case *int64:
				vals[i] = *p
			case *[]byte:
				if *p == nil {
					*p = []byte{}
				}
				vals[i] = *p
			}
		}
		if err := row(vals); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Load writes rows into the store in one transaction (through the
// committer). Unless replace is set it fails with ErrNotEmpty (before
// calling src) when any table holds a row; with replace it deletes every
// row first. src calls put for each row: its table, columns (any subset of
// the table's, in any order) and values (string, int64 or []byte). The
// read caches are emptied afterwards.
func (db *DB) Load(ctx context.Context, replace bool, src func(put func(table string, cols []string, vals []any) error) error) error {
	known := make(map[string]snapshotTable)
	for _, t := range snapshotTables {
		known[t.Name] = t
	}
	if !replace {
		// Checked again inside the transaction; this answers the common
		// case without a failed commit.
		for _, t := range snapshotTables {
			var n int
			if err := db.read.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM "+t.Name+")").Scan(&n); err != nil {
				return err
			}
			if n != 0 {
				return fmt.Errorf("%w (table %s has rows)", ErrNotEmpty, t.Name)
			}
		}
	}
	ran := false
	u := db.newUnit()
	defer u.Rollback()
	u.ops = append(u.ops, op{fn: func(tx *sql.Tx) error {
		if ran {
			return errors.New("sqlite: a load cannot be retried")
		}
		ran = true
		for i := len(snapshotTables) - 1; i >= 0; i-- {
			t := snapshotTables[i]
			if replace {
				if _, err := tx.ExecContext(ctx, "DELETE FROM "+t.Name); err != nil {
					return err
				}
				continue
			}
			var n int
			if err := tx.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM "+t.Name+")").Scan(&n); err != nil {
				return err
			}
			if n != 0 {
				return fmt.Errorf("%w (table %s has rows)", ErrNotEmpty, t.Name)
			}
		}
		stmts := make(map[string]*sql.Stmt)
		defer func() {
			for _, s := range stmts {
				s.Close()
			}
		}()
		return src(func(table string, cols []string, vals []any) error {
			t, ok := known[table]
			if !ok {
				return fmt.Errorf("unknown table %q", table)
			}
			if len(cols) != len(vals) {
				return fmt.Errorf("%s: %d columns, %d values", table, len(cols), len(vals))
			}
			key := table + "\x00" + strings.Join(cols, ",")
			stmt := stmts[key]
			if stmt == nil {
				for _, c := range cols {
					if !slices.Contains(t.Cols, c) {
						return fmt.Errorf("%s: unknown column %q", table, c)
					}
				}
				q := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES (?" + strings.Repeat(", ?", len(cols)-1) + ")"
				var err error
				if stmt, err = tx.PrepareContext(ctx, q); err != nil {
					return err
				}
				stmts[key] = stmt
			}
			_, err := stmt.ExecContext(ctx, vals...)
			return err
		})
	}})
	u.after = append(u.after, db.resetCaches)
	return u.Commit()
}

// resetCaches forgets everything the read caches hold.
func (db *DB) resetCaches() {
	c := &db.secrets
	c.mu.Lock()
	clear(c.byName)
	clear(c.byARN)
	clear(c.payloads)
	for i := range c.epochs {
		c.epochs[i]++
	}
	c.mu.Unlock()
	k := &db.kms
	k.mu.Lock()
	clear(k.keys)
	clear(k.aliases)
	k.epoch++
	k.mu.Unlock()
	id := &db.ident
	id.mu.Lock()
	clear(id.keys)
	id.epoch++
	id.mu.Unlock()
}
