package gateway

// The project's own parts behind the gateway's ports (Authenticator,
// Sessions): auth/oidc logs in, auth/session keeps sessions. Tests give
// the gateway stand-ins for the ports; serve and demo give it these.

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/overstap/overstap/auth/gateway/pages"
	"github.com/overstap/overstap/auth/identity"
	"github.com/overstap/overstap/auth/oidc"
	"github.com/overstap/overstap/auth/session"
)

// OIDC is an *oidc.Provider as the gateway's Authenticator.
type OIDC struct{ P *oidc.Provider }

var _ Authenticator = OIDC{}

// Name returns the provider's configured name.
func (p OIDC) Name() string { return p.P.Name() }

// Ready reports whether discovery succeeded.
func (p OIDC) Ready() error { return p.P.Ready() }

// PublicJWKS returns the relying party's public keys (empty when the
// provider uses no keys of ours).
func (p OIDC) PublicJWKS() []byte { return p.P.PublicJWKS() }

var _ KeyPublisher = OIDC{}

// BrowserOrigins are the IdP origins the browser is sent to (CSP
// form-action).
func (p OIDC) BrowserOrigins() []string { return p.P.BrowserOrigins() }

// AuthRequest starts a login.
func (p OIDC) AuthRequest(w http.ResponseWriter, r *http.Request, req LoginRequest) (string, error) {
	opts := oidc.LoginOptions{ReturnTo: req.ReturnTo, MaxAge: req.MaxAge, Prompt: req.Prompt, UILocales: req.UILocales}
	if req.MinLevel > identity.LevelNone {
		opts.MinLevel = req.MinLevel.String()
	}
	u, err := p.P.AuthRequest(w, r, opts)
	if errors.Is(err, oidc.ErrLevelUnavailable) {
		return "", fmt.Errorf("%w: %w", ErrLevelUnavailable, err)
	}
	return u, err
}

// Callback completes a login, translating failures into *LoginError.
func (p OIDC) Callback(w http.ResponseWriter, r *http.Request) (*Login, error) {
	id, err := p.P.Callback(w, r)
	if err != nil {
		kind := pages.KindLoginFailed
		var ce *oidc.CallbackError
		if errors.As(err, &ce) {
			switch ce.Kind {
			case oidc.KindAccessDenied:
				kind = pages.KindAccessDenied
			case oidc.KindIdPUnavailable:
				kind = pages.KindIDPUnavailable
			case oidc.KindLevelTooLow:
				kind = pages.KindLevelTooLow
			case oidc.KindNoNRN:
				kind = pages.KindNoNRN
			}
		}
		return nil, &LoginError{Kind: kind, Err: err}
	}
	return &Login{Identity: id.Identity, IDToken: id.IDToken, ReturnTo: id.ReturnTo}, nil
}

// LogoutURL builds the RP-initiated logout URL.
func (p OIDC) LogoutURL(idTokenHint, postLogoutRedirect, state string) (string, error) {
	u, err := p.P.LogoutURL(idTokenHint, postLogoutRedirect, state)
	if errors.Is(err, oidc.ErrNoEndSession) {
		return "", ErrNoEndSession
	}
	return u, err
}

// ValidateLogoutToken checks a back-channel logout token.
func (p OIDC) ValidateLogoutToken(ctx context.Context, raw string) (*LogoutToken, error) {
	c, err := p.P.ValidateLogoutToken(ctx, raw)
	if err != nil {
		return nil, err
	}
	return &LogoutToken{Issuer: c.Issuer, Subject: c.Subject, SID: c.SID}, nil
}

// SessionStore is a session.Store (in memory, Redis, or session.Cached)
// as the gateway's Sessions. Both sides keep the login's
// identity.Identity unchanged; only the store's bookkeeping differs.
type SessionStore struct{ S session.Store }

var _ Sessions = SessionStore{}

func mapErr(err error) error {
	if errors.Is(err, session.ErrNotFound) {
		return ErrNoSession
	}
	return err
}

// Create stores a new session.
func (s SessionStore) Create(ctx context.Context, g *Session) (string, error) {
	return s.S.Create(ctx, &session.Session{Identity: g.Identity, NRNRef: g.NRNRef, AccountID: g.AccountID, IDToken: g.IDToken})
}

// Load reads a session.
func (s SessionStore) Load(ctx context.Context, id string) (*Session, error) {
	x, err := s.S.Load(ctx, id)
	if err != nil {
		return nil, mapErr(err)
	}
	return fromStore(x), nil
}

// fromStore is the gateway's view of a stored session (no ID token).
func fromStore(x *session.Session) *Session {
	return &Session{Identity: x.Identity, NRNRef: x.NRNRef, AccountID: x.AccountID}
}

// IDToken returns the session's ID token.
func (s SessionStore) IDToken(ctx context.Context, id string) (string, error) {
	t, err := s.S.IDToken(ctx, id)
	return t, mapErr(err)
}

// Delete removes a session.
func (s SessionStore) Delete(ctx context.Context, id string) error { return s.S.Delete(ctx, id) }

// RevokePerson removes a person's sessions.
func (s SessionStore) RevokePerson(ctx context.Context, ref string) (int, error) {
	return s.S.RevokePerson(ctx, ref)
}

// RevokeSID removes the sessions with this IdP sid.
func (s SessionStore) RevokeSID(ctx context.Context, issuer, sid string) (int, error) {
	return s.S.RevokeSID(ctx, issuer, sid)
}

// RevokeSubject removes the sessions of a subject.
func (s SessionStore) RevokeSubject(ctx context.Context, issuer, sub string) (int, error) {
	return s.S.RevokeSubject(ctx, issuer, sub)
}

// RevokeAll removes every session.
func (s SessionStore) RevokeAll(ctx context.Context) (int, error) { return s.S.RevokeAll(ctx) }

// Ping checks the store.
func (s SessionStore) Ping(ctx context.Context) error { return s.S.Ping(ctx) }
