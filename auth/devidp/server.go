package devidp

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"
)

// Banner is the warning the dev IdP shows on every page and logs at start.
const Banner = "DEVELOPMENT IdP — NOT FOR PRODUCTION: anyone can log in as any test persona. Synthetic data only."

// Server is the dev IdP: one OpenID provider per enabled profile, each under
// its own issuer path of one HTTP handler. It is safe for concurrent use.
type Server struct {
	log         *slog.Logger
	nowFn       func() time.Time
	base        string
	key         *signingKey
	httpClient  *http.Client
	keyCache    *keyCache
	maxRequests int
	maxSessions int
	sessionTTL  time.Duration
	personas    []Persona
	secure      bool // issuer is https: cookies get Secure
	respIss     bool // RFC 9207 iss in authorization responses

	profiles map[Profile]*profileState
	handler  http.Handler

	mu      sync.RWMutex
	clients map[Profile]map[string]*registeredClient

	csrfKey [32]byte // HMAC key of the picker's CSRF tokens

	jtiMu sync.Mutex
	jtis  map[string]time.Time // used client-assertion ids
}

// New builds the dev IdP from cfg (validated first) and logs the
// development-only banner. logger may be nil.
func New(cfg Config, logger *slog.Logger) (*Server, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("devidp: invalid config: %w", err)
	}
	s := &Server{
		log: logger, nowFn: cfg.Now, base: strings.TrimSuffix(cfg.IssuerBase, "/"),
		httpClient: cfg.HTTPClient, maxRequests: cfg.MaxAuthRequests, maxSessions: cfg.MaxSessions,
		sessionTTL: cfg.SessionLifetime, profiles: map[Profile]*profileState{},
		clients: map[Profile]map[string]*registeredClient{},
		jtis:    map[string]time.Time{},
	}
	s.secure = strings.HasPrefix(s.base, "https://")
	s.respIss = cfg.AuthorizationResponseIss
	if s.nowFn == nil {
		s.nowFn = time.Now
	}
	if s.httpClient == nil {
		s.httpClient = &http.Client{Timeout: 5 * time.Second}
	}
	// Never follow redirects off loopback: back-channel and JWKS requests
	// go only where the registration (validated loopback) says.
	hc := *s.httpClient
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	s.httpClient = &hc
	s.keyCache = &keyCache{client: s.httpClient, now: s.now, sets: map[string]cachedSet{}}
	if s.maxRequests == 0 {
		s.maxRequests = defaultMaxAuthRequests
	}
	if s.maxSessions == 0 {
		s.maxSessions = defaultMaxSessions
	}
	if s.sessionTTL == 0 {
		s.sessionTTL = defaultSessionLifetime
	}
	s.personas = Personas(s.now())
	if _, err := rand.Read(s.csrfKey[:]); err != nil {
		return nil, fmt.Errorf("devidp: random: %w", err)
	}

	priv := cfg.SigningRSAKey
	if priv == nil && !cfg.SigningKey.IsZero() {
		var err error
		if priv, err = parseRSAKey(cfg.SigningKey.Bytes()); err != nil {
			return nil, fmt.Errorf("devidp: signing_key: %w", err)
		}
	}
	if priv == nil {
		var err error
		if priv, err = generateRSAKey(); err != nil {
			return nil, fmt.Errorf("devidp: generating signing key: %w", err)
		}
	}
	var err error
	if s.key, err = newSigningKey(priv); err != nil {
		return nil, err
	}

	enabled := cfg.Profiles
	if len(enabled) == 0 {
		enabled = AllProfiles
	}
	var cryptoKey [32]byte
	if _, err := rand.Read(cryptoKey[:]); err != nil {
		return nil, fmt.Errorf("devidp: random: %w", err)
	}
	mux := http.NewServeMux()
	for _, name := range enabled {
		if _, dup := s.profiles[name]; dup {
			continue
		}
		spec := profileSpecs[name]
		ps := newProfileState(s, spec, s.base+spec.path)
		h, err := s.buildProfile(ps, cryptoKey)
		if err != nil {
			return nil, err
		}
		s.profiles[name] = ps
		s.clients[name] = map[string]*registeredClient{}
		mux.Handle(spec.path+"/", http.StripPrefix(spec.path, h))
	}
	mux.HandleFunc("GET /{$}", s.serveIndex)
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	u, _ := url.Parse(s.base)
	s.handler = securityHeaders(u.Host, mux)

	for _, c := range cfg.Clients {
		if err := s.RegisterClient(c); err != nil {
			return nil, err
		}
	}
	logger.Warn(Banner, "issuer_base", s.base, "profiles", enabled)
	return s, nil
}

func (s *Server) now() time.Time { return s.nowFn() }

