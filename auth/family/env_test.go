package family_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/overstap/overstap/adapters/registry"
	"github.com/overstap/overstap/adapters/state"
	"github.com/overstap/overstap/adapters/store"
	"github.com/overstap/overstap/auth/devidp"
	"github.com/overstap/overstap/auth/family"
	"github.com/overstap/overstap/auth/nrn"
	"github.com/overstap/overstap/internal/testsvc"
)

var refKey = nrn.MustRefKey([]byte("0123456789abcdef0123456789abcdef"))

// accounts maps legacy account ids to people (the app's user store).
type accounts map[string]nrn.Number

func (a accounts) Get(_ context.Context, id string) (store.Account, error) {
	n, ok := a[id]
	if !ok {
		return store.Account{}, store.ErrNotFound
	}
	return store.Account{ID: id, NRN: n}, nil
}

// LookupByNRN finds the accounts of a number, named as the dev IdP's
// persona of the same key (a user store with a mapped name column).
func (a accounts) LookupByNRN(_ context.Context, n nrn.Number) ([]store.Account, error) {
	var out []store.Account
	for id, m := range a {
		if m.Equal(n) {
			acc := store.Account{ID: id, NRN: m}
			for _, p := range devidp.Personas(time.Now()) {
				if p.Key == id {
					acc.Name = p.Name()
				}
			}
			out = append(out, acc)
		}
	}
	return out, nil
}

// downRegistry is an unreachable register.
type downRegistry struct{}

func (downRegistry) Person(context.Context, nrn.Number) (registry.Person, error) {
	return registry.Person{}, registry.ErrUnavailable
}
func (downRegistry) Household(context.Context, nrn.Number) (registry.Household, error) {
	return registry.Household{}, registry.ErrUnavailable
}
func (downRegistry) Name() string { return "down" }

type env struct {
	svc       *family.Service
	st        *state.Store
	store     *family.SQLStore
	clock     *testsvc.Clock
	who       map[string]nrn.Number // persona key → number
	acc       accounts              // account id → number; ids are the persona keys
	seventeen nrn.Number            // a child of parent-a who turns 18 in 30 days
}

type envOpt struct {
	postgres bool
	reg      registry.Source
	cfg      func(*family.Config)
}

func newEnv(t *testing.T, o envOpt) *env {
	t.Helper()
	ctx := context.Background()
	scfg := state.Config{Driver: "sqlite", Path: filepath.Join(t.TempDir(), "state.db")}
	if o.postgres {
		scfg = state.Config{Driver: "postgres", DSN: testsvc.Postgres(t).DSN}
	}
	st, err := state.Open(ctx, scfg, nil, family.Migrations())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &env{st: st, store: family.NewSQLStore(st), clock: testsvc.NewClock(time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)), who: map[string]nrn.Number{}, acc: accounts{}}
	ps := devidp.Personas(e.clock.Now())
	var ex registry.Export
	for _, p := range ps {
		if p.NRN.IsZero() {
			continue
		}
		e.who[p.Key], e.acc[p.Key] = p.NRN, p.NRN
		ex.Persons = append(ex.Persons, registry.PersonRow{NRN: p.NRN.Digits(), BirthDate: p.Birth.Format(time.DateOnly), HouseholdID: p.HouseholdID, Position: p.Position})
	}
	for _, p := range ps {
		for _, c := range p.Children {
			ex.Relations = append(ex.Relations, registry.RelationRow{NRN: p.NRN.Digits(), Related: e.who[c].Digits(), Kind: registry.Child})
		}
	}
	birth := e.clock.Now().AddDate(-18, 0, 30)
	e.seventeen, _ = nrn.Synthetic(time.Date(birth.Year(), birth.Month(), birth.Day(), 0, 0, 0, 0, time.UTC), true, 980)
	e.who["seventeen"], e.acc["seventeen"] = e.seventeen, e.seventeen
	ex.Persons = append(ex.Persons, registry.PersonRow{NRN: e.seventeen.Digits(), BirthDate: birth.Format(time.DateOnly)})
	ex.Relations = append(ex.Relations, registry.RelationRow{NRN: e.who[devidp.PersonaParentA].Digits(), Related: e.seventeen.Digits(), Kind: registry.Child})
	reg := o.reg
	if reg == nil {
		m, err := registry.NewMemory("test", ex)
		if err != nil {
			t.Fatal(err)
		}
		reg = m
	}
	cfg := family.Config{Apps: []family.AppConfig{
		{Name: "eloket", Actions: []family.Action{{Name: "payments", Methods: []string{"POST"}, Path: "/family/{member}/payments"}}},
		{Name: "other"},
	}}
	if o.cfg != nil {
		o.cfg(&cfg)
	}
	e.svc, err = family.New(cfg, family.Deps{Store: e.store, Registry: reg, Accounts: map[string]family.Accounts{"eloket": e.acc, "other": e.acc},
		Audit: st, RefKey: refKey, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) ref(key string) string { return e.who[key].Ref(refKey) }

// invite has requester ask for member and returns the code.
// newInvited is a fresh env in which parent A has invited an unrelated
// person (no register link) for eloket; it returns the env and the code.
func newInvited(t *testing.T) (*env, string) {
	t.Helper()
	e := newEnv(t, envOpt{})
	return e, e.invite(t, "eloket", devidp.PersonaParentA, devidp.PersonaUnrelated)
}

func (e *env) invite(t *testing.T, app, requester, member string) string {
	t.Helper()
	res, err := e.svc.RequestLink(context.Background(), app, e.who[requester], e.who[member])
	if err != nil || res.Outcome != family.Invited || res.Code == "" {
		t.Fatalf("invite: %+v %v", res, err)
	}
	return res.Code
}

// approve redeems code as member and approves.
func (e *env) approve(t *testing.T, code, member string) family.Grant {
	t.Helper()
	inv, err := e.svc.Redeem(context.Background(), code, e.who[member], "127.0.0.1")
	if err != nil {
		t.Fatalf("redeem: %v", err)
	}
	g, err := e.svc.Decide(context.Background(), inv.ID, e.who[member], true)
	if err != nil {
		t.Fatalf("decide: %v", err)
	}
	return g
}

func (e *env) audit(t *testing.T, typ string) []state.Entry {
	t.Helper()
	es, err := e.st.List(context.Background(), state.Filter{Type: typ, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func isErr(err, want error) bool { return errors.Is(err, want) }

func registryKind(k string) registry.Config { return registry.Config{Kind: k} }
