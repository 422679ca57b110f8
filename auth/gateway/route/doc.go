// Package route decides, for one incoming request, which legacy app it is
// for and which class of protection applies (public, protected, step_up,
// blocked, legacy_login, family_link).
//
// Matching is done on a canonical form of the request path built by
// Normalize; a path that could be read in two ways by the gateway and the
// legacy app (encoded slash, double encoding, NUL, invalid escapes, invalid
// UTF-8, backslashes) is refused with ErrAmbiguousPath rather than guessed.
// docs/gateway.md describes the normalisation step by step.
package route
