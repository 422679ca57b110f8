// Package wire adapts the real relying party (auth/oidc) and session store
// (auth/session) to the small interfaces the gateway consumes
// (gateway.Authenticator, gateway.Sessions). It holds no logic of its own
// beyond type and error translation.
package wire
