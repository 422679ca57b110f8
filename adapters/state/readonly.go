package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"time"
)

var (
	// ErrNoDatabase is returned by OpenReadOnly when the SQLite database
	// file does not exist: a read-only open never creates one.
	ErrNoDatabase = errors.New("state: no database at this path")
	// ErrNoAuditLog is returned by OpenReadOnly when the database holds no
	// overstap audit log (an empty or foreign database, or one overstap
	// never started on): there is nothing to verify.
	ErrNoAuditLog = errors.New("state: the database holds no overstap audit log")
	// ErrReadOnly is returned by writing methods of a store opened with
	// OpenReadOnly.
	ErrReadOnly = errors.New("state: store opened read-only")
)

// OpenReadOnly opens the database cfg names for reading only, as
// `overstap audit verify` needs: it runs no migration and writes nothing.
// A SQLite file is opened with mode=ro and never created (a missing file
// gives ErrNoDatabase); PostgreSQL sessions run with
// default_transaction_read_only. The database must hold this package's
// schema (component "state", with the audit tables), else ErrNoAuditLog; a
// schema newer than this binary knows gives *SchemaTooNewError. Append on
// the returned store fails with ErrReadOnly. A nil logger discards.
func OpenReadOnly(ctx context.Context, cfg Config, logger *slog.Logger) (*Store, error) {
	s, err := newStore(cfg, logger, true)
	if err != nil {
		return nil, err
	}
	switch s.dialect {
	case SQLite:
		err = s.openSQLiteReadOnly(ctx, cfg)
	case Postgres:
		err = s.openPostgresReadOnly(ctx, cfg)
	}
	if err != nil {
		return nil, err
	}
	if err := s.checkAuditSchema(ctx); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("state: %s: %w", s.where, err)
	}
	return s, nil
}

func (s *Store) openSQLiteReadOnly(ctx context.Context, cfg Config) error {
	path := cfg.Path
	if path == "" {
		path = "overstap.db"
	}
	s.where = "sqlite " + path
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%w: sqlite %s does not exist (check state.path; verify never creates it)", ErrNoDatabase, path)
	}
	if err != nil {
		return fmt.Errorf("%w: sqlite %s: %w", ErrUnreachable, path, err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%w: sqlite %s is not a regular file", ErrUnreachable, path)
	}
	busy := cfg.BusyTimeout
	if busy == 0 {
		busy = 5 * time.Second
	}
	// A "file:" URI so that SQLite itself applies mode=ro: the file is
	// opened read-only and never created. The driver still runs the
	// _pragma values; query_only refuses writes at the SQL level too.
	q := url.Values{}
	q.Set("mode", "ro")
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busy.Milliseconds()))
	q.Add("_pragma", "query_only(1)")
	return s.connectSQLite(ctx, "file:"+sqliteURIPath(path)+"?"+q.Encode())
}

// sqliteURIPath escapes a file path for a SQLite "file:" URI (RFC 3986
// percent-encoding of the characters SQLite decodes or splits on; Validate
// already refuses "?", "#" and NUL).
func sqliteURIPath(p string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(p)
}

func (s *Store) openPostgresReadOnly(ctx context.Context, cfg Config) error {
	pc, err := s.pgConfig(cfg)
	if err != nil {
		return err
	}
	if pc.RuntimeParams == nil {
		pc.RuntimeParams = map[string]string{}
	}
	pc.RuntimeParams["default_transaction_read_only"] = "on"
	return s.connectPostgres(ctx, pc, 2)
}

// checkAuditSchema checks, reading only, that the database holds this
// package's schema at a version this binary knows, with the audit tables.
func (s *Store) checkAuditSchema(ctx context.Context) error {
	files, err := Migrations{Component: "state", FS: ownMigrations}.load(s.dialect)
	if err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	defer tx.Rollback()
	ok, err := tableExists(ctx, tx, s.dialect, "schema_migrations")
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: no schema_migrations table (an empty or foreign database; is the path or dsn right?)", ErrNoAuditLog)
	}
	var v sql.NullInt64
	if err := tx.QueryRowContext(ctx, s.dialect.Rebind("SELECT MAX(version) FROM schema_migrations WHERE component = ?"), "state").Scan(&v); err != nil {
		return fmt.Errorf("reading the schema version: %w", err)
	}
	if !v.Valid || v.Int64 < 1 {
		return fmt.Errorf("%w: the audit schema was never installed", ErrNoAuditLog)
	}
	if int(v.Int64) > len(files) {
		return &SchemaTooNewError{Component: "state", Database: int(v.Int64), Binary: len(files)}
	}
	for _, table := range []string{"audit_log", "audit_head"} {
		ok, err := tableExists(ctx, tx, s.dialect, table)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: table %s is missing", ErrNoAuditLog, table)
		}
	}
	return nil
}
