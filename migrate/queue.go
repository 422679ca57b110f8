package migrate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/overstap/overstap/adapters/store"
)

// QueueConfig configures the Redis Stream work queue.
type QueueConfig struct {
	// Prefix starts every Redis key (default "overstap:"); the stream is
	// Prefix + "migrate:batches".
	Prefix string `yaml:"prefix"`
	// ClaimAfter is how long a batch may stay unacknowledged by a worker
	// before another worker reclaims it with XAUTOCLAIM (default 60s).
	// Live workers extend their claim every ClaimAfter/3.
	ClaimAfter time.Duration `yaml:"claim_after"`
	// Block is how long a worker waits for new batches per read (default 2s).
	Block time.Duration `yaml:"block"`
}

// Validate lists every problem of the configuration.
func (c QueueConfig) Validate() error {
	var errs []error
	if strings.ContainsAny(c.Prefix, " \t\r\n") || len(c.Prefix) > 128 {
		errs = append(errs, errors.New("prefix: at most 128 characters, no white space"))
	}
	if c.ClaimAfter != 0 && (c.ClaimAfter < 100*time.Millisecond || c.ClaimAfter > 24*time.Hour) {
		errs = append(errs, errors.New("claim_after: between 100ms and 24h (0 = 60s)"))
	}
	if c.Block < 0 || c.Block > time.Minute {
		errs = append(errs, errors.New("block: between 0 and 1m (0 = 2s)"))
	}
	return errors.Join(errs...)
}

func (c QueueConfig) withDefaults() QueueConfig {
	if c.Prefix == "" {
		c.Prefix = "overstap:"
	}
	if c.ClaimAfter == 0 {
		c.ClaimAfter = 60 * time.Second
	}
	if c.Block == 0 {
		c.Block = 2 * time.Second
	}
	return c
}

const queueGroup = "workers"

// Queue is the Redis Stream shared by a coordinator and its workers.
type Queue struct {
	rdb    redis.UniversalClient
	cfg    QueueConfig
	stream string
}

// NewQueue returns a queue on rdb.
func NewQueue(rdb redis.UniversalClient, cfg QueueConfig) (*Queue, error) {
	if rdb == nil {
		return nil, errors.New("migrate: queue: no Redis client")
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("migrate: queue: %w", err)
	}
	cfg = cfg.withDefaults()
	return &Queue{rdb: rdb, cfg: cfg, stream: cfg.Prefix + "migrate:batches"}, nil
}

// ensureGroup creates the stream and its group; only a coordinator does
// (workers wait for the stream, so that a finished run leaves no key).
func (q *Queue) ensureGroup(ctx context.Context) error {
	err := q.rdb.XGroupCreateMkStream(ctx, q.stream, queueGroup, "0").Err()
	if err != nil && !strings.Contains(err.Error(), "BUSYGROUP") { // Redis reports an existing group only in the message
		return fmt.Errorf("migrate: queue: create group: %w", err)
	}
	return nil
}

// noStream reports a Redis error meaning the stream (or its group) does not
// exist (not created yet, or removed after a finished run): a worker then
// waits, it never recreates the stream.
func noStream(err error) bool {
	if err == nil {
		return false
	}
	m := err.Error()
	return strings.HasPrefix(m, "NOGROUP") || strings.HasPrefix(m, "UNBLOCKED")
}

// dropIfEmpty deletes the stream (and with it the group) when it holds no
// entry: atomically, so a batch another coordinator adds meanwhile keeps it.
var dropIfEmpty = redis.NewScript(`if redis.call('EXISTS', KEYS[1]) == 1 and redis.call('XLEN', KEYS[1]) == 0 then return redis.call('DEL', KEYS[1]) end return 0`)

// cleanup removes a finished run's entries from the stream (every copy:
// a resumed run publishes open batches again), then the stream itself
// when no other run has work in it. Workers that still block on it are
// woken with an error they take as "no work yet".
func (q *Queue) cleanup(ctx context.Context, run string) error {
	if err := q.removeRun(ctx, run); err != nil {
		return err
	}
	if err := dropIfEmpty.Run(ctx, q.rdb, []string{q.stream}).Err(); err != nil {
		return fmt.Errorf("migrate: queue: cleanup: %w", err)
	}
	return nil
}

