package registry

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // driver "sqlite"

	"github.com/overstap/overstap/internal/config"
)

// Config is the `registry` section of the family configuration.
type Config struct {
	// Kind of register: "none" (default: every link needs consent), "sql",
	// "csv" or "http".
	Kind string `yaml:"kind"`
	// SQL is the database export (kind sql).
	SQL SQLConfig `yaml:"sql"`
	// CSV is the file export (kind csv).
	CSV CSVConfig `yaml:"csv"`
	// HTTP is the signed JSON service (kind http).
	HTTP HTTPConfig `yaml:"http"`
}

// SQLConfig is a register export in a database.
type SQLConfig struct {
	// Driver: "postgres", "mysql" (MariaDB/MySQL) or "sqlite".
	Driver string `yaml:"driver"`
	// DSN is the connection string (pgx URL, go-sql-driver DSN, or SQLite
	// path). Put no password in it: use password.
	DSN string `yaml:"dsn"`
	// Password for PostgreSQL/MariaDB, a secret reference.
	Password config.Secret `yaml:"password"`
	// PersonQuery returns (birth_date, deceased) of one national number;
	// RelationsQuery its (related_nrn, kind) rows; HouseholdQuery the
	// (household_id, nrn, position) rows of its household. Each takes the
	// 11-digit number as its one "?" parameter. Defaults: the documented
	// export tables (ExportSchema).
	PersonQuery    string `yaml:"person_query"`
	RelationsQuery string `yaml:"relations_query"`
	HouseholdQuery string `yaml:"household_query"`
	// Timeout bounds one lookup (default 5s).
	Timeout time.Duration `yaml:"timeout"`
}

// CSVConfig is a register export as two CSV files (read at start-up).
type CSVConfig struct {
	// Persons is persons.csv: nrn,birth_date,deceased,household_id,position.
	Persons string `yaml:"persons"`
	// Relations is relations.csv: nrn,related_nrn,kind (child or ward).
	Relations string `yaml:"relations"`
}

// Validate reports every problem of the section.
func (c Config) Validate() error {
	var errs []error
	switch c.Kind {
	case "", "none":
	case "sql":
		s := c.SQL
		switch s.Driver {
		case "postgres":
			if _, err := pgx.ParseConfig(s.DSN); err != nil || s.DSN == "" {
				errs = append(errs, errors.New("sql.dsn: a PostgreSQL connection string is required"))
			} else if strings.Contains(s.DSN, "password=") || urlPassword(s.DSN) {
				errs = append(errs, errors.New(`sql.dsn: holds a password; move it to sql.password: "${ENV_VAR}"`))
			}
		case "mysql":
			if s.DSN == "" {
				errs = append(errs, errors.New("sql.dsn: required"))
			} else if mc, err := mysql.ParseDSN(s.DSN); err != nil {
				errs = append(errs, errors.New("sql.dsn: not a valid MariaDB/MySQL DSN (user@tcp(host:3306)/db)"))
			} else if mc.Passwd != "" {
				errs = append(errs, errors.New(`sql.dsn: holds a password; move it to sql.password: "${ENV_VAR}"`))
			}
		case "sqlite":
			if s.DSN == "" {
				errs = append(errs, errors.New("sql.dsn: required"))
			}
		default:
			errs = append(errs, errors.New("sql.driver: must be postgres, mysql or sqlite"))
		}
		for k, q := range map[string]string{"person_query": s.PersonQuery, "relations_query": s.RelationsQuery, "household_query": s.HouseholdQuery} {
			if q != "" && strings.Count(q, "?") != 1 {
				errs = append(errs, fmt.Errorf("sql.%s: must take exactly one ? parameter (the national number)", k))
			}
		}
		if s.Timeout < 0 || s.Timeout > time.Minute {
			errs = append(errs, errors.New("sql.timeout: between 0 (default 5s) and 1m"))
		}
	case "csv":
		if c.CSV.Persons == "" || c.CSV.Relations == "" {
			errs = append(errs, errors.New("csv.persons, csv.relations: both files are required"))
		}
	case "http":
		if err := c.HTTP.check(); err != nil {
			errs = append(errs, fmt.Errorf("http.%w", err))
		}
	default:
		errs = append(errs, fmt.Errorf("kind: unknown register %q: use none, sql, csv or http", c.Kind))
	}
	return errors.Join(errs...)
}

