package gateway

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/overstap/overstap/adapters/upstream"
	"github.com/overstap/overstap/auth/gateway/pages"
	"github.com/overstap/overstap/auth/gateway/route"
	"github.com/overstap/overstap/auth/identity"
	"github.com/overstap/overstap/auth/oidc"
)

// maxFormBody bounds the bodies of the gateway's own endpoints.
const maxFormBody = 64 << 10

// ownRoutes registers the gateway's own endpoints on mux, as
// http.ServeMux patterns: the one list of them (extra endpoints of hooks
// may not take a name it serves, see takenName). Handlers check their
// methods themselves, so a wrong method gets the gateway's own answer,
// not the mux's plain text.
func (g *Gateway) ownRoutes(mux *http.ServeMux) {
	mux.HandleFunc(upstream.JWKSPath, g.jwks)
	mux.HandleFunc(Prefix+"auth", g.forwardAuth)
	mux.HandleFunc(Prefix+"static", g.notFound) // not the mux's redirect to a directory
	mux.HandleFunc(Prefix+"static/", func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") { // no directory listings
			g.notFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		g.static.ServeHTTP(w, r)
	})
	g.form(mux, Prefix+"login", g.loginPage, g.loginPost)
	mux.HandleFunc(Prefix+"denied", g.deniedPage)
	mux.HandleFunc(Prefix+"jwks/{provider}", g.providerJWKS)
	mux.HandleFunc(Prefix+"callback", g.callback)
	mux.HandleFunc(Prefix+"callback/{provider}", g.callback)
	g.form(mux, Prefix+"logout", func(w http.ResponseWriter, r *http.Request) {
		g.render(w, r, http.StatusOK, pages.Logout, pages.Data{Action: Prefix + "logout"}, true)
	}, g.logOut)
	mux.HandleFunc(Prefix+"logged-out", func(w http.ResponseWriter, r *http.Request) {
		g.render(w, r, http.StatusOK, pages.LoggedOut, pages.Data{HomeURL: "/"}, false)
	})
	mux.HandleFunc(Prefix+"backchannel-logout", g.backchannel)
	mux.HandleFunc(Prefix+"backchannel-logout/{provider}", g.backchannel)
	g.form(mux, Prefix+"stepup", func(w http.ResponseWriter, r *http.Request) {
		rt := returnTo(r.URL.Query().Get("return_to"))
		g.render(w, r, http.StatusOK, pages.StepUp, pages.Data{Action: Prefix + "stepup", ReturnTo: rt}, true)
	}, g.stepUpPost)
	mux.HandleFunc(Prefix+"lang", g.setLang)
	mux.HandleFunc(Prefix+"healthz", g.healthz)
	mux.HandleFunc(Prefix+"readyz", g.publicReadyz)
	// The operations and admin names are reserved here although they are
	// served on their own listeners: never by a hook on the public one.
	for _, reserved := range []string{"metrics", "admin"} {
		mux.HandleFunc(Prefix+reserved, g.notFound)
		mux.HandleFunc(Prefix+reserved+"/", g.notFound)
	}
	mux.HandleFunc("/", g.notFound)
}

// form registers one of the gateway's forms at path: GET (and HEAD) shows
// the page, POST runs post once its CSRF token checks out, any other
// method gets the 405 page.
func (g *Gateway) form(mux *http.ServeMux, path string, show, post http.HandlerFunc) {
	mux.HandleFunc("GET "+path, show)
	mux.HandleFunc("POST "+path, func(w http.ResponseWriter, r *http.Request) {
		if !g.checkCSRF(r) {
			g.errorPage(w, r, http.StatusForbidden, pages.KindCSRF, nil)
			return
		}
		post(w, r)
	})
	mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
		g.errorPage(w, r, http.StatusMethodNotAllowed, pages.KindMethod, nil)
	})
}

// takenName reports whether an extra endpoint name collides with one the
// gateway serves itself (or a subtree of it).
func takenName(mux *http.ServeMux, name string) bool {
	for _, p := range []string{Prefix + name, Prefix + name + "/", Prefix + name + "/x"} {
		if _, pattern := mux.Handler(&http.Request{Method: http.MethodGet, URL: &url.URL{Path: p}}); pattern != "/" {
			return true
		}
	}
	return false
}

