// Package server assembles a running gateway from its configuration: the
// session store, the OpenID providers, the state store, the user stores of
// the legacy apps, account linking, legacy-login interception with its
// rate limiter, and any extension (family protections). `overstap serve`
// builds it from the configuration file and `overstap demo` from a
// generated one, so the demo runs exactly the production code path.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/overstap/overstap/adapters/state"
	"github.com/overstap/overstap/adapters/store"
	"github.com/overstap/overstap/adapters/store/storeconfig"
	"github.com/overstap/overstap/auth/family"
	"github.com/overstap/overstap/auth/gateway"
	"github.com/overstap/overstap/auth/gateway/pages"
	"github.com/overstap/overstap/auth/gateway/route"
	"github.com/overstap/overstap/auth/gateway/wire"
	"github.com/overstap/overstap/auth/legacylogin"
	"github.com/overstap/overstap/auth/link"
	"github.com/overstap/overstap/auth/nrn"
	"github.com/overstap/overstap/auth/oidc"
	"github.com/overstap/overstap/auth/ratelimit"
	"github.com/overstap/overstap/auth/session"
	"github.com/overstap/overstap/internal/config"
	"github.com/overstap/overstap/internal/logging"
	"github.com/overstap/overstap/migrate/hash"
)

// Config is the configuration file of `overstap serve`.
type Config struct {
	// Log is the process log on stderr.
	Log logging.Config `yaml:"log"`
	// NRNRefKey is the key of the keyed HMAC-SHA256 that turns national
	// numbers into pseudonymous references ("nrnref1:...") for logs, the
	// audit log, sessions, metrics and rate-limit keys. Required, at least
	// 32 bytes, a secret reference ("${ENV_VAR}" or "file:/path").
	// Changing it makes every stored reference unmatchable.
	NRNRefKey config.Secret `yaml:"nrn_ref_key"`
	// State is overstap's own database: links, grants, invitations, the
	// audit log.
	State state.Config `yaml:"state"`
	// Gateway is the citizen-facing gateway (apps, routes, identity);
	// required by serve, not by the other commands.
	Gateway *gateway.Config `yaml:"gateway"`
	// Sessions is the session store (memory for one node, Redis for
	// several).
	Sessions session.Config `yaml:"sessions"`
	// Providers are the OpenID providers (FAS/CSAM, itsme, ACM/IDM).
	Providers []oidc.ProviderConfig `yaml:"providers"`
	// SessionCache serves a loaded session from each node's memory for a
	// short TTL (sessions.store redis only), so most requests skip the
	// Redis round trip; revocations and logouts are broadcast over Redis
	// pub/sub and evict it on every node at once, and the cache is
	// bypassed whenever that subscription is not confirmed live.
	SessionCache SessionCache `yaml:"session_cache"`
	// OIDCKeyPrefix starts the Redis keys of login flow state (default
	// "overstap:oidc:"), with sessions.store redis.
	OIDCKeyPrefix string `yaml:"oidc_key_prefix"`
	// RateLimit regulates brute force on the legacy password login. It is
	// kept in Redis when sessions.store is redis (limits hold across
	// gateway nodes), in memory otherwise.
	RateLimit ratelimit.Config `yaml:"rate_limit"`
	// LoginStarts limits how many logins one client IP may start (each
	// start keeps a pending flow until the callback): default 60 in 10m,
	// then a 10m pause with a "please wait" page.
	LoginStarts ratelimit.Rule `yaml:"login_starts"`
	// Hash configures password verification and rehashing (gateway
	// password policy).
	Hash hash.Config `yaml:"hash"`
	// Stores are the legacy apps' user stores (sql, ldap, csv, httphook).
	Stores []storeconfig.Config `yaml:"stores"`
	// Family configures verified family-member linking: the population
	// register, step-up, invitations, grants, and per app how to read the
	// family routes (docs/family.md). Without it the family_link,
	// family_data and credential routes are denied.
	Family *family.Config `yaml:"family"`
	// Linking is, per app name of gateway.apps, how the verified national
	// number is linked to the app's legacy account and how the legacy
	// login is intercepted.
	Linking map[string]AppLinking `yaml:"linking"`
}

