package devidp

import (
	"bytes"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"go.yaml.in/yaml/v3"

	"github.com/overstap/overstap/internal/config"
	"github.com/overstap/overstap/internal/logging"
)

// Config configures the dev IdP. Field comments are the user documentation
// (docs/devidp.md).
type Config struct {
	// Listen is the loopback address to listen on, e.g. "127.0.0.1:8081".
	// The dev IdP refuses any other address. Used by `overstap devidp`;
	// New ignores it.
	Listen string `yaml:"listen"`
	// IssuerBase is the scheme://host:port the RPs reach the dev IdP at, e.g.
	// "http://127.0.0.1:8081". Issuers are IssuerBase + the profile path
	// (/fas/oauth2, /itsme/v2, /acm/op). Its host must be a loopback address
	// or "localhost".
	IssuerBase string `yaml:"issuer_base"`
	// SigningKey is an RSA private key (PEM, PKCS#1 or PKCS#8, at least 2048
	// bits) as a secret reference ("file:/path/key.pem"). Empty: a fresh key
	// is generated at start (RPs refetch the JWKS).
	SigningKey config.Secret `yaml:"signing_key"`
	// Profiles enabled; empty means all of fas, itsme, acm.
	Profiles []Profile `yaml:"profiles"`
	// Clients are the registered relying parties.
	Clients []ClientConfig `yaml:"clients"`
	// MaxAuthRequests caps pending authorization requests and codes per
	// profile (default 10000); the oldest are dropped first.
	MaxAuthRequests int `yaml:"max_auth_requests"`
	// MaxSessions caps browser sessions and access tokens per profile
	// (default 10000).
	MaxSessions int `yaml:"max_sessions"`
	// SessionLifetime bounds a browser session at the dev IdP (default 12h).
	SessionLifetime time.Duration `yaml:"session_lifetime"`
	// AuthorizationResponseIss adds the RFC 9207 "iss" parameter to every
	// authorization response (code or error) and advertises it in
	// discovery, to test an RP's mix-up defence. The imitated providers do
	// not document it, so it is off by default.
	AuthorizationResponseIss bool `yaml:"authorization_response_iss"`
	// Log is the log section of the gateway's configuration (format json,
	// the default, or text; level): `overstap devidp` logs in the same
	// format as every other command. New ignores it.
	Log logging.Config `yaml:"log"`

	// Now is the clock (nil: time.Now). Persona birth dates follow it.
	Now func() time.Time `yaml:"-"`
	// HTTPClient sends back-channel logout tokens and fetches client JWKS
	// (nil: a client with a 5 s timeout). It only ever reaches loopback URLs.
	HTTPClient *http.Client `yaml:"-"`
	// SigningRSAKey, when set in code, is used instead of SigningKey (tests).
	SigningRSAKey *rsa.PrivateKey `yaml:"-"`
}

// ClientConfig registers one relying party with one profile.
type ClientConfig struct {
	// ID is the client_id.
	ID string `yaml:"id"`
	// Profile is the profile the client is registered with.
	Profile Profile `yaml:"profile"`
	// AuthMethod is the token endpoint authentication: client_secret_basic,
	// client_secret_post, private_key_jwt or none (public client, PKCE only).
	// Each profile accepts only what the real provider does: fas
	// client_secret_basic; itsme private_key_jwt or client_secret_post; acm
	// client_secret_basic, client_secret_post or private_key_jwt.
	AuthMethod string `yaml:"auth_method"`
	// Secret is the client secret for client_secret_* methods.
	Secret config.Secret `yaml:"secret"`
	// JWKS is the client's public JWK set (JSON text): a "use":"sig" key for
	// private_key_jwt and a "use":"enc" RSA key the itsme profile encrypts
	// ID tokens and userinfo to. In code, set Keys instead.
	JWKS string `yaml:"jwks"`
	// JWKSURI is fetched (loopback only, cached 1 min) when JWKS is empty.
	JWKSURI string `yaml:"jwks_uri"`
	// RedirectURIs are matched exactly.
	RedirectURIs []string `yaml:"redirect_uris"`
	// PostLogoutRedirectURIs are matched exactly at the end-session endpoint.
	PostLogoutRedirectURIs []string `yaml:"post_logout_redirect_uris"`
	// BackchannelLogoutURI receives logout tokens (OIDC Back-Channel Logout
	// 1.0) for sessions in which the client obtained tokens.
	BackchannelLogoutURI string `yaml:"backchannel_logout_uri"`
	// UserinfoSigned makes the fas profile answer userinfo as a signed JWT
	// (application/jwt), as FAS may. itsme always signs and encrypts.
	UserinfoSigned bool `yaml:"userinfo_signed"`

	// Keys, when set in code, replaces JWKS/JWKSURI.
	Keys *jose.JSONWebKeySet `yaml:"-"`
}

