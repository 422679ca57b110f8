// Package state holds overstap's own durable records in SQL: SQLite (the
// embedded default, modernc.org/sqlite) or PostgreSQL (pgx, for several
// gateway nodes sharing one database).
//
// # Schema migrations
//
// Schemas are versioned SQL files embedded in the binary, applied by [Open]
// in one transaction and tracked per component in
// schema_migrations(component, version). This package's own component is
// "state" (the audit log); other packages contribute theirs with
// [Migrations] — an fs.FS holding sqlite/NNNN_name.sql and
// postgres/NNNN_name.sql — and then use [Store.DB] and [Store.Dialect]. A
// database at a newer version than the binary knows is refused with
// [*SchemaTooNewError] before anything is written.
//
// # Audit log
//
// [Store.Append] adds an entry to an append-only log in which every entry
// carries the SHA-256 hash of its canonical encoding, which includes the
// previous entry's hash; a head row records the last sequence number and
// hash. Appends from several processes are serialised (SQLite: BEGIN
// IMMEDIATE; PostgreSQL: SELECT ... FOR UPDATE on the head row). Actor and
// target are references (nrn.Number.Ref or account ids): an event in which
// any field holds a national number, or anything written like one, is
// refused. [Store.Verify] walks the chain and names the first broken link and
// its kind: modified, deleted, inserted or reordered. [OpenReadOnly] opens a
// database for verification only: no migration, nothing written, and a
// missing database ([ErrNoDatabase]) or one without the audit log
// ([ErrNoAuditLog]) is an error rather than an empty, "intact" chain.
//
// The hash chain makes tampering evident to anyone who runs Verify; it does
// not stop someone with write access to the database from rewriting the whole
// chain from the tampered entry on. Ship the head (Verify's last hash) to a
// place they cannot write — another system's log — to close that gap.
package state
