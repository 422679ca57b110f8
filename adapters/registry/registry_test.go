package registry_test

import (
	"context"
	"database/sql"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/overstap/overstap/adapters/registry"
	"github.com/overstap/overstap/auth/devidp"
	"github.com/overstap/overstap/auth/nrn"
	"github.com/overstap/overstap/internal/config"
	"github.com/overstap/overstap/internal/testsvc"
)

var now = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

// syn and syn2 are synthetic numbers (sequence 9xx) for the bad-input tests.
var syn, syn2 = func() (string, string) {
	a, err1 := nrn.Synthetic(time.Date(1985, 7, 30, 0, 0, 0, 0, time.UTC), true, 993)
	b, err2 := nrn.Synthetic(time.Date(1993, 5, 18, 0, 0, 0, 0, time.UTC), false, 994)
	if err1 != nil || err2 != nil {
		panic("synthetic numbers")
	}
	return a.Digits(), b.Digits()
}()

// personasExport is the register export of the dev IdP's personas: the
// parents' descent, the shared household (with the roommate), and a ward
// of the unrelated persona (a synthetic extra person).
func personasExport(t testing.TB) (registry.Export, map[string]nrn.Number) {
	t.Helper()
	ps := devidp.Personas(now)
	byKey := map[string]nrn.Number{}
	var e registry.Export
	for _, p := range ps {
		if p.NRN.IsZero() {
			continue
		}
		byKey[p.Key] = p.NRN
		e.Persons = append(e.Persons, registry.PersonRow{NRN: p.NRN.Format(), BirthDate: p.Birth.Format(time.DateOnly), HouseholdID: p.HouseholdID, Position: p.Position})
	}
	for _, p := range ps {
		for _, c := range p.Children {
			e.Relations = append(e.Relations, registry.RelationRow{NRN: p.NRN.Digits(), Related: byKey[c].Digits(), Kind: registry.Child})
		}
	}
	ward, err := nrn.Synthetic(now.AddDate(-15, 0, -3), false, 990)
	if err != nil {
		t.Fatal(err)
	}
	byKey["ward"] = ward
	e.Persons = append(e.Persons, registry.PersonRow{NRN: ward.Digits(), BirthDate: now.AddDate(-15, 0, -3).Format(time.DateOnly), HouseholdID: "hh-dubois", Position: "12"})
	e.Relations = append(e.Relations, registry.RelationRow{NRN: byKey[devidp.PersonaUnrelated].Digits(), Related: ward.Digits(), Kind: registry.Ward})
	return e, byKey
}

// runSuite checks one Source against the personas' export.
func runSuite(t *testing.T, src registry.Source, who map[string]nrn.Number) {
	ctx := context.Background()
	cases := []struct {
		name, requester, member string
		want                    bool
		rel                     registry.Relation
	}{
		{"parent A and minor child", devidp.PersonaParentA, devidp.PersonaMinor, true, registry.Child},
		{"parent B and minor child", devidp.PersonaParentB, devidp.PersonaMinor, true, registry.Child},
		{"parent and adult child", devidp.PersonaParentA, devidp.PersonaAdult, false, ""},
		{"roommate", devidp.PersonaRoommate, devidp.PersonaMinor, false, ""},
		{"parent and roommate", devidp.PersonaParentA, devidp.PersonaRoommate, false, ""},
		{"spouse", devidp.PersonaParentA, devidp.PersonaParentB, false, ""},
		{"child and parent", devidp.PersonaMinor, devidp.PersonaParentA, false, ""},
		{"stranger", devidp.PersonaUnrelated, devidp.PersonaMinor, false, ""},
		{"guardian and ward", devidp.PersonaUnrelated, "ward", true, registry.Ward},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rel, ok, err := registry.MinorChildOrWard(ctx, src, who[c.requester], who[c.member], now)
			if err != nil || ok != c.want || rel != c.rel {
				t.Fatalf("got %q %v %v, want %q %v", rel, ok, err, c.rel, c.want)
			}
		})
	}
	t.Run("unknown person", func(t *testing.T) {
		n, _ := nrn.Synthetic(now.AddDate(-50, 0, 0), true, 999)
		if _, err := src.Person(ctx, n); !errors.Is(err, registry.ErrNotFound) {
			t.Fatalf("got %v, want ErrNotFound", err)
		}
		if _, err := src.Household(ctx, n); !errors.Is(err, registry.ErrNotFound) {
			t.Fatalf("household: got %v, want ErrNotFound", err)
		}
	})
	t.Run("person", func(t *testing.T) {
		p, err := src.Person(ctx, who[devidp.PersonaMinor])
		if err != nil || p.Birth.IsZero() || registry.Age(p.Birth, now) != 10 || len(p.Children) != 0 {
			t.Fatalf("%+v %v", p, err)
		}
	})
	t.Run("household", func(t *testing.T) {
		h, err := src.Household(ctx, who[devidp.PersonaRoommate])
		if err != nil || h.ID != "hh-peeters" || len(h.Members) != 5 {
			t.Fatalf("%+v %v", h, err)
		}
		pos := map[string]string{}
		for _, m := range h.Members {
			pos[m.NRN.Digits()] = m.Position
		}
		if pos[who[devidp.PersonaRoommate].Digits()] != "12" || pos[who[devidp.PersonaAdult].Digits()] != "03" {
			t.Fatalf("positions %v", pos)
		}
	})
}

