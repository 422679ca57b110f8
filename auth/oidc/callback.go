package oidc

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/overstap/overstap/auth/identity"
	"github.com/overstap/overstap/auth/nrn"
	"golang.org/x/oauth2"
)

// Login is the outcome of a successful login: the identity it proved
// (produced here, once, and consumed unchanged downstream) plus what only
// the relying party's caller needs.
type Login struct {
	// Identity is what the login proved. Its NRN is zero when the login
	// allowed none (LoginOptions.AllowNoNRN); its Level is the eIDAS level
	// the provider's level table maps the reached level to (a generic
	// provider without a table: low); its Name is the display name (the
	// name claim, else given and family name, cleaned: citizenName).
	identity.Identity
	// Rank is the 1-based rank of the level reached in the provider's
	// level table (0: none asserted), and LevelName that level's canonical
	// name: provider-specific, for logs and tests only.
	Rank       int
	LevelName  string
	GivenName  string
	FamilyName string
	Locale     string
	// IDToken is the raw signed ID token (the inner JWS when it came
	// encrypted), for id_token_hint at logout. It may contain the NRN: keep
	// it only in encrypted storage.
	IDToken string
	// ReturnTo is the local path the login was started for.
	ReturnTo string
}

// Input bounds.
const (
	maxQuery        = 8 << 10
	maxCode         = 2048
	maxIDToken      = 64 << 10
	maxErrorField   = 256
	maxUserinfoBody = 64 << 10
)

// Callback completes a login on the redirect URL: it consumes the state
// (single use), checks the browser binding and the RFC 9207 iss parameter,
// turns IdP error responses into a typed outcome, exchanges the code with
// the PKCE verifier, decrypts and verifies the ID token, checks level,
// max_age and nonce, and extracts the national number. Every failure is a
// *CallbackError.
func (p *Provider) Callback(w http.ResponseWriter, r *http.Request) (*Login, error) {
	// The callback URL carries a code: never cache the answer.
	w.Header().Set("Cache-Control", "no-store")
	id, err := p.callback(r)
	if err != nil {
		var ce *CallbackError
		if !errors.As(err, &ce) {
			ce = cbErr(p, KindInternal, "", err)
		}
		p.log.LogAttrs(r.Context(), levelFor(ce.Kind), "oidc: login failed", slogKind(ce.Kind), slogErr(ce.Err))
		return nil, ce
	}
	p.log.Info("oidc: login", "level", id.LevelName, "has_nrn", !id.NRN.IsZero())
	return id, nil
}

