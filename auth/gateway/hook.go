package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/overstap/overstap/auth/gateway/hook"
	"github.com/overstap/overstap/auth/gateway/pages"
	"github.com/overstap/overstap/auth/gateway/route"
	"github.com/overstap/overstap/auth/identity"
)

// Hook, HookRequest, HookResult and Endpoint are the hook contract
// (auth/gateway/hook), so that a hook never imports this package.
type (
	Hook        = hook.Hook
	HookRequest = hook.Request
	HookResult  = hook.Result
	Endpoint    = hook.Endpoint
)

var _ hook.Gateway = (*Gateway)(nil)

// The methods of hook.Gateway: the gateway's pages, sessions, CSRF and
// client address, so a hook answers exactly like the gateway does.

// SessionOf loads the request's session: ErrNoSession when there is
// none, another error when the store failed.
func (g *Gateway) SessionOf(r *http.Request) (*Session, error) { return g.loadSession(r) }

// Page renders a gateway page (with a CSRF token when withForm).
func (g *Gateway) Page(w http.ResponseWriter, r *http.Request, status int, page string, d pages.Data, withForm bool) {
	g.render(w, r, status, page, d, withForm)
}

// Error renders an error page of kind (the renderer's kinds); cause goes
// to the log only, with the NRN redacted.
func (g *Gateway) Error(w http.ResponseWriter, r *http.Request, status int, kind pages.Kind, cause error) {
	g.errorPage(w, r, status, kind, cause)
}

// RequireLogin sends a browser to login (or step-up, for returnTo's
// route) and answers an API call with 401.
func (g *Gateway) RequireLogin(w http.ResponseWriter, r *http.Request, returnTo string, stepUp bool) {
	g.unauthenticated(w, r, returnTo, stepUp)
}

// CSRFValid checks the double-submit token of a gateway form post.
func (g *Gateway) CSRFValid(r *http.Request) bool { return g.checkCSRF(r) }

// ClientIP is the client address (X-Forwarded-For only from trusted
// proxies).
func (g *Gateway) ClientIP(r *http.Request) string { return g.clientIP(r) }

// Now is the gateway's clock.
func (g *Gateway) Now() time.Time { return g.now() }

// Fresh reports whether s meets level and was authenticated within
// maxAge (0: any age): the step-up test of hooks.
func (g *Gateway) Fresh(s *Session, level identity.Level, maxAge time.Duration) bool {
	return s != nil && s.Meets(level, maxAge, g.now())
}

// StartSession stores s as the browser's new session (replacing any old
// one) and sets the cookie: a login decided by a hook (the gateway's own
// password check for people without an NRN).
func (g *Gateway) StartSession(ctx context.Context, w http.ResponseWriter, r *http.Request, s *Session) error {
	if s == nil || s.AccountID == "" {
		return errors.New("gateway: a session needs an account")
	}
	ctx, cancel := context.WithTimeout(ctx, g.cfg.Limits.StoreTimeout)
	defer cancel()
	if _, err := g.startSession(ctx, w, r, s); err != nil {
		return fmt.Errorf("gateway: create session: %w", err)
	}
	return nil
}

// hookFor returns the hook of the decision's class, nil when none.
func (g *Gateway) hookFor(d route.Decision) Hook {
	if !d.Class.Hooked() {
		return nil
	}
	if h, ok := g.appHooks[d.AppName][d.Class]; ok {
		return h
	}
	return g.hooks[d.Class]
}

// serveHooked runs the hook of a hooked class; it returns the request and
// session to forward, or ok=false when the request was answered.
func (g *Gateway) serveHooked(w http.ResponseWriter, r *http.Request, d route.Decision, h Hook) (*http.Request, *Session, bool) {
	hr := &hook.Request{Gateway: g, App: d.AppName, Class: d.Class, Path: d.Path.Clean, MinLevel: d.MinLevel}
	s, err := g.loadSession(r)
	switch {
	case err == nil:
		hr.Session = s
	case !errors.Is(err, ErrNoSession):
		hr.SessionErr = err
	}
	res := h.Intercept(w, r, hr)
	g.m.hooks.WithLabelValues(d.AppName, string(d.Class), hookOutcome(res)).Inc()
	if res.Handled {
		return nil, nil, false
	}
	fwd := res.Forward
	if fwd == nil {
		fwd = r
	}
	if res.Session != nil {
		s = res.Session
	} else {
		s = hr.Session
	}
	return fwd, s, true
}

func hookOutcome(res HookResult) string {
	if res.Handled {
		return "answered"
	}
	return "forwarded"
}
