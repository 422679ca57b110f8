// Package hook is the contract between the gateway and the parts that
// decide its hooked route classes (legacy_login: auth/legacylogin;
// family_link, family_data, credential: auth/family). The gateway defines
// it and owns dispatch: it finds the hook of a request's app and class,
// loads the session, bounds the body and calls Intercept with a narrow
// Gateway (render a page, refuse, start a session, require a fresher
// login). A hook package imports this package, never auth/gateway; the
// gateway never imports a hook.
package hook

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/overstap/overstap/auth/gateway/pages"
	"github.com/overstap/overstap/auth/gateway/route"
	"github.com/overstap/overstap/auth/identity"
)

// Prefix is the path prefix of the gateway's own endpoints.
const Prefix = "/.overstap/"

// Session is what the gateway keeps about a login: the identity the login
// proved, unchanged, and the legacy account it was linked to.
type Session struct {
	identity.Identity
	NRNRef    string // keyed reference of the NRN (nrn.Number.Ref)
	AccountID string // legacy account id ("" while registering)
	IDToken   string // given to Create only; Load does not return it
}

// ErrNoSession: the request has no valid session.
var ErrNoSession = errors.New("gateway: no session")

// Errors of an account resolver (the part that finds a login's legacy
// account, auth/link) that the gateway shows as pages. Any other error
// means a store is unavailable: the citizen gets a retry page (503).
var (
	// ErrNoAccount: the citizen has no account in the legacy app.
	ErrNoAccount = errors.New("gateway: no legacy account")
	// ErrAccountChoice: several accounts carry the citizen's number and
	// the policy is to let the helpdesk decide.
	ErrAccountChoice = errors.New("gateway: several legacy accounts")
	// ErrAccountFlagged: the account's data disagree with the login; the
	// admin must look.
	ErrAccountFlagged = errors.New("gateway: legacy account flagged")
)

// Gateway is what a hook or an extra endpoint may ask of the gateway, so
// that it answers exactly like the gateway does.
type Gateway interface {
	// Page renders a gateway page (pages.Set of the page's owner), with a
	// CSRF token when withForm.
	Page(w http.ResponseWriter, r *http.Request, status int, page string, d pages.Data, withForm bool)
	// Error refuses with an error page of kind (HTML or JSON); cause goes
	// to the log only, with the NRN redacted.
	Error(w http.ResponseWriter, r *http.Request, status int, kind pages.Kind, cause error)
	// RequireLogin sends a browser to login (or step-up) for returnTo and
	// answers an API call with 401.
	RequireLogin(w http.ResponseWriter, r *http.Request, returnTo string, stepUp bool)
	// StartSession stores s as the browser's new session (replacing any
	// old one) and sets the cookie.
	StartSession(ctx context.Context, w http.ResponseWriter, r *http.Request, s *Session) error
	// Fresh reports whether s meets level and was authenticated within
	// maxAge (0: any age).
	Fresh(s *Session, level identity.Level, maxAge time.Duration) bool
	// SessionOf loads the request's session: ErrNoSession when there is
	// none, another error when the store failed.
	SessionOf(r *http.Request) (*Session, error)
	// CSRFValid checks the double-submit token of a gateway form post.
	CSRFValid(r *http.Request) bool
	// ClientIP is the client address (X-Forwarded-For only from trusted
	// proxies).
	ClientIP(r *http.Request) string
	// Now is the gateway's clock.
	Now() time.Time
}

// Hook decides the requests of a hooked route class (route.Class.Hooked),
// which a session alone cannot decide: the decision depends on the request
// body (the legacy password form, the family member's NRN) or on state
// outside the session (a family grant). A hooked class without a hook is
// denied.
//
// In forward-auth mode the gateway never sees the body, so hooked classes
// are always denied there (the legacy-login page for legacy_login).
type Hook interface {
	// Intercept decides one request. The body of r is already bounded by
	// the gateway's body limit. It either answers the request itself
	// (Handled), or returns what to forward to the app: Forward replaces
	// r (the hook must forward exactly the body it verified), Session the
	// identity to inject (nil: the request's own session, if any).
	Intercept(w http.ResponseWriter, r *http.Request, c *Request) Result
}

// Request is what the gateway knows of a hooked request.
type Request struct {
	Gateway Gateway
	App     string      // the app's configured name
	Class   route.Class // the route class that brought the request here
	Path    string      // normalised path (what the app will get)
	// Session of the request, nil when it has none. SessionErr is set
	// when the session store failed (the hook must fail closed).
	Session    *Session
	SessionErr error
	MinLevel   identity.Level // the app's minimum level
}

// Result is a hook's decision.
type Result struct {
	Handled bool
	Forward *http.Request
	Session *Session
}

// Handled is the Result of a hook that answered the request itself.
var Handled = Result{Handled: true}

// Endpoint is an extra gateway endpoint under /.overstap/<name>/ (the
// family pages). It is called with the body bounded like every gateway
// endpoint.
type Endpoint func(g Gateway, w http.ResponseWriter, r *http.Request)