// removeRun deletes every entry of run from the stream (a worker holding
// one goes on with it; its acknowledgement then finds nothing).
func (q *Queue) removeRun(ctx context.Context, run string) error {
	start := "-"
	for {
		msgs, err := q.rdb.XRangeN(ctx, q.stream, start, "+", 1000).Result()
		if err != nil {
			return fmt.Errorf("migrate: queue: %w", err)
		}
		var ids []string
		for _, xm := range msgs {
			var m batchMsg
			raw, _ := xm.Values["b"].(string)
			if json.Unmarshal([]byte(raw), &m) != nil || m.Run == run {
				ids = append(ids, xm.ID)
			}
		}
		if len(ids) > 0 {
			if err := q.rdb.XDel(ctx, q.stream, ids...).Err(); err != nil {
				return fmt.Errorf("migrate: queue: %w", err)
			}
		}
		if len(msgs) < 1000 {
			break
		}
		start = "(" + msgs[len(msgs)-1].ID
	}
	return nil
}

// batchMsg is one unit of work: the accounts after a cursor, by ID.
type batchMsg struct {
	Run   string   `json:"run"`
	Seq   int64    `json:"seq"`
	After string   `json:"after"`
	IDs   []string `json:"ids"`
}

func (q *Queue) publish(ctx context.Context, m batchMsg) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return publishEntry.Run(ctx, q.rdb, []string{q.stream}, queueGroup, string(b)).Err()
}

// publishEntry adds one entry to the stream, creating the stream and its
// group first when they are missing, atomically: another run's cleanup may
// have deleted both (dropIfEmpty) between this run's ensureGroup and its
// publishing, and a plain XADD would then make a stream without the group,
// which no worker can read.
var publishEntry = redis.NewScript(`redis.pcall('XGROUP', 'CREATE', KEYS[1], ARGV[1], '0', 'MKSTREAM')
return redis.call('XADD', KEYS[1], '*', 'b', ARGV[2])`)

// ApplyQueued is Apply across machines: this process reads the store and
// publishes batches to the stream; workers (RunWorker, any host) apply
// them. It returns when every batch is done.
func (e *Engine) ApplyQueued(ctx context.Context, q *Queue, o ApplyOptions) (ApplyResult, error) {
	if !e.store.Capabilities().AtomicCAS && !o.Force {
		return ApplyResult{}, ErrNoAtomicCAS
	}
	if err := e.checkApply(o); err != nil {
		return ApplyResult{}, err
	}
	if _, err := o.Filter.compile(); err != nil {
		return ApplyResult{}, err
	}
	if err := q.ensureGroup(ctx); err != nil {
		return ApplyResult{}, err
	}
	params := e.applyParams(o)
	params.Queue = true
	run, resumed, err := e.startRun(ctx, KindApply, o.Policy, o.RunID, params)
	if err != nil {
		return ApplyResult{Run: run.ID}, err
	}
	if run.Status == StatusDone {
		return e.resumedResult(ctx, run.ID)
	}
	e.audit(ctx, AuditEvent{Type: "migrate.apply.start", Run: run.ID, Store: run.StoreName, Policy: run.Policy, Status: "queued"})
	total := e.expectedTotal(ctx, o.Total)
	runErr := e.publishAll(ctx, q, run, resumed)
	if runErr == nil {
		runErr = e.waitBatches(ctx, run, total)
	}
	if runErr == nil {
		// Every batch is settled: the run's entries and, when no other run
		// uses it, the stream go. (Not after a failure: the resume needs
		// nothing from Redis either, but workers may still be busy.)
		runErr = q.cleanup(ctx, run.ID)
	}
	return e.finishApply(ctx, run, resumed, runErr)
}