// SessionCache configures the in-process session cache.
type SessionCache struct {
	// Disabled turns the cache off: every request loads its session from
	// Redis.
	Disabled bool `yaml:"disabled"`
	// TTL is how long a loaded session is served from memory (default 1s,
	// at most 5s: a longer TTL delays activity reaching the store).
	TTL time.Duration `yaml:"ttl"`
}

// AppLinking is one app's account linking and legacy-login interception.
type AppLinking struct {
	// Store is the name of the app's user store in stores.
	Store string `yaml:"store"`
	// Link is the linking policy (revoke_on_link, default true).
	Link link.Config `yaml:",inline"`
	// LegacyLogin names the legacy login form's fields and the policy for
	// usernames that are not national numbers (block_all by default).
	LegacyLogin legacylogin.Config `yaml:"legacy_login"`
}

// Validate checks what no section checks for itself. (That a gateway
// needs providers is checked by Build: the same file serves commands that
// use only some sections, like audit verify.)
func (c Config) Validate() error {
	var errs []error
	gwKey := c.Gateway != nil && nrn.CheckRefKey(c.Gateway.NRNRefKey.Bytes()) == nil
	switch {
	case gwKey:
	case c.NRNRefKey.IsZero():
		errs = append(errs, errors.New(`nrn_ref_key: required; e.g. nrn_ref_key: "${OVERSTAP_NRN_REF_KEY}" with 32 random bytes (head -c 32 /dev/urandom | base64)`))
	case nrn.CheckRefKey(c.NRNRefKey.Bytes()) != nil:
		errs = append(errs, fmt.Errorf("nrn_ref_key: must be at least %d bytes (it is %d); generate one with head -c 32 /dev/urandom | base64", nrn.MinRefKeyLen, len(c.NRNRefKey.Bytes())))
	}
	if c.SessionCache.TTL < 0 || c.SessionCache.TTL > 5*time.Second {
		errs = append(errs, errors.New("session_cache.ttl: between 0 (default 1s) and 5s"))
	}
	if c.Gateway != nil && len(c.Providers) == 0 {
		errs = append(errs, errors.New("providers: at least one OpenID provider is required with a gateway section"))
	}
	if c.Gateway != nil {
		errs = append(errs, checkRedirectURLs(c.Gateway.PublicURL, c.Providers)...)
		errs = append(errs, c.checkNoNRN()...)
	}
	stores := map[string]bool{}
	for _, s := range c.Stores {
		stores[s.Name] = true
	}
	apps := map[string]bool{}
	if c.Gateway != nil {
		for _, a := range c.Gateway.Apps {
			apps[a.Name] = true
		}
	}
	if c.Family != nil {
		for i, a := range c.Family.Apps {
			if _, ok := c.Linking[a.Name]; !ok {
				errs = append(errs, fmt.Errorf("family.apps[%d].name: %q has no linking section (the family checks need its user store)", i, a.Name))
			}
		}
	}
	for name, l := range c.Linking {
		switch {
		case !apps[name]:
			errs = append(errs, fmt.Errorf("linking.%s: no app of that name in gateway.apps", name))
		case !stores[l.Store]:
			errs = append(errs, fmt.Errorf("linking.%s.store: no store named %q in stores", name, l.Store))
		}
	}
	return errors.Join(errs...)
}

