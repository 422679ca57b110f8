// Package storeconfig is the one configuration section that chooses a
// user-store adapter and opens it:
//
//	name: eloket
//	type: sql            # sql | ldap | csv | httphook
//	sql:
//	  driver: postgres
//	  dsn: ${ELOKET_DB_DSN}
//	  table: users
//	  columns: {id: id, username: login, password: pw_hash}
//
// Validate checks only this level (name, type, the one matching section);
// the configuration loader validates the chosen section itself, and Open
// validates it again before connecting.
package storeconfig
