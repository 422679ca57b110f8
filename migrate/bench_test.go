package migrate

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/overstap/overstap/adapters/state"
	"github.com/overstap/overstap/adapters/store"
	"github.com/overstap/overstap/adapters/store/sqlstore"
	"github.com/overstap/overstap/internal/testsvc"
	"github.com/overstap/overstap/migrate/seed"
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// BenchmarkWrapVsRawBcrypt compares wrap-weak apply (journal, sealing,
// CAS, checkpoints, all cores) with raw bcrypt of the same values on all
// cores at the same cost, in the same run. Metric wrap/raw is the ratio of
// throughputs. OVERSTAP_BENCH_BCRYPT_COST (default 10) and
// OVERSTAP_BENCH_WRAP_ACCOUNTS (default 64) tune it.
func BenchmarkWrapVsRawBcrypt(b *testing.B) {
	cost := envInt("OVERSTAP_BENCH_BCRYPT_COST", 10)
	n := envInt("OVERSTAP_BENCH_WRAP_ACCOUNTS", 64)
	h := realHasher(b, cost)
	db := newStateDB(b)
	k := testKey(b)
	var accts []store.Account
	for i := range n {
		accts = append(accts, store.Account{ID: fmt.Sprintf("a%05d", i), Username: "u", Credential: md5hex(fmt.Sprint("pw", i))})
	}
	var engineT, rawT time.Duration
	iter := 0
	for b.Loop() {
		iter++
		st := newMemStore(accts)
		e, err := New(Options{DB: db, Store: st, Hasher: h, Config: Config{BatchSize: 4 * runtime.GOMAXPROCS(0)}})
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		res, err := e.Apply(context.Background(), ApplyOptions{Policy: PolicyWrapWeak, PublicKey: k.Public(), RunID: fmt.Sprintf("bench-wrap-%d", iter)})
		engineT += time.Since(t0)
		if err != nil || res.Changed != int64(n) {
			b.Fatalf("apply: %+v %v", res, err)
		}
		t0 = time.Now()
		rawBcrypt(b, accts, cost)
		rawT += time.Since(t0)
	}
	acc := float64(n * iter)
	b.ReportMetric(acc/engineT.Seconds(), "wrap_accounts/s")
	b.ReportMetric(acc/rawT.Seconds(), "raw_bcrypt/s")
	b.ReportMetric(rawT.Seconds()/engineT.Seconds(), "wrap/raw")
}

func rawBcrypt(b *testing.B, accts []store.Account, cost int) {
	idx := make(chan int, len(accts))
	for i := range accts {
		idx <- i
	}
	close(idx)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := range idx {
				if _, err := bcrypt.GenerateFromPassword([]byte(accts[i].Credential), cost); err != nil {
					b.Error(err)
				}
			}
		})
	}
	wg.Wait()
}

