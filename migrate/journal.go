package migrate

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/overstap/overstap/adapters/state"
)

// Run kinds.
const (
	KindScan     = "scan"
	KindApply    = "apply"
	KindRollback = "rollback"
)

// Run statuses.
const (
	StatusRunning     = "running"
	StatusDone        = "done"
	StatusInterrupted = "interrupted"
	StatusFailed      = "failed"
)

// Journal entry states.
const (
	StatePlanned    = "planned"
	StateApplied    = "applied"
	StateConflict   = "conflict"
	StateRolledBack = "rolled-back"
	// StateAttention: the account was left unchanged and needs an admin's
	// attention; the entry's New holds the reason (never a credential).
	StateAttention = "attention"
)

// Actions recorded in the journal.
const (
	ActionRevoke  = "revoke"
	ActionWrap    = "wrap"
	ActionRestore = "restore"
)

// ErrRunNotFound is returned for an unknown run id.
var ErrRunNotFound = errors.New("migrate: run not found")

// ErrState wraps failures of the state database: the run stopped at its
// last checkpoint and can be resumed.
var ErrState = errors.New("migrate: state database")

// Run is one scan, apply or rollback.
type Run struct {
	ID        string
	Kind      string
	Policy    string
	StoreName string
	Params    RunParams
	StartedAt time.Time
	EndedAt   time.Time // zero while running
	Total     int64     // accounts seen
	Changed   int64     // credentials changed (applied)
	Conflicts int64     // CAS conflicts
	Skipped   int64     // accounts without an action
	Status    string
}

// RunParams are the settings a run was started with, kept so a resume
// uses the same ones.
type RunParams struct {
	Filter       Filter `json:"filter,omitzero"`
	CheckDerived bool   `json:"check_derived,omitempty"`
	PublicKey    string `json:"public_key,omitempty"`
	Target       string `json:"target,omitempty"` // rollback: the run rolled back
	Queue        bool   `json:"queue,omitempty"`  // apply: batches go through the queue
	BatchSize    int    `json:"batch_size,omitempty"`
	// CreatedDates: the scan recorded the store's creation dates.
	CreatedDates bool `json:"created_dates,omitempty"`
}

// Entry is one journal row: at most one per run and account.
type Entry struct {
	Account string
	Action  string
	Sealed  string // old value sealed to the admin key
	New     string // revoke marker, "sha256:<hex>" of a new hash, or the reason of an attention entry
	State   string
}

// Attention is one account a run left unchanged because it needs an
// admin: its id and the reason (never a credential or a national number).
type Attention struct {
	Account string `json:"account"`
	Reason  string `json:"reason"`
}

// attentionEntry records an account left alone with its reason.
func attentionEntry(account, action, reason string) Entry {
	return Entry{Account: account, Action: action, New: reason, State: StateAttention}
}

// AttentionList returns up to limit of a run's attention entries in account
// order, and how many there are in all.
func (m *DB) AttentionList(ctx context.Context, run string, limit int) ([]Attention, int64, error) {
	var total int64
	if err := m.db.QueryRowContext(ctx, m.q(`SELECT COUNT(*) FROM migrate_journal WHERE run_id = ? AND state = 'attention'`), run).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("%w: read journal: %w", ErrState, err)
	}
	out, err := queryAll(ctx, m, "read journal", `SELECT account_id, new_value FROM migrate_journal WHERE run_id = ? AND state = 'attention' ORDER BY account_id LIMIT ?`, []any{run, limit},
		func(r state.Scanner) (a Attention, err error) { err = r.Scan(&a.Account, &a.Reason); return })
	if err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// newRef is how the journal refers to a new credential: markers in clear
// (they are not secrets), hashes only as a digest.
func newRef(action, value string) string {
	if action == ActionRevoke {
		return value
	}
	d := sha256.Sum256([]byte(value))
	return "sha256:" + hex.EncodeToString(d[:])
}

// holdsNew reports whether a credential read from the store is the new
// value an entry recorded.
func holdsNew(e Entry, credential string) bool {
	if rest, ok := strings.CutPrefix(e.New, "sha256:"); ok {
		d := sha256.Sum256([]byte(credential))
		return hex.EncodeToString(d[:]) == rest
	}
	return credential == e.New
}

func millis(t time.Time) int64 { return t.UnixMilli() }

