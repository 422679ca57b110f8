package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/overstap/overstap/auth/gateway/pages"
	"github.com/overstap/overstap/auth/nrn"
)

// healthz: the process is alive.
func (g *Gateway) healthz(w http.ResponseWriter, _ *http.Request) {
	pages.JSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readiness runs every check: the session store, each provider's
// discovery, and the extra checks. The map says which one is down.
func (g *Gateway) readiness(ctx context.Context) (bool, map[string]string) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	out := map[string]string{}
	ok := true
	set := func(name string, err error) {
		if err != nil {
			ok = false
			out[name] = "down: " + nrn.Scrub(firstLine(err.Error()))
			g.m.checkUp.WithLabelValues(name).Set(0)
			return
		}
		out[name] = "ok"
		g.m.checkUp.WithLabelValues(name).Set(1)
	}
	start := time.Now()
	set("sessions", g.sessions.Ping(ctx))
	g.m.storeLatency.WithLabelValues("ping").Observe(time.Since(start).Seconds())
	for _, p := range g.providers {
		set("idp:"+p.Name(), p.Ready())
	}
	for _, c := range g.checks {
		set(c.Name, c.Check(ctx))
	}
	return ok, out
}

// Readiness runs the checks of /readyz once: whether all pass and, per
// check, "ok" or "down: " and the reason (NRNs redacted).
func (g *Gateway) Readiness(ctx context.Context) (bool, map[string]string) { return g.readiness(ctx) }

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

// readyz answers 200 when every dependency is usable, 503 otherwise, with
// a JSON body naming each check.
func (g *Gateway) readyz(w http.ResponseWriter, r *http.Request) { g.ready(w, r, true) }

// publicReadyz is /.overstap/readyz on the citizen-facing listener: which
// check is down, but not the error text (internal addresses).
func (g *Gateway) publicReadyz(w http.ResponseWriter, r *http.Request) { g.ready(w, r, false) }

func (g *Gateway) ready(w http.ResponseWriter, r *http.Request, detailed bool) {
	ok, checks := g.readiness(r.Context())
	if !detailed {
		for k, v := range checks {
			if v != "ok" {
				checks[k] = "down"
			}
		}
	}
	status := http.StatusOK
	if !ok {
		status = http.StatusServiceUnavailable
	}
	pages.JSON(w, status, map[string]any{"ready": ok, "checks": checks})
}

// OpsHandler serves /metrics, /healthz and /readyz for the separate
// operations listener.
func (g *Gateway) OpsHandler() http.Handler {
	mux := http.NewServeMux()
	prom := promhttp.HandlerFor(g.registry, promhttp.HandlerOpts{})
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		g.readiness(r.Context()) // fresh overstap_gateway_check_up (bounded: 2 s)
		prom.ServeHTTP(w, r)
	})
	mux.HandleFunc("GET /healthz", g.healthz)
	mux.HandleFunc("GET /readyz", g.readyz)
	return mux
}

// AdminHandler serves the admin API (bearer token from the configuration,
// compared in constant time):
//
//	POST /admin/revoke/person  {"nrn": "85.07.30-033.61"} → {"revoked": n}
//	POST /admin/revoke/all                                 → {"revoked": n}
//
// plus the routes of Deps.Admin (bans of the rate limiter, family grants),
// behind the same token.
//
// The national number is only turned into its keyed reference; it is
// never logged or stored.
func (g *Gateway) AdminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /admin/revoke/person", g.adminRevokePerson)
	mux.HandleFunc("POST /admin/revoke/all", g.adminRevokeAll)
	for pattern, h := range g.admin {
		mux.Handle(pattern, h)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || !equalSecret([]byte(tok), g.cfg.AdminToken.Bytes()) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="overstap-admin"`)
			pages.JSONError(w, http.StatusUnauthorized, "unauthorized")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, 4096)
		mux.ServeHTTP(w, r)
	})
}

func (g *Gateway) adminRevokePerson(w http.ResponseWriter, r *http.Request) {
	var body struct {
		NRN string `json:"nrn"`
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		pages.JSONError(w, http.StatusBadRequest, "bad_request")
		return
	}
	n, err := nrn.Parse(body.NRN)
	if err != nil {
		pages.JSONError(w, http.StatusBadRequest, "invalid_nrn")
		return
	}
	ref := n.Ref(g.cfg.NRNRefKey)
	count, err := g.sessions.RevokePerson(r.Context(), ref)
	g.adminResult(w, "person", count, err)
	g.log.Info("gateway: admin revoked sessions of a person", "nrn", n.Mask(), "ref", ref, "count", count)
}

func (g *Gateway) adminRevokeAll(w http.ResponseWriter, r *http.Request) {
	count, err := g.sessions.RevokeAll(r.Context())
	g.adminResult(w, "all", count, err)
	g.log.Warn("gateway: admin revoked all sessions", "count", count)
}

func (g *Gateway) adminResult(w http.ResponseWriter, cause string, count int, err error) {
	if err != nil {
		g.log.Error("gateway: admin revoke failed", "err", err.Error())
		if errors.Is(err, context.DeadlineExceeded) {
			pages.JSONError(w, http.StatusGatewayTimeout, "timeout")
			return
		}
		pages.JSONError(w, http.StatusServiceUnavailable, "session_store")
		return
	}
	g.m.revocations.WithLabelValues("admin_" + cause).Add(float64(count))
	pages.JSON(w, http.StatusOK, map[string]int{"revoked": count})
}
