package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // driver "pgx" for openRaw

	"github.com/overstap/overstap/internal/testsvc"
)

// openRaw opens the database behind the store's back.
func openRaw(t *testing.T, cfg Config) *sql.DB {
	t.Helper()
	var db *sql.DB
	var err error
	if cfg.Driver == "postgres" {
		db, err = sql.Open("pgx", cfg.DSN)
	} else {
		db, err = sql.Open("sqlite", cfg.Path+"?_pragma=busy_timeout(5000)")
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func execAll(t *testing.T, db *sql.DB, stmts ...string) {
	t.Helper()
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// forge writes an entry with a correctly computed hash, as an attacker who
// knows the algorithm would.
func forge(t *testing.T, db *sql.DB, d Dialect, seq int64, e Event, prevHash string) string {
	t.Helper()
	e.Time = time.Unix(0, e.Time.UnixNano()).UTC()
	h := hashEntry(seq, e, prevHash)
	details, _ := encodeDetails(e.Details)
	if _, err := db.Exec(d.Rebind(`INSERT INTO audit_log (seq, at, type, actor, target, app, outcome, details, prev_hash, hash)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`), seq, e.Time.UnixNano(), e.Type, e.Actor, e.Target, e.App, e.Outcome, details, prevHash, h); err != nil {
		t.Fatal(err)
	}
	return h
}

// tamper changes the log of a case behind the store's back.
type tamper func(t *testing.T, db *sql.DB, d Dialect, es []Entry)

// inSQL is a tamper that only runs statements.
func inSQL(stmts ...string) tamper {
	return func(t *testing.T, db *sql.DB, _ Dialect, _ []Entry) { execAll(t, db, stmts...) }
}

// rewritten is a tamper that replaces entry seq by a changed copy with a
// correctly recomputed hash.
func rewritten(seq int64, change func(*Event)) tamper {
	return func(t *testing.T, db *sql.DB, d Dialect, es []Entry) {
		execAll(t, db, fmt.Sprintf("DELETE FROM audit_log WHERE seq = %d", seq))
		e := es[seq-1].Event
		change(&e)
		forge(t, db, d, seq, e, es[seq-2].Hash)
	}
}

// testTamper changes the log directly in SQL and checks that Verify names
// the first broken link and its kind. Each case starts from 6 entries.
func testTamper(t *testing.T, b backend) {
	tests := []struct {
		name   string
		tamper tamper
		seq    int64
		kind   BreakKind
	}{
		{"modified actor", inSQL("UPDATE audit_log SET actor = 'admin' WHERE seq = 3"), 3, Modified},
		{"modified time", inSQL("UPDATE audit_log SET at = at + 1 WHERE seq = 2"), 2, Modified},
		{"modified details", inSQL(`UPDATE audit_log SET details = '{"acr":"low","n":"4"}' WHERE seq = 4`), 4, Modified},
		{"details no longer JSON", inSQL(`UPDATE audit_log SET details = 'nonsense' WHERE seq = 5`), 5, Modified},
		{"modified hash column", inSQL("UPDATE audit_log SET hash = '" + strings.Repeat("0", 64) + "' WHERE seq = 2"), 2, Modified},
		{"rewritten with a recomputed hash", rewritten(3, func(e *Event) { e.Outcome = "denied" }), 3, Modified},
		{"last entry rewritten with a recomputed hash", rewritten(6, func(e *Event) { e.Actor = "someone-else" }), 6, Modified},
		{"deleted in the middle", inSQL("DELETE FROM audit_log WHERE seq = 3"), 3, Deleted},
		{"deleted first", inSQL("DELETE FROM audit_log WHERE seq = 1"), 1, Deleted},
		{"deleted last", inSQL("DELETE FROM audit_log WHERE seq = 6"), 6, Deleted},
		{"deleted all", inSQL("DELETE FROM audit_log"), 1, Deleted},
		{"deleted and the rest renumbered", inSQL("DELETE FROM audit_log WHERE seq = 3",
			"UPDATE audit_log SET seq = -(seq - 1) WHERE seq > 3",
			"UPDATE audit_log SET seq = -seq WHERE seq < 0",
			"UPDATE audit_head SET seq = 5"), 3, Deleted},
		{"first deleted and the rest renumbered", inSQL("DELETE FROM audit_log WHERE seq = 1",
			"UPDATE audit_log SET seq = -(seq - 1)",
			"UPDATE audit_log SET seq = -seq",
			"UPDATE audit_head SET seq = 5"), 1, Deleted},
		{"inserted in the middle with a valid hash", func(t *testing.T, db *sql.DB, d Dialect, es []Entry) {
			execAll(t, db, "UPDATE audit_log SET seq = -(seq + 1) WHERE seq >= 3",
				"UPDATE audit_log SET seq = -seq WHERE seq < 0",
				"UPDATE audit_head SET seq = 7")
			e := es[1].Event
			e.Type, e.Actor = "grant.created", "forged"
			forge(t, db, d, 3, e, es[1].Hash)
		}, 3, Inserted},
		{"inserted at the end with a valid hash", func(t *testing.T, db *sql.DB, d Dialect, es []Entry) {
			e := es[5].Event
			e.Actor = "forged"
			forge(t, db, d, 7, e, es[5].Hash)
		}, 7, Inserted},
		{"inserted before the first", func(t *testing.T, db *sql.DB, d Dialect, es []Entry) {
			forge(t, db, d, 0, es[0].Event, "")
		}, 0, Inserted},
		{"two entries swapped", inSQL("UPDATE audit_log SET seq = -3 WHERE seq = 3",
			"UPDATE audit_log SET seq = 3 WHERE seq = 4",
			"UPDATE audit_log SET seq = 4 WHERE seq = -3"), 3, Reordered},
		{"entry moved to the end", inSQL("UPDATE audit_log SET seq = 100 WHERE seq = 2",
			"UPDATE audit_log SET seq = -(seq - 1) WHERE seq > 2 AND seq < 100",
			"UPDATE audit_log SET seq = -seq WHERE seq < 0",
			"UPDATE audit_log SET seq = 6 WHERE seq = 100"), 2, Reordered},
		{"head row removed", inSQL("DELETE FROM audit_head"), 1, Deleted},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := b(t)
			s := open(t, cfg)
			es := appendN(t, s, 6)
			if rep := mustVerify(t, s); !rep.OK() {
				t.Fatalf("intact log reported broken: %+v", rep.Break)
			}
			tc.tamper(t, openRaw(t, cfg), s.Dialect(), es)
			rep := mustVerify(t, s)
			if rep.OK() {
				t.Fatal("tampering not detected")
			}
			if rep.Break.Seq != tc.seq || rep.Break.Kind != tc.kind {
				t.Errorf("break = %d %s (%s), want %d %s", rep.Break.Seq, rep.Break.Kind, rep.Break.Detail, tc.seq, tc.kind)
			}
			if rep.Break.Detail == "" {
				t.Error("no detail")
			}
		})
	}
}

func TestUnreachable(t *testing.T) {
	ctx := context.Background()
	t.Run("postgres", func(t *testing.T) {
		port := testsvc.FreePort(t)
		dsn := "postgres://overstap@127.0.0.1:" + itoa(port) + "/overstap?sslmode=disable"
		start := time.Now()
		_, err := Open(ctx, Config{Driver: "postgres", DSN: dsn, ConnectTimeout: 2 * time.Second}, nil)
		if !errors.Is(err, ErrUnreachable) {
			t.Fatalf("Open = %v, want ErrUnreachable", err)
		}
		if !strings.Contains(err.Error(), "127.0.0.1:"+itoa(port)+"/overstap") {
			t.Errorf("error does not name the database: %v", err)
		}
		if time.Since(start) > 30*time.Second {
			t.Errorf("Open took %v", time.Since(start))
		}
	})
	t.Run("sqlite directory missing", func(t *testing.T) {
		path := t.TempDir() + "/no/such/dir/state.db"
		_, err := Open(ctx, Config{Path: path}, nil)
		if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), path) {
			t.Fatalf("Open = %v, want ErrUnreachable naming %s", err, path)
		}
	})
	t.Run("sqlite not a database", func(t *testing.T) {
		path := t.TempDir() + "/junk.db"
		if err := writeFile(path, strings.Repeat("not a database ", 100)); err != nil {
			t.Fatal(err)
		}
		_, err := Open(ctx, Config{Path: path}, nil)
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Fatalf("Open = %v, want an error naming %s", err, path)
		}
	})
}
