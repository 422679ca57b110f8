package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/overstap/overstap/auth/nrn"
	"github.com/overstap/overstap/migrate"
)

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
			p, flt, err := ff.policyFilter(policy)
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
					return resumeHint(err, "--run", res.Run)
				}
			} else if res, err = env.engine.Apply(ctx, o); err != nil {
				return resumeHint(err, "--run", res.Run)
			}
			if err := printResult(s.out, f.jsonOut, res, func(w io.Writer) {
				fmt.Fprintf(w, "run %s: %d accounts, %d changed, %d left alone (changed concurrently), %d need attention, %d without action\n", res.Run, res.Seen, res.Changed, res.Conflicts, res.NeedAttention, res.Skipped)
			}); err != nil {
				return err
			}
			return attentionExit(ctx, s, env.db, "migrate apply", res.Run, res.NeedAttention)
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

// resumeHint adds how to resume a stopped run: the same command with flag
// (--run for apply, --rollback-run for rollback) naming the run.
func resumeHint(err error, flag, run string) error {
	if run == "" || !errors.Is(err, migrate.ErrStopped) {
		return err
	}
	return fmt.Errorf("%w\nresume with the same command and %s %s", err, flag, run)
}

// attentionExit lists (on stderr) the first accounts a finished run left
// for an admin, and ends with exit status 2 and "finished with N accounts
// needing attention" when there are any; the full list is
// `overstap migrate attention --run ID`.
func attentionExit(ctx context.Context, s stdio, db *migrate.DB, cmd, run string, n int64) error {
	if n == 0 {
		return nil
	}
	list, _, err := db.AttentionList(ctx, run, 20)
	if err != nil {
		return err
	}
	for _, a := range list {
		fmt.Fprintf(s.err, "  needs attention: %s: %s\n", nrn.Scrub(a.Account), a.Reason)
	}
	fmt.Fprintf(s.err, "%s: run %s finished with %d accounts needing attention (all of them: overstap migrate attention --run %s --format csv)\n", cmd, run, n, run)
	return exitError{code: 2}
}

func newMigrateWorkerCmd(s stdio) *cobra.Command {
	var f migrateFlags
	var qf queueFlags
	var name string
	var idle time.Duration
	var lanes int
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
			n, err := env.engine.RunWorker(cmd.Context(), q, migrate.WorkerOptions{Name: name, IdleExit: idle, Lanes: lanes})
			fmt.Fprintf(s.out, "worker %s: %d accounts\n", name, n)
			return err
		},
	}
	f.register(c, true)
	qf.register(c)
	c.Flags().StringVar(&name, "name", "", "consumer name in the group (default host-pid)")
	c.Flags().DurationVar(&idle, "idle-exit", 0, "exit after this long without work (0 = run until stopped)")
	c.Flags().IntVar(&lanes, "lanes", migrate.DefaultWorkerLanes, "batches in hand at once (consumers NAME, NAME.1, ...): one is read and classified while another waits on the databases")
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
				return resumeHint(err, "--rollback-run", res.Run)
			}
			if err := printResult(s.out, f.jsonOut, res, func(w io.Writer) {
				fmt.Fprintf(w, "rollback %s of run %s: %d restored, %d left alone (changed since), %d need attention\n", res.Run, res.Target, res.Restored, res.LeftAlone, res.NeedAttention)
				for _, id := range res.LeftAloneIDs {
					fmt.Fprintf(w, "  left alone: %s\n", nrn.Scrub(id))
				}
			}); err != nil {
				return err
			}
			return attentionExit(ctx, s, env.db, "migrate rollback", res.Run, res.NeedAttention)
		},
	}
	f.register(c, true)
	c.Flags().StringVar(&target, "run", "", "apply run to roll back")
	c.Flags().StringVar(&keyFile, "key", "", "admin private key file")
	c.Flags().StringVar(&runID, "rollback-run", "", "resume this rollback run (or start it under this ID)")
	c.Flags().BoolVar(&yes, "yes", false, "really write (default: say what would be restored)")
	return c
}
