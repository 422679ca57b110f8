package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/overstap/overstap/adapters/state"
	"github.com/overstap/overstap/internal/logging"
)

func newAuditCmd(s stdio) *cobra.Command {
	c := &cobra.Command{Use: "audit", Short: "Work with overstap's audit log"}
	var configPath string
	verify := &cobra.Command{
		Use:   "verify",
		Short: "Walk the audit log's hash chain and report the first broken link",
		Long: `Reads the configuration file, opens the state database and checks every
audit entry against its hash and its link to the previous entry.

Prints "audit chain ok: N entries" and the head hash (keep it somewhere the
database's administrators cannot write, to detect a rewritten chain), or the
first broken link: its sequence number and kind (modified, deleted, inserted,
reordered). Exit status 0 when intact, 1 when broken or on error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return auditVerify(cmd, s, configPath)
		},
	}
	verify.Flags().StringVar(&configPath, "config", "", "configuration file (YAML)")
	c.AddCommand(verify)
	return c
}

func auditVerify(cmd *cobra.Command, s stdio, configPath string) error {
	cfg, err := loadConfig(configPath)
	if err != nil {
		return fmt.Errorf("audit verify: %w", err)
	}
	log, err := logging.New(s.err, cfg.Log.Format, cfg.Log.Level)
	if err != nil {
		return fmt.Errorf("audit verify: %w", err)
	}
	// Read only: verifying never creates, migrates or writes a database.
	st, err := state.OpenReadOnly(cmd.Context(), cfg.State, log)
	if err != nil {
		return fmt.Errorf("audit verify: state database: %w", err)
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
