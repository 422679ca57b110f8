package gateway

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/overstap/overstap/auth/gateway/route"
)

// metrics are the gateway's Prometheus metrics. No label ever holds a
// national number, a user id, a session id or a path: only app names,
// route classes, status codes, provider names and fixed outcomes.
type metrics struct {
	requests     *prometheus.CounterVec
	logins       *prometheus.CounterVec
	stepUps      *prometheus.CounterVec
	revocations  *prometheus.CounterVec
	hooks        *prometheus.CounterVec
	storeLatency *prometheus.HistogramVec
	duration     *prometheus.HistogramVec
	checkUp      *prometheus.GaugeVec
	loadLatency  prometheus.Observer // storeLatency{op="load"}, resolved once
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "overstap_gateway_requests_total", Help: "Requests by app, route class and status code.",
		}, []string{"app", "class", "code"}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "overstap_gateway_logins_total", Help: "Login events by provider and outcome.",
		}, []string{"provider", "outcome"}),
		stepUps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "overstap_gateway_stepups_total", Help: "Step-up re-authentications by outcome.",
		}, []string{"outcome"}),
		revocations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "overstap_gateway_revoked_sessions_total", Help: "Sessions revoked, by cause.",
		}, []string{"cause"}),
		hooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "overstap_gateway_hook_decisions_total", Help: "Hooked requests (legacy login, family) by app, class and outcome.",
		}, []string{"app", "class", "outcome"}),
		storeLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "overstap_gateway_session_store_seconds", Help: "Session store call latency.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .1, .5, 2},
		}, []string{"op"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "overstap_gateway_request_duration_seconds", Help: "Time to answer an app request (upstream included), by route class.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"class"}),
		checkUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "overstap_gateway_check_up", Help: "1 when the readiness check (sessions = the session store, Redis; idp:<name>; state; store:<name>) passed at the last scrape or /readyz, 0 when not.",
		}, []string{"check"}),
	}
	reg.MustRegister(m.requests, m.logins, m.stepUps, m.revocations, m.hooks, m.storeLatency, m.duration, m.checkUp)
	m.loadLatency = m.storeLatency.WithLabelValues("load")
	return m
}

// codes caches the label strings of common status codes.
var codes = func() map[int]string {
	m := map[int]string{}
	for _, c := range []int{200, 201, 204, 206, 301, 302, 303, 304, 307, 308, 400, 401, 403, 404, 405, 413, 429, 499, 500, 502, 503, 504} {
		m[c] = strconv.Itoa(c)
	}
	return m
}()

func (m *metrics) request(app string, class route.Class, code int) {
	s, ok := codes[code]
	if !ok {
		s = strconv.Itoa(code)
	}
	m.requests.WithLabelValues(app, string(class), s).Inc()
}
