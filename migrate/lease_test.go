package migrate

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestSettleNeedsTheLease: the first worker of a batch journals with the
// lease; a worker taking a stale lease over journals separately, under it;
// the worker whose lease was taken over journals and settles nothing (its
// outcome would land on the entries the new holder journalled); the holder
// settles, once.
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
	take := func(worker string, now time.Time) lease {
		got, err := db.leaseAndJournal(ctx, "r1", 1, worker, now, now.Add(-time.Minute), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := take("A", t0); got != leaseJournaled {
		t.Fatalf("A on a free batch: %v", got)
	}
	if got := take("B", t0.Add(30*time.Second)); got != leaseBusy {
		t.Fatalf("B on a live lease: %v", got)
	}
	if got := take("B", t0.Add(2*time.Minute)); got != leaseTaken {
		t.Fatalf("B on a stale lease: %v", got)
	}
	if err := db.journalUnderLease(ctx, "r1", 1, "A", t0.Add(2*time.Minute), nil, nil); !errors.Is(err, errLeaseLost) {
		t.Fatalf("A journaled after losing its lease: %v", err)
	}
	if err := db.journalUnderLease(ctx, "r1", 1, "B", t0.Add(2*time.Minute), nil, nil); err != nil {
		t.Fatalf("the holder could not journal: %v", err)
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
	if got := take("A", t0.Add(10*time.Minute)); got != leaseDone {
		t.Fatalf("after settling: %v", got)
	}
}
