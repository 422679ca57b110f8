package demoapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// AssertionVerifier is what a vendor's app does with the gateway's signed
// identity assertion (docs/vendors.md): verify the signature against the
// gateway's JWKS, then iss, aud, exp and nbf, and take sub as the legacy
// account id. The key set is cached and refetched (at most every 10 s) when
// an unknown key id shows up, so the gateway can rotate keys.
type AssertionVerifier struct {
	// JWKSURL is <gateway>/.well-known/overstap/jwks.json.
	JWKSURL string
	// Issuer and Audience must equal the assertion's iss and aud.
	Issuer, Audience string
	// Header carries the assertion (X-Overstap-Assertion).
	Header string
	// Client fetches the JWKS; nil means a client with a 5 s timeout.
	Client *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu      sync.Mutex
	keys    jose.JSONWebKeySet
	fetched time.Time
}

// Identity implements IdentityFunc.
func (v *AssertionVerifier) Identity(r *http.Request) (string, bool, error) {
	vals := r.Header.Values(v.Header)
	switch len(vals) {
	case 0:
		return "", false, nil
	case 1:
	default:
		return "", true, errors.New("demoapp: more than one assertion header")
	}
	acc, err := v.verify(r.Context(), vals[0])
	return acc, true, err
}

func (v *AssertionVerifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func (v *AssertionVerifier) verify(ctx context.Context, raw string) (string, error) {
	if len(raw) > 8<<10 {
		return "", errors.New("demoapp: assertion too large")
	}
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.ES256, jose.RS256})
	if err != nil {
		return "", fmt.Errorf("demoapp: assertion: %w", err)
	}
	if len(tok.Headers) != 1 {
		return "", errors.New("demoapp: assertion must have one signature")
	}
	key, err := v.key(ctx, tok.Headers[0].KeyID)
	if err != nil {
		return "", err
	}
	var c jwt.Claims
	if err := tok.Claims(key.Key, &c); err != nil {
		return "", fmt.Errorf("demoapp: assertion signature: %w", err)
	}
	now := v.now()
	if err := c.ValidateWithLeeway(jwt.Expected{Issuer: v.Issuer, AnyAudience: jwt.Audience{v.Audience}, Time: now}, 5*time.Second); err != nil {
		return "", fmt.Errorf("demoapp: assertion claims: %w", err)
	}
	if c.Expiry == nil || c.Expiry.Time().Sub(now) > 65*time.Second || c.Subject == "" {
		return "", errors.New("demoapp: assertion lifetime or subject invalid")
	}
	return c.Subject, nil
}

func (v *AssertionVerifier) key(ctx context.Context, kid string) (jose.JSONWebKey, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if ks := v.keys.Key(kid); len(ks) == 1 {
		return ks[0], nil
	}
	if time.Since(v.fetched) < 10*time.Second && len(v.keys.Keys) > 0 {
		return jose.JSONWebKey{}, errors.New("demoapp: unknown assertion key id")
	}
	c := v.Client
	if c == nil {
		c = &http.Client{Timeout: 5 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.JWKSURL, nil)
	if err != nil {
		return jose.JSONWebKey{}, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return jose.JSONWebKey{}, fmt.Errorf("demoapp: fetching JWKS: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil || resp.StatusCode != http.StatusOK {
		return jose.JSONWebKey{}, fmt.Errorf("demoapp: fetching JWKS: status %d", resp.StatusCode)
	}
	var ks jose.JSONWebKeySet
	if err := json.Unmarshal(body, &ks); err != nil {
		return jose.JSONWebKey{}, fmt.Errorf("demoapp: JWKS: %w", err)
	}
	v.keys, v.fetched = ks, time.Now()
	if found := ks.Key(kid); len(found) == 1 {
		return found[0], nil
	}
	return jose.JSONWebKey{}, errors.New("demoapp: unknown assertion key id")
}