// endpointErrors checks the names of hooks' extra endpoints against the
// gateway's own routes (a probe mux: no handler of it runs).
func endpointErrors(endpoints map[string]Endpoint) []error {
	probe := http.NewServeMux()
	(&Gateway{}).ownRoutes(probe)
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(endpoints)) {
		if !validName(name) || endpoints[name] == nil || takenName(probe, name) {
			errs = append(errs, fmt.Errorf("gateway: endpoint name %q is taken or not [a-z0-9_-]", name))
		}
	}
	return errs
}

// ownMux is the gateway's own endpoints and the extra endpoints of hooks
// (names checked by endpointErrors).
func (g *Gateway) ownMux() *http.ServeMux {
	mux := http.NewServeMux()
	g.ownRoutes(mux)
	for name, e := range g.endpoints {
		h := func(w http.ResponseWriter, r *http.Request) { e(g, w, r) }
		mux.HandleFunc(Prefix+name, h)
		mux.HandleFunc(Prefix+name+"/", h)
	}
	return mux
}

// serveOwn dispatches a request for the gateway's own paths on the
// canonical path p (never on the raw one), with bounded bodies.
func (g *Gateway) serveOwn(w http.ResponseWriter, r *http.Request, p route.Path) {
	if r.Body != nil {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	}
	r2 := new(http.Request)
	*r2 = *r
	u := *r.URL
	u.Path, u.RawPath = p.Clean, ""
	r2.URL = &u
	g.own.ServeHTTP(w, r2)
}

// notFound is the gateway's 404 page for its own paths.
func (g *Gateway) notFound(w http.ResponseWriter, r *http.Request) {
	g.errorPage(w, r, http.StatusNotFound, pages.KindNotFound, nil)
}

func (g *Gateway) jwks(w http.ResponseWriter, r *http.Request) {
	if g.signer == nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/jwk-set+json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Write(g.signer.JWKS())
}

// returnTo reads a return path from the query or form; "/" when absent or
// unsafe.
func returnTo(v string) string {
	if rt, ok := SafeReturnTo(v); ok {
		return rt
	}
	return "/"
}

// decisionFor applies the route table to a local return path on the
// request's host (login level, step-up).
func (g *Gateway) decisionFor(r *http.Request, rt string) (route.Decision, bool) {
	path, _, _ := strings.Cut(rt, "?")
	d, err := g.table.Match(r.Host, http.MethodGet, path)
	return d, err == nil
}

// loginPage shows the provider choice, or goes straight to the only
// provider; a citizen already logged in goes on (or to step-up).
func (g *Gateway) loginPage(w http.ResponseWriter, r *http.Request) {
	rt, name := returnTo(r.URL.Query().Get("return_to")), r.URL.Query().Get("provider")
	if !r.URL.Query().Has("return_to") && g.trusted(r) && r.Header.Get("X-Original-URI") != "" {
		// nginx: error_page 401 rewrites to here; the original request
		// comes from the trusted proxy.
		rt = returnTo(r.Header.Get("X-Original-URI"))
	}
	// Already logged in (nginx sends every 401 here): go on, or step up.
	if s, err := g.loadSession(r); err == nil {
		if d, ok := g.decisionFor(r, rt); ok && !g.meets(&s.Identity, d) {
			http.Redirect(w, r, Prefix+"stepup?return_to="+url.QueryEscape(rt), http.StatusFound)
			return
		}
		http.Redirect(w, r, rt, http.StatusFound)
		return
	}
	if name == "" && len(g.providers) == 1 {
		name = g.providers[0].Name()
	}
	if name == "" {
		d := pages.Data{Action: Prefix + "login", ReturnTo: rt}
		for _, p := range g.providers {
			label := g.cfg.ProviderLabels[p.Name()]
			if label == "" {
				label = p.Name()
			}
			d.Providers = append(d.Providers, pages.Provider{Name: p.Name(), Label: label})
		}
		g.render(w, r, http.StatusOK, pages.Login, d, true)
		return
	}
	g.loginWith(w, r, rt, name)
}

