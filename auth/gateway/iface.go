package gateway

import (
	"context"
	"net/http"

	"github.com/overstap/overstap/auth/gateway/hook"
	"github.com/overstap/overstap/auth/identity"
	"github.com/overstap/overstap/auth/oidc"
)

// Session is what the gateway keeps about a login (hook.Session: hooks
// see the same value without importing the gateway). The session store
// (auth/session) keeps it with its own bookkeeping (startSession,
// loadSession).
type Session = hook.Session

// ErrNoSession: the request has no valid session. Any other error from
// loading one means the store is unusable and the gateway answers 503.
var ErrNoSession = hook.ErrNoSession

// Authenticator is one OpenID provider as the gateway uses it: an
// *oidc.Provider in serve and demo, a stand-in in the gateway's tests. The
// relying party's own types cross unchanged: oidc.LoginOptions in,
// *oidc.Login (whose identity.Identity the session keeps) out.
type Authenticator interface {
	// Name is the provider's configured name (also in callback URLs).
	Name() string
	// AuthRequest starts a login (binding cookie on w) and returns the
	// authorization URL to redirect to; oidc.ErrLevelUnavailable (wrapped)
	// when the provider cannot assert opts.MinLevel.
	AuthRequest(w http.ResponseWriter, r *http.Request, opts oidc.LoginOptions) (string, error)
	// Callback completes a login; failures are *oidc.CallbackError.
	Callback(w http.ResponseWriter, r *http.Request) (*oidc.Login, error)
	// LogoutURL builds the RP-initiated logout URL, or
	// oidc.ErrNoEndSession.
	LogoutURL(idTokenHint, postLogoutRedirect, state string) (string, error)
	// ValidateLogoutToken checks a back-channel logout token.
	ValidateLogoutToken(ctx context.Context, raw string) (*oidc.LogoutClaims, error)
	// Ready reports whether discovery succeeded.
	Ready() error
}

var _ interface {
	Authenticator
	KeyPublisher
	BrowserOriginer
} = (*oidc.Provider)(nil)

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
