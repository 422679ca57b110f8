package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/overstap/overstap/adapters/upstream"
	"github.com/overstap/overstap/auth/gateway/hook"
	"github.com/overstap/overstap/auth/gateway/pages"
	"github.com/overstap/overstap/auth/gateway/route"
	"github.com/overstap/overstap/auth/identity"
	"github.com/overstap/overstap/auth/nrn"
	"github.com/overstap/overstap/auth/oidc"
	"github.com/overstap/overstap/auth/session"
	"github.com/overstap/overstap/internal/logging"
)

// Prefix is the path prefix of the gateway's own endpoints.
const Prefix = hook.Prefix

// CallbackPath is the path of provider's redirect URL: the gateway
// completes that provider's logins there and nowhere else, so the
// provider's redirect_url must be the public URL with this path.
func CallbackPath(provider string) string { return Prefix + "callback/" + provider }

// Deps are the collaborators of the gateway.
type Deps struct {
	Sessions  session.Store   // required
	Providers []Authenticator // at least one
	Accounts  AccountResolver // nil: Config.AccountID decides
	Checks    []Checker       // extra readiness checks (state store, ...)
	Logger    *slog.Logger    // nil: discard
	Now       func() time.Time
	Registry  *prometheus.Registry // nil: a new one
	// Hooks decide the hooked route classes (legacy_login, family_*,
	// credential); a hooked class without a hook is denied.
	Hooks map[route.Class]Hook
	// AppHooks are hooks of one app (by app name), before Hooks: the
	// legacy-login hook of each app with linking configured.
	AppHooks map[string]map[route.Class]Hook
	// Pages are page sets of other parts (the family pages), rendered in
	// the gateway's layout.
	Pages []pages.Set
	// Endpoints are extra gateway endpoints under /.overstap/<name>/.
	Endpoints map[string]Endpoint
	// Starts limits login starts per client (nil: unlimited).
	Starts StartLimiter
	// Admin are extra admin API routes ("GET /admin/bans" → handler),
	// served behind the admin token.
	Admin map[string]http.Handler
}

type app struct {
	cfg    AppConfig
	prop   *upstream.Propagator
	proxy  *httputil.ReverseProxy // nil: forward-auth only
	target *url.URL
}

// Gateway is the citizen-facing handler (ServeHTTP) plus the operations
// handlers (OpsHandler, AdminHandler). It is safe for concurrent use.
type Gateway struct {
	cfg            Config
	table          *route.Table
	apps           []app
	sessions       session.Store
	providers      []Authenticator
	byName         map[string]Authenticator
	accounts       AccountResolver
	checks         []Checker
	signer         *upstream.Signer
	pages          *pages.Renderer
	static         http.Handler
	own            *http.ServeMux // the gateway's own endpoints (ownRoutes)
	log            *slog.Logger
	now            func() time.Time
	tls            bool
	trustedProxies []netip.Prefix
	sessionCookie  string
	csrfCookie     string
	langCookie     string
	transport      *http.Transport
	m              *metrics
	registry       *prometheus.Registry
	hooks          map[route.Class]Hook
	appHooks       map[string]map[route.Class]Hook
	endpoints      map[string]Endpoint
	starts         StartLimiter
	admin          map[string]http.Handler
}

