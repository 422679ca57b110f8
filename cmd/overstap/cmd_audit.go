package main

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/overstap/overstap/adapters/state"
	"github.com/overstap/overstap/auth/nrn"
	"github.com/overstap/overstap/internal/logging"
)

// auditSource is where the audit commands find the state database: a
// configuration file (its state section) or --state.
type auditSource struct{ configPath, state string }

func (a *auditSource) flags(c *cobra.Command) {
	c.Flags().StringVar(&a.configPath, "config", "", "configuration file (YAML): its state section and log settings")
	c.Flags().StringVar(&a.state, "state", "", `state database without a configuration file: "postgres://user@host:5432/db?sslmode=verify-full" (password from PGPASSWORD or ~/.pgpass) or a SQLite file path`)
}

// open opens the state database read only: auditing never creates,
// migrates or writes a database.
func (a *auditSource) open(cmd *cobra.Command, s stdio) (*state.Store, error) {
	var cfg state.Config
	log := logging.Discard()
	switch {
	case a.configPath != "" && a.state != "":
		return nil, errors.New("give --config or --state, not both")
	case a.configPath != "":
		fc, err := loadConfig(a.configPath)
		if err != nil {
			return nil, err
		}
		if log, err = commandLogger(s.err, &fc); err != nil {
			return nil, err
		}
		cfg = fc.State
	case a.state != "":
		cfg = stateFromFlag(a.state)
		if err := cfg.Validate(); err != nil {
			return nil, fmt.Errorf("--state: %w", err)
		}
		var err error
		if log, err = commandLogger(s.err, nil); err != nil {
			return nil, err
		}
	default:
		return nil, errors.New("--config or --state is required")
	}
	st, err := state.OpenReadOnly(cmd.Context(), cfg, log)
	if err != nil {
		return nil, fmt.Errorf("state database: %w", err)
	}
	return st, nil
}

// stateFromFlag reads --state: a PostgreSQL URL or keyword DSN, else a
// SQLite path (an optional "sqlite:" prefix is dropped).
func stateFromFlag(v string) state.Config {
	if strings.HasPrefix(v, "postgres://") || strings.HasPrefix(v, "postgresql://") || strings.Contains(v, "host=") {
		return state.Config{Driver: "postgres", DSN: v}
	}
	return state.Config{Driver: "sqlite", Path: strings.TrimPrefix(v, "sqlite:")}
}

func newAuditCmd(s stdio) *cobra.Command {
	c := &cobra.Command{Use: "audit", Short: "Work with overstap's audit log"}
	var vsrc auditSource
	verify := &cobra.Command{
		Use:   "verify",
		Short: "Walk the audit log's hash chain and report the first broken link",
		Long: `Opens the state database read only (from --config, or --state without a
configuration file) and checks every audit entry against its hash and its
link to the previous entry.

Prints "audit chain ok: N entries" and the head hash (keep it somewhere the
database's administrators cannot write, to detect a rewritten chain), or the
first broken link: its sequence number and kind (modified, deleted, inserted,
reordered). Exit status 0 when intact, 1 when broken or on error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return auditVerify(cmd, s, &vsrc)
		},
	}
	vsrc.flags(verify)
	c.AddCommand(verify)

	var esrc auditSource
	var since, until, format string
	export := &cobra.Command{
		Use:   "export",
		Short: "Export audit entries of a period as JSON lines or CSV, verifying the chain as it goes",
		Long: `Writes the audit entries with --since <= time < --until to standard output,
one per line: jsonl (one JSON object per entry) or csv (with a header). The
entries hold references only (nrnref1:..., account ids, admin names), never a
national number in clear; every value is passed through the log masker once
more on the way out.

The whole chain is verified from its first entry while exporting: the export
stops at the first broken link, says where on standard error and exits 1, so
an auditor never receives an entry the chain does not vouch for. The last
line of a clean export names the head hash to compare with the one kept.

--since and --until are RFC 3339 times (2026-01-01T00:00:00Z) or dates
(2026-01-01, UTC midnight).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return auditExport(cmd, s, &esrc, since, until, format)
		},
	}
	esrc.flags(export)
	export.Flags().StringVar(&since, "since", "", "first time included (RFC 3339 or YYYY-MM-DD); default: the beginning")
	export.Flags().StringVar(&until, "until", "", "first time excluded (RFC 3339 or YYYY-MM-DD); default: now")
	export.Flags().StringVar(&format, "format", "jsonl", "jsonl or csv")
	c.AddCommand(export)
	return c
}

