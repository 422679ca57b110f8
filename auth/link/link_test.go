package link

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/overstap/overstap/adapters/state"
	"github.com/overstap/overstap/adapters/store"
	"github.com/overstap/overstap/adapters/store/sqlstore"
	"github.com/overstap/overstap/auth/identity"
	"github.com/overstap/overstap/auth/nrn"
	"github.com/overstap/overstap/internal/audit"
	"github.com/overstap/overstap/internal/config"
	"github.com/overstap/overstap/internal/demoapp"
	"github.com/overstap/overstap/internal/testsvc"
)

var refKey = nrn.MustRefKey([]byte("0123456789abcdef0123456789abcdef"))

type auditLog struct {
	mu   sync.Mutex
	rows []string
}

func (a *auditLog) record(_ context.Context, kind string, _ audit.Outcome, ref string, d map[string]string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.rows = append(a.rows, fmt.Sprintf("%s %s %v", kind, ref, d))
}

func (a *auditLog) count(kind string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, r := range a.rows {
		if strings.HasPrefix(r, kind+" ") {
			n++
		}
	}
	return n
}

type fixture struct {
	legacy  *sql.DB
	store   *sqlstore.Store
	records *SQLRecords
	audit   *auditLog
	people  map[string]nrn.Number
}

func person(t *testing.T, y int, seq int) nrn.Number {
	n, err := nrn.Synthetic(time.Date(y, 5, 17, 0, 0, 0, 0, time.UTC), seq%2 == 0, seq)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// newFixture: the demo e-loket's vendor database behind the real SQL
// adapter, and overstap's state store (SQLite, or PostgreSQL when pg).
func newFixture(t *testing.T, pg bool) *fixture {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "eloket.db")
	legacy, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { legacy.Close() })
	app, err := demoapp.New(ctx, demoapp.Config{DB: legacy})
	if err != nil {
		t.Fatal(err)
	}
	people := map[string]nrn.Number{
		"single": person(t, 1970, 1), "twice": person(t, 1971, 2), "nobody": person(t, 1972, 3),
		"mismatch": person(t, 1973, 4), "other": person(t, 1974, 5),
	}
	if err := app.Seed(ctx, []demoapp.Citizen{{NRN: people["single"], Name: "Een Account"}, {NRN: people["twice"], Name: "Twee Accounts", MD5: true}}); err != nil {
		t.Fatal(err)
	}
	// A second account of the same person, and an account whose NRN column
	// disagrees with its NRN-shaped username.
	for _, row := range [][]any{
		{"twee.accounts", "geheim", people["twice"].Digits(), "Twee Accounts (oud)"},
		{people["other"].Digits(), people["other"].Digits(), people["mismatch"].Digits(), "Verkeerd Gekoppeld"},
	} {
		if _, err := legacy.Exec(`INSERT INTO burgers (gebruikersnaam, wachtwoord, rijksregisternummer, naam) VALUES (?, ?, ?, ?)`, row...); err != nil {
			t.Fatal(err)
		}
	}
	st, err := sqlstore.Open(ctx, "eloket", sqlstore.Config{
		Driver: "sqlite", DSN: config.NewSecret([]byte(path)), Table: "burgers", SchemeHint: "plaintext",
		Columns: sqlstore.Columns{ID: "id", Username: "gebruikersnaam", Password: "wachtwoord", NRN: "rijksregisternummer", Name: "naam", Federated: "federatief"},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	scfg := state.Config{Driver: "sqlite", Path: filepath.Join(t.TempDir(), "state.db")}
	if pg {
		p := testsvc.Postgres(t)
		scfg = state.Config{Driver: "postgres", DSN: p.DSN}
	}
	ss, err := state.Open(ctx, scfg, nil, Migrations())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ss.Close() })
	return &fixture{legacy: legacy, store: st, records: NewSQLRecords(ss), audit: &auditLog{}, people: people}
}

