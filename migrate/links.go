package migrate

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/overstap/overstap/adapters/state"
)

// ErrNoLinksTable: the state database has no links table (no gateway
// has used it for first-login linking), so whether accounts are linked is
// unknown, and reported as such.
var ErrNoLinksTable = errors.New("migrate: the state database has no links table (auth/link); linked accounts are unknown")

// StateLinks reads the gateway's links table (auth/link, component "link"
// of the state database): an account counts as linked when a link record
// of the app points at it with status "linked" (a "revoking" record is a
// link still being made, not counted).
type StateLinks struct {
	db  *DB
	app string
}

var _ Links = (*StateLinks)(nil)

// NewStateLinks returns Links over the links table in db for the gateway
// app name app (the links table keys records by the gateway's app name,
// which need not be the store's name); ErrNoLinksTable when the table does
// not exist.
func NewStateLinks(ctx context.Context, db *DB, app string) (*StateLinks, error) {
	if app == "" {
		return nil, errors.New("migrate: links: no app name")
	}
	rows, err := db.db.QueryContext(ctx, `SELECT app, account_id, status FROM links WHERE 1 = 0`)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoLinksTable, err)
	}
	rows.Close()
	return &StateLinks{db: db, app: app}, nil
}

// Linked implements Links; storeName is not used (see NewStateLinks).
func (l *StateLinks) Linked(ctx context.Context, _ string, ids []string) (map[string]bool, error) {
	out := map[string]bool{}
	for chunk := range chunks(ids, 500) {
		linked, err := queryAll(ctx, l.db, "links", `SELECT account_id FROM links WHERE app = ? AND status = 'linked' AND account_id IN (`+placeholders(len(chunk))+`)`, inArgs(chunk, l.app),
			func(r state.Scanner) (id string, err error) { err = r.Scan(&id); return })
		if err != nil {
			return nil, err
		}
		for _, id := range linked {
			out[strings.Clone(id)] = true
		}
	}
	return out, nil
}
