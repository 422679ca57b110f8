package migrate

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPlanPolicies(t *testing.T) {
	ctx := context.Background()
	db := newStateDB(t)
	accts := mixedAccounts(t, 60)
	e := newTestEngine(t, newMemStore(accts), db, Config{BatchSize: 9})
	res, err := e.Scan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		policy Policy
		filter Filter
		want   map[string]int64
	}{
		{PolicyRevokeNRN, Filter{}, map[string]int64{ActionRevoke: 20}},
		{PolicyRevokeDerived, Filter{}, map[string]int64{ActionRevoke: 20}},
		{PolicyWrapWeak, Filter{}, map[string]int64{ActionWrap: 30}},
		{PolicyRevokeAll, Filter{}, map[string]int64{ActionRevoke: 50}},
		{PolicyRevokeAll, Filter{HasNRN: true}, map[string]int64{ActionRevoke: 20}},
		{PolicyRevokeNRN, Filter{IDs: []string{"u000000", "u000002", "nope"}}, map[string]int64{ActionRevoke: 1}},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s-%v", c.policy, c.filter), func(t *testing.T) {
			p, err := db.Plan(ctx, res.Run, c.policy, c.filter, 3)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(c.want, p.Actions); diff != "" {
				t.Errorf("actions (-want +got):\n%s", diff)
			}
			for a, ex := range p.Examples {
				if len(ex) > 3 || int64(len(ex)) > p.Actions[a] {
					t.Errorf("examples for %s: %v", a, ex)
				}
			}
		})
	}
	if _, err := ParsePolicy("revoke-everything"); err == nil {
		t.Error("unknown policy accepted")
	}
	if _, err := db.Plan(ctx, "nope", PolicyRevokeAll, Filter{}, 1); !errors.Is(err, ErrRunNotFound) {
		t.Errorf("plan of unknown scan: %v", err)
	}
}

