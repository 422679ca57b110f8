// Package demo runs the whole migration story on one machine: the dev
// IdP with its synthetic personas, the flawed demo e-loket (accounts whose
// username and password are the national number), and the gateway in
// front of it, assembled by internal/server exactly as `overstap serve`
// assembles production. `overstap demo` and the end-to-end tests use it.
package demo

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/md5"
	"crypto/rand"
	"crypto/x509"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/overstap/overstap/adapters/registry"
	"github.com/overstap/overstap/adapters/state"
	"github.com/overstap/overstap/adapters/store/sqlstore"
	"github.com/overstap/overstap/adapters/store/storeconfig"
	"github.com/overstap/overstap/adapters/upstream"
	"github.com/overstap/overstap/auth/devidp"
	"github.com/overstap/overstap/auth/gateway"
	"github.com/overstap/overstap/auth/gateway/route"
	"github.com/overstap/overstap/auth/legacylogin"
	"github.com/overstap/overstap/auth/oidc"
	"github.com/overstap/overstap/auth/session"
	"github.com/overstap/overstap/internal/config"
	"github.com/overstap/overstap/internal/demoapp"
	"github.com/overstap/overstap/internal/logging"
	"github.com/overstap/overstap/internal/server"
)

// AppName is the demo e-loket's name in the gateway.
const AppName = "eloket"

// A resident without a Belgian national number (no eID, no itsme): the
// gateway_password policy is for such accounts. Fictitious.
const (
	ResidentUser     = "jan.peeters"
	ResidentPassword = "Zomer-Fiets-2019"
)

// Options configure a demo.
type Options struct {
	// GatewayAddr and IdPAddr are loopback listen addresses
	// (127.0.0.1:8080 and 127.0.0.1:8081 by default; port 0 picks one).
	GatewayAddr, IdPAddr string
	// GuideAddr is the loopback address of the demo's start page, which
	// lists the personas and the steps to try (127.0.0.1:8082 by default).
	GuideAddr string
	// RedisURL, when set, keeps sessions, login flows and rate limits in
	// Redis (redis://127.0.0.1:6379/0), as several gateway nodes would.
	RedisURL string
	// RedisPrefix starts every Redis key (default "overstap:demo:<random>:").
	RedisPrefix string
	// Dir holds the demo's SQLite files (created when missing); empty: a
	// temporary directory removed by Close.
	Dir string
	// Policy is the legacy-login policy for usernames that are not
	// national numbers (block_all by default).
	Policy legacylogin.Policy
	// NRNRefKey keys national-number and username references (nil: a
	// random key per demo). Gateway nodes sharing rate limits need the same.
	NRNRefKey []byte
	// Logger receives the gateway's log (nil: discard).
	Logger *slog.Logger
	// Now is the clock of every part (nil: time.Now).
	Now func() time.Time
	// FamilyRegistry replaces the demo's population register (tests: an
	// unreachable one, to show that the gateway fails closed).
	FamilyRegistry registry.Source
}

// Demo is a running demo.
type Demo struct {
	GatewayURL string // where citizens go
	GuideURL   string // the demo's start page: personas and steps to try
	IdPURL     string // the dev IdP
	AppURL     string // the e-loket itself, behind the gateway (loopback only)
	Personas   []devidp.Persona
	IdP        *devidp.Server
	App        *demoapp.App
	AppDB      *sql.DB // the e-loket's database (tests check revocations in it)
	Server     *server.Server

	stop []func()
	cfg  server.Config
	opts server.Options
	mu   sync.Mutex
	seen map[string]int // "METHOD /path" → requests the e-loket received
}

// AppSaw returns how many requests the e-loket itself received for
// method and path: what got through the gateway.
func (d *Demo) AppSaw(method, path string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.seen[method+" "+path]
}