func (p *Provider) callback(r *http.Request) (*Login, error) {
	if r.Method != http.MethodGet {
		return nil, cbErr(p, KindBadRequest, "", errors.New("callback must be GET"))
	}
	if len(r.URL.RawQuery) > maxQuery {
		return nil, cbErr(p, KindBadRequest, "", errors.New("query too long"))
	}
	q := r.URL.Query()
	for k, v := range q {
		if len(v) != 1 {
			return nil, cbErr(p, KindBadRequest, "", fmt.Errorf("parameter %.32q repeated", k))
		}
	}
	state := q.Get("state")
	if !validToken(state, maxStateLen) {
		return nil, cbErr(p, KindStateInvalid, "", errors.New("state missing or malformed"))
	}
	key, k := flowKeys(state)
	blob, err := p.flows.Take(r.Context(), key)
	if errors.Is(err, ErrFlowNotFound) {
		return nil, cbErr(p, KindStateInvalid, "", errors.New("unknown, expired or reused state"))
	}
	if err != nil {
		return nil, cbErr(p, KindInternal, "", err)
	}
	fs, err := openFlow(key, k, blob)
	if err != nil {
		return nil, cbErr(p, KindStateInvalid, "", err)
	}
	rt := fs.ReturnTo
	if fs.Provider != p.name {
		return nil, cbErr(p, KindStateInvalid, "", fmt.Errorf("state belongs to provider %q", fs.Provider))
	}
	c, err := r.Cookie(p.cookieName())
	if err != nil || len(c.Value) > 64 ||
		subtle.ConstantTimeCompare([]byte(bindingHash(c.Value)), []byte(fs.Binding)) != 1 {
		return nil, cbErr(p, KindStateInvalid, "", errors.New("state not bound to this browser (pre-auth cookie missing or different)"))
	}
	if p.now().Unix()-fs.Created > int64(p.ttl/time.Second) {
		return nil, cbErr(p, KindStateInvalid, rt, errors.New("login flow expired"))
	}
	m, err := p.metadata()
	if err != nil {
		return nil, cbErr(p, KindIdPUnavailable, rt, err)
	}
	// RFC 9207: mix-up defence.
	if iss, ok := q["iss"]; ok {
		if iss[0] != m.issuer {
			return nil, cbErr(p, KindIssuerMismatch, rt, errors.New("iss parameter does not name this provider"))
		}
	} else if m.issParamSupported {
		return nil, cbErr(p, KindIssuerMismatch, rt, errors.New("iss parameter missing although the provider announces it"))
	}
	if e := q.Get("error"); e != "" {
		// error_description is IdP text that may echo input: not logged.
		return nil, idpError(p, rt, e)
	}
	code := q.Get("code")
	if !validToken(code, maxCode) {
		return nil, cbErr(p, KindBadRequest, rt, errors.New("code missing or malformed"))
	}
	ctx := context.WithValue(r.Context(), oauth2.HTTPClient, p.client)
	opts := []oauth2.AuthCodeOption{oauth2.VerifierOption(fs.Verifier)}
	if p.prof.ClientAuth == PrivateKeyJWT {
		a, err := p.clientAssertion(m.tokenURL)
		if err != nil {
			return nil, cbErr(p, KindInternal, rt, err)
		}
		opts = append(opts,
			oauth2.SetAuthURLParam("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
			oauth2.SetAuthURLParam("client_assertion", a))
	}
	tok, err := p.oauth2Config(m).Exchange(ctx, code, opts...)
	if err != nil {
		return nil, exchangeError(p, rt, err)
	}
	return p.finish(ctx, m, fs, tok)
}

// finish verifies the token response. It is split from callback so the
// benchmark can measure it without the network.
func (p *Provider) finish(ctx context.Context, m *metadata, fs *flowState, tok *oauth2.Token) (*Login, error) {
	rt := fs.ReturnTo
	rawID, _ := tok.Extra("id_token").(string)
	if rawID == "" || len(rawID) > maxIDToken {
		return nil, cbErr(p, KindTokenInvalid, rt, errors.New("token response has no usable id_token"))
	}
	jws, err := p.unwrapJWE(rawID, p.prof.IDTokenEncrypted)
	if err != nil {
		return nil, cbErr(p, KindTokenInvalid, rt, fmt.Errorf("id_token: %w", err))
	}
	idt, err := m.verifier.Verify(ctx, jws)
	if err != nil {
		return nil, cbErr(p, KindTokenInvalid, rt, fmt.Errorf("id_token: %w", err))
	}
	var cl idClaims
	if err := idt.Claims(&cl); err != nil {
		return nil, cbErr(p, KindTokenInvalid, rt, fmt.Errorf("id_token claims: %w", err))
	}
	if err := checkSubject(idt.Subject); err != nil {
		return nil, cbErr(p, KindTokenInvalid, rt, fmt.Errorf("id_token: %w", err))
	}
	if err := p.checkIDClaims(fs, idt.Audience, &cl); err != nil {
		return nil, cbErr(p, KindTokenInvalid, rt, err)
	}
	if cl.AtHash != "" && tok.AccessToken != "" {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			return nil, cbErr(p, KindTokenInvalid, rt, fmt.Errorf("at_hash: %w", err))
		}
	}
	var ui map[string]json.RawMessage
	if p.prof.FetchUserinfo {
		ui, err = p.userinfo(ctx, m, tok.AccessToken, idt.Subject)
		if err != nil {
			var ce *CallbackError
			if errors.As(err, &ce) {
				return nil, ce.withReturnTo(rt)
			}
			return nil, cbErr(p, KindIdPError, rt, err)
		}
	}

	id := &Login{
		Identity: identity.Identity{Provider: p.name, Issuer: idt.Issuer, Subject: idt.Subject, SID: cl.SID,
			ACR: cl.ACR.s, AMR: cl.AMR},
		IDToken: jws, ReturnTo: rt,
	}
	if cl.AuthTime != nil {
		id.AuthTime = time.Unix(int64(*cl.AuthTime), 0)
	}
	// Level (acr and/or amr per profile).
	idx := p.prof.reached(cl.ACR.s, cl.AMR)
	if idx >= 0 {
		lv := p.prof.Levels[idx]
		id.Rank, id.LevelName, id.Level = idx+1, lv.Name, lv.EIDAS
	} else if len(p.prof.Levels) == 0 {
		id.Level = p.prof.DefaultLevel // generic without a table: low
	}
	if id.Rank < fs.MinRank {
		return nil, cbErr(p, KindLevelTooLow, rt, fmt.Errorf("level reached %q (rank %d) below the required rank %d", id.LevelName, id.Rank, fs.MinRank))
	}
	if err := p.checkAuthTime(fs, cl.AuthTime); err != nil {
		return nil, cbErr(p, KindLevelTooLow, rt, err)
	}
	// National number.
	noNRNLevel := idx >= 0 && p.prof.Levels[idx].NoNRN
	if p.prof.NRNClaim != "" && !noNRNLevel {
		src := cl.all
		if p.prof.NRNFrom == FromUserinfo {
			src = ui
		}
		if raw, ok := src[p.prof.NRNClaim]; ok && string(raw) != "null" {
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return nil, cbErr(p, KindNRNInvalid, rt, errors.New("national number claim is not a string"))
			}
			n, err := nrn.Parse(s)
			if err != nil {
				return nil, cbErr(p, KindNRNInvalid, rt, errors.New("national number claim fails validation"))
			}
			id.NRN = n
		}
	}
	if id.NRN.IsZero() && !fs.AllowNoNRN && p.cfg.RequiresNRN() {
		why := "no national number claim"
		if noNRNLevel {
			why = "level " + id.LevelName + " never yields a national-number identity"
		}
		return nil, cbErr(p, KindNoNRN, rt, errors.New(why))
	}
	id.GivenName = claimString(cl.all, ui, p.prof.GivenNameClaim, maxClaim)
	id.FamilyName = claimString(cl.all, ui, p.prof.FamilyNameClaim, maxClaim)
	id.Locale = claimString(cl.all, ui, p.prof.LocaleClaim, maxClaim)
	id.Name = citizenName(cl.all, ui, &p.prof)
	return id, nil
}

