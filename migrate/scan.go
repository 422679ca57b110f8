package migrate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/overstap/overstap/adapters/state"
	"github.com/overstap/overstap/adapters/store"
	"github.com/overstap/overstap/auth/nrn"
)

// ScanResult is what a scan found; see Summary for the counts.
type ScanResult struct {
	Run     string
	Summary Summary
}

// Scan streams every account of the store, classifies it on all cores, and
// keeps the classification (references only) in the state database under a
// new scan run. Memory stays bounded by a few pages whatever the store size.
func (e *Engine) Scan(ctx context.Context) (ScanResult, error) {
	return e.ScanWith(ctx, ScanOptions{})
}

// ScanOptions narrows a scan.
type ScanOptions struct {
	// CreatedBefore, when set, classifies only accounts the store says
	// were created before this time (ErrNoCreationDates when it cannot
	// say); the others are not counted.
	CreatedBefore time.Time
}

// ScanWith is Scan with options. When the store has creation dates
// (CreationDates), the scan records them for plan's created-before filter.
func (e *Engine) ScanWith(ctx context.Context, o ScanOptions) (ScanResult, error) {
	dates := e.creationDates()
	var cutoff int64
	if !o.CreatedBefore.IsZero() {
		if dates == nil {
			return ScanResult{}, ErrNoCreationDates
		}
		if cutoff = o.CreatedBefore.UnixMilli(); cutoff <= 0 {
			return ScanResult{}, errors.New("migrate: scan: created-before must be after 1970")
		}
	}
	now := e.now()
	params := RunParams{CheckDerived: !e.cfg.SkipDerivedCheck, CreatedDates: dates != nil}
	if cutoff != 0 {
		params.Filter.CreatedBefore = o.CreatedBefore
	}
	run := Run{ID: NewRunID(KindScan, now), Kind: KindScan, StoreName: e.store.Name(), StartedAt: now,
		Status: StatusRunning, Params: params}
	if err := e.db.CreateRun(ctx, run); err != nil {
		return ScanResult{}, err
	}
	e.audit(ctx, AuditEvent{Type: "migrate.scan.start", Run: run.ID, Store: run.StoreName})
	// A fresh reference key per scan: duplicates are found by grouping the
	// references, and the references mean nothing outside this scan.
	cl := &classifier{hasher: e.hasher, checkDerived: !e.cfg.SkipDerivedCheck, refKey: nrn.RandomRefKey()}
	total, err := e.scanPages(ctx, run.ID, cl, dates, cutoff, e.expectedTotal(ctx, 0))
	run.EndedAt = e.now()
	run.Total = total
	run.Status = StatusDone
	if err != nil {
		run.Status = StatusFailed
		if isCanceled(err) {
			run.Status = StatusInterrupted
		}
		// The context may be gone; record the end with a fresh one.
		_ = e.db.FinishRun(context.WithoutCancel(ctx), run)
		e.audit(context.WithoutCancel(ctx), AuditEvent{Type: "migrate.scan.end", Run: run.ID, Store: run.StoreName, Status: run.Status, Attrs: map[string]int64{"accounts": total}})
		return ScanResult{Run: run.ID}, err
	}
	if err := e.db.FinishRun(ctx, run); err != nil {
		return ScanResult{Run: run.ID}, err
	}
	sum, err := e.db.Summarize(ctx, run.ID)
	if err != nil {
		return ScanResult{Run: run.ID}, err
	}
	e.audit(ctx, AuditEvent{Type: "migrate.scan.end", Run: run.ID, Store: run.StoreName, Status: run.Status, Attrs: sum.auditAttrs()})
	e.progress.Update(ProgressUpdate{Run: run.ID, Phase: KindScan, Done: total, Total: total, Final: true})
	return ScanResult{Run: run.ID, Summary: sum}, nil
}

// scanCommitRows is the size of the scan's write transactions.
const scanCommitRows = 10_000