// BenchmarkRevokeVsRawPG seeds a PostgreSQL store of
// OVERSTAP_BENCH_ACCOUNTS rows (default 20000) twice, runs apply (policy
// OVERSTAP_BENCH_POLICY, default revoke-nrn) through the SQL adapter on
// one copy, and on the other a raw loop without journal: keyset read of
// 1000 rows, one compare-and-swap UPDATE ... FROM (VALUES ...) of the same
// rows the engine changed, one connection. Metric engine/raw is the ratio.
func BenchmarkRevokeVsRawPG(b *testing.B) {
	n := envInt("OVERSTAP_BENCH_ACCOUNTS", 20000)
	policy := Policy(os.Getenv("OVERSTAP_BENCH_POLICY"))
	if policy == "" {
		policy = PolicyRevokeNRN
	}
	ctx := context.Background()
	defer BulkGC()() // as the migrate commands run: both loops alike
	var engineT, rawT time.Duration
	var changed int64
	for b.Loop() {
		b.StopTimer()
		pg := testsvc.Postgres(b)
		if _, err := seed.Run(ctx, pg.DB, seed.Config{Driver: "postgres", Accounts: n, Seed: 5, BcryptCost: 4}); err != nil {
			b.Fatal(err)
		}
		if _, err := pg.DB.Exec(`CREATE TABLE raw_accounts AS SELECT * FROM legacy_accounts; ALTER TABLE raw_accounts ADD PRIMARY KEY (id); ANALYZE`); err != nil {
			b.Fatal(err)
		}
		st := openLegacy(b, "bench", "postgres", pg.DSN, sqlstore.Config{MaxOpenConns: 6})
		sdb := newStateDB(b)
		if os.Getenv("OVERSTAP_BENCH_STATE") == "postgres" {
			sdb = pgStateDB(b)
		}
		e, err := New(Options{DB: sdb, Store: st, Hasher: realHasher(b, 10), Config: Config{BatchSize: envInt("OVERSTAP_BENCH_BATCH", 0), SwapStreams: envInt("OVERSTAP_BENCH_STREAMS", 0)}})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		t0 := time.Now()
		res, err := e.Apply(ctx, ApplyOptions{Policy: policy, PublicKey: testKey(b).Public(), RunID: "bench-revoke"})
		engineT += time.Since(t0)
		b.StopTimer()
		st.Close()
		if err != nil {
			b.Fatal(err)
		}
		changed += res.Changed
		// The rows the engine changed, for the raw loop to change too.
		target := map[int64]bool{}
		rows, err := pg.DB.Query(`SELECT id FROM legacy_accounts WHERE passwd = $1`, RevokedMarker("bench-revoke"))
		if err != nil {
			b.Fatal(err)
		}
		for rows.Next() {
			var id int64
			rows.Scan(&id)
			target[id] = true
		}
		rows.Close()
		b.StartTimer()
		t0 = time.Now()
		got := rawRevokeLoop(b, pg.DSN, target)
		rawT += time.Since(t0)
		if got != int64(len(target)) {
			b.Fatalf("raw loop changed %d rows, want %d", got, len(target))
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/engineT.Seconds(), "engine_accounts/s")
	b.ReportMetric(float64(n)*float64(b.N)/rawT.Seconds(), "raw_accounts/s")
	b.ReportMetric(rawT.Seconds()/engineT.Seconds(), "engine/raw")
	b.ReportMetric(float64(changed)/float64(b.N), "changed")
}

// pgStateDB is a state database in a PostgreSQL schema of its own.
func pgStateDB(b *testing.B) *DB {
	db, _ := openStateDB(b, state.Config{Driver: "postgres", DSN: testsvc.Postgres(b).DSN})
	return db
}

// rawRevokeLoop is the baseline: keyset pages of 1000, one CAS UPDATE per
// page for the target rows, one connection, no journal.
func openPG(b *testing.B, dsn string) *sql.DB {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		b.Fatal(err)
	}
	return db
}

