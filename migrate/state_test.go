package migrate

import (
	"context"
	"testing"

	"github.com/overstap/overstap/adapters/state"
	"github.com/overstap/overstap/internal/testsvc"
)

// TestPostgresStateStore runs scan, apply and rollback with the journal in
// PostgreSQL (the migrate migration set under state.Open).
func TestPostgresStateStore(t *testing.T) {
	pg := testsvc.Postgres(t)
	ctx := context.Background()
	db, _ := openStateDB(t, state.Config{Driver: "postgres", DSN: pg.DSN})
	accts := mixedAccounts(t, 48)
	ms := newMemStore(accts)
	before := ms.snapshot()
	e := newTestEngine(t, ms, db, Config{BatchSize: 7})
	scan, err := e.Scan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if scan.Summary.Accounts != 48 || scan.Summary.DuplicateNRNs != 0 || scan.Summary.Derived != 16 {
		t.Errorf("summary %+v", scan.Summary)
	}
	k := testKey(t)
	res, err := e.Apply(ctx, ApplyOptions{Policy: PolicyRevokeNRN, PublicKey: k.Public(), RunID: "apply-pg"})
	if err != nil || res.Changed != 16 {
		t.Fatalf("apply %+v %v", res, err)
	}
	if _, err := e.Rollback(ctx, RollbackOptions{Target: "apply-pg", Key: k}); err != nil {
		t.Fatal(err)
	}
	after := ms.snapshot()
	for id, v := range before {
		if after[id] != v {
			t.Errorf("%s not restored", id)
		}
	}
}
