package sqlstore

import (
	"errors"
	"fmt"
	"strings"

	"github.com/overstap/overstap/internal/config"
)

// Config maps a vendor's SQL table (or custom queries) onto store.Account.
type Config struct {
	// Driver is the database: postgres, mysql (also MariaDB) or sqlite.
	Driver string `yaml:"driver"`
	// DSN is the connection string (pgx URL or keyword form, go-sql-driver
	// DSN, or SQLite file name), a secret reference since it may hold a
	// password.
	DSN config.Secret `yaml:"dsn"`
	// Table is the accounts table, optionally schema-qualified
	// ("legacy.users"). Not needed when Queries replaces every read.
	Table string `yaml:"table"`
	// Columns maps the account fields onto columns.
	Columns Columns `yaml:"columns"`
	// IDType is "integer" or "text"; empty detects it from the id column.
	// It decides the key order: numeric, or byte-wise for text.
	IDType string `yaml:"id_type"`
	// Filter restricts the accounts overstap sees and may change, as a
	// restricted WHERE expression: columns, comparisons with literals,
	// IS [NOT] NULL, [NOT] IN (...), AND/OR/NOT, parentheses. Example:
	// "realm = 'citizens' AND deleted_at IS NULL".
	Filter string `yaml:"filter"`
	// SchemeHint names the hash scheme of credentials that do not describe
	// themselves, e.g. "md5(salt+password)" or "plaintext"; passed on as
	// Account.SchemeHint.
	SchemeHint string `yaml:"scheme_hint"`
	// DisabledInverted says the disabled column is really an "active" or
	// "enabled" flag: true there means the account is usable.
	DisabledInverted bool `yaml:"disabled_inverted"`
	// Queries replaces the generated statements for schemas a table
	// mapping cannot describe.
	Queries Queries `yaml:"queries"`
	// MaxOpenConns bounds the connection pool (default 4).
	MaxOpenConns int `yaml:"max_open_conns"`
}

// Columns names the columns of the accounts table. ID, Username and
// Password are required; the others are optional.
type Columns struct {
	ID        string `yaml:"id"`
	Username  string `yaml:"username"`
	Password  string `yaml:"password"`
	Salt      string `yaml:"salt"`
	NRN       string `yaml:"nrn"`
	Name      string `yaml:"name"`
	Disabled  string `yaml:"disabled"`
	Federated string `yaml:"federated"`
	// Created is the account's creation date (optional), for the bulk
	// engine's created-before filter (CreatedAt): a date/time column, a
	// text column in ISO 8601 ("2006-01-02", "2006-01-02 15:04:05",
	// RFC 3339; without a zone: UTC), or an integer column of Unix
	// seconds. Values in another form count as unknown, never guessed.
	Created string `yaml:"created"`
}

// Queries are custom statements in the database's own placeholder style
// ($1 for PostgreSQL, ? otherwise). Every read returns the eight columns
// id, username, password, salt, nrn, name, disabled, federated in that
// order (NULL for those the schema lacks). Parameters, in order:
//
//	iterate_first: limit           iterate: after, limit   (ordered by id)
//	get: id                        by_username: username
//	by_nrn: plain, dotted, spaced, hyphenated written forms (a query
//	        with 8 placeholders gets the four twice, for MySQL's "?")
//	compare_and_swap: new, id, old    compare_and_swap_null: new, id
//	current: id (returns the one credential column)
//	set_federated: flag, id
//
// The reads come as a set (iterate_first, iterate, get, by_username,
// by_nrn) and the writes as a set (compare_and_swap, compare_and_swap_null,
// current); set_federated is optional. Custom queries are trusted
// configuration: they are not parsed, so review them like code.
type Queries struct {
	IterateFirst       string `yaml:"iterate_first"`
	Iterate            string `yaml:"iterate"`
	Get                string `yaml:"get"`
	ByUsername         string `yaml:"by_username"`
	ByNRN              string `yaml:"by_nrn"`
	CompareAndSwap     string `yaml:"compare_and_swap"`
	CompareAndSwapNull string `yaml:"compare_and_swap_null"`
	Current            string `yaml:"current"`
	SetFederated       string `yaml:"set_federated"`
}

