package migrate

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/overstap/overstap/adapters/store"
	"github.com/overstap/overstap/internal/testsvc"
)

// dyingStore lets one worker die right after its store transaction
// committed (before it settles the journal and acknowledges the batch).
type dyingStore struct {
	*memStore
	die func()
}

func (d dyingStore) SwapBatch(ctx context.Context, swaps []store.Swap) ([]error, error) {
	res, err := d.memStore.SwapBatch(ctx, swaps)
	d.die()
	return res, errors.Join(err, context.Canceled)
}

func TestQueueWorkersExactlyOnce(t *testing.T) {
	r := testsvc.Redis(t)
	ctx := context.Background()
	db := newStateDB(t)
	accts := mixedAccounts(t, 90)
	st := newMemStore(accts)
	k := testKey(t)
	q, err := NewQueue(r.Client, QueueConfig{Prefix: r.Prefix, ClaimAfter: 300 * time.Millisecond, Block: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	coord := newTestEngine(t, st, db, Config{BatchSize: 5})
	var wg sync.WaitGroup
	// Worker 0 dies inside its first batch, after the store committed.
	dctx, die := context.WithCancel(ctx)
	var once sync.Once
	dying := newTestEngine(t, dyingStore{st, func() { once.Do(die) }}, db, Config{BatchSize: 5})
	wg.Go(func() {
		_, err := dying.RunWorker(dctx, q, WorkerOptions{Name: "w0"})
		if err == nil || !errors.Is(err, ErrStopped) {
			t.Errorf("dying worker: %v", err)
		}
	})
	wctx, stopWorkers := context.WithCancel(ctx)
	counts := make([]int64, 3)
	for i := range 3 {
		w := newTestEngine(t, st, db, Config{BatchSize: 5, Workers: 1})
		wg.Go(func() {
			n, err := w.RunWorker(wctx, q, WorkerOptions{Name: fmt.Sprintf("w%d", i+1)})
			if err != nil {
				t.Errorf("worker %d: %v", i+1, err)
			}
			counts[i] = n
		})
	}
	res, err := coord.ApplyQueued(ctx, q, ApplyOptions{Policy: PolicyRevokeNRN, PublicKey: k.Public(), RunID: "apply-queued"})
	stopWorkers()
	die()
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if res.Changed != 30 || res.Seen != 90 || res.Conflicts != 0 {
		t.Errorf("result %+v", res)
	}
	for id, n := range st.writes {
		if n != 1 {
			t.Errorf("%s written %d times", id, n)
		}
	}
	if len(st.writes) != 30 {
		t.Errorf("%d accounts written, want 30", len(st.writes))
	}
	// Same journal as a local, uninterrupted run.
	refDB := newStateDB(t)
	if _, err := newTestEngine(t, newMemStore(accts), refDB, Config{BatchSize: 5}).Apply(ctx, ApplyOptions{Policy: PolicyRevokeNRN, PublicKey: k.Public(), RunID: "apply-queued"}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(journalOf(t, refDB, k, "apply-queued"), journalOf(t, db, k, "apply-queued")); diff != "" {
		t.Errorf("journal (-local +queued):\n%s", diff)
	}
	if pending, _ := r.Client.XPending(ctx, q.stream, queueGroup).Result(); pending != nil && pending.Count != 0 {
		t.Errorf("%d batches still pending", pending.Count)
	}
}
