package sqlstore

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/overstap/overstap/adapters/store"
	"github.com/overstap/overstap/adapters/store/storetest"
	"github.com/overstap/overstap/auth/nrn"
	"github.com/overstap/overstap/internal/config"
)

func secret(s string) config.Secret { return config.NewSecret([]byte(s)) }

// TestContractSQLiteCustomQueries runs the contract suite with every
// statement replaced by a custom query, as for an odd schema.
func TestContractSQLiteCustomQueries(t *testing.T) {
	const sel = `SELECT id, username, pw, salt, nrn, full_name, disabled, federated FROM accounts`
	storetest.Run(t, func(t *testing.T) (store.Store, storetest.Seeder) {
		dsn, db := sqliteDB(t, sprintf(liteTable, "INTEGER"))
		cfg := Config{Driver: "sqlite", DSN: secret(dsn), IDType: "integer", Queries: Queries{
			IterateFirst:       sel + ` ORDER BY id LIMIT ?`,
			Iterate:            sel + ` WHERE id > ? ORDER BY id LIMIT ?`,
			Get:                sel + ` WHERE id = ?`,
			ByUsername:         sel + ` WHERE username = ? LIMIT 2`,
			ByNRN:              sel + ` WHERE username IN (?1, ?2, ?3, ?4) OR nrn IN (?1, ?2, ?3, ?4) ORDER BY id`,
			CompareAndSwap:     `UPDATE accounts SET pw = ? WHERE id = ? AND pw = ?`,
			CompareAndSwapNull: `UPDATE accounts SET pw = ? WHERE id = ? AND pw IS NULL`,
			Current:            `SELECT pw FROM accounts WHERE id = ?`,
			SetFederated:       `UPDATE accounts SET federated = ? WHERE id = ?`,
		}}
		s, err := Open(context.Background(), "legacy", cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s, &sqlSeeder{db: db, d: s.d, table: "accounts", concat: func(c, p string) string { return c + " || " + p }}
	})
}

func TestSQLiteKeyOrder(t *testing.T) {
	for _, c := range []struct {
		name, idType string
		ids, want    []string
	}{
		{"integer", "INTEGER", []string{"10", "2", "100", "9"}, []string{"2", "9", "10", "100"}},
		{"text", "TEXT", []string{"a", "B", "10", "2", "ä", "100"}, []string{"10", "100", "2", "B", "a", "ä"}},
		{"text nocase column", "TEXT COLLATE NOCASE", []string{"a", "B"}, []string{"B", "a"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dsn, db := sqliteDB(t, sprintf(liteTable, c.idType))
			for _, id := range c.ids {
				mustExec(t, db, `INSERT INTO accounts (id, username, pw) VALUES (?, ?, 'h')`, id, "u"+id)
			}
			checkOrder(t, openStore(t, "sqlite", dsn, nil), c.want)
		})
	}
}

// TestSQLiteFilter: accounts outside the filter are invisible and cannot
// be changed.
func TestSQLiteFilter(t *testing.T) {
	dsn, db := sqliteDB(t, `CREATE TABLE accounts (id INTEGER PRIMARY KEY, username TEXT, pw TEXT, realm TEXT, deleted INTEGER)`)
	for i, r := range []struct {
		realm   string
		deleted any
	}{{"citizens", nil}, {"staff", nil}, {"citizens", 1}, {"citizens", nil}} {
		mustExec(t, db, `INSERT INTO accounts VALUES (?, ?, 'h', ?, ?)`, i+1, sprintf("u%d", i+1), r.realm, r.deleted)
	}
	s := openStore(t, "sqlite", dsn, func(c *Config) {
		c.Columns = Columns{ID: "id", Username: "username", Password: "pw"}
		c.Filter = "realm = 'citizens' AND deleted IS NULL"
	})
	checkOrder(t, s, []string{"1", "4"})
	ctx := context.Background()
	if _, err := s.Get(ctx, "2"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("filtered account visible: %v", err)
	}
	if err := s.CompareAndSwap(ctx, store.Swap{ID: "2", Old: "h", New: "x"}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("filtered account changed: %v", err)
	}
	if err := s.CompareAndSwap(ctx, store.Swap{ID: "4", Old: "h", New: "x"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LookupByUsername(ctx, "u3"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("filtered account found by username: %v", err)
	}
}

// TestSQLiteNonUTF8: bytes that are not UTF-8 are read and compared
// exactly; only the display name is made valid.
func TestSQLiteNonUTF8(t *testing.T) {
	dsn, db := sqliteDB(t, sprintf(liteTable, "INTEGER"))
	pw, user, name := "md5\xff\xfe\x00x", "jos\xe9", "Jos\xe9 Pe\xebters"
	mustExec(t, db, `INSERT INTO accounts (id, username, pw, full_name) VALUES (1, ?, ?, ?)`, user, pw, name)
	s := openStore(t, "sqlite", dsn, nil)
	ctx := context.Background()
	a, err := s.LookupByUsername(ctx, user)
	if err != nil {
		t.Fatal(err)
	}
	if a.Credential != pw || a.Username != user {
		t.Fatalf("bytes changed: %q %q", a.Credential, a.Username)
	}
	if a.Name != "Jos\uFFFD Pe\uFFFDters" {
		t.Fatalf("name %q", a.Name)
	}
	if err := s.CompareAndSwap(ctx, store.Swap{ID: "1", Old: "md5\xff\xfe\x00y", New: "n"}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("near-miss bytes: %v", err)
	}
	if err := s.CompareAndSwap(ctx, store.Swap{ID: "1", Old: pw, New: "n"}); err != nil {
		t.Fatal(err)
	}
}

// TestSQLiteIntegerNRNColumn: an NRN kept in an integer column loses its
// leading zero for 2000s births; the adapter pads it back and finds it.
func TestSQLiteIntegerNRNColumn(t *testing.T) {
	dsn, db := sqliteDB(t, `CREATE TABLE accounts (id INTEGER PRIMARY KEY, username TEXT, pw TEXT, nrn INTEGER)`)
	n, err := nrn.Synthetic(time.Date(2003, 2, 1, 0, 0, 0, 0, time.UTC), true, 4)
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, db, `INSERT INTO accounts VALUES (1, 'kind', 'h', ?)`, strings.TrimLeft(n.Digits(), "0"))
	s := openStore(t, "sqlite", dsn, func(c *Config) { c.Columns = Columns{ID: "id", Username: "username", Password: "pw", NRN: "nrn"} })
	got, err := s.LookupByNRN(context.Background(), n)
	if err != nil || len(got) != 1 || !got[0].NRN.Equal(n) {
		t.Fatalf("got %d accounts, %v", len(got), err)
	}
}

func TestConfigValidate(t *testing.T) {
	good := Config{Driver: "sqlite", DSN: secret("x.db"), Table: "legacy.users", Columns: Columns{ID: "id", Username: "u", Password: "p"}}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		mod  func(*Config)
		keys []string
	}{
		{"driver", func(c *Config) { c.Driver = "oracle" }, []string{"driver:"}},
		{"dsn", func(c *Config) { c.DSN = config.Secret{} }, []string{"dsn:"}},
		{"table injection", func(c *Config) { c.Table = `users; DROP TABLE x` }, []string{"table:"}},
		{"table quote", func(c *Config) { c.Table = `us"ers` }, []string{"table:"}},
		{"three parts", func(c *Config) { c.Table = "a.b.c" }, []string{"table:"}},
		{"missing columns", func(c *Config) { c.Columns = Columns{} }, []string{"columns.id:", "columns.username:", "columns.password:"}},
		{"bad column", func(c *Config) { c.Columns.NRN = "nrn`" }, []string{"columns.nrn:"}},
		{"id type", func(c *Config) { c.IDType = "uuid" }, []string{"id_type:"}},
		{"filter", func(c *Config) { c.Filter = "1=1; DROP TABLE users" }, []string{"filter:"}},
		{"partial queries", func(c *Config) { c.Queries.Get = "SELECT 1" }, []string{"queries:"}},
		{"pool", func(c *Config) { c.MaxOpenConns = -1 }, []string{"max_open_conns:"}},
		{"all at once", func(c *Config) { c.Driver = ""; c.Table = ""; c.IDType = "x" }, []string{"driver:", "table:", "id_type:"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := good
			c.mod(&cfg)
			storetest.WantKeys(t, cfg.Validate(), c.keys...)
		})
	}
}

// TestSQLiteMissingColumn: a mapped column that does not exist is refused
// by name (SQLite would read a double-quoted unknown name as a string).
func TestSQLiteMissingColumn(t *testing.T) {
	dsn, _ := sqliteDB(t, `CREATE TABLE accounts (id INTEGER PRIMARY KEY, username TEXT, pw TEXT)`)
	for _, c := range []struct {
		key string
		mod func(*Columns)
	}{
		{"columns.password", func(c *Columns) { c.Password = "pww" }},
		{"columns.disabled", func(c *Columns) { c.Disabled = "nope" }},
		{"filter", func(*Columns) {}},
	} {
		t.Run(c.key, func(t *testing.T) {
			cols := Columns{ID: "id", Username: "username", Password: "pw"}
			c.mod(&cols)
			cfg := Config{Driver: "sqlite", DSN: secret(dsn), Table: "accounts", Columns: cols}
			if c.key == "filter" {
				cfg.Filter = "relm = 'citizens'"
			}
			_, err := Open(context.Background(), "legacy", cfg, nil)
			if err == nil || !strings.Contains(err.Error(), c.key) {
				t.Fatalf("got %v, want an error naming %s", err, c.key)
			}
		})
	}
}