// New validates the configuration and builds the gateway.
func New(cfg Config, d Deps) (*Gateway, error) {
	cfg.setDefaults()
	var errs []error
	if err := cfg.Validate(); err != nil {
		errs = append(errs, err)
	}
	if d.Sessions == nil {
		errs = append(errs, errors.New("gateway: a session store is required"))
	}
	if cfg.NRNRefKey.IsZero() {
		errs = append(errs, errors.New("nrn_ref_key: required (an nrn.RefKey: the top-level nrn_ref_key)"))
	}
	if len(d.Providers) == 0 {
		errs = append(errs, errors.New("gateway: at least one provider is required"))
	}
	for c, h := range d.Hooks {
		if !c.Hooked() || h == nil {
			errs = append(errs, fmt.Errorf("gateway: no hook can decide route class %q", c))
		}
	}
	for app, hs := range d.AppHooks {
		if !slices.ContainsFunc(cfg.Apps, func(a AppConfig) bool { return a.Name == app }) {
			errs = append(errs, fmt.Errorf("gateway: hooks for app %q, which is not in apps", app))
		}
		for c, h := range hs {
			if !c.Hooked() || h == nil {
				errs = append(errs, fmt.Errorf("gateway: no hook can decide route class %q of app %s", c, app))
			}
		}
	}
	for pattern, h := range d.Admin {
		method, path, ok := strings.Cut(pattern, " ")
		if !ok || method == "" || !strings.HasPrefix(path, "/admin/") || strings.HasPrefix(path, "/admin/revoke/") || h == nil {
			errs = append(errs, fmt.Errorf("gateway: admin route %q must be \"METHOD /admin/...\" outside /admin/revoke/", pattern))
		}
	}
	errs = append(errs, endpointErrors(d.Endpoints)...)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	g := &Gateway{
		cfg: cfg, sessions: d.Sessions, providers: d.Providers, accounts: d.Accounts, checks: d.Checks,
		log: d.Logger, now: d.Now, tls: cfg.TLSCertFile != "", byName: map[string]Authenticator{},
		registry: d.Registry, hooks: maps.Clone(d.Hooks), appHooks: maps.Clone(d.AppHooks), endpoints: maps.Clone(d.Endpoints), starts: d.Starts,
		admin: maps.Clone(d.Admin),
	}
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	if g.now == nil {
		g.now = time.Now
	}
	if g.registry == nil {
		g.registry = prometheus.NewRegistry()
	}
	if g.accounts == nil {
		g.accounts = builtinAccounts(cfg.AccountID)
	}
	for _, p := range d.Providers {
		if _, dup := g.byName[p.Name()]; dup || !validName(p.Name()) {
			return nil, fmt.Errorf("gateway: provider name %q is duplicated or not [a-z0-9_-]", p.Name())
		}
		g.byName[p.Name()] = p
	}
	g.trustedProxies, _ = parsePrefixes(cfg.TrustedProxies)
	g.sessionCookie, g.csrfCookie, g.langCookie = cookieNames(cfg.DevInsecureCookies)
	routes := make([]route.App, len(cfg.Apps))
	for i, a := range cfg.Apps {
		routes[i] = a.App
	}
	var err error
	if g.table, err = route.New(routes); err != nil {
		return nil, err
	}
	if len(cfg.Assertion.Keys) > 0 {
		sc := cfg.Assertion
		if sc.Issuer == "" {
			sc.Issuer = strings.TrimSuffix(cfg.PublicURL, "/")
		}
		if g.signer, err = upstream.NewSigner(sc); err != nil {
			return nil, err
		}
	}
	if g.pages, err = pages.New(cfg.Brand, d.Pages...); err != nil {
		return nil, err
	}
	g.static = http.StripPrefix(Prefix+"static/", http.FileServerFS(pages.Static()))
	g.own = g.ownMux()
	g.transport = newTransport(cfg.Limits)
	for _, a := range cfg.Apps {
		rt := app{cfg: a}
		if rt.prop, err = upstream.New(a.Identity, a.Name, g.signer); err != nil {
			return nil, fmt.Errorf("gateway: app %s: %w", a.Name, err)
		}
		if a.Upstream != "" {
			rt.target, _ = url.Parse(a.Upstream)
			rt.proxy = g.newProxy(rt.target, a.RewriteHost, rt.prop)
		}
		g.apps = append(g.apps, rt)
	}
	g.m = newMetrics(g.registry)
	if cfg.DevInsecureCookies {
		g.log.Warn("gateway: dev_insecure_cookies is on: cookies without Secure and __Host-; never in production")
	}
	return g, nil
}

func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// newTransport is tuned for many concurrent requests to a few upstreams:
// keeping only 2 idle connections per host (the default) turns every
// burst into new TCP connections.
func newTransport(l Limits) *http.Transport {
	d := &net.Dialer{Timeout: l.DialTimeout, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                  nil, // never an environment proxy between gateway and app
		DialContext:            d.DialContext,
		MaxIdleConns:           4 * l.MaxIdleConnsPerHost,
		MaxIdleConnsPerHost:    l.MaxIdleConnsPerHost,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    10 * time.Second,
		ResponseHeaderTimeout:  l.UpstreamTimeout,
		ExpectContinueTimeout:  time.Second,
		DisableCompression:     true, // pass encodings through untouched
		MaxResponseHeaderBytes: 1 << 20,
	}
}

