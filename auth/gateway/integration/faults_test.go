package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/overstap/overstap/auth/devidp"
	"github.com/overstap/overstap/internal/testsvc"
)

// ownRedis is a redis-server of the test's own on a free loopback port.
type ownRedis struct {
	bin  string
	port int
	cmd  *exec.Cmd
	dir  string
}

func (o *ownRedis) start(t *testing.T) {
	t.Helper()
	o.cmd = exec.Command(o.bin, "--port", fmt.Sprint(o.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", o.dir)
	if err := o.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", o.port)})
	defer c.Close()
	for i := 0; i < 100; i++ {
		if c.Ping(context.Background()).Err() == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("own redis did not start")
}

func (o *ownRedis) stop() {
	if o.cmd != nil && o.cmd.Process != nil {
		o.cmd.Process.Kill()
		o.cmd.Wait()
		o.cmd = nil
	}
}

func readyz(t *testing.T, g *gw) (int, map[string]string) {
	t.Helper()
	resp, err := http.Get(g.ops + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Ready  bool              `json:"ready"`
		Checks map[string]string `json:"checks"`
	}
	json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body.Checks
}

// TestRedisFault: Redis stopped mid-test → protected routes answer 503
// with a page (fail closed), /readyz not ready, no panic; Redis back →
// serving again without restarting the gateway.
func TestRedisFault(t *testing.T) {
	bin := testsvc.LookPath(t, []string{"/usr/bin/redis-server", "/usr/sbin/redis-server"}, "redis-server")
	r := setupRedis(t) // flow state stays on the shared Redis
	sh := newShared(t, r.Client, r.Prefix)
	own := &ownRedis{bin: bin, port: testsvc.FreePort(t), dir: t.TempDir()}
	own.start(t)
	t.Cleanup(own.stop)
	rdb := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", own.port), DialTimeout: 200 * time.Millisecond,
		ReadTimeout: 200 * time.Millisecond, WriteTimeout: 200 * time.Millisecond, MaxRetries: -1})
	t.Cleanup(func() { rdb.Close() })
	g := newGateway(t, sh, redisStore(t, sh, rdb), nil)
	c := browser(t)
	pa := persona(t, sh, devidp.PersonaAdult)
	g.login(t, sh, c, "/dossier", devidp.Choice{Persona: pa.Key, Level: "450"})
	if code, _ := upstreamSaw(t, c, g.url+"/dossier", nil); code != 200 {
		t.Fatalf("before: %d", code)
	}
	if code, _ := readyz(t, g); code != 200 {
		t.Fatalf("readyz before: %d", code)
	}

	own.stop()
	hits := sh.upHits.Load()
	resp, body := get(t, c, g.url+"/dossier", nil)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "<h1>") || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("redis down: %d", resp.StatusCode)
	}
	if sh.upHits.Load() != hits {
		t.Fatal("request reached the upstream with the session store down")
	}
	resp, _ = get(t, c, g.url+"/dossier", map[string]string{"Accept": "application/json"})
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("api with redis down: %d", resp.StatusCode)
	}
	// Public routes do not need the store.
	if code, _ := upstreamSaw(t, c, g.url+"/static/x.css", nil); code != 200 {
		t.Fatalf("public with redis down: %d", code)
	}
	code, checks := readyz(t, g)
	if code != http.StatusServiceUnavailable || !strings.HasPrefix(checks["sessions"], "down") || checks["idp:fas"] != "ok" {
		t.Fatalf("readyz with redis down: %d %v", code, checks)
	}

	// The public readiness says which check is down, not why.
	resp, body = get(t, c, g.url+"/.overstap/readyz", nil)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, `"sessions":"down"`) || strings.Contains(body, "127.0.0.1") {
		t.Fatalf("public readyz: %d %s", resp.StatusCode, body)
	}

	own.start(t)
	deadline := time.Now().Add(5 * time.Second)
	for {
		code, _ := readyz(t, g)
		if code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("gateway did not become ready again")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The fresh Redis lost the sessions: log in again, served again.
	g.login(t, sh, c, "/dossier", devidp.Choice{Persona: pa.Key, Level: "450"})
	if code, _ := upstreamSaw(t, c, g.url+"/dossier", nil); code != 200 {
		t.Fatalf("after redis came back: %d", code)
	}
}

// TestIdPDown: with the IdP gone, a login ends on a clear error page and
// existing sessions keep working.
func TestIdPDown(t *testing.T) {
	_, sh, g := redisGateway(t)
	ca, cb := browser(t), browser(t)
	g.login(t, sh, ca, "/dossier", devidp.Choice{Persona: devidp.PersonaParentA, Level: "450"})

	// B gets as far as the IdP's answer, then the IdP goes away before the
	// code is exchanged.
	resp, _ := get(t, cb, g.url+"/.overstap/login?return_to=/dossier", nil)
	cbURL, err := sh.idp.BrowserLogin(context.Background(), cb, resp.Header.Get("Location"), devidp.Choice{Persona: devidp.PersonaParentB, Level: "450"})
	if cbURL == nil {
		t.Fatal(err)
	}
	sh.idpSrv.CloseClientConnections()
	sh.idpSrv.Close()
	resp, body := get(t, cb, cbURL.String(), map[string]string{"Accept-Language": "nl"})
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "Aanmelddienst niet bereikbaar") {
		t.Fatalf("callback with IdP down: %d", resp.StatusCode)
	}
	if code, _ := upstreamSaw(t, ca, g.url+"/dossier", nil); code != 200 {
		t.Fatalf("existing session with IdP down: %d", code)
	}
}
