package state

import (
	"context"
	"crypto/tls"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // driver "sqlite"

	"github.com/overstap/overstap/internal/config"
)

// Dialect is the SQL dialect of a store's database.
type Dialect string

// The supported dialects; also the values of Config.Driver.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Rebind turns the "?" placeholders of q into "$1", "$2", ... for
// PostgreSQL; SQLite takes q as it is. q must not hold a "?" in a literal.
func (d Dialect) Rebind(q string) string {
	if d != Postgres || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// Scanner is one row: *sql.Row or *sql.Rows.
type Scanner interface{ Scan(dest ...any) error }

// Querier is *sql.DB or *sql.Tx.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// QueryAll runs query on q and returns one T a row, made by scan. The
// first error of the query, a scan or the iteration (rows.Err) comes back
// as it is, and no partial list with it: the one rows loop of the parts
// that keep their tables here (family, migrate).
func QueryAll[T any](ctx context.Context, q Querier, query string, args []any, scan func(Scanner) (T, error)) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// Config is the `state` section of the configuration file.
type Config struct {
	// Driver is the database: "sqlite" (default; one file, one gateway node)
	// or "postgres" (several gateway nodes sharing the state).
	Driver string `yaml:"driver"`
	// Path of the SQLite database file (driver sqlite). Created with mode
	// 0600 when missing; its directory must exist. Default: overstap.db.
	Path string `yaml:"path"`
	// DSN is the PostgreSQL connection string (driver postgres), e.g.
	// "postgres://overstap@db.internal:5432/overstap?sslmode=verify-full".
	// Put no password in it: use password.
	DSN string `yaml:"dsn"`
	// Password for PostgreSQL, as a secret reference ("${ENV_VAR}" or
	// "file:/path"). Optional: pgpass files and other pgx methods work too.
	Password config.Secret `yaml:"password"`
	// MaxOpenConns bounds the connection pool (PostgreSQL). Default: 10.
	MaxOpenConns int `yaml:"max_open_conns"`
	// BusyTimeout is how long SQLite waits for another writer (another
	// overstap process on the same file) before giving up. Default: 5s.
	BusyTimeout time.Duration `yaml:"busy_timeout"`
	// ConnectTimeout bounds connecting to PostgreSQL at start-up. Default: 5s.
	ConnectTimeout time.Duration `yaml:"connect_timeout"`
	// AllowUnverifiedTLS accepts a dsn whose sslmode does not verify the
	// server (disable, allow, prefer — the default —, require) for a host
	// that is not loopback or a Unix socket. Off by default: the audit log
	// and account links must not cross the network in clear or to an
	// unauthenticated server. Do not turn it on in production; it is
	// logged at start-up.
	AllowUnverifiedTLS bool `yaml:"allow_unverified_tls"`

	// Now is the clock for audit entries without a time (tests); not
	// configurable in YAML.
	Now func() time.Time `yaml:"-"`
}

// Validate reports every problem of the section, each starting with its key.
func (c Config) Validate() error {
	var errs []error
	switch Dialect(c.driver()) {
	case SQLite:
		if strings.ContainsAny(c.Path, "?#\x00") {
			errs = append(errs, errors.New(`path: must not contain "?", "#" or NUL`))
		}
		if c.DSN != "" {
			errs = append(errs, errors.New("dsn: only for driver postgres; use path for sqlite"))
		}
	case Postgres:
		if c.DSN == "" {
			errs = append(errs, errors.New(`dsn: required for driver postgres, e.g. "postgres://overstap@db:5432/overstap?sslmode=verify-full"`))
		} else if pc, err := pgx.ParseConfig(c.DSN); err != nil {
			errs = append(errs, errors.New("dsn: not a valid PostgreSQL connection string"))
		} else if strings.Contains(c.DSN, "password=") || hasURLPassword(c.DSN) {
			errs = append(errs, errors.New(`dsn: holds a password; move it to password: "${ENV_VAR}"`))
		} else if pc.Host == "" {
			errs = append(errs, errors.New("dsn: no host"))
		} else if !c.AllowUnverifiedTLS && !localPostgres(pc) && !verifiesTLS(pc) {
			errs = append(errs, errors.New(`dsn: sslmode must be verify-full (or verify-ca) for a remote host: the default "prefer" falls back to plain text and "require" accepts any certificate`))
		}
		if c.Path != "" {
			errs = append(errs, errors.New("path: only for driver sqlite; use dsn for postgres"))
		}
	default:
		errs = append(errs, fmt.Errorf("driver: unknown driver %q: use sqlite or postgres", c.Driver))
	}
	if c.MaxOpenConns < 0 || c.MaxOpenConns > 1000 {
		errs = append(errs, errors.New("max_open_conns: must be between 0 (default) and 1000"))
	}
	if c.BusyTimeout < 0 || c.BusyTimeout > 10*time.Minute {
		errs = append(errs, errors.New("busy_timeout: must be between 0 (default 5s) and 10m"))
	}
	if c.ConnectTimeout < 0 || c.ConnectTimeout > 10*time.Minute {
		errs = append(errs, errors.New("connect_timeout: must be between 0 (default 5s) and 10m"))
	}
	return errors.Join(errs...)
}

// localPostgres reports whether every host of pc is a Unix socket or a
// loopback address.
func localPostgres(pc *pgx.ConnConfig) bool {
	hosts := []string{pc.Host}
	for _, f := range pc.Fallbacks {
		hosts = append(hosts, f.Host)
	}
	for _, h := range hosts {
		if strings.HasPrefix(h, "/") || h == "localhost" {
			continue
		}
		if ip, err := netip.ParseAddr(h); err == nil && ip.IsLoopback() {
			continue
		}
		return false
	}
	return true
}

// verifiesTLS reports whether every connection attempt pgx will make uses
// TLS with the server's certificate checked (sslmode verify-ca or
// verify-full): no plain-text fallback and no unchecked certificate.
func verifiesTLS(pc *pgx.ConnConfig) bool {
	ok := func(t *tls.Config) bool {
		return t != nil && (!t.InsecureSkipVerify || t.VerifyPeerCertificate != nil || t.VerifyConnection != nil)
	}
	if !ok(pc.TLSConfig) {
		return false
	}
	for _, f := range pc.Fallbacks {
		if !ok(f.TLSConfig) {
			return false
		}
	}
	return true
}

func hasURLPassword(dsn string) bool {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return false
	}
	_, ok := u.User.Password()
	return ok
}

