package migrate

import (
	"context"
	"database/sql"
	"fmt"
)

// queryAll runs query on the state database and returns one T a row, each
// filled by scan. A failed query, scan or read comes back as ErrState with
// what for context.
func queryAll[T any](ctx context.Context, m *DB, what, query string, args []any, scan func(*sql.Rows, *T) error) ([]T, error) {
	rows, err := m.db.QueryContext(ctx, m.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrState, what, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var v T
		if err := scan(rows, &v); err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrState, what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrState, what, err)
	}
	return out, nil
}

// inArgs returns the arguments of a statement whose last condition is
// "account_id IN (placeholders(len(ids)))": lead, then the ids.
func inArgs(ids []string, lead ...any) []any {
	args := make([]any, 0, len(lead)+len(ids))
	args = append(args, lead...)
	for _, id := range ids {
		args = append(args, id)
	}
	return args
}
