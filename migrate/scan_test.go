package migrate

import (
	"context"
	"testing"

	"github.com/overstap/overstap/adapters/store"
)

func TestScanClassifiesAndCounts(t *testing.T) {
	ctx := context.Background()
	accts := mixedAccounts(t, 60)
	// Two accounts share the national number of account 0 (duplicates),
	// one has an NRN-shaped username that fails the checksum, one is
	// disabled, one is revoked already.
	dup := accts[0]
	dup.ID, dup.Username, dup.NRN, dup.NRNSource, dup.Credential = "z-dup", "dupuser", synth(t, 0), "column", "$test$x"
	bad := store.Account{ID: "z-bad", Username: "85.07.30-033.29", Credential: "$test$bad"}
	dis := store.Account{ID: "z-dis", Username: "dis", Credential: "$test$dis", Disabled: true}
	rev := store.Account{ID: "z-rev", Username: "rev", Credential: RevokedMarker("apply-old")}
	accts = append(accts, dup, bad, dis, rev)
	for _, workers := range []int{1, 3} {
		db := newStateDB(t)
		e := newTestEngine(t, newMemStore(accts), db, Config{BatchSize: 7, Workers: workers})
		res, err := e.Scan(ctx)
		if err != nil {
			t.Fatal(err)
		}
		s := res.Summary
		checks := []struct {
			name      string
			got, want int64
		}{
			{"accounts", s.Accounts, 64},
			{"nrn username", s.NRNUsername, 10},
			{"nrn column", s.NRNColumn, 11},
			{"nrn invalid", s.NRNInvalid, 1},
			{"derived", s.Derived, 20},
			{"weak", s.Weak, 30},
			{"unsupported", s.Unsupported, 10},
			{"empty", s.Empty, 10},
			{"revoked", s.Revoked, 1},
			{"disabled", s.Disabled, 1},
			{"link unknown", s.LinkUnknown, 64},
			{"duplicate nrns", s.DuplicateNRNs, 1},
			{"duplicate accounts", s.DuplicateAccounts, 2},
			{"strength none", s.ByStrength["none"], 20},      // empty and unsupported
			{"strength revoked", s.ByStrength["revoked"], 1}, // fixed, not "none"
			{"md5", schemeCount(s, "md5"), 30},
		}
		for _, c := range checks {
			if c.got != c.want {
				t.Errorf("workers=%d %s = %d, want %d", workers, c.name, c.got, c.want)
			}
		}
		// The state database holds no clear national number or hash.
		rows, err := db.SQL().Query(`SELECT account_id, scheme, strength, COALESCE(nrn_ref, '') FROM migrate_scan_accounts`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id, sc, st, ref string
			rows.Scan(&id, &sc, &st, &ref)
			for _, v := range []string{sc, st, ref} {
				if len(v) > 0 && (v == accts[0].Credential || containsDigits11(v)) {
					t.Errorf("scan row %s holds a clear value %q", id, v)
				}
			}
		}
		rows.Close()
	}
}

func schemeCount(s Summary, scheme string) int64 {
	var n int64
	for _, c := range s.Schemes {
		if c.Scheme == scheme {
			n += c.Accounts
		}
	}
	return n
}

func containsDigits11(s string) bool {
	run := 0
	for _, c := range s {
		if c >= '0' && c <= '9' {
			run++
			if run >= 11 {
				return true
			}
		} else {
			run = 0
		}
	}
	return false
}

type fakeLinks map[string]bool

func (f fakeLinks) Linked(ctx context.Context, storeName string, ids []string) (map[string]bool, error) {
	out := map[string]bool{}
	for _, id := range ids {
		if f[id] {
			out[id] = true
		}
	}
	return out, nil
}

func TestScanLinks(t *testing.T) {
	db := newStateDB(t)
	e, err := New(Options{DB: db, Store: newMemStore(mixedAccounts(t, 12)), Hasher: testHasher{}, Links: fakeLinks{"u000001": true, "u000004": true}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Scan(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Summary.Linked != 2 || res.Summary.NotLinked != 10 || res.Summary.LinkUnknown != 0 {
		t.Errorf("linked %d not %d unknown %d", res.Summary.Linked, res.Summary.NotLinked, res.Summary.LinkUnknown)
	}
}

func TestScanStoreErrorFailsRun(t *testing.T) {
	db := newStateDB(t)
	st := newMemStore(mixedAccounts(t, 30))
	st.failIter = func(n int) error {
		if n == 3 {
			return context.DeadlineExceeded
		}
		return nil
	}
	e := newTestEngine(t, st, db, Config{BatchSize: 5})
	res, err := e.Scan(context.Background())
	if err == nil {
		t.Fatal("scan succeeded despite a store error")
	}
	r, err := db.GetRun(context.Background(), res.Run)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status == StatusDone {
		t.Errorf("run status %s after a failed scan", r.Status)
	}
}
