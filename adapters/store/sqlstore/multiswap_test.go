package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/overstap/overstap/adapters/store"
	"github.com/overstap/overstap/internal/testsvc"
)

// multiCase is one database for the multi-row swap tests.
type multiCase struct {
	name string
	open func(t *testing.T, idType string, mod func(*Config)) (*Store, *sql.DB, dialect)
	// ids: integer and text id column types.
	intType, textType string
}

func multiCases() []multiCase {
	return []multiCase{
		{"postgres", func(t *testing.T, idType string, mod func(*Config)) (*Store, *sql.DB, dialect) {
			pg := testsvc.Postgres(t)
			mustExec(t, pg.DB, sprintf(pgTable, idType))
			s := openStore(t, "postgres", pg.DSN, mod)
			return s, pg.DB, s.d
		}, "bigint", "text"},
		{"mariadb", func(t *testing.T, idType string, mod func(*Config)) (*Store, *sql.DB, dialect) {
			my := testsvc.MariaDB(t)
			mustExec(t, my.DB, sprintf(myTable, idType))
			s := openStore(t, "mysql", my.DSN, mod)
			return s, my.DB, s.d
		}, "BIGINT", "VARCHAR(64)"},
		{"sqlite", func(t *testing.T, idType string, mod func(*Config)) (*Store, *sql.DB, dialect) {
			dsn, db := sqliteDB(t, sprintf(liteTable, idType))
			s := openStore(t, "sqlite", dsn, mod)
			return s, db, s.d
		}, "INTEGER", "TEXT"},
	}
}

