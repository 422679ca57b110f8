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
	q := newTestQueue(t, r, QueueConfig{ClaimAfter: 300 * time.Millisecond, Block: 100 * time.Millisecond})
	coord := newTestEngine(t, st, db, Config{BatchSize: 5})
	var res ApplyResult
	coordDone := make(chan error, 1)
	go func() {
		var err error
		res, err = coord.ApplyQueued(ctx, q, ApplyOptions{Policy: PolicyRevokeNRN, PublicKey: k.Public(), RunID: "apply-queued"})
		coordDone <- err
	}()
	var wg sync.WaitGroup
	// Worker 0, alone at first, dies inside its first batch, after the
	// store committed; then the others start.
	dctx, die := context.WithCancel(ctx)
	var once sync.Once
	dying := newTestEngine(t, dyingStore{st, func() { once.Do(die) }}, db, Config{BatchSize: 5})
	wg.Go(func() {
		_, err := dying.RunWorker(dctx, q, WorkerOptions{Name: "w0"})
		if err == nil || !errors.Is(err, ErrStopped) {
			t.Errorf("dying worker: %v", err)
		}
	})
	select {
	case <-dctx.Done():
	case <-time.After(time.Minute):
		t.Fatal("worker 0 got no batch")
	}
	wctx, stopWorkers := context.WithCancel(ctx)
	counts := make([]int64, 3)
	for i := range 3 {
		w := newTestEngine(t, st, db, Config{BatchSize: 5, Workers: 1})
		wg.Go(func() {
			n, err := w.RunWorker(wctx, q, WorkerOptions{Name: fmt.Sprintf("w%d", i+1)})
			if stoppedBadly(err) {
				t.Errorf("worker %d: %v", i+1, err)
			}
			counts[i] = n
		})
	}
	err := <-coordDone
	stopWorkers()
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
	assertNoKeys(t, r)
}