func auditVerify(cmd *cobra.Command, s stdio, src *auditSource) error {
	st, err := src.open(cmd, s)
	if err != nil {
		return fmt.Errorf("audit verify: %w", err)
	}
	defer st.Close()
	rep, err := st.Verify(cmd.Context())
	if err != nil {
		return fmt.Errorf("audit verify: %w", err)
	}
	if rep.OK() {
		_, err := fmt.Fprintf(s.out, "audit chain ok: %d entries\nhead: %d %s\n", rep.Entries, rep.HeadSeq, rep.HeadHash)
		return err
	}
	fmt.Fprintf(s.out, "audit chain BROKEN at entry %d: %s: %s\n(%d entries before it check out)\n",
		rep.Break.Seq, rep.Break.Kind, rep.Break.Detail, rep.Entries)
	return exitError{code: 1}
}

// parseWhen reads an RFC 3339 time or a date (UTC midnight); "" is zero.
func parseWhen(flag, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("--%s %q: use RFC 3339 (2026-01-01T00:00:00Z) or a date (2026-01-01)", flag, v)
}

// exportColumns are the CSV header and the JSON keys, in order.
var exportColumns = []string{"seq", "time", "type", "actor", "target", "app", "outcome", "details", "prev_hash", "hash"}

func auditExport(cmd *cobra.Command, s stdio, src *auditSource, sinceFlag, untilFlag, format string) error {
	since, err := parseWhen("since", sinceFlag)
	if err != nil {
		return fmt.Errorf("audit export: %w", err)
	}
	until, err := parseWhen("until", untilFlag)
	if err != nil {
		return fmt.Errorf("audit export: %w", err)
	}
	if !since.IsZero() && !until.IsZero() && !since.Before(until) {
		return errors.New("audit export: --since must be before --until")
	}
	var write func(state.Entry) error
	var flush func() error
	switch format {
	case "jsonl":
		enc := json.NewEncoder(s.out)
		write = func(e state.Entry) error { return enc.Encode(exportRecord(e)) }
		flush = func() error { return nil }
	case "csv":
		w := csv.NewWriter(s.out)
		if err := w.Write(exportColumns); err != nil {
			return fmt.Errorf("audit export: %w", err)
		}
		write = func(e state.Entry) error { return w.Write(exportRow(e)) }
		flush = func() error { w.Flush(); return w.Error() }
	default:
		return fmt.Errorf("audit export: --format %q: use jsonl or csv", format)
	}
	st, err := src.open(cmd, s)
	if err != nil {
		return fmt.Errorf("audit export: %w", err)
	}
	defer st.Close()
	n := 0
	rep, err := st.Export(cmd.Context(), since, until, func(e state.Entry) error { n++; return write(e) })
	if ferr := flush(); err == nil {
		err = ferr
	}
	if err != nil {
		return fmt.Errorf("audit export: %w", err)
	}
	if !rep.OK() {
		fmt.Fprintf(s.err, "audit export: chain BROKEN at entry %d: %s: %s; the export stops there (%d entries exported)\n",
			rep.Break.Seq, rep.Break.Kind, rep.Break.Detail, n)
		return exitError{code: 1}
	}
	fmt.Fprintf(s.err, "audit export: %d entries exported; chain ok: %d entries, head %d %s\n", n, rep.Entries, rep.HeadSeq, rep.HeadHash)
	return nil
}

// masked passes a value through the log masker: entries hold references,
// and this keeps it so even for a row written behind the store's back.
func masked(v string) string { return nrn.Scrub(v) }

// exportRecord is one JSON line.
func exportRecord(e state.Entry) map[string]any {
	d := make(map[string]string, len(e.Details))
	for k, v := range e.Details {
		d[masked(k)] = masked(v)
	}
	return map[string]any{
		"seq": e.Seq, "time": e.Time.UTC().Format(time.RFC3339Nano), "type": masked(e.Type), "actor": masked(e.Actor),
		"target": masked(e.Target), "app": masked(e.App), "outcome": masked(e.Outcome), "details": d,
		"prev_hash": e.PrevHash, "hash": e.Hash,
	}
}

// exportRow is one CSV row; details as key=value pairs in key order.
func exportRow(e state.Entry) []string {
	var d []string
	for _, k := range slices.Sorted(maps.Keys(e.Details)) {
		d = append(d, masked(k)+"="+masked(e.Details[k]))
	}
	return []string{fmt.Sprint(e.Seq), e.Time.UTC().Format(time.RFC3339Nano), masked(e.Type), masked(e.Actor),
		masked(e.Target), masked(e.App), masked(e.Outcome), strings.Join(d, ";"), e.PrevHash, e.Hash}
}
