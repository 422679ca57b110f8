package migrate

import (
	"context"
	"fmt"

	"github.com/overstap/overstap/adapters/state"
)

// queryAll runs query on the state database (state.QueryAll) and returns
// one T a row, made by scan; a failure comes back as ErrState with what
// for context.
func queryAll[T any](ctx context.Context, m *DB, what, query string, args []any, scan func(state.Scanner) (T, error)) ([]T, error) {
	out, err := state.QueryAll(ctx, m.db, m.q(query), args, scan)
	if err != nil {
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