// identityKey carries the identity headers of a request to Rewrite.
type identityKey struct{}

func (g *Gateway) newProxy(target *url.URL, rewriteHost bool, prop *upstream.Propagator) *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			// Rewrite starts from a request whose Forwarded, X-Forwarded-*
			// and hop-by-hop headers the stdlib already removed. Every
			// client-supplied identity header goes, then ours are set.
			prop.Strip(pr.Out.Header)
			stripOwnCookies(pr.Out.Header)
			if idh, ok := pr.In.Context().Value(identityKey{}).(http.Header); ok {
				for k, v := range idh {
					pr.Out.Header[k] = v
				}
			}
			pr.SetURL(target)
			if !rewriteHost {
				pr.Out.Host = pr.In.Host
			}
			pr.Out.Header.Set("X-Forwarded-For", g.clientIP(pr.In))
			pr.Out.Header.Set("X-Forwarded-Host", pr.In.Host)
			if g.tls || g.forwardedProto(pr.In) == "https" {
				pr.Out.Header.Set("X-Forwarded-Proto", "https")
			} else {
				pr.Out.Header.Set("X-Forwarded-Proto", "http")
			}
		},
		Transport:  g.transport,
		BufferPool: bufferPool{},
		// 0: buffered copies, except that ReverseProxy flushes every write of
		// streaming responses (text/event-stream, unknown length) and of
		// upgraded connections, so SSE, long polls and websockets stream.
		FlushInterval: 0,
		ErrorHandler:  g.upstreamError,
		ErrorLog:      slog.NewLogLogger(g.log.Handler(), slog.LevelWarn),
	}
}

// bufferPool recycles the proxy's copy buffers: without it every request
// allocates 32 KiB (the largest allocation on the hot path).
type bufferPool struct{}

var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// Get returns a 32 KiB buffer.
func (bufferPool) Get() []byte { return *copyBuffers.Get().(*[]byte) }

// Put gives a buffer back.
func (bufferPool) Put(b []byte) { copyBuffers.Put(&b) }

// forwardedProto is X-Forwarded-Proto from a trusted proxy.
func (g *Gateway) forwardedProto(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	if g.trusted(r) {
		return r.Header.Get("X-Forwarded-Proto")
	}
	return ""
}

// upstreamError answers 502 (504 on timeout) with a page; nothing of the
// request (identity headers) is echoed.
func (g *Gateway) upstreamError(w http.ResponseWriter, r *http.Request, err error) {
	status, kind := http.StatusBadGateway, pages.KindUpstream
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		status = http.StatusGatewayTimeout
	}
	if errors.Is(err, context.Canceled) {
		status = 499 // client gone; nothing will be read
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		status, kind = http.StatusRequestEntityTooLarge, "too_large"
	}
	g.log.Warn("gateway: upstream failed", "host", r.Host, "status", status, "err", err.Error())
	g.errorPage(w, r, status, kind, nil)
}

// ServeHTTP is the citizen-facing handler: gateway endpoints under
// /.overstap/, the JWKS, and every other request through the route policy
// to an app.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if headerBytes(r) > g.cfg.Limits.MaxHeaderBytes {
		g.errorPage(w, r, http.StatusRequestHeaderFieldsTooLarge, pages.KindTooLarge, nil)
		return
	}
	p, err := route.Normalize(r.URL.EscapedPath())
	if err != nil || (r.URL.Host != "" && r.URL.Host != r.Host) {
		g.errorPage(w, r, http.StatusBadRequest, pages.KindBadRequest, err)
		return
	}
	if strings.HasPrefix(p.Match, Prefix) || p.Match == upstream.JWKSPath {
		if p.Ambiguous {
			// The gateway's own paths are never written ambiguously.
			g.errorPage(w, r, http.StatusBadRequest, pages.KindBadRequest, route.ErrAmbiguousPath)
			return
		}
		g.serveOwn(w, r, p)
		return
	}
	g.serveApp(w, r, p)
}

// verdict is the outcome of the route policy for one request.
type verdict int

const (
	allow verdict = iota
	needLogin
	needStepUp
	deny
	storeDown
)

