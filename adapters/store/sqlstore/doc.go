// Package sqlstore is the user-store adapter for SQL databases: PostgreSQL
// (pgx), MySQL/MariaDB (go-sql-driver/mysql) and SQLite (modernc).
//
// The vendor's table is mapped in configuration (table, columns, an
// optional restricted WHERE filter), or, for odd schemas, replaced by named
// custom queries. Identifiers are validated and quoted for the dialect;
// every value travels as a placeholder of a prepared statement.
//
// Iteration is keyset pagination in key order: numeric for integer keys,
// byte-wise for text keys (PostgreSQL COLLATE "C", MySQL CAST AS BINARY,
// SQLite BINARY), so memory stays constant and a cursor survives a dropped
// connection. Compare-and-swap is one conditional UPDATE (NULL-aware) in a
// transaction; when no row changes, a second read in the same transaction
// tells a conflict from a missing account.
package sqlstore
