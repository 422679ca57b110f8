package migrate

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestSettleNeedsTheLease: a worker whose lease on a batch went stale and
// was taken over settles nothing (its outcome would land on the entries
// the new holder journalled); the holder settles, once.
func TestSettleNeedsTheLease(t *testing.T) {
	ctx := context.Background()
	db, _ := openStateDB(t, sqliteState(t))
	t0 := time.Unix(1_800_000_000, 0)
	if err := db.CreateRun(ctx, Run{ID: "r1", Kind: "apply", Policy: "revoke", StoreName: "s", StartedAt: t0, Status: "running"}); err != nil {
		t.Fatal(err)
	}
	if err := db.recordBatch(ctx, batchMsg{Run: "r1", Seq: 1, IDs: []string{"a"}}, Checkpoint{}, t0); err != nil {
		t.Fatal(err)
	}
	lease := func(worker string, now time.Time) (bool, bool) {
		taken, done, err := db.leaseAndJournal(ctx, "r1", 1, worker, now, now.Add(-time.Minute), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		return taken, done
	}
	if taken, _ := lease("A", t0); !taken {
		t.Fatal("A could not take a free batch")
	}
	if taken, _ := lease("B", t0.Add(30*time.Second)); taken {
		t.Fatal("B took a live lease")
	}
	if taken, _ := lease("B", t0.Add(2*time.Minute)); !taken {
		t.Fatal("B could not take a stale lease")
	}
	outcome := map[string][]string{StateApplied: {"a"}}
	if err := db.settleBatch(ctx, "r1", 1, "A", outcome, nil, t0.Add(3*time.Minute)); !errors.Is(err, errLeaseLost) {
		t.Fatalf("A settled after losing its lease: %v", err)
	}
	if err := db.settleBatch(ctx, "r1", 1, "B", outcome, nil, t0.Add(3*time.Minute)); err != nil {
		t.Fatalf("the holder could not settle: %v", err)
	}
	if err := db.settleBatch(ctx, "r1", 1, "B", outcome, nil, t0.Add(4*time.Minute)); !errors.Is(err, errLeaseLost) {
		t.Fatalf("a done batch settled again: %v", err)
	}
	if _, done := lease("A", t0.Add(10*time.Minute)); !done {
		t.Fatal("the batch is not done")
	}
}
