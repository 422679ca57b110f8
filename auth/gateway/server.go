package gateway

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Listeners are the addresses actually bound (tests listen on port 0).
type Listeners struct {
	Main, Metrics, Admin net.Listener
}

// Listen binds the configured addresses.
func (g *Gateway) Listen() (*Listeners, error) {
	var ls Listeners
	var err error
	if ls.Main, err = net.Listen("tcp", g.cfg.Listen); err != nil {
		return nil, fmt.Errorf("gateway: listen: %w", err)
	}
	if g.cfg.MetricsListen != "" {
		if ls.Metrics, err = net.Listen("tcp", g.cfg.MetricsListen); err != nil {
			ls.Main.Close()
			return nil, fmt.Errorf("gateway: metrics_listen: %w", err)
		}
	}
	if g.cfg.AdminListen != "" {
		if ls.Admin, err = net.Listen("tcp", g.cfg.AdminListen); err != nil {
			ls.Main.Close()
			if ls.Metrics != nil {
				ls.Metrics.Close()
			}
			return nil, fmt.Errorf("gateway: admin_listen: %w", err)
		}
	}
	return &ls, nil
}

// server builds an http.Server with slowloris-safe bounds. There is no
// WriteTimeout on the main listener because responses stream (downloads,
// SSE, websockets); request bodies get a per-request read deadline.
func (g *Gateway) server(h http.Handler) *http.Server {
	l := g.cfg.Limits
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: l.ReadHeaderTimeout,
		IdleTimeout:       l.IdleTimeout,
		MaxHeaderBytes:    l.MaxHeaderBytes,
		ErrorLog:          nil,
	}
}

// Serve runs the listeners until ctx ends, then shuts down gracefully
// (in-flight requests get Limits.ShutdownTimeout).
func (g *Gateway) Serve(ctx context.Context, ls *Listeners) error {
	type srv struct {
		s   *http.Server
		l   net.Listener
		tls bool
	}
	main := g.server(g)
	var all []srv
	all = append(all, srv{main, ls.Main, g.tls})
	if ls.Metrics != nil {
		s := g.server(g.OpsHandler())
		s.WriteTimeout = 30 * time.Second
		all = append(all, srv{s, ls.Metrics, false})
	}
	if ls.Admin != nil {
		s := g.server(g.AdminHandler())
		s.WriteTimeout = 30 * time.Second
		all = append(all, srv{s, ls.Admin, false})
	}
	if g.tls {
		main.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	errc := make(chan error, len(all))
	for _, s := range all {
		go func() {
			var err error
			if s.tls {
				err = s.s.ServeTLS(s.l, g.cfg.TLSCertFile, g.cfg.TLSKeyFile)
			} else {
				err = s.s.Serve(s.l)
			}
			if errors.Is(err, http.ErrServerClosed) {
				err = nil
			}
			errc <- err
		}()
	}
	g.log.Info("gateway: serving", "listen", ls.Main.Addr().String(), "tls", g.tls)
	var first error
	select {
	case <-ctx.Done():
	case first = <-errc:
	}
	sctx, cancel := context.WithTimeout(context.Background(), g.cfg.Limits.ShutdownTimeout)
	defer cancel()
	for _, s := range all {
		if err := s.s.Shutdown(sctx); err != nil && first == nil {
			first = fmt.Errorf("gateway: shutdown: %w", err)
		}
	}
	g.transport.CloseIdleConnections()
	return first
}
