package migrate

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/overstap/overstap/adapters/store"
)

// datedStore is a memStore that knows creation dates: account i of
// mixedAccounts was created on day i after the epoch below; every seventh
// has no known date.
type datedStore struct {
	*memStore
	dates map[string]time.Time
}

var datedEpoch = time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC)

func newDatedStore(accts []store.Account) *datedStore {
	d := &datedStore{memStore: newMemStore(accts), dates: map[string]time.Time{}}
	for i, a := range accts {
		if i%7 != 6 {
			d.dates[a.ID] = datedEpoch.AddDate(0, 0, i)
		}
	}
	return d
}

func (d *datedStore) HasCreationDates() bool { return true }

func (d *datedStore) CreatedAt(_ context.Context, ids []string) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	for _, id := range ids {
		if t, ok := d.dates[id]; ok {
			out[id] = t
		}
	}
	return out, nil
}

// before counts the accounts the created-before filter must keep, and of
// them those the policy acts on (per the plan without the filter).
func datedExpect(t *testing.T, ctx context.Context, db *DB, scan string, accts []store.Account, d *datedStore, cutoff time.Time, p Policy) (matched, acted int64) {
	t.Helper()
	for i, a := range accts {
		dt, ok := d.dates[a.ID]
		if !ok || !dt.Before(cutoff) {
			continue
		}
		matched++
		pr, err := db.Plan(ctx, scan, p, Filter{IDs: []string{accts[i].ID}}, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range pr.Actions {
			acted += n
		}
	}
	return matched, acted
}

// TestCreatedBeforeFilter: scan records the store's creation dates; plan
// and apply with created-before act exactly on accounts created before the
// cutoff (unknown dates never match); scan --created-before classifies only
// those; a store without creation dates refuses the filter everywhere.
func TestCreatedBeforeFilter(t *testing.T) {
	ctx := context.Background()
	db := newStateDB(t)
	accts := mixedAccounts(t, 60)
	ds := newDatedStore(accts)
	e := newTestEngine(t, ds, db, Config{BatchSize: 9})
	scan, err := e.Scan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cutoff := datedEpoch.AddDate(0, 0, 30)
	f := Filter{CreatedBefore: cutoff}
	wantMatched, wantActed := datedExpect(t, ctx, db, scan.Run, accts, ds, cutoff, PolicyRevokeNRN)
	if wantMatched == 0 || wantActed == 0 || wantMatched >= 30 {
		t.Fatalf("fixture: %d matched, %d acted", wantMatched, wantActed)
	}
	p, err := db.Plan(ctx, scan.Run, PolicyRevokeNRN, f, 100)
	if err != nil {
		t.Fatal(err)
	}
	if p.Matched != wantMatched || p.Actions[ActionRevoke] != wantActed {
		t.Fatalf("plan: matched %d revoke %d, want %d and %d", p.Matched, p.Actions[ActionRevoke], wantMatched, wantActed)
	}
	for _, id := range p.Examples[ActionRevoke] {
		if dt, ok := ds.dates[id]; !ok || !dt.Before(cutoff) {
			t.Fatalf("plan acts on %s created %v", id, dt)
		}
	}

	res, err := e.Apply(ctx, ApplyOptions{Policy: PolicyRevokeNRN, Filter: f, PublicKey: testKey(t).Public()})
	if err != nil {
		t.Fatal(err)
	}
	if res.Changed != wantActed {
		t.Fatalf("apply changed %d, want %d", res.Changed, wantActed)
	}
	for id, v := range ds.snapshot() {
		if dt, ok := ds.dates[id]; strings.HasPrefix(v, RevokedPrefix) && (!ok || !dt.Before(cutoff)) {
			t.Fatalf("apply revoked %s created %v (known %v)", id, dt, ok)
		}
	}

	// A scan narrowed to old accounts counts only them.
	narrow, err := e.ScanWith(ctx, ScanOptions{CreatedBefore: cutoff})
	if err != nil {
		t.Fatal(err)
	}
	if narrow.Summary.Accounts != wantMatched {
		t.Fatalf("narrowed scan counted %d accounts, want %d", narrow.Summary.Accounts, wantMatched)
	}

	// Without creation dates: refused, nothing started or written.
	plain := newMemStore(accts)
	e2 := newTestEngine(t, plain, db, Config{BatchSize: 9})
	if _, err := e2.ScanWith(ctx, ScanOptions{CreatedBefore: cutoff}); !errors.Is(err, ErrNoCreationDates) {
		t.Fatalf("scan without dates: %v", err)
	}
	if _, err := e2.Apply(ctx, ApplyOptions{Policy: PolicyRevokeNRN, Filter: f, PublicKey: testKey(t).Public()}); !errors.Is(err, ErrNoCreationDates) {
		t.Fatalf("apply without dates: %v", err)
	}
	plainScan, err := e2.Scan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Plan(ctx, plainScan.Run, PolicyRevokeNRN, f, 1); !errors.Is(err, ErrNoCreationDates) {
		t.Fatalf("plan over a scan without dates: %v", err)
	}
	for id, v := range plain.snapshot() {
		if strings.HasPrefix(v, RevokedPrefix) {
			t.Fatalf("refused apply wrote %s", id)
		}
	}
}
