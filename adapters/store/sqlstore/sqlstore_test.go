package sqlstore

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/overstap/overstap/adapters/store"
	"github.com/overstap/overstap/adapters/store/storetest"
	"github.com/overstap/overstap/internal/config"
	"github.com/overstap/overstap/internal/testsvc"
)

// sqlSeeder writes fixture rows with plain SQL on its own connection.
type sqlSeeder struct {
	db      *sql.DB
	d       dialect
	table   string
	concat  func(col, ph string) string
	integer bool
}

func (s *sqlSeeder) ph(n int) string { return s.d.ph(n) }

func (s *sqlSeeder) Seed(t testing.TB, rows ...storetest.Row) {
	t.Helper()
	q := "INSERT INTO " + s.table + " (id, username, pw, salt, nrn, full_name, disabled, federated) VALUES (" +
		s.ph(1) + ", " + s.ph(2) + ", " + s.ph(3) + ", " + s.ph(4) + ", " + s.ph(5) + ", " + s.ph(6) + ", " + s.ph(7) + ", " + s.ph(8) + ")"
	for _, r := range rows {
		var pw, n any
		if r.Password != nil {
			pw = *r.Password
		}
		if r.NRN != nil {
			n = *r.NRN
		}
		if _, err := s.db.Exec(q, r.ID, r.Username, pw, r.Salt, n, r.Name, r.Disabled, r.Federated); err != nil {
			t.Fatalf("seed %s: %v", r.ID, err)
		}
	}
}

func (s *sqlSeeder) Append(t testing.TB, id, suffix string) {
	t.Helper()
	q := "UPDATE " + s.table + " SET pw = " + s.concat("pw", s.ph(1)) + " WHERE id = " + s.ph(2)
	if _, err := s.db.Exec(q, suffix, id); err != nil {
		t.Errorf("append: %v", err)
	}
}

func (s *sqlSeeder) Credential(t testing.TB, id string) (string, bool) {
	t.Helper()
	var v sql.NullString
	if err := s.db.QueryRow("SELECT pw FROM "+s.table+" WHERE id = "+s.ph(1), id).Scan(&v); err != nil {
		t.Fatalf("credential %s: %v", id, err)
	}
	return v.String, !v.Valid
}

func stdColumns() Columns {
	return Columns{ID: "id", Username: "username", Password: "pw", Salt: "salt", NRN: "nrn",
		Name: "full_name", Disabled: "disabled", Federated: "federated"}
}

func openStore(t testing.TB, driver, dsn string, mod func(*Config)) *Store {
	t.Helper()
	cfg := Config{Driver: driver, DSN: config.NewSecret([]byte(dsn)), Table: "accounts", Columns: stdColumns()}
	if mod != nil {
		mod(&cfg)
	}
	s, err := Open(context.Background(), "legacy", cfg, nil)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

const (
	pgTable = `CREATE TABLE accounts (id %s PRIMARY KEY, username text, pw text, salt text, nrn text,
		full_name text, disabled boolean, federated boolean)`
	myTable = `CREATE TABLE accounts (id %s PRIMARY KEY, username VARCHAR(255), pw VARCHAR(8192), salt VARCHAR(255),
		nrn VARCHAR(64), full_name VARCHAR(255), disabled TINYINT, federated TINYINT)`
	liteTable = `CREATE TABLE accounts (id %s PRIMARY KEY, username TEXT, pw TEXT, salt TEXT, nrn TEXT,
		full_name TEXT, disabled INTEGER, federated INTEGER)`
)

func pgFactory(idType string) storetest.Factory {
	return func(t *testing.T) (store.Store, storetest.Seeder) {
		pg := testsvc.Postgres(t)
		mustExec(t, pg.DB, sprintf(pgTable, idType))
		s := openStore(t, "postgres", pg.DSN, nil)
		return s, &sqlSeeder{db: pg.DB, d: s.d, table: "accounts", concat: func(c, p string) string { return c + " || " + p }}
	}
}

func myFactory(idType string) storetest.Factory {
	return func(t *testing.T) (store.Store, storetest.Seeder) {
		my := testsvc.MariaDB(t)
		mustExec(t, my.DB, sprintf(myTable, idType))
		s := openStore(t, "mysql", my.DSN, nil)
		return s, &sqlSeeder{db: my.DB, d: s.d, table: "accounts", concat: func(c, p string) string { return "CONCAT(" + c + ", " + p + ")" }}
	}
}

// sqliteDB creates a database file in a temp dir and returns its DSN and a
// seeding connection.
func sqliteDB(t testing.TB, ddl string) (string, *sql.DB) {
	t.Helper()
	dsn := "file:" + filepath.Join(t.TempDir(), "legacy.db") + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	mustExec(t, db, ddl)
	return dsn, db
}

func liteFactory(idType string) storetest.Factory {
	return func(t *testing.T) (store.Store, storetest.Seeder) {
		dsn, db := sqliteDB(t, sprintf(liteTable, idType))
		s := openStore(t, "sqlite", dsn, nil)
		return s, &sqlSeeder{db: db, d: s.d, table: "accounts", concat: func(c, p string) string { return c + " || " + p }}
	}
}

func TestContractPostgres(t *testing.T)        { storetest.Run(t, pgFactory("bigint")) }
func TestContractPostgresTextIDs(t *testing.T) { storetest.Run(t, pgFactory("text")) }
func TestContractMariaDB(t *testing.T)         { storetest.Run(t, myFactory("BIGINT")) }
func TestContractMariaDBTextIDs(t *testing.T)  { storetest.Run(t, myFactory("VARCHAR(64)")) }
func TestContractSQLite(t *testing.T)          { storetest.Run(t, liteFactory("INTEGER")) }
func TestContractSQLiteTextIDs(t *testing.T)   { storetest.Run(t, liteFactory("TEXT")) }
