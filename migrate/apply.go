package migrate

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/overstap/overstap/adapters/store"
	"github.com/overstap/overstap/migrate/hash"
)

// Errors of apply.
var (
	// ErrNoAtomicCAS: the store cannot compare-and-swap atomically; apply
	// refuses unless forced.
	ErrNoAtomicCAS = errors.New("migrate: the store has no atomic compare-and-swap (a concurrent change could be overwritten); use --force to apply anyway")
	// ErrStopped: the run stopped (store or state database failure,
	// interruption) at its last checkpoint; run apply again with the same
	// run ID to resume.
	ErrStopped = errors.New("migrate: run stopped at its last checkpoint")
	// ErrRunMismatch: a resumed run was started with other settings.
	ErrRunMismatch = errors.New("migrate: run exists with other settings")
)

// ApplyOptions says what to apply.
type ApplyOptions struct {
	Policy Policy
	Filter Filter
	// PublicKey is the admin key old values are sealed to.
	PublicKey PublicKey
	// RunID resumes that run when it exists, or starts a new run with that
	// ID; empty starts a new run with a fresh ID.
	RunID string
	// Force applies to a store without atomic CAS.
	Force bool
	// Total is the expected number of accounts (from the last scan), for
	// the ETA; 0 when unknown.
	Total int64
}

// ApplyResult counts what a run did (over all its resumptions).
type ApplyResult struct {
	Run       string           `json:"run"`
	Resumed   bool             `json:"resumed"`
	Seen      int64            `json:"accounts"`
	Changed   int64            `json:"changed"`
	Conflicts int64            `json:"conflicts"`
	Skipped   int64            `json:"skipped"`
	Actions   map[string]int64 `json:"actions"` // applied changes per action
	// NeedAttention counts accounts left unchanged with a reason (too
	// long, refused by the store, unclassifiable on an NRN account, over
	// the cost budget); AttentionList lists them.
	NeedAttention int64 `json:"need_attention"`
}

// startRun creates the run or loads it for a resume.
func (e *Engine) startRun(ctx context.Context, kind string, policy Policy, id string, params RunParams) (Run, bool, error) {
	if id != "" && !ValidRunID(id) {
		return Run{}, false, fmt.Errorf("migrate: run id %q: want 3-63 of a-z, 0-9, -", id)
	}
	if id != "" {
		r, err := e.db.GetRun(ctx, id)
		switch {
		case err == nil:
			if r.Kind != kind || r.Policy != string(policy) || r.StoreName != e.store.Name() {
				return r, false, fmt.Errorf("%w: run %s is a %s %q on store %q", ErrRunMismatch, id, r.Kind, r.Policy, r.StoreName)
			}
			if r.Params.PublicKey != params.PublicKey {
				return r, false, fmt.Errorf("%w: run %s seals to another admin public key", ErrRunMismatch, id)
			}
			if r.Params.Target != params.Target {
				return r, false, fmt.Errorf("%w: run %s rolls back run %s", ErrRunMismatch, id, r.Params.Target)
			}
			if r.Status != StatusDone {
				r.Status = StatusRunning
				if err := e.db.FinishRun(ctx, Run{ID: r.ID, Status: StatusRunning, Total: r.Total, Changed: r.Changed, Conflicts: r.Conflicts, Skipped: r.Skipped}); err != nil {
					return r, false, err
				}
			}
			return r, true, nil
		case !errors.Is(err, ErrRunNotFound):
			return Run{}, false, err
		}
	} else {
		id = NewRunID(kind, e.now())
	}
	r := Run{ID: id, Kind: kind, Policy: string(policy), StoreName: e.store.Name(), Params: params, StartedAt: e.now(), Status: StatusRunning}
	return r, false, e.db.CreateRun(ctx, r)
}

