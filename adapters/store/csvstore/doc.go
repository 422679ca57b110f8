// Package csvstore is the user-store adapter for vendors who can only hand
// over an export: accounts are read from a CSV or TSV file with a header
// row and a column map; changes are never written into the export but
// appended (and fsynced) to a separate changes file that the vendor imports:
//
//	seq,time,id,action,value,old_sha256
//	1,2026-11-22T10:00:00Z,1042,set_credential,!revoked:...,3f1a...
//	2,2026-11-22T10:00:01Z,1042,set_federated,true,
//
// old_sha256 is the hex SHA-256 of the credential the change replaces (empty
// when it was NULL), so the vendor's import can refuse a change whose old
// value no longer matches, without the file holding the old hash.
//
// Pending changes are read back at open and override the export, so
// compare-and-swap within overstap is consistent; but a change made in the
// vendor's live system after the export cannot be seen, so
// Capabilities.AtomicCAS is false and the bulk engine refuses destructive
// work unless forced. When a new export that includes the imported changes
// arrives, move the old changes file away.
//
// The adapter keeps an index of ids and file offsets in memory (tens of
// bytes per account) and reads accounts from disk page by page. Lookups by
// username or national number scan the file: this adapter serves bulk
// migration, not the gateway's login path.
package csvstore
