package state

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"regexp"
	"sort"
	"strconv"
	"time"
)

//go:embed migrations
var embedded embed.FS

// ownMigrations is this package's component, "state".
var ownMigrations = mustSub(embedded, "migrations")

func mustSub(f fs.FS, dir string) fs.FS {
	s, err := fs.Sub(f, dir)
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	return s
}

// Migrations is one component's schema history. FS holds a directory per
// dialect, "sqlite" and "postgres", each with files named NNNN_name.sql
// numbered from 1 without gaps. A file is applied once, in version order,
// in the transaction that applies all pending migrations at Open.
type Migrations struct {
	Component string // e.g. "migrate", "family"; unique, [a-z0-9_]+
	FS        fs.FS
}

// Embedded is the migration set of component in the directory dir of an
// embedded file tree (a //go:embed variable); dir holds one directory per
// dialect. It panics when dir is missing: the tree is fixed at build time.
func Embedded(component string, fsys fs.FS, dir string) Migrations {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(err)
	}
	return Migrations{Component: component, FS: sub}
}

// SchemaTooNewError is returned by Open when the database holds a schema
// version of a component newer than this binary knows: an older binary
// must not write to a newer schema.
type SchemaTooNewError struct {
	Component string
	Database  int // version recorded in the database
	Binary    int // newest version this binary knows
}

func (e *SchemaTooNewError) Error() string {
	return fmt.Sprintf("schema of component %q is at version %d, newer than this binary knows (%d): upgrade overstap; nothing was written",
		e.Component, e.Database, e.Binary)
}

type migrationFile struct {
	version int
	name    string
	sql     string
}

var (
	reMigration = regexp.MustCompile(`^([0-9]{4})_[a-z0-9_]+\.sql$`)
	reComponent = regexp.MustCompile(`^[a-z0-9_]{1,64}$`)
)

// load reads the migration files of one component for dialect d.
func (m Migrations) load(d Dialect) ([]migrationFile, error) {
	if !reComponent.MatchString(m.Component) {
		return nil, fmt.Errorf("migrations: component name %q must match [a-z0-9_]+", m.Component)
	}
	if m.FS == nil {
		return nil, fmt.Errorf("migrations %s: no FS", m.Component)
	}
	dir := string(d)
	entries, err := fs.ReadDir(m.FS, dir)
	if err != nil {
		return nil, fmt.Errorf("migrations %s: %w", m.Component, err)
	}
	var out []migrationFile
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		mm := reMigration.FindStringSubmatch(e.Name())
		if mm == nil {
			return nil, fmt.Errorf("migrations %s: %s/%s: name must be NNNN_name.sql", m.Component, dir, e.Name())
		}
		v, _ := strconv.Atoi(mm[1])
		b, err := fs.ReadFile(m.FS, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("migrations %s: %w", m.Component, err)
		}
		out = append(out, migrationFile{version: v, name: e.Name(), sql: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i, f := range out {
		if f.version != i+1 {
			return nil, fmt.Errorf("migrations %s: %s/%s: versions must run 1, 2, 3, ... without gaps or repeats", m.Component, dir, f.name)
		}
	}
	return out, nil
}

// migrationLockKey is the PostgreSQL advisory lock that serialises Open of
// several nodes against the same database.
const migrationLockKey = 0x6f7673_7461 // "ovs" "ta"

// migrate applies the pending migrations of every set in one transaction. It
// first checks that no component is newer in the database than in the
// binary, so that on that error nothing is written.
func migrate(ctx context.Context, db *sql.DB, d Dialect, sets []Migrations, log *slog.Logger, now func() time.Time) error {
	files := make([][]migrationFile, len(sets))
	seen := map[string]bool{}
	for i, m := range sets {
		if seen[m.Component] {
			return fmt.Errorf("migrations: component %q given twice", m.Component)
		}
		seen[m.Component] = true
		f, err := m.load(d)
		if err != nil {
			return err
		}
		files[i] = f
	}

	tx, err := db.BeginTx(ctx, nil) // SQLite: BEGIN IMMEDIATE (see _txlock)
	if err != nil {
		return fmt.Errorf("migrations: begin: %w", err)
	}
	defer tx.Rollback()
	if d == Postgres {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", migrationLockKey); err != nil {
			return fmt.Errorf("migrations: lock: %w", err)
		}
	}
	exists, err := tableExists(ctx, tx, d, "schema_migrations")
	if err != nil {
		return err
	}
	current := map[string]int{}
	if exists {
		rows, err := tx.QueryContext(ctx, "SELECT component, MAX(version) FROM schema_migrations GROUP BY component")
		if err != nil {
			return fmt.Errorf("migrations: reading versions: %w", err)
		}
		for rows.Next() {
			var c string
			var v int
			if err := rows.Scan(&c, &v); err != nil {
				rows.Close()
				return fmt.Errorf("migrations: reading versions: %w", err)
			}
			current[c] = v
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("migrations: reading versions: %w", err)
		}
	}
	// Refuse before writing anything.
	for i, m := range sets {
		if v, known := current[m.Component], len(files[i]); v > known {
			return &SchemaTooNewError{Component: m.Component, Database: v, Binary: known}
		}
	}
	if !exists {
		if _, err := tx.ExecContext(ctx, `CREATE TABLE schema_migrations (
    component  TEXT   NOT NULL,
    version    BIGINT NOT NULL,
    applied_at BIGINT NOT NULL,
    PRIMARY KEY (component, version)
)`); err != nil {
			return fmt.Errorf("migrations: creating schema_migrations: %w", err)
		}
	}
	for i, m := range sets {
		for _, f := range files[i][current[m.Component]:] {
			if _, err := tx.ExecContext(ctx, f.sql); err != nil {
				return fmt.Errorf("migrations: %s %s: %w", m.Component, f.name, err)
			}
			if _, err := tx.ExecContext(ctx, d.Rebind("INSERT INTO schema_migrations (component, version, applied_at) VALUES (?, ?, ?)"),
				m.Component, f.version, now().UnixNano()); err != nil {
				return fmt.Errorf("migrations: recording %s %s: %w", m.Component, f.name, err)
			}
			log.Info("state: schema migration applied", "component", m.Component, "version", f.version, "file", f.name)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrations: commit: %w", err)
	}
	return nil
}

func tableExists(ctx context.Context, tx *sql.Tx, d Dialect, name string) (bool, error) {
	var q string
	switch d {
	case SQLite:
		q = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?"
	case Postgres:
		// to_regclass resolves through search_path, like unqualified statements.
		q = "SELECT COUNT(*) FROM (SELECT to_regclass($1) AS t) r WHERE t IS NOT NULL"
	default:
		return false, errors.New("migrations: unknown dialect")
	}
	var n int
	if err := tx.QueryRowContext(ctx, q, name).Scan(&n); err != nil {
		return false, fmt.Errorf("migrations: looking for %s: %w", name, err)
	}
	return n > 0, nil
}
