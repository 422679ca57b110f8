// Package migrate is the bulk credential migration engine behind
// `overstap migrate`: it scans a legacy user store, classifies every
// account (national number as username, NRN-derived password, hash scheme
// and strength, linked, locked), turns a policy into actions (plan), and
// applies them (apply) as compare-and-swap changes in batches, journaled
// first with the old value sealed to the administrator's X25519 key, with a
// checkpoint after every batch, so a run survives kill -9 and can be rolled
// back byte-for-byte by the holder of the private key.
//
// The engine consumes its collaborators through small interfaces defined
// here (Store, Hasher, Links, Auditor); the state database is a plain
// *sql.DB (SQLite or PostgreSQL) holding the tables of the embedded schema
// (component "migrate"). Across machines, batches travel through a Redis
// Stream consumer group (Queue).
//
// The journal never holds a clear national number or credential: national
// numbers only as keyed references (a random key per scan), old credentials
// only sealed (NaCl anonymous box), new hashes only as SHA-256 digests.
package migrate
