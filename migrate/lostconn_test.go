package migrate

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/overstap/overstap/adapters/store/sqlstore"
	"github.com/overstap/overstap/internal/testsvc"
	"github.com/overstap/overstap/migrate/seed"
)

// killer terminates the store's PostgreSQL connections (and only those:
// they carry a unique application_name) after a number of progress updates.
type killer struct {
	t     *testing.T
	pg    testsvc.PG
	app   string
	after int
	n     int
}

func (k *killer) Update(u ProgressUpdate) {
	k.n++
	if k.n != k.after {
		return
	}
	if _, err := k.pg.DB.Exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, k.app); err != nil {
		k.t.Errorf("terminate: %v", err)
	}
}

// TestLostStoreConnectionStopsAtCheckpoint kills the store's database
// connections in the middle of an apply: the run stops with ErrStopped, and
// resuming it ends exactly like an uninterrupted run.
func TestLostStoreConnectionStopsAtCheckpoint(t *testing.T) {
	ctx := context.Background()
	pg := testsvc.Postgres(t)
	if _, err := seed.Run(ctx, pg.DB, seed.Config{Driver: "postgres", Accounts: 3000, Seed: 9, BcryptCost: 4}); err != nil {
		t.Fatal(err)
	}
	if _, err := pg.DB.Exec(`CREATE TABLE orig AS SELECT * FROM legacy_accounts`); err != nil {
		t.Fatal(err)
	}
	app := "migrate_" + pg.Schema
	open := func() *sqlstore.Store {
		return openLegacy(t, "seed-postgres", "postgres", pg.DSN+"&application_name="+app, sqlstore.Config{})
	}
	k := testKey(t)
	db := newStateDB(t)
	st := open()
	kill := &killer{t: t, pg: pg, app: app, after: 3}
	e, err := New(Options{DB: db, Store: st, Hasher: realHasher(t, 4), Progress: kill, Config: Config{BatchSize: 200}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.Apply(ctx, ApplyOptions{Policy: PolicyRevokeNRN, PublicKey: k.Public(), RunID: "apply-lost"})
	if !errors.Is(err, ErrStopped) {
		t.Fatalf("apply with a killed connection: %v", err)
	}
	t.Logf("stopped: %v", err)
	r, _ := db.GetRun(ctx, "apply-lost")
	if r.Status != StatusFailed {
		t.Errorf("run status %q", r.Status)
	}
	st.Close()
	// Resume with a fresh connection.
	st = open()
	defer st.Close()
	e2, _ := New(Options{DB: db, Store: st, Hasher: realHasher(t, 4), Config: Config{BatchSize: 200}})
	res, err := e2.Apply(ctx, ApplyOptions{Policy: PolicyRevokeNRN, PublicKey: k.Public(), RunID: "apply-lost"})
	if err != nil {
		t.Fatal(err)
	}
	// Reference: the same run on a pristine copy, uninterrupted.
	refPG := testsvc.Postgres(t)
	if _, err := refPG.DB.Exec(`CREATE TABLE legacy_accounts AS SELECT * FROM ` + pg.Schema + `.orig; ALTER TABLE legacy_accounts ADD PRIMARY KEY (id)`); err != nil {
		t.Fatal(err)
	}
	ref := openLegacy(t, "seed-postgres", "postgres", refPG.DSN, sqlstore.Config{})
	refDB := newStateDB(t)
	re, _ := New(Options{DB: refDB, Store: ref, Hasher: realHasher(t, 4), Config: Config{BatchSize: 200}})
	want, err := re.Apply(ctx, ApplyOptions{Policy: PolicyRevokeNRN, PublicKey: k.Public(), RunID: "apply-lost"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Changed != want.Changed || res.Seen != 3000 {
		t.Errorf("resumed %+v, uninterrupted %+v", res, want)
	}
	if diff := cmp.Diff(pgCredentials(t, refPG.DB), pgCredentials(t, pg.DB)); diff != "" {
		t.Errorf("store differs (-uninterrupted +resumed):\n%s", diff)
	}
	if diff := cmp.Diff(journalOf(t, refDB, k, "apply-lost"), journalOf(t, db, k, "apply-lost")); diff != "" {
		t.Errorf("journal differs (-uninterrupted +resumed):\n%s", diff)
	}
}
