package devidp

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// errNotFound is returned for unknown or expired requests, codes, tokens.
var errNotFound = errors.New("devidp: not found or expired")

// authRequestTTL bounds how long a login may stay on the picker.
const authRequestTTL = 10 * time.Minute

// claimsRequest is the OIDC Core §5.5 claims request parameter (names only).
type claimsRequest struct {
	IDToken  map[string]json.RawMessage `json:"id_token"`
	Userinfo map[string]json.RawMessage `json:"userinfo"`
}

// authRequest is one authorization request. Storage methods hand out
// copies, so op never sees a value that changes under it.
type authRequest struct {
	id        string
	created   time.Time
	clientID  string
	redirect  string
	scopes    []string
	state     string
	nonce     string
	respMode  oidc.ResponseMode
	challenge oidc.CodeChallenge
	prompt    []string
	maxAge    *uint
	acrValues []string
	claims    claimsRequest

	done      bool
	persona   string
	subject   string
	level     Level
	authTime  time.Time
	sessionID string // browser session (cookie value)
	sid       string // the sid claim
	code      string
	codeAt    time.Time
}

var _ op.AuthRequest = (*authRequest)(nil)

func (a *authRequest) GetID() string                      { return a.id }
func (a *authRequest) GetACR() string                     { return a.level.ACR }
func (a *authRequest) GetAMR() []string                   { return slices.Clone(a.level.AMR) }
func (a *authRequest) GetAudience() []string              { return []string{a.clientID} }
func (a *authRequest) GetAuthTime() time.Time             { return a.authTime }
func (a *authRequest) GetClientID() string                { return a.clientID }
func (a *authRequest) GetNonce() string                   { return a.nonce }
func (a *authRequest) GetRedirectURI() string             { return a.redirect }
func (a *authRequest) GetScopes() []string                { return slices.Clone(a.scopes) }
func (a *authRequest) GetState() string                   { return a.state }
func (a *authRequest) GetSubject() string                 { return a.subject }
func (a *authRequest) Done() bool                         { return a.done }
func (a *authRequest) GetResponseMode() oidc.ResponseMode { return a.respMode }
func (a *authRequest) GetResponseType() oidc.ResponseType { return oidc.ResponseTypeCode }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge {
	c := a.challenge
	return &c
}

func (a *authRequest) clone() *authRequest {
	c := *a
	c.scopes = slices.Clone(a.scopes)
	c.prompt = slices.Clone(a.prompt)
	c.acrValues = slices.Clone(a.acrValues)
	return &c
}

// accessToken is an issued access token (bearer, opaque, encrypted by op).
type accessToken struct {
	id        string
	clientID  string
	subject   string
	persona   string
	level     Level
	scopes    []string
	claims    claimsRequest
	sessionID string
	expires   time.Time
}

// session is a browser's login at one profile of the dev IdP.
type session struct {
	id       string // cookie value
	sid      string // sid claim
	persona  string
	subject  string
	level    Level
	authTime time.Time
	created  time.Time
	clients  map[string]bool // clients that obtained tokens in it
}

// profileState is the op.Storage of one profile.
type profileState struct {
	srv      *Server
	spec     *profileSpec
	issuer   string
	provider *opProvider

	mu       sync.Mutex
	requests map[string]*authRequest
	codes    map[string]string
	tokens   map[string]*accessToken
	sessions map[string]*session
}

var (
	_ op.Storage                        = (*profileState)(nil)
	_ op.CanSetUserinfoFromRequest      = (*profileState)(nil)
	_ op.CanTerminateSessionFromRequest = (*profileState)(nil)
)

func newProfileState(s *Server, spec *profileSpec, issuer string) *profileState {
	return &profileState{
		srv: s, spec: spec, issuer: issuer,
		requests: map[string]*authRequest{},
		codes:    map[string]string{},
		tokens:   map[string]*accessToken{},
		sessions: map[string]*session{},
	}
}

func (p *profileState) now() time.Time { return p.srv.now() }

