package main

import (
	"io"

	"github.com/spf13/cobra"
)

// io bundles the process's standard streams for the subcommands.
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

func newRootCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	s := stdio{in: stdin, out: stdout, err: stderr}
	root := &cobra.Command{
		Use:           "overstap",
		Short:         "Move citizens off national-number logins onto federated login",
		SilenceUsage:  true,
		SilenceErrors: true,
		// --version prints what `overstap version` prints.
		Version: readBuildInfo().Version,
	}
	root.SetVersionTemplate(readBuildInfo().String())
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	// One line per subcommand; each lives in its own cmd_*.go file.
	root.AddCommand(newVersionCmd(s))
	root.AddCommand(newNRNCmd(s))
	root.AddCommand(newDemoCmd(s))
	root.AddCommand(newDevIDPCmd(s))
	root.AddCommand(newMigrateCmd(s))
	root.AddCommand(newHashCmd(s))
	root.AddCommand(newAuditCmd(s))
	root.AddCommand(newStoreCmd(s))
	root.AddCommand(newServeCmd(s))
	root.AddCommand(newHealthcheckCmd(s))
	return root
}
