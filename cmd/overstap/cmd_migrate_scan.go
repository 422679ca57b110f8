package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/overstap/overstap/auth/nrn"
	"github.com/overstap/overstap/migrate"
)

func newMigrateScanCmd(s stdio) *cobra.Command {
	var f migrateFlags
	var createdBefore string
	c := &cobra.Command{
		Use:   "scan --store FILE",
		Short: "Classify every account of a store (read only)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cb, err := parseCreatedBefore(createdBefore)
			if err != nil {
				return err
			}
			env, err := f.open(cmd.Context(), s, true)
			if err != nil {
				return err
			}
			defer env.Close()
			start := time.Now()
			res, err := env.engine.ScanWith(cmd.Context(), migrate.ScanOptions{CreatedBefore: cb})
			if err != nil {
				return err
			}
			return printResult(s.out, f.jsonOut, res.Summary, func(w io.Writer) {
				printSummary(w, res.Summary, time.Since(start))
				if env.linksNote != "" {
					fmt.Fprintf(w, "note: %s\n", env.linksNote)
				}
			})
		},
	}
	f.register(c, true)
	c.Flags().StringVar(&createdBefore, "created-before", "", createdBeforeHelp)
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
	ids           []string
	idsFile       string
	hasNRN        bool
	createdBefore string
}

// parseCreatedBefore reads --created-before: a date (2006-01-02, midnight
// UTC) or an RFC 3339 time.
func parseCreatedBefore(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse("2006-01-02", v); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("migrate: --created-before %q: want a date (2006-01-02) or an RFC 3339 time", v)
	}
	return t.UTC(), nil
}

const createdBeforeHelp = "only accounts the store says were created before this date (2006-01-02, UTC) or RFC 3339 time; needs a mapped creation column (sqlstore columns.created)"

func (ff *filterFlags) register(c *cobra.Command) {
	c.Flags().StringSliceVar(&ff.ids, "ids", nil, "only these account IDs (comma-separated)")
	c.Flags().StringVar(&ff.idsFile, "ids-file", "", "only the account IDs in this file, one per line")
	c.Flags().BoolVar(&ff.hasNRN, "has-nrn", false, "only accounts with a national number (username or column)")
	c.Flags().StringVar(&ff.createdBefore, "created-before", "", createdBeforeHelp)
}

func (ff *filterFlags) filter() (migrate.Filter, error) {
	f := migrate.Filter{IDs: append([]string(nil), ff.ids...), HasNRN: ff.hasNRN}
	var err error
	if f.CreatedBefore, err = parseCreatedBefore(ff.createdBefore); err != nil {
		return f, err
	}
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

// policyFilter reads --policy and the filter flags, what plan and apply
// act on.
func (ff *filterFlags) policyFilter(policy string) (migrate.Policy, migrate.Filter, error) {
	p, err := migrate.ParsePolicy(policy)
	if err != nil {
		return "", migrate.Filter{}, err
	}
	flt, err := ff.filter()
	return p, flt, err
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
			p, flt, err := ff.policyFilter(policy)
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
			fmt.Fprintf(s.out, " (e.g. %s)", nrn.Scrub(strings.Join(ex, ", ")))
		}
		fmt.Fprintln(s.out)
	}
	if plan.Unchecked > 0 {
		fmt.Fprintf(s.out, "  note: %d accounts were not checked for NRN-derived passwords\n", plan.Unchecked)
	}
	return nil
}
