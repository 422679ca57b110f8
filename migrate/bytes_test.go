package migrate

import (
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/overstap/overstap/adapters/store"
	"github.com/overstap/overstap/adapters/store/csvstore"
	"github.com/overstap/overstap/adapters/store/httphook"
	"github.com/overstap/overstap/adapters/store/sqlstore"
	"github.com/overstap/overstap/internal/config"
	"github.com/overstap/overstap/internal/testsvc"
)

// byteCase is one account of the byte-exact property test.
type byteCase struct {
	id  string
	val []byte
}

// randomValues draws n credentials of random bytes (0x00-0xFF, minus the
// bytes the column cannot hold at all: ok says which), lengths from 0 to
// just over store.MaxValue, with the lengths around the limit always
// present. utf8Only draws random runes instead (a utf8mb4 column holds
// nothing else).
func randomValues(seed uint64, n int, ok func(byte) bool, utf8Only bool) []byteCase {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	lengths := []int{0, 1, 2, 3, 11, 60, 72, 255, 256, 1000, store.MaxValue - 1, store.MaxValue, store.MaxValue + 1, store.MaxValue + 300}
	for len(lengths) < n {
		lengths = append(lengths, r.IntN(400))
	}
	out := make([]byteCase, 0, len(lengths))
	for i, l := range lengths {
		var b []byte
		if utf8Only {
			for len(b) < l {
				c := rune(r.IntN(0x10FFFF))
				if c == 0 || (c >= 0xD800 && c <= 0xDFFF) {
					continue
				}
				b = utf8.AppendRune(b, c)
			}
		} else {
			b = make([]byte, 0, l)
			for len(b) < l {
				c := byte(r.IntN(256))
				if ok == nil || ok(c) {
					b = append(b, c)
				}
			}
		}
		out = append(out, byteCase{id: fmt.Sprintf("%d", 1000+i), val: b})
	}
	return out
}

// checkByteExact applies revoke-all to st, rolls it back, and checks every
// credential is byte-identical to what was seeded, or was refused up front
// (listed with its reason, never sent to the store, unchanged).
func checkByteExact(t *testing.T, st Store, cases []byteCase) {
	t.Helper()
	ctx := context.Background()
	db := newStateDB(t)
	e := newTestEngine(t, st, db, Config{BatchSize: 7})
	key := testKey(t)
	res, err := e.Apply(ctx, ApplyOptions{Policy: PolicyRevokeAll, PublicKey: key.Public(), Force: !st.Capabilities().AtomicCAS})
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	over := map[string]bool{}
	for _, c := range cases {
		if len(c.val) > store.MaxValue {
			over[c.id] = true
		}
	}
	att, total, err := db.AttentionList(ctx, res.Run, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if total != int64(len(over)) || res.NeedAttention != total {
		t.Errorf("attention: %d listed (result says %d), want the %d over the limit: %+v", total, res.NeedAttention, len(over), att)
	}
	for _, a := range att {
		if !over[a.Account] || a.Reason != ReasonTooLong {
			t.Errorf("account %s listed with %q", a.Account, a.Reason)
		}
	}
	for _, c := range cases {
		got, err := st.Get(ctx, c.id)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case over[c.id] || len(c.val) == 0:
			if got.Credential != string(c.val) {
				t.Errorf("account %s (%d bytes) changed although refused or empty", c.id, len(c.val))
			}
		case got.Credential != RevokedMarker(res.Run):
			t.Errorf("account %s (%d bytes) not revoked", c.id, len(c.val))
		}
	}
	rb, err := e.Rollback(ctx, RollbackOptions{Target: res.Run, Key: key})
	if err != nil {
		t.Fatalf("rollback: %v", err)
	}
	if rb.NeedAttention != 0 || rb.LeftAlone != 0 {
		t.Errorf("rollback: %+v", rb)
	}
	for _, c := range cases {
		got, err := st.Get(ctx, c.id)
		if err != nil {
			t.Fatal(err)
		}
		if got.Credential != string(c.val) {
			t.Errorf("account %s (%d bytes): rollback gave back %d different bytes (%q... want %q...)", c.id, len(c.val), len(got.Credential),
				prefix(got.Credential), prefix(string(c.val)))
		}
	}
}

func prefix(s string) string { return s[:min(len(s), 12)] }

