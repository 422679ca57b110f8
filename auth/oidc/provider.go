package oidc

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
)

// Deps are the run-time collaborators of a Provider.
type Deps struct {
	// HTTPClient talks to the IdP (discovery, JWKS, token, userinfo). Nil
	// means a client with a 10 s timeout.
	HTTPClient *http.Client
	// Flows keeps login state between AuthRequest and Callback. Required.
	Flows FlowStore
	// Replay is the back-channel logout jti cache. Nil means an in-memory
	// cache (fine for one gateway node; use a RedisStore for several).
	Replay ReplayCache
	// Logger receives attributes only, never a national number. Nil discards.
	Logger *slog.Logger
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// DevInsecureCookies makes the pre-auth cookie work on plain http: no
	// __Host- prefix and no Secure flag. Development on loopback only: New
	// refuses it unless redirect_url is http on a loopback host. Off by
	// default; logged at start-up when on.
	DevInsecureCookies bool
	// RetryMin and RetryMax bound the discovery retry backoff (defaults 1s, 1m).
	RetryMin, RetryMax time.Duration
}

// Provider is one configured identity provider. It is safe for concurrent use.
type Provider struct {
	name     string
	cfg      ProviderConfig
	prof     Profile
	algs     []string
	minRank  int
	log      *slog.Logger
	now      func() time.Time
	client   *http.Client
	flows    FlowStore
	replay   ReplayCache
	ttl      time.Duration
	skew     time.Duration
	insecure bool
	retryMin time.Duration
	retryMax time.Duration

	signer   crypto.Signer // private_key_jwt
	signAlg  jose.SignatureAlgorithm
	encKey   *rsa.PrivateKey // RSA-OAEP-256
	dirKey   []byte          // dir/A256GCM: SHA-256 of the client secret (OIDC Core §10.2)
	secret   string          // client_secret_basic/post: read from the config once
	readyCh  chan struct{}
	mu       sync.RWMutex
	meta     *metadata
	notReady error
}

// metadata is what discovery yields.
type metadata struct {
	issuer            string
	authURL           string
	tokenURL          string
	userinfoURL       string
	jwksURL           string
	endSessionURL     string
	issParamSupported bool
	keys              *remoteKeys
	verifier          *oidc.IDTokenVerifier
	logoutVerifier    *oidc.IDTokenVerifier // expiry checked by us (exp optional)
}

// New validates cfg and returns a Provider. Discovery runs in the
// background until it succeeds or ctx ends, so New does not fail when the
// IdP is unreachable; see Ready.
func New(ctx context.Context, cfg ProviderConfig, deps Deps) (*Provider, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("oidc: provider %q: %w", cfg.Name, err)
	}
	if deps.Flows == nil {
		return nil, errors.New("oidc: Deps.Flows is required")
	}
	p := &Provider{
		name: cfg.Name, cfg: cfg, prof: cfg.profile(), algs: cfg.algs(),
		log: deps.Logger, now: deps.Now, client: deps.HTTPClient,
		flows: deps.Flows, replay: deps.Replay, ttl: cfg.FlowTTL, skew: cfg.ClockSkew,
		insecure: deps.DevInsecureCookies, retryMin: deps.RetryMin, retryMax: deps.RetryMax,
		readyCh: make(chan struct{}), notReady: fmt.Errorf("%w: discovery has not completed yet", ErrNotReady),
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	p.log = p.log.With("provider", p.name)
	if p.now == nil {
		p.now = time.Now
	}
	if p.client == nil {
		p.client = &http.Client{Timeout: 10 * time.Second}
	}
	// A copy, so the caller's client is not changed: redirects from the
	// IdP's endpoints must stay on https (see checkIdPRedirect).
	hc := *p.client
	if hc.CheckRedirect == nil {
		hc.CheckRedirect = checkIdPRedirect
	}
	p.client = &hc
	if p.replay == nil {
		p.replay = NewMemoryStore(p.now, 0)
	}
	if p.ttl == 0 {
		p.ttl = 10 * time.Minute
	}
	if p.skew == 0 {
		p.skew = time.Minute
	}
	if p.retryMin <= 0 {
		p.retryMin = time.Second
	}
	if p.retryMax < p.retryMin {
		p.retryMax = max(time.Minute, p.retryMin)
	}
	p.minRank, _ = p.prof.MinRank(cfg.MinLevel)
	if p.insecure && !strings.HasPrefix(cfg.RedirectURL, "http://") {
		return nil, errors.New("oidc: DevInsecureCookies needs an http redirect_url on a loopback host")
	}
	if !p.insecure && !strings.HasPrefix(cfg.RedirectURL, "https://") {
		return nil, errors.New("oidc: redirect_url: http needs DevInsecureCookies (development on loopback only)")
	}
	if !cfg.PrivateKey.IsZero() {
		k, err := parsePrivateKey(cfg.PrivateKey.Bytes())
		if err != nil {
			return nil, fmt.Errorf("oidc: private_key: %w", err)
		}
		p.signer = k
		p.signAlg = jose.RS256
		if ek, ok := k.(*ecdsa.PrivateKey); ok {
			switch ek.Curve {
			case elliptic.P256():
				p.signAlg = jose.ES256
			case elliptic.P384():
				p.signAlg = jose.ES384
			default:
				return nil, errors.New("oidc: private_key: EC key must be P-256 or P-384")
			}
		}
	}
	if !cfg.EncryptionKey.IsZero() {
		k, err := parsePrivateKey(cfg.EncryptionKey.Bytes())
		if err != nil {
			return nil, fmt.Errorf("oidc: encryption_key: %w", err)
		}
		p.encKey, _ = k.(*rsa.PrivateKey)
	}
	if !cfg.ClientSecret.IsZero() {
		sum := sha256.Sum256(cfg.ClientSecret.Bytes())
		p.dirKey = sum[:]
		p.secret = cfg.ClientSecret.Value()
	}
	if cfg.ExpectedIssuer != "" && cfg.ExpectedIssuer != cfg.Issuer {
		p.log.Warn("oidc: expected_issuer override: tokens must carry this exact issuer instead of the discovery URL",
			"issuer", cfg.Issuer, "expected_issuer", cfg.ExpectedIssuer)
	}
	if p.insecure {
		p.log.Warn("oidc: DevInsecureCookies is ON: pre-auth cookie without Secure/__Host- (development only)")
	}
	go p.discoverLoop(ctx)
	return p, nil
}

