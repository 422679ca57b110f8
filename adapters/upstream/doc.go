// Package upstream tells a legacy app who the citizen is, in one of two
// profiles:
//
//   - headers: the legacy account id (and, where the app asks for them, the
//     national number, the name and the assurance level) in request headers
//     whose names are configurable;
//   - assertion: a short-lived JWT (ES256 or RS256, at most 60 s, aud = the
//     app, iss = the gateway, sub = the legacy account id, a fresh jti)
//     signed with keys from the configuration; the public keys are served
//     as a JWKS at /.well-known/overstap/jwks.json so the app can verify it.
//
// Before anything is added, Strip deletes every identity header the client
// may have sent, in any casing, duplicated, or spelled with underscores.
// docs/vendors.md shows vendors how to verify the assertion.
package upstream
