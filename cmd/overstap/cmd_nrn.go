package main

import (
	"bufio"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/overstap/overstap/auth/nrn"
)

func newNRNCmd(s stdio) *cobra.Command {
	c := &cobra.Command{Use: "nrn", Short: "Work with national register numbers"}
	c.AddCommand(&cobra.Command{
		Use:   "check",
		Short: "Validate national numbers read from stdin, one per line",
		Long: `Reads numbers from stdin, one per line, in any written form (any grouping by
spaces, dots, dashes, slashes; Unicode digits and separators: the forms the
gateway's legacy-login check refuses, see nrn.Shaped), and prints a
tab-separated line for each:

  input  valid|invalid  normalized  nrn|bis  YYYY-MM-DD  M|F|unknown

(00 for unknown date parts; empty fields when invalid). Exit status 0 when
every number is valid, 1 otherwise.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return nrnCheck(s)
		},
	})
	return c
}

// maxLine bounds one input line of the line-oriented commands.
const maxLine = 1 << 20

func nrnCheck(s stdio) error {
	sc := bufio.NewScanner(s.in)
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	w := bufio.NewWriter(s.out)
	allValid := true
	for sc.Scan() {
		line := strings.TrimSuffix(sc.Text(), "\r")
		n, _ := nrn.Shaped(line)
		if n.IsZero() {
			allValid = false
			fmt.Fprintf(w, "%s\tinvalid\t\t\t\t\n", line)
			continue
		}
		fmt.Fprintf(w, "%s\tvalid\t%s\t%s\t%s\t%s\n", line, n.Digits(), n.Kind(), n.BirthDate(), n.Sex())
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("nrn check: reading stdin: %w", err)
	}
	if !allValid {
		return exitError{code: 1}
	}
	return nil
}
