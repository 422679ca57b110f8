// Package legacylogin intercepts a legacy app's own password login before it
// reaches the app. A username that is written like a national number — in any
// form, with any separators, white space or Unicode digits (nrn.Shaped, the
// one notion of it) — never reaches the app: the citizen is sent to federated login. Other usernames are refused
// too (policy block_all, the default), or verified by the gateway itself
// against the user store (policy gateway_password, for people without a
// Belgian eID), which then upgrades the stored hash and never lets the legacy
// app check a password again.
//
// Request bodies are parsed once, strictly: form, JSON and multipart bodies
// are accepted; duplicated fields, ambiguous bodies, oversized bodies and
// undecodable bytes are refused, never guessed at.
package legacylogin
