package gateway

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/overstap/overstap/auth/gateway/hook"
	"github.com/overstap/overstap/auth/gateway/pages"
	"github.com/overstap/overstap/auth/identity"
)

// Session is what the gateway keeps about a login (hook.Session: hooks
// see the same value without importing the gateway).
type Session = hook.Session

// Errors of a Sessions implementation the gateway branches on.
var (
	// ErrNoSession: no valid session for the id. Any other error from
	// Load means the store is unusable and the gateway answers 503.
	ErrNoSession = hook.ErrNoSession
)

// Sessions is the session store as the gateway uses it. Implementations
// are safe for concurrent use and never put an id or an NRN in an error.
type Sessions interface {
	// Create stores s under a fresh random id and returns the id.
	Create(ctx context.Context, s *Session) (string, error)
	// Load returns the session, ErrNoSession, or another error when the
	// store fails.
	Load(ctx context.Context, id string) (*Session, error)
	// IDToken returns the ID token kept with the session (for logout).
	IDToken(ctx context.Context, id string) (string, error)
	// Delete removes one session.
	Delete(ctx context.Context, id string) error
	// RevokePerson removes every session with this NRN reference.
	RevokePerson(ctx context.Context, ref string) (int, error)
	// RevokeSID removes the sessions of issuer with this sid.
	RevokeSID(ctx context.Context, issuer, sid string) (int, error)
	// RevokeSubject removes the sessions of issuer's subject.
	RevokeSubject(ctx context.Context, issuer, sub string) (int, error)
	// RevokeAll removes every session.
	RevokeAll(ctx context.Context) (int, error)
	// Ping reports whether the store is usable.
	Ping(ctx context.Context) error
}

// LoginRequest is what the gateway asks of one login.
type LoginRequest struct {
	ReturnTo  string         // local path to come back to
	MinLevel  identity.Level // sent as acr_values and checked on return
	MaxAge    time.Duration  // > 0: max_age, auth_time checked on return
	Prompt    string         // "login" for step-up
	UILocales []string
}

// Login is a successful login: the identity the relying party produced,
// and where the citizen was going.
type Login struct {
	identity.Identity
	IDToken  string
	ReturnTo string
}

// LogoutToken is a validated back-channel logout token.
type LogoutToken struct {
	Issuer, Subject, SID string
}

// ErrNoEndSession is returned by LogoutURL when the provider has no
// end-session endpoint.
var ErrNoEndSession = errors.New("gateway: provider has no end-session endpoint")

// ErrLevelUnavailable is returned (wrapped) by AuthRequest when the
// provider cannot assert the level asked for: the citizen gets the
// "stronger login needed" page (403), not a login that can only fail.
var ErrLevelUnavailable = errors.New("gateway: the provider cannot assert the required level")

// LoginError is a failed callback. Kind is one of the error pages:
// access_denied, idp_unavailable, level_too_low, login_failed.
type LoginError struct {
	Kind pages.Kind
	Err  error
}

// Error returns the kind and the cause (for logs, not for citizens).
func (e *LoginError) Error() string {
	return "gateway: login failed (" + string(e.Kind) + "): " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *LoginError) Unwrap() error { return e.Err }

// Authenticator is one OpenID provider as the gateway uses it (an
// adapter over auth/oidc.Provider in production).
type Authenticator interface {
	// Name is the provider's configured name (also in callback URLs).
	Name() string
	// AuthRequest starts a login (binding cookie on w) and returns the
	// authorization URL to redirect to.
	AuthRequest(w http.ResponseWriter, r *http.Request, req LoginRequest) (string, error)
	// Callback completes a login; failures are *LoginError.
	Callback(w http.ResponseWriter, r *http.Request) (*Login, error)
	// LogoutURL builds the RP-initiated logout URL, or ErrNoEndSession.
	LogoutURL(idTokenHint, postLogoutRedirect, state string) (string, error)
	// ValidateLogoutToken checks a back-channel logout token.
	ValidateLogoutToken(ctx context.Context, raw string) (*LogoutToken, error)
	// Ready reports whether discovery succeeded.
	Ready() error
}

// Errors of an AccountResolver the gateway shows as pages (defined by the
// hook contract, so a resolver need not import the gateway). Any other
// error means a store is unavailable: the citizen gets a retry page (503).
var (
	ErrNoAccount      = hook.ErrNoAccount
	ErrAccountChoice  = hook.ErrAccountChoice
	ErrAccountFlagged = hook.ErrAccountFlagged
)

// AccountResolver finds the legacy account of a login for app (the app
// of the return path; "" when it matches none): link.Resolver in serve.
type AccountResolver interface {
	Resolve(ctx context.Context, app string, id *identity.Identity) (string, error)
}

// Checker is one readiness check (state store, ...).
type Checker struct {
	Name  string
	Check func(ctx context.Context) error
}

// KeyPublisher is implemented by providers whose relying-party keys the
// IdP fetches (itsme: private_key_jwt signing key and ID token encryption
// key). The gateway serves them at /.overstap/jwks/<provider>.
type KeyPublisher interface {
	PublicJWKS() []byte
}

// StartLimiter bounds how many logins one client may start: every start
// stores a pending flow (state, nonce, PKCE verifier) until the callback,
// so unbounded starts could fill the flow store and push out citizens'
// pending logins. Allow counts the start; false means refuse (429).
type StartLimiter interface {
	Allow(ctx context.Context, clientIP string) (bool, error)
}