// CreateRun records a new run.
func (m *DB) CreateRun(ctx context.Context, r Run) error {
	p, err := json.Marshal(r.Params)
	if err != nil {
		return fmt.Errorf("migrate: run params: %w", err)
	}
	_, err = m.db.ExecContext(ctx, m.q(`INSERT INTO migrate_runs (id, kind, policy, store_name, params, started_at, status) VALUES (?, ?, ?, ?, ?, ?, ?)`),
		r.ID, r.Kind, r.Policy, r.StoreName, string(p), millis(r.StartedAt), r.Status)
	if err != nil {
		return fmt.Errorf("%w: create run: %w", ErrState, err)
	}
	return nil
}

// GetRun reads a run.
func (m *DB) GetRun(ctx context.Context, id string) (Run, error) {
	row := m.db.QueryRowContext(ctx, m.q(`SELECT id, kind, policy, store_name, params, started_at, ended_at, total, changed, conflicts, skipped, status FROM migrate_runs WHERE id = ?`), id)
	return scanRun(row)
}

// LatestRun returns the newest run of a kind for a store ("" = any store).
func (m *DB) LatestRun(ctx context.Context, kind, storeName string) (Run, error) {
	row := m.db.QueryRowContext(ctx, m.q(`SELECT id, kind, policy, store_name, params, started_at, ended_at, total, changed, conflicts, skipped, status FROM migrate_runs
		WHERE kind = ? AND (? = '' OR store_name = ?) AND status = 'done' ORDER BY started_at DESC, id DESC LIMIT 1`), kind, storeName, storeName)
	return scanRun(row)
}

func scanRun(row *sql.Row) (Run, error) {
	var r Run
	var params string
	var started int64
	var ended sql.NullInt64
	err := row.Scan(&r.ID, &r.Kind, &r.Policy, &r.StoreName, &params, &started, &ended, &r.Total, &r.Changed, &r.Conflicts, &r.Skipped, &r.Status)
	if errors.Is(err, sql.ErrNoRows) {
		return r, ErrRunNotFound
	}
	if err != nil {
		return r, fmt.Errorf("%w: read run: %w", ErrState, err)
	}
	if err := json.Unmarshal([]byte(params), &r.Params); err != nil {
		return r, fmt.Errorf("migrate: run %s: params: %w", r.ID, err)
	}
	r.StartedAt = time.UnixMilli(started).UTC()
	if ended.Valid {
		r.EndedAt = time.UnixMilli(ended.Int64).UTC()
	}
	return r, nil
}

// FinishRun sets a run's end, status and counts.
func (m *DB) FinishRun(ctx context.Context, r Run) error {
	var ended any
	if !r.EndedAt.IsZero() {
		ended = millis(r.EndedAt)
	}
	_, err := m.db.ExecContext(ctx, m.q(`UPDATE migrate_runs SET ended_at = ?, total = ?, changed = ?, conflicts = ?, skipped = ?, status = ? WHERE id = ?`),
		ended, r.Total, r.Changed, r.Conflicts, r.Skipped, r.Status, r.ID)
	if err != nil {
		return fmt.Errorf("%w: finish run: %w", ErrState, err)
	}
	return nil
}

// Checkpoint is the saved position of a run: the store cursor after the
// last settled batch, batches settled, and accounts seen so far.
type Checkpoint struct {
	Cursor  string
	Batches int64
	Seen    int64
}

// LoadCheckpoint returns the checkpoint of a run (zero when none).
func (m *DB) LoadCheckpoint(ctx context.Context, run string) (Checkpoint, error) {
	var c Checkpoint
	err := m.db.QueryRowContext(ctx, m.q(`SELECT cursor, batches, seen FROM migrate_checkpoints WHERE run_id = ?`), run).Scan(&c.Cursor, &c.Batches, &c.Seen)
	if errors.Is(err, sql.ErrNoRows) {
		return Checkpoint{}, nil
	}
	if err != nil {
		return c, fmt.Errorf("%w: read checkpoint: %w", ErrState, err)
	}
	return c, nil
}

func (m *DB) saveCheckpoint(ctx context.Context, tx *sql.Tx, run string, c Checkpoint, now time.Time) error {
	_, err := tx.ExecContext(ctx, m.q(`INSERT INTO migrate_checkpoints (run_id, cursor, batches, seen, updated_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (run_id) DO UPDATE SET cursor = excluded.cursor, batches = excluded.batches, seen = excluded.seen, updated_at = excluded.updated_at`),
		run, c.Cursor, c.Batches, c.Seen, millis(now))
	return err
}