func (e *Engine) publishAll(ctx context.Context, q *Queue, run Run, resumed bool) error {
	cp, err := e.db.LoadCheckpoint(ctx, run.ID)
	if err != nil {
		return err
	}
	if resumed {
		// Batches recorded but perhaps never published: publish again
		// (a duplicate is harmless, the journal makes it a no-op).
		pending, err := e.db.openBatches(ctx, run.ID)
		if err != nil {
			return err
		}
		// The copies an earlier attempt published go first (their workers
		// check the journal, as every worker does).
		if err := q.removeRun(ctx, run.ID); err != nil {
			return fmt.Errorf("%w (run %s): %w", ErrStopped, run.ID, err)
		}
		for _, m := range pending {
			if err := q.publish(ctx, m); err != nil {
				return fmt.Errorf("%w (run %s): queue: %w", ErrStopped, run.ID, err)
			}
		}
	}
	if cp.Cursor == "" && cp.Batches > 0 {
		return nil
	}
	start, seen0 := e.now(), cp.Seen
	for {
		accts, next, err := e.store.Iterate(ctx, store.Cursor(cp.Cursor), e.cfg.batch())
		if err != nil {
			return fmt.Errorf("%w (run %s, after account %q): reading store: %w", ErrStopped, run.ID, safeID(cp.Cursor), err)
		}
		m := batchMsg{Run: run.ID, Seq: cp.Batches + 1, After: cp.Cursor}
		for _, a := range accts {
			m.IDs = append(m.IDs, a.ID)
		}
		cp.Batches++
		cp.Seen += int64(len(accts))
		cp.Cursor = string(next)
		if len(accts) == 0 {
			cp.Cursor = ""
		}
		if len(accts) > 0 {
			if err := e.db.recordBatch(ctx, m, cp, e.now()); err != nil {
				return fmt.Errorf("%w (run %s): %w", ErrStopped, run.ID, err)
			}
			if err := q.publish(ctx, m); err != nil {
				return fmt.Errorf("%w (run %s): queue: %w", ErrStopped, run.ID, err)
			}
		} else if err := e.db.settle(ctx, run.ID, nil, &cp, e.now()); err != nil {
			return fmt.Errorf("%w (run %s): %w", ErrStopped, run.ID, err)
		}
		if cp.Cursor == "" {
			return nil
		}
		// --max-rate paces publishing, and so the workers.
		if err := e.throttle(ctx, start, cp.Seen-seen0); err != nil {
			return fmt.Errorf("%w (run %s): %w", ErrStopped, run.ID, err)
		}
	}
}

// waitBatches polls the state database until every batch of the run is
// done (one small query every 50 ms: the end of a run is seen at once).
func (e *Engine) waitBatches(ctx context.Context, run Run, total int64) error {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		open, done, err := e.db.batchCounts(ctx, run.ID)
		if err != nil {
			return fmt.Errorf("%w (run %s): %w", ErrStopped, run.ID, err)
		}
		e.progress.Update(ProgressUpdate{Run: run.ID, Phase: KindApply, Done: done, Total: total})
		if open == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (run %s): %w", ErrStopped, run.ID, ctx.Err())
		case <-t.C:
		}
	}
}

// WorkerOptions tunes RunWorker.
type WorkerOptions struct {
	// Name identifies the consumer in the group (host:pid is a good one).
	Name string
	// IdleExit stops the worker after this long without work (0 = never).
	IdleExit time.Duration
	// Lanes is how many batches the worker has in hand at once (0 =
	// DefaultWorkerLanes); lane i > 0 is consumer Name.i.
	Lanes int
}

// RunWorker consumes batches from the queue until ctx ends (or IdleExit):
// first reclaiming batches a dead worker left pending (XAUTOCLAIM), then
// reading new ones (XREADGROUP). A batch is acknowledged only after its
// journal entries are settled, so a worker killed at any point loses
// nothing and a reclaimed batch is never applied twice. Lanes consumers
// (default 2) work side by side, so one batch is read and classified while
// another waits on the store or the state database.
func (e *Engine) RunWorker(ctx context.Context, q *Queue, o WorkerOptions) (int64, error) {
	if o.Name == "" {
		return 0, errors.New("migrate: worker: no consumer name")
	}
	lanes := o.Lanes
	if lanes <= 0 {
		lanes = DefaultWorkerLanes
	}
	w := &worker{e: e, q: q, procs: map[string]*batchProcessor{}}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var done atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, lanes)
	for i := range lanes {
		name := o.Name
		if i > 0 {
			name = fmt.Sprintf("%s.%d", o.Name, i)
		}
		wg.Go(func() {
			if errs[i] = w.lane(ctx, name, o.IdleExit, &done); errs[i] != nil {
				cancel(errs[i]) // the other lanes stop too
			}
		})
	}
	wg.Wait()
	return done.Load(), errors.Join(errs...)
}

