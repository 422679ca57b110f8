package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/overstap/overstap/adapters/state"
	"github.com/overstap/overstap/adapters/store"
	"github.com/overstap/overstap/adapters/store/sqlstore"
	"github.com/overstap/overstap/adapters/store/storeconfig"
	"github.com/overstap/overstap/internal/config"
	"github.com/overstap/overstap/migrate"
	"github.com/overstap/overstap/migrate/hash"
)

// migrateFlags are the flags every migrate subcommand that touches a store
// shares.
type migrateFlags struct {
	configFile string
	storeFile  string
	storeName  string
	linksApp   string
	state      string
	batch      int
	workers    int
	bcryptCost int
	skipDeriv  bool
	budget     float64
	maxRate    float64
	jsonOut    bool
	progressIv time.Duration
}

func (f *migrateFlags) register(c *cobra.Command, needStore bool) {
	if needStore {
		c.Flags().StringVar(&f.storeFile, "store", "", "store adapter configuration file (YAML, see configs/stores/), or with --config the name of one of its stores")
		c.Flags().StringVar(&f.storeName, "store-name", "", "name of the store in runs and reports (default: the configuration's name, else the file name)")
		c.Flags().StringVar(&f.linksApp, "links-app", "", "gateway app whose links count as linked (default: with --config the app linking this store, else the store name)")
		c.Flags().IntVar(&f.batch, "batch-size", migrate.DefaultBatchSize, "accounts per page and per batch")
		c.Flags().IntVar(&f.workers, "workers", 0, "goroutines for CPU-bound work (0 = all cores)")
		c.Flags().IntVar(&f.bcryptCost, "bcrypt-cost", hash.DefaultBcryptCost, "bcrypt cost of wrapped hashes")
		c.Flags().BoolVar(&f.skipDeriv, "skip-derived-check", false, "do not verify NRN-derived password candidates (faster on slow schemes)")
		c.Flags().DurationVar(&f.progressIv, "progress-interval", 0, "how often progress is written to stderr (0: 200ms on a terminal, else one JSON line per second)")
		c.Flags().Float64Var(&f.budget, "derived-budget", 1, "per-account cost of the NRN-derived check, in bcrypt-12 verifications; accounts over it are listed, not verified (negative: no bound)")
	}
	c.Flags().StringVar(&f.state, "state", "overstap-state.db", "state database: a SQLite file (sqlite:PATH or PATH) or a postgres:// URL")
	c.Flags().StringVar(&f.configFile, "config", "", "overstap configuration file: its state section replaces --state, its stores can be named by --store")
	c.Flags().BoolVar(&f.jsonOut, "json", false, "print the result as JSON")
}

// migrateEnv is what a subcommand works with.
type migrateEnv struct {
	db     *migrate.DB
	state  *state.Store
	store  store.Store
	engine *migrate.Engine
	logger *slog.Logger
	prog   *migrate.ProgressWriter
	// linksNote says why linked accounts are unknown ("" when known).
	linksNote string
}

func (m *migrateEnv) Close() {
	if m.prog != nil {
		m.prog.Close()
	}
	if m.store != nil {
		m.store.Close()
	}
	if m.state != nil {
		m.state.Close()
	}
}

// openState opens the state store named by dsn (a postgres:// URL, or a
// SQLite path with an optional sqlite: prefix) with the migrate tables.
func openState(ctx context.Context, dsn string) (*migrate.DB, *state.Store, error) {
	cfg := state.Config{Driver: "sqlite", Path: strings.TrimPrefix(dsn, "sqlite:")}
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		cfg = state.Config{Driver: "postgres", DSN: dsn}
	} else if cfg.Path == "" {
		return nil, nil, errors.New("migrate: --state: empty path")
	}
	return openStateConfig(ctx, cfg)
}

// openStateConfig opens the state store of a configuration section.
func openStateConfig(ctx context.Context, cfg state.Config) (*migrate.DB, *state.Store, error) {
	st, err := state.Open(ctx, cfg, nil, state.Migrations{Component: migrate.Component, FS: migrate.SchemaFS()})
	if err != nil {
		return nil, nil, err
	}
	db, err := migrate.OpenDB(st.DB(), migrate.Dialect(st.Dialect()))
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return db, st, nil
}

// loadStoreFile reads a store adapter configuration: the storeconfig form
// (name, type and the section of that type: sql, ldap, csv, httphook, as
// in the stores list of the overstap configuration), or a bare sqlstore
// configuration (driver, dsn, table, columns; configs/stores/seed-*.yaml),
// which is the sql type named after the file.
func loadStoreFile(path string) (storeconfig.Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return storeconfig.Config{}, fmt.Errorf("migrate: store configuration: %w", err)
	}
	var top map[string]any
	if err := yaml.Unmarshal(b, &top); err != nil {
		return storeconfig.Config{}, fmt.Errorf("migrate: store configuration %s: %w", path, err)
	}
	if _, typed := top["type"]; typed {
		var c storeconfig.Config
		if err := config.Load(path, &c); err != nil {
			return c, fmt.Errorf("migrate: store configuration: %w", err)
		}
		return c, nil
	}
	var sc sqlstore.Config
	if err := config.Load(path, &sc); err != nil {
		return storeconfig.Config{}, fmt.Errorf("migrate: store configuration (sqlstore form; or give name and type): %w", err)
	}
	name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	return storeconfig.Config{Name: name, Type: "sql", SQL: &sc}, nil
}