func (f *fixture) linker(t *testing.T, acc Accounts) *Linker {
	if acc == nil {
		acc = f.store
	}
	l, err := New("eloket", Config{}, Deps{Accounts: acc, Records: f.records, RefKey: refKey, Audit: f.audit.record})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func (f *fixture) row(t *testing.T, id string) (pw string, federated bool) {
	var p sql.NullString
	if err := f.legacy.QueryRow(`SELECT wachtwoord, federatief FROM burgers WHERE id = ?`, id).Scan(&p, &federated); err != nil {
		t.Fatal(err)
	}
	return p.String, federated
}

func ident(n nrn.Number) *identity.Identity {
	return &identity.Identity{NRN: n, Issuer: "http://127.0.0.1:8081/fas/oauth2", Subject: "sub-" + n.Ref(refKey)[8:16]}
}

func TestLink(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) { runLinkSuite(t, backend == "postgres") })
	}
}

func runLinkSuite(t *testing.T, pg bool) {
	ctx := context.Background()
	t.Run("first login links and revokes", func(t *testing.T) {
		f := newFixture(t, pg)
		l := f.linker(t, nil)
		res, err := l.Resolve(ctx, ident(f.people["single"]))
		if err != nil || res.Kind != Linked {
			t.Fatalf("Resolve = %+v, %v", res, err)
		}
		pw, fed := f.row(t, res.Account.ID)
		if pw != RevokedMarker || !fed {
			t.Fatalf("after link: credential %.6s..., federated %v", pw, fed)
		}
		rec, err := f.records.Get(ctx, "eloket", f.people["single"].Ref(refKey))
		if err != nil || rec.Status != StatusLinked || rec.AccountID != res.Account.ID {
			t.Fatalf("record = %+v, %v", rec, err)
		}
		again, err := l.Resolve(ctx, ident(f.people["single"]))
		if err != nil || again.Kind != Linked || again.Account.ID != res.Account.ID {
			t.Fatalf("second login = %+v, %v", again, err)
		}
		if n := f.audit.count("link.created"); n != 1 {
			t.Fatalf("link.created audited %d times", n)
		}
		for _, r := range f.audit.rows {
			if nrn.Contains(r) {
				t.Fatalf("audit row holds a clear NRN: %s", r)
			}
		}
	})
	t.Run("no account", func(t *testing.T) {
		f := newFixture(t, pg)
		res, err := f.linker(t, nil).Resolve(ctx, ident(f.people["nobody"]))
		if err != nil || res.Kind != NoAccount {
			t.Fatalf("Resolve = %+v, %v", res, err)
		}
	})
	t.Run("two accounts: choose", func(t *testing.T) {
		f := newFixture(t, pg)
		l := f.linker(t, nil)
		id := ident(f.people["twice"])
		res, err := l.Resolve(ctx, id)
		if err != nil || res.Kind != Choose || len(res.Choices) != 2 {
			t.Fatalf("Resolve = %+v, %v", res, err)
		}
		if _, err := l.LinkChosen(ctx, id, "1"); err == nil { // account 1 is someone else's
			t.Fatal("linked an account of another person")
		}
		res, err = l.LinkChosen(ctx, id, res.Choices[1].ID)
		if err != nil || res.Kind != Linked {
			t.Fatalf("LinkChosen = %+v, %v", res, err)
		}
		if pw, _ := f.row(t, res.Account.ID); pw != RevokedMarker {
			t.Fatal("chosen account's password not revoked")
		}
	})
	t.Run("disagreeing account is flagged", func(t *testing.T) {
		f := newFixture(t, pg)
		res, err := f.linker(t, nil).Resolve(ctx, ident(f.people["mismatch"]))
		if err != nil || res.Kind != Flagged {
			t.Fatalf("Resolve = %+v, %v", res, err)
		}
		if _, err := f.records.Get(ctx, "eloket", f.people["mismatch"].Ref(refKey)); !errors.Is(err, ErrNotFound) {
			t.Fatalf("flagged account was linked: %v", err)
		}
	})
	t.Run("crash between link and revoke is repaired", func(t *testing.T) {
		f := newFixture(t, pg)
		failing := &flakyAccounts{Accounts: f.store, failCAS: 1}
		id := ident(f.people["single"])
		if _, err := f.linker(t, failing).Resolve(ctx, id); err == nil {
			t.Fatal("store failure during revocation not reported")
		}
		rec, err := f.records.Get(ctx, "eloket", id.NRN.Ref(refKey))
		if err != nil || rec.Status != StatusRevoking {
			t.Fatalf("record after failure = %+v, %v", rec, err)
		}
		if pw, _ := f.row(t, rec.AccountID); pw == RevokedMarker {
			t.Fatal("credential revoked although the store failed")
		}
		res, err := f.linker(t, nil).Resolve(ctx, id)
		if err != nil || res.Kind != Linked {
			t.Fatalf("next login = %+v, %v", res, err)
		}
		if pw, _ := f.row(t, rec.AccountID); pw != RevokedMarker {
			t.Fatal("next login did not finish the revocation")
		}
	})
	t.Run("store down: nothing linked", func(t *testing.T) {
		f := newFixture(t, pg)
		down := &flakyAccounts{Accounts: f.store, down: true}
		id := ident(f.people["single"])
		if _, err := f.linker(t, down).Resolve(ctx, id); err == nil {
			t.Fatal("no error with the store down")
		}
		if _, err := f.records.Get(ctx, "eloket", id.NRN.Ref(refKey)); !errors.Is(err, ErrNotFound) {
			t.Fatalf("half-linked with the store down: %v", err)
		}
	})
	t.Run("stale link to a reused account is refused", func(t *testing.T) {
		f := newFixture(t, pg)
		l := f.linker(t, nil)
		id := ident(f.people["single"])
		res, err := l.Resolve(ctx, id)
		if err != nil || res.Kind != Linked {
			t.Fatalf("Resolve = %+v, %v", res, err)
		}
		// The vendor gives the account (same id) to someone else.
		if _, err := f.legacy.Exec(`UPDATE burgers SET rijksregisternummer = ?, gebruikersnaam = 'nieuw' WHERE id = ?`, f.people["nobody"].Digits(), res.Account.ID); err != nil {
			t.Fatal(err)
		}
		res, err = l.Resolve(ctx, id)
		if err != nil || res.Kind != Flagged || res.Account.ID != "" {
			t.Fatalf("Resolve on a stale link = %+v, %v; want Flagged without the account", res, err)
		}
		if f.audit.count("link.stale") != 1 {
			t.Fatal("stale link not audited")
		}
	})
	t.Run("choosing needs a national number", func(t *testing.T) {
		f := newFixture(t, pg)
		if _, err := f.linker(t, nil).LinkChosen(ctx, &identity.Identity{Issuer: "x", Subject: "y"}, "1"); err == nil {
			t.Fatal("LinkChosen without NRN succeeded")
		}
	})
	t.Run("audit never holds an NRN-shaped account id", func(t *testing.T) {
		f := newFixture(t, pg)
		_, _ = f.linker(t, nil).Resolve(ctx, ident(f.people["mismatch"]))
		f.audit.mu.Lock()
		defer f.audit.mu.Unlock()
		for _, r := range f.audit.rows {
			if nrn.Contains(r) {
				t.Fatalf("audit row holds a national number: %s", r)
			}
		}
	})
	t.Run("concurrent first logins link once", func(t *testing.T) {
		f := newFixture(t, pg)
		id := ident(f.people["single"])
		var wg sync.WaitGroup
		results := make([]Resolution, 8)
		errs := make([]error, 8)
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i], errs[i] = f.linker(t, nil).Resolve(ctx, id)
			}()
		}
		wg.Wait()
		for i := range results {
			if errs[i] != nil || results[i].Kind != Linked || results[i].Account.ID != results[0].Account.ID {
				t.Fatalf("login %d: %+v %v", i, results[i], errs[i])
			}
		}
		if n := f.audit.count("link.created"); n != 1 {
			t.Fatalf("link.created %d times, want 1", n)
		}
	})
}

// flakyAccounts injects store failures into the real adapter.
type flakyAccounts struct {
	Accounts
	mu      sync.Mutex
	failCAS int
	down    bool
}

var errInjected = errors.New("injected: connection refused")

func (f *flakyAccounts) LookupByNRN(ctx context.Context, n nrn.Number) ([]store.Account, error) {
	if f.down {
		return nil, errInjected
	}
	return f.Accounts.LookupByNRN(ctx, n)
}

func (f *flakyAccounts) CompareAndSwap(ctx context.Context, s store.Swap) error {
	f.mu.Lock()
	fail := f.failCAS > 0
	f.failCAS--
	f.mu.Unlock()
	if fail || f.down {
		return errInjected
	}
	return f.Accounts.CompareAndSwap(ctx, s)
}