// count records every request that reaches the e-loket.
func (d *Demo) count(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.mu.Lock()
		if d.seen == nil {
			d.seen = map[string]int{}
		}
		if len(d.seen) < 10000 {
			d.seen[r.Method+" "+strings.ToLower(r.URL.Path)]++
		}
		d.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

// Close stops everything and removes a temporary directory.
func (d *Demo) Close() {
	for i := len(d.stop) - 1; i >= 0; i-- {
		d.stop[i]()
	}
}

func loopbackAddr(addr, def string) (string, error) {
	if addr == "" {
		addr = def
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("demo: %q: %w", addr, err)
	}
	ip := net.ParseIP(host)
	if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return "", fmt.Errorf("demo: %q: the demo listens on loopback addresses only", addr)
	}
	return addr, nil
}

func random(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Start runs the dev IdP, the demo e-loket and the gateway. ctx bounds
// background work; Close stops everything.
func Start(ctx context.Context, o Options) (_ *Demo, err error) {
	gwAddr, err := loopbackAddr(o.GatewayAddr, "127.0.0.1:8080")
	if err != nil {
		return nil, err
	}
	idpAddr, err := loopbackAddr(o.IdPAddr, "127.0.0.1:8081")
	if err != nil {
		return nil, err
	}
	guideAddr, err := loopbackAddr(o.GuideAddr, "127.0.0.1:8082")
	if err != nil {
		return nil, err
	}
	log := logging.OrDiscard(o.Logger)
	now := o.Now
	if now == nil {
		now = time.Now
	}
	d := &Demo{}
	defer func() {
		if err != nil {
			d.Close()
		}
	}()
	dir := o.Dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "overstap-demo-"); err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
		d.stop = append(d.stop, func() { _ = os.RemoveAll(dir) })
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("demo: --dir %s: %w", dir, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	d.stop = append(d.stop, cancel)

	var lc net.ListenConfig
	gwLn, err := lc.Listen(ctx, "tcp", gwAddr)
	if err != nil {
		return nil, fmt.Errorf("demo: gateway address: %w", err)
	}
	d.stop = append(d.stop, func() { _ = gwLn.Close() })
	idpLn, err := lc.Listen(ctx, "tcp", idpAddr)
	if err != nil {
		return nil, fmt.Errorf("demo: dev IdP address: %w", err)
	}
	d.stop = append(d.stop, func() { _ = idpLn.Close() })
	guideLn, err := lc.Listen(ctx, "tcp", guideAddr)
	if err != nil {
		return nil, fmt.Errorf("demo: start page address: %w", err)
	}
	d.stop = append(d.stop, func() { _ = guideLn.Close() })
	d.GuideURL = "http://" + guideLn.Addr().String()
	d.GatewayURL = "http://" + gwLn.Addr().String()
	d.IdPURL = "http://" + idpLn.Addr().String()

	// The dev IdP, with the gateway registered as a FAS client.
	if d.IdP, err = devidp.New(devidp.Config{IssuerBase: d.IdPURL, Now: o.Now}, log); err != nil {
		return nil, err
	}
	d.Personas = d.IdP.Personas()
	clientSecret := config.NewSecret([]byte(random(24)))
	prov := oidc.ProviderConfig{
		Name: "fas", Profile: "fas", Issuer: d.IdP.Issuer(devidp.ProfileFAS), ClientID: "overstap-demo",
		ClientSecret: clientSecret, RedirectURL: d.GatewayURL + "/.overstap/callback/fas",
		PostLogoutRedirectURL: d.GatewayURL + "/.overstap/logged-out",
	}
	if err := d.IdP.RegisterClient(devidp.ClientConfig{
		ID: prov.ClientID, Profile: devidp.ProfileFAS, AuthMethod: "client_secret_basic", Secret: clientSecret,
		RedirectURIs: []string{prov.RedirectURL}, PostLogoutRedirectURIs: []string{prov.PostLogoutRedirectURL},
		BackchannelLogoutURI: d.GatewayURL + "/.overstap/backchannel-logout/fas",
	}); err != nil {
		return nil, err
	}
	d.serve(idpLn, d.IdP.Handler(), log)

	// The flawed e-loket, trusting only the gateway's signed assertion.
	appPath := filepath.Join(dir, "eloket.db")
	if d.AppDB, err = sql.Open("sqlite", "file:"+appPath+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)"); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	d.stop = append(d.stop, func() { _ = d.AppDB.Close() })
	verifier := &demoapp.AssertionVerifier{JWKSURL: d.GatewayURL + upstream.JWKSPath, Issuer: d.GatewayURL,
		Audience: AppName, Header: "X-Overstap-Assertion", Now: o.Now}
	if d.App, err = demoapp.New(ctx, demoapp.Config{DB: d.AppDB, Identity: verifier.Identity, Logger: log}); err != nil {
		return nil, err
	}
	if err := d.App.Seed(ctx, Citizens(d.Personas)); err != nil {
		return nil, err
	}
	sum := md5.Sum([]byte(ResidentPassword))
	if _, err := d.AppDB.ExecContext(ctx, `INSERT INTO burgers (gebruikersnaam, wachtwoord, naam) VALUES (?, ?, ?)`,
		ResidentUser, "{MD5}"+base64.StdEncoding.EncodeToString(sum[:]), "Jan Peeters (zonder rijksregisternummer)"); err != nil {
		return nil, fmt.Errorf("demo: seed: %w", err)
	}
	appLn, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	d.AppURL = "http://" + appLn.Addr().String()
	d.serve(appLn, d.count(d.App.Handler()), log)

	persons, relations := familyRegistryFiles(dir)
	if err := RegistryExport(d.Personas).WriteCSV(persons, relations); err != nil {
		return nil, fmt.Errorf("demo: registry: %w", err)
	}
	cfg, err := d.config(o, dir, appPath, prov)
	if err != nil {
		return nil, err
	}
	d.cfg, d.opts = cfg, server.Options{Logger: log, Now: o.Now, FamilyRegistry: o.FamilyRegistry}
	if d.Server, err = server.Build(ctx, cfg, d.opts); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	d.stop = append(d.stop, func() { _ = d.Server.Close() })
	d.serve(gwLn, d.Server.Gateway, log)
	d.serve(guideLn, d.guide(o.Policy == legacylogin.PolicyGatewayPassword), log)

	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	for _, p := range d.Server.Provider {
		for p.Ready() != nil {
			select {
			case <-wctx.Done():
				return nil, fmt.Errorf("demo: provider %s not ready: %w", p.Name(), p.Ready())
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	return d, nil
}

// StartNode starts one more gateway node on a free loopback port, built
// from the same configuration (with --redis, it shares sessions, login
// flows and rate limits with the first through Redis) and returns its URL.
func (d *Demo) StartNode(ctx context.Context) (string, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv, err := server.Build(ctx, d.cfg, d.opts)
	if err != nil {
		ln.Close()
		return "", err
	}
	d.stop = append(d.stop, func() { _ = srv.Close() })
	d.serve(ln, srv.Gateway, logging.OrDiscard(d.opts.Logger))
	return "http://" + ln.Addr().String(), nil
}

// serve runs h on ln until Close.
func (d *Demo) serve(ln net.Listener, h http.Handler, log *slog.Logger) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	go func() { _ = srv.Serve(ln) }()
	d.stop = append(d.stop, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
}

// Citizens are the e-loket's accounts: every persona with a national
// number has the legacy account the supervisor described (username and
// password both the number; every second one stored as MD5).
func Citizens(ps []devidp.Persona) []demoapp.Citizen {
	var out []demoapp.Citizen
	for i, p := range ps {
		if !p.HasNRN() || p.BIS {
			continue
		}
		out = append(out, demoapp.Citizen{NRN: p.NRN, Name: p.Name(), IBAN: fmt.Sprintf("BE%02d 0000 0000 %04d", 10+i, 9000+i), MD5: i%2 == 1})
	}
	return out
}

// Rules are the e-loket's route rules in the gateway.
func Rules() []route.Rule {
	return []route.Rule{
		{Path: "/static/**", Class: route.Public},
		{Path: "/favicon.ico", Class: route.Public},
		{Path: "/login", Class: route.LegacyLogin},
		{Path: "/logout", Methods: []string{"POST"}, Class: route.Logout},
		{Path: "/family/add", Methods: []string{"POST"}, Class: route.FamilyLink},
		{Path: "/family/*", Class: route.FamilyData},
		{Path: "/family/*/password", Class: route.Credential},
		{Path: "/password", Class: route.Credential},
		{Path: "/profile/iban", Class: route.StepUp, MinLevel: "high", MaxAuthAge: 10 * time.Minute},
		// The family pages' own step-up (adding, approving, revoking) comes
		// back under this path: the IdP is asked for that level.
		{Path: "/.overstap/family/**", Class: route.StepUp, MinLevel: "high", MaxAuthAge: 10 * time.Minute},
	}
}

func (d *Demo) config(o Options, dir, appPath string, prov oidc.ProviderConfig) (server.Config, error) {
	key, err := assertionKey()
	if err != nil {
		return server.Config{}, err
	}
	refKey := o.NRNRefKey
	if refKey == nil {
		refKey = []byte(random(32))
	}
	cfg := server.Config{
		NRNRefKey: config.NewSecret(refKey),
		State:     state.Config{Driver: "sqlite", Path: filepath.Join(dir, "state.db")},
		Gateway: &gateway.Config{
			PublicURL: d.GatewayURL, DevInsecureCookies: true, Brand: "Gemeente Voorbeeld (demo)",
			HomeURL:        d.GuideURL + "/", // "back to the start page" needs no login
			ProviderLabels: map[string]string{"fas": "eID / itsme (dev IdP)"},
			TrustedProxies: []string{}, MetricsListen: "", AdminListen: "",
			AdminToken: config.NewSecret([]byte(random(32))),
			Apps: []gateway.AppConfig{{
				App:      route.App{Name: AppName, MinLevel: "low", Rules: Rules()},
				Upstream: d.AppURL,
				Identity: upstream.Config{Profile: "assertion", AssertionHeader: "X-Overstap-Assertion"},
			}},
			Assertion: upstream.SignerConfig{Keys: []upstream.KeyConfig{{ID: "demo-1", PrivateKey: key}}},
		},
		Sessions:  session.Config{Store: "memory"},
		Providers: []oidc.ProviderConfig{prov},
		Stores: []storeconfig.Config{{Name: AppName, Type: "sql", SQL: &sqlstore.Config{
			Driver: "sqlite", DSN: config.NewSecret([]byte(appPath)), Table: "burgers", SchemeHint: "plaintext",
			Columns: sqlstore.Columns{ID: "id", Username: "gebruikersnaam", Password: "wachtwoord",
				NRN: "rijksregisternummer", Name: "naam", Federated: "federatief"},
		}}},
		Family: familyConfig(dir),
		Linking: map[string]server.AppLinking{AppName: {
			Store: AppName,
			// The demo shows the app's old form, so its refusal can be tried.
			LegacyLogin: legacylogin.Config{Fields: legacylogin.Fields{Username: "gebruikersnaam", Password: "wachtwoord"}, Policy: o.Policy, ShowForm: true},
		}},
	}
	if o.RedisURL != "" {
		prefix := o.RedisPrefix
		if prefix == "" {
			prefix = "overstap:demo:" + random(4) + ":"
		}
		cfg.Sessions = session.Config{Store: "redis", Redis: session.RedisConfig{URL: o.RedisURL},
			Keys: []config.Secret{config.NewSecret([]byte(random(16)))}, KeyPrefix: prefix + "session:"}
		cfg.OIDCKeyPrefix = prefix + "oidc:"
		cfg.RateLimit.KeyPrefix = prefix + "rl:"
	}
	if err := cfg.Validate(); err != nil {
		return server.Config{}, err
	}
	return cfg, nil
}

// assertionKey is a fresh P-256 key for the demo's assertions.
func assertionKey() (config.Secret, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return config.Secret{}, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return config.Secret{}, err
	}
	return config.NewSecret(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), nil
}
