package main

import (
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/overstap/overstap/auth/nrn"
	"github.com/overstap/overstap/migrate"
)

func newMigrateReportCmd(s stdio) *cobra.Command {
	var f migrateFlags
	var scanID, runID, afterID, storeName, format, out, lang string
	c := &cobra.Command{
		Use:   "report --format json|csv|html [--out FILE]",
		Short: "Exposure report of a scan (and a run with the scan after it)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if err := migrate.CheckReportLanguage(lang); err != nil {
				return fmt.Errorf("migrate report: --lang: %w", err)
			}
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
				return rep.WriteHTML(w, lang)
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
	c.Flags().StringVar(&lang, "lang", migrate.ReportLanguages[0], "language of the HTML report: nl, fr, de or en")
	c.Flags().StringVar(&out, "out", "", "write to this file (default stdout)")
	return c
}

// maxAttentionListed bounds one attention listing (a run over a whole
// store lists at most this many; the count is always exact).
const maxAttentionListed = 1_000_000

func newMigrateAttentionCmd(s stdio) *cobra.Command {
	var f migrateFlags
	var runID, format string
	c := &cobra.Command{
		Use:   "attention --run ID [--format csv|json]",
		Short: "List the accounts an apply or rollback run left for an admin, with the reason",
		Long: `Lists the accounts a run left unchanged because they need an admin: credential
too long for the store, refused by the store, unclassifiable on an account with
a national number (unknown risk), over the verification cost budget, or (for a
rollback) a damaged or foreign journal entry. One line per account: its id
(national numbers in ids are masked) and the reason; never a credential.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if runID == "" {
				return errors.New("migrate attention: --run ID is required")
			}
			env, err := f.open(ctx, s, false)
			if err != nil {
				return err
			}
			defer env.Close()
			if _, err := env.db.GetRun(ctx, runID); err != nil {
				return fmt.Errorf("migrate attention: %w", err)
			}
			list, total, err := env.db.AttentionList(ctx, runID, maxAttentionListed)
			if err != nil {
				return err
			}
			for i := range list {
				list[i].Account = nrn.Scrub(list[i].Account)
			}
			switch format {
			case "json":
				return printJSON(s.out, struct {
					Run      string              `json:"run"`
					Total    int64               `json:"total"`
					Accounts []migrate.Attention `json:"accounts"`
				}{runID, total, list})
			case "csv":
				w := csv.NewWriter(s.out)
				w.Write([]string{"run", "account", "reason"})
				for _, a := range list {
					w.Write([]string{runID, a.Account, a.Reason})
				}
				w.Flush()
				return w.Error()
			}
			return fmt.Errorf("migrate attention: --format %q is not csv or json", format)
		},
	}
	f.register(c, false)
	c.Flags().StringVar(&runID, "run", "", "apply or rollback run")
	c.Flags().StringVar(&format, "format", "csv", "csv or json")
	return c
}
