package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// Set at build time by `make build`:
//
//	-ldflags "-X main.version=v0.1.0 -X main.commit=<sha> -X main.buildDate=2026-12-06T02:00:00Z"
//
// Without them the version comes from the module build info (a tagged
// `go install`) or is "dev", the commit from its vcs.revision and the build
// date is the commit's time (vcs.time). Go records vcs.* only when it finds
// the repository (not in a git worktree, nor with -buildvcs=false): the
// Makefile stamps the three explicitly so a release binary always has them.
var (
	version   = ""
	commit    = ""
	buildDate = ""
)

// buildInfo is what `overstap version` and `overstap --version` print.
type buildInfo struct {
	Version  string // release version, "dev" when unstamped
	Commit   string // vcs.revision, "unknown" outside a VCS checkout
	Modified bool   // vcs.modified: built from a tree with local changes
	Date     string // build date when stamped, else the commit's time
	Go       string // Go toolchain version
}

// readBuildInfo reads the stamped variables and the module build info.
func readBuildInfo() buildInfo {
	b := buildInfo{Version: version, Commit: commit, Date: buildDate, Go: runtime.Version()}
	bi, ok := debug.ReadBuildInfo()
	if ok {
		if b.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			b.Version = bi.Main.Version
		}
		for _, kv := range bi.Settings {
			switch kv.Key {
			case "vcs.revision":
				if commit == "" {
					b.Commit = kv.Value
				}
			case "vcs.modified":
				b.Modified = kv.Value == "true"
			case "vcs.time":
				if b.Date == "" {
					b.Date = kv.Value
				}
			}
		}
	}
	if b.Version == "" {
		b.Version = "dev"
	}
	if b.Date == "" {
		b.Date = "unknown"
	}
	if b.Commit == "" {
		b.Commit = "unknown"
	}
	return b
}

// String is the text of `overstap version`: the version on the first line
// (what scripts compare), then commit, build date and toolchain.
func (b buildInfo) String() string {
	var s strings.Builder
	fmt.Fprintf(&s, "overstap %s\n", b.Version)
	commit := b.Commit
	if b.Modified {
		commit += " (modified)"
	}
	fmt.Fprintf(&s, "commit: %s\nbuilt: %s\ngo: %s\n", commit, b.Date, b.Go)
	return s.String()
}

func newVersionCmd(s stdio) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and build date",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprint(s.out, readBuildInfo().String())
			return err
		},
	}
}