// checkRedirectURLs requires every provider's redirect_url to be the
// gateway's own callback for that provider: the public URL's scheme and
// host with the path gateway.CallbackPath(name). Anywhere else the IdP's
// redirect lands on an app route (the code and state would end up in a
// return_to parameter) or on another host, and the login never completes.
// A public_url or redirect_url that does not parse is reported by its own
// section.
func checkRedirectURLs(publicURL string, providers []oidc.ProviderConfig) []error {
	pub, err := url.Parse(publicURL)
	if err != nil || pub.Host == "" {
		return nil
	}
	var errs []error
	for i, p := range providers {
		u, err := url.Parse(p.RedirectURL)
		if err != nil || !u.IsAbs() || u.Host == "" {
			continue
		}
		want := pub.Scheme + "://" + pub.Host + gateway.CallbackPath(p.Name)
		switch {
		case u.Scheme != pub.Scheme || !strings.EqualFold(u.Host, pub.Host):
			errs = append(errs, fmt.Errorf("providers[%d].redirect_url: %s://%s is not the gateway's public_url %s://%s; the provider would send the citizen elsewhere: use %s (and register it at the provider)",
				i, u.Scheme, u.Host, pub.Scheme, pub.Host, want))
		case u.EscapedPath() != gateway.CallbackPath(p.Name) || u.RawQuery != "" || u.Fragment != "":
			errs = append(errs, fmt.Errorf("providers[%d].redirect_url: the path must be %s, where the gateway completes the logins of provider %q: use %s (and register it at the provider)",
				i, gateway.CallbackPath(p.Name), p.Name, want))
		}
	}
	return errs
}