// Apply executes a policy: batch by batch, journal first, then CAS, then
// settle and checkpoint. Interrupted (context canceled, kill -9, lost
// connection), it can be called again with the same RunID and continues
// where it stopped without applying any action twice.
func (e *Engine) Apply(ctx context.Context, o ApplyOptions) (ApplyResult, error) {
	if !e.store.Capabilities().AtomicCAS {
		if !o.Force {
			return ApplyResult{}, ErrNoAtomicCAS
		}
		e.log.Warn("migrate: applying to a store without atomic compare-and-swap (forced)", "store", e.store.Name())
	}
	if err := e.checkApply(o); err != nil {
		return ApplyResult{}, err
	}
	run, resumed, err := e.startRun(ctx, KindApply, o.Policy, o.RunID, e.applyParams(o))
	if err != nil {
		return ApplyResult{Run: run.ID}, err
	}
	if run.Status == StatusDone {
		return e.resumedResult(ctx, run.ID)
	}
	bp, err := e.newBatchProcessor(run, o.PublicKey)
	if err != nil {
		return ApplyResult{Run: run.ID}, err
	}
	e.audit(ctx, AuditEvent{Type: "migrate.apply.start", Run: run.ID, Store: run.StoreName, Policy: run.Policy, Status: map[bool]string{true: "resumed", false: "started"}[resumed]})
	total := e.expectedTotal(ctx, o.Total)
	runErr := e.applyLoop(ctx, run, bp, total)
	return e.finishApply(ctx, run, resumed, runErr)
}

// checkApply checks the options Apply and ApplyQueued share: the policy,
// the admin public key, and a creation-date filter the store can serve.
func (e *Engine) checkApply(o ApplyOptions) error {
	if _, err := ParsePolicy(string(o.Policy)); err != nil {
		return err
	}
	if o.PublicKey == (PublicKey{}) {
		return fmt.Errorf("%w: apply needs the admin public key (overstap migrate keygen)", ErrKey)
	}
	if !o.Filter.CreatedBefore.IsZero() && e.creationDates() == nil {
		return ErrNoCreationDates
	}
	return nil
}

// applyParams are the recorded parameters of an apply run.
func (e *Engine) applyParams(o ApplyOptions) RunParams {
	return RunParams{Filter: o.Filter, CheckDerived: !e.cfg.SkipDerivedCheck && o.Policy.NeedsDerivedCheck(), PublicKey: o.PublicKey.String()}
}

// resumedResult is the result of an apply run found already done.
func (e *Engine) resumedResult(ctx context.Context, run string) (ApplyResult, error) {
	res, err := e.applyResult(ctx, run)
	res.Resumed = true
	return res, err
}

func (e *Engine) applyLoop(ctx context.Context, run Run, bp *batchProcessor, total int64) error {
	cp, err := e.db.LoadCheckpoint(ctx, run.ID)
	if err != nil {
		return err
	}
	if cp.Cursor == "" && cp.Batches > 0 {
		return nil // the last checkpoint was the end of the store
	}
	counts, err := e.db.JournalCounts(ctx, run.ID)
	if err != nil {
		return err
	}
	planned := int64(0)
	for _, byState := range counts {
		planned += byState[StatePlanned]
	}
	var queued int64
	if err := e.db.db.QueryRowContext(ctx, e.db.q(`SELECT COUNT(*) FROM migrate_batches WHERE run_id = ?`), run.ID).Scan(&queued); err != nil {
		return fmt.Errorf("%w: batches: %w", ErrState, err)
	}
	// A run that went through the queue settles batches out of key order:
	// keep the lookups then.
	bp.noEarlier = planned == 0 && queued == 0
	p := &applyPipe{e: e, run: run, bp: bp, cp: cp, total: total, start: e.now(), seen0: cp.Seen}
	return p.loop(ctx)
}

