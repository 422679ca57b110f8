package migrate

import (
	"context"
	"errors"
	"fmt"

	"github.com/overstap/overstap/adapters/store"
)

// RollbackOptions says which run to roll back.
type RollbackOptions struct {
	// Target is the apply run to undo.
	Target string
	// Key is the admin private key; rollback refuses without it.
	Key *PrivateKey
	// RunID resumes a rollback run (or names a new one); empty = fresh ID.
	RunID string
	// MaxReported bounds the conflicting account IDs listed (default 100).
	MaxReported int
}

// RollbackResult counts what a rollback did.
type RollbackResult struct {
	Run      string `json:"run"`
	Target   string `json:"target"`
	Resumed  bool   `json:"resumed"`
	Restored int64  `json:"restored"`
	// LeftAlone counts credentials changed since the run (by the citizen or
	// an admin): rollback does not touch them.
	LeftAlone int64 `json:"left_alone"`
	// LeftAloneIDs lists some of them (up to MaxReported).
	LeftAloneIDs []string `json:"left_alone_ids"`
	// NeedAttention counts journal entries that could not be restored
	// (damaged, foreign, or refused by the store): listed and skipped,
	// every other account is restored.
	NeedAttention int64 `json:"need_attention"`
	// Attention lists some of them (up to MaxReported) with the reason.
	Attention []Attention `json:"attention,omitempty"`
}

// Rollback restores every credential the target run changed, by
// compare-and-swap from the value the run wrote back to the sealed old
// value. A credential changed since is left alone and reported. It is
// resumable like apply.
func (e *Engine) Rollback(ctx context.Context, o RollbackOptions) (RollbackResult, error) {
	res := RollbackResult{Target: o.Target}
	if o.Key == nil {
		return res, fmt.Errorf("%w: rollback needs the admin private key (--key)", ErrKey)
	}
	if o.MaxReported == 0 {
		o.MaxReported = 100
	}
	target, err := e.db.GetRun(ctx, o.Target)
	if err != nil {
		return res, err
	}
	if target.Kind != KindApply {
		return res, fmt.Errorf("migrate: run %s is a %s, not an apply run", target.ID, target.Kind)
	}
	if target.StoreName != e.store.Name() {
		return res, fmt.Errorf("%w: run %s changed store %q, not %q", ErrRunMismatch, target.ID, target.StoreName, e.store.Name())
	}
	if target.Params.PublicKey != o.Key.Public().String() {
		return res, fmt.Errorf("%w: this private key does not match the public key run %s sealed to", ErrKey, target.ID)
	}
	if target.Status == StatusRunning {
		e.log.Warn("migrate: rolling back a run that did not finish; its unfinished batches are left as they are", "run", target.ID)
	}
	run, resumed, err := e.startRun(ctx, KindRollback, "", o.RunID, RunParams{Target: target.ID, PublicKey: o.Key.Public().String()})
	res.Run, res.Resumed = run.ID, resumed
	if err != nil {
		return res, err
	}
	if run.Status == StatusDone {
		return e.rollbackResult(ctx, res, o.MaxReported)
	}
	e.audit(ctx, AuditEvent{Type: "migrate.rollback.start", Run: run.ID, Store: run.StoreName, Policy: "rollback " + target.ID})
	runErr := e.rollbackLoop(ctx, run, target, o.Key)
	ares, err := e.finishApply(ctx, run, resumed, runErr)
	res.Restored, res.LeftAlone = ares.Changed, ares.Conflicts
	if err != nil {
		return res, err
	}
	return e.rollbackResult(ctx, res, o.MaxReported)
}

func (e *Engine) rollbackResult(ctx context.Context, res RollbackResult, maxIDs int) (RollbackResult, error) {
	counts, err := e.db.JournalCounts(ctx, res.Run)
	if err != nil {
		return res, err
	}
	res.Restored = counts[ActionRestore][StateApplied]
	res.LeftAlone = counts[ActionRestore][StateConflict]
	res.LeftAloneIDs = nil
	if res.Attention, res.NeedAttention, err = e.db.AttentionList(ctx, res.Run, maxIDs); err != nil {
		return res, err
	}
	after := ""
	for len(res.LeftAloneIDs) < maxIDs {
		es, err := e.db.EntriesAfter(ctx, res.Run, after, 1000)
		if err != nil {
			return res, err
		}
		if len(es) == 0 {
			break
		}
		for _, en := range es {
			if en.State == StateConflict && len(res.LeftAloneIDs) < maxIDs {
				res.LeftAloneIDs = append(res.LeftAloneIDs, en.Account)
			}
		}
		after = es[len(es)-1].Account
	}
	return res, nil
}

func (e *Engine) rollbackLoop(ctx context.Context, run, target Run, key *PrivateKey) error {
	cp, err := e.db.LoadCheckpoint(ctx, run.ID)
	if err != nil {
		return err
	}
	if cp.Cursor == "" && cp.Batches > 0 {
		return nil
	}
	pub := key.Public()
	// The rollback goes through every journal entry of the target.
	var total int64
	if counts, err := e.db.JournalCounts(ctx, target.ID); err == nil {
		for _, byState := range counts {
			for _, n := range byState {
				total += n
			}
		}
	}
	for {
		page, err := e.db.EntriesAfter(ctx, target.ID, cp.Cursor, e.cfg.batch())
		if err != nil {
			return fmt.Errorf("%w (run %s): %w", ErrStopped, run.ID, err)
		}
		if len(page) == 0 {
			cp.Cursor = ""
			cp.Batches++
			return e.db.settle(ctx, run.ID, nil, &cp, e.now())
		}
		outcome, err := e.rollbackBatch(ctx, run, target, key, pub, page)
		if err != nil {
			return fmt.Errorf("%w (run %s, after account %q): %w", ErrStopped, run.ID, safeID(cp.Cursor), err)
		}
		cp.Cursor = page[len(page)-1].Account
		cp.Batches++
		cp.Seen += int64(len(page))
		if err := e.db.settleRollback(ctx, run.ID, target.ID, outcome, &cp, e.now()); err != nil {
			return fmt.Errorf("%w (run %s): %w", ErrStopped, run.ID, err)
		}
		e.progress.Update(ProgressUpdate{Run: run.ID, Phase: KindRollback, Done: cp.Seen, Total: total})
	}
}

