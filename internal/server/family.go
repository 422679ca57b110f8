package server

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/overstap/overstap/adapters/registry"
	"github.com/overstap/overstap/adapters/state"
	"github.com/overstap/overstap/auth/family"
	"github.com/overstap/overstap/auth/gateway"
	"github.com/overstap/overstap/auth/gateway/route"
)

// familyExt adds the family protections of the configuration's family
// section: the hooks of the family_link, family_data and credential
// routes, the /.overstap/family/ pages, the admin routes, and the sweep
// that expires invitations and grants.
type familyExt struct {
	cfg family.Config
	svc *family.Service
}

func (f *familyExt) Migrations() []state.Migrations { return []state.Migrations{family.Migrations()} }

func (f *familyExt) Build(ctx context.Context, p *Parts) (map[route.Class]gateway.Hook, map[string]gateway.Endpoint, error) {
	src, err := registry.Open(ctx, f.cfg.Registry, p.Logger)
	if err != nil {
		return nil, nil, fmt.Errorf("family.registry: %w", err)
	}
	if c, ok := src.(io.Closer); ok {
		p.onClose(c.Close)
	}
	accounts := map[string]family.Accounts{}
	for _, a := range f.cfg.Apps {
		l, ok := p.Linking[a.Name]
		if !ok {
			return nil, nil, fmt.Errorf("family.apps: app %s has no linking section (the family checks need its user store)", a.Name)
		}
		accounts[a.Name] = p.Stores[l.Store]
	}
	f.svc, err = family.New(f.cfg, family.Deps{
		Store: family.NewSQLStore(p.State), Registry: src, Accounts: accounts,
		Limiter: p.Limiter, Audit: p.State, RefKey: p.RefKey, Logger: p.Logger, Now: p.Now,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("family: %w", err)
	}
	go f.svc.Run(ctx, time.Minute) // expire invitations and grants, with audit
	return f.svc.Hooks(), map[string]gateway.Endpoint{"family": f.svc.Endpoint()}, nil
}

// AdminRoutes are the family admin API (revoke grants of a person or one
// grant) behind the admin token.
func (f *familyExt) AdminRoutes() map[string]http.Handler {
	if f.svc == nil {
		return nil
	}
	return f.svc.AdminRoutes("/admin/family")
}
