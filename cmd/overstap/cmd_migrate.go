package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/overstap/overstap/adapters/state"
	"github.com/overstap/overstap/adapters/store/sqlstore"
	"github.com/overstap/overstap/internal/config"
	"github.com/overstap/overstap/internal/logging"
	"github.com/overstap/overstap/migrate"
	"github.com/overstap/overstap/migrate/hash"
	"github.com/overstap/overstap/migrate/seed"
)

// migrateFlags are the flags every migrate subcommand that touches a store
// shares.
type migrateFlags struct {
	configFile string
	storeFile  string
	storeName  string
	state      string
	batch      int
	workers    int
	bcryptCost int
	skipDeriv  bool
	maxRate    float64
	jsonOut    bool
}

func (f *migrateFlags) register(c *cobra.Command, needStore bool) {
	if needStore {
		c.Flags().StringVar(&f.storeFile, "store", "", "store adapter configuration (YAML, see configs/stores/)")
		c.Flags().StringVar(&f.storeName, "store-name", "", "name of the store in runs and reports (default: file name)")
		c.Flags().IntVar(&f.batch, "batch-size", 1000, "accounts per page and per batch")
		c.Flags().IntVar(&f.workers, "workers", 0, "goroutines for CPU-bound work (0 = all cores)")
		c.Flags().IntVar(&f.bcryptCost, "bcrypt-cost", hash.DefaultBcryptCost, "bcrypt cost of wrapped hashes")
		c.Flags().BoolVar(&f.skipDeriv, "skip-derived-check", false, "do not verify NRN-derived password candidates (faster on slow schemes)")
	}
	c.Flags().StringVar(&f.state, "state", "overstap-state.db", "state database: a SQLite file (sqlite:PATH or PATH) or a postgres:// URL")
	c.Flags().StringVar(&f.configFile, "config", "", "overstap configuration file: its state section replaces --state")
	c.Flags().BoolVar(&f.jsonOut, "json", false, "print the result as JSON")
}

// migrateEnv is what a subcommand works with.
type migrateEnv struct {
	db     *migrate.DB
	state  *state.Store
	store  *sqlstore.Store
	engine *migrate.Engine
	logger *slog.Logger
}

