package migrate

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/overstap/overstap/adapters/store"
)

// applyPipe runs the local apply as a two-stage pipeline. While batch k's
// compare-and-swaps run in the store, batch k+1 is read, classified and
// sealed, and one state transaction journals batch k+1 as planned together
// with batch k-1's outcome and checkpoint. The order that makes a crash
// harmless is kept: a batch is journaled before its swaps start, and the
// checkpoint never passes a batch whose outcome is not settled.
type applyPipe struct {
	e     *Engine
	run   Run
	bp    *batchProcessor
	cp    Checkpoint // position after the last batch read
	total int64
	start time.Time
	seen0 int64 // accounts seen before this process started
	sum   batchStats

	// settled-next: the outcome and checkpoint of the last swapped batch.
	pendOutcome   map[string][]string
	pendAttention []Entry
	pendCP        *Checkpoint

	// pages is the read-ahead: the store's pages in key order, read by a
	// goroutine while earlier pages are prepared and swapped.
	pages <-chan page
}

// page is one Iterate result, prepared.
type page struct {
	n    int // accounts read
	next store.Cursor
	pb   *preparedBatch
	err  error // reading the store (wrapped) or preparing
}

// readAhead reads and prepares (classify, seal) the store's pages from
// cursor on into the returned channel until the end, an error, or ctx is
// done: one goroutine reads (waiting on the store) while another prepares
// the page before (CPU), each at most a page or two ahead of the consumer.
// Working ahead changes nothing of the order that makes a crash harmless:
// pages are still journaled, swapped and checkpointed one after the other,
// and preparing a page reads and writes nothing of another page's
// accounts.
func (p *applyPipe) readAhead(ctx context.Context, cursor store.Cursor) <-chan page {
	type read struct {
		accts []store.Account
		next  store.Cursor
		err   error
	}
	reads := make(chan read, 1)
	go func() {
		defer close(reads)
		for {
			accts, next, err := p.e.store.Iterate(ctx, cursor, p.e.cfg.batch())
			if err != nil {
				err = fmt.Errorf("reading store: %w", err)
			}
			select {
			case reads <- read{accts, next, err}:
			case <-ctx.Done():
				return
			}
			if err != nil || next == "" || len(accts) == 0 {
				return
			}
			cursor = next
		}
	}()
	ch := make(chan page, 1)
	go func() {
		defer close(ch)
		for r := range reads {
			pg := page{n: len(r.accts), next: r.next, err: r.err}
			if pg.err == nil {
				pg.pb, pg.err = p.bp.prepare(ctx, r.accts)
			}
			select {
			case ch <- pg:
			case <-ctx.Done():
				return
			}
			if pg.err != nil {
				return
			}
		}
	}()
	return ch
}

type swapResult struct {
	st  batchStats
	err error
}

func (p *applyPipe) stopped(err error) error {
	return fmt.Errorf("%w (run %s): %w", ErrStopped, p.run.ID, err)
}

// flush settles the last swapped batch, even when interrupted (Ctrl-C).
func (p *applyPipe) flush(ctx context.Context) error {
	if p.pendCP == nil {
		return nil
	}
	if err := p.e.db.journalStep(context.WithoutCancel(ctx), p.run.ID, nil, p.pendAttention, p.pendOutcome, p.pendCP, p.e.now()); err != nil {
		return fmt.Errorf("%w (run %s): %w", ErrStopped, p.run.ID, err)
	}
	p.pendOutcome, p.pendAttention, p.pendCP = nil, nil, nil
	return nil
}

// next reads and prepares the next batch and journals it (with the pending
// settle); it returns nil at the end of the store.
func (p *applyPipe) next(ctx context.Context) (*preparedBatch, Checkpoint, error) {
	pg, ok := <-p.pages
	if !ok {
		pg.err = ctx.Err()
		if pg.err == nil {
			pg.err = errors.New("read-ahead ended early")
		}
	}
	if pg.err != nil {
		return nil, p.cp, p.stopped(pg.err)
	}
	pb, next := pg.pb, pg.next
	entries := pb.entries
	if len(p.pendAttention) > 0 {
		entries = append(p.pendAttention[:len(p.pendAttention):len(p.pendAttention)], pb.entries...)
	}
	if err := p.e.db.journalStep(ctx, p.run.ID, pb.drop, entries, p.pendOutcome, p.pendCP, p.e.now()); err != nil {
		return nil, p.cp, fmt.Errorf("%w (run %s): %w", ErrStopped, p.run.ID, err)
	}
	p.pendOutcome, p.pendAttention, p.pendCP = nil, nil, nil
	cp := p.cp
	cp.Batches++
	cp.Seen += int64(pg.n)
	cp.Cursor = string(next)
	if pg.n == 0 {
		cp.Cursor = ""
	}
	p.cp = cp
	return pb, cp, nil
}

func (p *applyPipe) loop(ctx context.Context) error {
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	p.pages = p.readAhead(rctx, store.Cursor(p.cp.Cursor))
	pb, cp, err := p.next(ctx)
	if err != nil {
		return err
	}
	for {
		// Swap batch k in the background ...
		done := make(chan swapResult, 1)
		go func(pb *preparedBatch) {
			st, err := p.bp.swap(ctx, pb)
			done <- swapResult{st, err}
		}(pb)
		// ... while batch k+1 is read, prepared and journaled.
		var nextPB *preparedBatch
		var nextCP Checkpoint
		var nextErr error
		if cp.Cursor != "" {
			nextPB, nextCP, nextErr = p.next(ctx)
		}
		r := <-done
		if r.err != nil {
			return errors.Join(p.stopped(r.err), p.flush(ctx))
		}
		// Batch k is settled with the next journal step (or flush). If the
		// previous outcome is still pending (the journal step failed), both
		// are settled together: the checkpoint must not pass it.
		c := cp
		if p.pendCP == nil {
			p.pendOutcome, p.pendAttention = map[string][]string{}, nil
		}
		for state, ids := range r.st.outcome {
			p.pendOutcome[state] = append(p.pendOutcome[state], ids...)
		}
		p.pendAttention = append(p.pendAttention, r.st.attention...)
		p.pendCP = &c
		p.sum.add(r.st)
		p.e.progress.Update(ProgressUpdate{Run: p.run.ID, Phase: KindApply, Done: cp.Seen, Total: p.total, Changed: p.sum.changed, Conflicts: p.sum.conflicts})
		if nextErr != nil {
			return errors.Join(nextErr, p.flush(ctx))
		}
		if cp.Cursor == "" {
			return p.flush(ctx)
		}
		if err := p.e.throttle(ctx, p.start, cp.Seen-p.seen0); err != nil {
			return errors.Join(p.stopped(err), p.flush(ctx))
		}
		pb, cp = nextPB, nextCP
	}
}
