package migrate

import (
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"github.com/overstap/overstap/adapters/state"
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

// SchemaFS returns the versioned SQL of the migrate tables, a directory per
// dialect ("sqlite", "postgres") of files NNNN_name.sql: the migration set
// this package contributes to the state store as component "migrate"
// (state.Migrations{Component: migrate.Component, FS: migrate.SchemaFS()}).
func SchemaFS() fs.FS {
	sub, err := fs.Sub(schemaFS, "schema")
	if err != nil {
		panic(err) // the embedded directory exists at compile time
	}
	return sub
}

// DB is the migrate view of the state database.
type DB struct {
	db      *sql.DB
	dialect Dialect
}

// OpenDB wraps the state database, whose schema must include the migrate
// tables (open it with state.Open and the SchemaFS migration set).
func OpenDB(db *sql.DB, d Dialect) (*DB, error) {
	if db == nil {
		return nil, errors.New("migrate: nil state database")
	}
	if d != SQLite && d != Postgres {
		return nil, fmt.Errorf("migrate: unsupported state dialect %q", d)
	}
	return &DB{db: db, dialect: d}, nil
}

// SQL returns the underlying database.
func (m *DB) SQL() *sql.DB { return m.db }

// Dialect returns the dialect.
func (m *DB) Dialect() Dialect { return m.dialect }

// q rewrites ? placeholders to $n for PostgreSQL (the state store's own
// Dialect.Rebind: one rebinding for every state-database user). Queries
// here never hold a literal question mark.
func (m *DB) q(query string) string { return state.Dialect(m.dialect).Rebind(query) }
