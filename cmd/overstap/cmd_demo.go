package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newDemoCmd(s stdio) *cobra.Command {
	return &cobra.Command{
		Use:   "demo",
		Short: "Run the dev IdP, a flawed legacy e-loket and the gateway fixing it",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprint(s.out, `overstap demo — not built yet.

When it is, this command will start, with nothing but embedded defaults:
  - a development OpenID provider with Belgian test personas (127.0.0.1:8081),
  - a legacy municipal e-loket with the flaws the Flemish privacy supervisor
    described (national number as username and password, unverified
    family-member linking),
  - the overstap gateway in front of it, fixing them (127.0.0.1:8080),
and print their URLs. See README.md for what works today.
`)
			return err
		},
	}
}
