// Package gateway is the HTTP front of overstap: a reverse proxy and a
// forward-auth endpoint (one handler, two modes) in front of legacy apps.
//
// For every request it normalises the path and applies the route policy
// (package route), loads the session (one store read), enforces the level
// and authentication age of step-up routes, strips client-supplied
// identity headers and adds the citizen's identity (package
// adapters/upstream). Under /.overstap/ it serves login, callback, logout,
// back-channel logout, step-up and forward-auth; pages come from package
// pages. Operations (health, readiness, metrics, admin revocation) run on
// separate listeners.
//
// The relying party and the session store are consumed through the small
// interfaces Authenticator and Sessions defined here; cmd wiring adapts
// auth/oidc and auth/session to them.
package gateway