// evictRequests drops expired requests and, when still at the cap, the
// oldest one. Caller holds p.mu.
func (p *profileState) evictRequests() {
	now := p.now()
	for id, r := range p.requests {
		if p.requestExpired(r, now) {
			p.deleteRequestLocked(id)
		}
	}
	for len(p.requests) >= p.srv.maxRequests {
		var oldest *authRequest
		for _, r := range p.requests {
			if oldest == nil || r.created.Before(oldest.created) {
				oldest = r
			}
		}
		p.deleteRequestLocked(oldest.id)
	}
}

func (p *profileState) requestExpired(r *authRequest, now time.Time) bool {
	if r.code != "" {
		return now.After(r.codeAt.Add(p.spec.codeTTL))
	}
	return now.After(r.created.Add(authRequestTTL))
}

func (p *profileState) deleteRequestLocked(id string) {
	if r, ok := p.requests[id]; ok && r.code != "" {
		delete(p.codes, r.code)
	}
	delete(p.requests, id)
}

// CreateAuthRequest stores a validated authorization request. It refuses
// requests without PKCE S256 (every profile requires it) and response types
// other than code.
func (p *profileState) CreateAuthRequest(ctx context.Context, req *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	if req.ResponseType != oidc.ResponseTypeCode {
		return nil, oidc.ErrInvalidRequest().WithDescription("only response_type=code is supported")
	}
	if req.CodeChallenge == "" || req.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return nil, oidc.ErrInvalidRequest().WithDescription("PKCE with code_challenge_method=S256 is required")
	}
	if len(req.CodeChallenge) < 43 || len(req.CodeChallenge) > 128 {
		return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge has the wrong length")
	}
	if req.ResponseMode != "" && req.ResponseMode != oidc.ResponseModeQuery && req.ResponseMode != oidc.ResponseModeFormPost {
		return nil, oidc.ErrInvalidRequest().WithDescription("response_mode must be query or form_post")
	}
	if len(req.State) > 2048 || len(req.Nonce) > 2048 || len(req.ACRValues) > 20 {
		return nil, oidc.ErrInvalidRequest().WithDescription("state, nonce or acr_values too long")
	}
	r := &authRequest{
		id: rand.Text(), created: p.now(), clientID: req.ClientID, redirect: req.RedirectURI,
		scopes: slices.Clone(req.Scopes), state: req.State, nonce: req.Nonce, respMode: req.ResponseMode,
		challenge: oidc.CodeChallenge{Challenge: req.CodeChallenge, Method: req.CodeChallengeMethod},
		prompt:    slices.Clone(req.Prompt), maxAge: req.MaxAge, acrValues: slices.Clone(req.ACRValues),
	}
	if ri := infoFrom(ctx); ri != nil && ri.claims != "" {
		if err := json.Unmarshal([]byte(ri.claims), &r.claims); err != nil {
			return nil, oidc.ErrInvalidRequest().WithDescription("claims is not a valid JSON claims request")
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.evictRequests()
	p.requests[r.id] = r
	return r.clone(), nil
}

// request returns the live request (caller holds p.mu).
func (p *profileState) requestLocked(id string) (*authRequest, error) {
	r, ok := p.requests[id]
	if !ok || p.requestExpired(r, p.now()) {
		return nil, errNotFound
	}
	return r, nil
}

// AuthRequestByID returns a copy of a pending request.
func (p *profileState) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r, err := p.requestLocked(id)
	if err != nil {
		return nil, err
	}
	return r.clone(), nil
}

// AuthRequestByCode returns the request a code was issued for, while the
// code is within the profile's code lifetime (itsme 3 min, ACM 30 s).
func (p *profileState) AuthRequestByCode(_ context.Context, code string) (op.AuthRequest, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	id, ok := p.codes[code]
	if !ok {
		return nil, errNotFound
	}
	r, err := p.requestLocked(id)
	if err != nil || !r.done {
		return nil, errNotFound
	}
	return r.clone(), nil
}