// Open builds the configured source. A nil logger discards.
func Open(ctx context.Context, c Config, logger *slog.Logger) (Source, error) {
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("registry: invalid config: %w", err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	switch c.Kind {
	case "sql":
		var db *sql.DB
		var err error
		switch c.SQL.Driver {
		case "postgres":
			pc, _ := pgx.ParseConfig(c.SQL.DSN)
			if !c.SQL.Password.IsZero() {
				pc.Password = c.SQL.Password.Value()
			}
			db = stdlib.OpenDB(*pc)
		case "mysql":
			mc, _ := mysql.ParseDSN(c.SQL.DSN)
			if !c.SQL.Password.IsZero() {
				mc.Passwd = c.SQL.Password.Value()
			}
			conn, cerr := mysql.NewConnector(mc)
			if err = cerr; err == nil {
				db = sql.OpenDB(conn)
			}
		case "sqlite":
			db, err = sql.Open("sqlite", c.SQL.DSN)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: sql: %v", ErrUnavailable, err)
		}
		s := NewSQL(db, c.SQL.Driver == "postgres", c.SQL)
		s.closeDB = true
		// An unreachable register at start-up is not fatal: lookups fail
		// closed until it is back.
		pctx, cancel := context.WithTimeout(ctx, s.timeout)
		defer cancel()
		if err := db.PingContext(pctx); err != nil {
			logger.Warn("registry: sql register unreachable at start-up; family links need consent until it is back", "err", err.Error())
		}
		return s, nil
	case "csv":
		pf, err := os.Open(c.CSV.Persons)
		if err != nil {
			return nil, fmt.Errorf("registry: csv.persons: %w", err)
		}
		defer pf.Close()
		rf, err := os.Open(c.CSV.Relations)
		if err != nil {
			return nil, fmt.Errorf("registry: csv.relations: %w", err)
		}
		defer rf.Close()
		e, err := ReadCSV(pf, rf)
		if err != nil {
			return nil, err
		}
		return NewMemory("csv", e)
	case "http":
		return NewHTTP(c.HTTP)
	}
	return None{}, nil
}

// HTTPConfig is the signed JSON register service (protocol in
// docs/adapters/registry.md).
type HTTPConfig struct {
	// URL is the service's base URL; /v1/person and /v1/household are
	// appended. https unless InsecureAllowHTTP.
	URL string `yaml:"url"`
	// Key is the shared HMAC-SHA256 key, at least 32 bytes.
	Key config.Secret `yaml:"key"`
	// Timeout bounds one call (default 5s).
	Timeout time.Duration `yaml:"timeout"`
	// InsecureAllowHTTP allows plain http (same host, tests only).
	InsecureAllowHTTP bool `yaml:"insecure_allow_http"`
	// HTTPClient overrides the transport (tests, custom CAs).
	HTTPClient *http.Client `yaml:"-"`
	// Now is the clock of request timestamps.
	Now func() time.Time `yaml:"-"`
}

// check reports every problem of the HTTP section (keys relative); it is
// not Validate, so a strict config loader does not check an unused section.
func (c HTTPConfig) check() error {
	var errs []error
	u, err := url.Parse(c.URL)
	switch {
	case c.URL == "":
		errs = append(errs, errors.New("url: required"))
	case err != nil || !u.IsAbs() || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "":
		errs = append(errs, errors.New("url: an absolute URL without credentials, query or fragment"))
	case u.Scheme == "http" && !c.InsecureAllowHTTP:
		errs = append(errs, errors.New("url: must be https (or insecure_allow_http for the same host)"))
	case u.Scheme != "https" && u.Scheme != "http":
		errs = append(errs, errors.New("url: scheme must be https"))
	}
	if len(c.Key.Bytes()) < MinKeyLen {
		errs = append(errs, errors.New("key: required, at least 32 bytes"))
	}
	if c.Timeout < 0 || c.Timeout > time.Minute {
		errs = append(errs, errors.New("timeout: between 0 (default 5s) and 1m"))
	}
	return errors.Join(errs...)
}

func urlPassword(dsn string) bool {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return false
	}
	_, ok := u.User.Password()
	return ok
}