func (m *migrateEnv) Close() {
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

func (f *migrateFlags) open(ctx context.Context, s stdio, withStore bool) (*migrateEnv, error) {
	env := &migrateEnv{logger: slog.New(slog.NewTextHandler(s.err, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	var err error
	if f.configFile != "" {
		cfg, cerr := loadConfig(f.configFile)
		if cerr != nil {
			return nil, fmt.Errorf("migrate: %w", cerr)
		}
		env.db, env.state, err = openStateConfig(ctx, cfg.State)
	} else {
		env.db, env.state, err = openState(ctx, f.state)
	}
	if err != nil {
		return nil, err
	}
	if !withStore {
		return env, nil
	}
	if f.storeFile == "" {
		env.Close()
		return nil, errors.New("migrate: --store FILE is required")
	}
	var sc sqlstore.Config
	if err := config.Load(f.storeFile, &sc); err != nil {
		env.Close()
		return nil, fmt.Errorf("migrate: store configuration %s: %w", f.storeFile, err)
	}
	name := f.storeName
	if name == "" {
		name = strings.TrimSuffix(filepath.Base(f.storeFile), filepath.Ext(f.storeFile))
	}
	if env.store, err = sqlstore.Open(ctx, name, sc, env.logger); err != nil {
		env.Close()
		return nil, err
	}
	h, err := hash.New(hash.Config{BcryptCost: f.bcryptCost})
	if err != nil {
		env.Close()
		return nil, err
	}
	env.engine, err = migrate.New(migrate.Options{
		Config:   migrate.Config{BatchSize: f.batch, Workers: f.workers, SkipDerivedCheck: f.skipDeriv, MaxAccountsPerSecond: f.maxRate},
		DB:       env.db,
		Store:    env.store,
		Hasher:   migrate.HashAdapter(h),
		Auditor:  stateAuditor{env.state},
		Progress: migrate.NewProgressWriter(s.err, isTerminal(s.err), nil),
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

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func newMigrateCmd(s stdio) *cobra.Command {
	c := &cobra.Command{
		Use:   "migrate",
		Short: "Scan a legacy user store and revoke or re-hash credentials in bulk",
		Long: `Bulk credential migration: keygen, seed, scan, plan, apply, worker, rollback,
report. See docs/migration.md.`,
	}
	c.AddCommand(newMigrateKeygenCmd(s), newMigrateSeedCmd(s), newMigrateScanCmd(s), newMigratePlanCmd(s),
		newMigrateApplyCmd(s), newMigrateWorkerCmd(s), newMigrateRollbackCmd(s), newMigrateReportCmd(s))
	return c
}

func newMigrateKeygenCmd(s stdio) *cobra.Command {
	var out string
	c := &cobra.Command{
		Use:   "keygen --out FILE",
		Short: "Create the admin X25519 key pair (FILE private, 0600; FILE.pub public)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return errors.New("migrate keygen: --out FILE is required")
			}
			k, err := migrate.GenerateKey(nil)
			if err != nil {
				return err
			}
			if err := migrate.WriteKeyFiles(out, k); err != nil {
				return err
			}
			fmt.Fprintf(s.out, "private key: %s (keep offline; needed for rollback only)\npublic key:  %s.pub (give to apply with --public-key)\n", out, out)
			return nil
		},
	}
	c.Flags().StringVar(&out, "out", "", "private key file to create (the public key goes to FILE.pub)")
	return c
}

func newMigrateSeedCmd(s stdio) *cobra.Command {
	var cfg seed.Config
	var dsn string
	c := &cobra.Command{
		Use:   "seed --accounts N --driver postgres|mysql|sqlite --dsn DSN",
		Short: "Create a synthetic legacy user store (tests, demos, benchmarks)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			driver := map[string]string{"postgres": "pgx", "mysql": "mysql", "sqlite": "sqlite"}[cfg.Driver]
			if driver == "" {
				return fmt.Errorf("migrate seed: --driver %q is not postgres, mysql or sqlite", cfg.Driver)
			}
			db, err := sql.Open(driver, dsn)
			if err != nil {
				return fmt.Errorf("migrate seed: %w", err)
			}
			defer db.Close()
			start := time.Now()
			st, err := seed.Run(cmd.Context(), db, cfg)
			if err != nil {
				return err
			}
			fmt.Fprintf(s.err, "seeded %d accounts in %s\n", st.Rows, time.Since(start).Round(time.Millisecond))
			return printJSON(s.out, st)
		},
	}
	c.Flags().IntVar(&cfg.Accounts, "accounts", 1000, "number of accounts")
	c.Flags().StringVar(&cfg.Driver, "driver", "sqlite", "postgres, mysql or sqlite")
	c.Flags().StringVar(&dsn, "dsn", "", "database connection string (SQLite: file name)")
	c.Flags().StringVar(&cfg.Table, "table", "legacy_accounts", "table to create")
	c.Flags().StringVar(&cfg.Mix, "mix", seed.MixHashed, "hashed or plaintext")
	c.Flags().Uint64Var(&cfg.Seed, "seed", 1, "random seed (same seed, same rows)")
	c.Flags().BoolVar(&cfg.Replace, "replace", false, "drop the table first")
	return c
}

func newMigrateScanCmd(s stdio) *cobra.Command {
	var f migrateFlags
	c := &cobra.Command{
		Use:   "scan --store FILE",
		Short: "Classify every account of a store (read only)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			env, err := f.open(cmd.Context(), s, true)
			if err != nil {
				return err
			}
			defer env.Close()
			start := time.Now()
			res, err := env.engine.Scan(cmd.Context())
			if err != nil {
				return err
			}
			if f.jsonOut {
				return printJSON(s.out, res.Summary)
			}
			printSummary(s.out, res.Summary, time.Since(start))
			return nil
		},
	}
	f.register(c, true)
	return c
}

func printSummary(w io.Writer, sm migrate.Summary, took time.Duration) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "scan %s of store %q: %d accounts in %s\n", sm.Run, sm.Store, sm.Accounts, took.Round(time.Millisecond))
	for _, l := range []struct {
		k string
		v int64
	}{
		{"NRN as username", sm.NRNUsername}, {"NRN column", sm.NRNColumn}, {"NRN values invalid", sm.NRNInvalid},
		{"NRN-derived password", sm.Derived}, {"derived check not run", sm.DerivedUnchecked},
		{"duplicate NRNs", sm.DuplicateNRNs}, {"accounts sharing an NRN", sm.DuplicateAccounts},
		{"weak hash", sm.Weak}, {"unsupported/garbage", sm.Unsupported}, {"empty/NULL", sm.Empty},
		{"revoked", sm.Revoked}, {"disabled", sm.Disabled}, {"linked", sm.Linked}, {"link unknown", sm.LinkUnknown},
	} {
		fmt.Fprintf(tw, "%s\t%d\t\n", l.k, l.v)
	}
	for _, sc := range sm.Schemes {
		fmt.Fprintf(tw, "scheme %s (%s)\t%d\t\n", sc.Scheme, sc.Strength, sc.Accounts)
	}
	tw.Flush()
}

// filterFlags are the filters of plan and apply.
type filterFlags struct {
	ids     []string
	idsFile string
	hasNRN  bool
}

func (ff *filterFlags) register(c *cobra.Command) {
	c.Flags().StringSliceVar(&ff.ids, "ids", nil, "only these account IDs (comma-separated)")
	c.Flags().StringVar(&ff.idsFile, "ids-file", "", "only the account IDs in this file, one per line")
	c.Flags().BoolVar(&ff.hasNRN, "has-nrn", false, "only accounts with a national number (username or column)")
}

func (ff *filterFlags) filter() (migrate.Filter, error) {
	f := migrate.Filter{IDs: append([]string(nil), ff.ids...), HasNRN: ff.hasNRN}
	if ff.idsFile != "" {
		b, err := os.ReadFile(ff.idsFile)
		if err != nil {
			return f, fmt.Errorf("migrate: --ids-file: %w", err)
		}
		for _, l := range strings.Split(string(b), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				f.IDs = append(f.IDs, l)
			}
		}
		if len(f.IDs) == 0 {
			return f, errors.New("migrate: --ids-file lists no account")
		}
	}
	if len(f.IDs) > migrate.MaxFilterIDs {
		return f, fmt.Errorf("migrate: at most %d account IDs in a filter", migrate.MaxFilterIDs)
	}
	return f, nil
}

