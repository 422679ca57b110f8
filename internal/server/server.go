// Package server assembles a running gateway from its configuration: the
// session store, the OpenID providers, the state store, the user stores of
// the legacy apps, account linking, legacy-login interception with its
// rate limiter, and the family protections. `overstap serve`
// builds it from the configuration file and `overstap demo` from a
// generated one, so the demo runs exactly the production code path.
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/overstap/overstap/adapters/registry"
	"github.com/overstap/overstap/adapters/state"
	"github.com/overstap/overstap/adapters/store"
	"github.com/overstap/overstap/adapters/store/storeconfig"
	"github.com/overstap/overstap/auth/family"
	"github.com/overstap/overstap/auth/gateway"
	"github.com/overstap/overstap/auth/gateway/route"
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

// RefKey is the file's nrn_ref_key as an nrn.RefKey: the one place the
// key is checked, at load (Validate); every part gets the checked key.
func (c Config) RefKey() (nrn.RefKey, error) {
	if c.NRNRefKey.IsZero() {
		return nrn.RefKey{}, errors.New(`nrn_ref_key: required; e.g. nrn_ref_key: "${OVERSTAP_NRN_REF_KEY}" with 32 random bytes (head -c 32 /dev/urandom | base64)`)
	}
	k, err := nrn.NewRefKey(c.NRNRefKey.Bytes())
	if err != nil {
		// The file's own wording: the key's name, not nrn's.
		return k, fmt.Errorf("nrn_ref_key: must be at least %d bytes (it is %d); generate one with head -c 32 /dev/urandom | base64", nrn.MinRefKeyLen, len(c.NRNRefKey.Bytes()))
	}
	return k, nil
}

// Validate checks what no section checks for itself. (That a gateway
// needs providers is checked by Build: the same file serves commands that
// use only some sections, like audit verify.)
func (c Config) Validate() error {
	var errs []error
	if _, err := c.RefKey(); err != nil {
		errs = append(errs, err)
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
		for _, app := range slices.Sorted(maps.Keys(c.Linking)) {
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

// Options are what only code sets: the process's logger and clock, and
// seams for tests. `serve` and `demo` pass the same kind of Options to the
// same Build; nothing is set through package globals.
type Options struct {
	Logger *slog.Logger
	Now    func() time.Time
	// OIDC overrides parts of the providers' dependencies (tests).
	OIDC func(*oidc.Deps)
	// FamilyRegistry replaces the population register the family
	// section's registry configures (tests: an unreachable one).
	FamilyRegistry registry.Source
}

// Server is an assembled gateway with everything it owns.
type Server struct {
	Gateway  *gateway.Gateway
	Provider []gateway.Authenticator
	// Family is the family service (nil without a family section).
	Family  *family.Service
	closers []func() error
	reg     *prometheus.Registry // the gateway's /metrics, with the assembly's own metrics
}

// Close releases the stores and connections.
func (s *Server) Close() error {
	var errs []error
	for i := len(s.closers) - 1; i >= 0; i-- {
		errs = append(errs, s.closers[i]())
	}
	return errors.Join(errs...)
}

// onClose registers a release to run when the server closes (in reverse
// order of registration).
func (s *Server) onClose(f func() error) { s.closers = append(s.closers, f) }

// build is the state of one assembly, filled step by step.
type build struct {
	ctx     context.Context
	cfg     Config
	o       Options
	log     *slog.Logger
	now     func() time.Time
	refKey  nrn.RefKey
	srv     *Server
	redis   redis.UniversalClient // nil without Redis
	limiter ratelimit.Limiter
	state   *state.Store
	audit   state.Auditor
	stores  map[string]store.Store
	deps    gateway.Deps
}

// Build assembles the gateway, in this order: sessions (and the Redis
// everything shared between nodes lives in), providers, rate limiters,
// the state store, the user stores with linking and legacy-login hooks,
// the family protections, readiness checks, and the gateway itself. ctx
// bounds the providers' background discovery; cancel it to stop them.
func Build(ctx context.Context, cfg Config, o Options) (_ *Server, err error) {
	if cfg.Gateway == nil {
		return nil, errors.New("gateway: the gateway section is required to serve")
	}
	if len(cfg.Providers) == 0 {
		return nil, errors.New("providers: at least one OpenID provider is required to serve")
	}
	b := &build{ctx: ctx, cfg: cfg, o: o, log: logging.OrDiscard(o.Logger), now: o.Now, srv: &Server{reg: prometheus.NewRegistry()},
		stores: map[string]store.Store{}}
	if b.now == nil {
		b.now = time.Now
	}
	defer func() {
		if err != nil {
			_ = b.srv.Close()
		}
	}()
	b.deps = gateway.Deps{Registry: b.srv.reg, Logger: b.log, Now: o.Now, Hooks: map[route.Class]gateway.Hook{},
		AppHooks: map[string]map[route.Class]gateway.Hook{}, Endpoints: map[string]gateway.Endpoint{}}
	gcfg := *cfg.Gateway
	if b.refKey, err = cfg.RefKey(); err != nil {
		return nil, err
	}
	gcfg.NRNRefKey = b.refKey
	for _, step := range []func() error{b.sessions, b.providers, b.rateLimits, b.stateStore, b.linking, b.family, b.checks} {
		if err := step(); err != nil {
			return nil, err
		}
	}
	if b.srv.Gateway, err = gateway.New(gcfg, b.deps); err != nil {
		return nil, err
	}
	return b.srv, nil
}

// sessions opens the session store and, with Redis, the shared client,
// the session cache and the login-flow store.
func (b *build) sessions() error {
	cfg, log := b.cfg, b.log
	cfg.Sessions.Logger = log
	sess, err := session.Open(cfg.Sessions)
	if err != nil {
		return fmt.Errorf("sessions: %w", err)
	}
	b.srv.onClose(sess.Close)
	b.deps.Sessions = sess
	if cfg.Sessions.Store != "redis" {
		return nil
	}
	for _, a := range cfg.Sessions.Redis.PlaintextRemote() {
		log.Warn("redis: reached without TLS on a non-loopback address: its password, login flow state and rate-limit keys cross the network in clear; use rediss:// or tls: true",
			slog.String("addr", a))
	}
	rc, err := session.NewRedisClient(cfg.Sessions.Redis)
	if err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	b.srv.onClose(rc.Close)
	b.redis = rc
	if cfg.SessionCache.Disabled {
		return nil
	}
	ttl := cfg.SessionCache.TTL
	if ttl == 0 {
		ttl = time.Second
	}
	sprefix := cfg.Sessions.KeyPrefix
	if sprefix == "" {
		sprefix = session.DefaultKeyPrefix
	}
	cs, err := session.NewCached(sess, rc, session.CacheConfig{TTL: ttl, Channel: sprefix + "invalidate", Now: cfg.Sessions.Now})
	if err != nil {
		return fmt.Errorf("session_cache: %w", err)
	}
	b.srv.onClose(cs.Close) // closers run in reverse: before rc.Close
	b.deps.Sessions = cs
	b.srv.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "overstap_session_cache_hits_total",
		Help: "Sessions served from the node's in-process cache (the rest are loads from Redis: overstap_gateway_session_store_seconds_count{op=\"load\"}).",
	}, func() float64 { return float64(cs.Hits()) }))
	return nil
}