// Name returns the provider's configured name.
func (p *Provider) Name() string { return p.name }

// Profile returns a copy of the effective profile.
func (p *Provider) Profile() Profile {
	c := p.prof
	c.Scopes = slices.Clone(c.Scopes)
	c.Levels = slices.Clone(c.Levels)
	return c
}

// Ready returns nil when discovery has succeeded, else why the provider is
// not usable yet (wrapping ErrNotReady).
func (p *Provider) Ready() error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.meta != nil {
		return nil
	}
	return p.notReady
}

// WaitReady blocks until discovery succeeded or ctx ends.
func (p *Provider) WaitReady(ctx context.Context) error {
	select {
	case <-p.readyCh:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", p.Ready(), ctx.Err())
	}
}

func (p *Provider) metadata() (*metadata, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.meta == nil {
		return nil, p.notReady
	}
	return p.meta, nil
}

func (p *Provider) discoverLoop(ctx context.Context) {
	wait := p.retryMin
	for {
		err := p.discover(ctx)
		if err == nil {
			return
		}
		p.mu.Lock()
		p.notReady = fmt.Errorf("%w: %w", ErrNotReady, err)
		p.mu.Unlock()
		p.log.Warn("oidc: discovery failed; retrying", "err", err, "retry_in", wait)
		jitter := time.Duration(rand.Int64N(int64(wait)/4 + 1))
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait + jitter):
		}
		wait = min(wait*2, p.retryMax)
	}
}

// maxIdPRedirects bounds redirects on requests to the IdP.
const maxIdPRedirects = 3

// checkIdPRedirect is the redirect policy of requests to the IdP
// (discovery, JWKS, token, userinfo). Every endpoint is checked to be https
// (or http on loopback in development) before use; a redirect must not
// undo that: it may lead to https only, or from a plain-http loopback
// endpoint to another loopback one. Otherwise a redirect could downgrade
// the key set or the token exchange to plain http, or point the gateway
// at a loopback service from a public IdP.
func checkIdPRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxIdPRedirects {
		return fmt.Errorf("oidc: more than %d redirects", maxIdPRedirects)
	}
	u, first := req.URL, via[0].URL
	switch {
	case u.User != nil:
		return errors.New("oidc: refusing a redirect to a URL with credentials")
	case u.Scheme == "https" && (!isLoopback(u.Hostname()) || isLoopback(first.Hostname())):
		return nil
	case u.Scheme == "http" && first.Scheme == "http" && isLoopback(u.Hostname()) && isLoopback(first.Hostname()):
		return nil
	}
	return fmt.Errorf("oidc: refusing a redirect from %s to %s://%s (https only, no loopback from a remote IdP)", first.Host, u.Scheme, u.Host)
}