// throttle sleeps until processed accounts fit the configured rate.
func (e *Engine) throttle(ctx context.Context, start time.Time, processed int64) error {
	if e.cfg.MaxAccountsPerSecond <= 0 {
		return ctx.Err()
	}
	due := start.Add(time.Duration(float64(processed) / e.cfg.MaxAccountsPerSecond * float64(time.Second)))
	wait := due.Sub(e.now())
	if wait <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (e *Engine) finishApply(ctx context.Context, run Run, resumed bool, runErr error) (ApplyResult, error) {
	fctx := context.WithoutCancel(ctx)
	res, err := e.applyResult(fctx, run.ID)
	res.Resumed = resumed
	status := StatusDone
	switch {
	case runErr != nil && isCanceled(runErr):
		status = StatusInterrupted
	case runErr != nil:
		status = StatusFailed
	}
	if err == nil {
		cp, cerr := e.db.LoadCheckpoint(fctx, run.ID)
		if cerr == nil {
			res.Seen = cp.Seen
			res.Skipped = max(0, cp.Seen-res.Changed-res.Conflicts-res.NeedAttention)
		}
		fr := Run{ID: run.ID, Status: status, Total: res.Seen, Changed: res.Changed, Conflicts: res.Conflicts, Skipped: res.Skipped}
		if status == StatusDone {
			fr.EndedAt = e.now()
		}
		if ferr := e.db.FinishRun(fctx, fr); ferr != nil && runErr == nil {
			runErr = ferr
		}
	}
	e.audit(fctx, AuditEvent{Type: "migrate." + run.Kind + ".end", Run: run.ID, Store: run.StoreName, Policy: run.Policy, Status: status,
		Attrs: map[string]int64{"accounts": res.Seen, "changed": res.Changed, "conflicts": res.Conflicts, "skipped": res.Skipped}})
	e.progress.Update(ProgressUpdate{Run: run.ID, Phase: run.Kind, Done: res.Seen, Total: res.Seen, Changed: res.Changed, Conflicts: res.Conflicts, Final: true})
	if runErr != nil {
		return res, runErr
	}
	return res, err
}

func (e *Engine) applyResult(ctx context.Context, run string) (ApplyResult, error) {
	res := ApplyResult{Run: run, Actions: map[string]int64{}}
	counts, err := e.db.JournalCounts(ctx, run)
	if err != nil {
		return res, err
	}
	for action, byState := range counts {
		res.Changed += byState[StateApplied] + byState[StateRolledBack]
		res.Conflicts += byState[StateConflict]
		res.NeedAttention += byState[StateAttention]
		res.Actions[action] += byState[StateApplied] + byState[StateRolledBack]
	}
	if r, err := e.db.GetRun(ctx, run); err == nil {
		res.Seen, res.Skipped = r.Total, r.Skipped
	}
	return res, nil
}

// batchStats is the outcome of one batch.
type batchStats struct {
	outcome   map[string][]string // state -> account IDs to settle
	changed   int64
	conflicts int64
	// attention: planned entries whose swap the store refused for this
	// account alone; settled as attention entries with the reason.
	attention []Entry
	// needAttention counts the batch's attention entries (refused up
	// front and at the swap).
	needAttention int64
}

func (s *batchStats) add(o batchStats) {
	s.changed += o.changed
	s.conflicts += o.conflicts
	s.needAttention += o.needAttention
}

// batchProcessor applies one run's policy to batches of accounts; the
// local loop and queue workers share it.
type batchProcessor struct {
	e       *Engine
	run     Run
	policy  Policy
	filter  filterSet
	pub     PublicKey
	cl      *classifier
	derived bool
	// noEarlier is set by the local apply when no earlier attempt left a
	// journal entry the batches ahead could meet (a new run, or a resumed
	// one without planned entries: settle and checkpoint share a
	// transaction, so settled entries all lie before the checkpoint). The
	// per-batch journal lookup is then skipped; the journal's unique
	// (run, account) key still refuses a second entry.
	noEarlier bool
	// dates is the store's creation dates, when the filter needs them.
	dates CreationDates
}

func (e *Engine) newBatchProcessor(run Run, pub PublicKey) (*batchProcessor, error) {
	fs, err := run.Params.Filter.compile()
	if err != nil {
		return nil, err
	}
	if run.Params.PublicKey != pub.String() {
		return nil, fmt.Errorf("%w: run %s seals to another admin public key", ErrRunMismatch, run.ID)
	}
	bp := &batchProcessor{e: e, run: run, policy: Policy(run.Policy), filter: fs, pub: pub,
		cl: &classifier{hasher: e.hasher}, derived: run.Params.CheckDerived}
	if fs.createdBefore != 0 {
		if bp.dates = e.creationDates(); bp.dates == nil {
			return nil, ErrNoCreationDates
		}
	}
	return bp, nil
}

// creationDates returns the store's creation dates, nil when it has none.
func (e *Engine) creationDates() CreationDates {
	if cd, ok := e.store.(CreationDates); ok && cd.HasCreationDates() {
		return cd
	}
	return nil
}

// createdMillis reads the creation times of accounts (Unix ms, absent
// when unknown).
func createdMillis(ctx context.Context, cd CreationDates, accts []store.Account) (map[string]int64, error) {
	ids := make([]string, len(accts))
	for i, a := range accts {
		ids[i] = a.ID
	}
	ts, err := cd.CreatedAt(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("creation dates: %w", err)
	}
	out := make(map[string]int64, len(ts))
	for id, t := range ts {
		if ms := t.UnixMilli(); ms > 0 {
			out[id] = ms
		}
	}
	return out, nil
}

// Reasons of attention entries (reports group by them; they never hold a
// credential or a national number).
const (
	ReasonTooLong      = "credential longer than the store adapter accepts (64 KiB): left unchanged, change it by hand"
	ReasonIDTooLong    = "account id longer than the store adapter accepts (64 KiB)"
	ReasonUnknownRisk  = "unknown risk: account with a national number whose credential could not be classified (unsupported scheme, garbage, or over the cost caps): left unchanged"
	ReasonUnverified   = "unknown risk: account with a national number whose NRN-derived check could not run (unverifiable value): left to upgrade-on-login"
	ReasonOverBudget   = "unknown risk: NRN-derived check over the per-account verification budget (--derived-budget; default about one bcrypt-12 check): not verified, left to the gateway's upgrade-on-login or a run with a larger budget"
	ReasonCannotWrap   = "weak hash that cannot be wrapped (unsupported parameters): left unchanged"
	reasonStorePrefix  = "the store refused the swap: "
	maxReasonFromStore = 200
)

// refused says why a swap cannot be offered to the store at all (the
// adapters' per-value bound, store.MaxValue): such an account is listed,
// never sent, so one value cannot fail its whole batch.
func refused(a store.Account, nv string) string {
	switch {
	case len(a.ID) > store.MaxValue:
		return ReasonIDTooLong
	case len(a.Credential) > store.MaxValue || len(nv) > store.MaxValue:
		return ReasonTooLong
	}
	return ""
}

// decide classifies an account and returns the policy's action, or the
// reason it needs an admin's attention. The derived check (expensive on
// slow schemes) runs only when it can change the outcome.
func (bp *batchProcessor) decide(ctx context.Context, a store.Account, created int64) (act, attention string, err error) {
	c, err := bp.cl.classify(ctx, a)
	if err != nil {
		return "", "", err
	}
	c.Created = created
	if !bp.filter.match(c) {
		return "", "", nil
	}
	act = bp.policy.Action(c)
	hasNRN := c.Flags&(FlagNRNColumn|FlagNRNUsername) != 0
	if act != "" || !bp.derived || !hasNRN || c.Flags&(FlagEmpty|FlagRevoked) != 0 {
		return act, "", nil
	}
	if c.Has(FlagUnsupported) {
		// It may well be the citizen's national number under a scheme we
		// cannot read: never counted as safe.
		return "", ReasonUnknownRisk, nil
	}
	if c.Has(FlagDerived) {
		return bp.policy.Action(c), "", nil
	}
	n, _ := accountNRN(a)
	d, err := bp.e.hasher.IsDerived(ctx, a.Credential, a.SchemeHint, a.Salt, n)
	if err != nil {
		if ctx.Err() != nil {
			return "", "", ctx.Err()
		}
		if errors.Is(err, hash.ErrOverBudget) {
			return "", ReasonOverBudget, nil
		}
		return "", ReasonUnverified, nil // unverifiable: never guessed at, listed
	}
	if d {
		c.Flags |= FlagDerived
	}
	return bp.policy.Action(c), "", nil
}

type prepared struct {
	ok    bool // the account has an action (or an attention entry)
	entry Entry
	swap  store.Swap
}

// preparedBatch is a batch classified and sealed, not yet journaled.
type preparedBatch struct {
	st      batchStats // outcome so far: planned entries found applied
	entries []Entry    // to journal as planned before the swap
	swaps   []store.Swap
	acts    []string // action of swaps[i]
	drop    []string // planned entries of an earlier attempt that are void
}

// prepare classifies a batch on all cores and seals the old values;
// settled entries are skipped, and planned entries of an interrupted
// attempt are resolved by reading the store (holding the new value = the
// CAS happened).
func (bp *batchProcessor) prepare(ctx context.Context, accts []store.Account) (*preparedBatch, error) {
	return bp.prepareLookup(ctx, accts, !bp.noEarlier)
}

// prepareLookup is prepare; lookup false skips the journal lookup of the
// batch's accounts (nothing of an earlier attempt can be there).
func (bp *batchProcessor) prepareLookup(ctx context.Context, accts []store.Account, lookup bool) (*preparedBatch, error) {
	st := batchStats{outcome: map[string][]string{}}
	pb := &preparedBatch{st: st}
	if len(accts) == 0 {
		return pb, nil
	}
	existing := map[string]Entry{}
	if lookup {
		ids := make([]string, len(accts))
		for i, a := range accts {
			ids[i] = a.ID
		}
		var err error
		if existing, err = bp.e.db.Entries(ctx, bp.run.ID, ids); err != nil {
			return nil, err
		}
	}
	todo := accts      // nothing journaled yet for these: all of them, no copy
	var stale []string // planned entries that never took effect
	if len(existing) > 0 {
		todo = make([]store.Account, 0, len(accts))
		for _, a := range accts {
			e, ok := existing[a.ID]
			if !ok {
				todo = append(todo, a)
				continue
			}
			if e.State != StatePlanned {
				continue // settled by an earlier attempt: never twice
			}
			if holdsNew(e, a.Credential) && !a.CredentialNull {
				st.outcome[StateApplied] = append(st.outcome[StateApplied], a.ID)
				st.changed++
				continue
			}
			stale = append(stale, a.ID)
			todo = append(todo, a)
		}
	}
	sealer, err := newSealer(bp.pub)
	if err != nil {
		return nil, err
	}
	var created map[string]int64
	if bp.dates != nil && len(todo) > 0 {
		if created, err = createdMillis(ctx, bp.dates, todo); err != nil {
			return nil, err
		}
	}
	preps := make([]prepared, len(todo))
	if err := bp.e.parallel(ctx, len(todo), func(ctx context.Context, i int) error {
		a := todo[i]
		act, why, err := bp.decide(ctx, a, created[a.ID])
		if err != nil {
			return err
		}
		if why != "" {
			preps[i] = prepared{ok: true, entry: attentionEntry(a.ID, ActionRevoke, why)}
			return nil
		}
		if act == "" {
			return nil
		}
		var nv string
		switch act {
		case ActionRevoke:
			nv = RevokedMarker(bp.run.ID)
		case ActionWrap:
			w, err := bp.e.hasher.Wrap(ctx, a.Credential, a.SchemeHint, a.Salt)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				if errors.Is(err, hash.ErrNotWrappable) {
					return nil // a slow scheme: rehashed on the next login, nothing to do
				}
				preps[i] = prepared{ok: true, entry: attentionEntry(a.ID, act, ReasonCannotWrap)}
				return nil
			}
			nv = w
		}
		if why := refused(a, nv); why != "" {
			preps[i] = prepared{ok: true, entry: attentionEntry(a.ID, act, why)}
			return nil
		}
		sealed, err := sealer.seal(bp.run.ID, a.ID, a.Credential, a.CredentialNull)
		if err != nil {
			return err
		}
		preps[i] = prepared{
			ok:    true,
			entry: Entry{Account: a.ID, Action: act, Sealed: sealed, New: newRef(act, nv), State: StatePlanned},
			swap:  store.Swap{ID: a.ID, Old: a.Credential, OldNull: a.CredentialNull, New: nv},
		}
		return nil
	}); err != nil {
		return nil, err
	}
	n := 0
	for _, p := range preps {
		if p.ok {
			n++
		}
	}
	entries := make([]Entry, 0, n)
	swaps := make([]store.Swap, 0, n)
	acts := make([]string, 0, n)
	for _, p := range preps {
		switch {
		case !p.ok:
		case p.entry.State == StateAttention:
			entries = append(entries, p.entry)
			st.needAttention++
		default:
			entries = append(entries, p.entry)
			swaps = append(swaps, p.swap)
			acts = append(acts, p.entry.Action)
		}
	}
	if len(stale) > 0 {
		planned := make(map[string]bool, len(entries))
		for _, e := range entries {
			planned[e.Account] = true
		}
		for _, id := range stale {
			if !planned[id] {
				pb.drop = append(pb.drop, id)
			}
		}
	}
	pb.st, pb.entries, pb.swaps, pb.acts = st, entries, swaps, acts
	return pb, nil
}