const (
	defaultMaxAuthRequests = 10000
	defaultMaxSessions     = 10000
	defaultSessionLifetime = 12 * time.Hour
	maxJWKSBytes           = 64 << 10
)

// ParseConfig decodes YAML strictly (unknown keys are errors) and validates.
func ParseConfig(b []byte) (Config, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return Config{}, fmt.Errorf("devidp: config: %w", err)
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Validate returns every problem of the configuration at once, each
// starting with the yaml key it is about.
func (c *Config) Validate() error {
	var errs []error
	if err := c.Log.Validate(); err != nil {
		for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
			errs = append(errs, fmt.Errorf("log.%w", e))
		}
	}
	if c.Listen != "" {
		if err := checkLoopbackHostPort(c.Listen); err != nil {
			errs = append(errs, fmt.Errorf("listen: %w", err))
		}
	}
	if c.IssuerBase == "" {
		errs = append(errs, errors.New(`issuer_base: required, e.g. "http://127.0.0.1:8081"`))
	} else if err := checkLoopbackURL(c.IssuerBase, false); err != nil {
		errs = append(errs, fmt.Errorf("issuer_base: %w", err))
	} else if u, _ := url.Parse(c.IssuerBase); u.Path != "" && u.Path != "/" {
		errs = append(errs, errors.New("issuer_base: must have no path (profiles add /fas/oauth2, /itsme/v2, /acm/op)"))
	}
	if !c.SigningKey.IsZero() {
		if _, err := parseRSAKey(c.SigningKey.Bytes()); err != nil {
			errs = append(errs, fmt.Errorf("signing_key: %w", err))
		}
	}
	for i, p := range c.Profiles {
		if !p.Valid() {
			errs = append(errs, fmt.Errorf("profiles[%d]: unknown profile %q (fas, itsme or acm)", i, p))
		}
	}
	if c.MaxAuthRequests < 0 || c.MaxAuthRequests > 1_000_000 {
		errs = append(errs, errors.New("max_auth_requests: must be between 0 (default) and 1000000"))
	}
	if c.MaxSessions < 0 || c.MaxSessions > 1_000_000 {
		errs = append(errs, errors.New("max_sessions: must be between 0 (default) and 1000000"))
	}
	if c.SessionLifetime < 0 || c.SessionLifetime > 7*24*time.Hour {
		errs = append(errs, errors.New("session_lifetime: must be between 0 (default 12h) and 168h"))
	}
	seen := map[string]bool{}
	for i, cl := range c.Clients {
		if seen[cl.ID] && cl.ID != "" {
			errs = append(errs, fmt.Errorf("clients[%d].id: duplicate client id %q", i, cl.ID))
		}
		seen[cl.ID] = true
		if err := cl.Validate(); err != nil {
			errs = append(errs, prefixErrors(fmt.Sprintf("clients[%d].", i), err))
		}
		if cl.Profile.Valid() && len(c.Profiles) > 0 && !slices.Contains(c.Profiles, cl.Profile) {
			errs = append(errs, fmt.Errorf("clients[%d].profile: profile %q is not enabled in profiles", i, cl.Profile))
		}
	}
	return errors.Join(errs...)
}

// Validate returns every problem of one client registration, each starting
// with its yaml key.
func (c *ClientConfig) Validate() error {
	var errs []error
	if c.ID == "" || len(c.ID) > 200 || strings.ContainsAny(c.ID, " \t\r\n:") {
		errs = append(errs, errors.New("id: required, at most 200 characters, no spaces or colons"))
	}
	spec, ok := profileSpecs[c.Profile]
	if !ok {
		errs = append(errs, fmt.Errorf("profile: unknown profile %q (fas, itsme or acm)", c.Profile))
	}
	method := oidc.AuthMethod(c.AuthMethod)
	switch method {
	case oidc.AuthMethodBasic, oidc.AuthMethodPost:
		if c.Secret.IsZero() {
			errs = append(errs, fmt.Errorf("secret: required for %s", method))
		}
	case oidc.AuthMethodPrivateKeyJWT:
		if c.Keys == nil && c.JWKS == "" && c.JWKSURI == "" {
			errs = append(errs, errors.New("jwks: a public JWK set (or jwks_uri) is required for private_key_jwt"))
		}
	case oidc.AuthMethodNone:
	default:
		errs = append(errs, fmt.Errorf("auth_method: %q is not one of client_secret_basic, client_secret_post, private_key_jwt, none", c.AuthMethod))
	}
	if ok && method != oidc.AuthMethodNone && !slices.Contains(spec.authMethods, method) {
		errs = append(errs, fmt.Errorf("auth_method: profile %s accepts only %v", c.Profile, spec.authMethods))
	}
	if ok && spec.encryptTokens && method == oidc.AuthMethodNone {
		errs = append(errs, fmt.Errorf("auth_method: profile %s encrypts ID tokens to a client key or secret: none is not possible", c.Profile))
	}
	if c.JWKS != "" {
		if len(c.JWKS) > maxJWKSBytes {
			errs = append(errs, errors.New("jwks: too large"))
		} else {
			var ks jose.JSONWebKeySet
			if err := json.Unmarshal([]byte(c.JWKS), &ks); err != nil {
				errs = append(errs, fmt.Errorf("jwks: not a JWK set: %w", err))
			} else if err := checkClientKeys(&ks); err != nil {
				errs = append(errs, fmt.Errorf("jwks: %w", err))
			}
		}
	} else if c.Keys != nil {
		if err := checkClientKeys(c.Keys); err != nil {
			errs = append(errs, fmt.Errorf("keys: %w", err))
		}
	} else if c.JWKSURI != "" {
		if err := checkLoopbackURL(c.JWKSURI, true); err != nil {
			errs = append(errs, fmt.Errorf("jwks_uri: %w", err))
		}
	}
	if len(c.RedirectURIs) == 0 {
		errs = append(errs, errors.New("redirect_uris: at least one is required"))
	}
	for i, u := range c.RedirectURIs {
		if err := checkLoopbackURL(u, true); err != nil {
			errs = append(errs, fmt.Errorf("redirect_uris[%d]: %w", i, err))
		}
	}
	for i, u := range c.PostLogoutRedirectURIs {
		if err := checkLoopbackURL(u, true); err != nil {
			errs = append(errs, fmt.Errorf("post_logout_redirect_uris[%d]: %w", i, err))
		}
	}
	if c.BackchannelLogoutURI != "" {
		if err := checkLoopbackURL(c.BackchannelLogoutURI, true); err != nil {
			errs = append(errs, fmt.Errorf("backchannel_logout_uri: %w", err))
		}
	}
	if c.UserinfoSigned && c.Profile != ProfileFAS {
		errs = append(errs, errors.New("userinfo_signed: only for the fas profile (itsme always signs and encrypts)"))
	}
	return errors.Join(errs...)
}

// checkClientKeys requires public keys only and at most one enc key choice
// that is RSA.
func checkClientKeys(ks *jose.JSONWebKeySet) error {
	if len(ks.Keys) == 0 || len(ks.Keys) > 20 {
		return errors.New("must hold 1 to 20 keys")
	}
	for i, k := range ks.Keys {
		if !k.IsPublic() {
			return fmt.Errorf("key %d is a private key: register the public key only", i)
		}
		if k.Use == "enc" {
			if _, ok := k.Key.(*rsa.PublicKey); !ok {
				return fmt.Errorf("key %d: the enc key must be RSA (RSA-OAEP-256)", i)
			}
		}
	}
	return nil
}

func prefixErrors(prefix string, err error) error {
	var parts []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			parts = append(parts, errors.New(prefix+e.Error()))
		}
		return errors.Join(parts...)
	}
	return errors.New(prefix + err.Error())
}

// checkLoopbackURL accepts http(s) URLs whose host is a loopback IP or
// "localhost". withPath allows a path and query (not a fragment).
func checkLoopbackURL(s string, withPath bool) error {
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("not a URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return errors.New("must be an http or https URL")
	}
	if u.User != nil || u.Fragment != "" {
		return errors.New("must have no user info and no fragment")
	}
	if !withPath && (u.RawQuery != "") {
		return errors.New("must have no query")
	}
	if !isLoopbackHost(u.Hostname()) {
		return errors.New("the dev IdP is loopback only: host must be 127.0.0.1, [::1] or localhost")
	}
	return nil
}

func checkLoopbackHostPort(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil || port == "" {
		return errors.New(`must be host:port, e.g. "127.0.0.1:8081"`)
	}
	if !isLoopbackHost(host) {
		return errors.New("the dev IdP listens on loopback only: use 127.0.0.1, [::1] or localhost")
	}
	return nil
}

func isLoopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