// DefaultWorkerLanes is how many batches a worker has in hand at once.
const DefaultWorkerLanes = 2

// worker is what the lanes of one RunWorker share.
type worker struct {
	e  *Engine
	q  *Queue
	mu sync.Mutex // procs, and progress updates (one at a time)
	// procs holds a batch processor per run seen.
	procs map[string]*batchProcessor
}

// lane is one consumer: it returns nil when ctx ends or it was idle too
// long, and the error that stops it otherwise.
func (w *worker) lane(ctx context.Context, name string, idleExit time.Duration, done *atomic.Int64) error {
	lastWork := time.Now()
	for {
		if ctx.Err() != nil {
			return nil
		}
		msgs, err := w.q.next(ctx, name)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("migrate: worker: queue: %w", err)
		}
		if len(msgs) == 0 {
			if idleExit > 0 && time.Since(lastWork) > idleExit {
				return nil
			}
			continue
		}
		lastWork = time.Now()
		for _, xm := range msgs {
			n, err := w.e.workBatch(ctx, w, name, xm)
			if err != nil {
				return err
			}
			done.Add(n)
		}
	}
}

// processor returns the batch processor of run, made on first use.
func (w *worker) processor(ctx context.Context, runID string) (*batchProcessor, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if bp, ok := w.procs[runID]; ok {
		return bp, nil
	}
	e := w.e
	run, err := e.db.GetRun(ctx, runID)
	if err != nil {
		return nil, fmt.Errorf("migrate: worker: batch of run %s: %w", runID, err)
	}
	if run.StoreName != e.store.Name() || run.Kind != KindApply {
		return nil, fmt.Errorf("%w: worker for store %q got a batch of run %s on store %q", ErrRunMismatch, e.store.Name(), run.ID, run.StoreName)
	}
	pub, err := ParsePublicKey(run.Params.PublicKey)
	if err != nil {
		return nil, err
	}
	bp, err := e.newBatchProcessor(run, pub)
	if err != nil {
		return nil, err
	}
	w.procs[runID] = bp
	return bp, nil
}

// streamPoll is how often a worker looks for a stream that does not exist
// (no run published yet, or the last one finished and removed it).
const streamPoll = 100 * time.Millisecond

// next returns the next batch: first one a dead worker left pending, else
// a new one.
func (q *Queue) next(ctx context.Context, consumer string) (msgs []redis.XMessage, err error) {
	msgs, _, err = q.rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{Stream: q.stream, Group: queueGroup, Consumer: consumer, MinIdle: q.cfg.ClaimAfter, Start: "0-0", Count: 1}).Result()
	if err == nil && len(msgs) > 0 {
		return msgs, nil
	}
	var res []redis.XStream
	if err == nil {
		res, err = q.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: queueGroup, Consumer: consumer, Streams: []string{q.stream, ">"}, Count: 1, Block: q.cfg.Block}).Result()
	}
	if noStream(err) {
		t := time.NewTimer(min(streamPoll, q.cfg.Block))
		defer t.Stop()
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		return nil, nil
	}
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []redis.XMessage
	for _, s := range res {
		out = append(out, s.Messages...)
	}
	return out, nil
}