// checkNoNRN refuses what cannot work when a provider logs citizens in
// without a national number (require_nrn: false): the legacy account must
// then be the provider's subject, and the features that find or protect
// accounts by the national number (linking with its legacy-login
// interception, family links, registration of verified citizens) would
// meet logins without one.
func (c Config) checkNoNRN() []error {
	var errs []error
	for i, p := range c.Providers {
		if p.RequiresNRN() {
			continue
		}
		who := fmt.Sprintf("providers[%d] (%s) has require_nrn: false", i, p.Name)
		if c.Gateway.AccountID != "subject" {
			errs = append(errs, fmt.Errorf("gateway.account_id: must be subject: %s, and a login without a national number has only the provider's subject", who))
		}
		for _, app := range sortedKeys(c.Linking) {
			errs = append(errs, fmt.Errorf("linking.%s: links accounts by the national number and intercepts the legacy login (linking.%s.legacy_login), but %s; remove it or require the number", app, app, who))
		}
		if c.Family != nil {
			errs = append(errs, fmt.Errorf("family: family links are proven with national numbers, but %s; remove it or require the number", who))
		}
		for j, a := range c.Gateway.Apps {
			if a.NoAccount == "register" {
				errs = append(errs, fmt.Errorf("gateway.apps[%d].no_account: register sends the verified national number to the app, but %s", j, who))
			}
		}
	}
	return errs
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Extension adds hooks and endpoints built from the running parts (the
// family protections).
type Extension interface {
	// Migrations are the state-store components the extension needs.
	Migrations() []state.Migrations
	// Build returns the hooks and endpoints.
	Build(ctx context.Context, p *Parts) (map[route.Class]gateway.Hook, map[string]gateway.Endpoint, error)
}

// AdminRouter is implemented by extensions with admin API routes
// ("POST /admin/family/revoke" → handler), served behind the admin token.
type AdminRouter interface {
	AdminRoutes() map[string]http.Handler
}

// Parts are the running collaborators an extension builds on.
type Parts struct {
	State    *state.Store
	Stores   map[string]store.Store // by store name
	Linking  map[string]AppLinking
	RefKey   []byte
	Limiter  ratelimit.Limiter
	Redis    redis.UniversalClient // nil without Redis
	Logger   *slog.Logger
	Now      func() time.Time
	Sessions gateway.Sessions

	srv *Server
}

// onClose registers a release to run when the server closes.
func (p *Parts) onClose(f func() error) { p.srv.closers = append(p.srv.closers, f) }

// Options are what only code sets.
type Options struct {
	Logger     *slog.Logger
	Now        func() time.Time
	Extensions []Extension
	// OIDC overrides parts of the providers' dependencies (tests).
	OIDC func(*oidc.Deps)
}

// Server is an assembled gateway with everything it owns.
type Server struct {
	Gateway  *gateway.Gateway
	Parts    *Parts
	Provider []gateway.Authenticator
	closers  []func() error
	reg      *prometheus.Registry // the gateway's /metrics, with the assembly's own metrics
}

// Close releases the stores and connections.
func (s *Server) Close() error {
	var errs []error
	for i := len(s.closers) - 1; i >= 0; i-- {
		errs = append(errs, s.closers[i]())
	}
	return errors.Join(errs...)
}

// Build assembles the gateway. ctx bounds the providers' background
// discovery; cancel it to stop them.
func Build(ctx context.Context, cfg Config, o Options) (_ *Server, err error) {
	log := logging.OrDiscard(o.Logger)
	now := o.Now
	if now == nil {
		now = time.Now
	}
	if cfg.Gateway == nil {
		return nil, errors.New("gateway: the gateway section is required to serve")
	}
	gcfg := *cfg.Gateway
	if gcfg.NRNRefKey.IsZero() {
		gcfg.NRNRefKey = cfg.NRNRefKey
	}
	refKey := gcfg.NRNRefKey.Bytes()
	if len(cfg.Providers) == 0 {
		return nil, errors.New("providers: at least one OpenID provider is required to serve")
	}
	srv := &Server{reg: prometheus.NewRegistry()}
	defer func() {
		if err != nil {
			_ = srv.Close()
		}
	}()
	p := &Parts{Stores: map[string]store.Store{}, Linking: cfg.Linking, RefKey: refKey, Logger: log, Now: now, srv: srv}
	if cfg.Family != nil {
		o.Extensions = append([]Extension{&familyExt{cfg: *cfg.Family}}, o.Extensions...)
	}
	srv.Parts = p

	// Sessions, and Redis for everything shared between nodes.
	cfg.Sessions.Logger = log
	sess, err := session.Open(cfg.Sessions)
	if err != nil {
		return nil, fmt.Errorf("sessions: %w", err)
	}
	srv.closers = append(srv.closers, sess.Close)
	p.Sessions = wire.Sessions{S: sess}
	odeps := oidc.Deps{Logger: log, DevInsecureCookies: gcfg.DevInsecureCookies, Now: o.Now}
	if cfg.Sessions.Store == "redis" {
		for _, a := range cfg.Sessions.Redis.PlaintextRemote() {
			log.Warn("redis: reached without TLS on a non-loopback address: its password, login flow state and rate-limit keys cross the network in clear; use rediss:// or tls: true",
				slog.String("addr", a))
		}
		rc, err := session.NewRedisClient(cfg.Sessions.Redis)
		if err != nil {
			return nil, fmt.Errorf("redis: %w", err)
		}
		srv.closers = append(srv.closers, rc.Close)
		p.Redis = rc
		if !cfg.SessionCache.Disabled {
			ttl := cfg.SessionCache.TTL
			if ttl == 0 {
				ttl = time.Second
			}
			sprefix := cfg.Sessions.KeyPrefix
			if sprefix == "" {
				sprefix = session.DefaultKeyPrefix
			}
			cs, err := wire.NewCachedSessions(sess, rc, wire.CacheConfig{TTL: ttl, Channel: sprefix + "invalidate", Now: cfg.Sessions.Now})
			if err != nil {
				return nil, fmt.Errorf("session_cache: %w", err)
			}
			srv.closers = append(srv.closers, cs.Close) // closers run in reverse: before rc.Close
			p.Sessions = cs
			srv.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "overstap_session_cache_hits_total",
				Help: "Sessions served from the node's in-process cache (the rest are loads from Redis: overstap_gateway_session_store_seconds_count{op=\"load\"}).",
			}, func() float64 { return float64(cs.Hits()) }))
		}
		prefix := cfg.OIDCKeyPrefix
		if prefix == "" {
			prefix = "overstap:oidc:"
		}
		rs := oidc.NewRedisStore(rc, prefix)
		odeps.Flows, odeps.Replay = rs, rs
	} else {
		ms := oidc.NewMemoryStore(nil, 0)
		odeps.Flows, odeps.Replay = ms, ms
	}
	if o.OIDC != nil {
		o.OIDC(&odeps)
	}
	for _, pc := range cfg.Providers {
		prov, err := oidc.New(ctx, pc, odeps)
		if err != nil {
			return nil, fmt.Errorf("provider %s: %w", pc.Name, err)
		}
		srv.Provider = append(srv.Provider, wire.Provider{P: prov})
	}

	// Rate limiter: Redis when the sessions are (several nodes), else memory.
	rl := cfg.RateLimit
	rl.Now = o.Now
	if p.Redis != nil {
		p.Limiter, err = ratelimit.NewRedis(p.Redis, rl, refKey)
	} else {
		p.Limiter, err = ratelimit.NewMemory(rl, refKey)
	}
	if err != nil {
		return nil, fmt.Errorf("rate_limit: %w", err)
	}

	// Login starts per client IP: a limiter of its own, so its pauses never
	// lock a password account.
	sr := cfg.LoginStarts
	if sr == (ratelimit.Rule{}) {
		sr = ratelimit.Rule{Limit: 60, Window: 10 * time.Minute, Ban: 10 * time.Minute}
	}
	scfg0 := ratelimit.Config{IP: sr, Now: o.Now, KeyPrefix: rl.WithDefaults().KeyPrefix + "starts:"}
	var starts ratelimit.Limiter
	if p.Redis != nil {
		starts, err = ratelimit.NewRedis(p.Redis, scfg0, refKey)
	} else {
		starts, err = ratelimit.NewMemory(scfg0, refKey)
	}
	if err != nil {
		return nil, fmt.Errorf("login_starts: %w", err)
	}

	// State store with every component's tables.
	migs := []state.Migrations{link.Migrations()}
	for _, e := range o.Extensions {
		migs = append(migs, e.Migrations()...)
	}
	scfg := cfg.State
	if scfg.Now == nil {
		scfg.Now = o.Now
	}
	if p.State, err = state.Open(ctx, scfg, log, migs...); err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	srv.closers = append(srv.closers, p.State.Close)
	events := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "overstap_audit_events_total",
		Help: "Audit events by type (link.created, ...credential_revoked, legacy_login.refused, ...locked: bans) and outcome.",
	}, []string{"type", "outcome"})
	srv.reg.MustRegister(events)
	audit := auditTo(p.State, log, events)

	// User stores, linking and legacy-login hooks.
	for _, sc := range cfg.Stores {
		st, err := storeconfig.Open(ctx, sc, log)
		if err != nil {
			return nil, fmt.Errorf("stores: %s: %w", sc.Name, err)
		}
		p.Stores[sc.Name] = st
		srv.closers = append(srv.closers, st.Close)
	}
	hasher, err := hash.New(cfg.Hash)
	if err != nil {
		return nil, fmt.Errorf("hash: %w", err)
	}
	deps := gateway.Deps{Registry: srv.reg, Sessions: p.Sessions, Providers: srv.Provider, Logger: log, Now: o.Now, Starts: startLimiter{starts},
		Hooks: map[route.Class]gateway.Hook{}, Endpoints: map[string]gateway.Endpoint{}}
	resolver := wire.Linked{Linkers: map[string]*link.Linker{}}
	legacy := legacyHooks{}
	for app, l := range cfg.Linking {
		st := p.Stores[l.Store]
		lk, err := link.New(app, l.Link, link.Deps{Accounts: st, Records: link.NewSQLRecords(p.State), RefKey: refKey,
			Audit: link.AuditFunc(audit), Logger: log, Now: now})
		if err != nil {
			return nil, fmt.Errorf("linking.%s: %w", app, err)
		}
		resolver.Linkers[app] = lk
		ic, err := legacylogin.New(ctx, l.LegacyLogin, legacylogin.Deps{Accounts: st, Hasher: hasher, Limiter: p.Limiter,
			RefKey: refKey, Audit: legacylogin.AuditFunc(audit), Logger: log})
		if err != nil {
			return nil, fmt.Errorf("linking.%s.legacy_login: %w", app, err)
		}
		legacy[app] = &legacylogin.Hook{I: ic}
	}
	if len(resolver.Linkers) == 1 {
		for app := range resolver.Linkers {
			resolver.Default = app
		}
	}
	if len(resolver.Linkers) > 0 {
		deps.Accounts = resolver
	}
	deps.Hooks[route.LegacyLogin] = legacy
	deps.Admin = banAdmin{l: p.Limiter, refKey: refKey}.routes()
	for _, e := range o.Extensions {
		hooks, eps, err := e.Build(ctx, p)
		if err != nil {
			return nil, err
		}
		admin := map[string]http.Handler(nil)
		if ar, ok := e.(AdminRouter); ok {
			admin = ar.AdminRoutes()
		}
		if err := addOnce("route class", deps.Hooks, hooks); err != nil {
			return nil, err
		}
		if err := addOnce("endpoint", deps.Endpoints, eps); err != nil {
			return nil, err
		}
		if err := addOnce("admin route", deps.Admin, admin); err != nil {
			return nil, err
		}
	}
	deps.Checks = append(deps.Checks, gateway.Checker{Name: "state", Check: func(ctx context.Context) error {
		return p.State.DB().PingContext(ctx)
	}})
	for name, st := range p.Stores {
		deps.Checks = append(deps.Checks, gateway.Checker{Name: "store:" + name, Check: func(ctx context.Context) error {
			_, _, err := st.Iterate(ctx, "", 1) // one indexed read: the store answers
			return err
		}})
	}
	if srv.Gateway, err = gateway.New(gcfg, deps); err != nil {
		return nil, err
	}
	return srv, nil
}

