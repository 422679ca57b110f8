// Package oidc is overstap's OpenID Connect relying party: provider
// profiles (fas, itsme, acmidm, generic) as data, the authorization code
// login with PKCE S256 and a browser-bound single-use state, the callback
// (code exchange, JWE decryption, go-oidc verification, acr/amr level check,
// national-number extraction), RP-initiated logout URLs, and validation of
// back-channel logout tokens (OIDC Back-Channel Logout 1.0 §2.6).
//
// A [Provider] is built from a [ProviderConfig] with [New]. Discovery runs in
// the background and is retried with backoff, so an unreachable IdP never
// stops the gateway from starting; [Provider.Ready] says why a provider is
// not usable yet.
//
// The gateway calls [Provider.AuthRequest] to start a login and
// [Provider.Callback] on the redirect URL. Callback returns an [*Login] or
// a [*CallbackError] whose Kind says which page to show. The national
// number never appears in logs, errors, URLs or flow-store keys.
package oidc