func (e *CallbackError) withReturnTo(rt string) *CallbackError {
	e.ReturnTo = rt
	return e
}

// idClaims are the ID token claims checked beyond go-oidc.
type idClaims struct {
	Nonce    *string       `json:"nonce"`
	IAT      *float64      `json:"iat"`
	AuthTime *float64      `json:"auth_time"`
	AZP      string        `json:"azp"`
	SID      string        `json:"sid"`
	AtHash   string        `json:"at_hash"`
	ACR      lenientString `json:"acr"`
	AMR      stringList    `json:"amr"`
	all      map[string]json.RawMessage
}

func (c *idClaims) UnmarshalJSON(b []byte) error {
	type plain idClaims
	if err := json.Unmarshal(b, (*plain)(c)); err != nil {
		return err
	}
	return json.Unmarshal(b, &c.all)
}

// lenientString accepts a JSON string or number (FAS sent acr "0").
type lenientString struct{ s string }

func (l *lenientString) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		l.s = s
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return errors.New("acr is neither string nor number")
	}
	l.s = n.String()
	return nil
}

// stringList accepts a JSON array of strings or a single string.
type stringList []string

func (l *stringList) UnmarshalJSON(b []byte) error {
	var a []string
	if err := json.Unmarshal(b, &a); err == nil {
		*l = a
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.New("amr is neither a string array nor a string")
	}
	*l = []string{s}
	return nil
}

func (p *Provider) checkIDClaims(fs *flowState, aud []string, cl *idClaims) error {
	if cl.Nonce == nil {
		return errors.New("id_token: nonce missing")
	}
	if subtle.ConstantTimeCompare([]byte(*cl.Nonce), []byte(fs.Nonce)) != 1 {
		return errors.New("id_token: nonce mismatch")
	}
	if cl.IAT == nil {
		return errors.New("id_token: iat missing")
	}
	now := p.now()
	iat := time.Unix(int64(*cl.IAT), 0)
	if iat.After(now.Add(p.skew)) {
		return errors.New("id_token: iat in the future")
	}
	if iat.Before(time.Unix(fs.Created, 0).Add(-p.skew)) {
		return errors.New("id_token: issued before this login started")
	}
	// OIDC Core §3.1.3.7 points 4 and 5.
	if len(aud) > 1 && cl.AZP == "" {
		return errors.New("id_token: several audiences and no azp")
	}
	if cl.AZP != "" && cl.AZP != p.cfg.ClientID {
		return errors.New("id_token: azp is not our client_id")
	}
	return nil
}

