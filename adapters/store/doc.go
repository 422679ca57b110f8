// Package store is the contract between overstap and a vendor's legacy user
// store, and its adapters: SQL (PostgreSQL, MySQL/MariaDB, SQLite), LDAP,
// CSV exports and an HTTP hook for vendors in any language.
//
// overstap changes only the credential (by compare-and-swap, so a citizen's
// concurrent change is never clobbered) and, where mapped, a "federated"
// flag. It never changes a vendor's schema.
package store
