package migrate

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRollback(t *testing.T) {
	ctx := context.Background()
	for _, policy := range []Policy{PolicyRevokeAll, PolicyWrapWeak} {
		t.Run(string(policy), func(t *testing.T) {
			db := newStateDB(t)
			accts := mixedAccounts(t, 40)
			st := newMemStore(accts)
			before := st.snapshot()
			e := newTestEngine(t, st, db, Config{BatchSize: 7})
			k := testKey(t)
			res, err := e.Apply(ctx, ApplyOptions{Policy: policy, PublicKey: k.Public(), RunID: "apply-rb"})
			if err != nil || res.Changed == 0 {
				t.Fatalf("apply: %+v %v", res, err)
			}
			// Refusals: no key, wrong key, unknown run.
			if _, err := e.Rollback(ctx, RollbackOptions{Target: "apply-rb"}); !errors.Is(err, ErrKey) {
				t.Errorf("rollback without key: %v", err)
			}
			if _, err := e.Rollback(ctx, RollbackOptions{Target: "apply-rb", Key: testKey(t)}); !errors.Is(err, ErrKey) {
				t.Errorf("rollback with another key: %v", err)
			}
			if _, err := e.Rollback(ctx, RollbackOptions{Target: "nope", Key: k}); !errors.Is(err, ErrRunNotFound) {
				t.Errorf("rollback of unknown run: %v", err)
			}
			if got := st.snapshot(); cmp.Equal(got, before) {
				t.Fatal("apply changed nothing")
			}
			// A citizen sets a new password on one changed account.
			st.set("u000002", "$test$new-by-citizen")
			// Interrupt the rollback once mid-way, then resume it.
			boom := errors.New("connection reset")
			st.swaps = 0
			st.lostAck = func(n int) error {
				if n == 2 {
					return boom
				}
				return nil
			}
			if _, err := e.Rollback(ctx, RollbackOptions{Target: "apply-rb", Key: k, RunID: "rollback-rb"}); !errors.Is(err, boom) {
				t.Fatalf("interrupted rollback: %v", err)
			}
			st.lostAck = nil
			rb, err := e.Rollback(ctx, RollbackOptions{Target: "apply-rb", Key: k, RunID: "rollback-rb"})
			if err != nil {
				t.Fatal(err)
			}
			if rb.LeftAlone != 1 || len(rb.LeftAloneIDs) != 1 || rb.LeftAloneIDs[0] != "u000002" {
				t.Errorf("left alone %d %v", rb.LeftAlone, rb.LeftAloneIDs)
			}
			if rb.Restored != res.Changed-1 {
				t.Errorf("restored %d of %d", rb.Restored, res.Changed)
			}
			want := before
			want["u000002"] = "$test$new-by-citizen"
			if diff := cmp.Diff(want, st.snapshot()); diff != "" {
				t.Errorf("store after rollback (-want +got):\n%s", diff)
			}
			for id, n := range st.writes {
				if id != "u000002" && n != 2 {
					t.Errorf("%s written %d times (want apply + restore)", id, n)
				}
			}
			counts, _ := db.JournalCounts(ctx, "apply-rb")
			var rolled int64
			for _, m := range counts {
				rolled += m[StateRolledBack]
			}
			if rolled != res.Changed-1 {
				t.Errorf("apply journal marks %d rolled back", rolled)
			}
		})
	}
}
