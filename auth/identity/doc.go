// Package identity is what a login proved, as one value: who (issuer,
// subject, national number, display name), how strongly (the eIDAS level
// of assurance), when (auth time), and the provider's session id.
//
// The relying party (auth/oidc) produces an Identity once per login; the
// session store keeps it, the gateway checks it against the route policy,
// and the hooks (family, legacy login), account linking (auth/link) and
// the upstream adapters read it unchanged. Nothing copies it field by field
// into another type.
//
// Like auth/nrn, the package is pure: no I/O, no HTTP, no globals, and it
// imports nothing of the project except auth/nrn.
package identity
