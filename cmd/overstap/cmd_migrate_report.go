package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

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
