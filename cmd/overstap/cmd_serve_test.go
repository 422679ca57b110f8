package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/overstap/overstap/auth/devidp"
	"github.com/overstap/overstap/internal/config"
	"github.com/overstap/overstap/internal/testsvc"
)

// TestServe runs `overstap serve --config` against the dev IdP: the gateway
// comes up, answers health, sends an anonymous browser to the IdP, and
// shuts down gracefully when the context ends.
func TestServe(t *testing.T) {
	old := slog.Default()
	slog.SetDefault(slog.New(slog.DiscardHandler))
	defer slog.SetDefault(old)
	idpSrv := httptest.NewServer(http.NotFoundHandler())
	defer idpSrv.Close()
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	idp, err := devidp.New(devidp.Config{IssuerBase: idpSrv.URL, SigningRSAKey: key}, nil)
	if err != nil {
		t.Fatal(err)
	}
	idpSrv.Config.Handler = idp.Handler()
	port, mport := testsvc.FreePort(t), testsvc.FreePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	if err := idp.RegisterClient(devidp.ClientConfig{ID: "serve-test", Profile: devidp.ProfileFAS, AuthMethod: "client_secret_basic",
		Secret: config.NewSecret([]byte("s3cret")), RedirectURIs: []string{base + "/.overstap/callback/fas"}}); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`
log: {format: text, level: warn}
nrn_ref_key: "insecure-literal:0123456789abcdef0123456789abcdef"
state: {path: %[5]s}
sessions: {store: memory, redis: {url: "redis://127.0.0.1:6379/0"}}
providers:
  - name: fas
    profile: fas
    issuer: %[1]s
    client_id: serve-test
    client_secret: "insecure-literal:s3cret"
    redirect_url: %[2]s/.overstap/callback/fas
gateway:
  listen: 127.0.0.1:%[3]d
  public_url: %[2]s
  dev_insecure_cookies: true
  metrics_listen: 127.0.0.1:%[4]d
  admin_listen: ""
  apps:
    - name: eloket
      upstream: http://127.0.0.1:1
      rules:
        - {path: /static/**, class: public}
`, idp.Issuer(devidp.ProfileFAS), base, port, mport, filepath.Join(t.TempDir(), "state.db"))
	path := filepath.Join(t.TempDir(), "gateway.yaml")
	os.WriteFile(path, []byte(cfg), 0o600)

	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--config", path}, strings.NewReader(""), pw, io.Discard)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil || !strings.Contains(line, fmt.Sprintf("127.0.0.1:%d", port)) {
		cancel()
		t.Fatalf("first line %q: %v (run: %v)", line, err, <-done)
	}
	go io.Copy(io.Discard, pr)

	c := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(fmt.Sprintf("http://127.0.0.1:%d/healthz", mport))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", err, resp)
	}
	// The container image's HEALTHCHECK: the binary asks itself.
	if out, _, err := runCmd("healthcheck", "--addr", fmt.Sprintf("127.0.0.1:%d", mport)); err != nil || !strings.Contains(out, `{"status":"ok"}`) {
		t.Fatalf("healthcheck: %q %v", out, err)
	}
	if out, _, err := runCmd("healthcheck", "--config", path); err != nil || !strings.Contains(out, "/healthz") {
		t.Fatalf("healthcheck --config: %q %v", out, err)
	}
	if _, _, err := runCmd("healthcheck", "--addr", fmt.Sprintf("127.0.0.1:%d", testsvc.FreePort(t))); err == nil {
		t.Fatal("healthcheck of a closed port succeeded")
	}
	// Upstream down: 502 page.
	resp, err = c.Get(base + "/static/x.css")
	if err != nil || resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("upstream down: %v %v", err, resp)
	}
	req, _ := http.NewRequest("GET", base+"/.overstap/login?return_to=/x", nil)
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err = c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusSeeOther || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond) // discovery still running
	}
	if !strings.HasPrefix(resp.Header.Get("Location"), idp.Issuer(devidp.ProfileFAS)) {
		t.Fatalf("login: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if err := stopRun(cancel, done); err != nil {
		t.Fatalf("no graceful shutdown: %v", err)
	}
}

func TestServeBadConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(path, []byte(`
gateway:
  public_url: ftp://x
  trusted_proxies: [not-an-ip]
  apps:
    - name: a
      upstream: "::"
      rules: [{path: nope, class: weird}]
`), 0o600)
	err := run(context.Background(), []string{"serve", "--config", path}, strings.NewReader(""), io.Discard, io.Discard)
	if err == nil {
		t.Fatal("bad config accepted")
	}
	for _, want := range []string{"gateway.public_url", "gateway.trusted_proxies", "apps[0].rules[0].path", "apps[0].upstream", "providers", "nrn_ref_key"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
}

