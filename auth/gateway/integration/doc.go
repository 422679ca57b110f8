// Package integration tests the gateway assembled with its real parts: the
// relying party (auth/oidc) against the dev IdP, sessions in Redis (with
// the session cache, and gateway processes of their own sharing it),
// account linking (auth/link), nginx forward-auth, and faults of each. It
// holds tests only.
package integration
