package demo

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/overstap/overstap/auth/legacylogin"
	"github.com/overstap/overstap/internal/config"
	"github.com/overstap/overstap/internal/server"
	"github.com/overstap/overstap/internal/testsvc"
)

const childEnv = "OVERSTAP_DEMO_GATEWAY_CONFIG"

// TestHelperGatewayProcess is not a test: it is a gateway process, as
// `overstap serve` runs it (configuration file → server.Build → Serve),
// when the parent test sets OVERSTAP_DEMO_GATEWAY_CONFIG.
func TestHelperGatewayProcess(t *testing.T) {
	path := os.Getenv(childEnv)
	if path == "" {
		return
	}
	var cfg server.Config
	if err := config.Load(path, &cfg); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := server.Build(ctx, cfg, server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ls, err := srv.Gateway.Listen()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Gateway.Serve(testsvc.ChildReady(ctx, "child gateway ready"), ls); err != nil {
		t.Fatal(err)
	}
}

// startGatewayProcess runs a second gateway node in its own OS process,
// from a YAML configuration file, sharing Redis (rate limits, sessions),
// the e-loket's user store and the state database with the demo.
func startGatewayProcess(t *testing.T, d *Demo, redisURL, prefix string, refKey []byte) string {
	t.Helper()
	port := testsvc.FreePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	c := d.cfg
	yaml := fmt.Sprintf(`nrn_ref_key: "insecure-literal:%s"
state: {path: %q}
sessions: {store: redis, redis: {url: %q}, key_prefix: %q, keys: ["insecure-literal:%s"]}
oidc_key_prefix: %q
rate_limit: {key_prefix: %q}
providers:
  - {name: fas, profile: fas, issuer: %q, client_id: second-node, client_secret: "insecure-literal:unused", redirect_url: "%s/.overstap/callback/fas"}
gateway:
  listen: 127.0.0.1:%d
  public_url: %s
  dev_insecure_cookies: true
  metrics_listen: ""
  admin_listen: ""
  apps:
    - name: eloket
      upstream: %s
      rules: [{path: /login, class: legacy_login}]
stores:
  - name: eloket
    type: sql
    sql: {driver: sqlite, dsn: "insecure-literal:%s", table: burgers, scheme_hint: plaintext,
          columns: {id: id, username: gebruikersnaam, password: wachtwoord, nrn: rijksregisternummer, name: naam, federated: federatief}}
linking:
  eloket:
    store: eloket
    legacy_login: {fields: {username: gebruikersnaam, password: wachtwoord}, policy: gateway_password}
`, refKey, c.State.Path, redisURL, prefix+"session2:", random(32), prefix+"oidc2:", c.RateLimit.KeyPrefix,
		d.IdP.Issuer("fas"), base, port, base, d.AppURL, c.Stores[0].SQL.DSN.Value())
	path := filepath.Join(t.TempDir(), "second.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	testsvc.Child(t, "TestHelperGatewayProcess", []string{childEnv + "=" + path}, "child gateway ready")
	for i := 0; i < 100; i++ {
		if resp, err := http.Get(base + "/.overstap/healthz"); err == nil {
			resp.Body.Close()
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	return base
}

// TestLockoutAcrossGatewayProcesses: two gateway processes (the demo's
// and one started from a configuration file, as `overstap serve` does)
// share the brute-force limits through Redis; the locked answer is the
// wrong-password answer on both.
func TestLockoutAcrossGatewayProcesses(t *testing.T) {
	r := testsvc.Redis(t)
	refKey := []byte(random(32))
	d := startDemo(t, Options{Policy: legacylogin.PolicyGatewayPassword, RedisURL: r.URL, RedisPrefix: r.Prefix, NRNRefKey: refKey})
	nodes := []string{d.GatewayURL, startGatewayProcess(t, d, r.URL, r.Prefix, refKey)}
	try := func(node int, pw string) (int, string) {
		resp, body := newCitizen(t).postForm(nodes[node]+"/login", url.Values{"gebruikersnaam": {ResidentUser}, "wachtwoord": {pw}})
		return resp.StatusCode, body
	}
	// Each process's own wrong-password answer (the pages differ only in
	// the configured brand).
	wrong := map[int]string{}
	for node := range nodes {
		st, body := try(node, fmt.Sprintf("guess-%d", node))
		if st != http.StatusUnauthorized {
			t.Fatalf("wrong password on process %d: %d", node, st)
		}
		wrong[node] = body
	}
	for i := 2; i < 10; i++ { // default per-user limit: 10 failures, alternating processes
		if st, _ := try(i%2, fmt.Sprintf("guess-%d", i)); st != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d", i, st)
		}
	}
	for node := range nodes {
		st, body := try(node, ResidentPassword)
		if st != http.StatusUnauthorized || stripRef(body) != stripRef(wrong[node]) {
			t.Fatalf("process %d: locked answer %d differs from the wrong-password answer", node, st)
		}
	}
}
