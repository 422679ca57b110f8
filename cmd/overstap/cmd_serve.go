package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/overstap/overstap/internal/config"
	"github.com/overstap/overstap/internal/logging"
	"github.com/overstap/overstap/internal/server"
)

func newServeCmd(s stdio) *cobra.Command {
	var cfgPath string
	c := &cobra.Command{
		Use:   "serve",
		Short: "Run the gateway in front of the legacy apps (reverse proxy and forward-auth)",
		Long: `Runs the gateway: OpenID Connect login through the configured providers,
route policy, identity propagation to the legacy apps, step-up, logout,
back-channel logout; /metrics, /healthz, /readyz and the admin API on their own
listeners. See docs/gateway.md and configs/gateway.yaml.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runServe(cmd.Context(), s, cfgPath)
		},
	}
	c.Flags().StringVar(&cfgPath, "config", "", "YAML configuration file (required)")
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
	for _, sec := range insecureSecrets(cfg) {
		log.Warn("serve: secret given as insecure-literal: use ${ENV_VAR} or file:/path in production", slog.String("key", sec))
	}
	srv, err := server.Build(ctx, cfg, server.Options{Logger: log, Extensions: extensions()})
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
	// Discovery runs in the background; say which provider is not ready yet.
	go func() {
		select {
		case <-time.After(5 * time.Second):
		case <-ctx.Done():
			return
		}
		for _, p := range srv.Provider {
			if err := p.Ready(); err != nil {
				log.Warn("serve: provider not ready", slog.String("provider", p.Name()), slog.String("err", err.Error()))
			}
		}
	}()
	return g.Serve(ctx, ls)
}

// extensions are the optional parts serve adds (family protections).
func extensions() []server.Extension { return nil }

// insecureSecrets lists the keys whose secret is an insecure-literal.
func insecureSecrets(cfg fileConfig) []string {
	var out []string
	check := func(key string, s config.Secret) {
		if s.Source() == "literal" {
			out = append(out, key)
		}
	}
	check("nrn_ref_key", cfg.NRNRefKey)
	check("gateway.nrn_ref_key", cfg.Gateway.NRNRefKey)
	check("gateway.admin_token", cfg.Gateway.AdminToken)
	for i, k := range cfg.Sessions.Keys {
		check(fmt.Sprintf("sessions.keys[%d]", i), k)
	}
	for i, p := range cfg.Providers {
		check(fmt.Sprintf("providers[%d].client_secret", i), p.ClientSecret)
	}
	return out
}