func openSQL(t *testing.T, driver, dsn, table string) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.Open(context.Background(), "bytes", sqlstore.Config{Driver: driver, DSN: config.NewSecret([]byte(dsn)), Table: table,
		IDType: "integer", Columns: sqlstore.Columns{ID: "id", Username: "login", Password: "pw"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func seedSQL(t *testing.T, db *sql.DB, insert string, cases []byteCase, asBytes bool) {
	t.Helper()
	for _, c := range cases {
		var v any = string(c.val)
		if asBytes {
			v = c.val
		}
		if _, err := db.Exec(insert, c.id, "user"+c.id, v); err != nil {
			t.Fatalf("seed %s (%d bytes): %v", c.id, len(c.val), err)
		}
	}
}

func notNUL(c byte) bool { return c != 0 }

func TestByteExactSQLite(t *testing.T) {
	for _, col := range []string{"TEXT", "BLOB"} {
		t.Run(col, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "legacy.db")
			db, err := sql.Open("sqlite", path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := db.Exec(`CREATE TABLE accounts (id INTEGER PRIMARY KEY, login TEXT, pw ` + col + `)`); err != nil {
				t.Fatal(err)
			}
			cases := randomValues(1, 60, nil, false)
			seedSQL(t, db, `INSERT INTO accounts (id, login, pw) VALUES (?, ?, ?)`, cases, col == "BLOB")
			checkByteExact(t, openSQL(t, "sqlite", path, "accounts"), cases)
		})
	}
}

func TestByteExactPostgres(t *testing.T) {
	t.Run("bytea", func(t *testing.T) {
		pg := testsvc.Postgres(t)
		if _, err := pg.DB.Exec(`CREATE TABLE accounts (id BIGINT PRIMARY KEY, login TEXT, pw BYTEA)`); err != nil {
			t.Fatal(err)
		}
		cases := randomValues(2, 60, nil, false)
		seedSQL(t, pg.DB, `INSERT INTO accounts (id, login, pw) VALUES ($1, $2, $3)`, cases, true)
		checkByteExact(t, openSQL(t, "postgres", pg.DSN, "accounts"), cases)
	})
	t.Run("SQL_ASCII text", func(t *testing.T) {
		pg := testsvc.Postgres(t) // checks the service; the database below is our own
		name := testsvc.Name("ascii")
		if _, err := pg.DB.Exec(`CREATE DATABASE ` + name + ` ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0`); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if _, err := pg.DB.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`); err != nil {
				t.Logf("drop %s: %v", name, err)
			}
		})
		dsn := strings.Replace(strings.SplitN(pg.DSN, "?", 2)[0], "/test", "/"+name, 1) + "?sslmode=disable"
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec(`CREATE TABLE accounts (id BIGINT PRIMARY KEY, login TEXT, pw TEXT)`); err != nil {
			t.Fatal(err)
		}
		// A text column holds every byte but NUL in SQL_ASCII.
		cases := randomValues(3, 60, notNUL, false)
		seedSQL(t, db, `INSERT INTO accounts (id, login, pw) VALUES ($1, $2, $3)`, cases, false)
		checkByteExact(t, openSQL(t, "postgres", dsn, "accounts"), cases)
	})
}

func TestByteExactMariaDB(t *testing.T) {
	for _, cs := range []string{"latin1", "utf8mb4"} {
		t.Run(cs, func(t *testing.T) {
			my := testsvc.MariaDB(t)
			if _, err := my.DB.Exec(`CREATE TABLE accounts (id BIGINT PRIMARY KEY, login VARCHAR(64), pw MEDIUMTEXT) CHARACTER SET ` + cs); err != nil {
				t.Fatal(err)
			}
			// latin1 (cp1252 in MariaDB) maps all 256 bytes; utf8mb4 holds
			// valid UTF-8 only.
			cases := randomValues(4, 60, nil, cs == "utf8mb4")
			// A latin1 application connects with charset=latin1 (the
			// documented DSN for such a database): bytes pass unchanged.
			dsn := my.DSN
			if cs == "latin1" {
				dsn += "&charset=latin1"
				db, err := sql.Open("mysql", dsn)
				if err != nil {
					t.Fatal(err)
				}
				defer db.Close()
				seedSQL(t, db, `INSERT INTO accounts (id, login, pw) VALUES (?, ?, ?)`, cases, true)
			} else {
				seedSQL(t, my.DB, `INSERT INTO accounts (id, login, pw) VALUES (?, ?, ?)`, cases, false)
			}
			checkByteExact(t, openSQL(t, "mysql", dsn, "accounts"), cases)
		})
	}
}

func TestByteExactCSV(t *testing.T) {
	dir := t.TempDir()
	export := filepath.Join(dir, "export.csv")
	// Every byte; the CSV writer quotes what needs quoting.
	cases := randomValues(5, 60, nil, false)
	var b strings.Builder
	w := csv.NewWriter(&b)
	w.Write([]string{"id", "login", "pw"})
	for _, c := range cases {
		w.Write([]string{c.id, "user" + c.id, string(c.val)})
	}
	w.Flush()
	if err := os.WriteFile(export, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := csvstore.Open(context.Background(), "bytes", csvstore.Config{Path: export, ChangesPath: filepath.Join(dir, "changes.csv"),
		IDType: "integer", Columns: csvstore.Columns{ID: "id", Username: "login", Password: "pw"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// encoding/csv reads "\r\n" inside a quoted field as "\n": what the
	// export holds is what the adapter reads, and that must come back.
	for i, c := range cases {
		a, err := s.Get(context.Background(), c.id)
		if err != nil {
			t.Fatal(err)
		}
		cases[i].val = []byte(a.Credential)
	}
	checkByteExact(t, s, cases)
}

func TestByteExactHTTPHook(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vendor.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE accounts (id INTEGER PRIMARY KEY, login TEXT, pw BLOB)`); err != nil {
		t.Fatal(err)
	}
	cases := randomValues(6, 60, nil, false)
	seedSQL(t, db, `INSERT INTO accounts (id, login, pw) VALUES (?, ?, ?)`, cases, true)
	key := []byte("0123456789abcdef0123456789abcdef")
	srv, err := httphook.NewServer(httphook.ServerConfig{Backend: openSQL(t, "sqlite", path, "accounts"), Key: key})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	c, err := httphook.Open(context.Background(), "bytes", httphook.Config{URL: ts.URL, Key: config.NewSecret(key), InsecureAllowHTTP: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	checkByteExact(t, c, cases)
}