// newTestQueue is a queue under the test's Redis prefix.
func newTestQueue(t testing.TB, r testsvc.R, cfg QueueConfig) *Queue {
	t.Helper()
	cfg.Prefix = r.Prefix
	q, err := NewQueue(r.Client, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// startWorkers runs n workers on q ("w0", "w1", ...), each on its own
// engine; stop cancels them and waits until they are gone. A worker that
// stops badly fails the test.
func startWorkers(t testing.TB, ctx context.Context, q *Queue, n int, engine func() *Engine) (stop func()) {
	wctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for i := range n {
		w := engine()
		wg.Go(func() {
			if _, err := w.RunWorker(wctx, q, WorkerOptions{Name: fmt.Sprint("w", i)}); stoppedBadly(err) {
				t.Errorf("worker %d: %v", i, err)
			}
		})
	}
	return func() {
		cancel()
		wg.Wait()
	}
}

// stoppedBadly reports a worker error other than being stopped by its
// context in the middle of a batch (a leftover copy of a finished run's
// batch may be in hand when the test stops the workers).
func stoppedBadly(err error) bool {
	return err != nil && !errors.Is(err, context.Canceled)
}

// assertNoKeys fails when a key under the test's prefix remains.
func assertNoKeys(t *testing.T, r testsvc.R) {
	t.Helper()
	keys, err := r.Client.Keys(context.Background(), r.Prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 0 {
		t.Errorf("keys left after the run: %q", keys)
	}
}

// TestQueueCleanupBetweenRuns: the stream a run used is gone when it
// finishes, even with workers still waiting on it; the same workers then
// serve the next run, which the coordinator creates the stream for again.
func TestQueueCleanupBetweenRuns(t *testing.T) {
	r := testsvc.Redis(t)
	ctx := context.Background()
	db := newStateDB(t)
	st := newMemStore(mixedAccounts(t, 60))
	k := testKey(t)
	q := newTestQueue(t, r, QueueConfig{Block: 200 * time.Millisecond})
	stop := startWorkers(t, ctx, q, 2, func() *Engine { return newTestEngine(t, st, db, Config{BatchSize: 7}) })
	coord := newTestEngine(t, st, db, Config{BatchSize: 7})
	for i, p := range []Policy{PolicyRevokeNRN, PolicyRevokeAll} {
		res, err := coord.ApplyQueued(ctx, q, ApplyOptions{Policy: p, PublicKey: k.Public(), RunID: fmt.Sprint("apply-cleanup-", i)})
		if err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
		if res.Seen != 60 || res.Changed == 0 {
			t.Errorf("run %d: %+v", i, res)
		}
		assertNoKeys(t, r)
	}
	// The workers, still polling, create nothing.
	time.Sleep(3 * streamPoll)
	stop()
	assertNoKeys(t, r)
}

// TestQueueCoordinatorResume: a coordinator stopped after publishing (no
// worker yet) is resumed; the copies of the first attempt are replaced by
// copies published again, the workers apply every account exactly once,
// and the finished run leaves no key.
func TestQueueCoordinatorResume(t *testing.T) {
	r := testsvc.Redis(t)
	ctx := context.Background()
	db := newStateDB(t)
	st := newMemStore(mixedAccounts(t, 60))
	k := testKey(t)
	q := newTestQueue(t, r, QueueConfig{Block: 100 * time.Millisecond})
	coord := newTestEngine(t, st, db, Config{BatchSize: 7})
	cctx, cancel := context.WithCancel(ctx)
	go func() {
		// 60 accounts in batches of 7: 9 batches published, then stop.
		for r.Client.XLen(ctx, q.stream).Val() < 9 {
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
	}()
	if _, err := coord.ApplyQueued(cctx, q, ApplyOptions{Policy: PolicyRevokeNRN, PublicKey: k.Public(), RunID: "apply-resume"}); !errors.Is(err, ErrStopped) {
		t.Fatalf("first attempt: %v", err)
	}
	stop := startWorkers(t, ctx, q, 2, func() *Engine { return newTestEngine(t, st, db, Config{BatchSize: 7}) })
	res, err := coord.ApplyQueued(ctx, q, ApplyOptions{Policy: PolicyRevokeNRN, PublicKey: k.Public(), RunID: "apply-resume"})
	stop()
	if err != nil || !res.Resumed || res.Changed != 20 || res.Seen != 60 {
		t.Fatalf("resumed: %+v %v", res, err)
	}
	for id, n := range st.writes {
		if n != 1 {
			t.Errorf("%s written %d times", id, n)
		}
	}
	assertNoKeys(t, r)
}

// TestQueuePublishRecreatesTheGroup: when another run's cleanup deleted
// the stream (and its group) after this run made sure of the group, the
// next batch published brings both back, so workers can read it.
func TestQueuePublishRecreatesTheGroup(t *testing.T) {
	r := testsvc.Redis(t)
	ctx := context.Background()
	q := newTestQueue(t, r, QueueConfig{Block: 100 * time.Millisecond})
	t.Cleanup(func() { r.Client.Del(context.Background(), q.stream) })
	if err := q.ensureGroup(ctx); err != nil {
		t.Fatal(err)
	}
	if err := dropIfEmpty.Run(ctx, q.rdb, []string{q.stream}).Err(); err != nil {
		t.Fatal(err)
	}
	if err := q.publish(ctx, batchMsg{Run: "r1", Seq: 1, IDs: []string{"a"}}); err != nil {
		t.Fatal(err)
	}
	if err := q.publish(ctx, batchMsg{Run: "r1", Seq: 2, IDs: []string{"b"}}); err != nil {
		t.Fatal(err) // the group exists now: the script goes on to XADD
	}
	msgs, err := q.next(ctx, "w0")
	if err != nil || len(msgs) != 1 {
		t.Fatalf("a worker reads %d entries: %v", len(msgs), err)
	}
}
