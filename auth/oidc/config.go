package oidc

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"time"

	"github.com/overstap/overstap/auth/identity"
	"github.com/overstap/overstap/internal/config"
)

// ProviderConfig is the YAML configuration of one identity provider.
type ProviderConfig struct {
	// Name identifies the provider in URLs, logs and sessions ([a-z0-9_-], ≤ 32).
	Name string `yaml:"name"`
	// Profile is the built-in profile to start from: fas, itsme, acmidm, generic.
	Profile string `yaml:"profile"`
	// Issuer is the discovery base URL (https; http only on a loopback host).
	Issuer string `yaml:"issuer"`
	// ExpectedIssuer overrides the issuer string that discovery and tokens
	// must carry, for providers whose tokens name a different issuer than
	// their discovery URL (an observed FAS integration token had
	// "http://idp.iamfas.int.belgium.be:80/fas/oauth2"). The check stays
	// exact; the override is logged at start-up.
	ExpectedIssuer string `yaml:"expected_issuer"`
	// ClientID is the client identifier registered at the provider.
	ClientID string `yaml:"client_id"`
	// ClientSecret for client_secret_basic/post, and the key for dir JWE.
	ClientSecret config.Secret `yaml:"client_secret"`
	// ClientAuth overrides the profile's token-endpoint authentication.
	ClientAuth ClientAuth `yaml:"client_auth"`
	// PrivateKey is a PEM RSA or EC private key for private_key_jwt.
	PrivateKey config.Secret `yaml:"private_key"`
	// PrivateKeyID is the kid of PrivateKey as registered at the provider.
	PrivateKeyID string `yaml:"private_key_id"`
	// EncryptionKey is a PEM RSA private key to decrypt RSA-OAEP-256 JWEs.
	EncryptionKey config.Secret `yaml:"encryption_key"`
	// EncryptionKeyID is the kid of EncryptionKey as published in our JWKS.
	EncryptionKeyID string `yaml:"encryption_key_id"`
	// RedirectURL is the exact callback URL registered at the provider: the
	// gateway's public_url with the path /.overstap/callback/<name>
	// (checked at load).
	RedirectURL string `yaml:"redirect_url"`
	// PostLogoutRedirectURL is the default post_logout_redirect_uri.
	PostLogoutRedirectURL string `yaml:"post_logout_redirect_url"`
	// Scopes replaces the profile's default scopes when set (openid is always sent).
	Scopes []string `yaml:"scopes"`
	// ExtraScopes are added to the scopes (e.g. itsme "service:<CODE>").
	ExtraScopes []string `yaml:"extra_scopes"`
	// Extra holds additional authorization request parameters (e.g. itsme
	// "service" is a scope, but some IdPs want custom parameters). Protocol
	// parameters (state, nonce, code_challenge, redirect_uri, ...) are refused.
	Extra map[string]string `yaml:"extra"`
	// AllowedAlgs is the ID token signature algorithm allow-list. Default
	// RS256, ES256, PS256. none and HS* are refused.
	AllowedAlgs []string `yaml:"allowed_algs"`
	// MinLevel is the default minimum level (a level name of the profile's
	// table or low/substantial/high).
	MinLevel string `yaml:"min_level"`
	// Levels is the level table of a generic provider (a broker such as
	// Keycloak): the acr values it sends, weakest first, each mapped to an
	// eIDAS level. A route's minimum is asked as acr_values (the weakest
	// row that reaches it) and checked on return. Without a table every
	// login of a generic provider counts as low, and routes needing more
	// are refused with the "stronger login needed" page. The fas, itsme
	// and acmidm profiles have their own tables.
	Levels []LevelConfig `yaml:"levels"`
	// LevelFrom says which claims carry the level of a configured table:
	// acr (default), amr, or acr_amr (both; the lowest value found counts).
	LevelFrom LevelSource `yaml:"level_from"`
	// NRNClaim and NRNFrom override the profile's NRN location (a generic
	// provider has none: name the claim, e.g. rrn).
	NRNClaim string      `yaml:"nrn_claim"`
	NRNFrom  ClaimSource `yaml:"nrn_from"`
	// RequireNRN refuses a login without a valid national number (default
	// true). false: such a login succeeds with the provider's subject only,
	// for identity-only apps (gateway.account_id: subject); features that
	// need the number (linking, legacy-login interception, family,
	// registration) are then refused at load.
	RequireNRN *bool `yaml:"require_nrn"`
	// NameClaim, GivenNameClaim and FamilyNameClaim override where the
	// citizen's name is (ID token, then userinfo): the display name is the
	// name claim, else given and family name.
	NameClaim       string `yaml:"name_claim"`
	GivenNameClaim  string `yaml:"given_name_claim"`
	FamilyNameClaim string `yaml:"family_name_claim"`
	// FetchUserinfo makes the callback also call the userinfo endpoint (for
	// names) when the profile does not already need it.
	FetchUserinfo bool `yaml:"fetch_userinfo"`
	// FlowTTL bounds the time between login start and callback (default 10m, max 30m).
	FlowTTL time.Duration `yaml:"flow_ttl"`
	// ClockSkew tolerated on iat/auth_time (default 60s, max 5m).
	ClockSkew time.Duration `yaml:"clock_skew"`
}