// providers starts the OpenID providers (discovery runs in the background
// until ctx ends).
func (b *build) providers() error {
	odeps := oidc.Deps{Logger: b.log, DevInsecureCookies: b.cfg.Gateway.DevInsecureCookies, Now: b.o.Now}
	if b.redis != nil {
		prefix := b.cfg.OIDCKeyPrefix
		if prefix == "" {
			prefix = "overstap:oidc:"
		}
		rs := oidc.NewRedisStore(b.redis, prefix)
		odeps.Flows, odeps.Replay = rs, rs
	} else {
		ms := oidc.NewMemoryStore(nil, 0)
		odeps.Flows, odeps.Replay = ms, ms
	}
	if b.o.OIDC != nil {
		b.o.OIDC(&odeps)
	}
	for _, pc := range b.cfg.Providers {
		prov, err := oidc.New(b.ctx, pc, odeps)
		if err != nil {
			return fmt.Errorf("provider %s: %w", pc.Name, err)
		}
		b.srv.Provider = append(b.srv.Provider, prov)
	}
	b.deps.Providers = b.srv.Provider
	return nil
}

// rateLimits makes the legacy-login limiter (Redis when the sessions are,
// so limits hold across nodes) and the login-start limiter, a limiter of
// its own so that its pauses never lock a password account.
func (b *build) rateLimits() error {
	rl := b.cfg.RateLimit
	rl.Now = b.o.Now
	sr := b.cfg.LoginStarts
	if sr == (ratelimit.Rule{}) {
		sr = ratelimit.Rule{Limit: 60, Window: 10 * time.Minute, Ban: 10 * time.Minute}
	}
	scfg := ratelimit.Config{IP: sr, Now: b.o.Now, KeyPrefix: rl.WithDefaults().KeyPrefix + "starts:"}
	open := func(c ratelimit.Config) (ratelimit.Limiter, error) {
		if b.redis != nil {
			return ratelimit.NewRedis(b.redis, c, b.refKey.Bytes())
		}
		return ratelimit.NewMemory(c, b.refKey.Bytes())
	}
	var err error
	if b.limiter, err = open(rl); err != nil {
		return fmt.Errorf("rate_limit: %w", err)
	}
	starts, err := open(scfg)
	if err != nil {
		return fmt.Errorf("login_starts: %w", err)
	}
	b.deps.Starts = ratelimit.Starts{L: starts}
	b.deps.Admin = banAdmin{l: b.limiter, refKey: b.refKey}.routes()
	return nil
}