// addOnce adds the entries of from to to; a key both already have is an
// error (two parts deciding one route class, endpoint or admin route).
func addOnce[K comparable, V any](what string, to, from map[K]V) error {
	for k, v := range from {
		if _, dup := to[k]; dup {
			return fmt.Errorf("server: two parts claim the %s %v", what, k)
		}
		to[k] = v
	}
	return nil
}

// startLimiter counts login starts per client IP.
type startLimiter struct{ l ratelimit.Limiter }

// Allow refuses when the client's limit is reached, else counts the start.
func (s startLimiter) Allow(ctx context.Context, ip string) (bool, error) {
	d, err := s.l.Check(ctx, ip, "")
	if err != nil || !d.Allowed {
		return false, err
	}
	return true, s.l.Fail(ctx, ip, "")
}

// legacyHooks dispatches legacy_login requests to the hook of their app;
// an app without linking configured stays denied.
type legacyHooks map[string]*legacylogin.Hook

func (l legacyHooks) Intercept(w http.ResponseWriter, r *http.Request, c *gateway.HookRequest) gateway.HookResult {
	h, ok := l[c.App]
	if !ok {
		c.Gateway.Page(w, r, http.StatusForbidden, pages.Legacy, pages.Data{Action: gateway.Prefix + "login", ReturnTo: "/"}, true)
		return gateway.HookResult{Handled: true}
	}
	return h.Intercept(w, r, c)
}