var (
	nameRE         = regexp.MustCompile(`^[a-z0-9_-]{1,32}$`)
	reservedParams = []string{"response_type", "client_id", "redirect_uri", "scope", "state", "nonce",
		"code_challenge", "code_challenge_method", "request", "request_uri", "response_mode", "client_secret",
		"acr_values", "max_age", "prompt", "claims", "client_assertion", "client_assertion_type"}
	forbiddenAlgs = []string{"none", "HS256", "HS384", "HS512"}
	knownAlgs     = []string{"RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "EdDSA"}
)

// Validate reports every problem of the configuration (errors.Join), each
// message starting with the YAML key.
func (c *ProviderConfig) Validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if !nameRE.MatchString(c.Name) {
		add("name: must be 1-32 characters of a-z, 0-9, _ and -")
	}
	prof, ok := BuiltinProfile(c.Profile)
	if !ok {
		add("profile: %q is not one of fas, itsme, acmidm, generic", c.Profile)
	}
	if err := checkURL(c.Issuer, true); err != nil {
		add("issuer: %v (or set expected_issuer for the token issuer)", err)
	}
	if c.ExpectedIssuer != "" {
		if u, err := url.Parse(c.ExpectedIssuer); err != nil || !u.IsAbs() || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			add("expected_issuer: must be an absolute URL")
		}
	}
	if c.ClientID == "" || len(c.ClientID) > 256 {
		add("client_id: required (at most 256 characters)")
	}
	auth := c.ClientAuth
	if auth == "" {
		auth = prof.ClientAuth
	}
	switch auth {
	case ClientSecretBasic, ClientSecretPost:
		if c.ClientSecret.IsZero() {
			add("client_secret: required for %s", auth)
		}
	case PrivateKeyJWT:
		if c.PrivateKey.IsZero() {
			add("private_key: required for private_key_jwt (PEM RSA or EC key)")
		} else if _, err := parsePrivateKey(c.PrivateKey.Bytes()); err != nil {
			add("private_key: %v", err)
		}
	default:
		add("client_auth: %q is not client_secret_basic, client_secret_post or private_key_jwt", auth)
	}
	if !c.EncryptionKey.IsZero() {
		k, err := parsePrivateKey(c.EncryptionKey.Bytes())
		if err != nil {
			add("encryption_key: %v", err)
		} else if _, isRSA := k.(*rsa.PrivateKey); !isRSA {
			add("encryption_key: must be an RSA key (RSA-OAEP-256)")
		}
	}
	if prof.IDTokenEncrypted && c.EncryptionKey.IsZero() && c.ClientSecret.IsZero() {
		add("encryption_key: required: profile %s sends encrypted ID tokens (or set client_secret for dir)", prof.Name)
	}
	if err := checkURL(c.RedirectURL, true); err != nil {
		add("redirect_url: %v", err)
	}
	if c.PostLogoutRedirectURL != "" {
		if err := checkURL(c.PostLogoutRedirectURL, true); err != nil {
			add("post_logout_redirect_url: %v", err)
		}
	}
	for i, s := range c.Scopes {
		if !validScope(s) {
			add("scopes[%d]: invalid scope %q", i, s)
		}
	}
	for i, s := range c.ExtraScopes {
		if !validScope(s) {
			add("extra_scopes[%d]: invalid scope %q", i, s)
		}
	}
	for k := range c.Extra {
		if slices.Contains(reservedParams, k) {
			add("extra: %q is a protocol parameter set by overstap", k)
		}
	}
	for i, a := range c.AllowedAlgs {
		switch {
		case slices.Contains(forbiddenAlgs, a):
			add("allowed_algs[%d]: %q is never accepted", i, a)
		case !slices.Contains(knownAlgs, a):
			add("allowed_algs[%d]: unknown algorithm %q", i, a)
		}
	}
	if c.NRNFrom != "" && c.NRNFrom != FromIDToken && c.NRNFrom != FromUserinfo {
		add("nrn_from: %q is not id_token or userinfo", c.NRNFrom)
	}
	if len(c.Levels) > 0 || c.LevelFrom != "" {
		if ok && prof.Name != "generic" {
			add("levels: profile %s has its own level table (docs/providers.md); levels and level_from are for profile generic (a broker)", prof.Name)
		} else {
			errs = append(errs, validateLevels(c.Levels)...)
		}
		switch c.LevelFrom {
		case "", LevelFromACR, LevelFromAMR, LevelFromBoth:
		default:
			add("level_from: %q is not one of acr, amr, acr_amr", c.LevelFrom)
		}
		if len(c.Levels) == 0 && c.LevelFrom != "" {
			add("level_from: only with levels")
		}
	}
	for _, k := range [][2]string{{"name_claim", c.NameClaim}, {"given_name_claim", c.GivenNameClaim}, {"family_name_claim", c.FamilyNameClaim}, {"nrn_claim", c.NRNClaim}} {
		if k[1] != "" && !validToken(k[1], 256) {
			add("%s: %q is not a claim name", k[0], k[1])
		}
	}
	if ok && c.RequiresNRN() && c.NRNClaim == "" && prof.NRNClaim == "" {
		add("nrn_claim: profile %s has no national-number claim: name the claim your provider puts it in (e.g. rrn), or set require_nrn: false for identity-only apps", prof.Name)
	}
	if ok && c.MinLevel != "" {
		p := c.profile()
		if _, err := p.MinRank(c.MinLevel); err != nil {
			if errors.Is(err, ErrLevelUnavailable) {
				add("min_level: %q: %v", c.MinLevel, err)
			} else {
				add("min_level: %q is neither low/substantial/high nor a value of the level table", c.MinLevel)
			}
		}
	}
	if c.FlowTTL < 0 || c.FlowTTL > 30*time.Minute {
		add("flow_ttl: must be between 0 (default 10m) and 30m")
	}
	if c.ClockSkew < 0 || c.ClockSkew > 5*time.Minute {
		add("clock_skew: must be between 0 (default 60s) and 5m")
	}
	return errors.Join(errs...)
}

