package demo

import (
	"context"

	"github.com/overstap/overstap/adapters/state"
	"github.com/overstap/overstap/auth/gateway"
	"github.com/overstap/overstap/auth/gateway/route"
)

// familyMigrations are the state-store components the family protections
// need (opened together with the link component).
func familyMigrations() []state.Migrations { return nil }

// familyParts builds the family hooks (family_link, family_data,
// credential) and endpoints of the demo. Until they exist, the hooked
// family classes are denied by the gateway.
func familyParts(ctx context.Context, p *Parts) (map[route.Class]gateway.Hook, map[string]gateway.Endpoint, error) {
	return nil, nil, nil
}
