// Package link connects a verified federated identity to the citizen's
// legacy account on first login: look the account up by the verified
// national number, record the link (NRN reference ↔ legacy account id ↔
// issuer+sub) in overstap's state store, revoke the legacy password by
// compare-and-swap (policy revoke_on_link, default on), set the federated
// flag where the store maps one, and audit it.
//
// Link and revocation are one unit: the link is first recorded as
// "revoking", then the credential is revoked, then the link is marked
// "linked". A crash in between leaves a "revoking" link that the next login
// of the same person finishes. Two concurrent first logins of one person
// link once (a unique key on app + NRN reference).
package link
