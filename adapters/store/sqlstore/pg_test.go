package sqlstore

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/overstap/overstap/adapters/store"
	"github.com/overstap/overstap/adapters/store/storetest"
	"github.com/overstap/overstap/auth/nrn"
	"github.com/overstap/overstap/internal/testsvc"
)

func heapInuse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// TestPostgresIterate100kFlatMemory iterates 100k rows and checks the heap
// does not grow with the number of rows read: a memory bound, not a timing.
func TestPostgresIterate100kFlatMemory(t *testing.T) {
	pg := testsvc.Postgres(t)
	mustExec(t, pg.DB, sprintf(pgTable, "bigint"))
	const total = 100_000
	mustExec(t, pg.DB, `INSERT INTO accounts SELECT g, 'user' || g, '{SSHA}' || md5(g::text), 's', NULL, 'Naam ' || g, false, false
		FROM generate_series(1, $1) g`, total)
	s := openStore(t, "postgres", pg.DSN, nil)
	ctx := context.Background()
	var cur store.Cursor
	seen, pages := 0, 0
	var early, peak uint64
	var last int64
	for {
		page, next, err := s.Iterate(ctx, cur, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range page {
			var id int64
			for _, c := range a.ID {
				id = id*10 + int64(c-'0')
			}
			if id <= last {
				t.Fatalf("out of order: %d after %d", id, last)
			}
			last = id
		}
		seen += len(page)
		pages++
		if pages%10 == 0 {
			h := heapInuse()
			if pages == 10 {
				early = h
			}
			peak = max(peak, h)
		}
		if next == "" {
			break
		}
		cur = next
	}
	if seen != total {
		t.Fatalf("saw %d rows, want %d", seen, total)
	}
	// One page of 1000 accounts is well under 1 MiB; allow 4 MiB of noise.
	const slack = 4 << 20
	t.Logf("heap in use after 10k rows %d KiB, peak over 100k rows %d KiB", early>>10, peak>>10)
	if peak > early+slack {
		t.Fatalf("heap grew with rows: %d -> %d bytes", early, peak)
	}
}

// TestPostgresDroppedConnectionResume kills the adapter's backend
// connections from a separate admin connection in the middle of an
// iteration and continues from the cursor: no row lost, none twice.
func TestPostgresDroppedConnectionResume(t *testing.T) {
	pg := testsvc.Postgres(t)
	mustExec(t, pg.DB, sprintf(pgTable, "bigint"))
	const total = 2000
	mustExec(t, pg.DB, `INSERT INTO accounts SELECT g, 'user' || g, 'h' || g, NULL, NULL, NULL, NULL, NULL FROM generate_series(1, $1) g`, total)
	app := strings.ReplaceAll(pg.Schema, "t_", "ovs_drop_")
	s := openStore(t, "postgres", pg.DSN+"&application_name="+app, nil)
	iterateThroughKill(t, s, 200, 3, total, func(rows int) {
		var killed int
		if err := pg.DB.QueryRow(`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1`, app).Scan(&killed); err != nil {
			t.Fatal(err)
		}
		if killed == 0 {
			t.Fatal("no backend connection to terminate")
		}
		t.Logf("terminated %d backend connection(s) after %d rows", killed, rows)
	})
}

// iterateThroughKill reads s in pages of limit, calls kill (with the rows
// read so far) before page killAt, and resumes from the cursor after each
// failure (at most five, each a clean "sqlstore: " error without a
// national number): it fails unless every one of total rows is seen once.
func iterateThroughKill(t *testing.T, s *Store, limit, killAt, total int, kill func(rows int)) {
	t.Helper()
	ctx := context.Background()
	var cur store.Cursor
	seen := map[string]bool{}
	failures := 0
	for pages := 0; ; pages++ {
		if pages == killAt {
			kill(len(seen))
		}
		page, next, err := s.Iterate(ctx, cur, limit)
		if err != nil {
			if failures++; failures > 5 {
				t.Fatalf("does not recover: %v", err)
			}
			if errors.Is(err, store.ErrNotFound) || !strings.HasPrefix(err.Error(), "sqlstore: ") || nrn.Contains(err.Error()) {
				t.Fatalf("bad error: %v", err)
			}
			t.Logf("iteration error (resuming from cursor %q): %v", cur, err)
			continue
		}
		for _, a := range page {
			if seen[a.ID] {
				t.Fatalf("row %s twice", a.ID)
			}
			seen[a.ID] = true
		}
		if next == "" {
			break
		}
		cur = next
	}
	if len(seen) != total {
		t.Fatalf("saw %d rows, want %d", len(seen), total)
	}
}

// TestPostgresKeyOrder: integer keys sort numerically, text keys byte-wise
// whatever the database collation.
func TestPostgresKeyOrder(t *testing.T) {
	cases := []struct {
		name, idType string
		ids, want    []string
	}{
		{"integer", "bigint", []string{"10", "2", "100", "9"}, []string{"2", "9", "10", "100"}},
		{"text", "text", []string{"a", "B", "10", "2", "ä", "100"}, []string{"10", "100", "2", "B", "a", "ä"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pg := testsvc.Postgres(t)
			mustExec(t, pg.DB, sprintf(pgTable, c.idType))
			for _, id := range c.ids {
				mustExec(t, pg.DB, `INSERT INTO accounts (id, username, pw) VALUES ($1, $2, 'h')`, id, "u"+id)
			}
			s := openStore(t, "postgres", pg.DSN, nil)
			checkOrder(t, s, c.want)
		})
	}
}

func checkOrder(t *testing.T, s store.Store, want []string) {
	t.Helper()
	var got []string
	var cur store.Cursor
	for {
		page, next, err := s.Iterate(context.Background(), cur, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range page {
			got = append(got, a.ID)
		}
		if next == "" {
			break
		}
		cur = next
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("order %v, want %v", got, want)
	}
}

// TestPostgresMissingColumns: Open names every missing column.
func TestPostgresMissingColumns(t *testing.T) {
	pg := testsvc.Postgres(t)
	mustExec(t, pg.DB, `CREATE TABLE accounts (id bigint PRIMARY KEY, username text, pw text)`)
	cfg := Config{Driver: "postgres", DSN: secret(pg.DSN), Table: "accounts", Columns: stdColumns()}
	_, err := Open(context.Background(), "legacy", cfg, nil)
	if err == nil {
		t.Fatal("opened with missing columns")
	}
	storetest.WantKeys(t, err, "columns.salt", "columns.nrn", "columns.name", "columns.disabled", "columns.federated")
	if strings.Contains(err.Error(), "columns.username") {
		t.Errorf("error names a present column: %v", err)
	}
}
