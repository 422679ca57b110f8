package main

// overstap migrate: bulk credential migration (docs/migration.md). The
// subcommands live in cmd_migrate_*.go: env (flags, state, store, engine),
// scan (scan, plan, filters), apply (apply, worker, rollback), report.

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/overstap/overstap/migrate"
	"github.com/overstap/overstap/migrate/seed"
)

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// newProgress renders migrate progress to w: a bar redrawn in place when w
// is a terminal (as wide as the terminal), JSON lines otherwise; every
// interval (0: the default).
func newProgress(w io.Writer, interval time.Duration) *migrate.ProgressWriter {
	tty := isTerminal(w)
	p := migrate.NewProgressWriter(w, tty, nil)
	if interval > 0 {
		p.SetInterval(interval)
	}
	if f, ok := w.(*os.File); ok && tty {
		p.SetWidth(func() int {
			if ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ); err == nil && ws.Col > 0 {
				return int(ws.Col)
			}
			return 80
		})
	}
	return p
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// printResult writes v as JSON (--json) or, by text, for a reader.
func printResult(w io.Writer, asJSON bool, v any, text func(io.Writer)) error {
	if asJSON {
		return printJSON(w, v)
	}
	text(w)
	return nil
}

func newMigrateCmd(s stdio) *cobra.Command {
	c := &cobra.Command{
		Use:   "migrate",
		Short: "Scan a legacy user store and revoke or re-hash credentials in bulk",
		Long: `Bulk credential migration: keygen, seed, scan, plan, apply, worker, rollback,
report. See docs/migration.md.`,
		// A batch job with a small live heap: collect less often (the GOGC
		// environment variable still decides when set).
		PersistentPreRun: func(*cobra.Command, []string) { migrate.BulkGC() },
	}
	c.AddCommand(newMigrateKeygenCmd(s), newMigrateSeedCmd(s), newMigrateScanCmd(s), newMigratePlanCmd(s), newMigrateAttentionCmd(s),
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
