// Package devidp is a development OpenID provider with Belgian test
// personas. It is NOT an identity provider for production: it authenticates
// nobody (a picker page lets the tester choose who to be and at which level)
// and says so on every page and at start-up.
//
// The protocol side is zitadel/oidc's OpenID-certified provider library
// (github.com/zitadel/oidc/v3/pkg/op); this package supplies the storage,
// the persona picker and three profiles that behave like the providers a
// Belgian municipality integrates with (see docs/devidp.md):
//
//   - fas:   CSAM/FAS (issuer path /fas/oauth2): egovNRN in userinfo (JSON or
//     application/jwt), the level in amr with acr "0", client_secret_basic.
//   - itsme: itsme (issuer path /itsme/v2): BENationalNumber in the ID token,
//     ID token and userinfo signed then encrypted (RSA-OAEP-256 + A256GCM) to
//     the client's registered enc key, private_key_jwt, PKCE S256.
//   - acm:   ACM/IDM (issuer path /acm/op): scope rrn gives claim rrn, sub an
//     opaque person id, the authentication means as an authmech URN in acr.
//
// One [Server] serves every enabled profile under its own issuer path. The
// personas are synthetic (national numbers with sequence 9xx, see
// [Personas]). On logout, and through [Server.LogoutPersona], it sends OIDC
// Back-Channel Logout 1.0 logout tokens to the clients that registered a
// back-channel logout URI.
package devidp
