package migrate

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"runtime"
	"time"
)

// Config tunes the engine. The zero value is valid.
type Config struct {
	// BatchSize is the number of accounts per store page and per apply
	// batch (one journal transaction, one SwapBatch). 0 means
	// DefaultBatchSize.
	BatchSize int `yaml:"batch_size"`
	// Workers is the number of goroutines for CPU-bound work (hash
	// identification, NRN-derived checks, wrapping). 0 means all cores.
	Workers int `yaml:"workers"`
	// SkipDerivedCheck turns off the NRN-derived password check, which
	// costs one hash verification per candidate on slow schemes. Policies
	// that need it then only act on NRN usernames.
	SkipDerivedCheck bool `yaml:"skip_derived_check"`
	// MaxAccountsPerSecond throttles apply (0 = no limit) so a production
	// database is not overloaded.
	MaxAccountsPerSecond float64 `yaml:"max_accounts_per_second"`
	// SwapStreams is the number of concurrent store transactions a batch's
	// compare-and-swaps are split into (0 means 4, or 1 for a store with
	// multi-row swaps (MultiRowSwapper); 1 = one transaction per batch).
	// Keep it at or below the store adapter's connection pool.
	SwapStreams int `yaml:"swap_streams"`
}

// Default and limits of the configuration.
const (
	// DefaultBatchSize: per batch the engine pays one journal transaction
	// with its fsync, one store read and one swap statement; at 2000 these
	// weigh 5-12 % less than at 1000 (docs/benchmarks.md), with a few MB
	// of accounts in flight and a crash repeating at most one batch's
	// store reads.
	DefaultBatchSize = 2000
	MaxBatchSize     = 10_000
	MaxWorkers       = 1024
)

// Validate lists every problem of the configuration.
func (c Config) Validate() error {
	var errs []error
	if c.BatchSize < 0 || c.BatchSize > MaxBatchSize {
		errs = append(errs, fmt.Errorf("batch_size: must be between 1 and %d (0 = %d)", MaxBatchSize, DefaultBatchSize))
	}
	if c.Workers < 0 || c.Workers > MaxWorkers {
		errs = append(errs, fmt.Errorf("workers: must be between 1 and %d (0 = all cores)", MaxWorkers))
	}
	if c.SwapStreams < 0 || c.SwapStreams > 64 {
		errs = append(errs, errors.New("swap_streams: must be between 1 and 64 (0 = 4)"))
	}
	if c.MaxAccountsPerSecond < 0 {
		errs = append(errs, errors.New("max_accounts_per_second: must not be negative (0 = no limit)"))
	}
	return errors.Join(errs...)
}

func (c Config) batch() int {
	if c.BatchSize == 0 {
		return DefaultBatchSize
	}
	return c.BatchSize
}

func (c Config) swapStreams() int {
	if c.SwapStreams == 0 {
		return 4
	}
	return c.SwapStreams
}

func (c Config) workers() int {
	if c.Workers == 0 {
		return runtime.GOMAXPROCS(0)
	}
	return c.Workers
}

// Options wires an Engine.
type Options struct {
	Config Config
	// DB is the state database (required).
	DB *DB
	// Store is the legacy user store (required).
	Store Store
	// Hasher identifies, checks and wraps hashes (required).
	Hasher Hasher
	// Links tells linked accounts; nil means unknown.
	Links Links
	// Auditor receives start/end events; nil means none.
	Auditor Auditor
	// Progress receives progress updates; nil means none.
	Progress Progress
	// Logger; nil discards.
	Logger *slog.Logger
	// Now; nil means time.Now.
	Now func() time.Time
}

// Engine runs scans, applies and rollbacks against one store.
type Engine struct {
	cfg      Config
	db       *DB
	store    Store
	hasher   Hasher
	links    Links
	auditor  Auditor
	progress Progress
	log      *slog.Logger
	now      func() time.Time
}

// New validates the options and returns an Engine.
func New(o Options) (*Engine, error) {
	errs := []error{o.Config.Validate()}
	if o.DB == nil {
		errs = append(errs, errors.New("migrate: no state database"))
	}
	if o.Store == nil {
		errs = append(errs, errors.New("migrate: no store"))
	}
	if o.Hasher == nil {
		errs = append(errs, errors.New("migrate: no hasher"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	e := &Engine{cfg: o.Config, db: o.DB, store: o.Store, hasher: o.Hasher, links: o.Links,
		auditor: o.Auditor, progress: o.Progress, log: o.Logger, now: o.Now}
	if e.log == nil {
		e.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.progress == nil {
		e.progress = nopProgress{}
	}
	return e, nil
}

// runIDPattern bounds run IDs: they appear in markers, file names and
// Redis keys.
var runIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{2,62}$`)

// ValidRunID reports whether s is a well-formed run ID.
func ValidRunID(s string) bool { return runIDPattern.MatchString(s) }

// NewRunID returns a fresh run ID: kind, UTC time and random suffix.
func NewRunID(kind string, now time.Time) string {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return kind + "-" + now.UTC().Format("20060102t150405") + "-" + hex.EncodeToString(b[:])
}

func (e *Engine) audit(ctx context.Context, ev AuditEvent) {
	if e.auditor == nil {
		return
	}
	ev.Time = e.now().UTC()
	if err := e.auditor.Audit(ctx, ev); err != nil {
		e.log.Warn("migrate: audit event not written", "type", ev.Type, "run", ev.Run, "err", err)
	}
}
