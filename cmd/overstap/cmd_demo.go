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
	var policy, logLevel, logFormat string
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
			log, err := logging.New(s.err, logFormat, logLevel)
			if err != nil {
				return err
			}
			o.Logger = log
			d, err := demo.Start(cmd.Context(), o)
			if err != nil {
				return err
			}
			defer d.Close()
			printDemo(s, d, o.Policy == legacylogin.PolicyGatewayPassword)
			<-cmd.Context().Done()
			log.Info("demo: stopping", slog.String("reason", "signal"))
			return nil
		},
	}
	c.Flags().StringVar(&o.GatewayAddr, "gateway-addr", "127.0.0.1:8080", "loopback address of the gateway (citizens go here)")
	c.Flags().StringVar(&o.IdPAddr, "idp-addr", "127.0.0.1:8081", "loopback address of the development OpenID provider")
	c.Flags().StringVar(&o.GuideAddr, "guide-addr", "127.0.0.1:8082", "loopback address of the demo's start page (personas and steps to try)")
	c.Flags().StringVar(&o.RedisURL, "redis", "", "keep sessions, login flows and rate limits in Redis, e.g. redis://127.0.0.1:6379/0")
	c.Flags().StringVar(&o.Dir, "dir", "", "directory for the demo's SQLite files, created when missing (default: a temporary directory, removed at exit)")
	c.Flags().StringVar(&policy, "legacy-policy", "block_all", "policy for legacy usernames that are not national numbers: block_all or gateway_password")
	c.Flags().StringVar(&logLevel, "log-level", "warn", "log level: debug, info, warn or error")
	c.Flags().StringVar(&logFormat, "log-format", "json", "log format: json or text (the log section's format of every command)")
	return c
}

func printDemo(s stdio, d *demo.Demo, gatewayPassword bool) {
	fmt.Fprintf(s.out, `overstap demo — everything below is fictitious and runs on loopback only.

  Start here (personas, steps to try, what each proves): %s/

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
     themselves at %s/.overstap/family/ and approve). Adding, approving and
     revoking first ask for a fresh, stronger login (step-up). Changing a
     family member's password is always refused.
`, d.GuideURL, d.GatewayURL, d.IdPURL, d.AppURL, d.GatewayURL, d.GatewayURL)
	if gatewayPassword {
		fmt.Fprintf(s.out, "  4. A resident without a national number logs in at the old form with\n     username %s and password %s: the gateway checks it and upgrades it to bcrypt.\n", demo.ResidentUser, demo.ResidentPassword)
	} else {
		fmt.Fprintf(s.out, "  4. Residents without a national number (%s / %s) log in with a password\n     the gateway checks: restart with --legacy-policy gateway_password.\n", demo.ResidentUser, demo.ResidentPassword)
	}
	fmt.Fprint(s.out, `
Personas (the national numbers are synthetic, sequence 9xx, shown in full so you
can type them into the old login form):
`)
	tw := tabwriter.NewWriter(s.out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  key\tname\tage\tnational number\tnote")
	for _, p := range d.Personas {
		num := "(none)"
		if p.HasNRN() {
			num = p.NRN.Format()
		}
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%s\t%s\n", p.Key, p.Name(), p.Age, num, demo.PersonaNote(p, "en"))
	}
	tw.Flush()
	fmt.Fprintln(s.out, "\nStop with Ctrl-C.")
}