func insertRows(t *testing.T, db *sql.DB, d dialect, n int, id func(int) string, pw func(int) *string, realm func(int) string) {
	t.Helper()
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	q := "INSERT INTO accounts (id, username, pw, salt) VALUES (" + d.ph(1) + ", " + d.ph(2) + ", " + d.ph(3) + ", " + d.ph(4) + ")"
	for i := range n {
		var v any
		if p := pw(i); p != nil {
			v = *p
		}
		if _, err := tx.Exec(q, id(i), fmt.Sprintf("user%d", i), v, realm(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

func credOf(t *testing.T, db *sql.DB, d dialect, id string) (string, bool) {
	t.Helper()
	var v sql.NullString
	if err := db.QueryRow("SELECT pw FROM accounts WHERE id = "+d.ph(1), id).Scan(&v); err != nil {
		t.Fatalf("read %s: %v", id, err)
	}
	return v.String, !v.Valid
}

// TestMultiSwapBatch: 2500 swaps (several statements per batch on every
// database) with stale old values, missing accounts, NULL credentials and
// accounts outside the filter; verdicts and the stored values must be
// exactly those of one compare-and-swap per row, through the multi-row
// statements (no per-row fallback).
func TestMultiSwapBatch(t *testing.T) {
	for _, c := range multiCases() {
		for _, text := range []bool{false, true} {
			name := c.name + "/integer"
			idType := c.intType
			if text {
				name, idType = c.name+"/text", c.textType
			}
			t.Run(name, func(t *testing.T) {
				const n = 2500
				s, db, d := c.open(t, idType, func(cfg *Config) { cfg.Filter = "salt = 'in'" })
				if s.multi == nil {
					t.Fatal("multi-row swaps not enabled")
				}
				id := func(i int) string { return fmt.Sprint(100000 + i) }
				pw := func(i int) *string {
					if i%13 == 0 {
						return nil
					}
					v := fmt.Sprintf("{SSHA}h%d", i)
					return &v
				}
				realm := func(i int) string {
					if i%17 == 5 {
						return "out" // outside the filter: not found
					}
					return "in"
				}
				insertRows(t, db, d, n, id, pw, realm)
				var swaps []store.Swap
				want := map[int]error{}
				for i := range n {
					sw := store.Swap{ID: id(i), New: fmt.Sprintf("!overstap-revoked:%d", i)}
					if p := pw(i); p == nil {
						sw.OldNull = true
					} else {
						sw.Old = *p
					}
					switch {
					case realm(i) == "out":
						want[i] = store.ErrNotFound
					case i%7 == 3:
						sw.Old, sw.OldNull = "stale", false
						want[i] = store.ErrConflict
					case i%29 == 1 && pw(i) != nil:
						sw.Old, sw.OldNull = "", true // NULL expected, a value stored
						want[i] = store.ErrConflict
					}
					swaps = append(swaps, sw)
				}
				// Accounts that do not exist, and an id that is no key.
				for k := range 3 {
					swaps = append(swaps, store.Swap{ID: fmt.Sprint(900000 + k), Old: "x", New: "y"})
					want[n+k] = store.ErrNotFound
				}
				res, err := s.SwapBatch(context.Background(), swaps)
				if err != nil {
					t.Fatal(err)
				}
				if s.rowBatches.Load() != 0 {
					t.Fatal("fell back to per-row swaps")
				}
				applied := 0
				for i, sw := range swaps {
					w := want[i]
					if (w == nil) != (res[i] == nil) || (w != nil && !errors.Is(res[i], w)) {
						t.Fatalf("swap %d (%s): %v, want %v", i, sw.ID, res[i], w)
					}
					if i >= n {
						continue
					}
					got, null := credOf(t, db, d, sw.ID)
					if w == nil {
						applied++
						if got != sw.New || null {
							t.Fatalf("%s: %q null=%v, want %q", sw.ID, got, null, sw.New)
						}
					} else if p := pw(i); (p == nil) != null || (p != nil && got != *p) {
						t.Fatalf("%s changed by a failed swap: %q", sw.ID, got)
					}
				}
				t.Logf("%d applied, %d refused", applied, len(swaps)-applied)
			})
		}
	}
}

// TestMultiSwapOrderAndKeys: two swaps of one account in a batch behave as
// in order (the second sees the first's value), and an integer id written
// with leading zeros reaches its row.
func TestMultiSwapOrderAndKeys(t *testing.T) {
	for _, c := range multiCases() {
		t.Run(c.name, func(t *testing.T) {
			s, db, d := c.open(t, c.intType, nil)
			insertRows(t, db, d, 3, func(i int) string { return fmt.Sprint(i + 1) },
				func(i int) *string { v := fmt.Sprint("h", i+1); return &v }, func(int) string { return "" })
			ctx := context.Background()
			res, err := s.SwapBatch(ctx, []store.Swap{
				{ID: "1", Old: "h1", New: "a"},
				{ID: "1", Old: "h1", New: "b"}, // stale after the first
				{ID: "2", Old: "h2", New: "c"},
			})
			if err != nil {
				t.Fatal(err)
			}
			if res[0] != nil || !errors.Is(res[1], store.ErrConflict) || res[2] != nil {
				t.Fatalf("verdicts %v", res)
			}
			if v, _ := credOf(t, db, d, "1"); v != "a" {
				t.Fatalf("account 1: %q", v)
			}
			if s.rowBatches.Load() != 1 {
				t.Fatalf("a batch with one account twice must run row by row")
			}
			res, err = s.SwapBatch(ctx, []store.Swap{{ID: "003", Old: "h3", New: "d"}, {ID: "2", Old: "c", New: "e"}})
			if err != nil || res[0] != nil || res[1] != nil {
				t.Fatalf("leading zeros: %v %v", res, err)
			}
			if v, _ := credOf(t, db, d, "3"); v != "d" {
				t.Fatalf("account 3: %q", v)
			}
			if s.rowBatches.Load() != 1 {
				t.Fatal("fell back to per-row swaps")
			}
		})
	}
}

// TestMultiSwapPostgresColumnTypes: the VALUES list takes the columns' own
// types without a length (char(n) compares blank-padded, a too long new
// value is refused, not truncated; varchar keys join).
func TestMultiSwapPostgresColumnTypes(t *testing.T) {
	pg := testsvc.Postgres(t)
	mustExec(t, pg.DB, `CREATE TABLE accounts (id varchar(36) PRIMARY KEY, username varchar(40), pw char(12), salt varchar(8), nrn text,
		full_name text, disabled boolean, federated boolean)`)
	mustExec(t, pg.DB, `INSERT INTO accounts (id, username, pw) VALUES
		('00000000-0000-0000-0000-000000000001', 'a', 'short'), ('00000000-0000-0000-0000-000000000002', 'b', 'other')`)
	s := openStore(t, "postgres", pg.DSN, nil)
	ctx := context.Background()
	a, err := s.Get(ctx, "00000000-0000-0000-0000-000000000001")
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.SwapBatch(ctx, []store.Swap{
		{ID: a.ID, Old: a.Credential, New: "!rev"},
		{ID: "00000000-0000-0000-0000-000000000002", Old: "nope", New: "!rev"},
		{ID: "00000000-0000-0000-0000-000000000003", Old: "x", New: "!rev"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res[0] != nil || !errors.Is(res[1], store.ErrConflict) || !errors.Is(res[2], store.ErrNotFound) {
		t.Fatalf("verdicts %v", res)
	}
	if s.rowBatches.Load() != 0 {
		t.Fatal("fell back to per-row swaps")
	}
	b, _ := s.Get(ctx, "00000000-0000-0000-0000-000000000002")
	if _, err := s.SwapBatch(ctx, []store.Swap{{ID: b.ID, Old: b.Credential, New: "much longer than twelve"}}); err == nil {
		t.Fatal("a value longer than char(12) was accepted (truncated?)")
	}
	if b2, _ := s.Get(ctx, b.ID); b2.Credential != b.Credential {
		t.Fatalf("failed batch wrote %q", b2.Credential)
	}
}

// TestMultiRowsBound: a statement's parameters stay within the driver's
// limit.
func TestMultiRowsBound(t *testing.T) {
	for _, d := range []string{"postgres", "mysql", "sqlite"} {
		dl, _ := dialectFor(d)
		s := &Store{d: dl, fargs: make([]any, 10)}
		per := map[string]int{"postgres": 3, "mysql": 5, "sqlite": 3}[d]
		n := s.multiRows()
		if n < 1 || n*per+10+1 > dl.maxParams() {
			t.Errorf("%s: %d rows a statement", d, n)
		}
	}
}

// TestMultiSwapRace: SwapBatch calls (read, then swap every account to
// old+token) race each other and direct appends in the database. Every
// write appends a unique token, so the final value must hold exactly the
// direct tokens and those of swaps reported successful: a lost update or
// an unreported lost race shows.
func TestMultiSwapRace(t *testing.T) {
	for _, c := range multiCases() {
		t.Run(c.name, func(t *testing.T) {
			const accounts, workers, rounds, natives = 3, 6, 8, 10
			s, db, d := c.open(t, c.intType, nil)
			insertRows(t, db, d, accounts, func(i int) string { return fmt.Sprint(i + 1) },
				func(int) *string { v := "h"; return &v }, func(int) string { return "" })
			concat := func(col, ph string) string { return col + " || " + ph }
			if d.name == "mysql" {
				concat = func(col, ph string) string { return "CONCAT(" + col + ", " + ph + ")" }
			}
			var mu sync.Mutex
			won := map[string][]string{}
			var wg sync.WaitGroup
			errc := make(chan error, workers*rounds+natives*accounts)
			for w := range workers {
				wg.Go(func() {
					for r := range rounds {
						var swaps []store.Swap
						for i := 1; i <= accounts; i++ {
							a, err := s.Get(context.Background(), fmt.Sprint(i))
							if err != nil {
								errc <- err
								return
							}
							swaps = append(swaps, store.Swap{ID: a.ID, Old: a.Credential, New: a.Credential + fmt.Sprintf(">c%d.%d", w, r)})
						}
						res, err := s.SwapBatch(context.Background(), swaps)
						if err != nil {
							errc <- err
							return
						}
						mu.Lock()
						for i, e := range res {
							switch {
							case e == nil:
								won[swaps[i].ID] = append(won[swaps[i].ID], fmt.Sprintf("c%d.%d", w, r))
							case !errors.Is(e, store.ErrConflict):
								errc <- e
							}
						}
						mu.Unlock()
					}
				})
			}
			wg.Go(func() {
				for r := range natives {
					for i := 1; i <= accounts; i++ {
						tok := fmt.Sprintf("n%d", r)
						// The app's own write: when the database picks it as a
						// deadlock victim (it may, against a batch), the app
						// retries it, as a real one would; only a write that
						// happened counts.
						var err error
						for attempt := 0; attempt < 8; attempt++ {
							if _, err = db.Exec("UPDATE accounts SET pw = "+concat("pw", d.ph(1))+" WHERE id = "+d.ph(2), ">"+tok, i); err == nil || !retryable(err) {
								break
							}
						}
						if err != nil {
							errc <- err
							continue
						}
						mu.Lock()
						won[fmt.Sprint(i)] = append(won[fmt.Sprint(i)], tok)
						mu.Unlock()
					}
				}
			})
			wg.Wait()
			close(errc)
			for err := range errc {
				t.Fatal(err)
			}
			for i := 1; i <= accounts; i++ {
				v, _ := credOf(t, db, d, fmt.Sprint(i))
				got := strings.Split(v, ">")[1:]
				want := won[fmt.Sprint(i)]
				slices.Sort(got)
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Errorf("account %d: tokens %v, reported written %v", i, got, want)
				}
			}
			if s.rowBatches.Load() != 0 {
				t.Fatal("fell back to per-row swaps")
			}
		})
	}
}