// check applies the route decision to the request's session.
func (g *Gateway) check(r *http.Request, d route.Decision) (*Session, verdict, pages.Kind) {
	switch d.Class {
	case route.Public:
		return nil, allow, ""
	case route.Protected, route.StepUp:
	default:
		return nil, deny, denial(d.Class)
	}
	s, err := g.loadSession(r)
	switch {
	case errors.Is(err, ErrNoSession):
		return nil, needLogin, ""
	case err != nil:
		return nil, storeDown, ""
	}
	if !g.meets(&s.Identity, d) {
		return s, needStepUp, ""
	}
	return s, allow, ""
}

// meets reports whether the identity meets the level and the
// authentication age of the decision.
func (g *Gateway) meets(id *identity.Identity, d route.Decision) bool {
	return id.Meets(d.MinLevel, d.MaxAuthAge, g.now())
}

// loadSession reads the session cookie and loads the session: one store
// read. ErrNoSession when there is none.
func (g *Gateway) loadSession(r *http.Request) (*Session, error) {
	id := cookieValue(r, g.sessionCookie, 128)
	if id == "" {
		return nil, ErrNoSession
	}
	ctx, cancel := context.WithTimeout(r.Context(), g.cfg.Limits.StoreTimeout)
	defer cancel()
	start := time.Now()
	x, err := g.sessions.Load(ctx, id)
	g.m.loadLatency.Observe(time.Since(start).Seconds())
	switch {
	case errors.Is(err, session.ErrNotFound):
		return nil, ErrNoSession
	case err != nil:
		g.log.Error("gateway: session store failed", "err", err.Error())
		return nil, err
	}
	return &Session{Identity: x.Identity, NRNRef: x.NRNRef, AccountID: x.AccountID}, nil
}

// startSession stores s as the browser's new session, replacing the one
// its cookie names (a login never keeps an old id), and sets the cookie.
// replaced reports whether there was an old one (a step-up).
func (g *Gateway) startSession(ctx context.Context, w http.ResponseWriter, r *http.Request, s *Session) (replaced bool, err error) {
	if s.AuthTime.IsZero() {
		s.AuthTime = g.now()
	}
	if old := cookieValue(r, g.sessionCookie, 128); old != "" {
		replaced = true
		_ = g.sessions.Delete(ctx, old)
	}
	id, err := g.sessions.Create(ctx, &session.Session{Identity: s.Identity, NRNRef: s.NRNRef, AccountID: s.AccountID, IDToken: s.IDToken})
	if err != nil {
		return replaced, err
	}
	g.setCookie(w, g.sessionCookie, id, 0)
	return replaced, nil
}

// serveApp handles a request for a legacy app (reverse-proxy mode).
func (g *Gateway) serveApp(w http.ResponseWriter, r *http.Request, p route.Path) {
	start := time.Now()
	d, err := g.table.MatchPath(route.HostOnly(r.Host), r.Method, p)
	if errors.Is(err, route.ErrAmbiguousPath) {
		g.errorPage(w, r, http.StatusBadRequest, pages.KindBadRequest, err)
		return
	}
	if err != nil {
		g.errorPage(w, r, http.StatusNotFound, pages.KindNotFound, err)
		return
	}
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK, decision: "hook"}
	g.serveDecision(sw, r, d, p)
	g.m.request(d.AppName, d.Class, sw.status)
	dur := time.Since(start)
	g.m.duration.WithLabelValues(string(d.Class)).Observe(dur.Seconds())
	if g.cfg.AccessLog {
		// The canonical path and references only: no query (it may hold
		// tokens or a national number), no session id, no cookie.
		g.log.Info("access", "method", r.Method, "path", nrn.Scrub(p.Clean), "status", sw.status, "bytes", sw.bytes,
			"duration_ms", float64(dur.Microseconds())/1000, "app", d.AppName, "class", string(d.Class),
			"decision", sw.decision, "who", sw.who)
	}
}

// verdictNames are the access log's decision column.
var verdictNames = [...]string{allow: "allow", needLogin: "login", needStepUp: "step_up", deny: "deny", storeDown: "store_down"}

