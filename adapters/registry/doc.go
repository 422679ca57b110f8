// Package registry reads family facts from the municipality's population
// register: who a person's children are (descent), whose guardian they are,
// and who lives in their household. auth/family asks it whether a family
// link may be made without the member's consent (a minor child by descent,
// or a ward).
//
// Implementations: None (consent only), SQL (PostgreSQL, MariaDB/MySQL,
// SQLite export of the register), CSV (the same export as two files) and
// HTTP (a signed JSON service, e.g. in front of MAGDA). The interface is
// shaped after MAGDA GeefPersoon (descent) and GeefGezinssamenstelling
// (household); docs/adapters/registry.md has the mapping.
//
// Household data never decides anything on its own: living at the same
// address does not make someone entitled to act for you.
package registry
