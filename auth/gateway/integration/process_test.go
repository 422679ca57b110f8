package integration

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/overstap/overstap/auth/devidp"
	"github.com/overstap/overstap/auth/gateway"
	"github.com/overstap/overstap/auth/nrn"
	"github.com/overstap/overstap/auth/oidc"
	"github.com/overstap/overstap/auth/session"
	"github.com/overstap/overstap/internal/config"
	"github.com/overstap/overstap/internal/testsvc"
)

// childSpec configures a gateway run in a child process (the test binary
// re-executed with TestHelperGatewayProcess).
type childSpec struct {
	RedisURL, Prefix                   string
	SessKey, RefKey, AdminTok          string
	Issuer, ClientID, Secret, Upstream string
	Port, AdminPort                    int
}

const childEnv = "OVERSTAP_GATEWAY_CHILD"

// TestHelperGatewayProcess is not a test: it is the body of a gateway child
// process, run only when the parent test sets OVERSTAP_GATEWAY_CHILD.
func TestHelperGatewayProcess(t *testing.T) {
	raw := os.Getenv(childEnv)
	if raw == "" {
		return // nothing to do when run as a test
	}
	var s childSpec
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		t.Fatal(err)
	}
	opt, _ := redis.ParseURL(s.RedisURL)
	rdb := redis.NewClient(opt)
	store, err := session.NewRedis(rdb, session.Config{Store: "redis", Redis: session.RedisConfig{URL: s.RedisURL},
		Keys: []config.Secret{config.NewSecret([]byte(s.SessKey))}, KeyPrefix: s.Prefix + "sess:"})
	if err != nil {
		t.Fatal(err)
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", s.Port)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p, err := oidc.New(ctx, oidc.ProviderConfig{Name: "fas", Profile: "fas", Issuer: s.Issuer, ClientID: s.ClientID,
		ClientSecret: config.NewSecret([]byte(s.Secret)), RedirectURL: base + "/.overstap/callback/fas"},
		oidc.Deps{Flows: oidc.NewRedisStore(rdb, s.Prefix+"oidc:"), DevInsecureCookies: true, RetryMin: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	waitReady(t, ctx, p)
	g, err := gateway.New(gateway.Config{Listen: fmt.Sprintf("127.0.0.1:%d", s.Port), PublicURL: base, DevInsecureCookies: true,
		NRNRefKey: nrn.MustRefKey([]byte(s.RefKey)), AdminListen: fmt.Sprintf("127.0.0.1:%d", s.AdminPort),
		AdminToken: config.NewSecret([]byte(s.AdminTok)), Apps: testApps(s.Upstream)},
		gateway.Deps{Sessions: store, Providers: []gateway.Authenticator{p}})
	if err != nil {
		t.Fatal(err)
	}
	ls, err := g.Listen()
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Serve(testsvc.ChildReady(ctx, "child gateway ready"), ls); err != nil {
		t.Fatal(err)
	}
}

// startChild runs a gateway in its own process sharing Redis and the dev
// IdP with the parent test.
func startChild(t *testing.T, sh *shared, redisURL string) *gw {
	t.Helper()
	for try := 1; ; try++ {
		g, err := tryChild(t, sh, redisURL)
		if errors.Is(err, testsvc.ErrChildPortTaken) && try < 3 {
			t.Logf("child gateway lost its port to another process, new ports (try %d): %v", try, err)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
}

func tryChild(t *testing.T, sh *shared, redisURL string) (*gw, error) {
	t.Helper()
	port, aport := testsvc.FreePort(t), testsvc.FreePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	cid := fmt.Sprintf("proc-%d", port)
	sec := "secret-" + cid
	if err := sh.idp.RegisterClient(devidp.ClientConfig{ID: cid, Profile: devidp.ProfileFAS, AuthMethod: "client_secret_basic",
		Secret: config.NewSecret([]byte(sec)), RedirectURIs: []string{base + "/.overstap/callback/fas"},
		BackchannelLogoutURI: base + "/.overstap/backchannel-logout/fas"}); err != nil {
		t.Fatal(err)
	}
	spec, _ := json.Marshal(childSpec{RedisURL: redisURL, Prefix: sh.prefix, SessKey: sh.sessKey.Value(), RefKey: sh.refKey.Value(),
		AdminTok: sh.adminTok.Value(), Issuer: sh.idp.Issuer(devidp.ProfileFAS), ClientID: cid, Secret: sec,
		Upstream: sh.upstream.URL, Port: port, AdminPort: aport})
	cmd, err := testsvc.StartChild(t, "TestHelperGatewayProcess", []string{childEnv + "=" + string(spec)}, "child gateway ready")
	if err != nil {
		return nil, err
	}
	t.Logf("gateway process pid %d on %s", cmd.Process.Pid, base)
	// Wait for the listener.
	for i := 0; i < 100; i++ {
		if resp, err := http.Get(base + "/.overstap/healthz"); err == nil {
			resp.Body.Close()
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	return &gw{url: base, direct: base, admin: fmt.Sprintf("http://127.0.0.1:%d", aport), clock: sh.clock, client: cid}, nil
}
