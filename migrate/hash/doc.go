// Package hash recognises, verifies and replaces the password hashes that
// legacy municipal applications store.
//
// A [Hasher] knows a fixed table of schemes, one file per family: plain and
// salted hex digests, MySQL 4.1, the crypt(3) family (MD5-crypt, apr1,
// SHA-crypt, bcrypt), the LDAP userPassword forms, phpass and Drupal 7,
// argon2, Django's and passlib's formats, scrypt, and ASP.NET Identity v2/v3.
// Values that do not describe themselves (bare hex, plaintext, a separate salt
// column) are read with the store's declaration in [Params].
//
// Every cost parameter read from a stored value is capped ([Limits]); values
// over a cap give a [*LimitError], unknown or malformed values an
// [*UnsupportedError]: a hostile row never becomes a denial of service, a
// panic or a match. Expensive verifications share a concurrency limiter sized
// to the CPU count and honour the context.
//
// The target format is bcrypt ([Hasher.Hash]). [Hasher.Wrap] turns a weak
// stored hash H into a self-describing bcrypt(f(H)) value (format "$osw1$",
// see docs/hashes.md) that [Hasher.Verify] understands, so a migration can
// protect weak hashes without knowing the passwords; [Hasher.NeedsUpgrade]
// tells the gateway to store a fresh bcrypt after the next successful login.
//
// [Hasher.IsDerived] tells whether a stored hash is one of the few passwords
// a vendor derived from the citizen's national register number
// ([Candidates]).
package hash
