package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"
)

// defaultOpsAddr is the operations listener of configs/gateway.yaml and of
// the container image.
const defaultOpsAddr = "127.0.0.1:9090"

func newHealthcheckCmd(s stdio) *cobra.Command {
	var addr, cfgPath string
	var ready bool
	var timeout time.Duration
	c := &cobra.Command{
		Use:   "healthcheck",
		Short: "Ask a running gateway's operations listener whether it is alive (exit 0) or not (exit 1)",
		Long: `GETs /healthz (or /readyz with --ready) on the operations listener and exits
0 on 200, 1 otherwise. It is the container image's HEALTHCHECK: the image has
no shell and no curl, so the binary checks itself.

The address is --addr, or gateway.metrics_listen of --config.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cfgPath != "" {
				cfg, err := loadConfig(cfgPath)
				if err != nil {
					return fmt.Errorf("healthcheck: %w", err)
				}
				if cfg.Gateway == nil || cfg.Gateway.MetricsListen == "" {
					return errors.New("healthcheck: gateway.metrics_listen is not set in " + cfgPath)
				}
				addr = cfg.Gateway.MetricsListen
			}
			path := "/healthz"
			if ready {
				path = "/readyz"
			}
			return healthcheck(cmd.Context(), s, addr, path, timeout)
		},
	}
	c.Flags().StringVar(&addr, "addr", defaultOpsAddr, "host:port of the operations listener (metrics_listen)")
	c.Flags().StringVar(&cfgPath, "config", "", "read the address from this configuration file instead")
	c.Flags().BoolVar(&ready, "ready", false, "check /readyz (every dependency) instead of /healthz (the process)")
	c.Flags().DurationVar(&timeout, "timeout", 3*time.Second, "give up after this long")
	return c
}

func healthcheck(ctx context.Context, s stdio, addr, path string, timeout time.Duration) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("healthcheck: --addr %q: %w", addr, err)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1" // a wildcard listener answers on loopback
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	url := "http://" + net.JoinHostPort(host, port) + path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s: %s %s", url, resp.Status, body)
	}
	_, err = fmt.Fprintf(s.out, "%s: %s", url, body)
	return err
}