// Entries returns the journal entries of run for the given accounts.
func (m *DB) Entries(ctx context.Context, run string, ids []string) (map[string]Entry, error) {
	out := make(map[string]Entry)
	for chunk := range chunks(ids, 500) {
		es, err := queryAll(ctx, m, "read journal", `SELECT account_id, action, old_sealed, new_value, state FROM migrate_journal WHERE run_id = ? AND account_id IN (`+placeholders(len(chunk))+`)`, inArgs(chunk, run), scanEntry)
		if err != nil {
			return nil, err
		}
		for _, e := range es {
			out[e.Account] = e
		}
	}
	return out, nil
}

// EntriesAfter pages through a run's journal in account order.
func (m *DB) EntriesAfter(ctx context.Context, run, after string, limit int) ([]Entry, error) {
	return queryAll(ctx, m, "read journal", `SELECT account_id, action, old_sealed, new_value, state FROM migrate_journal WHERE run_id = ? AND account_id > ? ORDER BY account_id LIMIT ?`, []any{run, after, limit}, scanEntry)
}

// scanEntry reads the columns account_id, action, old_sealed, new_value,
// state.
func scanEntry(r state.Scanner) (e Entry, err error) {
	err = r.Scan(&e.Account, &e.Action, &e.Sealed, &e.New, &e.State)
	return
}

// writePlanned records planned entries in one transaction, before any
// store write.
func (m *DB) writePlanned(ctx context.Context, run string, es []Entry, now time.Time) error {
	return m.journalStep(ctx, run, nil, es, nil, nil, now)
}

// plannedTx inserts planned entries (and attention entries: State set).
// An existing planned entry is replaced (a resumed batch re-seals the value
// it will now swap, or a swap refused per account turns it into an
// attention entry); a settled one is never touched.
func (m *DB) plannedTx(ctx context.Context, tx *sql.Tx, run string, es []Entry, now time.Time) error {
	for chunk := range chunks(es, 500) {
		args := make([]any, 0, len(chunk)*7)
		for _, e := range chunk {
			state := e.State
			if state == "" {
				state = StatePlanned
			}
			args = append(args, run, e.Account, e.Action, e.Sealed, e.New, state, millis(now))
		}
		query := `INSERT INTO migrate_journal (run_id, account_id, action, old_sealed, new_value, state, updated_at) VALUES ` + valueRows(len(chunk), 7) +
			` ON CONFLICT (run_id, account_id) DO UPDATE SET action = excluded.action, old_sealed = excluded.old_sealed, new_value = excluded.new_value, state = excluded.state, updated_at = excluded.updated_at WHERE migrate_journal.state = 'planned'`
		if _, err := tx.ExecContext(ctx, m.q(query), args...); err != nil {
			return fmt.Errorf("%w: journal: %w", ErrState, err)
		}
	}
	return nil
}

// settle moves planned entries to their outcome state and, when cp is not
// nil, saves the checkpoint, in one transaction.
func (m *DB) settle(ctx context.Context, run string, outcome map[string][]string, cp *Checkpoint, now time.Time) error {
	if cp == nil && len(outcome) == 0 {
		return nil
	}
	return m.journalStep(ctx, run, nil, nil, outcome, cp, now)
}

// journalStep writes, in one transaction: the removal of void planned
// entries, new planned entries, the outcome of a swapped batch (planned ->
// applied/conflict) and the checkpoint (each part optional).
func (m *DB) journalStep(ctx context.Context, run string, drop []string, planned []Entry, outcome map[string][]string, cp *Checkpoint, now time.Time) error {
	if len(drop) == 0 && len(planned) == 0 && len(outcome) == 0 && cp == nil {
		return nil
	}
	tx, err := m.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%w: journal: %w", ErrState, err)
	}
	defer tx.Rollback()
	if err := m.settleTx(ctx, tx, run, outcome, now); err != nil {
		return err
	}
	if cp != nil {
		if err := m.saveCheckpoint(ctx, tx, run, *cp, now); err != nil {
			return fmt.Errorf("%w: checkpoint: %w", ErrState, err)
		}
	}
	if err := m.replanTx(ctx, tx, run, drop, planned, now); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%w: journal: %w", ErrState, err)
	}
	return nil
}

