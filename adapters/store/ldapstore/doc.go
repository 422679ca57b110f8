// Package ldapstore is the user-store adapter for LDAP directories
// (OpenLDAP, 389-ds, Active Directory with a mapped password attribute),
// using github.com/go-ldap/ldap/v3.
//
// Entries under a base DN matching a filter are accounts; attributes are
// mapped (id, uid, userPassword, an NRN attribute such as serialNumber or
// employeeNumber, cn, ...). Every user value in a filter goes through
// ldap.EscapeFilter.
//
// Key order. LDAP has no order and most attributes used as ids (uid,
// employeeNumber) have no ORDERING matching rule, so "(id>=cursor)" cannot
// be evaluated by the server, and the server-side sort control needs the
// sssvlv overlay. Iterate therefore runs a paged search (RFC 2696) over the
// whole base and keeps only the limit smallest ids after the cursor in a
// bounded heap: memory is O(limit), the order is byte-wise on the id, and a
// cursor survives reconnects, at the price of reading the directory once
// per page — use large pages (thousands) for big directories.
//
// Compare-and-swap is ONE modify: delete the old password value(s) and add
// the new one. The server applies it atomically and refuses it with
// noSuchAttribute when the old value is no longer there (ErrConflict); a
// NULL (absent) password is asserted absent with the LDAP assertion control
// (RFC 4528). An entry with several password values carries them joined by
// "\n" in Account.Credential, and a swap deletes them all; a new value
// holding "\n" (a rollback giving back such an entry) is written as one
// value per line. Values are octet strings and pass byte for byte (NUL,
// invalid UTF-8, empty). A value that itself contains "\n" would be
// ambiguous, so a swap away from it is refused for that account alone
// (the migration lists it; the batch goes on).
package ldapstore
