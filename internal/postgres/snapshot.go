package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/coffer-dev/coffer/internal/txn"
)

// A snapshot is every row of every table of txn.SnapshotTables, exactly as
// stored; internal/sqlite reads and loads the same tables, and `coffer
// migrate`, `backup` and `restore` move rows between the two.
type snapshotTable = txn.SnapshotTable

type snapshotList []snapshotTable

var snapshotTables = snapshotList(txn.SnapshotTables)

// ErrNotEmpty is returned by Load when the store already holds data and
// replace was not asked for.
var ErrNotEmpty = errors.New("the destination store is not empty")

// Snapshot reads every table in one REPEATABLE READ, read-only
// transaction (a consistent snapshot while nodes keep writing): for each
// table it calls table with its columns and row count, then row for each
// row (values string, int64 or []byte, in column order), in primary-key
// order.
//
// Within ReadSnapshot it reads that snapshot (so that the audit log copied
// with it agrees with the rows).
func (db *DB) Snapshot(ctx context.Context, table func(name string, cols []string, rows int64) error, row func(vals []any) error) error {
	return db.ReadSnapshot(ctx, func(ctx context.Context) error {
		return snapshotTables.read(ctx, db.snapshotTx(ctx), table, row)
	})
}

func (ts snapshotList) read(ctx context.Context, tx pgx.Tx, table func(name string, cols []string, rows int64) error, row func(vals []any) error) error {
	for _, t := range ts {
		var n int64
		if err := tx.QueryRow(ctx, "SELECT count(*) FROM "+t.Name).Scan(&n); err != nil {
			return fmt.Errorf("%s: %w", t.Name, err)
		}
		if err := table(t.Name, t.Cols, n); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, "SELECT "+strings.Join(t.Cols, ", ")+" FROM "+t.Name+" ORDER BY "+t.Order)
		if err != nil {
			return fmt.Errorf("%s: %w", t.Name, err)
		}
		for rows.Next() {
			vals := make([]any, len(t.Cols))
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
				rows.Close()
				return fmt.Errorf("%s: %w", t.Name, err)
			}
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
				rows.Close()
				return err
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("%s: %w", t.Name, err)
		}
	}
	return nil
}

// Load writes rows into the store in one transaction that locks every
// table. Unless replace is set it fails with ErrNotEmpty (before calling
// src) when any table holds a row; with replace it deletes every row
// first. src calls put for each row: its table, columns (any subset of
// the table's, in any order) and values (string, int64 or []byte).
func (db *DB) Load(ctx context.Context, replace bool, src func(put func(table string, cols []string, vals []any) error) error) error {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	names := make([]string, len(snapshotTables))
	known := make(map[string]snapshotTable)
	for i, t := range snapshotTables {
		names[i] = t.Name
		known[t.Name] = t
	}
	// Wait for running requests as long as ctx allows; the source may
	// pause between rows.
	if _, err := tx.Exec(ctx, "SET LOCAL lock_timeout = 0; SET LOCAL idle_in_transaction_session_timeout = 0"); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "LOCK TABLE "+strings.Join(names, ", ")+" IN ACCESS EXCLUSIVE MODE"); err != nil {
		return err
	}
	if replace {
		if _, err := tx.Exec(ctx, "TRUNCATE "+strings.Join(names, ", ")); err != nil {
			return err
		}
	} else {
		for _, t := range snapshotTables {
			var any bool
			if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM "+t.Name+")").Scan(&any); err != nil {
				return err
			}
			if any {
				return fmt.Errorf("%w (table %s has rows)", ErrNotEmpty, t.Name)
			}
		}
	}
	const batchRows = 256
	batch := &pgx.Batch{}
	flush := func() error {
		if batch.Len() == 0 {
			return nil
		}
		err := tx.SendBatch(ctx, batch).Close()
		batch = &pgx.Batch{}
		return err
	}
	stmts := make(map[string]string)
	put := func(table string, cols []string, vals []any) error {
		t, ok := known[table]
		if !ok {
			return fmt.Errorf("unknown table %q", table)
		}
		if len(cols) != len(vals) {
			return fmt.Errorf("%s: %d columns, %d values", table, len(cols), len(vals))
		}
		key := table + "\x00" + strings.Join(cols, ",")
		stmt, ok := stmts[key]
		if !ok {
			ph := make([]string, len(cols))
			for i, c := range cols {
				if !slices.Contains(t.Cols, c) {
					return fmt.Errorf("%s: unknown column %q", table, c)
				}
				ph[i] = fmt.Sprintf("$%d", i+1)
			}
			stmt = "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES (" + strings.Join(ph, ", ") + ")"
			stmts[key] = stmt
		}
		batch.Queue(stmt, vals...)
		if batch.Len() >= batchRows {
			return flush()
		}
		return nil
	}
	if err := src(put); err != nil {
		return err
	}
	if err := flush(); err != nil {
		return err
	}
	return tx.Commit(ctx)
}
