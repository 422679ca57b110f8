// Package demoapp is a deliberately flawed legacy municipal e-loket, built
// into the binary for `overstap demo` and the end-to-end tests. It reproduces
// what the Flemish privacy supervisor (VTC) described:
//
//   - accounts whose username AND password are the citizen's national number
//     (plaintext and unsalted MD5 rows);
//   - a family page where any logged-in user can add ANY inhabitant as a
//     family member by national number, then see that person's data and
//     change their password.
//
// On its own it is exploitable, on purpose. Behind the overstap gateway it is
// not: the gateway intercepts its login and family routes and tells it who
// the user is through a signed identity assertion, which this app verifies.
//
// Never deploy this package outside a demo or a test.
package demoapp