// storeConfig finds the store --store names: a file, else (with --config)
// a store of the configuration by name.
func (f *migrateFlags) storeConfig(cfg *fileConfig) (storeconfig.Config, error) {
	if f.storeFile == "" {
		return storeconfig.Config{}, errors.New("migrate: --store FILE (or, with --config, a store name) is required")
	}
	if _, err := os.Stat(f.storeFile); err != nil && cfg != nil {
		for _, sc := range cfg.Stores {
			if sc.Name == f.storeFile {
				return sc, nil
			}
		}
		return storeconfig.Config{}, fmt.Errorf("migrate: --store %q is neither a file nor a store of %s", f.storeFile, f.configFile)
	}
	return loadStoreFile(f.storeFile)
}

// linksApp is the gateway app whose links table records count.
func (f *migrateFlags) linksAppFor(cfg *fileConfig, storeName string) string {
	if f.linksApp != "" {
		return f.linksApp
	}
	if cfg != nil {
		var apps []string
		for app, l := range cfg.Linking {
			if l.Store == storeName {
				apps = append(apps, app)
			}
		}
		if len(apps) == 1 {
			return apps[0]
		}
	}
	return storeName
}

func (f *migrateFlags) open(ctx context.Context, s stdio, withStore bool) (*migrateEnv, error) {
	var cfg *fileConfig
	if f.configFile != "" {
		c, err := loadConfig(f.configFile)
		if err != nil {
			return nil, fmt.Errorf("migrate: %w", err)
		}
		cfg = &c
	}
	logger, err := commandLogger(s.err, cfg)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	env := &migrateEnv{logger: logger}
	if cfg != nil {
		env.db, env.state, err = openStateConfig(ctx, cfg.State)
	} else {
		env.db, env.state, err = openState(ctx, f.state)
	}
	if err != nil {
		return nil, fmt.Errorf("migrate: cannot open the state database: %w\nnothing was changed; fix the cause and run the same command again", err)
	}
	if !withStore {
		return env, nil
	}
	sc, err := f.storeConfig(cfg)
	if err != nil {
		env.Close()
		return nil, err
	}
	if f.storeName != "" {
		sc.Name = f.storeName
	}
	st, err := storeconfig.Open(ctx, sc, env.logger)
	if err != nil {
		env.Close()
		return nil, fmt.Errorf("migrate: cannot open store %q (%s adapter): %w\nnothing was changed; fix the cause and run the same command again (a started run resumes where it stopped)", sc.Name, sc.Type, err)
	}
	env.store = st
	var links migrate.Links
	switch l, err := migrate.NewStateLinks(ctx, env.db, f.linksAppFor(cfg, sc.Name)); {
	case err == nil:
		links = l
	case errors.Is(err, migrate.ErrNoLinksTable):
		env.linksNote = "linked accounts unknown: the state database has no links table (the gateway records first-login links there)"
	default:
		env.Close()
		return nil, err
	}
	h, err := hash.New(hash.Config{BcryptCost: f.bcryptCost, DerivedBudget: f.budget})
	if err != nil {
		env.Close()
		return nil, err
	}
	env.prog = newProgress(s.err, f.progressIv)
	env.engine, err = migrate.New(migrate.Options{
		Config:   migrate.Config{BatchSize: f.batch, Workers: f.workers, SkipDerivedCheck: f.skipDeriv, MaxAccountsPerSecond: f.maxRate},
		DB:       env.db,
		Store:    env.store,
		Hasher:   migrate.HashAdapter(h),
		Links:    links,
		Auditor:  stateAuditor{env.state},
		Progress: env.prog,
		Logger:   env.logger,
	})
	if err != nil {
		env.Close()
		return nil, err
	}
	return env, nil
}

// stateAuditor writes migrate audit events to the state store's
// hash-chained audit log.
type stateAuditor struct{ st *state.Store }

func (a stateAuditor) Audit(ctx context.Context, e migrate.AuditEvent) error {
	d := map[string]string{"policy": e.Policy}
	for k, v := range e.Attrs {
		d[k] = strconv.FormatInt(v, 10)
	}
	outcome := e.Status
	if outcome == "" {
		outcome = "started"
	}
	_, err := a.st.Append(ctx, state.Event{Time: e.Time, Type: e.Type, Actor: "overstap-migrate", Target: e.Run, App: e.Store, Outcome: outcome, Details: d})
	return err
}