func newMigratePlanCmd(s stdio) *cobra.Command {
	var f migrateFlags
	var ff filterFlags
	var policy, scanID, storeName string
	var list int
	c := &cobra.Command{
		Use:   "plan --policy revoke-nrn|revoke-derived|wrap-weak|revoke-all",
		Short: "Dry run: what a policy would change, by action, from the last scan",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := migrate.ParsePolicy(policy)
			if err != nil {
				return err
			}
			flt, err := ff.filter()
			if err != nil {
				return err
			}
			env, err := f.open(cmd.Context(), s, false)
			if err != nil {
				return err
			}
			defer env.Close()
			return printPlan(cmd.Context(), s, env.db, p, flt, scanID, storeName, list, f.jsonOut)
		},
	}
	f.register(c, false)
	ff.register(c)
	c.Flags().StringVar(&policy, "policy", "", "revoke-nrn, revoke-derived, wrap-weak or revoke-all")
	c.Flags().StringVar(&scanID, "scan", "", "scan run to plan from (default: the latest finished scan)")
	c.Flags().StringVar(&storeName, "store-name", "", "with no --scan: the latest scan of this store")
	c.Flags().IntVar(&list, "list", 10, "account IDs to list per action")
	return c
}

func printPlan(ctx context.Context, s stdio, db *migrate.DB, p migrate.Policy, flt migrate.Filter, scanID, storeName string, list int, asJSON bool) error {
	if scanID == "" {
		r, err := db.LatestRun(ctx, migrate.KindScan, storeName)
		if errors.Is(err, migrate.ErrRunNotFound) {
			return errors.New("migrate: no finished scan yet: run `overstap migrate scan` first")
		}
		if err != nil {
			return err
		}
		scanID = r.ID
	}
	plan, err := db.Plan(ctx, scanID, p, flt, list)
	if err != nil {
		return err
	}
	if asJSON {
		return printJSON(s.out, plan)
	}
	fmt.Fprintf(s.out, "plan %s on store %q from scan %s (%d accounts, %d match the filter) — dry run, nothing written\n", p, plan.Store, plan.Scan, plan.Accounts, plan.Matched)
	if len(plan.Actions) == 0 {
		fmt.Fprintln(s.out, "  nothing to change")
	}
	for a, n := range plan.Actions {
		fmt.Fprintf(s.out, "  %-7s %d accounts", a, n)
		if ex := plan.Examples[a]; len(ex) > 0 {
			// Account IDs may be national numbers in some stores: masked.
			fmt.Fprintf(s.out, " (e.g. %s)", logging.Scrub(strings.Join(ex, ", ")))
		}
		fmt.Fprintln(s.out)
	}
	if plan.Unchecked > 0 {
		fmt.Fprintf(s.out, "  note: %d accounts were not checked for NRN-derived passwords\n", plan.Unchecked)
	}
	return nil
}

