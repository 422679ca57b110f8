package migrate

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/go-ldap/ldap/v3"

	"github.com/overstap/overstap/adapters/store"
	"github.com/overstap/overstap/adapters/store/csvstore"
	"github.com/overstap/overstap/adapters/store/httphook"
	"github.com/overstap/overstap/adapters/store/ldapstore"
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

// checkByteExact scans st, applies revoke-all, rolls it back, and checks every
// credential is byte-identical to what was seeded, or was refused up front
// (listed with its reason, never sent to the store, unchanged). storeRefuses
// (nil: none) names the accounts the adapter itself refuses, with a reason
// containing storeReason.
func checkByteExact(t *testing.T, st Store, cases []byteCase, storeRefuses func(byteCase) bool, storeReason string) {
	t.Helper()
	ctx := context.Background()
	db := newStateDB(t)
	e := newTestEngine(t, st, db, Config{BatchSize: 7})
	key := testKey(t)
	// A scan reads every value as it is (nothing written to the store).
	sres, err := e.Scan(ctx)
	if err != nil {
		t.Fatalf("scan: %v", err)
	}
	if sres.Summary.Accounts != int64(len(cases)) {
		t.Errorf("scan counted %d accounts, want %d", sres.Summary.Accounts, len(cases))
	}
	res, err := e.Apply(ctx, ApplyOptions{Policy: PolicyRevokeAll, PublicKey: key.Public(), Force: !st.Capabilities().AtomicCAS})
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	over, byStore := map[string]bool{}, map[string]bool{}
	for _, c := range cases {
		switch {
		case len(c.val) > store.MaxValue:
			over[c.id] = true
		case storeRefuses != nil && storeRefuses(c):
			byStore[c.id] = true
		}
	}
	att, total, err := db.AttentionList(ctx, res.Run, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(len(over) + len(byStore)); total != want || res.NeedAttention != total {
		t.Errorf("attention: %d listed (result says %d), want the %d over the limit and %d refused by the store: %+v", total, res.NeedAttention, len(over), len(byStore), att)
	}
	for _, a := range att {
		switch {
		case over[a.Account] && a.Reason == ReasonTooLong:
		case byStore[a.Account] && strings.HasPrefix(a.Reason, reasonStorePrefix) && strings.Contains(a.Reason, storeReason):
		default:
			t.Errorf("account %s listed with %q", a.Account, a.Reason)
		}
	}
	for _, c := range cases {
		got, err := st.Get(ctx, c.id)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case over[c.id] || byStore[c.id] || len(c.val) == 0:
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
	return openLegacy(t, "bytes", driver, dsn, sqlstore.Config{Table: table, Columns: sqlstore.Columns{ID: "id", Username: "login", Password: "pw"}})
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
			checkByteExact(t, openSQL(t, "sqlite", path, "accounts"), cases, nil, "")
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
		checkByteExact(t, openSQL(t, "postgres", pg.DSN, "accounts"), cases, nil, "")
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
		checkByteExact(t, openSQL(t, "postgres", dsn, "accounts"), cases, nil, "")
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
			checkByteExact(t, openSQL(t, "mysql", dsn, "accounts"), cases, nil, "")
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
	checkByteExact(t, s, cases, nil, "")
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
	checkByteExact(t, c, cases, nil, "")
}

// TestByteExactLDAP runs the property test against a real OpenLDAP.
// userPassword is an octet string: every byte string (NUL, invalid UTF-8,
// empty) is one value and comes back as it was. Entries with several
// values are carried joined by line feeds and given back as several values
// again; a value that itself holds a line feed is therefore ambiguous and
// refused by the adapter (listed, left unchanged).
func TestByteExactLDAP(t *testing.T) {
	srv := testsvc.Slapd(t, "../testdata/ldap/base.ldif")
	c, err := ldap.DialURL(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetTimeout(30 * time.Second)
	if err := c.Bind(testsvc.SlapdRootDN, testsvc.SlapdRootPW); err != nil {
		t.Fatal(err)
	}
	ou := "ou=bytes," + testsvc.SlapdSuffix
	add := ldap.NewAddRequest(ou, nil)
	add.Attribute("objectClass", []string{"organizationalUnit"})
	add.Attribute("ou", []string{"bytes"})
	if err := c.Add(add); err != nil {
		t.Fatal(err)
	}
	cases := randomValues(7, 120, nil, false)
	// Several values (each without a line feed): one account, the values
	// joined.
	multi := map[string][]string{}
	for i, vals := range [][]string{{"{SSHA}a\xff\x00", "\xfe\xfd"}, {"x", "y", "\x80\x81\x82"}} {
		id := fmt.Sprint(9000 + i)
		multi[id] = vals
		cases = append(cases, byteCase{id: id, val: []byte(strings.Join(vals, "\n"))})
	}
	dn := func(id string) string { return "employeeNumber=" + id + "," + ou }
	for _, bc := range cases {
		req := ldap.NewAddRequest(dn(bc.id), nil)
		req.Attribute("objectClass", []string{"inetOrgPerson"})
		req.Attribute("employeeNumber", []string{bc.id})
		req.Attribute("uid", []string{"user" + bc.id})
		req.Attribute("cn", []string{"N"})
		req.Attribute("sn", []string{"x"})
		vals := multi[bc.id]
		if vals == nil {
			vals = []string{string(bc.val)}
		}
		req.Attribute("userPassword", vals)
		if err := c.Add(req); err != nil {
			t.Fatalf("seed %s (%d bytes): %v", bc.id, len(bc.val), err)
		}
	}
	s, err := ldapstore.Open(context.Background(), "bytes", ldapstore.Config{URL: srv.URL, InsecureAllowPlain: true,
		BindDN: testsvc.SlapdRootDN, BindPassword: config.NewSecret([]byte(testsvc.SlapdRootPW)), BaseDN: ou, PageSize: 50,
		Attributes: ldapstore.Attributes{ID: "employeeNumber", Username: "uid", Password: "userPassword", Name: "cn"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	refused := 0
	checkByteExact(t, s, cases, func(bc byteCase) bool {
		r := multi[bc.id] == nil && bytes.IndexByte(bc.val, '\n') >= 0
		if r {
			refused++
		}
		return r
	}, "line feed")
	t.Logf("%d values refused by the adapter (line feed), %d restored byte for byte", refused, len(cases)-refused)
	if exact := len(cases) - refused; exact < 50 {
		t.Errorf("only %d of %d values went through apply and rollback", exact, len(cases))
	}
	for id, want := range multi {
		res, err := c.Search(ldap.NewSearchRequest(dn(id), ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
			"(objectClass=*)", []string{"userPassword"}, nil))
		if err != nil || len(res.Entries) != 1 {
			t.Fatalf("read %s: %v", id, err)
		}
		got := res.Entries[0].GetAttributeValues("userPassword")
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("account %s: values %q after rollback, want %q", id, got, want)
		}
	}
}