func (c Config) driver() string {
	if c.Driver == "" {
		return string(SQLite)
	}
	return c.Driver
}

// ErrUnreachable is returned by Open when the database cannot be opened or
// reached.
var ErrUnreachable = errors.New("state: database unreachable")

// Store is overstap's durable state: the audit log, and the database other
// packages keep their tables in. It is safe for concurrent use, also by
// several processes on the same database.
type Store struct {
	db      *sql.DB
	dialect Dialect
	log     *slog.Logger
	now     func() time.Time
	where   string // the database, for messages: a file path or host/dbname
	// readOnly is set by OpenReadOnly: writing methods fail with ErrReadOnly.
	readOnly bool
	stmt     appendStatements
}

// Open connects to the database cfg names, applies the embedded schema
// migrations of this package and of extra (in that order, in one
// transaction), and returns the store. A nil logger discards.
func Open(ctx context.Context, cfg Config, logger *slog.Logger, extra ...Migrations) (*Store, error) {
	s, err := newStore(cfg, logger, false)
	if err != nil {
		return nil, err
	}
	if cfg.AllowUnverifiedTLS && s.dialect == Postgres {
		s.log.Warn("state: allow_unverified_tls is ON: the PostgreSQL server is not authenticated (development only)")
	}
	switch s.dialect {
	case SQLite:
		err = s.openSQLite(ctx, cfg)
	case Postgres:
		err = s.openPostgres(ctx, cfg)
	}
	if err != nil {
		return nil, err
	}
	sets := append([]Migrations{{Component: "state", FS: ownMigrations}}, extra...)
	if err := migrate(ctx, s.db, s.dialect, sets, s.log, s.now); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("state: %s: %w", s.where, err)
	}
	return s, nil
}

