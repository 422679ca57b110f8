package oidc

import (
	"errors"
	"fmt"

	"github.com/overstap/overstap/auth/nrn"
)

// Kind classifies why a login callback failed, so the gateway can show the
// right page. The string values are stable and safe to log and to use as
// metric labels.
type Kind string

// Callback failure kinds.
const (
	// KindAccessDenied: the citizen cancelled or the IdP refused (error=access_denied).
	KindAccessDenied Kind = "access_denied"
	// KindLoginRequired: the IdP needs interaction (login_required, consent_required, ...).
	KindLoginRequired Kind = "login_required"
	// KindIdPError: any other error response from the IdP.
	KindIdPError Kind = "idp_error"
	// KindIdPUnavailable: discovery not done, IdP unreachable, 5xx, temporarily_unavailable.
	KindIdPUnavailable Kind = "idp_unavailable"
	// KindBadRequest: malformed or oversized callback parameters.
	KindBadRequest Kind = "bad_request"
	// KindStateInvalid: unknown, expired or reused state, or state from another browser.
	KindStateInvalid Kind = "state_invalid"
	// KindIssuerMismatch: RFC 9207 iss parameter wrong or missing where required (mix-up).
	KindIssuerMismatch Kind = "issuer_mismatch"
	// KindCodeInvalid: the token endpoint refused the code (replayed, expired, PKCE mismatch).
	KindCodeInvalid Kind = "code_invalid"
	// KindTokenInvalid: the ID token (or userinfo JWT) failed decryption or verification.
	KindTokenInvalid Kind = "token_invalid"
	// KindLevelTooLow: the authentication level reached is below the requested minimum,
	// or auth_time does not satisfy max_age / prompt=login.
	KindLevelTooLow Kind = "level_too_low"
	// KindNoNRN: no national number (claim absent, e.g. itsme user with a foreign
	// document, or a level that never yields one such as FAS Level100).
	KindNoNRN Kind = "no_nrn"
	// KindNRNInvalid: the national number claim failed the checksum.
	KindNRNInvalid Kind = "nrn_invalid"
	// KindInternal: a local failure (flow store down, misconfiguration).
	KindInternal Kind = "internal"
)

// CallbackError is the error returned by [Provider.Callback]. Safe is a
// message that may be shown to the citizen; Err is the cause for the log
// (never contains a national number).
type CallbackError struct {
	Kind     Kind
	Provider string
	Safe     string
	// ReturnTo is the path the login was started for, when the state was
	// valid (so the gateway can offer "try again"); empty otherwise.
	ReturnTo string
	Err      error
}

// Error implements error.
// Anything NRN-shaped in the cause is redacted.
func (e *CallbackError) Error() string {
	if e.Err != nil {
		return nrn.Scrub(fmt.Sprintf("oidc: %s: callback %s: %v", e.Provider, e.Kind, e.Err))
	}
	return fmt.Sprintf("oidc: %s: callback %s", e.Provider, e.Kind)
}

// Unwrap returns the cause.
func (e *CallbackError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrNoNationalNumber) true for KindNoNRN errors.
func (e *CallbackError) Is(target error) bool {
	return target == ErrNoNationalNumber && e.Kind == KindNoNRN
}

// KindOf returns the Kind of a callback error, or "" when err is not a
// *CallbackError.
func KindOf(err error) Kind {
	var ce *CallbackError
	if errors.As(err, &ce) {
		return ce.Kind
	}
	return ""
}

// Sentinel errors.
var (
	// ErrNoNationalNumber matches a callback error of kind KindNoNRN.
	ErrNoNationalNumber = errors.New("oidc: the identity provider asserted no national number")
	// ErrNotReady is wrapped by operations on a provider whose discovery has not succeeded.
	ErrNotReady = errors.New("oidc: provider not ready")
	// ErrFlowNotFound is returned by a FlowStore for an unknown, expired or used state.
	ErrFlowNotFound = errors.New("oidc: login flow not found")
	// ErrFlowExists is returned by a FlowStore when the key is already taken.
	ErrFlowExists = errors.New("oidc: login flow already exists")
	// ErrStoreFull is returned by the memory stores when their bound is reached.
	ErrStoreFull = errors.New("oidc: store full")
	// ErrLogoutTokenInvalid is wrapped by every rejection of a logout token
	// (answer 400); other errors from ValidateLogoutToken are local failures
	// (answer 5xx and let the IdP retry).
	ErrLogoutTokenInvalid = errors.New("oidc: invalid logout token")
	// ErrLogoutTokenReplayed is wrapped (with ErrLogoutTokenInvalid) when the jti was seen before.
	ErrLogoutTokenReplayed = errors.New("oidc: logout token replayed")
	// ErrNoEndSession is returned by LogoutURL when the provider has no end_session_endpoint.
	ErrNoEndSession = errors.New("oidc: provider has no end_session_endpoint")
)

func cbErr(p *Provider, k Kind, returnTo string, err error) *CallbackError {
	return &CallbackError{Kind: k, Provider: p.name, Safe: safeMessage(k), ReturnTo: returnTo, Err: err}
}

func safeMessage(k Kind) string {
	switch k {
	case KindAccessDenied:
		return "The login was cancelled or refused."
	case KindLoginRequired:
		return "Please log in again."
	case KindIdPUnavailable:
		return "The login service is unavailable at the moment. Please try again later."
	case KindStateInvalid:
		return "This login link has expired or was already used. Please start again."
	case KindLevelTooLow:
		return "This page needs a stronger login method."
	case KindNoNRN:
		return "Your login did not include a Belgian national register number."
	case KindNRNInvalid:
		return "The national register number received is not valid."
	default:
		return "The login could not be completed. Please start again."
	}
}
