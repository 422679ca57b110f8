package oidc

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
)

var (
	jweKeyAlgs = []jose.KeyAlgorithm{jose.RSA_OAEP_256, jose.DIRECT}
	jweEncs    = []jose.ContentEncryption{jose.A256GCM, jose.A128GCM, jose.A128CBC_HS256, jose.A256CBC_HS512}
)

// unwrapJWE returns the inner JWS of a JWE (RSA-OAEP-256 with our
// encryption key, or dir with the key derived from the client secret), or
// the token itself when it is a plain JWS and encryption is not required.
func (p *Provider) unwrapJWE(raw string, required bool) (string, error) {
	switch strings.Count(raw, ".") {
	case 2:
		if required {
			return "", errors.New("expected an encrypted token (JWE), got a signed-only one")
		}
		return raw, nil
	case 4:
	default:
		return "", errors.New("malformed token")
	}
	jwe, err := jose.ParseEncrypted(raw, jweKeyAlgs, jweEncs)
	if err != nil {
		return "", fmt.Errorf("malformed JWE: %w", err)
	}
	var key any
	switch jose.KeyAlgorithm(jwe.Header.Algorithm) {
	case jose.RSA_OAEP_256:
		if p.encKey == nil {
			return "", errors.New("JWE with RSA-OAEP-256 but no encryption_key configured")
		}
		key = p.encKey
	case jose.DIRECT:
		if p.dirKey == nil {
			return "", errors.New("JWE with dir but no client_secret configured")
		}
		key = p.dirKey
	default:
		return "", fmt.Errorf("JWE key algorithm %q not accepted", jwe.Header.Algorithm)
	}
	plain, err := jwe.Decrypt(key)
	if err != nil {
		return "", errors.New("JWE does not decrypt with our key")
	}
	inner := string(plain)
	if strings.Count(inner, ".") != 2 {
		return "", errors.New("JWE payload is not a signed JWT (nested JWT required)")
	}
	return inner, nil
}

// clientAssertion builds the private_key_jwt assertion (RFC 7523): iss =
// sub = client_id, aud = the token endpoint, a fresh jti, 60 s lifetime.
func (p *Provider) clientAssertion(tokenURL string) (string, error) {
	now := p.now()
	claims := map[string]any{
		"iss": p.cfg.ClientID, "sub": p.cfg.ClientID, "aud": tokenURL,
		"jti": rand.Text(), "iat": now.Unix(), "exp": now.Add(60 * time.Second).Unix(),
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("oidc: client assertion: %w", err)
	}
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: p.signAlg, Key: jose.JSONWebKey{Key: p.signer, KeyID: p.cfg.PrivateKeyID}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", fmt.Errorf("oidc: client assertion: %w", err)
	}
	obj, err := sig.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("oidc: client assertion: %w", err)
	}
	return obj.CompactSerialize()
}

// userinfo calls the userinfo endpoint and returns its claims. It accepts
// application/json and application/jwt (signed, optionally encrypted); sub
// must equal the ID token's (OIDC Core §5.3.4).
func (p *Provider) userinfo(ctx context.Context, m *metadata, accessToken, sub string) (map[string]json.RawMessage, error) {
	if m.userinfoURL == "" {
		return nil, cbErr(p, KindIdPError, "", errors.New("no userinfo endpoint"))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.userinfoURL, nil)
	if err != nil {
		return nil, cbErr(p, KindInternal, "", err)
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	req.Header.Set("Accept", "application/json, application/jwt")
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, cbErr(p, KindIdPUnavailable, "", fmt.Errorf("userinfo: %w", err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxUserinfoBody+1))
	if err != nil {
		return nil, cbErr(p, KindIdPUnavailable, "", fmt.Errorf("userinfo: %w", err))
	}
	if resp.StatusCode >= 500 {
		return nil, cbErr(p, KindIdPUnavailable, "", fmt.Errorf("userinfo: HTTP %d", resp.StatusCode))
	}
	if resp.StatusCode != http.StatusOK {
		return nil, cbErr(p, KindIdPError, "", fmt.Errorf("userinfo: HTTP %d", resp.StatusCode))
	}
	if len(body) > maxUserinfoBody {
		return nil, cbErr(p, KindTokenInvalid, "", errors.New("userinfo: response too large"))
	}
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	var claims map[string]json.RawMessage
	switch ct {
	case "application/json":
		if err := json.Unmarshal(body, &claims); err != nil {
			return nil, cbErr(p, KindTokenInvalid, "", errors.New("userinfo: malformed JSON"))
		}
	case "application/jwt":
		claims, err = p.userinfoJWT(ctx, m, strings.TrimSpace(string(body)))
		if err != nil {
			return nil, cbErr(p, KindTokenInvalid, "", fmt.Errorf("userinfo: %w", err))
		}
	default:
		return nil, cbErr(p, KindTokenInvalid, "", fmt.Errorf("userinfo: unexpected content type %.64q", ct))
	}
	var got string
	if raw, ok := claims["sub"]; !ok || json.Unmarshal(raw, &got) != nil || got != sub {
		return nil, cbErr(p, KindTokenInvalid, "", errors.New("userinfo: sub differs from the ID token's"))
	}
	return claims, nil
}

func (p *Provider) userinfoJWT(ctx context.Context, m *metadata, raw string) (map[string]json.RawMessage, error) {
	jws, err := p.unwrapJWE(raw, false)
	if err != nil {
		return nil, err
	}
	v := oidc.NewVerifier(m.issuer, m.keys, &oidc.Config{
		SkipClientIDCheck: true, SkipExpiryCheck: true, SkipIssuerCheck: true,
		SupportedSigningAlgs: p.algs, Now: p.now,
	})
	t, err := v.Verify(ctx, jws)
	if err != nil {
		return nil, err
	}
	// OIDC Core §5.3.2: iss and aud, when present, must be the OP and us.
	if t.Issuer != "" && t.Issuer != m.issuer {
		return nil, errors.New("iss is not this provider")
	}
	if len(t.Audience) > 0 && !slices.Contains(t.Audience, p.cfg.ClientID) {
		return nil, errors.New("aud does not include our client_id")
	}
	var claims map[string]json.RawMessage
	if err := t.Claims(&claims); err != nil {
		return nil, err
	}
	return claims, nil
}