// stateStore opens overstap's own database with every component's tables.
func (b *build) stateStore() error {
	migs := []state.Migrations{link.Migrations()}
	if b.cfg.Family != nil {
		migs = append(migs, family.Migrations())
	}
	scfg := b.cfg.State
	if scfg.Now == nil {
		scfg.Now = b.o.Now
	}
	var err error
	if b.state, err = state.Open(b.ctx, scfg, b.log, migs...); err != nil {
		return fmt.Errorf("state: %w", err)
	}
	b.srv.onClose(b.state.Close)
	events := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "overstap_audit_events_total",
		Help: "Audit events by type (link.created, ...credential_revoked, legacy_login.refused, ...locked: bans) and outcome.",
	}, []string{"type", "outcome"})
	b.srv.reg.MustRegister(events)
	b.audit = state.Auditor{Store: b.state, Log: b.log, Events: events}
	return nil
}

// linking opens the user stores and makes, per app with a linking
// section, the account linker and the legacy-login hook.
func (b *build) linking() error {
	for _, sc := range b.cfg.Stores {
		st, err := storeconfig.Open(b.ctx, sc, b.log)
		if err != nil {
			return fmt.Errorf("stores: %s: %w", sc.Name, err)
		}
		b.stores[sc.Name] = st
		b.srv.onClose(st.Close)
	}
	hasher, err := hash.New(b.cfg.Hash)
	if err != nil {
		return fmt.Errorf("hash: %w", err)
	}
	resolver := link.Resolver{Linkers: map[string]*link.Linker{}}
	for app, l := range b.cfg.Linking {
		st := b.stores[l.Store]
		lk, err := link.New(app, l.Link, link.Deps{Accounts: st, Records: link.NewSQLRecords(b.state), RefKey: b.refKey,
			Audit: b.audit.Record, Logger: b.log, Now: b.now})
		if err != nil {
			return fmt.Errorf("linking.%s: %w", app, err)
		}
		resolver.Linkers[app] = lk
		ic, err := legacylogin.New(b.ctx, l.LegacyLogin, legacylogin.Deps{Accounts: st, Hasher: hasher, Limiter: b.limiter,
			RefKey: b.refKey, Audit: b.audit.Record, Logger: b.log})
		if err != nil {
			return fmt.Errorf("linking.%s.legacy_login: %w", app, err)
		}
		b.deps.AppHooks[app] = map[route.Class]gateway.Hook{route.LegacyLogin: &legacylogin.Hook{I: ic}}
	}
	if len(resolver.Linkers) == 1 {
		for app := range resolver.Linkers {
			resolver.Default = app
		}
	}
	if len(resolver.Linkers) > 0 {
		b.deps.Accounts = resolver
	}
	return nil
}

// family builds the family protections of the family section: the hooks
// of the family_link, family_data and credential routes, the
// /.overstap/family/ pages, the admin routes, and the sweep that expires
// invitations and grants.
func (b *build) family() error {
	fc := b.cfg.Family
	if fc == nil {
		return nil
	}
	src := b.o.FamilyRegistry
	if src == nil {
		var err error
		if src, err = registry.Open(b.ctx, fc.Registry, b.log); err != nil {
			return fmt.Errorf("family.registry: %w", err)
		}
		if c, ok := src.(io.Closer); ok {
			b.srv.onClose(c.Close)
		}
	}
	accounts := map[string]family.Accounts{}
	for _, a := range fc.Apps {
		l, ok := b.cfg.Linking[a.Name]
		if !ok {
			return fmt.Errorf("family.apps: app %s has no linking section (the family checks need its user store)", a.Name)
		}
		accounts[a.Name] = b.stores[l.Store]
	}
	svc, err := family.New(*fc, family.Deps{
		Store: family.NewSQLStore(b.state), Registry: src, Accounts: accounts,
		Limiter: b.limiter, Audit: b.audit, RefKey: b.refKey, Logger: b.log, Now: b.o.Now,
	})
	if err != nil {
		return fmt.Errorf("family: %w", err)
	}
	b.srv.Family = svc
	go svc.Run(b.ctx, time.Minute) // expire invitations and grants, with audit
	if err := addOnce("route class", b.deps.Hooks, svc.Hooks()); err != nil {
		return err
	}
	b.deps.Endpoints["family"] = svc.Endpoint()
	b.deps.Pages = append(b.deps.Pages, family.PageSet())
	return addOnce("admin route", b.deps.Admin, svc.AdminRoutes("/admin/family"))
}

// checks adds the readiness checks of the state store and the user stores.
func (b *build) checks() error {
	b.deps.Checks = append(b.deps.Checks, gateway.Checker{Name: "state", Check: func(ctx context.Context) error {
		return b.state.DB().PingContext(ctx)
	}})
	for name, st := range b.stores {
		b.deps.Checks = append(b.deps.Checks, gateway.Checker{Name: "store:" + name, Check: func(ctx context.Context) error {
			_, _, err := st.Iterate(ctx, "", 1) // one indexed read: the store answers
			return err
		}})
	}
	return nil
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
