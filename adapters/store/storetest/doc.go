// Package storetest is the one contract suite every user-store adapter
// runs unchanged: iteration in key order with resumable cursors, lookups by
// national number (column and every written form of an NRN-shaped
// username, duplicates returned), compare-and-swap semantics (conflict
// versus not found, NULL-aware), batches, the federated flag, bad input, and
// errors that never leak a credential or a clear national number.
//
// A backend's test calls Run with a factory that returns a fresh, empty
// store and a Seeder that writes fixture rows natively (SQL INSERT, LDAP add,
// a CSV file), so the suite never depends on the adapter to set up its own
// fixtures.
package storetest
