// Package storeutil holds the small pieces every user-store adapter shares:
// resolving an account's national number, the written forms used for
// lookups, and errors that name the adapter and account without leaking a
// credential or a clear national number.
package storeutil
