package sqlstore

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"github.com/overstap/overstap/adapters/store"
	"github.com/overstap/overstap/adapters/store/storetest"
	"github.com/overstap/overstap/internal/testsvc"
)

const benchRows = 20_000

// benchIterate compares the adapter's Iterate with a raw keyset SELECT of
// the same columns on the same table in the same run; ratios count.
func benchIterate(b *testing.B, s *Store, db *sql.DB, rawQuery string) {
	ctx := context.Background()
	b.Run("raw-keyset", func(b *testing.B) {
		rows := 0
		for b.Loop() {
			last := int64(0)
			for {
				r, err := db.QueryContext(ctx, rawQuery, last, 1000)
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				var v [8]sql.NullString
				for r.Next() {
					if err := r.Scan(&v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]); err != nil {
						b.Fatal(err)
					}
					n++
				}
				r.Close()
				rows += n
				if n < 1000 {
					break
				}
				last += 1000
			}
		}
		b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
	})
	b.Run("adapter", func(b *testing.B) { storetest.BenchIterate(b, s) })
}

func BenchmarkIteratePostgres(b *testing.B) {
	pg := testsvc.Postgres(b)
	mustExec(b, pg.DB, sprintf(pgTable, "bigint"))
	mustExec(b, pg.DB, `INSERT INTO accounts SELECT g, 'user' || g, '{SSHA}' || md5(g::text), 's', NULL, 'Naam ' || g, false, false
		FROM generate_series(1, $1) g`, benchRows)
	s := openStore(b, "postgres", pg.DSN, nil)
	benchIterate(b, s, pg.DB, `SELECT id, username, pw, salt, nrn, full_name, disabled, federated FROM accounts WHERE id > $1 ORDER BY id LIMIT $2`)
}

func BenchmarkIterateMariaDB(b *testing.B) {
	my := testsvc.MariaDB(b)
	mustExec(b, my.DB, sprintf(myTable, "BIGINT"))
	mustExec(b, my.DB, sprintf(`INSERT INTO accounts SELECT seq, CONCAT('user', seq), CONCAT('{SSHA}', MD5(seq)), 's', NULL,
		CONCAT('Naam ', seq), 0, 0 FROM seq_1_to_%d`, benchRows))
	s := openStore(b, "mysql", my.DSN, nil)
	benchIterate(b, s, my.DB, "SELECT id, username, pw, salt, nrn, full_name, disabled, federated FROM accounts WHERE id > ? ORDER BY id LIMIT ?")
}

func BenchmarkIterateSQLite(b *testing.B) {
	dsn, db := sqliteDB(b, sprintf(liteTable, "INTEGER"))
	mustExec(b, db, `WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < ?)
		INSERT INTO accounts SELECT n, 'user' || n, '{SSHA}' || hex(randomblob(16)), 's', NULL, 'Naam ' || n, 0, 0 FROM g`, benchRows)
	s := openStore(b, "sqlite", dsn, nil)
	benchIterate(b, s, db, "SELECT id, username, pw, salt, nrn, full_name, disabled, federated FROM accounts WHERE id > ? ORDER BY id LIMIT ?")
}

// BenchmarkSwapBatchPostgres compares SwapBatch (multi-row compare-and-swap,
// one transaction) with a raw UPDATE ... FROM (VALUES ...) of the same rows
// in one transaction, batches of 350 swaps spread over 1000 keys of a 100k
// table, in the same run; and the per-row path (one UPDATE a swap).
func BenchmarkSwapBatchPostgres(b *testing.B) {
	pg := testsvc.Postgres(b)
	mustExec(b, pg.DB, sprintf(pgTable, "bigint"))
	mustExec(b, pg.DB, `INSERT INTO accounts SELECT g, 'user' || g, 'h', 's', NULL, 'Naam ' || g, false, false
		FROM generate_series(1, 100000) g`)
	mustExec(b, pg.DB, `ANALYZE accounts`)
	s := openStore(b, "postgres", pg.DSN, nil)
	ctx := context.Background()
	const per = 350
	batch := func(k int, old, nw string) []store.Swap {
		sw := make([]store.Swap, per)
		base := (k % 99) * 1000
		for i := range sw {
			sw[i] = store.Swap{ID: sprintf("%d", base+1+i*1000/per), Old: old, New: nw}
		}
		return sw
	}
	b.Run("raw", func(b *testing.B) {
		k := 0
		for b.Loop() {
			k++
			sw := batch(k, "h", "h")
			var vals []string
			var args []any
			for i, x := range sw {
				vals = append(vals, sprintf("($%d::bigint, $%d::text, $%d::text)", 3*i+1, 3*i+2, 3*i+3))
				args = append(args, x.ID, x.Old, x.New)
			}
			tx, err := pg.DB.BeginTx(ctx, nil)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE accounts AS t SET pw = v.new FROM (VALUES `+strings.Join(vals, ",")+`) AS v(id, old, new) WHERE t.id = v.id AND t.pw = v.old`, args...); err != nil {
				b.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(per*b.N)/b.Elapsed().Seconds(), "swaps/s")
	})
	adapter := func(b *testing.B) {
		k := 0
		for b.Loop() {
			k++
			res, err := s.SwapBatch(ctx, batch(k, "h", "h"))
			if err != nil || res[0] != nil {
				b.Fatal(err, res[0])
			}
		}
		b.ReportMetric(float64(per*b.N)/b.Elapsed().Seconds(), "swaps/s")
	}
	b.Run("adapter", adapter)
	// The per-row path (custom write queries; before multi-row swaps).
	m := s.multi
	s.multi = nil
	b.Run("adapter-per-row", adapter)
	s.multi = m
}
