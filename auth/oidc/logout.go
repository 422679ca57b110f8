package oidc

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// backchannelEvent is the event member name of a logout token.
const backchannelEvent = "http://schemas.openid.net/event/backchannel-logout"

// Bounds for logout tokens.
const (
	maxLogoutToken = 16 << 10
	// maxLogoutAge is how old (by iat) a logout token may be; it also bounds
	// how long a jti is remembered.
	maxLogoutAge = 10 * time.Minute
)

// LogoutClaims are the validated claims of a back-channel logout token:
// end the sessions with this SID at this issuer, or, when SID is empty, all
// sessions of Subject at this issuer.
type LogoutClaims struct {
	Issuer  string
	Subject string
	SID     string
	JTI     string
}

type logoutJSON struct {
	Subject string                     `json:"sub"`
	SID     string                     `json:"sid"`
	JTI     string                     `json:"jti"`
	IAT     *float64                   `json:"iat"`
	EXP     *float64                   `json:"exp"`
	Events  map[string]json.RawMessage `json:"events"`
	Nonce   json.RawMessage            `json:"nonce"`
}

func invalidLogout(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrLogoutTokenInvalid, fmt.Sprintf(format, a...))
}

// ValidateLogoutToken validates a back-channel logout token per OIDC
// Back-Channel Logout 1.0 §2.6: signature with the provider's keys and the
// algorithm allow-list, iss exact, aud contains our client_id, iat present
// and recent, exp (when present) not passed, typ "logout+jwt" or "JWT" when present,
// events containing the back-channel-logout member as a JSON object, sub
// and/or sid, no nonce, and a jti not seen before (replay cache).
//
// Rejections wrap ErrLogoutTokenInvalid (answer 400). Other errors (not
// ready, replay cache down) are local failures (answer 5xx).
func (p *Provider) ValidateLogoutToken(ctx context.Context, raw string) (*LogoutClaims, error) {
	m, err := p.metadata()
	if err != nil {
		return nil, err
	}
	if raw == "" || len(raw) > maxLogoutToken {
		return nil, invalidLogout("missing or too large")
	}
	if strings.Count(raw, ".") != 2 {
		return nil, invalidLogout("not a signed JWT (encrypted logout tokens are not supported)")
	}
	algs := make([]jose.SignatureAlgorithm, len(p.algs))
	for i, a := range p.algs {
		algs[i] = jose.SignatureAlgorithm(a)
	}
	jws, err := jose.ParseSigned(raw, algs)
	if err != nil {
		return nil, invalidLogout("malformed or algorithm not allowed: %v", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, invalidLogout("exactly one signature required")
	}
	// Explicit typing (§2.4) is a SHOULD for the OP and not part of the
	// RP's validation (§2.6): Ory Hydra, an OpenID Certified OP, sends
	// "JWT". A token typed as something else (an access token, ...) is
	// refused; what tells a logout token from an ID token is the events
	// claim and the absence of a nonce, checked below.
	if typ, ok := jws.Signatures[0].Protected.ExtraHeaders[jose.HeaderType]; ok {
		s, _ := typ.(string)
		if !strings.EqualFold(s, "logout+jwt") && !strings.EqualFold(s, "application/logout+jwt") && !strings.EqualFold(s, "JWT") {
			return nil, invalidLogout("typ %.32q is neither logout+jwt nor JWT", s)
		}
	}
	// Signature, alg allow-list, iss and aud by go-oidc; exp is optional here.
	t, err := m.logoutVerifier.Verify(ctx, raw)
	if err != nil {
		return nil, invalidLogout("%v", err)
	}
	var c logoutJSON
	if err := t.Claims(&c); err != nil {
		return nil, invalidLogout("claims: %v", err)
	}
	now := p.now()
	if c.IAT == nil {
		return nil, invalidLogout("iat missing")
	}
	iat := time.Unix(int64(*c.IAT), 0)
	if iat.After(now.Add(p.skew)) {
		return nil, invalidLogout("iat in the future")
	}
	if now.Sub(iat) > maxLogoutAge {
		return nil, invalidLogout("iat too old")
	}
	if c.EXP != nil && !now.Before(time.Unix(int64(*c.EXP), 0)) {
		return nil, invalidLogout("expired")
	}
	ev, ok := c.Events[backchannelEvent]
	if !ok {
		return nil, invalidLogout("events lacks %s", backchannelEvent)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(ev, &obj); err != nil || obj == nil {
		return nil, invalidLogout("the back-channel logout event must be a JSON object")
	}
	if len(c.Nonce) > 0 {
		return nil, invalidLogout("nonce present (an ID token is not a logout token)")
	}
	if c.Subject == "" && c.SID == "" {
		return nil, invalidLogout("neither sub nor sid")
	}
	if c.JTI == "" || len(c.JTI) > 256 {
		return nil, invalidLogout("jti missing or too long")
	}
	if c.Subject != "" {
		if err := checkSubject(c.Subject); err != nil {
			return nil, invalidLogout("%v", err)
		}
	}
	if len(c.SID) > 256 {
		return nil, invalidLogout("sid too long")
	}
	h := sha256.Sum256([]byte(m.issuer + "\x00" + c.JTI))
	fresh, err := p.replay.Add(ctx, hex.EncodeToString(h[:]), maxLogoutAge+2*p.skew)
	if err != nil {
		return nil, fmt.Errorf("oidc: logout token replay cache: %w", err)
	}
	if !fresh {
		return nil, fmt.Errorf("%w: %w", ErrLogoutTokenInvalid, ErrLogoutTokenReplayed)
	}
	return &LogoutClaims{Issuer: t.Issuer, Subject: c.Subject, SID: c.SID, JTI: c.JTI}, nil
}

// LogoutURL builds the RP-initiated logout URL (RP-Initiated Logout 1.0):
// the end_session_endpoint with id_token_hint, client_id,
// post_logout_redirect_uri (the configured one when empty) and state. It
// returns ErrNoEndSession when the provider has none (itsme): the gateway
// then only ends its own session.
func (p *Provider) LogoutURL(idTokenHint, postLogoutRedirect, state string) (string, error) {
	m, err := p.metadata()
	if err != nil {
		return "", err
	}
	if m.endSessionURL == "" {
		return "", ErrNoEndSession
	}
	u, err := url.Parse(m.endSessionURL)
	if err != nil {
		return "", fmt.Errorf("oidc: end_session_endpoint: %w", err)
	}
	if len(idTokenHint) > maxIDToken || len(state) > 512 {
		return "", errors.New("oidc: logout parameters too long")
	}
	if postLogoutRedirect == "" {
		postLogoutRedirect = p.cfg.PostLogoutRedirectURL
	}
	q := u.Query()
	if idTokenHint != "" {
		q.Set("id_token_hint", idTokenHint)
	}
	q.Set("client_id", p.cfg.ClientID)
	if postLogoutRedirect != "" {
		if err := checkURL(postLogoutRedirect, true); err != nil {
			return "", fmt.Errorf("oidc: post_logout_redirect_uri: %w", err)
		}
		q.Set("post_logout_redirect_uri", postLogoutRedirect)
	}
	if state != "" {
		q.Set("state", state)
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}