func (q Queries) reads() []string {
	return []string{q.IterateFirst, q.Iterate, q.Get, q.ByUsername, q.ByNRN}
}

func (q Queries) writes() []string {
	return []string{q.CompareAndSwap, q.CompareAndSwapNull, q.Current}
}

func countSet(qs []string) int {
	n := 0
	for _, q := range qs {
		if strings.TrimSpace(q) != "" {
			n++
		}
	}
	return n
}

// customReads reports whether the reads are custom queries.
func (c Config) customReads() bool { return countSet(c.Queries.reads()) > 0 }

// customWrites reports whether the writes are custom queries.
func (c Config) customWrites() bool { return countSet(c.Queries.writes()) > 0 }

// needsTable reports whether any generated statement needs the table.
func (c Config) needsTable() bool {
	return !c.customReads() || !c.customWrites() || (c.Columns.Federated != "" && c.Queries.SetFederated == "") || c.Columns.Created != ""
}

// Validate reports every problem with the configuration.
func (c Config) Validate() error {
	var errs []error
	if _, ok := dialectFor(c.Driver); !ok {
		errs = append(errs, fmt.Errorf("driver: %q is not postgres, mysql or sqlite", c.Driver))
	}
	if c.DSN.IsZero() {
		errs = append(errs, errors.New("dsn: required (a secret reference, e.g. ${LEGACY_DB_DSN})"))
	}
	if c.needsTable() {
		if c.Table == "" {
			errs = append(errs, errors.New("table: required unless queries replace every statement"))
		} else if !validIdent(c.Table, true) {
			errs = append(errs, fmt.Errorf("table: %q is not a plain identifier (letters, digits, _; optionally schema.table)", c.Table))
		}
		for _, col := range []struct{ key, v string }{
			{"id", c.Columns.ID}, {"username", c.Columns.Username}, {"password", c.Columns.Password},
		} {
			if col.v == "" {
				errs = append(errs, fmt.Errorf("columns.%s: required", col.key))
			}
		}
	}
	for _, col := range []struct{ key, v string }{
		{"id", c.Columns.ID}, {"username", c.Columns.Username}, {"password", c.Columns.Password},
		{"salt", c.Columns.Salt}, {"nrn", c.Columns.NRN}, {"name", c.Columns.Name},
		{"disabled", c.Columns.Disabled}, {"federated", c.Columns.Federated}, {"created", c.Columns.Created},
	} {
		if col.v != "" && !validIdent(col.v, false) {
			errs = append(errs, fmt.Errorf("columns.%s: %q is not a plain identifier (letters, digits, _)", col.key, col.v))
		}
	}
	switch c.IDType {
	case "", "integer", "text":
	default:
		errs = append(errs, fmt.Errorf("id_type: %q is not integer or text", c.IDType))
	}
	if _, err := parseFilter(c.Filter); err != nil {
		errs = append(errs, fmt.Errorf("filter: %w", err))
	}
	if n := countSet(c.Queries.reads()); n > 0 && n < 5 {
		errs = append(errs, errors.New("queries: iterate_first, iterate, get, by_username and by_nrn go together"))
	}
	if n := countSet(c.Queries.writes()); n > 0 && n < 3 {
		errs = append(errs, errors.New("queries: compare_and_swap, compare_and_swap_null and current go together"))
	}
	if (c.customReads() || c.customWrites()) && c.Filter != "" {
		errs = append(errs, errors.New("filter: not applied to custom queries; put the condition into the queries"))
	}
	if c.customReads() && c.IDType == "" {
		errs = append(errs, errors.New("id_type: required with custom queries (integer or text)"))
	}
	if len(c.SchemeHint) > 128 {
		errs = append(errs, errors.New("scheme_hint: longer than 128 bytes"))
	}
	if c.MaxOpenConns < 0 || c.MaxOpenConns > 256 {
		errs = append(errs, fmt.Errorf("max_open_conns: %d out of range 0..256", c.MaxOpenConns))
	}
	return errors.Join(errs...)
}