func (e *Engine) rollbackBatch(ctx context.Context, run, target Run, key *PrivateKey, pub PublicKey, page []Entry) (map[string][]string, error) {
	outcome := map[string][]string{}
	ids := make([]string, 0, len(page))
	for _, en := range page {
		ids = append(ids, en.Account)
	}
	mine, err := e.db.Entries(ctx, run.ID, ids)
	if err != nil {
		return nil, err
	}
	sealer, err := newSealer(pub)
	if err != nil {
		return nil, err
	}
	var planned []Entry
	var swaps []store.Swap
	for _, en := range page {
		if en.State != StateApplied {
			continue // planned-only, conflict, or rolled back already
		}
		prev, hasPrev := mine[en.Account]
		if hasPrev && prev.State != StatePlanned {
			continue
		}
		old, null, err := key.open(target.ID, en.Account, en.Sealed)
		if err != nil {
			// The key was checked against the run: this one entry is
			// damaged or foreign. Listed, skipped; the others go on.
			reason := "journal entry cannot be opened: damaged or copied from another entry (the key is right); the account keeps the value the run wrote"
			if errors.Is(err, ErrForeignEntry) {
				reason = "journal entry belongs to another account or run (foreign entry): not restored; the account keeps the value the run wrote"
			}
			planned = append(planned, attentionEntry(en.Account, ActionRestore, reason))
			continue
		}
		if null {
			// The contract cannot write NULL back; apply never acts on
			// NULL credentials, so this is a corrupt entry.
			planned = append(planned, attentionEntry(en.Account, ActionRestore, "journal entry says the old value was NULL, which apply never changes: not restored"))
			continue
		}
		restoreRef := newRef(ActionRestore, old)
		// Current value: the marker needs no read; a wrapped hash is only
		// known by digest, and a planned restore must check the store.
		cur := en.New
		if hasPrev || en.Action != ActionRevoke {
			a, err := e.store.Get(ctx, en.Account)
			switch {
			case errors.Is(err, store.ErrNotFound):
				outcome[StateConflict] = append(outcome[StateConflict], en.Account)
				planned = append(planned, Entry{Account: en.Account, Action: ActionRestore, Sealed: "", New: restoreRef})
				continue
			case err != nil:
				return nil, fmt.Errorf("store %s: get %s: %w", e.store.Name(), safeID(en.Account), err)
			}
			if hasPrev && !a.CredentialNull && holdsNew(prev, a.Credential) {
				outcome[StateApplied] = append(outcome[StateApplied], en.Account)
				continue
			}
			if a.CredentialNull || !holdsNew(en, a.Credential) {
				// Changed since the run: leave it alone.
				sealed, err := sealer.seal(run.ID, en.Account, a.Credential, a.CredentialNull)
				if err != nil {
					return nil, err
				}
				planned = append(planned, Entry{Account: en.Account, Action: ActionRestore, Sealed: sealed, New: restoreRef})
				outcome[StateConflict] = append(outcome[StateConflict], en.Account)
				continue
			}
			cur = a.Credential
		}
		sealed, err := sealer.seal(run.ID, en.Account, cur, false)
		if err != nil {
			return nil, err
		}
		planned = append(planned, Entry{Account: en.Account, Action: ActionRestore, Sealed: sealed, New: restoreRef})
		swaps = append(swaps, store.Swap{ID: en.Account, Old: cur, New: old})
	}
	// A planned restore of an interrupted attempt is replaced in place by
	// writePlanned's upsert.
	if err := e.db.writePlanned(ctx, run.ID, planned, e.now()); err != nil {
		return nil, err
	}
	if len(swaps) == 0 {
		return outcome, nil
	}
	var attention []Entry
	results, err := e.store.SwapBatch(ctx, swaps)
	if err != nil {
		return nil, fmt.Errorf("store %s: swap batch: %w", e.store.Name(), err)
	}
	if len(results) != len(swaps) {
		return nil, fmt.Errorf("store %s: swap batch returned %d results for %d swaps", e.store.Name(), len(results), len(swaps))
	}
	for i, r := range results {
		switch {
		case r == nil:
			outcome[StateApplied] = append(outcome[StateApplied], swaps[i].ID)
		case errors.Is(r, store.ErrConflict), errors.Is(r, store.ErrNotFound):
			outcome[StateConflict] = append(outcome[StateConflict], swaps[i].ID)
		default:
			attention = append(attention, attentionEntry(swaps[i].ID, ActionRestore, storeReason(r)))
		}
	}
	if len(attention) > 0 {
		if err := e.db.writePlanned(ctx, run.ID, attention, e.now()); err != nil {
			return nil, err
		}
	}
	return outcome, nil
}