// loginPost starts the chosen provider (CSRF checked by form).
func (g *Gateway) loginPost(w http.ResponseWriter, r *http.Request) {
	rt, name := returnTo(r.PostFormValue("return_to")), r.PostFormValue("provider")
	if name == "" {
		// A form without a provider (the legacy-login page): the only
		// provider, or the choice page.
		if len(g.providers) != 1 {
			http.Redirect(w, r, Prefix+"login?return_to="+url.QueryEscape(rt), http.StatusSeeOther)
			return
		}
		name = g.providers[0].Name()
	}
	g.loginWith(w, r, rt, name)
}

// loginWith starts a login at provider name for the return path rt, at
// the level its route needs.
func (g *Gateway) loginWith(w http.ResponseWriter, r *http.Request, rt, name string) {
	a, ok := g.byName[name]
	if !ok {
		g.errorPage(w, r, http.StatusBadRequest, pages.KindBadRequest, nil)
		return
	}
	opts := oidc.LoginOptions{ReturnTo: rt, UILocales: []string{g.lang(r)}}
	if d, ok := g.decisionFor(r, rt); ok {
		opts.MinLevel = levelName(d.MinLevel)
		if d.Class == route.StepUp {
			opts.MaxAge = d.MaxAuthAge
		}
	}
	g.startLogin(w, r, a, opts)
}

// levelName is a route's minimum level as a login asks for it: "" (the
// provider's own min_level) for none.
func levelName(l identity.Level) string {
	if l == identity.LevelNone {
		return ""
	}
	return l.String()
}

func (g *Gateway) startLogin(w http.ResponseWriter, r *http.Request, a Authenticator, opts oidc.LoginOptions) {
	if g.starts != nil {
		ok, err := g.starts.Allow(r.Context(), g.clientIP(r))
		switch {
		case err != nil:
			g.errorPage(w, r, http.StatusServiceUnavailable, pages.KindUnavailable, err)
			return
		case !ok:
			g.m.logins.WithLabelValues(a.Name(), "too_many_starts").Inc()
			w.Header().Set("Retry-After", "600")
			g.errorPage(w, r, http.StatusTooManyRequests, pages.KindTooMany, nil)
			return
		}
	}
	if err := a.Ready(); err != nil {
		g.m.logins.WithLabelValues(a.Name(), "idp_unavailable").Inc()
		g.errorPage(w, r, http.StatusServiceUnavailable, pages.KindIDPUnavailable, err)
		return
	}
	u, err := a.AuthRequest(w, r, opts)
	if errors.Is(err, oidc.ErrLevelUnavailable) {
		g.m.logins.WithLabelValues(a.Name(), "level_too_low").Inc()
		g.errorPage(w, r, http.StatusForbidden, pages.KindLevelTooLow, err)
		return
	}
	if err != nil {
		g.m.logins.WithLabelValues(a.Name(), "idp_unavailable").Inc()
		g.errorPage(w, r, http.StatusServiceUnavailable, pages.KindIDPUnavailable, err)
		return
	}
	g.m.logins.WithLabelValues(a.Name(), "started").Inc()
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, u, http.StatusSeeOther)
}

