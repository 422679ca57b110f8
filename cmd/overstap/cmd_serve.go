package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/overstap/overstap/auth/gateway"
	"github.com/overstap/overstap/auth/gateway/wire"
	"github.com/overstap/overstap/auth/oidc"
	"github.com/overstap/overstap/auth/session"
	"github.com/overstap/overstap/internal/config"
	"github.com/overstap/overstap/internal/logging"
)

// serveConfig is the configuration file of `overstap serve`: the sections
// of the packages it wires. (The lead merges these sections into the
// top-level configuration.)
type serveConfig struct {
	// Log is the process log on stderr.
	Log logging.Config `yaml:"log"`
	// NRNRefKey keys the pseudonymous references of national numbers
	// (see the top-level configuration); used when gateway.nrn_ref_key is empty.
	NRNRefKey config.Secret `yaml:"nrn_ref_key"`
	// Gateway is the gateway section (auth/gateway.Config).
	Gateway gateway.Config `yaml:"gateway"`
	// Sessions is the session store (auth/session.Config).
	Sessions session.Config `yaml:"sessions"`
	// Providers are the OpenID providers (auth/oidc.ProviderConfig).
	Providers []oidc.ProviderConfig `yaml:"providers"`
	// OIDCKeyPrefix starts the Redis keys of login flow state (default
	// "overstap:oidc:"), with sessions.store redis.
	OIDCKeyPrefix string `yaml:"oidc_key_prefix"`
}

// Validate checks what no section checks for itself.
func (c serveConfig) Validate() error {
	var errs []error
	if c.Gateway.NRNRefKey.IsZero() && len(c.NRNRefKey.Bytes()) < minRefKey {
		errs = append(errs, errors.New(`nrn_ref_key: required (or gateway.nrn_ref_key), at least 32 bytes, e.g. "${OVERSTAP_NRN_REF_KEY}"`))
	}
	if len(c.Providers) == 0 {
		errs = append(errs, errors.New("providers: at least one OpenID provider is required"))
	}
	return errors.Join(errs...)
}

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
	var cfg serveConfig
	if err := config.Load(path, &cfg); err != nil {
		return err
	}
	log, err := logging.New(s.err, cfg.Log.Format, cfg.Log.Level)
	if err != nil {
		return err
	}
	if cfg.Gateway.NRNRefKey.IsZero() {
		cfg.Gateway.NRNRefKey = cfg.NRNRefKey
	}
	cfg.Sessions.Logger = log
	store, err := session.Open(cfg.Sessions)
	if err != nil {
		return fmt.Errorf("serve: sessions: %w", err)
	}
	defer store.Close()

	deps := oidc.Deps{Logger: log, DevInsecureCookies: cfg.Gateway.DevInsecureCookies}
	if cfg.Sessions.Store == "redis" {
		rc, err := session.NewRedisClient(cfg.Sessions.Redis)
		if err != nil {
			return fmt.Errorf("serve: redis: %w", err)
		}
		defer rc.Close()
		prefix := cfg.OIDCKeyPrefix
		if prefix == "" {
			prefix = "overstap:oidc:"
		}
		rs := oidc.NewRedisStore(rc, prefix)
		deps.Flows, deps.Replay = rs, rs
	} else {
		ms := oidc.NewMemoryStore(nil, 0)
		deps.Flows, deps.Replay = ms, ms
	}
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var provs []gateway.Authenticator
	for _, pc := range cfg.Providers {
		p, err := oidc.New(pctx, pc, deps)
		if err != nil {
			return fmt.Errorf("serve: provider %s: %w", pc.Name, err)
		}
		provs = append(provs, wire.Provider{P: p})
	}
	g, err := gateway.New(cfg.Gateway, gateway.Deps{Sessions: wire.Sessions{S: store}, Providers: provs, Logger: log})
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
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
		for _, p := range provs {
			if err := p.Ready(); err != nil {
				log.Warn("serve: provider not ready", slog.String("provider", p.Name()), slog.String("err", err.Error()))
			}
		}
	}()
	return g.Serve(ctx, ls)
}
