// Package family decides family-member links in front of legacy apps:
// the gateway hooks of the route classes family_link (adding a member),
// family_data (another person's data) and credential (changing a
// password or e-mail address), the member's pages under
// /.overstap/family/, and an admin handler.
//
// A link goes through only when it is verified: the population register
// (adapters/registry) says the member is the requester's minor child by
// descent or ward, or the member approved a consent invitation after
// logging in with their own identity. Grants are scoped per app, expire,
// and are revocable by the member and by admins; credential routes of
// anyone but oneself are always blocked. Every decision is audited with
// references only (nrn.Ref), and the state store holds no clear national
// number. See docs/family.md.
package family