// queueFlags configure the Redis Stream queue.
type queueFlags struct {
	url        string
	prefix     string
	claimAfter time.Duration
}

func (qf *queueFlags) register(c *cobra.Command) {
	c.Flags().StringVar(&qf.url, "queue", "", "Redis URL (redis://host:port/db): share batches with `migrate worker` processes")
	c.Flags().StringVar(&qf.prefix, "queue-prefix", "overstap:", "prefix of every Redis key")
	c.Flags().DurationVar(&qf.claimAfter, "claim-after", time.Minute, "reclaim a batch a worker has not acknowledged for this long")
}

func (qf *queueFlags) open() (*migrate.Queue, func(), error) {
	opt, err := redis.ParseURL(qf.url)
	if err != nil {
		return nil, nil, fmt.Errorf("migrate: --queue: %w", err)
	}
	rdb := redis.NewClient(opt)
	q, err := migrate.NewQueue(rdb, migrate.QueueConfig{Prefix: qf.prefix, ClaimAfter: qf.claimAfter})
	if err != nil {
		rdb.Close()
		return nil, nil, err
	}
	return q, func() { rdb.Close() }, nil
}

func newMigrateApplyCmd(s stdio) *cobra.Command {
	var f migrateFlags
	var ff filterFlags
	var qf queueFlags
	var policy, pubFile, runID string
	var yes, force bool
	c := &cobra.Command{
		Use:   "apply --policy P --public-key FILE.pub --yes",
		Short: "Execute a policy: journaled, checkpointed, resumable compare-and-swap batches",
		Long: `Without --yes, prints the plan and writes nothing. With --yes, changes the
store batch by batch: journal entry (old value sealed to the admin public key),
compare-and-swap, checkpoint. Interrupted (Ctrl-C, kill -9, lost connection),
run the same command with --run ID to continue; no action is applied twice.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			p, err := migrate.ParsePolicy(policy)
			if err != nil {
				return err
			}
			flt, err := ff.filter()
			if err != nil {
				return err
			}
			env, err := f.open(ctx, s, true)
			if err != nil {
				return err
			}
			defer env.Close()
			if !yes {
				err := printPlan(ctx, s, env.db, p, flt, "", env.store.Name(), 10, f.jsonOut)
				fmt.Fprintln(s.err, "dry run: nothing written; add --yes to apply")
				return err
			}
			if pubFile == "" {
				return errors.New("migrate apply: --public-key FILE is required (create one with `overstap migrate keygen`)")
			}
			pub, err := migrate.ReadPublicKeyFile(pubFile)
			if err != nil {
				return err
			}
			if force && !env.store.Capabilities().AtomicCAS {
				fmt.Fprintln(s.err, "WARNING: this store has no atomic compare-and-swap; a citizen's concurrent change may be overwritten (--force)")
			}
			var total int64
			if r, err := env.db.LatestRun(ctx, migrate.KindScan, env.store.Name()); err == nil {
				total = r.Total
			}
			o := migrate.ApplyOptions{Policy: p, Filter: flt, PublicKey: pub, RunID: runID, Force: force, Total: total}
			var res migrate.ApplyResult
			if qf.url != "" {
				q, closeQ, err := qf.open()
				if err != nil {
					return err
				}
				defer closeQ()
				res, err = env.engine.ApplyQueued(ctx, q, o)
				if err != nil {
					return resumeHint(err, res.Run)
				}
			} else if res, err = env.engine.Apply(ctx, o); err != nil {
				return resumeHint(err, res.Run)
			}
			if f.jsonOut {
				return printJSON(s.out, res)
			}
			fmt.Fprintf(s.out, "run %s: %d accounts, %d changed, %d left alone (changed concurrently), %d without action\n", res.Run, res.Seen, res.Changed, res.Conflicts, res.Skipped)
			return nil
		},
	}
	f.register(c, true)
	ff.register(c)
	qf.register(c)
	c.Flags().StringVar(&policy, "policy", "", "revoke-nrn, revoke-derived, wrap-weak or revoke-all")
	c.Flags().StringVar(&pubFile, "public-key", "", "admin public key file (from migrate keygen)")
	c.Flags().StringVar(&runID, "run", "", "resume this run (or start it under this ID)")
	c.Flags().BoolVar(&yes, "yes", false, "really write (default: dry run)")
	c.Flags().BoolVar(&force, "force", false, "apply even to a store without atomic compare-and-swap")
	c.Flags().Float64Var(&f.maxRate, "max-rate", 0, "at most this many accounts per second (0 = no limit)")
	return c
}

func resumeHint(err error, run string) error {
	if run == "" || !errors.Is(err, migrate.ErrStopped) {
		return err
	}
	return fmt.Errorf("%w\nresume with the same command and --run %s", err, run)
}

func newMigrateWorkerCmd(s stdio) *cobra.Command {
	var f migrateFlags
	var qf queueFlags
	var name string
	var idle time.Duration
	c := &cobra.Command{
		Use:   "worker --queue redis://... --store FILE --state DSN",
		Short: "Apply batches published by `migrate apply --queue` (any number of hosts)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if qf.url == "" {
				return errors.New("migrate worker: --queue URL is required")
			}
			env, err := f.open(cmd.Context(), s, true)
			if err != nil {
				return err
			}
			defer env.Close()
			q, closeQ, err := qf.open()
			if err != nil {
				return err
			}
			defer closeQ()
			if name == "" {
				host, _ := os.Hostname()
				name = fmt.Sprintf("%s-%d", host, os.Getpid())
			}
			n, err := env.engine.RunWorker(cmd.Context(), q, migrate.WorkerOptions{Name: name, IdleExit: idle})
			fmt.Fprintf(s.out, "worker %s: %d accounts\n", name, n)
			return err
		},
	}
	f.register(c, true)
	qf.register(c)
	c.Flags().StringVar(&name, "name", "", "consumer name in the group (default host-pid)")
	c.Flags().DurationVar(&idle, "idle-exit", 0, "exit after this long without work (0 = run until stopped)")
	return c
}

func newMigrateRollbackCmd(s stdio) *cobra.Command {
	var f migrateFlags
	var target, keyFile, runID string
	var yes bool
	c := &cobra.Command{
		Use:   "rollback --run ID --key FILE --yes",
		Short: "Restore every credential an apply run changed (needs the admin private key)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if target == "" {
				return errors.New("migrate rollback: --run ID is required")
			}
			if keyFile == "" {
				return errors.New("migrate rollback: --key FILE (the admin private key) is required")
			}
			key, err := migrate.ReadPrivateKeyFile(keyFile)
			if err != nil {
				return err
			}
			env, err := f.open(ctx, s, true)
			if err != nil {
				return err
			}
			defer env.Close()
			if !yes {
				r, err := env.db.GetRun(ctx, target)
				if err != nil {
					return err
				}
				fmt.Fprintf(s.out, "run %s (%s on %q) changed %d credentials; add --yes to restore them\n", r.ID, r.Policy, r.StoreName, r.Changed)
				return nil
			}
			res, err := env.engine.Rollback(ctx, migrate.RollbackOptions{Target: target, Key: key, RunID: runID})
			if err != nil {
				return resumeHint(err, res.Run)
			}
			if f.jsonOut {
				return printJSON(s.out, res)
			}
			fmt.Fprintf(s.out, "rollback %s of run %s: %d restored, %d left alone (changed since)\n", res.Run, res.Target, res.Restored, res.LeftAlone)
			for _, id := range res.LeftAloneIDs {
				fmt.Fprintf(s.out, "  left alone: %s\n", logging.Scrub(id))
			}
			return nil
		},
	}
	f.register(c, true)
	c.Flags().StringVar(&target, "run", "", "apply run to roll back")
	c.Flags().StringVar(&keyFile, "key", "", "admin private key file")
	c.Flags().StringVar(&runID, "rollback-run", "", "resume this rollback run (or start it under this ID)")
	c.Flags().BoolVar(&yes, "yes", false, "really write (default: say what would be restored)")
	return c
}

func newMigrateReportCmd(s stdio) *cobra.Command {
	var f migrateFlags
	var scanID, runID, afterID, storeName, format, out string
	c := &cobra.Command{
		Use:   "report --format json|csv|html [--out FILE]",
		Short: "Exposure report of a scan (and a run with the scan after it)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			env, err := f.open(ctx, s, false)
			if err != nil {
				return err
			}
			defer env.Close()
			if scanID == "" {
				r, err := env.db.LatestRun(ctx, migrate.KindScan, storeName)
				if err != nil {
					return fmt.Errorf("migrate report: no scan to report on: %w", err)
				}
				scanID = r.ID
			}
			rep, err := env.db.BuildReport(ctx, scanID, runID, afterID, time.Now())
			if err != nil {
				return err
			}
			w := s.out
			if out != "" {
				fh, err := os.Create(out)
				if err != nil {
					return fmt.Errorf("migrate report: %w", err)
				}
				defer fh.Close()
				w = fh
			}
			switch format {
			case "json":
				return rep.WriteJSON(w)
			case "csv":
				return rep.WriteCSV(w)
			case "html":
				return rep.WriteHTML(w)
			}
			return fmt.Errorf("migrate report: --format %q is not json, csv or html", format)
		},
	}
	f.register(c, false)
	c.Flags().StringVar(&scanID, "scan", "", "scan run (default: the latest)")
	c.Flags().StringVar(&storeName, "store-name", "", "with no --scan: the latest scan of this store")
	c.Flags().StringVar(&runID, "apply-run", "", "apply run to include")
	c.Flags().StringVar(&afterID, "after", "", "scan made after the run, for before/after figures")
	c.Flags().StringVar(&format, "format", "html", "json, csv or html")
	c.Flags().StringVar(&out, "out", "", "write to this file (default stdout)")
	return c
}