func (g *Gateway) serveDecision(w http.ResponseWriter, r *http.Request, d route.Decision, p route.Path) {
	a := &g.apps[d.App]
	if h := g.hookFor(d); h != nil {
		if a.proxy == nil {
			g.errorPage(w, r, http.StatusNotFound, pages.KindNotFound, nil)
			return
		}
		g.limitBody(w, r)
		fwd, s, ok := g.serveHooked(w, r, d, h)
		if ok {
			g.forward(w, fwd, a, s, p)
		}
		return
	}
	if d.Class == route.Logout {
		g.appLogout(w, r, a, p)
		return
	}
	s, v, kind := g.check(r, d)
	if sw, ok := w.(*statusWriter); ok {
		sw.decision = verdictNames[v]
		if s != nil {
			sw.who = s.NRNRef // the keyed reference, as in the audit log
		}
	}
	here := p.Clean
	if r.URL.RawQuery != "" {
		here += "?" + r.URL.RawQuery
	}
	switch v {
	case needLogin:
		g.unauthenticated(w, r, here, false)
		return
	case needStepUp:
		g.unauthenticated(w, r, here, true)
		return
	case deny:
		g.denied(w, r, kind)
		return
	case storeDown:
		g.errorPage(w, r, http.StatusServiceUnavailable, pages.KindSessionStore, nil)
		return
	}
	if a.proxy == nil {
		g.errorPage(w, r, http.StatusNotFound, pages.KindNotFound, nil)
		return
	}
	if s != nil && s.AccountID == "" {
		var ok bool
		if s, ok = g.unregistered(w, r, a, s, d, p); !ok {
			return
		}
	}
	g.limitBody(w, r)
	g.forward(w, r, a, s, p)
}

// limitBody bounds the request body in size and, unless the connection
// is being upgraded (websockets), in reading time.
func (g *Gateway) limitBody(w http.ResponseWriter, r *http.Request) {
	if r.Body == nil || r.Body == http.NoBody {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, g.cfg.Limits.MaxBodyBytes)
	if r.Header.Get("Upgrade") == "" {
		_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(g.cfg.Limits.BodyTimeout))
	}
}

// forward proxies r to the app with s's identity (none when s is nil).
func (g *Gateway) forward(w http.ResponseWriter, r *http.Request, a *app, s *Session, p route.Path) {
	if s != nil && s.AccountID == "" && !a.registerPath(p.Clean) {
		// A registering citizen reaches only the registration route, also
		// through hooks.
		g.errorPage(w, r, http.StatusForbidden, pages.KindNoAccount, nil)
		return
	}
	// The identity headers are made here (an error stops the request) and
	// set in Rewrite, after the stdlib has removed hop-by-hop headers: a
	// client naming X-Overstap-Account in its Connection header must not be
	// able to make the proxy drop the identity it was given.
	idh := http.Header{}
	if s != nil {
		if err := a.prop.Apply(idh, g.identity(s), g.now()); err != nil {
			g.errorPage(w, r, http.StatusForbidden, pages.KindNoAccount, err)
			return
		}
	}
	r = r.WithContext(context.WithValue(r.Context(), identityKey{}, idh))
	// The app gets the canonical path the route and the hooks judged,
	// never one it could read differently.
	r.URL.RawPath = p.Clean
	r.URL.Path, _ = url.PathUnescape(p.Clean)
	a.proxy.ServeHTTP(w, r)
}

func (g *Gateway) identity(s *Session) upstream.Identity {
	return upstream.Identity{Identity: s.Identity, Account: s.AccountID, Registering: s.AccountID == ""}
}

// registerPath reports whether the clean path is the app's registration
// route or below it (never when the app has none).
func (a *app) registerPath(clean string) bool {
	reg := a.cfg.RegisterPath
	return a.cfg.NoAccount == "register" && reg != "" && (clean == reg || strings.HasPrefix(clean, reg+"/"))
}

// resolveFailure is the page of a failed account resolution: a resolver's
// own verdicts, or a retry page when a store failed (never a "no account"
// verdict for a store that did not answer).
func resolveFailure(err error) (status int, kind pages.Kind) {
	switch {
	case err == nil || errors.Is(err, ErrNoAccount):
		return http.StatusForbidden, "no_account"
	case errors.Is(err, ErrAccountChoice):
		return http.StatusConflict, "account_choice"
	case errors.Is(err, ErrAccountFlagged):
		return http.StatusForbidden, "account_flagged"
	}
	return http.StatusServiceUnavailable, "unavailable"
}

// appByName returns the app of that name, nil when none.
func (g *Gateway) appByName(name string) *app {
	for i := range g.apps {
		if g.apps[i].cfg.Name == name {
			return &g.apps[i]
		}
	}
	return nil
}