// replanTx deletes the void planned entries of an earlier attempt (drop)
// and journals the new planned ones.
func (m *DB) replanTx(ctx context.Context, tx *sql.Tx, run string, drop []string, planned []Entry, now time.Time) error {
	for chunk := range chunks(drop, 500) {
		if _, err := tx.ExecContext(ctx, m.q(`DELETE FROM migrate_journal WHERE run_id = ? AND state = 'planned' AND account_id IN (`+placeholders(len(chunk))+`)`), inArgs(chunk, run)...); err != nil {
			return fmt.Errorf("%w: journal: %w", ErrState, err)
		}
	}
	return m.plannedTx(ctx, tx, run, planned, now)
}

// settleTx moves planned entries to their outcome state.
func (m *DB) settleTx(ctx context.Context, tx *sql.Tx, run string, outcome map[string][]string, now time.Time) error {
	for state, ids := range outcome {
		for chunk := range chunks(ids, 500) {
			if _, err := tx.ExecContext(ctx, m.q(`UPDATE migrate_journal SET state = ?, updated_at = ? WHERE run_id = ? AND state = 'planned' AND account_id IN (`+placeholders(len(chunk))+`)`), inArgs(chunk, state, millis(now), run)...); err != nil {
				return fmt.Errorf("%w: journal: %w", ErrState, err)
			}
		}
	}
	return nil
}

// JournalCounts counts a run's entries by action and state.
func (m *DB) JournalCounts(ctx context.Context, run string) (map[string]map[string]int64, error) {
	type count struct {
		action, state string
		n             int64
	}
	counts, err := queryAll(ctx, m, "journal counts", `SELECT action, state, COUNT(*) FROM migrate_journal WHERE run_id = ? GROUP BY action, state`, []any{run},
		func(r state.Scanner) (c count, err error) {
			err = r.Scan(&c.action, &c.state, &c.n)
			return
		})
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]int64{}
	for _, c := range counts {
		if out[c.action] == nil {
			out[c.action] = map[string]int64{}
		}
		out[c.action][c.state] = c.n
	}
	return out, nil
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

// valueRows returns the VALUES list of a multi-row INSERT: n tuples of cols
// placeholders.
func valueRows(n, cols int) string {
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
	return strings.TrimSuffix(strings.Repeat(row+",", n), ",")
}

// chunks yields s in pieces of at most n.
func chunks[T any](s []T, n int) func(func([]T) bool) {
	return func(yield func([]T) bool) {
		for len(s) > 0 {
			k := min(n, len(s))
			if !yield(s[:k]) {
				return
			}
			s = s[k:]
		}
	}
}

// settleRollback settles a rollback batch: its own entries, the target
// run's entries it restored (to rolled-back), and the checkpoint, in one
// transaction.
func (m *DB) settleRollback(ctx context.Context, run, target string, outcome map[string][]string, cp *Checkpoint, now time.Time) error {
	tx, err := m.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%w: journal: %w", ErrState, err)
	}
	defer tx.Rollback()
	exec := func(state, from, runID string, ids []string) error {
		for chunk := range chunks(ids, 500) {
			if _, err := tx.ExecContext(ctx, m.q(`UPDATE migrate_journal SET state = ?, updated_at = ? WHERE run_id = ? AND state = ? AND account_id IN (`+placeholders(len(chunk))+`)`), inArgs(chunk, state, millis(now), runID, from)...); err != nil {
				return fmt.Errorf("%w: journal: %w", ErrState, err)
			}
		}
		return nil
	}
	for state, ids := range outcome {
		if err := exec(state, StatePlanned, run, ids); err != nil {
			return err
		}
	}
	if err := exec(StateRolledBack, StateApplied, target, outcome[StateApplied]); err != nil {
		return err
	}
	if err := m.saveCheckpoint(ctx, tx, run, *cp, now); err != nil {
		return fmt.Errorf("%w: checkpoint: %w", ErrState, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%w: journal: %w", ErrState, err)
	}
	return nil
}