// scanPages is the pipeline: one reader pages through the store, workers
// classify pages, one writer stores the classes. Channels are small, so
// memory is a few pages.
func (e *Engine) scanPages(ctx context.Context, run string, cl *classifier, dates CreationDates, cutoff, expected int64) (int64, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	workers := e.cfg.workers()
	pages := make(chan []store.Account, workers)
	results := make(chan []Class, workers)
	var wg sync.WaitGroup
	// reader
	wg.Go(func() {
		defer close(pages)
		var after store.Cursor
		for {
			accts, next, err := e.store.Iterate(ctx, after, e.cfg.batch())
			if err != nil {
				cancel(fmt.Errorf("migrate: scan: reading %s after %q: %w", e.store.Name(), after, err))
				return
			}
			if len(accts) > 0 {
				select {
				case pages <- accts:
				case <-ctx.Done():
					return
				}
			}
			if next == "" || len(accts) == 0 {
				return
			}
			after = next
		}
	})
	// classifiers
	var cw sync.WaitGroup
	for range workers {
		cw.Go(func() {
			for page := range pages {
				out := make([]Class, 0, len(page))
				var linked map[string]bool
				if e.links != nil {
					ids := make([]string, len(page))
					for i, a := range page {
						ids[i] = a.ID
					}
					var err error
					if linked, err = e.links.Linked(ctx, e.store.Name(), ids); err != nil {
						cancel(fmt.Errorf("migrate: scan: links: %w", err))
						return
					}
				}
				var created map[string]int64
				if dates != nil {
					var err error
					if created, err = createdMillis(ctx, dates, page); err != nil {
						cancel(fmt.Errorf("migrate: scan: %w", err))
						return
					}
				}
				for _, a := range page {
					if cutoff != 0 && (created[a.ID] == 0 || created[a.ID] >= cutoff) {
						continue // outside the created-before filter: not scanned
					}
					c, err := cl.classify(ctx, a)
					if err != nil {
						cancel(err)
						return
					}
					c.Created = created[a.ID]
					switch {
					case e.links == nil:
						c.Flags |= FlagLinkUnknown
					case linked[a.ID]:
						c.Flags |= FlagLinked
					}
					out = append(out, c)
				}
				select {
				case results <- out:
				case <-ctx.Done():
					return
				}
			}
		})
	}
	go func() { cw.Wait(); close(results) }()
	var total int64
	var werr error
	// Classes are written in transactions of about scanCommitRows: a
	// scan is not resumed (it is simply run again), so it need not commit
	// every page, and fewer commits (fsyncs) keep the writer ahead.
	var buf []Class
	write := func() {
		if werr != nil || len(buf) == 0 {
			return
		}
		if err := e.db.writeClasses(ctx, run, buf); err != nil {
			werr = err
			cancel(err)
			return
		}
		total += int64(len(buf))
		buf = buf[:0]
	}
	// Progress counts classified accounts, page by page (writes commit in
	// larger transactions).
	var classified int64
	for cls := range results {
		if werr != nil {
			continue // drain
		}
		classified += int64(len(cls))
		e.progress.Update(ProgressUpdate{Run: run, Phase: KindScan, Done: classified, Total: max(expected, classified)})
		buf = append(buf, cls...)
		if len(buf) >= scanCommitRows {
			write()
		}
	}
	write()
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return total, err
	}
	if werr != nil {
		return total, werr
	}
	return total, ctx.Err()
}

func (m *DB) writeClasses(ctx context.Context, run string, cls []Class) error {
	tx, err := m.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%w: scan: %w", ErrState, err)
	}
	defer tx.Rollback()
	for chunk := range chunks(cls, 500) {
		args := make([]any, 0, len(chunk)*7)
		for _, c := range chunk {
			var ref, created any
			if c.Ref != "" {
				ref = c.Ref
			}
			if c.Created != 0 {
				created = c.Created
			}
			args = append(args, run, c.ID, int64(c.Flags), c.Scheme, string(c.Strength), ref, created)
		}
		query := `INSERT INTO migrate_scan_accounts (run_id, account_id, flags, scheme, strength, nrn_ref, created_at) VALUES ` + valueRows(len(chunk), 7) +
			` ON CONFLICT (run_id, account_id) DO NOTHING`
		if _, err := tx.ExecContext(ctx, m.q(query), args...); err != nil {
			return fmt.Errorf("%w: scan: %w", ErrState, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%w: scan: %w", ErrState, err)
	}
	return nil
}

// classesAfter pages through a scan's classification in account order.
func (m *DB) classesAfter(ctx context.Context, scan, after string, limit int) ([]Class, error) {
	return queryAll(ctx, m, "read scan", `SELECT account_id, flags, scheme, strength, created_at FROM migrate_scan_accounts WHERE run_id = ? AND account_id > ? ORDER BY account_id LIMIT ?`, []any{scan, after, limit},
		func(r state.Scanner) (c Class, err error) {
			var f int64
			var st string
			var created sql.NullInt64
			if err := r.Scan(&c.ID, &f, &c.Scheme, &st, &created); err != nil {
				return c, err
			}
			c.Flags, c.Strength, c.Created = Flags(f), Strength(st), created.Int64
			return c, nil
		})
}

// expectedTotal is the number of accounts a run will go through, for
// progress: given when positive (the caller's ApplyOptions.Total), else the
// store's count when it can count (Counter), else the last scan's total,
// else 0 (unknown).
func (e *Engine) expectedTotal(ctx context.Context, given int64) int64 {
	if given > 0 {
		return given
	}
	if c, ok := e.store.(Counter); ok {
		if n, err := c.Count(ctx); err == nil {
			return n
		}
	}
	if r, err := e.db.LatestRun(ctx, KindScan, e.store.Name()); err == nil {
		return r.Total
	}
	return 0
}