// profile returns the effective profile: the built-in one with the
// config's overrides applied.
func (c *ProviderConfig) profile() Profile {
	p, _ := BuiltinProfile(c.Profile)
	if len(c.Scopes) > 0 {
		p.Scopes = slices.Clone(c.Scopes)
	}
	p.Scopes = append(p.Scopes, c.ExtraScopes...)
	if c.ClientAuth != "" {
		p.ClientAuth = c.ClientAuth
	}
	if c.NRNClaim != "" {
		p.NRNClaim = c.NRNClaim
	}
	if c.NRNFrom != "" {
		p.NRNFrom = c.NRNFrom
	}
	if p.NRNFrom == FromUserinfo || c.FetchUserinfo {
		p.FetchUserinfo = true
	}
	if len(c.Levels) > 0 {
		p.Levels = tableFrom(c.Levels)
		p.LevelFrom = c.LevelFrom
		if p.LevelFrom == LevelNone {
			p.LevelFrom = LevelFromACR
		}
		p.DefaultLevel = identity.LevelNone
	}
	for _, o := range []struct {
		dst *string
		v   string
	}{
		{&p.NameClaim, c.NameClaim}, {&p.GivenNameClaim, c.GivenNameClaim}, {&p.FamilyNameClaim, c.FamilyNameClaim},
	} {
		if o.v != "" {
			*o.dst = o.v
		}
	}
	return p
}

// RequiresNRN reports whether a login through this provider must carry a
// valid national number (require_nrn, default true).
func (c *ProviderConfig) RequiresNRN() bool { return c.RequireNRN == nil || *c.RequireNRN }

func (c *ProviderConfig) algs() []string {
	if len(c.AllowedAlgs) > 0 {
		return slices.Clone(c.AllowedAlgs)
	}
	return []string{"RS256", "ES256", "PS256"}
}

// validScope accepts an RFC 6749 scope token (printable ASCII, no space,
// quote or backslash), at most 128 bytes.
func validScope(s string) bool { return validToken(s, 128) }

// checkURL requires an absolute https URL, or http on a loopback host.
func checkURL(s string, allowLoopbackHTTP bool) error {
	if s == "" {
		return errors.New("required")
	}
	u, err := url.Parse(s)
	if err != nil || !u.IsAbs() || u.Host == "" || u.User != nil || u.Fragment != "" {
		return errors.New("must be an absolute https URL")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if allowLoopbackHTTP && isLoopback(u.Hostname()) {
			return nil
		}
	}
	return errors.New("must be an absolute https URL (http only on a loopback host)")
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// parsePrivateKey reads a PEM PKCS#8, PKCS#1 (RSA) or SEC1 (EC) private key.
func parsePrivateKey(b []byte) (crypto.Signer, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, errors.New("not a PEM private key")
	}
	var k any
	var err error
	switch blk.Type {
	case "RSA PRIVATE KEY":
		k, err = x509.ParsePKCS1PrivateKey(blk.Bytes)
	case "EC PRIVATE KEY":
		k, err = x509.ParseECPrivateKey(blk.Bytes)
	case "PRIVATE KEY":
		k, err = x509.ParsePKCS8PrivateKey(blk.Bytes)
	default:
		return nil, fmt.Errorf("unsupported PEM block %q", blk.Type)
	}
	if err != nil {
		return nil, errors.New("cannot parse the private key")
	}
	switch k := k.(type) {
	case *rsa.PrivateKey:
		if k.N.BitLen() < 2048 {
			return nil, errors.New("RSA key shorter than 2048 bits")
		}
		return k, nil
	case *ecdsa.PrivateKey:
		return k, nil
	}
	return nil, errors.New("only RSA and EC keys are supported")
}