func TestApplyRevokeNRN(t *testing.T) {
	ctx := context.Background()
	db := newStateDB(t)
	accts := mixedAccounts(t, 60)
	st := newMemStore(accts)
	e := newTestEngine(t, st, db, Config{BatchSize: 8, Workers: 2})
	k := testKey(t)
	res, err := e.Apply(ctx, ApplyOptions{Policy: PolicyRevokeNRN, PublicKey: k.Public(), RunID: "apply-test-1"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Changed != 20 || res.Conflicts != 0 || res.Seen != 60 || res.Skipped != 40 {
		t.Errorf("result %+v", res)
	}
	snap := st.snapshot()
	for _, a := range accts {
		i := 0
		fmt.Sscanf(a.ID, "u%d", &i)
		revoked := snap[a.ID] == RevokedMarker("apply-test-1")
		if want := i%6 == 0 || i%6 == 1; revoked != want {
			t.Errorf("%s revoked=%v want %v", a.ID, revoked, want)
		}
		if st.writes[a.ID] > 1 {
			t.Errorf("%s written %d times", a.ID, st.writes[a.ID])
		}
	}
	// The journal seals the old values: the key opens them, they are the
	// originals, and nothing in the table shows them in clear.
	es, err := db.EntriesAfter(ctx, "apply-test-1", "", 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 20 {
		t.Fatalf("journal has %d entries", len(es))
	}
	orig := map[string]string{}
	for _, a := range accts {
		orig[a.ID] = a.Credential
	}
	for _, en := range es {
		if en.State != StateApplied || en.Action != ActionRevoke {
			t.Errorf("entry %+v", en)
		}
		v, _, err := k.open("apply-test-1", en.Account, en.Sealed)
		if err != nil || v != orig[en.Account] {
			t.Errorf("sealed old value of %s: %v", en.Account, err)
		}
		if strings.Contains(en.Sealed, orig[en.Account]) {
			t.Errorf("entry %s shows the old hash", en.Account)
		}
	}
	// Applying the same run again changes nothing.
	again, err := e.Apply(ctx, ApplyOptions{Policy: PolicyRevokeNRN, PublicKey: k.Public(), RunID: "apply-test-1"})
	if err != nil || again.Changed != 20 || !again.Resumed {
		t.Errorf("re-apply: %+v %v", again, err)
	}
	for id, n := range st.writes {
		if n != 1 {
			t.Errorf("%s written %d times", id, n)
		}
	}
	r, _ := db.GetRun(ctx, "apply-test-1")
	if r.Status != StatusDone || r.Changed != 20 {
		t.Errorf("run %+v", r)
	}
}

func TestApplyRefusals(t *testing.T) {
	ctx := context.Background()
	db := newStateDB(t)
	st := newMemStore(mixedAccounts(t, 6))
	e := newTestEngine(t, st, db, Config{})
	k := testKey(t)
	st.caps.AtomicCAS = false
	if _, err := e.Apply(ctx, ApplyOptions{Policy: PolicyRevokeAll, PublicKey: k.Public()}); !errors.Is(err, ErrNoAtomicCAS) {
		t.Errorf("no atomic CAS: %v", err)
	}
	if _, err := e.Apply(ctx, ApplyOptions{Policy: PolicyRevokeAll, PublicKey: k.Public(), Force: true, RunID: "forced"}); err != nil {
		t.Errorf("forced: %v", err)
	}
	st.caps.AtomicCAS = true
	if _, err := e.Apply(ctx, ApplyOptions{Policy: PolicyRevokeAll}); !errors.Is(err, ErrKey) {
		t.Errorf("no key: %v", err)
	}
	if _, err := e.Apply(ctx, ApplyOptions{Policy: "nope", PublicKey: k.Public()}); err == nil {
		t.Error("bad policy accepted")
	}
	if _, err := e.Apply(ctx, ApplyOptions{Policy: PolicyWrapWeak, PublicKey: k.Public(), RunID: "forced"}); !errors.Is(err, ErrRunMismatch) {
		t.Errorf("resume with another policy: %v", err)
	}
	if _, err := e.Apply(ctx, ApplyOptions{Policy: PolicyRevokeAll, PublicKey: testKey(t).Public(), RunID: "forced"}); !errors.Is(err, ErrRunMismatch) {
		t.Errorf("resume with another key: %v", err)
	}
	if _, err := e.Apply(ctx, ApplyOptions{Policy: PolicyRevokeAll, PublicKey: k.Public(), RunID: "Bad ID!"}); err == nil {
		t.Error("bad run id accepted")
	}
}

func TestApplyConflictLeavesCitizenChange(t *testing.T) {
	ctx := context.Background()
	db := newStateDB(t)
	accts := mixedAccounts(t, 12)
	st := newMemStore(accts)
	// The citizen changes the password between read and CAS.
	inner := st.failSwap
	st.failSwap = func(n int) error {
		if n == 1 {
			a := st.accts["u000006"]
			a.Credential = "$test$citizen-changed"
			st.accts["u000006"] = a
		}
		if inner != nil {
			return inner(n)
		}
		return nil
	}
	e := newTestEngine(t, st, db, Config{BatchSize: 50})
	res, err := e.Apply(ctx, ApplyOptions{Policy: PolicyRevokeNRN, PublicKey: testKey(t).Public(), RunID: "apply-conflict"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Conflicts != 1 || res.Changed != 3 {
		t.Errorf("result %+v", res)
	}
	if got := st.snapshot()["u000006"]; got != "$test$citizen-changed" {
		t.Errorf("citizen change overwritten: %q", got)
	}
}

// TestApplyResumeAfterFaults interrupts apply at every batch, in both
// windows (before the store commits, and after it committed but before the
// journal settled), and checks the resumed run ends exactly like an
// uninterrupted one with one write per account.
func TestApplyResumeAfterFaults(t *testing.T) {
	ctx := context.Background()
	k := testKey(t)
	accts := mixedAccounts(t, 50)
	for _, policy := range []Policy{PolicyRevokeNRN, PolicyWrapWeak} {
		refDB := newStateDB(t)
		ref := newMemStore(accts)
		if _, err := newTestEngine(t, ref, refDB, Config{BatchSize: 6}).Apply(ctx, ApplyOptions{Policy: policy, PublicKey: k.Public(), RunID: "run-x"}); err != nil {
			t.Fatal(err)
		}
		want := journalOf(t, refDB, k, "run-x")
		for _, mode := range []string{"before-commit", "lost-ack"} {
			t.Run(string(policy)+"/"+mode, func(t *testing.T) {
				db := newStateDB(t)
				st := newMemStore(accts)
				e := newTestEngine(t, st, db, Config{BatchSize: 6})
				lost := errors.New("connection reset")
				fails := 0
				for attempt := 1; attempt < 40; attempt++ {
					failAt := attempt // one fault per attempt, at a later batch each time
					hook := func(n int) error {
						if n == failAt%4+1 {
							fails++
							return lost
						}
						return nil
					}
					st.swaps = 0
					if mode == "before-commit" {
						st.failSwap = hook
					} else {
						st.lostAck = hook
					}
					_, err := e.Apply(ctx, ApplyOptions{Policy: policy, PublicKey: k.Public(), RunID: "run-x"})
					if err == nil {
						break
					}
					if !errors.Is(err, ErrStopped) || !errors.Is(err, lost) {
						t.Fatalf("attempt %d: %v", attempt, err)
					}
				}
				if fails == 0 {
					t.Fatal("no fault was injected")
				}
				st.failSwap, st.lostAck = nil, nil
				got := journalOf(t, db, k, "run-x")
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("journal differs from an uninterrupted run (-want +got):\n%s", diff)
				}
				if policy == PolicyRevokeNRN {
					if diff := cmp.Diff(ref.snapshot(), st.snapshot()); diff != "" {
						t.Errorf("store differs (-want +got):\n%s", diff)
					}
				}
				for id, n := range st.writes {
					if n != 1 {
						t.Errorf("%s written %d times", id, n)
					}
				}
				if len(st.writes) != len(want) {
					t.Errorf("%d accounts written, journal has %d", len(st.writes), len(want))
				}
			})
		}
	}
}

// journalOf returns account -> "action state old-value" of a run.
func journalOf(t testing.TB, db *DB, k *PrivateKey, run string) map[string]string {
	t.Helper()
	out := map[string]string{}
	after := ""
	for {
		es, err := db.EntriesAfter(context.Background(), run, after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(es) == 0 {
			return out
		}
		for _, e := range es {
			v, null, err := k.open(run, e.Account, e.Sealed)
			if err != nil {
				t.Fatal(err)
			}
			newv := e.New
			if strings.HasPrefix(newv, "sha256:") {
				newv = "sha256"
			}
			out[e.Account] = fmt.Sprintf("%s %s %q null=%v new=%s", e.Action, e.State, v, null, newv)
		}
		after = es[len(es)-1].Account
	}
}
