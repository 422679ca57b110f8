package main

import (
	"fmt"
	"log/slog"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/overstap/overstap/auth/legacylogin"
	"github.com/overstap/overstap/internal/demo"
	"github.com/overstap/overstap/internal/logging"
)

func newDemoCmd(s stdio) *cobra.Command {
	var o demo.Options
	var policy, logLevel string
	c := &cobra.Command{
		Use:   "demo",
		Short: "Run the dev IdP, a flawed legacy e-loket and the gateway fixing it",
		Long: `Runs, with nothing but embedded defaults and on loopback only:
  - a development OpenID provider with synthetic Belgian test personas,
  - a legacy municipal e-loket with the flaws the Flemish privacy supervisor
    described (the national number as username and password; anyone can add
    anyone as a family member and change their password),
  - the overstap gateway in front of it, fixing them: the old login is
    refused, citizens log in at the IdP, their account is linked and the old
    password revoked, family links need the register or consent.
Sessions are in memory and the state in temporary SQLite files, unless
--redis is given. Stop with Ctrl-C. The national numbers are fictitious.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Policy = legacylogin.Policy(policy)
			log, err := logging.New(s.err, "text", logLevel)
			if err != nil {
				return err
			}
			o.Logger = log
			d, err := demo.Start(cmd.Context(), o)
			if err != nil {
				return err
			}
			defer d.Close()
			printDemo(s, d)
			<-cmd.Context().Done()
			log.Info("demo: stopping", slog.String("reason", "signal"))
			return nil
		},
	}
	c.Flags().StringVar(&o.GatewayAddr, "gateway-addr", "127.0.0.1:8080", "loopback address of the gateway (citizens go here)")
	c.Flags().StringVar(&o.IdPAddr, "idp-addr", "127.0.0.1:8081", "loopback address of the development OpenID provider")
	c.Flags().StringVar(&o.RedisURL, "redis", "", "keep sessions, login flows and rate limits in Redis, e.g. redis://127.0.0.1:6379/0")
	c.Flags().StringVar(&o.Dir, "dir", "", "directory for the demo's SQLite files (default: a temporary directory, removed at exit)")
	c.Flags().StringVar(&policy, "legacy-policy", "block_all", "policy for legacy usernames that are not national numbers: block_all or gateway_password")
	c.Flags().StringVar(&logLevel, "log-level", "warn", "log level: debug, info, warn or error")
	return c
}

func printDemo(s stdio, d *demo.Demo) {
	fmt.Fprintf(s.out, `overstap demo — everything below is fictitious and runs on loopback only.

  Municipal e-loket (through the gateway): %s/
  Development OpenID provider:             %s/
  The e-loket itself (the gateway's upstream, do not use directly): %s/

Try it:
  1. Open %s/login and log in the old way, with a national number below as
     username and password: the gateway refuses and explains.
  2. Press the button, pick the same persona at the dev IdP: you land in your
     own e-loket page, and your old password is revoked.
  3. Family: as parent-a, add minor (your child, per the population register)
     or roommate (needs their consent: you get an invitation code; they log in
     themselves at %s/.overstap/family/ and approve). Changing a family
     member's password is always refused.

Personas (the national numbers are synthetic, sequence 9xx, shown in full so you
can type them into the old login form):
`, d.GatewayURL, d.IdPURL, d.AppURL, d.GatewayURL, d.GatewayURL)
	tw := tabwriter.NewWriter(s.out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  key\tname\tage\tnational number\tnote")
	for _, p := range d.Personas {
		num, note := "(none)", ""
		if p.HasNRN() {
			num = p.NRN.Format()
		}
		switch {
		case p.ForeignDocument:
			note = "itsme with a foreign document: no national number"
		case p.BIS:
			note = "BIS number: no legacy account"
		case len(p.Children) > 0:
			note = "parent of " + fmt.Sprint(p.Children)
		case len(p.Parents) > 0:
			note = "child of " + fmt.Sprint(p.Parents)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%s\t%s\n", p.Key, p.Name(), p.Age, num, note)
	}
	tw.Flush()
	fmt.Fprintln(s.out, "\nStop with Ctrl-C.")
}
