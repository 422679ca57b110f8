package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/overstap/overstap/adapters/store"
	"github.com/overstap/overstap/adapters/store/storecheck"
	"github.com/overstap/overstap/adapters/store/storeconfig"
	"github.com/overstap/overstap/migrate/hash"
)

func newStoreCmd(s stdio) *cobra.Command {
	c := &cobra.Command{Use: "store", Short: "Work with legacy user-store adapters"}
	var file string
	var sample int
	var timeout time.Duration
	check := &cobra.Command{
		Use:   "check",
		Short: "Connect to a user store, read a sample and report mapping problems",
		Long: `Reads a store configuration (YAML: name, type sql|ldap|csv|httphook and that
section, see docs/adapters/; or a bare sqlstore file such as
configs/stores/seed-sqlite.yaml, as migrate --store takes), connects, reads up to --sample accounts in key
order and reports, without writing anything:

  - where national numbers come from (column, username) and how many are unusable
  - usernames written like a national number that do not validate
  - accounts sharing a national number
  - NULL credentials and hash schemes counted by kind and strength
  - values that are not UTF-8
  - warnings: mapping problems worth fixing before a migration

Missing columns or attributes are reported by name when the store opens.
Nothing identifying (no username, hash or national number) is printed.
Exit status 0 when the store was read (warnings or not), 1 when it could not
be opened or read.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			return storeCheck(ctx, s, file, sample)
		},
	}
	check.Flags().StringVar(&file, "store", "", "store configuration file (YAML): name/type form, or a bare sqlstore file as migrate --store takes")
	check.Flags().StringVar(&file, "config", "", "same as --store")
	check.Flags().IntVar(&sample, "sample", 1000, "number of accounts to read (at most 100000)")
	check.Flags().DurationVar(&timeout, "timeout", 2*time.Minute, "give up after this long")
	c.AddCommand(check)
	return c
}

func storeCheck(ctx context.Context, s stdio, file string, sample int) error {
	if file == "" {
		return errors.New("store check: --store FILE is required")
	}
	if sample <= 0 || sample > 100_000 {
		return errors.New("store check: --sample must be between 1 and 100000")
	}
	// The files migrate --store accepts: the name/type form or a bare
	// sqlstore configuration named after its file.
	cfg, err := loadStoreFile(file)
	if err != nil {
		return fmt.Errorf("store check: %w", err)
	}
	logger, err := commandLogger(s.err, nil)
	if err != nil {
		return fmt.Errorf("store check: %w", err)
	}
	st, err := storeconfig.Open(ctx, cfg, logger)
	if err != nil {
		fmt.Fprintf(s.out, "store %s (%s): cannot open\n  %s\n", cfg.Name, cfg.Type, strings.ReplaceAll(err.Error(), "\n", "\n  "))
		return exitError{code: 1}
	}
	defer st.Close()
	h, err := hash.New(hash.Config{})
	if err != nil {
		return fmt.Errorf("store check: %w", err)
	}
	r, err := storecheck.Check(ctx, st, storecheck.Options{Sample: sample, Classify: classifier(h)})
	if r != nil {
		printReport(s, cfg, r)
	}
	if err != nil {
		fmt.Fprintf(s.out, "error: %v\n", err)
		return exitError{code: 1}
	}
	return nil
}

// classifier names "scheme (strength)" with the hash package; values it
// cannot identify count as "unknown" or "unsupported <family>".
func classifier(h *hash.Hasher) storecheck.Classifier {
	return func(a store.Account) string {
		info, err := h.Identify(a.Credential, hash.Params{Hint: a.SchemeHint, Salt: a.Salt})
		switch {
		case err != nil && info.Scheme == "":
			return "unknown"
		case err != nil:
			return "unsupported " + info.Scheme
		case !info.Usable:
			return info.Scheme + " (no password)"
		}
		return info.Scheme + " (" + info.Strength.String() + ")"
	}
}

func printReport(s stdio, cfg storeconfig.Config, r *storecheck.Report) {
	w := s.out
	scope := "sample"
	if r.Complete {
		scope = "whole store"
	}
	fmt.Fprintf(w, "store %s (%s): read %d accounts (%s)\n", r.Store, cfg.Type, r.Read, scope)
	c := r.Capabilities
	fmt.Fprintf(w, "capabilities: atomic_cas=%v transactions=%v federated_flag=%v\n", c.AtomicCAS, c.Transactions, c.Federated)
	fmt.Fprintf(w, "national numbers: column=%d username=%d none=%d duplicates=%d nrn-shaped-invalid-usernames=%d\n",
		r.NRNColumn, r.NRNUsername, r.NRNNone, r.DuplicateNRN, r.UsernameNRNShapedInvalid)
	for _, k := range storecheck.Keys(r.NRNProblems) {
		fmt.Fprintf(w, "  unusable nrn value: %s: %d\n", k, r.NRNProblems[k])
	}
	fmt.Fprintf(w, "credentials: null=%d disabled=%d federated=%d\n", r.CredentialNull, r.Disabled, r.Federated)
	for _, k := range storecheck.Keys(r.Schemes) {
		fmt.Fprintf(w, "  scheme %s: %d\n", k, r.Schemes[k])
	}
	for _, k := range storecheck.Keys(r.NonUTF8) {
		fmt.Fprintf(w, "not UTF-8: %s: %d\n", k, r.NonUTF8[k])
	}
	for _, m := range r.Warnings {
		fmt.Fprintf(w, "warning: %s\n", m)
	}
}
