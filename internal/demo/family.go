package demo

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/overstap/overstap/adapters/registry"
	"github.com/overstap/overstap/adapters/state"
	"github.com/overstap/overstap/auth/devidp"
	"github.com/overstap/overstap/auth/family"
	"github.com/overstap/overstap/auth/gateway"
	"github.com/overstap/overstap/auth/gateway/route"
)

// familyMigrations are the state-store components the family protections
// need (opened together with the link component).
func familyMigrations() []state.Migrations { return []state.Migrations{family.Migrations()} }

// FamilyConfig is the demo's family configuration: the e-loket's family
// routes (Rules) read by auth/family, step-up high within 10 minutes.
func FamilyConfig() family.Config {
	return family.Config{
		StepUp: family.StepUp{Level: "high", MaxAge: 10 * time.Minute},
		Apps: []family.AppConfig{{
			Name: AppName, MemberField: "rijksregisternummer", MemberPath: "/family/{member}/**", ReturnTo: "/family",
		}},
	}
}

// RegistryExport is the population register of the demo: the personas'
// households and descent, as a municipality's export would hold them.
func RegistryExport(ps []devidp.Persona) registry.Export {
	byKey := map[string]devidp.Persona{}
	var e registry.Export
	for _, p := range ps {
		if p.NRN.IsZero() {
			continue
		}
		byKey[p.Key] = p
		e.Persons = append(e.Persons, registry.PersonRow{NRN: p.NRN.Digits(), BirthDate: p.Birth.Format(time.DateOnly),
			HouseholdID: p.HouseholdID, Position: p.Position})
	}
	for _, p := range ps {
		for _, c := range p.Children {
			if child, ok := byKey[c]; ok && !p.NRN.IsZero() {
				e.Relations = append(e.Relations, registry.RelationRow{NRN: p.NRN.Digits(), Related: child.NRN.Digits(), Kind: registry.Child})
			}
		}
	}
	return e
}

// familyServices keeps each demo's family service by its Parts (Parts is
// the lead's type): tests and the admin mount reach it with FamilyService.
var familyServices sync.Map

// FamilyService returns the family service of a running demo (its admin
// handler: FamilyService(d.Parts).AdminHandler()).
func FamilyService(p *Parts) *family.Service {
	v, _ := familyServices.Load(p)
	s, _ := v.(*family.Service)
	return s
}

// familyRegistry, when set by a test, replaces the demo's register (an
// unreachable one, to show that the gateway fails closed).
var familyRegistry registry.Source

// familyParts builds the family hooks (family_link, family_data,
// credential) and the /.overstap/family/ pages of the demo.
func familyParts(ctx context.Context, p *Parts) (map[route.Class]gateway.Hook, map[string]gateway.Endpoint, error) {
	src := familyRegistry
	if src == nil {
		m, err := registry.NewMemory("demo-export", RegistryExport(p.IdP.Personas()))
		if err != nil {
			return nil, nil, fmt.Errorf("demo: registry: %w", err)
		}
		src = m
	}
	svc, err := family.New(FamilyConfig(), family.Deps{
		Store: family.NewSQLStore(p.State), Registry: src,
		Accounts: map[string]family.Accounts{AppName: p.Accounts},
		Limiter:  p.Limiter, Audit: p.State, RefKey: p.RefKey, Logger: p.Logger, Now: p.Now,
	})
	if err != nil {
		return nil, nil, err
	}
	familyServices.Store(p, svc)
	go svc.Run(ctx, time.Minute) // audit expiries; ends with the demo
	return svc.Hooks(), map[string]gateway.Endpoint{"family": svc.Endpoint()}, nil
}

// AdminRoutes serves the family admin API on the gateway's admin listener
// (behind its token): POST /admin/family/grants/revoke and
// /admin/family/persons/revoke. The server asks after Build.
func (f *familyExtension) AdminRoutes() map[string]http.Handler {
	svc := FamilyService(f.parts)
	if svc == nil {
		return nil
	}
	return svc.AdminRoutes("/admin/family")
}