func (s *Store) openSQLite(ctx context.Context, cfg Config) error {
	path := cfg.Path
	if path == "" {
		path = "overstap.db"
	}
	s.where = "sqlite " + path
	if dir := filepath.Dir(path); dir != "" {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			return fmt.Errorf("%w: sqlite %s: directory %s does not exist", ErrUnreachable, path, dir)
		}
	}
	// Create the file ourselves so that it is not world-readable.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("%w: sqlite %s: %w", ErrUnreachable, path, err)
	}
	if fi, err := f.Stat(); err == nil && fi.Mode().Perm()&0o077 != 0 {
		// An existing file keeps its mode: say so rather than change an
		// administrator's choice behind their back.
		s.log.Warn("state: the database file is accessible to group or others; restrict it (chmod 600)",
			"path", path, "mode", fi.Mode().Perm().String())
	}
	f.Close()
	busy := cfg.BusyTimeout
	if busy == 0 {
		busy = 5 * time.Second
	}
	q := url.Values{}
	q.Set("_txlock", "immediate") // write transactions take the lock up front: no upgrade deadlocks
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busy.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(FULL)")
	return s.connectSQLite(ctx, path+"?"+q.Encode())
}

// newStore validates cfg and prepares a store, not yet connected.
func newStore(cfg Config, logger *slog.Logger, readOnly bool) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("state: invalid config: %w", err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	d := Dialect(cfg.driver())
	s := &Store{dialect: d, log: logger, now: cfg.Now, readOnly: readOnly, stmt: appendStatementsFor(d)}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// connectSQLite opens the SQLite database dsn (s.where already set) and
// checks that it answers.
func (s *Store) connectSQLite(ctx context.Context, dsn string) error {
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrUnreachable, s.where, err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return fmt.Errorf("%w: %s: %w", ErrUnreachable, s.where, err)
	}
	s.db = db
	return nil
}

// pgConfig parses the PostgreSQL DSN with the password and connect timeout
// of cfg, and sets s.where.
func (s *Store) pgConfig(cfg Config) (*pgx.ConnConfig, error) {
	pc, err := pgx.ParseConfig(cfg.DSN)
	if err != nil {
		return nil, fmt.Errorf("state: dsn: %w", err)
	}
	s.where = fmt.Sprintf("postgres %s:%d/%s", pc.Host, pc.Port, pc.Database)
	if !cfg.Password.IsZero() {
		pc.Password = cfg.Password.Value()
	}
	pc.ConnectTimeout = cfg.ConnectTimeout
	if pc.ConnectTimeout == 0 {
		pc.ConnectTimeout = 5 * time.Second
	}
	return pc, nil
}

// connectPostgres opens a pool of at most maxConns connections for pc and
// checks within the connect timeout that the server answers.
func (s *Store) connectPostgres(ctx context.Context, pc *pgx.ConnConfig, maxConns int) error {
	db := stdlib.OpenDB(*pc)
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, pc.ConnectTimeout)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return fmt.Errorf("%w: %s: %w", ErrUnreachable, s.where, err)
	}
	s.db = db
	return nil
}

func (s *Store) openPostgres(ctx context.Context, cfg Config) error {
	pc, err := s.pgConfig(cfg)
	if err != nil {
		return err
	}
	n := cfg.MaxOpenConns
	if n == 0 {
		n = 10
	}
	return s.connectPostgres(ctx, pc, n)
}

// DB returns the database, for packages that keep their own tables in it
// (added through [Migrations]).
func (s *Store) DB() *sql.DB { return s.db }

// Dialect returns the database's SQL dialect.
func (s *Store) Dialect() Dialect { return s.dialect }

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }
