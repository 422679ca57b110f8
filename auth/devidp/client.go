package devidp

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// registeredClient is a validated ClientConfig.
type registeredClient struct {
	cfg    ClientConfig
	method oidc.AuthMethod
	keys   *jose.JSONWebKeySet // nil when fetched from cfg.JWKSURI
	secret []byte              // cfg.Secret, read once
}

func newRegisteredClient(cfg ClientConfig) (*registeredClient, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("devidp: client %q: %w", cfg.ID, err)
	}
	rc := &registeredClient{cfg: cfg, method: oidc.AuthMethod(cfg.AuthMethod), secret: cfg.Secret.Bytes()}
	rc.cfg.RedirectURIs = slices.Clone(cfg.RedirectURIs)
	rc.cfg.PostLogoutRedirectURIs = slices.Clone(cfg.PostLogoutRedirectURIs)
	switch {
	case cfg.Keys != nil:
		ks := *cfg.Keys
		ks.Keys = slices.Clone(cfg.Keys.Keys)
		rc.keys = &ks
	case cfg.JWKS != "":
		var ks jose.JSONWebKeySet
		if err := json.Unmarshal([]byte(cfg.JWKS), &ks); err != nil {
			return nil, fmt.Errorf("devidp: client %q: jwks: %w", cfg.ID, err)
		}
		rc.keys = &ks
	}
	return rc, nil
}

// keySet returns the client's public keys.
func (s *Server) clientKeys(ctx context.Context, rc *registeredClient) (*jose.JSONWebKeySet, error) {
	if rc.keys != nil {
		return rc.keys, nil
	}
	if rc.cfg.JWKSURI == "" {
		return nil, errors.New("devidp: client has no keys")
	}
	return s.keyCache.get(ctx, rc.cfg.JWKSURI)
}

func pickKey(ks *jose.JSONWebKeySet, use, kid string) (*jose.JSONWebKey, bool) {
	var found *jose.JSONWebKey
	n := 0
	for i := range ks.Keys {
		k := &ks.Keys[i]
		if k.Use != use && !(use == "sig" && k.Use == "") {
			continue
		}
		if kid != "" && k.KeyID == kid {
			return k, true
		}
		found = k
		n++
	}
	// Without a kid, only an unambiguous key is chosen.
	if kid == "" && n == 1 {
		return found, true
	}
	return nil, false
}

func (rc *registeredClient) checkSecret(secret string) bool {
	want := rc.secret
	if len(want) == 0 {
		return false
	}
	return subtle.ConstantTimeCompare(want, []byte(secret)) == 1
}

// opClient is the op.Client view of a registered client within one profile.
type opClient struct {
	rc     *registeredClient
	spec   *profileSpec
	issuer string
}

var _ op.Client = (*opClient)(nil)

func (c *opClient) GetID() string                       { return c.rc.cfg.ID }
func (c *opClient) RedirectURIs() []string              { return c.rc.cfg.RedirectURIs }
func (c *opClient) PostLogoutRedirectURIs() []string    { return c.rc.cfg.PostLogoutRedirectURIs }
func (c *opClient) ApplicationType() op.ApplicationType { return op.ApplicationTypeWeb }
func (c *opClient) AuthMethod() oidc.AuthMethod         { return c.rc.method }
func (c *opClient) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c *opClient) GrantTypes() []oidc.GrantType { return []oidc.GrantType{oidc.GrantTypeCode} }
func (c *opClient) LoginURL(id string) string {
	return c.issuer + "/login?id=" + url.QueryEscape(id)
}
func (c *opClient) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeBearer }
func (c *opClient) IDTokenLifetime() time.Duration      { return c.spec.idTokenTTL }

// DevMode is false: redirect URIs are matched exactly (http is allowed by
// the library for confidential code-flow clients; ours are loopback only).
func (c *opClient) DevMode() bool { return false }
func (c *opClient) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *opClient) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *opClient) IsScopeAllowed(scope string) bool {
	if slices.Contains(c.spec.scopes, scope) {
		return true
	}
	// itsme service codes: "service:<CODE>".
	return c.spec.name == ProfileITSME && strings.HasPrefix(scope, "service:") && len(scope) < 100
}
func (c *opClient) IDTokenUserinfoClaimsAssertion() bool { return false }
func (c *opClient) ClockSkew() time.Duration             { return 0 }