// recordBatch records a published batch and moves the publishing
// checkpoint, in one transaction.
func (m *DB) recordBatch(ctx context.Context, b batchMsg, cp Checkpoint, now time.Time) error {
	ids, err := json.Marshal(b.IDs)
	if err != nil {
		return err
	}
	tx, err := m.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%w: batches: %w", ErrState, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, m.q(`INSERT INTO migrate_batches (run_id, seq, after_id, ids, state, updated_at) VALUES (?, ?, ?, ?, 'queued', ?) ON CONFLICT (run_id, seq) DO NOTHING`),
		b.Run, b.Seq, b.After, string(ids), millis(now)); err != nil {
		return fmt.Errorf("%w: batches: %w", ErrState, err)
	}
	if err := m.saveCheckpoint(ctx, tx, b.Run, cp, now); err != nil {
		return fmt.Errorf("%w: checkpoint: %w", ErrState, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%w: batches: %w", ErrState, err)
	}
	return nil
}

// openBatches returns the batches of a run not done yet.
func (m *DB) openBatches(ctx context.Context, run string) ([]batchMsg, error) {
	return queryAll(ctx, m, "batches", `SELECT seq, after_id, ids FROM migrate_batches WHERE run_id = ? AND state <> 'done' ORDER BY seq`, []any{run},
		func(r state.Scanner) (b batchMsg, err error) {
			b.Run = run
			var ids string
			if err := r.Scan(&b.Seq, &b.After, &ids); err != nil {
				return b, err
			}
			if err := json.Unmarshal([]byte(ids), &b.IDs); err != nil {
				return b, fmt.Errorf("batch %d of run %s: %w", b.Seq, run, err)
			}
			return b, nil
		})
}

// Lease is the outcome of leaseAndJournal.
type lease int

const (
	leaseBusy      lease = iota // another worker holds the batch now: nothing done
	leaseDone                   // another copy of the batch was processed: nothing left
	leaseJournaled              // taken from nobody: the batch is journaled as prepared
	leaseTaken                  // taken from an earlier holder: nothing journaled yet
)

// leaseAndJournal takes the lease on a batch for worker. One worker at a
// time holds a batch: the lease is taken when nobody holds it, worker
// already does, or the holder has not renewed it since staleBefore (dead).
// Two copies of one batch in the stream (a resumed coordinator publishes
// open batches again) are thus never processed side by side.
//
// A batch nobody ever held has no journal entry (entries of a batch are
// written only under its lease), so planned, prepared without the
// journal, is journaled in the same transaction (leaseJournaled). A batch
// someone held before may have entries of that holder: then only the
// lease is taken (leaseTaken), and the caller prepares again against the
// journal and journals under the lease (journalUnderLease).
func (m *DB) leaseAndJournal(ctx context.Context, run string, seq int64, worker string, now, staleBefore time.Time, drop []string, planned []Entry) (lease, error) {
	tx, err := m.db.BeginTx(ctx, nil)
	if err != nil {
		return leaseBusy, fmt.Errorf("%w: batches: %w", ErrState, err)
	}
	defer tx.Rollback()
	take := func(cond string, args ...any) (bool, error) {
		res, err := tx.ExecContext(ctx, m.q(`UPDATE migrate_batches SET worker = ?, updated_at = ? WHERE run_id = ? AND seq = ? AND state <> 'done' AND `+cond),
			append([]any{worker, millis(now), run, seq}, args...)...)
		if err != nil {
			return false, fmt.Errorf("%w: batches: %w", ErrState, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return false, fmt.Errorf("%w: batches: %w", ErrState, err)
		}
		return n == 1, nil
	}
	fresh, err := take(`worker = ''`)
	if err != nil {
		return leaseBusy, err
	}
	got := leaseJournaled
	if !fresh {
		taken, err := take(`(worker = ? OR updated_at < ?)`, worker, millis(staleBefore))
		if err != nil {
			return leaseBusy, err
		}
		if !taken {
			var state string
			switch err := tx.QueryRowContext(ctx, m.q(`SELECT state FROM migrate_batches WHERE run_id = ? AND seq = ?`), run, seq).Scan(&state); {
			case errors.Is(err, sql.ErrNoRows):
				return leaseBusy, fmt.Errorf("%w: batch %d of run %s is not recorded", ErrState, seq, run)
			case err != nil:
				return leaseBusy, fmt.Errorf("%w: batches: %w", ErrState, err)
			case state == "done":
				return leaseDone, nil
			}
			return leaseBusy, nil
		}
		got = leaseTaken
	}
	if got == leaseJournaled {
		if err := m.replanTx(ctx, tx, run, drop, planned, now); err != nil {
			return leaseBusy, err
		}
	}
	if err := tx.Commit(); err != nil {
		return leaseBusy, fmt.Errorf("%w: journal: %w", ErrState, err)
	}
	return got, nil
}

// journalUnderLease journals a batch's planned entries (replanTx) while
// worker still holds its lease (errLeaseLost otherwise).
func (m *DB) journalUnderLease(ctx context.Context, run string, seq int64, worker string, now time.Time, drop []string, planned []Entry) error {
	tx, err := m.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%w: journal: %w", ErrState, err)
	}
	defer tx.Rollback()
	if err := m.holdsLease(ctx, tx, run, seq, worker, now); err != nil {
		return err
	}
	if err := m.replanTx(ctx, tx, run, drop, planned, now); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%w: journal: %w", ErrState, err)
	}
	return nil
}