// callback completes a login, checks the level against what the return
// path needs (an IdP answering a lower level than asked is refused), and
// starts a fresh session.
func (g *Gateway) callback(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("provider")
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		g.errorPage(w, r, http.StatusMethodNotAllowed, pages.KindMethod, nil)
		return
	}
	if name == "" && len(g.providers) == 1 {
		name = g.providers[0].Name()
	}
	a, ok := g.byName[name]
	if !ok {
		g.errorPage(w, r, http.StatusNotFound, pages.KindNotFound, nil)
		return
	}
	l, err := a.Callback(w, r)
	if err != nil {
		kind := loginFailure(err)
		g.m.logins.WithLabelValues(a.Name(), string(kind)).Inc()
		g.errorPage(w, r, loginFailureStatus(kind), kind, err)
		return
	}
	rt, app := returnTo(l.ReturnTo), ""
	if d, ok := g.decisionFor(r, rt); ok {
		app = d.AppName
		if !g.meets(&l.Identity, d) {
			// Asked for a level (or a fresh authentication) and got less.
			g.m.logins.WithLabelValues(a.Name(), "level_too_low").Inc()
			if d.Class == route.StepUp {
				g.m.stepUps.WithLabelValues("refused").Inc()
			}
			g.errorPage(w, r, http.StatusForbidden, pages.KindLevelTooLow,
				errors.New("gateway: level or auth_time below what the route requires"))
			return
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), g.cfg.Limits.StoreTimeout)
	defer cancel()
	account, err := g.accounts.Resolve(ctx, app, &l.Identity)
	if ap := g.appByName(app); ap != nil && ap.cfg.NoAccount == "register" && errors.Is(err, ErrNoAccount) && !l.NRN.IsZero() {
		// No account yet, and the app registers verified citizens: a
		// session without account, usable only on the registration route.
		account, err, rt = "", nil, ap.cfg.RegisterPath
		g.m.logins.WithLabelValues(a.Name(), "registering").Inc()
	} else if err != nil || account == "" {
		status, kind := resolveFailure(err)
		g.m.logins.WithLabelValues(a.Name(), string(kind)).Inc()
		g.errorPage(w, r, status, kind, err)
		return
	}
	s := &Session{Identity: l.Identity, AccountID: account, IDToken: l.IDToken}
	if !l.NRN.IsZero() {
		s.NRNRef = l.NRN.Ref(g.cfg.NRNRefKey)
	}
	stepUp, err := g.startSession(ctx, w, r, s)
	if err != nil {
		g.m.logins.WithLabelValues(a.Name(), "session_store").Inc()
		g.errorPage(w, r, http.StatusServiceUnavailable, pages.KindSessionStore, err)
		return
	}
	g.m.logins.WithLabelValues(a.Name(), "success").Inc()
	if stepUp {
		g.m.stepUps.WithLabelValues("passed").Inc()
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, rt, http.StatusSeeOther)
}

// stepUpPost re-authenticates (CSRF checked by form) with acr_values,
// max_age and prompt=login for the return path's route.
func (g *Gateway) stepUpPost(w http.ResponseWriter, r *http.Request) {
	rt := returnTo(r.PostFormValue("return_to"))
	d, ok := g.decisionFor(r, rt)
	if !ok {
		g.errorPage(w, r, http.StatusBadRequest, pages.KindBadRequest, nil)
		return
	}
	a := g.providers[0]
	s, err := g.loadSession(r)
	switch {
	case err == nil:
		if p, ok := g.byName[s.Provider]; ok {
			a = p
		}
	case !errors.Is(err, ErrNoSession):
		g.errorPage(w, r, http.StatusServiceUnavailable, pages.KindSessionStore, err)
		return
	}
	g.m.stepUps.WithLabelValues("started").Inc()
	g.startLogin(w, r, a, oidc.LoginOptions{ReturnTo: rt, MinLevel: levelName(d.MinLevel), MaxAge: d.MaxAuthAge, Prompt: "login", UILocales: []string{g.lang(r)}})
}