// unregistered handles a session without a legacy account (app policy
// no_account: register). First it looks again: once the app has created
// the account, the login is linked and the session replaced by one with
// the account. Until then only the registration route gets the citizen.
// It returns the session to forward with, or false when it answered.
func (g *Gateway) unregistered(w http.ResponseWriter, r *http.Request, a *app, s *Session, d route.Decision, p route.Path) (*Session, bool) {
	if a.cfg.NoAccount != "register" || s.NRN.IsZero() {
		g.errorPage(w, r, http.StatusForbidden, pages.KindNoAccount, nil)
		return nil, false
	}
	ctx, cancel := context.WithTimeout(r.Context(), g.cfg.Limits.StoreTimeout)
	defer cancel()
	account, err := g.accounts.Resolve(ctx, d.AppName, &s.Identity)
	switch {
	case err == nil && account != "":
		ns := *s
		ns.AccountID = account
		if err := g.StartSession(ctx, w, r, &ns); err != nil {
			g.errorPage(w, r, http.StatusServiceUnavailable, pages.KindSessionStore, err)
			return nil, false
		}
		return &ns, true
	case !errors.Is(err, ErrNoAccount):
		status, kind := resolveFailure(err)
		g.errorPage(w, r, status, kind, err)
		return nil, false
	}
	reg := a.cfg.RegisterPath
	if a.registerPath(p.Clean) {
		return s, true
	}
	if pages.IsNavigation(r) {
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, reg, http.StatusFound)
	} else {
		pages.JSONError(w, http.StatusForbidden, "registration_required")
	}
	return nil, false
}

// unauthenticated redirects a browser to login (or step-up) and answers
// an API call with 401.
func (g *Gateway) unauthenticated(w http.ResponseWriter, r *http.Request, here string, stepUp bool) {
	if pages.IsNavigation(r) {
		target := Prefix + "login?return_to=" + url.QueryEscape(here)
		if stepUp {
			target = Prefix + "stepup?return_to=" + url.QueryEscape(here)
		}
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, target, http.StatusFound)
		return
	}
	code := "login_required"
	if stepUp {
		code = "insufficient_user_authentication" // RFC 9470 §3
	}
	w.Header().Set("WWW-Authenticate", `Bearer error="`+code+`"`)
	pages.JSONError(w, http.StatusUnauthorized, code)
}

// kindLegacyLogin is the denial of a legacy_login route without hook: the
// JSON code, and for browsers the page that explains the federated login.
const kindLegacyLogin pages.Kind = "legacy_login"

// denial is the answer of a route class the gateway refuses by itself:
// the one mapping of classes to denials (reverse proxy and forward-auth).
func denial(c route.Class) pages.Kind {
	switch c {
	case route.Blocked, route.Credential:
		return pages.KindBlocked
	case route.LegacyLogin:
		return kindLegacyLogin
	case route.FamilyLink, route.FamilyData:
		return pages.KindFamilyLink
	}
	return pages.KindForbidden
}

// loginFailure is the error page of a failed callback: the relying
// party's *oidc.CallbackError kinds a citizen can act on have their own
// page, every other failure is "login failed".
func loginFailure(err error) pages.Kind {
	var ce *oidc.CallbackError
	if errors.As(err, &ce) {
		switch ce.Kind {
		case oidc.KindAccessDenied:
			return pages.KindAccessDenied
		case oidc.KindIdPUnavailable:
			return pages.KindIDPUnavailable
		case oidc.KindLevelTooLow:
			return pages.KindLevelTooLow
		case oidc.KindNoNRN:
			return pages.KindNoNRN
		}
	}
	return pages.KindLoginFailed
}