// csrfToken binds a picker form to the browser (its CSRF cookie) and to one
// authorization request.
func (s *Server) csrfToken(browser, requestID string) string {
	m := hmac.New(sha256.New, s.csrfKey[:])
	m.Write([]byte(browser + "|" + requestID))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Handler returns the HTTP handler serving every enabled profile.
func (s *Server) Handler() http.Handler { return s.handler }

// Issuer returns the issuer URL of profile p, e.g.
// "http://127.0.0.1:8081/fas/oauth2", or "" when p is not enabled.
func (s *Server) Issuer(p Profile) string {
	if ps, ok := s.profiles[p]; ok {
		return ps.issuer
	}
	return ""
}

// Personas returns the personas as computed at New.
func (s *Server) Personas() []Persona { return slices.Clone(s.personas) }

// Persona returns the persona with the given key.
func (s *Server) Persona(key string) (Persona, bool) { return s.persona(key) }

func (s *Server) persona(key string) (Persona, bool) {
	for _, p := range s.personas {
		if p.Key == key {
			return p, true
		}
	}
	return Persona{}, false
}

// Subject returns the sub claim persona personaKey gets at profile p: a
// stable opaque identifier (never the national number), the same across
// restarts, different per profile.
func (s *Server) Subject(p Profile, personaKey string) string {
	h := sha256.Sum256([]byte("overstap-devidp-sub|" + string(p) + "|" + personaKey))
	return hex.EncodeToString(h[:16])
}

// PublicJWKS returns the public keys ID tokens and logout tokens are
// signed with (also served at each profile's JWKS endpoint).
func (s *Server) PublicJWKS() jose.JSONWebKeySet { return s.key.jwks() }

// RegisterClient adds (or replaces) a relying party at run time, e.g. from
// a test that knows its redirect URI only after starting its listener.
func (s *Server) RegisterClient(c ClientConfig) error {
	rc, err := newRegisteredClient(c)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.clients[c.Profile]
	if !ok {
		return fmt.Errorf("devidp: client %q: profile %q is not enabled", c.ID, c.Profile)
	}
	m[c.ID] = rc
	return nil
}

func (s *Server) client(p Profile, id string) (*registeredClient, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	rc, ok := s.clients[p][id]
	return rc, ok
}

// reqInfo carries request details between the HTTP wrappers and the
// storage callbacks op makes during the same request.
type reqInfo struct {
	claims       string // the claims request parameter (authorize)
	clientID     string // set by the storage when tokens/userinfo are made
	sessionID    string // the browser's session cookie (end-session)
	assertionAud string // audience a client assertion must carry
}

type ctxKey struct{}

func infoFrom(ctx context.Context) *reqInfo {
	ri, _ := ctx.Value(ctxKey{}).(*reqInfo)
	return ri
}

func withInfo(r *http.Request) (*http.Request, *reqInfo) {
	ri := &reqInfo{}
	return r.WithContext(context.WithValue(r.Context(), ctxKey{}, ri)), ri
}

// opProvider wraps op.Provider for two things op cannot be configured to do:
//
//   - per-profile endpoint paths: op's WithCustom*Endpoint options assign
//     into the package-level op.DefaultEndpoints that every provider in the
//     process shares (v3.49.2), so several profiles in one process would
//     overwrite each other's paths. The endpoint getters are overridden
//     here instead and the options are never used.
//   - private_key_jwt assertions whose aud is the token endpoint (OIDC Core
//     §9, RFC 7523, what itsme and FAS expect) as well as the issuer (what
//     zitadel expects).
type opProvider struct {
	*op.Provider
	authorize, token, userinfo, endSession, keys, introspect, revoke, device *op.Endpoint
}

func newOPProvider(p *op.Provider, spec *profileSpec) *opProvider {
	return &opProvider{
		Provider:  p,
		authorize: op.NewEndpoint(spec.authorize), token: op.NewEndpoint(spec.token),
		userinfo: op.NewEndpoint(spec.userinfo), endSession: op.NewEndpoint(spec.endSession),
		keys: op.NewEndpoint(spec.keys), introspect: op.NewEndpoint(spec.introspect),
		revoke: op.NewEndpoint(spec.revoke), device: op.NewEndpoint("device_authorization"),
	}
}

// AuthorizationEndpoint returns the profile's authorization endpoint.
func (o *opProvider) AuthorizationEndpoint() *op.Endpoint { return o.authorize }

// TokenEndpoint returns the profile's token endpoint.
func (o *opProvider) TokenEndpoint() *op.Endpoint { return o.token }

// UserinfoEndpoint returns the profile's userinfo endpoint.
func (o *opProvider) UserinfoEndpoint() *op.Endpoint { return o.userinfo }

// EndSessionEndpoint returns the profile's end-session endpoint.
func (o *opProvider) EndSessionEndpoint() *op.Endpoint { return o.endSession }

// KeysEndpoint returns the profile's JWKS endpoint.
func (o *opProvider) KeysEndpoint() *op.Endpoint { return o.keys }

// IntrospectionEndpoint returns the profile's introspection endpoint.
func (o *opProvider) IntrospectionEndpoint() *op.Endpoint { return o.introspect }

// RevocationEndpoint returns the profile's revocation endpoint.
func (o *opProvider) RevocationEndpoint() *op.Endpoint { return o.revoke }

// DeviceAuthorizationEndpoint returns an endpoint that refuses (no device
// flow).
func (o *opProvider) DeviceAuthorizationEndpoint() *op.Endpoint { return o.device }

// JWTProfileVerifier verifies client assertions against the audience the
// token wrapper chose (token endpoint if the assertion names it, else the
// issuer); the signature, iss = sub, exp and iat are checked by op.
func (o *opProvider) JWTProfileVerifier(ctx context.Context) *op.JWTProfileVerifier {
	aud := op.IssuerFromContext(ctx)
	if ri := infoFrom(ctx); ri != nil && ri.assertionAud != "" {
		aud = ri.assertionAud
	}
	return op.NewJWTProfileVerifier(o.Storage(), aud, time.Hour, time.Second)
}

func (s *Server) buildProfile(ps *profileState, cryptoKey [32]byte) (http.Handler, error) {
	spec := ps.spec
	conf := &op.Config{
		CryptoKey:                         cryptoKey,
		CryptoKeyId:                       "devidp",
		DefaultLogoutRedirectURI:          ps.issuer + "/logged-out",
		CodeMethodS256:                    true,
		AuthMethodPost:                    slices.Contains(spec.authMethods, oidc.AuthMethodPost),
		AuthMethodPrivateKeyJWT:           slices.Contains(spec.authMethods, oidc.AuthMethodPrivateKeyJWT),
		SupportedUILocales:                []language.Tag{language.Dutch, language.French, language.German, language.English},
		SupportedScopes:                   spec.scopes,
		SupportedClaims:                   supportedClaims(spec),
		BackChannelLogoutSupported:        true,
		BackChannelLogoutSessionSupported: true,
	}
	opts := []op.Option{
		op.WithLogger(s.log),
	}
	if !s.secure {
		opts = append(opts, op.WithAllowInsecure())
	}
	provider, err := op.NewProvider(conf, ps, op.StaticIssuer(ps.issuer), opts...)
	if err != nil {
		return nil, fmt.Errorf("devidp: profile %s: %w", spec.name, err)
	}
	ps.provider = newOPProvider(provider, spec)
	router := op.CreateRouter(ps.provider)
	issuerCtx := op.NewIssuerInterceptor(provider.IssuerFromRequest)

	mux := http.NewServeMux()
	mux.Handle("/", router)
	mux.Handle("/"+spec.authorize, ps.addIss(ps.wrapAuthorize(router)))
	mux.Handle("/"+spec.authorize+"/callback", ps.addIss(router))
	mux.Handle("/"+spec.token, ps.wrapToken(router))
	mux.Handle("/"+spec.userinfo, ps.wrapUserinfo(router))
	mux.Handle("/"+spec.endSession, ps.wrapEndSession(router))
	mux.Handle(oidc.DiscoveryEndpoint, ps.wrapDiscovery(router))
	mux.Handle("/login", ps.addIss(issuerCtx.Handler(http.HandlerFunc(ps.servePicker))))
	mux.HandleFunc("/logged-out", ps.serveLoggedOut)
	return limitBody(mux), nil
}

func supportedClaims(spec *profileSpec) []string {
	c := slices.Clone(op.DefaultSupportedClaims)
	c = append(c, "sid")
	switch spec.name {
	case ProfileFAS:
		c = append(c, ClaimEgovNRN, ClaimFASGivenName, ClaimFASSurname, ClaimFASPrefLanguage, "mail")
	case ProfileITSME:
		c = append(c, ClaimITSMENRN)
	case ProfileACM:
		c = append(c, ClaimRRN)
	}
	return c
}

// maxBody bounds every request body the dev IdP reads.
const maxBody = 64 << 10

func limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		}
		if len(r.URL.RawQuery) > 16<<10 {
			http.Error(w, "query too long", http.StatusRequestURITooLong)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// securityHeaders sets defensive headers and refuses requests for another
// Host than the issuer's: a loopback server is otherwise reachable from a
// web page through DNS rebinding.
func securityHeaders(host string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.EqualFold(r.Host, host) {
			http.Error(w, "devidp: unexpected Host (use the issuer's host:port)", http.StatusMisdirectedRequest)
			return
		}
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Overstap-Devidp", "development only")
		next.ServeHTTP(w, r)
	})
}