// SaveAuthCode binds a code to a completed request, once: a second callback
// for the same request does not mint a second code.
func (p *profileState) SaveAuthCode(_ context.Context, id, code string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	r, err := p.requestLocked(id)
	if err != nil {
		return err
	}
	if !r.done || r.code != "" {
		return oidc.ErrInvalidRequest().WithDescription("authorization already answered")
	}
	r.code, r.codeAt = code, p.now()
	p.codes[code] = id
	return nil
}

// DeleteAuthRequest removes a request and its code (the code is single use:
// op deletes the request when it exchanges the code).
func (p *profileState) DeleteAuthRequest(_ context.Context, id string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.deleteRequestLocked(id)
	return nil
}

// CreateAccessToken issues an access token for a completed authorization
// request; every other grant is refused.
func (p *profileState) CreateAccessToken(ctx context.Context, tr op.TokenRequest) (string, time.Time, error) {
	ar, ok := tr.(*authRequest)
	if !ok {
		return "", time.Time{}, oidc.ErrUnsupportedGrantType().WithDescription("only the authorization code grant is supported")
	}
	now := p.now()
	t := &accessToken{
		id: rand.Text(), clientID: ar.clientID, subject: ar.subject, persona: ar.persona, level: ar.level,
		scopes: slices.Clone(ar.scopes), claims: ar.claims, sessionID: ar.sessionID, expires: now.Add(p.spec.accessTTL),
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	evict(p.tokens, now, p.srv.maxSessions, func(t *accessToken) time.Time { return t.expires })
	p.tokens[t.id] = t
	if s, ok := p.sessions[ar.sessionID]; ok && len(s.clients) < 100 {
		s.clients[ar.clientID] = true
	}
	if ri := infoFrom(ctx); ri != nil {
		ri.clientID = ar.clientID
	}
	return t.id, t.expires, nil
}

// CreateAccessAndRefreshTokens is refused: none of the imitated providers
// issues refresh tokens to these clients.
func (p *profileState) CreateAccessAndRefreshTokens(context.Context, op.TokenRequest, string) (string, string, time.Time, error) {
	return "", "", time.Time{}, oidc.ErrUnsupportedGrantType().WithDescription("refresh tokens are not issued")
}

// TokenRequestByRefreshToken is refused (no refresh tokens).
func (p *profileState) TokenRequestByRefreshToken(context.Context, string) (op.RefreshTokenRequest, error) {
	return nil, op.ErrInvalidRefreshToken
}

// TerminateSession is not used: TerminateSessionFromRequest is.
func (p *profileState) TerminateSession(context.Context, string, string) error {
	return errors.New("devidp: TerminateSession is not used")
}

// RevokeToken revokes an access token of the client.
func (p *profileState) RevokeToken(_ context.Context, tokenOrID, _ string, clientID string) *oidc.Error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if t, ok := p.tokens[tokenOrID]; ok && t.clientID == clientID {
		delete(p.tokens, tokenOrID)
	}
	return nil
}

// GetRefreshTokenInfo: there are no refresh tokens.
func (p *profileState) GetRefreshTokenInfo(context.Context, string, string) (string, string, error) {
	return "", "", op.ErrInvalidRefreshToken
}

// SigningKey returns the server's RS256 key.
func (p *profileState) SigningKey(context.Context) (op.SigningKey, error) { return p.srv.key, nil }

// SignatureAlgorithms returns RS256 only.
func (p *profileState) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

// KeySet returns the public signing key.
func (p *profileState) KeySet(context.Context) ([]op.Key, error) {
	return []op.Key{publicKey{p.srv.key}}, nil
}

// GetClientByClientID returns a client registered with this profile.
func (p *profileState) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	rc, ok := p.srv.client(p.spec.name, id)
	if !ok {
		return nil, oidc.ErrInvalidClient().WithDescription("unknown client")
	}
	return &opClient{rc: rc, spec: p.spec, issuer: p.issuer}, nil
}

// AuthorizeClientIDSecret checks a client secret in constant time.
func (p *profileState) AuthorizeClientIDSecret(_ context.Context, id, secret string) error {
	rc, ok := p.srv.client(p.spec.name, id)
	if !ok || (rc.method != oidc.AuthMethodBasic && rc.method != oidc.AuthMethodPost) || !rc.checkSecret(secret) {
		return errors.New("devidp: invalid client credentials")
	}
	return nil
}