// outcome classifies an audit event type for the log's outcome column.
func outcome(kind string) string {
	switch {
	case strings.HasSuffix(kind, ".verified"), strings.HasSuffix(kind, ".created"), strings.HasSuffix(kind, ".credential_revoked"):
		return "success"
	case strings.Contains(kind, "refused"), strings.Contains(kind, "blocked"), strings.Contains(kind, "locked"),
		strings.HasSuffix(kind, ".failed"), strings.HasSuffix(kind, ".malformed"):
		return "denied"
	}
	return "info"
}

// auditTo writes audit events to the state store's hash-chained log. A
// failed write is logged (never with an NRN: the ref is already a
// reference) and does not change the citizen's answer.
func auditTo(st *state.Store, log *slog.Logger, events *prometheus.CounterVec) func(ctx context.Context, kind, ref string, details map[string]string) {
	return func(ctx context.Context, kind, ref string, details map[string]string) {
		events.WithLabelValues(kind, outcome(kind)).Inc() // kinds are the code's fixed event names
		d := make(map[string]string, len(details))
		app := ""
		for k, v := range details {
			if k == "app" {
				app = v
				continue
			}
			d[k] = logging.Scrub(v)
		}
		if _, err := st.Append(ctx, state.Event{Type: kind, Target: logging.Scrub(ref), App: app, Outcome: outcome(kind), Details: d}); err != nil {
			log.Error("audit: append failed", "kind", kind, "err", err.Error())
		}
	}
}
