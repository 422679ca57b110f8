package migrate

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Dialect names the SQL dialect of the state database.
type Dialect string

// Supported state-database dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Component is the name under which the migrate tables are contributed to
// the state database's versioned migrations.
const Component = "migrate"

//go:embed schema
var schemaFS embed.FS

// Schema returns the versioned SQL files of the migrate tables for a
// dialect: files named NNNN_description.sql, applied in order.
func Schema(d Dialect) (fs.FS, error) {
	switch d {
	case SQLite, Postgres:
		return fs.Sub(schemaFS, path.Join("schema", string(d)))
	}
	return nil, fmt.Errorf("migrate: unsupported state dialect %q", d)
}

// DB is the migrate view of the state database.
type DB struct {
	db      *sql.DB
	dialect Dialect
}

// OpenDB wraps an open state database. With ensureSchema it applies the
// embedded migrations not applied yet (its own version table
// migrate_schema); leave it false when the state store already ran them.
func OpenDB(ctx context.Context, db *sql.DB, d Dialect, ensureSchema bool) (*DB, error) {
	if db == nil {
		return nil, errors.New("migrate: nil state database")
	}
	if d != SQLite && d != Postgres {
		return nil, fmt.Errorf("migrate: unsupported state dialect %q", d)
	}
	m := &DB{db: db, dialect: d}
	if ensureSchema {
		if err := m.applySchema(ctx); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// SQL returns the underlying database.
func (m *DB) SQL() *sql.DB { return m.db }

// Dialect returns the dialect.
func (m *DB) Dialect() Dialect { return m.dialect }

// q rewrites ? placeholders to $n for PostgreSQL. Queries here never hold
// a literal question mark.
func (m *DB) q(query string) string {
	if m.dialect != Postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

func (m *DB) applySchema(ctx context.Context) error {
	files, err := Schema(m.dialect)
	if err != nil {
		return err
	}
	if _, err := m.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS migrate_schema (version BIGINT PRIMARY KEY, name TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: schema table: %w", err)
	}
	entries, err := fs.ReadDir(files, ".")
	if err != nil {
		return fmt.Errorf("migrate: schema files: %w", err)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".sql") {
			continue
		}
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return fmt.Errorf("migrate: schema file %s: name must be NNNN_name.sql", name)
		}
		body, err := fs.ReadFile(files, name)
		if err != nil {
			return fmt.Errorf("migrate: schema file %s: %w", name, err)
		}
		if err := m.applyOne(ctx, v, name, string(body)); err != nil {
			return err
		}
	}
	return nil
}

func (m *DB) applyOne(ctx context.Context, version int, name, body string) error {
	tx, err := m.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: schema %s: %w", name, err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, m.q(`SELECT COUNT(*) FROM migrate_schema WHERE version = ?`), version).Scan(&n); err != nil {
		return fmt.Errorf("migrate: schema %s: %w", name, err)
	}
	if n > 0 {
		return nil
	}
	for _, stmt := range splitSQL(body) {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("migrate: schema %s: %w", name, err)
		}
	}
	if _, err := tx.ExecContext(ctx, m.q(`INSERT INTO migrate_schema (version, name) VALUES (?, ?)`), version, name); err != nil {
		return fmt.Errorf("migrate: schema %s: %w", name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate: schema %s: %w", name, err)
	}
	return nil
}

// splitSQL splits a schema file into statements at semicolons ending a
// line, dropping -- comments. Schema files hold no semicolons in literals.
func splitSQL(body string) []string {
	var out []string
	var cur strings.Builder
	for line := range strings.SplitSeq(body, "\n") {
		if i := strings.Index(line, "--"); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(line, ";") {
			out = append(out, strings.TrimSuffix(strings.TrimSpace(cur.String()), ";"))
			cur.Reset()
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		out = append(out, s)
	}
	return out
}