// SetUserinfoFromScopes only sets the subject; the claims come from
// SetUserinfoFromRequest (ID token) and SetUserinfoFromToken (userinfo).
func (p *profileState) SetUserinfoFromScopes(_ context.Context, info *oidc.UserInfo, userID, _ string, _ []string) error {
	info.Subject = userID
	return nil
}

// SetUserinfoFromRequest adds the profile's ID token claims.
func (p *profileState) SetUserinfoFromRequest(_ context.Context, info *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	ar, ok := req.(*authRequest)
	if !ok {
		return errors.New("devidp: unexpected ID token request")
	}
	per, ok := p.srv.persona(ar.persona)
	if !ok {
		return errNotFound
	}
	info.Subject = ar.subject
	p.idTokenClaims(info, per, ar.level, scopes, ar.claims)
	info.AppendClaims("sid", ar.sid)
	return nil
}

// SetUserinfoFromToken answers the userinfo endpoint.
func (p *profileState) SetUserinfoFromToken(ctx context.Context, info *oidc.UserInfo, tokenID, subject, _ string) error {
	p.mu.Lock()
	t, ok := p.tokens[tokenID]
	if ok && (p.now().After(t.expires) || t.subject != subject) {
		ok = false
	}
	var tc accessToken
	if ok {
		tc = *t
	}
	p.mu.Unlock()
	if !ok {
		return errNotFound
	}
	per, ok := p.srv.persona(tc.persona)
	if !ok {
		return errNotFound
	}
	info.Subject = tc.subject
	p.userinfoClaims(info, per, tc.level, tc.scopes, tc.claims)
	if ri := infoFrom(ctx); ri != nil {
		ri.clientID = tc.clientID
	}
	return nil
}

// SetIntrospectionFromToken reports tokens of the asking client as active.
func (p *profileState) SetIntrospectionFromToken(_ context.Context, resp *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	t, ok := p.tokens[tokenID]
	if !ok || t.subject != subject || t.clientID != clientID || p.now().After(t.expires) {
		return errNotFound
	}
	resp.Active = true
	resp.Subject = t.subject
	resp.ClientID = t.clientID
	resp.Scope = t.scopes
	resp.Expiration = oidc.FromTime(t.expires)
	return nil
}

// GetPrivateClaimsFromScopes: access tokens are opaque, no private claims.
func (p *profileState) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

// GetKeyByIDAndClientID returns a client's signing key for private_key_jwt.
func (p *profileState) GetKeyByIDAndClientID(ctx context.Context, keyID, clientID string) (*jose.JSONWebKey, error) {
	rc, ok := p.srv.client(p.spec.name, clientID)
	if !ok || rc.method != oidc.AuthMethodPrivateKeyJWT {
		return nil, errors.New("devidp: client does not use private_key_jwt")
	}
	ks, err := p.srv.clientKeys(ctx, rc)
	if err != nil {
		return nil, err
	}
	k, ok := pickKey(ks, "sig", keyID)
	if !ok {
		return nil, fmt.Errorf("devidp: client has no signing key %q", keyID)
	}
	return k, nil
}

// ValidateJWTProfileScopes refuses the JWT bearer grant.
func (p *profileState) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, oidc.ErrUnsupportedGrantType()
}

// Health is always fine.
func (p *profileState) Health(context.Context) error { return nil }

// evict makes room in m for one more entry: it deletes the entries expired
// at now, then the ones expiring first until fewer than limit remain.
func evict[V any](m map[string]V, now time.Time, limit int, expires func(V) time.Time) {
	for k, v := range m {
		if now.After(expires(v)) {
			delete(m, k)
		}
	}
	for len(m) > 0 && len(m) >= limit {
		var first string
		var at time.Time
		for k, v := range m {
			if e := expires(v); at.IsZero() || e.Before(at) {
				first, at = k, e
			}
		}
		delete(m, first)
	}
}