// loginFailureStatus is the status of a failed callback of kind.
func loginFailureStatus(kind pages.Kind) int {
	switch kind {
	case pages.KindAccessDenied, pages.KindLevelTooLow, pages.KindNoNRN:
		return http.StatusForbidden
	case pages.KindIDPUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusBadRequest
}

// denied answers a refusal of the route policy: JSON for a program, the
// legacy-login page or the error page of kind for a browser.
func (g *Gateway) denied(w http.ResponseWriter, r *http.Request, kind pages.Kind) {
	if !pages.WantsPage(r) {
		pages.JSONError(w, http.StatusForbidden, string(kind))
		return
	}
	if kind == kindLegacyLogin {
		g.render(w, r, http.StatusForbidden, pages.Legacy, pages.Data{Action: Prefix + "login", ReturnTo: "/"}, true)
		return
	}
	g.errorPage(w, r, http.StatusForbidden, kind, nil)
}

// lang picks the page language.
func (g *Gateway) lang(r *http.Request) string {
	return pages.Negotiate(cookieValue(r, g.langCookie, 8), r.Header.Get("Accept-Language"))
}

// render writes a gateway page with the security headers; withForm sets
// the CSRF token.
func (g *Gateway) render(w http.ResponseWriter, r *http.Request, status int, page string, d pages.Data, withForm bool) {
	g.pageHeaders(w.Header())
	d.Lang = g.lang(r)
	d.StaticPrefix = Prefix + "static"
	d.LangAction = Prefix + "lang"
	if d.HomeURL == "" {
		d.HomeURL = g.cfg.HomeURL // pages.Render falls back to "/"
	}
	if withForm {
		d.CSRF = g.csrfToken(w, r)
	}
	if here, ok := SafeReturnTo(r.URL.RequestURI()); ok && r.Method == http.MethodGet && !noReturn(here) {
		d.Here = here
	}
	if err := g.pages.Render(w, status, page, d); err != nil {
		g.log.Error("gateway: render", "page", page, "err", err.Error())
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
	}
}

// noReturn reports whether a page must not be reloaded by a language
// switch: single-use or state-changing endpoints.
func noReturn(here string) bool {
	for _, p := range []string{"callback", "backchannel-logout", "lang", "logout", "auth"} {
		if strings.HasPrefix(here, Prefix+p) {
			return true
		}
	}
	return false
}

// errorPage renders an error page (HTML for browsers, JSON otherwise) and
// logs the cause with a reference shown to the citizen.
func (g *Gateway) errorPage(w http.ResponseWriter, r *http.Request, status int, kind pages.Kind, cause error) {
	if !g.pages.HasKind(kind) {
		// A hook's kind whose page set was not given to the gateway: the
		// status stands, the page is the generic one.
		g.log.Error("gateway: unknown error kind (page set missing from Deps.Pages?)", "kind", string(kind))
		kind = pages.KindInternal
	}
	refs := logging.NewRef() // letters only: the masker never touches it
	msg := ""
	if cause != nil {
		msg = nrn.Scrub(cause.Error())
	}
	if status >= 500 {
		g.log.Warn("gateway: error page", "status", status, "kind", kind, "ref", refs, "err", msg)
	} else {
		// A refusal is a decision, not a fault: info, with the reference
		// the citizen sees and the (decoded, masked) path refused.
		path := nrn.Scrub(r.URL.Path) // before cutting: a cut number is no longer found
		if len(path) > 200 {
			path = path[:200]
		}
		g.log.Info("gateway: refused", "status", status, "kind", kind, "ref", refs, "method", r.Method, "path", path, "err", msg)
	}
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "30")
	}
	if !pages.WantsPage(r) {
		pages.JSONError(w, status, string(kind))
		return
	}
	g.render(w, r, status, pages.Error, pages.Data{Kind: string(kind), Ref: refs}, false)
}

// statusWriter records the status for metrics. Unwrap keeps Flush and
// Hijack (websockets) working through http.ResponseController.
type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
	bytes  int64 // body bytes written
	// For the access log: the route policy's verdict and the session's
	// NRN reference (never the session id).
	decision, who string
}

// WriteHeader records the first status.
func (s *statusWriter) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

// Write marks the header as written (status 200 if none was set).
func (s *statusWriter) Write(b []byte) (int, error) {
	s.wrote = true
	n, err := s.ResponseWriter.Write(b)
	s.bytes += int64(n)
	return n, err
}

// Flush forwards to the underlying writer (ReverseProxy flushes directly).
func (s *statusWriter) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap returns the underlying writer (http.ResponseController).
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// builtinAccounts derives the legacy account id from the login.
type builtinAccounts string

// Resolve returns the NRN ("nrn") or the IdP subject ("subject").
func (b builtinAccounts) Resolve(_ context.Context, _ string, id *identity.Identity) (string, error) {
	switch b {
	case "subject":
		return id.Subject, nil
	default:
		if id.NRN.IsZero() {
			return "", ErrNoAccount
		}
		return id.NRN.Digits(), nil
	}
}
