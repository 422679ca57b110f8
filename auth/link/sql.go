package link

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"time"

	"github.com/overstap/overstap/adapters/state"
)

//go:embed migrations
var migrations embed.FS

// Migrations is the versioned schema of the links table, applied by
// state.Open as component "link".
func Migrations() state.Migrations {
	return state.Embedded("link", migrations, "migrations")
}

// SQLRecords keeps links in overstap's state database.
type SQLRecords struct {
	db       *sql.DB
	postgres bool
	now      func() time.Time
	// The statements in the database's placeholders, written once.
	get, insert, setStatus string
}

var _ Records = (*SQLRecords)(nil)

// NewSQLRecords returns Records in st, which must have been opened with
// Migrations().
func NewSQLRecords(st *state.Store) *SQLRecords {
	d := st.Dialect()
	return &SQLRecords{db: st.DB(), postgres: d == state.Postgres, now: time.Now,
		get: d.Rebind(`SELECT account_id, issuer, subject, status, created_at FROM links WHERE app = ? AND nrn_ref = ?`),
		insert: d.Rebind(`INSERT INTO links (app, nrn_ref, account_id, issuer, subject, status, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (app, nrn_ref) DO NOTHING`),
		setStatus: d.Rebind(`UPDATE links SET status = ?, updated_at = ? WHERE app = ? AND nrn_ref = ?`),
	}
}

func (s *SQLRecords) ts(t time.Time) any {
	if s.postgres {
		return t.UTC()
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// Get implements Records.
func (s *SQLRecords) Get(ctx context.Context, app, nrnRef string) (Record, error) {
	r := Record{App: app, NRNRef: nrnRef}
	var created any
	var tsText string
	var tsTime time.Time
	if s.postgres {
		created = &tsTime
	} else {
		created = &tsText
	}
	err := s.db.QueryRowContext(ctx, s.get, app, nrnRef).
		Scan(&r.AccountID, &r.Issuer, &r.Subject, &r.Status, created)
	if errors.Is(err, sql.ErrNoRows) {
		return Record{}, ErrNotFound
	}
	if err != nil {
		return Record{}, fmt.Errorf("link: reading link: %w", err)
	}
	if s.postgres {
		r.Created = tsTime
	} else {
		r.Created, _ = time.Parse(time.RFC3339Nano, tsText)
	}
	return r, nil
}

// Insert implements Records.
func (s *SQLRecords) Insert(ctx context.Context, r Record) error {
	now := s.ts(s.now())
	res, err := s.db.ExecContext(ctx, s.insert,
		r.App, r.NRNRef, r.AccountID, r.Issuer, r.Subject, r.Status, s.ts(r.Created), now)
	if err != nil {
		return fmt.Errorf("link: recording link: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("link: recording link: %w", err)
	} else if n == 0 {
		return ErrExists
	}
	return nil
}

// SetStatus implements Records.
func (s *SQLRecords) SetStatus(ctx context.Context, app, nrnRef, status string) error {
	res, err := s.db.ExecContext(ctx, s.setStatus,
		status, s.ts(s.now()), app, nrnRef)
	if err != nil {
		return fmt.Errorf("link: updating link: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}