func rawRevokeLoop(b *testing.B, dsn string, target map[int64]bool) int64 {
	ctx := context.Background()
	db := openPG(b, dsn)
	defer db.Close()
	db.SetMaxOpenConns(1)
	var after, changed int64
	for {
		rows, err := db.QueryContext(ctx, `SELECT id, passwd FROM raw_accounts WHERE id > $1 ORDER BY id LIMIT $2`, after, envInt("OVERSTAP_BENCH_RAW_PAGE", 1000))
		if err != nil {
			b.Fatal(err)
		}
		var vals []string
		var args []any
		cnt := 0
		for rows.Next() {
			var id int64
			var pw *string
			rows.Scan(&id, &pw)
			after = id
			cnt++
			if target[id] && pw != nil {
				k := len(args)
				vals = append(vals, fmt.Sprintf("($%d::bigint, $%d::text, $%d::text)", k+1, k+2, k+3))
				args = append(args, id, *pw, "!overstap-revoked:raw")
			}
		}
		rows.Close()
		if cnt == 0 {
			return changed
		}
		if len(vals) > 0 {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				b.Fatal(err)
			}
			r, err := tx.ExecContext(ctx, `UPDATE raw_accounts AS t SET passwd = v.new FROM (VALUES `+strings.Join(vals, ",")+`) AS v(id, old, new) WHERE t.id = v.id AND t.passwd = v.old`, args...)
			if err != nil {
				b.Fatal(err)
			}
			k, _ := r.RowsAffected()
			changed += k
			if err := tx.Commit(); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkWorkersVsLocalPG compares, in the same run and alternating,
// a local apply with an apply through the Redis queue by two workers, on
// two copies of the same seeded PostgreSQL store (OVERSTAP_BENCH_ACCOUNTS
// rows, default 20000) and one PostgreSQL state database. The workers are
// engines of their own (own store connections) in this process, as two
// `migrate worker` processes on one machine (OVERSTAP_BENCH_LANES lanes
// each, default DefaultWorkerLanes). Metric workers/local is the ratio of
// throughputs.
func BenchmarkWorkersVsLocalPG(b *testing.B) {
	n := envInt("OVERSTAP_BENCH_ACCOUNTS", 20000)
	ctx := context.Background()
	defer BulkGC()()
	pg := testsvc.Postgres(b)
	if _, err := seed.Run(ctx, pg.DB, seed.Config{Driver: "postgres", Accounts: n, Seed: 5, BcryptCost: 4}); err != nil {
		b.Fatal(err)
	}
	if _, err := pg.DB.Exec(`CREATE TABLE pristine AS SELECT * FROM legacy_accounts; CREATE TABLE queued_accounts (LIKE legacy_accounts INCLUDING ALL)`); err != nil {
		b.Fatal(err)
	}
	r := testsvc.Redis(b)
	sdb := pgStateDB(b)
	k := testKey(b)
	cfg := Config{BatchSize: envInt("OVERSTAP_BENCH_BATCH", 0)}
	open := func(table string) *sqlstore.Store {
		return openLegacy(b, table, "postgres", pg.DSN, sqlstore.Config{Table: table, MaxOpenConns: 6})
	}
	engine := func(st Store) *Engine {
		e, err := New(Options{DB: sdb, Store: st, Hasher: realHasher(b, 10), Config: cfg})
		if err != nil {
			b.Fatal(err)
		}
		return e
	}
	local, queued := open("legacy_accounts"), open("queued_accounts")
	var localT, queuedT time.Duration
	iter := 0
	for b.Loop() {
		b.StopTimer()
		iter++
		for _, t := range []string{"legacy_accounts", "queued_accounts"} {
			if _, err := pg.DB.Exec(`TRUNCATE ` + t + `; INSERT INTO ` + t + ` SELECT * FROM pristine; ANALYZE ` + t); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		t0 := time.Now()
		lres, err := engine(local).Apply(ctx, ApplyOptions{Policy: PolicyRevokeNRN, PublicKey: k.Public(), RunID: fmt.Sprintf("bench-local-%d", iter)})
		localT += time.Since(t0)
		if err != nil {
			b.Fatal(err)
		}
		q, err := NewQueue(r.Client, QueueConfig{Prefix: r.Prefix, Block: 100 * time.Millisecond})
		if err != nil {
			b.Fatal(err)
		}
		wctx, stop := context.WithCancel(ctx)
		var wg sync.WaitGroup
		for i := range 2 {
			w := engine(open("queued_accounts"))
			wg.Go(func() {
				if _, err := w.RunWorker(wctx, q, WorkerOptions{Name: fmt.Sprint("w", i), Lanes: envInt("OVERSTAP_BENCH_LANES", 0)}); err != nil {
					b.Error(err)
				}
			})
		}
		t0 = time.Now()
		qres, err := engine(queued).ApplyQueued(ctx, q, ApplyOptions{Policy: PolicyRevokeNRN, PublicKey: k.Public(), RunID: fmt.Sprintf("bench-queued-%d", iter)})
		queuedT += time.Since(t0)
		stop()
		wg.Wait()
		if err != nil {
			b.Fatal(err)
		}
		if qres.Changed != lres.Changed || qres.Seen != int64(n) {
			b.Fatalf("queued %+v, local %+v", qres, lres)
		}
	}
	b.ReportMetric(float64(n*iter)/localT.Seconds(), "local_accounts/s")
	b.ReportMetric(float64(n*iter)/queuedT.Seconds(), "workers_accounts/s")
	b.ReportMetric(localT.Seconds()/queuedT.Seconds(), "workers/local")
}
