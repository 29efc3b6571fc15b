package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
)

// queryDocs runs a query whose single column is a JSON document and decodes
// each row into a new T, in row order.
func queryDocs[T any](ctx context.Context, db *DB, query string, args ...any) ([]*T, error) {
	rows, err := db.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*T
	for rows.Next() {
		var doc []byte
		if err := rows.Scan(&doc); err != nil {
			return nil, err
		}
		v := new(T)
		if err := json.Unmarshal(doc, v); err != nil {
			return nil, fmt.Errorf("sqlite: corrupt %T document: %w", v, err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