// holdsLease renews worker's lease on an open batch inside tx, or returns
// errLeaseLost when worker does not hold it (any more).
func (m *DB) holdsLease(ctx context.Context, tx *sql.Tx, run string, seq int64, worker string, now time.Time) error {
	res, err := tx.ExecContext(ctx, m.q(`UPDATE migrate_batches SET updated_at = ? WHERE run_id = ? AND seq = ? AND worker = ? AND state <> 'done'`), millis(now), run, seq, worker)
	if err != nil {
		return fmt.Errorf("%w: batches: %w", ErrState, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("%w: batches: %w", ErrState, err)
	} else if n != 1 {
		return errLeaseLost
	}
	return nil
}

// renewLease keeps worker's lease on a batch fresh.
func (m *DB) renewLease(ctx context.Context, run string, seq int64, worker string, now time.Time) error {
	_, err := m.db.ExecContext(ctx, m.q(`UPDATE migrate_batches SET updated_at = ? WHERE run_id = ? AND seq = ? AND worker = ? AND state <> 'done'`), millis(now), run, seq, worker)
	return err
}

// batchCounts returns how many batches of a run are open and how many
// accounts the done ones held.
func (m *DB) batchCounts(ctx context.Context, run string) (open, doneAccounts int64, err error) {
	err = m.db.QueryRowContext(ctx, m.q(`SELECT COALESCE(SUM(CASE WHEN state <> 'done' THEN 1 ELSE 0 END), 0) FROM migrate_batches WHERE run_id = ?`), run).Scan(&open)
	if err != nil {
		return 0, 0, fmt.Errorf("%w: batches: %w", ErrState, err)
	}
	cp, err := m.LoadCheckpoint(ctx, run)
	if err != nil {
		return 0, 0, err
	}
	var doneBatches int64
	if err := m.db.QueryRowContext(ctx, m.q(`SELECT COUNT(*) FROM migrate_batches WHERE run_id = ? AND state = 'done'`), run).Scan(&doneBatches); err != nil {
		return 0, 0, fmt.Errorf("%w: batches: %w", ErrState, err)
	}
	if cp.Batches > 0 {
		doneAccounts = cp.Seen * doneBatches / cp.Batches
	}
	return open, doneAccounts, nil
}

// errLeaseLost: a worker's lease on a batch was taken over (it went stale)
// before the worker settled; its outcome is not recorded.
var errLeaseLost = errors.New("migrate: the batch's lease was taken over")

// settleBatch settles a worker's batch and marks it done, in one
// transaction, only while worker still holds the batch's lease: a worker
// whose lease went stale and was taken over settles nothing
// (errLeaseLost), so its outcome never lands on the entries the new holder
// journalled.
func (m *DB) settleBatch(ctx context.Context, run string, seq int64, worker string, outcome map[string][]string, attention []Entry, now time.Time) error {
	tx, err := m.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%w: journal: %w", ErrState, err)
	}
	defer tx.Rollback()
	if err := m.plannedTx(ctx, tx, run, attention, now); err != nil {
		return err
	}
	if err := m.settleTx(ctx, tx, run, outcome, now); err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, m.q(`UPDATE migrate_batches SET state = 'done', updated_at = ? WHERE run_id = ? AND seq = ? AND worker = ? AND state <> 'done'`), millis(now), run, seq, worker)
	if err != nil {
		return fmt.Errorf("%w: batches: %w", ErrState, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("%w: batches: %w", ErrState, err)
	} else if n != 1 {
		return errLeaseLost
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%w: journal: %w", ErrState, err)
	}
	return nil
}