func TestMemory(t *testing.T) {
	e, who := personasExport(t)
	m, err := registry.NewMemory("memory", e)
	if err != nil {
		t.Fatal(err)
	}
	runSuite(t, m, who)
}

func TestCSV(t *testing.T) {
	e, who := personasExport(t)
	dir := t.TempDir()
	pp, rp := filepath.Join(dir, "persons.csv"), filepath.Join(dir, "relations.csv")
	if err := e.WriteCSV(pp, rp); err != nil {
		t.Fatal(err)
	}
	src, err := registry.Open(context.Background(), registry.Config{Kind: "csv", CSV: registry.CSVConfig{Persons: pp, Relations: rp}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	runSuite(t, src, who)
}

func TestCSVBadInput(t *testing.T) {
	cases := map[string][2]string{
		"bad header":   {"nrn,birth\n", "nrn,related_nrn,kind\n"},
		"bad nrn":      {"nrn,birth_date,deceased,household_id,position\n12345678901,,0,,\n", "nrn,related_nrn,kind\n"},
		"bad kind":     {"nrn,birth_date,deceased,household_id,position\n", "nrn,related_nrn,kind\n" + syn + "," + syn2 + ",cousin\n"},
		"bad date":     {"nrn,birth_date,deceased,household_id,position\n" + syn + ",30/07/1985,0,,\n", "nrn,related_nrn,kind\n"},
		"columns":      {"nrn,birth_date,deceased,household_id,position\n" + syn + "\n", "nrn,related_nrn,kind\n"},
		"deceased yes": {"nrn,birth_date,deceased,household_id,position\n" + syn + ",,yes,,\n", "nrn,related_nrn,kind\n"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			e, err := registry.ReadCSV(strings.NewReader(c[0]), strings.NewReader(c[1]))
			if err == nil {
				_, err = registry.NewMemory("csv", e)
			}
			if err == nil {
				t.Fatal("accepted")
			}
			if strings.Contains(err.Error(), syn) || strings.Contains(err.Error(), "12345678901") {
				t.Fatalf("error shows the number: %v", err)
			}
		})
	}
}

func TestSQLite(t *testing.T) {
	e, who := personasExport(t)
	path := filepath.Join(t.TempDir(), "register.db")
	cfg := registry.Config{Kind: "sql", SQL: registry.SQLConfig{Driver: "sqlite", DSN: path}}
	src, err := registry.Open(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer src.(*registry.SQLSource).Close()
	db := openSQLite(t, path)
	if err := registry.LoadExport(context.Background(), db, false, e); err != nil {
		t.Fatal(err)
	}
	runSuite(t, src, who)
}

func TestPostgres(t *testing.T) {
	pg := testsvc.Postgres(t)
	runSQLSuite(t, pg.DB, true, "postgres", pg.DSN)
}

func TestMariaDB(t *testing.T) {
	my := testsvc.MariaDB(t)
	runSQLSuite(t, my.DB, false, "mysql", my.DSN)
}

// runSQLSuite loads the personas' export into db (LoadExport with
// postgres) and runs the suite on a SQL source reading it.
func runSQLSuite(t *testing.T, db *sql.DB, postgres bool, driver, dsn string) {
	e, who := personasExport(t)
	if err := registry.LoadExport(context.Background(), db, postgres, e); err != nil {
		t.Fatal(err)
	}
	src, err := registry.Open(context.Background(), registry.Config{Kind: "sql", SQL: registry.SQLConfig{Driver: driver, DSN: dsn}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer src.(*registry.SQLSource).Close()
	runSuite(t, src, who)
}

func TestSQLUnreachableFailsClosed(t *testing.T) {
	port := testsvc.FreePort(t)
	dsn := "postgres://overstap@127.0.0.1:" + itoa(port) + "/x?connect_timeout=1"
	src, err := registry.Open(context.Background(), registry.Config{Kind: "sql", SQL: registry.SQLConfig{Driver: "postgres", DSN: dsn, Timeout: 2 * time.Second}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	n := nrn.MustParse(syn)
	if _, err := src.Person(context.Background(), n); !errors.Is(err, registry.ErrUnavailable) || strings.Contains(err.Error(), n.Digits()) {
		t.Fatalf("got %v, want ErrUnavailable without the number", err)
	}
	_, ok, err := registry.MinorChildOrWard(context.Background(), src, n, n, now)
	if ok || !errors.Is(err, registry.ErrUnavailable) {
		t.Fatalf("verdict %v %v", ok, err)
	}
}

func TestHTTP(t *testing.T) {
	e, who := personasExport(t)
	m, err := registry.NewMemory("memory", e)
	if err != nil {
		t.Fatal(err)
	}
	key := []byte(strings.Repeat("k", 32))
	srv, err := registry.NewServer(m, key, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	src, err := registry.Open(context.Background(), registry.Config{Kind: "http", HTTP: registry.HTTPConfig{URL: ts.URL, Key: config.NewSecret(key), InsecureAllowHTTP: true}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	runSuite(t, src, who)

	t.Run("wrong key fails closed", func(t *testing.T) {
		bad, _ := registry.NewHTTP(registry.HTTPConfig{URL: ts.URL, Key: config.NewSecret([]byte(strings.Repeat("x", 32))), InsecureAllowHTTP: true})
		if _, err := bad.Person(context.Background(), who[devidp.PersonaParentA]); !errors.Is(err, registry.ErrUnavailable) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("forged answer refused", func(t *testing.T) {
		// A server with another key answers: the client must not believe it.
		other, _ := registry.NewServer(m, []byte(strings.Repeat("o", 32)), nil, nil)
		ots := httptest.NewServer(other)
		defer ots.Close()
		c, _ := registry.NewHTTP(registry.HTTPConfig{URL: ots.URL, Key: config.NewSecret(key), InsecureAllowHTTP: true})
		if _, err := c.Person(context.Background(), who[devidp.PersonaParentA]); !errors.Is(err, registry.ErrUnavailable) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("server down fails closed", func(t *testing.T) {
		c, _ := registry.NewHTTP(registry.HTTPConfig{URL: "http://127.0.0.1:" + itoa(testsvc.FreePort(t)), Key: config.NewSecret(key), InsecureAllowHTTP: true})
		if _, err := c.Person(context.Background(), who[devidp.PersonaParentA]); !errors.Is(err, registry.ErrUnavailable) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("clock skew refused", func(t *testing.T) {
		c, _ := registry.NewHTTP(registry.HTTPConfig{URL: ts.URL, Key: config.NewSecret(key), InsecureAllowHTTP: true, Now: func() time.Time { return time.Now().Add(-time.Hour) }})
		if _, err := c.Person(context.Background(), who[devidp.PersonaParentA]); !errors.Is(err, registry.ErrUnavailable) {
			t.Fatalf("got %v", err)
		}
	})
}

func TestNone(t *testing.T) {
	src, err := registry.Open(context.Background(), registry.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	n := nrn.MustParse(syn)
	if _, ok, err := registry.MinorChildOrWard(context.Background(), src, n, n, now); ok || !errors.Is(err, registry.ErrNotConfigured) {
		t.Fatalf("%v %v", ok, err)
	}
}

func TestConfigValidate(t *testing.T) {
	cases := map[string]struct {
		c    registry.Config
		want string
	}{
		"unknown kind":   {registry.Config{Kind: "magda"}, "kind:"},
		"sql no driver":  {registry.Config{Kind: "sql"}, "sql.driver"},
		"sql no dsn":     {registry.Config{Kind: "sql", SQL: registry.SQLConfig{Driver: "mysql"}}, "sql.dsn"},
		"pg password":    {registry.Config{Kind: "sql", SQL: registry.SQLConfig{Driver: "postgres", DSN: "postgres://u:secret@127.0.0.1/db"}}, "holds a password"},
		"mysql password": {registry.Config{Kind: "sql", SQL: registry.SQLConfig{Driver: "mysql", DSN: "u:secret@tcp(127.0.0.1:3306)/db"}}, "holds a password"},
		"two params":     {registry.Config{Kind: "sql", SQL: registry.SQLConfig{Driver: "sqlite", DSN: "x.db", PersonQuery: "SELECT ? ?"}}, "sql.person_query"},
		"csv files":      {registry.Config{Kind: "csv"}, "csv.persons"},
		"http no url":    {registry.Config{Kind: "http"}, "http.url"},
		"http plain":     {registry.Config{Kind: "http", HTTP: registry.HTTPConfig{URL: "http://127.0.0.1:1", Key: config.NewSecret(make([]byte, 32))}}, "must be https"},
		"http short key": {registry.Config{Kind: "http", HTTP: registry.HTTPConfig{URL: "https://r.example"}}, "http.key"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			err := c.c.Validate()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want %q", err, c.want)
			}
		})
	}
	if err := (registry.Config{Kind: "none"}).Validate(); err != nil {
		t.Fatal(err)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