// swap runs the batch's compare-and-swaps (after its planned entries are
// journaled) and adds their outcome.
func (bp *batchProcessor) swap(ctx context.Context, pb *preparedBatch) (batchStats, error) {
	st, swaps := pb.st, pb.swaps
	if len(swaps) == 0 {
		return st, nil
	}
	results, err := bp.e.swapParallel(ctx, swaps)
	if err != nil {
		return st, err
	}
	for i, r := range results {
		id := swaps[i].ID
		switch {
		case r == nil:
			st.outcome[StateApplied] = append(st.outcome[StateApplied], id)
			st.changed++
		case errors.Is(r, store.ErrConflict), errors.Is(r, store.ErrNotFound):
			st.outcome[StateConflict] = append(st.outcome[StateConflict], id)
			st.conflicts++
		default:
			// This account alone: listed with the store's reason, the run
			// goes on.
			st.attention = append(st.attention, attentionEntry(id, pb.acts[i], storeReason(r)))
			st.needAttention++
		}
	}
	return st, nil
}

// storeReason turns a per-swap store error into an attention reason:
// adapter errors never hold a credential and mask national numbers; the
// text is bounded.
func storeReason(err error) string {
	s := safeID(err.Error())
	if len(s) > maxReasonFromStore {
		s = s[:maxReasonFromStore] + "..."
	}
	return reasonStorePrefix + strings.ToValidUTF8(s, "?")
}

