package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/overstap/overstap/auth/devidp"
	"github.com/overstap/overstap/internal/logging"
)

func newDevIDPCmd(s stdio) *cobra.Command {
	var cfgPath string
	var printNumbers bool
	c := &cobra.Command{
		Use:   "devidp",
		Short: "Run the development OpenID provider (FAS-, itsme- and ACM-like) with test personas",
		Long: `Runs the development OpenID provider alone, for vendors testing an
integration: FAS-like (/fas/oauth2), itsme-like (/itsme/v2) and ACM-like
(/acm/op) profiles with synthetic Belgian test personas and a picker page
instead of passwords. Loopback only. NEVER use it in production.

See docs/devidp.md and configs/devidp.yaml.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDevIDP(cmd.Context(), s, cfgPath, printNumbers)
		},
	}
	c.Flags().StringVar(&cfgPath, "config", "", "dev IdP YAML configuration file (required)")
	_ = c.MarkFlagRequired("config")
	c.Flags().BoolVar(&printNumbers, "print-numbers", false,
		"print the personas' synthetic national numbers in clear (fictitious, sequence 9xx), to seed a test user store")
	return c
}

// maxDevIDPConfig bounds the configuration file.
const maxDevIDPConfig = 1 << 20

func runDevIDP(ctx context.Context, s stdio, path string, printNumbers bool) error {
	b, err := readDevIDPConfig(path, maxDevIDPConfig)
	if err != nil {
		return fmt.Errorf("devidp: %w", err)
	}
	cfg, err := devidp.ParseConfig(b)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if cfg.Listen == "" {
		return fmt.Errorf(`%s: listen: required, e.g. "127.0.0.1:8081"`, path)
	}
	logger, err := logging.New(s.err, cfg.Log.Format, cfg.Log.Level)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	idp, err := devidp.New(cfg, logger)
	if err != nil {
		return err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("devidp: listen: %w", err)
	}
	srv := &http.Server{
		Handler:           idp.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	fmt.Fprintf(s.out, "%s\n\nlistening on http://%s\n", devidp.Banner, ln.Addr())
	for _, p := range devidp.AllProfiles {
		if iss := idp.Issuer(p); iss != "" {
			fmt.Fprintf(s.out, "  %-6s issuer %s\n", p, iss)
		}
	}
	fmt.Fprintln(s.out, "\npersonas (synthetic):")
	for _, p := range idp.Personas() {
		num := "no national number (foreign document, itsme only)"
		if p.HasNRN() {
			num = p.NRN.Mask()
			if printNumbers {
				num = p.NRN.Digits() + " (synthetic)"
			}
		}
		fmt.Fprintf(s.out, "  %-10s %-16s %3d y  %s\n", p.Key, p.Name(), p.Age, num)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("devidp: serve: %w", err)
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		return fmt.Errorf("devidp: shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("devidp: serve: %w", err)
	}
	fmt.Fprintln(s.out, "dev IdP stopped")
	return nil
}

func readDevIDPConfig(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, limit)
	}
	return b, nil
}
