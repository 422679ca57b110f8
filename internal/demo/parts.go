package demo

import (
	"log/slog"
	"time"

	"github.com/overstap/overstap/adapters/state"
	"github.com/overstap/overstap/adapters/store"
	"github.com/overstap/overstap/auth/devidp"
	"github.com/overstap/overstap/auth/ratelimit"
	"github.com/overstap/overstap/internal/demoapp"
)

// Parts are the running pieces of the demo that the gateway's hooks are
// built from.
type Parts struct {
	AppName  string            // the demo e-loket's name in the gateway ("eloket")
	State    *state.Store      // SQLite state store (audit log, link and family tables)
	Accounts store.Store       // the e-loket's user table as an overstap store (sqlstore over its SQLite file)
	App      *demoapp.App      // the e-loket itself
	RefKey   []byte            // NRN reference key
	Limiter  ratelimit.Limiter // memory, or Redis with --redis
	Logger   *slog.Logger
	Now      func() time.Time
	IdP      *devidp.Server
}