// maxSubject is the longest sub OIDC Core §2 allows: "It MUST NOT exceed
// 255 ASCII characters in length."
const maxSubject = 255

// checkSubject enforces OIDC Core §2 on a sub claim: present, not empty, at
// most 255 ASCII characters. Control characters are refused too: the value
// ends up in logs, session records and account links.
func checkSubject(sub string) error {
	if sub == "" {
		return errors.New("sub missing or empty (OIDC Core §2)")
	}
	if len(sub) > maxSubject {
		return fmt.Errorf("sub longer than %d characters (OIDC Core §2)", maxSubject)
	}
	for i := 0; i < len(sub); i++ {
		if c := sub[i]; c < 0x20 || c >= 0x7f {
			return errors.New("sub holds a non-ASCII or control character (OIDC Core §2)")
		}
	}
	return nil
}

func (p *Provider) checkAuthTime(fs *flowState, at *float64) error {
	if fs.MaxAge == 0 && !fs.PromptLogin {
		return nil
	}
	if at == nil {
		return errors.New("auth_time missing although max_age or prompt=login was requested")
	}
	t := time.Unix(int64(*at), 0)
	now := p.now()
	if fs.MaxAge > 0 && now.Sub(t) > time.Duration(fs.MaxAge)*time.Second+p.skew {
		return fmt.Errorf("auth_time older than max_age %ds", fs.MaxAge)
	}
	if fs.PromptLogin && t.Before(time.Unix(fs.Created, 0).Add(-p.skew)) {
		return errors.New("prompt=login requested but auth_time predates the login request")
	}
	if t.After(now.Add(p.skew)) {
		return errors.New("auth_time in the future")
	}
	return nil
}

// maxClaim bounds the profile claims kept as they are (given and family
// name, locale).
const maxClaim = 256

// claimString returns the string claim name from the ID token's claims a,
// else userinfo's b: the first that is a string of at most max bytes, ""
// when there is none.
func claimString(a, b map[string]json.RawMessage, name string, max int) string {
	if name == "" {
		return ""
	}
	for _, m := range []map[string]json.RawMessage{a, b} {
		if raw, ok := m[name]; ok {
			var s string
			if json.Unmarshal(raw, &s) == nil && len(s) <= max {
				return s
			}
		}
	}
	return ""
}

func idpError(p *Provider, rt, code string) *CallbackError {
	if !validToken(code, maxErrorField) {
		code = "invalid"
	}
	k := KindIdPError
	switch code {
	case "access_denied":
		k = KindAccessDenied
	case "login_required", "consent_required", "interaction_required", "account_selection_required":
		k = KindLoginRequired
	case "temporarily_unavailable", "server_error":
		k = KindIdPUnavailable
	}
	return cbErr(p, k, rt, fmt.Errorf("identity provider answered error=%s", code))
}

func exchangeError(p *Provider, rt string, err error) *CallbackError {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		if re.Response != nil && re.Response.StatusCode >= 500 {
			return cbErr(p, KindIdPUnavailable, rt, fmt.Errorf("token endpoint: HTTP %d", re.Response.StatusCode))
		}
		switch re.ErrorCode {
		case "invalid_grant":
			return cbErr(p, KindCodeInvalid, rt, errors.New("token endpoint: invalid_grant (code expired, replayed or PKCE mismatch)"))
		case "":
			return cbErr(p, KindIdPError, rt, errors.New("token endpoint refused the exchange"))
		}
		return cbErr(p, KindIdPError, rt, fmt.Errorf("token endpoint: %.64s", re.ErrorCode))
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) {
		return cbErr(p, KindIdPUnavailable, rt, fmt.Errorf("token endpoint: %w", err))
	}
	return cbErr(p, KindIdPUnavailable, rt, fmt.Errorf("token endpoint: %w", err))
}

// citizenName is the display name a login asserts: the profile's name
// claim, else given and family name, from the ID token (a) or userinfo
// (b), cleaned by identity.CleanName. "" when the provider gave none.
func citizenName(a, b map[string]json.RawMessage, p *Profile) string {
	if n := identity.CleanName(claimString(a, b, p.NameClaim, 4*identity.MaxName)); n != "" {
		return n
	}
	given := identity.CleanName(claimString(a, b, p.GivenNameClaim, 4*identity.MaxName))
	family := identity.CleanName(claimString(a, b, p.FamilyNameClaim, 4*identity.MaxName))
	return identity.CleanName(given + " " + family)
}
