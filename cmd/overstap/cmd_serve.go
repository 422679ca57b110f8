package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/overstap/overstap/auth/ratelimit"
	"github.com/overstap/overstap/internal/config"
	"github.com/overstap/overstap/internal/logging"
	"github.com/overstap/overstap/internal/server"
	"github.com/overstap/overstap/migrate/hash"
)

func newServeCmd(s stdio) *cobra.Command {
	var cfgPath string
	var check bool
	c := &cobra.Command{
		Use:   "serve",
		Short: "Run the gateway in front of the legacy apps (reverse proxy and forward-auth)",
		Long: `Runs the gateway: OpenID Connect login through the configured providers,
route policy, identity propagation to the legacy apps, step-up, logout,
back-channel logout; /metrics, /healthz, /readyz and the admin API on their own
listeners. See docs/gateway.md and configs/gateway.yaml.

With --check it only checks the configuration, without side effects: the
file (every key, secret and key file), the sections serve needs, the listen
addresses, the TLS key pair, the hash and rate-limit settings. It opens no
database, binds no port and calls no provider; exit status 0 when the file
would start, 1 with every problem otherwise.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if check {
				return checkServe(s, cfgPath)
			}
			return runServe(cmd.Context(), s, cfgPath)
		},
	}
	c.Flags().StringVar(&cfgPath, "config", "", "YAML configuration file (required)")
	c.Flags().BoolVar(&check, "check", false, "check the configuration without side effects and exit (0 ok, 1 problems)")
	_ = c.MarkFlagRequired("config")
	return c
}

func runServe(ctx context.Context, s stdio, path string) error {
	cfg, err := loadConfig(path)
	if err != nil {
		return err
	}
	log, err := logging.New(s.err, cfg.Log.Format, cfg.Log.Level)
	if err != nil {
		return err
	}
	// Everything checkable without side effects is checked before any
	// database is opened or migrated and before any port is bound.
	if err := serveProblems(cfg); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	for _, w := range serveWarnings(cfg) {
		log.Warn("serve: "+w.msg, slog.String("key", w.key))
	}
	srv, err := server.Build(ctx, cfg, server.Options{Logger: log})
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	defer srv.Close()
	g := srv.Gateway
	ls, err := g.Listen()
	if err != nil {
		return err
	}
	fmt.Fprintf(s.out, "overstap gateway listening on %s\n", ls.Main.Addr())
	if ls.Metrics != nil {
		fmt.Fprintf(s.out, "metrics, healthz, readyz on %s\n", ls.Metrics.Addr())
	}
	if ls.Admin != nil {
		fmt.Fprintf(s.out, "admin API on %s\n", ls.Admin.Addr())
	}
	// Discovery runs in the background, Redis and the stores are reached on
	// first use: after a moment, say which readiness check (as /readyz:
	// sessions, idp:<name>, state, store:<name>) does not pass yet.
	go func() {
		select {
		case <-time.After(5 * time.Second):
		case <-ctx.Done():
			return
		}
		_, checks := g.Readiness(ctx)
		for _, name := range slices.Sorted(maps.Keys(checks)) {
			if why, down := strings.CutPrefix(checks[name], "down: "); down {
				log.Warn("serve: not ready", slog.String("check", name), slog.String("err", why))
			}
		}
	}()
	return g.Serve(ctx, ls)
}

// checkServe is `serve --check`: load, then serveProblems, and say so.
func checkServe(s stdio, path string) error {
	cfg, err := loadConfig(path)
	if err != nil {
		return err
	}
	if err := serveProblems(cfg); err != nil {
		return fmt.Errorf("serve --check: %s: %w", path, err)
	}
	for _, w := range serveWarnings(cfg) {
		fmt.Fprintf(s.out, "warning: %s: %s\n", w.key, w.msg)
	}
	_, err = fmt.Fprintf(s.out, "configuration ok: %s\n", path)
	return err
}

// serveProblems checks, without side effects, what the loader's per-section
// validation cannot: the sections serve needs, the TLS key pair, and the
// settings only their constructors check. Every problem is reported, each
// with its key.
func serveProblems(cfg fileConfig) error {
	if cfg.Gateway == nil {
		return errors.New("gateway: the gateway section is required to serve (apps, public_url, listen; see configs/gateway.yaml and docs/gateway.md)")
	}
	var errs []error
	if len(cfg.Providers) == 0 {
		errs = append(errs, errors.New("providers: at least one OpenID provider is required to serve"))
	}
	g := cfg.Gateway
	if g.TLSCertFile != "" && g.TLSKeyFile != "" {
		if _, err := tls.LoadX509KeyPair(g.TLSCertFile, g.TLSKeyFile); err != nil {
			errs = append(errs, fmt.Errorf("gateway.tls_cert_file: %w", err))
		}
	}
	if _, err := hash.New(cfg.Hash); err != nil {
		errs = append(errs, fmt.Errorf("hash: %w", err))
	}
	if cfg.LoginStarts != (ratelimit.Rule{}) {
		if err := (ratelimit.Config{IP: cfg.LoginStarts}).Validate(); err != nil {
			errs = append(errs, fmt.Errorf("login_starts: %w", err))
		}
	}
	return errors.Join(errs...)
}

// warning is something serve starts with but an operator should know.
type warning struct{ key, msg string }

// serveWarnings lists the insecure literals and the listeners left off.
func serveWarnings(cfg fileConfig) []warning {
	var out []warning
	for _, k := range insecureSecrets(cfg) {
		out = append(out, warning{k, "secret given as insecure-literal: use ${ENV_VAR} or file:/path in production"})
	}
	if cfg.Gateway != nil && cfg.Gateway.MetricsListen == "" {
		out = append(out, warning{"gateway.metrics_listen", "not set: no /metrics, /healthz or /readyz (e.g. metrics_listen: 127.0.0.1:9090)"})
	}
	return out
}

// insecureSecrets lists the keys whose secret is an insecure-literal.
func insecureSecrets(cfg fileConfig) []string {
	var out []string
	check := func(key string, s config.Secret) {
		if s.Source() == "literal" {
			out = append(out, key)
		}
	}
	check("nrn_ref_key", cfg.NRNRefKey)
	if cfg.Gateway != nil {
		check("gateway.admin_token", cfg.Gateway.AdminToken)
	}
	for i, k := range cfg.Sessions.Keys {
		check(fmt.Sprintf("sessions.keys[%d]", i), k)
	}
	for i, p := range cfg.Providers {
		check(fmt.Sprintf("providers[%d].client_secret", i), p.ClientSecret)
	}
	return out
}