// swapParallel splits a batch's swaps into Config.SwapStreams
// transactions on separate connections: each swap is an independent
// compare-and-swap, all of them journaled as planned before, so a batch
// need not commit as a whole (a failure leaves planned entries that the
// next attempt resolves one by one). Per-row round trips, not the
// database, bound a single stream.
func (e *Engine) swapParallel(ctx context.Context, swaps []store.Swap) ([]error, error) {
	streams := e.cfg.swapStreams()
	if m, ok := e.store.(MultiRowSwapper); ok && m.MultiRowSwaps() && e.cfg.SwapStreams == 0 {
		streams = 1 // one statement changes the batch: more transactions only add commits
	}
	size := (len(swaps) + streams - 1) / streams
	size = max(size, 50) // small batches stay in one transaction
	var parts [][]store.Swap
	for c := range chunks(swaps, size) {
		parts = append(parts, c)
	}
	results := make([]error, len(swaps))
	errs := make([]error, len(parts))
	var wg sync.WaitGroup
	for i, part := range parts {
		wg.Go(func() {
			res, err := e.store.SwapBatch(ctx, part)
			switch {
			case err != nil:
				errs[i] = fmt.Errorf("store %s: swap batch: %w", e.store.Name(), err)
			case len(res) != len(part):
				errs[i] = fmt.Errorf("store %s: swap batch returned %d results for %d swaps", e.store.Name(), len(res), len(part))
			default:
				copy(results[i*size:], res)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err // the others failed the same way, or succeeded
		}
	}
	return results, nil
}

// parallel runs f for 0..n-1 on the engine's workers; the first error
// cancels the rest.
func (e *Engine) parallel(ctx context.Context, n int, f func(context.Context, int) error) error {
	if n == 0 {
		return nil
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	idx := make(chan int)
	var wg sync.WaitGroup
	for range min(e.cfg.workers(), n) {
		wg.Go(func() {
			for i := range idx {
				if ctx.Err() != nil {
					continue
				}
				if err := f(ctx, i); err != nil {
					cancel(err)
				}
			}
		})
	}
	for i := range n {
		idx <- i
	}
	close(idx)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return err
	}
	return nil
}