// discoveryDoc holds the discovery fields we use.
type discoveryDoc struct {
	Issuer            string   `json:"issuer"`
	AuthURL           string   `json:"authorization_endpoint"`
	TokenURL          string   `json:"token_endpoint"`
	UserinfoURL       string   `json:"userinfo_endpoint"`
	JWKSURL           string   `json:"jwks_uri"`
	EndSessionURL     string   `json:"end_session_endpoint"`
	IssParamSupported bool     `json:"authorization_response_iss_parameter_supported"`
	CodeChallenge     []string `json:"code_challenge_methods_supported"`
}

const maxDiscovery = 256 << 10

func (p *Provider) discover(ctx context.Context) error {
	rctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	u := strings.TrimSuffix(p.cfg.Issuer, "/") + "/.well-known/openid-configuration"
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("oidc: discovery: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		return fmt.Errorf("oidc: discovery: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDiscovery+1))
	if err != nil {
		return fmt.Errorf("oidc: discovery: reading: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("oidc: discovery: HTTP %d", resp.StatusCode)
	}
	if len(body) > maxDiscovery {
		return errors.New("oidc: discovery: document too large")
	}
	var d discoveryDoc
	if err := json.Unmarshal(body, &d); err != nil {
		return fmt.Errorf("oidc: discovery: %w", err)
	}
	want := p.cfg.Issuer
	if p.cfg.ExpectedIssuer != "" {
		want = p.cfg.ExpectedIssuer
	}
	if d.Issuer != want {
		return fmt.Errorf("oidc: discovery: issuer %q differs from the expected %q (set expected_issuer only if the provider really uses that issuer)", d.Issuer, want)
	}
	for name, v := range map[string]string{"authorization_endpoint": d.AuthURL, "token_endpoint": d.TokenURL, "jwks_uri": d.JWKSURL} {
		if err := checkURL(v, true); err != nil {
			return fmt.Errorf("oidc: discovery: %s: %w", name, err)
		}
	}
	for name, v := range map[string]string{"userinfo_endpoint": d.UserinfoURL, "end_session_endpoint": d.EndSessionURL} {
		if v != "" {
			if err := checkURL(v, true); err != nil {
				return fmt.Errorf("oidc: discovery: %s: %w", name, err)
			}
		}
	}
	if p.prof.FetchUserinfo && d.UserinfoURL == "" {
		return errors.New("oidc: discovery: profile needs userinfo but the provider has no userinfo_endpoint")
	}
	// Fetch the key set once now, so an unreachable or empty JWKS keeps the
	// provider not ready (with the reason) instead of failing logins later.
	fetchedAt := p.now()
	initial, err := fetchJWKS(rctx, p.client, d.JWKSURL)
	if err != nil {
		return err
	}
	keys := newRemoteKeys(d.JWKSURL, p.client, p.now, p.algs, p.log, initial, fetchedAt)
	m := &metadata{
		issuer: want, authURL: d.AuthURL, tokenURL: d.TokenURL, userinfoURL: d.UserinfoURL,
		jwksURL: d.JWKSURL, endSessionURL: d.EndSessionURL, issParamSupported: d.IssParamSupported, keys: keys,
	}
	m.verifier = oidc.NewVerifier(want, keys, &oidc.Config{ClientID: p.cfg.ClientID, SupportedSigningAlgs: p.algs, Now: p.now})
	m.logoutVerifier = oidc.NewVerifier(want, keys, &oidc.Config{ClientID: p.cfg.ClientID, SupportedSigningAlgs: p.algs, Now: p.now, SkipExpiryCheck: true})
	p.mu.Lock()
	p.meta = m
	p.notReady = nil
	p.mu.Unlock()
	close(p.readyCh)
	p.log.Info("oidc: provider ready", "issuer", want)
	return nil
}

const maxJWKS = 256 << 10

// PublicJWKS returns the relying party's public keys (JSON Web Key Set):
// the private_key_jwt signing key (use "sig") and the encryption key (use
// "enc"), for the gateway to publish (itsme requires both).
func (p *Provider) PublicJWKS() []byte {
	var set jose.JSONWebKeySet
	if p.signer != nil {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: p.signer.Public(), KeyID: p.cfg.PrivateKeyID, Algorithm: string(p.signAlg), Use: "sig"})
	}
	if p.encKey != nil {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: p.encKey.Public(), KeyID: p.cfg.EncryptionKeyID, Algorithm: string(jose.RSA_OAEP_256), Use: "enc"})
	}
	if set.Keys == nil {
		set.Keys = []jose.JSONWebKey{}
	}
	b, _ := json.Marshal(set)
	return b
}