func (e *Engine) workBatch(ctx context.Context, w *worker, consumer string, xm redis.XMessage) (int64, error) {
	q := w.q
	raw, _ := xm.Values["b"].(string)
	var m batchMsg
	if err := json.Unmarshal([]byte(raw), &m); err != nil || !ValidRunID(m.Run) || len(m.IDs) > MaxBatchSize {
		e.log.Warn("migrate: worker: dropping malformed queue entry", "id", xm.ID)
		return 0, q.rdb.XAck(ctx, q.stream, queueGroup, xm.ID).Err()
	}
	bp, err := w.processor(ctx, m.Run)
	if err != nil {
		return 0, err
	}
	stopped := func(err error) (int64, error) {
		return 0, fmt.Errorf("%w (run %s, batch %d): %w", ErrStopped, m.Run, m.Seq, err)
	}
	accts, err := e.fetch(ctx, m)
	if err != nil {
		return stopped(err)
	}
	// Prepared without the journal: a batch nobody held before has no
	// entry there, and that is the common case (leaseJournaled).
	pb, err := bp.prepareLookup(ctx, accts, false)
	if err != nil {
		return stopped(err)
	}
	now := e.now()
	got, err := e.db.leaseAndJournal(ctx, m.Run, m.Seq, consumer, now, now.Add(-q.cfg.ClaimAfter), pb.drop, pb.entries)
	switch {
	case err != nil:
		return stopped(err)
	case got == leaseDone:
		// Another copy of this batch was processed: nothing left to do.
		return 0, q.rdb.XAck(ctx, q.stream, queueGroup, xm.ID).Err()
	case got == leaseBusy:
		// Another worker is processing a copy right now. Ours stays
		// pending: if that worker dies, XAUTOCLAIM hands it out again.
		return 0, nil
	case got == leaseTaken:
		// An earlier holder (dead, or a copy's worker) may have journaled
		// and swapped some accounts: read them again and prepare against
		// the journal, now that nobody else can.
		if accts, err = e.fetch(ctx, m); err != nil {
			return stopped(err)
		}
		if pb, err = bp.prepareLookup(ctx, accts, true); err != nil {
			return stopped(err)
		}
		switch err := e.db.journalUnderLease(ctx, m.Run, m.Seq, consumer, e.now(), pb.drop, pb.entries); {
		case errors.Is(err, errLeaseLost):
			return 0, nil // taken over again meanwhile: its holder does it
		case err != nil:
			return stopped(err)
		}
	}
	// Keep our claim and lease fresh while working, so nobody reclaims a
	// live batch.
	hctx, stop := context.WithCancel(ctx)
	defer stop()
	go func() {
		t := time.NewTicker(q.cfg.ClaimAfter / 3)
		defer t.Stop()
		for {
			select {
			case <-hctx.Done():
				return
			case <-t.C:
				q.rdb.XClaimJustID(hctx, &redis.XClaimArgs{Stream: q.stream, Group: queueGroup, Consumer: consumer, Messages: []string{xm.ID}})
				_ = e.db.renewLease(hctx, m.Run, m.Seq, consumer, e.now())
			}
		}
	}()
	st, err := bp.swap(ctx, pb)
	if err != nil {
		return stopped(err)
	}
	switch err := e.db.settleBatch(ctx, m.Run, m.Seq, consumer, st.outcome, st.attention, e.now()); {
	case errors.Is(err, errLeaseLost):
		// Our lease went stale and another worker holds the batch now: it
		// journals and settles it; ours stays pending, unacknowledged.
		e.log.Warn("migrate: worker: lease lost before settling; the batch's new holder settles it", "run", m.Run, "batch", m.Seq)
		return 0, nil
	case err != nil:
		return stopped(err)
	}
	stop()
	if err := q.rdb.XAck(ctx, q.stream, queueGroup, xm.ID).Err(); err != nil {
		return 0, fmt.Errorf("migrate: worker: ack: %w", err)
	}
	w.mu.Lock()
	e.progress.Update(ProgressUpdate{Run: m.Run, Phase: "worker", Done: int64(len(accts)), Changed: st.changed, Conflicts: st.conflicts})
	w.mu.Unlock()
	return int64(len(accts)), nil
}

// fetch reads a batch's accounts: one keyset page from the batch's cursor,
// then a Get for any listed ID the page did not return.
func (e *Engine) fetch(ctx context.Context, m batchMsg) ([]store.Account, error) {
	want := make(map[string]bool, len(m.IDs))
	for _, id := range m.IDs {
		want[id] = true
	}
	page, _, err := e.store.Iterate(ctx, store.Cursor(m.After), len(m.IDs))
	if err != nil {
		return nil, err
	}
	out := make([]store.Account, 0, len(m.IDs))
	for _, a := range page {
		if want[a.ID] {
			out = append(out, a)
			delete(want, a.ID)
		}
	}
	for _, id := range m.IDs {
		if !want[id] {
			continue
		}
		a, err := e.store.Get(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue // deleted since: nothing to do
		}
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}