// TestServeExampleConfig: configs/gateway.yaml decodes strictly; the only
// problems are the key files that exist only on a real server.
func TestServeExampleConfig(t *testing.T) {
	t.Setenv("OVERSTAP_NRN_REF_KEY", "0123456789abcdef0123456789abcdef")
	t.Setenv("OVERSTAP_SESSION_KEY", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
	t.Setenv("OVERSTAP_FAS_SECRET", "fas-secret")
	t.Setenv("OVERSTAP_ADMIN_TOKEN", "0123456789abcdef0123456789abcdef-admin")
	t.Setenv("ELOKET_DB_DSN", "postgres://eloket@127.0.0.1:5432/eloket")
	var cfg fileConfig
	err := config.Load("../../configs/gateway.yaml", &cfg)
	if err == nil {
		t.Fatal("expected the missing /etc/overstap key files to be reported")
	}
	var ce *config.Error
	if !errors.As(err, &ce) {
		t.Fatalf("not a config error: %v", err)
	}
	for _, p := range ce.Problems {
		if !strings.Contains(p.Error(), "/etc/overstap/") {
			t.Errorf("unexpected problem: %v", p)
		}
	}
	if len(cfg.Linking) != 1 || cfg.Linking["eloket"].Store != "eloket" || len(cfg.Stores) != 1 {
		t.Fatalf("linking and stores not decoded: %+v %+v", cfg.Linking, cfg.Stores)
	}
	if cfg.Gateway == nil || len(cfg.Gateway.Apps) != 1 || len(cfg.Gateway.Apps[0].Rules) != 9 || cfg.Gateway.PublicURL != "https://eloket.gemeente.be" {
		t.Fatalf("decoded %+v", cfg.Gateway.Apps)
	}
}

// TestServeSmallestFile: the "smallest useful file" of
// docs/configuration.md (nrn_ref_key and state only) used to panic in
// insecureSecrets; serve and serve --check now say the gateway section is
// missing, and nothing was created.
func TestServeSmallestFile(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "state.db")
	cfg := writeConfig(t, "nrn_ref_key: "+testRefKey+"\nstate:\n  path: "+dbPath+"\n")
	for _, args := range [][]string{{"serve", "--config", cfg}, {"serve", "--check", "--config", cfg}} {
		_, _, err := runCmd(args...)
		if err == nil || !strings.Contains(err.Error(), "gateway: the gateway section is required to serve") {
			t.Errorf("%v: %v", args, err)
		}
	}
	if _, err := os.Stat(dbPath); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the state database was created: %v", err)
	}
}

// TestServeCheck: --check validates without side effects (no database
// file, no port bound) and reports every problem with its key path, the
// listen addresses included, before any migration.
func TestServeCheck(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "state.db")
	good := fmt.Sprintf(`
nrn_ref_key: %s
state: {path: %s}
providers:
  - {name: fas, profile: fas, issuer: "https://127.0.0.1:1/fas", client_id: c, client_secret: "insecure-literal:s", redirect_url: "https://127.0.0.1:8443/.overstap/callback/fas"}
gateway:
  listen: %s
  public_url: https://127.0.0.1:8443
  apps: [{name: eloket, upstream: "http://127.0.0.1:1"}]
`, testRefKey, dbPath, "%s")
	port := testsvc.FreePort(t)
	out, _, err := runCmd("serve", "--check", "--config", writeConfig(t, fmt.Sprintf(good, fmt.Sprintf("127.0.0.1:%d", port))))
	if err != nil || !strings.Contains(out, "configuration ok") || !strings.Contains(out, "warning: providers[0].client_secret") ||
		!strings.Contains(out, "warning: gateway.metrics_listen") {
		t.Fatalf("good config: %q %v", out, err)
	}
	if _, err := os.Stat(dbPath); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("--check created the state database: %v", err)
	}
	// The port was not bound: it is still free.
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatalf("--check left the port bound: %v", err)
	}
	l.Close()

	bad := strings.Replace(fmt.Sprintf(good, "127.0.0.1:80800"), "public_url:", "metrics_listen: localhost\n  tls_cert_file: /nonexistent/cert.pem\n  tls_key_file: /nonexistent/key.pem\n  public_url:", 1)
	for _, args := range [][]string{{"serve", "--check", "--config"}, {"serve", "--config"}} {
		_, _, err := runCmd(append(args, writeConfig(t, bad))...)
		if err == nil {
			t.Fatalf("%v: bad config accepted", args)
		}
		for _, want := range []string{"gateway.listen: \"127.0.0.1:80800\": port", "(line 8)", "gateway.metrics_listen: \"localhost\" is not host:port"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%v: missing %q in:\n%v", args, want, err)
			}
		}
		if _, err := os.Stat(dbPath); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%v: state database created before the listen check", args)
		}
	}
	tlsBad := strings.Replace(fmt.Sprintf(good, "127.0.0.1:8443"), "public_url:", "tls_cert_file: /nonexistent/cert.pem\n  tls_key_file: /nonexistent/key.pem\n  public_url:", 1)
	if _, _, err := runCmd("serve", "--check", "--config", writeConfig(t, tlsBad)); err == nil || !strings.Contains(err.Error(), "gateway.tls_cert_file") {
		t.Fatalf("missing TLS files: %v", err)
	}
}

// TestVersion: `overstap version` and `overstap --version` print the same
// version, commit and build date; -ldflags -X stamps them (make build).
func TestVersion(t *testing.T) {
	a, _, err := runCmd("version")
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := runCmd("--version")
	if err != nil {
		t.Fatal(err)
	}
	if a != b || !strings.HasPrefix(a, "overstap ") || !strings.Contains(a, "\ncommit: ") || !strings.Contains(a, "\nbuilt: ") {
		t.Fatalf("version %q, --version %q", a, b)
	}
	if testing.Short() {
		return
	}
	bin := filepath.Join(t.TempDir(), "overstap")
	cmd := exec.Command("go", "build", "-ldflags", "-X main.version=v9.8.7 -X main.commit=0123abc -X main.buildDate=2026-12-06T00:00:00Z", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "--version").Output()
	if want := "overstap v9.8.7\ncommit: 0123abc\nbuilt: 2026-12-06T00:00:00Z\ngo: " + runtime.Version() + "\n"; err != nil || string(out) != want {
		t.Fatalf("stamped binary: %q %v, want %q", out, err, want)
	}
}