// logOut ends the browser's gateway session and sends it on: to the IdP's
// logout where the provider has one, else to the logged-out page.
func (g *Gateway) logOut(w http.ResponseWriter, r *http.Request) {
	next, err := g.endSession(w, r)
	if err != nil {
		g.errorPage(w, r, http.StatusServiceUnavailable, pages.KindSessionStore, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// endSession ends the browser's gateway session: the cookie is cleared and
// the session deleted from the store. It returns where the browser goes
// next: the provider's RP-initiated logout (OpenID Connect RP-Initiated
// Logout 1.0) when it has one, coming back to the "you are logged out"
// page, else that page directly. An error means the store failed.
func (g *Gateway) endSession(w http.ResponseWriter, r *http.Request) (string, error) {
	done := Prefix + "logged-out"
	id := cookieValue(r, g.sessionCookie, 128)
	g.setCookie(w, g.sessionCookie, "", -1)
	if id == "" {
		return done, nil
	}
	ctx, cancel := context.WithTimeout(r.Context(), g.cfg.Limits.StoreTimeout)
	defer cancel()
	s, _ := g.sessions.Load(ctx, id)
	tok, _ := g.sessions.IDToken(ctx, id)
	if err := g.sessions.Delete(ctx, id); err != nil {
		return "", err
	}
	if s != nil {
		if a, ok := g.byName[s.Provider]; ok {
			if u, err := a.LogoutURL(tok, strings.TrimSuffix(g.cfg.PublicURL, "/")+done, rand.Text()); err == nil {
				return u, nil
			}
		}
	}
	return done, nil
}

// backchannel implements OpenID Connect Back-Channel Logout 1.0 §2.8:
// POST logout_token; 200 when processed, 400 when invalid or failed.
func (g *Gateway) backchannel(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("provider")
	w.Header().Set("Cache-Control", "no-store")
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		pages.JSONError(w, http.StatusMethodNotAllowed, "invalid_request")
		return
	}
	raw := r.PostFormValue("logout_token")
	if raw == "" {
		pages.JSONError(w, http.StatusBadRequest, "invalid_request")
		return
	}
	cands := g.providers
	if name != "" {
		a, ok := g.byName[name]
		if !ok {
			pages.JSONError(w, http.StatusBadRequest, "invalid_request")
			return
		}
		cands = []Authenticator{a}
	}
	var lt *oidc.LogoutClaims
	var why error
	for _, a := range cands {
		t, err := a.ValidateLogoutToken(r.Context(), raw)
		if err == nil {
			lt = t
			break
		}
		why = errors.Join(why, fmt.Errorf("%s: %w", a.Name(), err))
	}
	if lt == nil {
		// The reason is for the operator: a provider whose logout tokens
		// are all refused leaves sessions alive after the IdP logout.
		g.log.Warn("gateway: back-channel logout token refused", "err", why.Error())
		pages.JSONError(w, http.StatusBadRequest, "invalid_request")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), g.cfg.Limits.StoreTimeout)
	defer cancel()
	var n int
	var err error
	if lt.SID != "" {
		n, err = g.sessions.RevokeSID(ctx, lt.Issuer, lt.SID)
	} else {
		n, err = g.sessions.RevokeSubject(ctx, lt.Issuer, lt.Subject)
	}
	if err != nil {
		g.log.Error("gateway: back-channel logout failed", "err", err.Error())
		pages.JSONError(w, http.StatusBadRequest, "logout_failed")
		return
	}
	g.m.revocations.WithLabelValues("backchannel").Add(float64(n))
	w.WriteHeader(http.StatusOK)
}

// setLang stores the chosen language in a cookie and goes back.
func (g *Gateway) setLang(w http.ResponseWriter, r *http.Request) {
	l := r.URL.Query().Get("l")
	if slices.Contains(pages.Languages, l) {
		http.SetCookie(w, &http.Cookie{Name: g.langCookie, Value: l, Path: "/", MaxAge: 365 * 24 * 3600,
			Secure: !g.cfg.DevInsecureCookies, SameSite: http.SameSiteLaxMode})
	}
	http.Redirect(w, r, returnTo(r.URL.Query().Get("return_to")), http.StatusSeeOther)
}

// forwardAuth is the same policy as serveApp for nginx auth_request,
// Traefik forwardAuth and Caddy forward_auth: 2xx with identity headers,
// 401 (no session; always 401 for nginx, which cannot pass a redirect),
// a redirect to login for browser navigation (Traefik, Caddy), 403 denied.
func (g *Gateway) forwardAuth(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if !g.trusted(r) {
		pages.JSONError(w, http.StatusForbidden, "untrusted_caller")
		return
	}
	h := r.Header
	method, uri, nginx := h.Get("X-Original-Method"), h.Get("X-Original-URI"), true
	if uri == "" {
		method, uri, nginx = h.Get("X-Forwarded-Method"), h.Get("X-Forwarded-Uri"), false
	}
	host := h.Get("X-Forwarded-Host")
	if host == "" {
		host = r.Host
	}
	if method == "" {
		method = http.MethodGet
	}
	rawPath, rawQuery, _ := strings.Cut(uri, "?")
	p, err := route.Normalize(rawPath)
	if err != nil || p.Ambiguous {
		// The proxy in front forwards its own reading of the path, not our
		// canonical one: an ambiguous path is refused whatever the app's
		// path policy.
		pages.JSONError(w, http.StatusBadRequest, "bad_request")
		return
	}
	d, err := g.table.MatchPath(route.HostOnly(host), method, p)
	if err != nil {
		pages.JSONError(w, http.StatusNotFound, "not_found")
		return
	}
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	defer func() { g.m.request(d.AppName, d.Class, sw.status) }()
	here := p.Clean
	if rawQuery != "" {
		here += "?" + rawQuery
	}
	if d.Class == route.Logout {
		// The proxy sends the logout to the app itself; the gateway session
		// ends here (its cookie is cleared where the proxy copies
		// Set-Cookie; the session is gone from the store either way).
		if _, err := g.endSession(sw, r); err != nil {
			pages.JSONError(sw, http.StatusServiceUnavailable, "session_store")
			return
		}
		sw.WriteHeader(http.StatusOK)
		return
	}
	s, v, kind := g.check(r, d)
	browser := !nginx && (method == http.MethodGet || method == http.MethodHead) && pages.WantsPageFor(method, h)
	switch v {
	case allow:
		a := &g.apps[d.App]
		if s != nil && s.AccountID == "" && !a.registerPath(p.Clean) {
			// A registering citizen reaches only the registration route,
			// in forward-auth mode too. (Linking after the registration
			// happens on the next login or reverse-proxied request.)
			pages.JSONError(sw, http.StatusForbidden, "registration_required")
			return
		}
		if s != nil {
			if err := a.prop.Apply(sw.Header(), g.identity(s), g.now()); err != nil {
				pages.JSONError(sw, http.StatusForbidden, "no_account")
				return
			}
		}
		sw.WriteHeader(http.StatusOK)
	case needLogin, needStepUp:
		if browser {
			ep := "login"
			if v == needStepUp {
				ep = "stepup"
			}
			http.Redirect(sw, r, Prefix+ep+"?return_to="+url.QueryEscape(here), http.StatusFound)
			return
		}
		code := "login_required"
		if v == needStepUp {
			code = "insufficient_user_authentication"
		}
		pages.JSONError(sw, http.StatusUnauthorized, code)
	case deny:
		pages.JSONError(sw, http.StatusForbidden, string(kind))
	default:
		pages.JSONError(sw, http.StatusServiceUnavailable, "session_store")
	}
}

// deniedPage renders the page of a forward-auth denial (nginx: error_page
// 403 rewrites to here with X-Original-URI from the trusted proxy).
func (g *Gateway) deniedPage(w http.ResponseWriter, r *http.Request) {
	kind := pages.KindForbidden
	if g.trusted(r) {
		if uri := r.Header.Get("X-Original-URI"); uri != "" {
			method := r.Header.Get("X-Original-Method")
			if method == "" {
				method = http.MethodGet
			}
			rawPath, _, _ := strings.Cut(uri, "?")
			if d, err := g.table.Match(r.Host, method, rawPath); err == nil {
				kind = denial(d.Class)
			}
		}
	}
	g.denied(w, r, kind)
}

// providerJWKS serves a provider's relying-party public keys (the URL to
// register as jwks_uri at itsme).
func (g *Gateway) providerJWKS(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("provider")
	a, ok := g.byName[name]
	kp, isKP := a.(KeyPublisher)
	if !ok || !isKP {
		pages.JSONError(w, http.StatusNotFound, "not_found")
		return
	}
	b := kp.PublicJWKS()
	if len(b) == 0 {
		pages.JSONError(w, http.StatusNotFound, "not_found")
		return
	}
	w.Header().Set("Content-Type", "application/jwk-set+json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Write(b)
}
