package opstest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/overstap/overstap/auth/devidp"
	"github.com/overstap/overstap/auth/devidp/devidptest"
	"github.com/overstap/overstap/internal/config"
	"github.com/overstap/overstap/internal/testsvc"
)

// The reference topology of docs/operations.md: two `overstap serve`
// processes (the real binary) behind nginx, sessions on Redis with
// Sentinel (one master, one replica, three sentinels), state on
// PostgreSQL, logins through the dev IdP.
const (
	topoClients     = 20 // citizens, each with a session of its own
	topoLate        = 4  // of them log in just before the master is killed
	topoPause       = 40 * time.Millisecond
	topoMaxRequests = 1500             // per client: the load is bounded in count...
	topoMaxTime     = 45 * time.Second // ...and in time
	topoRecovery    = 60 * time.Second // liveness bound, not a timing assertion
	topoMaster      = "overstap"
)

// redisServer starts redis-server (or a sentinel) on a free port.
func redisServer(t *testing.T, bin, name string, extra ...string) (*testsvc.Proc, int) {
	t.Helper()
	port := testsvc.FreePort(t)
	args := append(append([]string(nil), extra...), "--port", fmt.Sprint(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--protected-mode", "yes", "--loglevel", "notice")
	return startIn(t, name, exec.Command(bin, args...), fmt.Sprintf("tcp://127.0.0.1:%d", port)), port
}

// startIn starts cmd in a directory of its own until it is ready.
func startIn(t *testing.T, name string, cmd *exec.Cmd, ready string) *testsvc.Proc {
	t.Helper()
	cmd.Dir = t.TempDir()
	return testsvc.Start(t, name, cmd, filepath.Join(cmd.Dir, "output.log"), ready, 30*time.Second)
}

// buildOverstap builds the overstap binary once into a temporary directory.
func buildOverstap(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "overstap")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/overstap")
	cmd.Dir = filepath.Join("..", "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// outcome is what one request through nginx gave.
type outcome int

const (
	okOwn     outcome = iota // 200 from the app with the client's own identity
	fail503                  // the gateway's fail-closed page
	connErr                  // no HTTP answer (connection refused, reset, timeout)
	toLogin                  // 303 to the IdP: the session is gone
	wrongID                  // 200 with another person's identity
	anonymous                // 200 from the app without any identity
	other                    // any other answer
	nOutcomes
)

var outcomeNames = [nOutcomes]string{"ok", "503", "conn_error", "to_login", "wrong_identity", "anonymous_pass", "other"}

type event struct {
	at     time.Time
	client int
	kind   outcome
	node   string // nginx's $upstream_addr
}

// citizen is one browser with its own session.
type citizen struct {
	id      int
	persona devidp.Persona
	hc      *http.Client
}

// TestReferenceTopologyFailover: under a bounded load of logged-in
// requests through nginx to two gateway nodes, kill -9 the Redis master
// (the sentinels promote the replica, both nodes follow without restart),
// then kill -9 one gateway node (nginx sends everything to the other).
// Before that, with min-replicas-to-write 1 and the replica cut off, a
// login fails closed (503) once the master refuses writes.
// The last logins before the master dies happen while the replication
// stream is held back (masterProxy), so the run shows what asynchronous
// replication loses: those sessions, whose citizens are sent to log in
// again. Safety: never another person's page, never an anonymous pass;
// during the switch requests fail closed. Liveness within generous bounds.
// The figures go to docs/operations.md ("Reference topology, measured").
func TestReferenceTopologyFailover(t *testing.T) {
	redisBin := testsvc.LookPath(t, []string{"/usr/bin/redis-server"}, "redis-server")
	sentinelBin := testsvc.LookPath(t, []string{"/usr/bin/redis-sentinel", "/usr/bin/redis-server"}, "redis-sentinel")
	testsvc.LookPath(t, []string{"/usr/sbin/nginx"}, "nginx") // before anything starts
	pg := testsvc.Postgres(t)
	ctx := context.Background()

	// Redis: master, replica, three sentinels (quorum 2).
	master, realPort := redisServer(t, redisBin, "redis master")
	link := startMasterProxy(t, fmt.Sprintf("127.0.0.1:%d", realPort))
	mport := link.port() // the master's address for everyone
	_, rport := redisServer(t, redisBin, "redis replica", "--replicaof", "127.0.0.1", fmt.Sprint(mport))
	var sentinels []string
	for i := range 3 {
		conf := filepath.Join(t.TempDir(), "sentinel.conf")
		body := fmt.Sprintf("sentinel monitor %[1]s 127.0.0.1 %[2]d 2\nsentinel down-after-milliseconds %[1]s 1000\n"+
			"sentinel failover-timeout %[1]s 5000\nsentinel parallel-syncs %[1]s 1\n", topoMaster, mport)
		if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		_, sport := redisServer(t, sentinelBin, fmt.Sprintf("sentinel %d", i+1), conf, "--sentinel")
		sentinels = append(sentinels, fmt.Sprintf("127.0.0.1:%d", sport))
	}
	mc := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", mport)})
	defer mc.Close()
	rc := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", rport)})
	defer rc.Close()
	testsvc.WaitFor(t, "the replica to sync", 20*time.Second, func() error {
		info, err := rc.Info(ctx, "replication").Result()
		if err != nil {
			return err
		}
		if !strings.Contains(info, "master_link_status:up") {
			return fmt.Errorf("replica link not up")
		}
		return nil
	})
	for _, s := range sentinels {
		sc := redis.NewSentinelClient(&redis.Options{Addr: s})
		testsvc.WaitFor(t, "sentinel "+s+" to know the replica and the other sentinels", 20*time.Second, func() error {
			m, err := sc.Master(ctx, topoMaster).Result()
			if err != nil {
				return err
			}
			if m["num-slaves"] != "1" || m["num-other-sentinels"] != "2" {
				return fmt.Errorf("replicas %s, other sentinels %s", m["num-slaves"], m["num-other-sentinels"])
			}
			return nil
		})
		sc.Close()
	}

	// The app: echoes the identity it received.
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"account": r.Header.Get("X-Overstap-Account")})
	}))
	defer app.Close()

	// nginx in front of two gateway nodes.
	nport := testsvc.FreePort(t)
	public := fmt.Sprintf("http://127.0.0.1:%d", nport)
	idp := devidptest.Start(t, func(c *devidp.Config) {
		c.Clients = []devidp.ClientConfig{{ID: "topology", Profile: devidp.ProfileFAS, AuthMethod: "client_secret_basic",
			Secret: config.NewSecret([]byte("topology-secret")), RedirectURIs: []string{public + "/.overstap/callback/fas"}}}
	})
	bin := buildOverstap(t)
	refKey, sessKey := testsvc.Name("ref")+strings.Repeat("k", 20), strings.Repeat("ab", 32)
	redisURL := fmt.Sprintf("redis://%s/0?master_name=%s", sentinels[0], topoMaster)
	for _, s := range sentinels[1:] {
		redisURL += "&addr=" + s
	}
	prefix := testsvc.Name("topo")
	type node struct {
		p          *testsvc.Proc
		port, ops  int
		name, addr string
	}
	var nodes []node
	startNode := func(name, redisURL string) node {
		port, ops := testsvc.FreePort(t), testsvc.FreePort(t)
		cfg := fmt.Sprintf(`log: {format: json, level: warn}
nrn_ref_key: "insecure-literal:%[1]s"
state: {driver: postgres, dsn: %[2]q}
sessions: {store: redis, redis: {url: %[3]q}, key_prefix: "%[4]s:s:", keys: ["insecure-literal:%[5]s"]}
oidc_key_prefix: "%[4]s:o:"
rate_limit: {key_prefix: "%[4]s:r:"}
providers:
  - {name: fas, profile: fas, issuer: %[6]q, client_id: topology, client_secret: "insecure-literal:topology-secret", redirect_url: "%[7]s/.overstap/callback/fas"}
gateway:
  listen: 127.0.0.1:%[8]d
  public_url: %[7]s
  trusted_proxies: [127.0.0.1/32]
  dev_insecure_cookies: true
  account_id: nrn
  metrics_listen: 127.0.0.1:%[9]d
  admin_listen: ""
  apps:
    - {name: eloket, upstream: %[10]q, default: protected}
`, refKey, pg.DSN, redisURL, prefix, sessKey, idp.Issuer(devidp.ProfileFAS), public, port, ops, app.URL)
		path := filepath.Join(t.TempDir(), "gateway.yaml")
		if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		p := startIn(t, name, exec.Command(bin, "serve", "--config", path), fmt.Sprintf("tcp://127.0.0.1:%d", ops))
		return node{p: p, port: port, ops: ops, name: name, addr: fmt.Sprintf("127.0.0.1:%d", port)}
	}
	for i := range 2 {
		n := startNode(fmt.Sprintf("gateway node %d", i+1), redisURL)
		waitReady(t, n.name, n.ops, n.p)
		nodes = append(nodes, n)
	}
	// A node with a master_name the sentinels do not know says so on
	// /readyz (not go-redis's "all sentinels are unreachable").
	wrong := startNode("gateway with a wrong master_name", strings.Replace(redisURL, "master_name="+topoMaster, "master_name=overstapx", 1))
	testsvc.WaitFor(t, "/readyz of the node with the wrong master_name", 20*time.Second, func() error {
		if wrong.p.Exited() {
			t.Fatalf("%s exited: %s", wrong.name, wrong.p.Output())
		}
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/readyz", wrong.ops))
		if err != nil {
			return err
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, want := range []string{"sentinels at " + sentinels[0], `know no master named \"overstapx\" (check master_name)`} {
			if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(b), want) {
				return fmt.Errorf("%d %s lacks %s", resp.StatusCode, b, want)
			}
		}
		return nil
	})
	testsvc.StartNginx(t, "", fmt.Sprintf(`  upstream overstap {
    server %s max_fails=1 fail_timeout=30s;
    server %s max_fails=1 fail_timeout=30s;
    keepalive 32;
  }
  server {
    listen 127.0.0.1:%d;
    location / {
      proxy_pass http://overstap;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_next_upstream error timeout;
      proxy_connect_timeout 2s;
      add_header X-Upstream $upstream_addr always;
    }
  }`, nodes[0].addr, nodes[1].addr, nport), fmt.Sprintf("tcp://127.0.0.1:%d", nport))

	// Citizens log in through nginx (so through either node).
	personas := []string{devidp.PersonaParentA, devidp.PersonaParentB, devidp.PersonaAdult, devidp.PersonaRoommate, devidp.PersonaUnrelated}
	citizens := make([]*citizen, topoClients)
	for i := range citizens {
		p, ok := idp.Persona(personas[i%len(personas)])
		if !ok {
			t.Fatalf("no persona %s", personas[i%len(personas)])
		}
		hc := devidptest.Browser(t)
		hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		hc.Timeout = 5 * time.Second
		citizens[i] = &citizen{id: i, persona: p, hc: hc}
	}
	// tryLogin logs c in through nginx: "" when c has its session, else
	// where and how the login stopped.
	tryLogin := func(c *citizen) string {
		resp, err := c.hc.Get(public + "/dossier")
		if err != nil {
			return "start: " + err.Error()
		}
		resp.Body.Close()
		loc := resp.Header.Get("Location")
		if resp.StatusCode == http.StatusFound && strings.HasPrefix(loc, "/.overstap/login?") {
			if resp, err = c.hc.Get(public + loc); err != nil {
				return "login: " + err.Error()
			}
			resp.Body.Close()
			loc = resp.Header.Get("Location")
		}
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, idp.Issuer(devidp.ProfileFAS)) {
			return fmt.Sprintf("login: %d", resp.StatusCode)
		}
		cb, err := idp.BrowserLogin(ctx, c.hc, loc, devidp.Choice{Persona: c.persona.Key, Level: "450"})
		if cb == nil {
			return fmt.Sprintf("IdP: %v", err)
		}
		if resp, err = c.hc.Get(cb.String()); err != nil {
			return "callback: " + err.Error()
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/dossier" {
			return fmt.Sprintf("callback: %d", resp.StatusCode)
		}
		if ev := request(c, public); ev.kind != okOwn {
			return "after login: " + outcomeNames[ev.kind]
		}
		return ""
	}
	login := func(c *citizen) {
		t.Helper()
		if why := tryLogin(c); why != "" {
			t.Fatalf("citizen %d: %s", c.id, why)
		}
	}
	early := citizens[:topoClients-topoLate]
	for _, c := range early {
		login(c)
	}
	// Everything written so far is on the replica.
	testsvc.WaitFor(t, "the replica to catch up", 20*time.Second, func() error {
		if n, err := mc.Do(ctx, "WAIT", 1, 1000).Int(); err != nil || n < 1 {
			return fmt.Errorf("WAIT: %d replicas, %v", n, err)
		}
		return nil
	})

	// The load: every logged-in citizen loops on a protected route.
	var (
		mu     sync.Mutex
		events []event
		stop   = make(chan struct{})
		wg     sync.WaitGroup
	)
	record := func(ev event) {
		mu.Lock()
		events = append(events, ev)
		mu.Unlock()
	}
	loop := func(c *citizen) {
		defer wg.Done()
		deadline := time.Now().Add(topoMaxTime)
		for range topoMaxRequests {
			select {
			case <-stop:
				return
			default:
			}
			if time.Now().After(deadline) {
				return
			}
			record(request(c, public))
			time.Sleep(topoPause)
		}
	}
	start := func(cs []*citizen) {
		for _, c := range cs {
			wg.Add(1)
			go loop(c)
		}
	}
	start(early)
	time.Sleep(2 * time.Second)

	// 0. min-replicas-to-write 1, min-replicas-max-lag 1, and the replica
	// cut off (its acknowledgements held too): once the master counts no
	// good replica it refuses writes, so a login fails closed (503) instead
	// of making a session that a failover could lose.
	for _, kv := range [][2]string{{"min-replicas-max-lag", "1"}, {"min-replicas-to-write", "1"}} {
		if err := mc.ConfigSet(ctx, kv[0], kv[1]).Err(); err != nil {
			t.Fatal(err)
		}
	}
	goodReplicas := func(want string) func() error {
		return func() error {
			info, err := mc.Info(ctx, "replication").Result()
			if err != nil {
				return err
			}
			if !strings.Contains(info, "min_slaves_good_slaves:"+want+"\r") {
				return fmt.Errorf("want %s good replicas: %s", want, info)
			}
			return nil
		}
	}
	cutStart := time.Now()
	link.hold(true)
	testsvc.WaitFor(t, "the master to count no good replica", 20*time.Second, goodReplicas("0"))
	p, _ := idp.Persona(devidp.PersonaParentA)
	cutCitizen := &citizen{id: topoClients, persona: p, hc: devidptest.Browser(t)}
	cutCitizen.hc.CheckRedirect = citizens[0].hc.CheckRedirect
	cutLogin := tryLogin(cutCitizen)
	cutEnd := time.Now()
	link.release()
	testsvc.WaitFor(t, "the replica to count again", 20*time.Second, goodReplicas("1"))
	if err := mc.ConfigSet(ctx, "min-replicas-to-write", "0").Err(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(cutLogin, ": 503") {
		t.Errorf("a login while the master refuses writes: %q, want a 503 page", cutLogin)
	}
	time.Sleep(time.Second)
	// The late logins happen while the replication stream is held back,
	// as on a network where the replica lags: their sessions are on the
	// master only when it dies.
	late := citizens[topoClients-topoLate:]
	link.hold(false)
	for _, c := range late {
		login(c)
	}
	start(late)

	// 1. kill -9 the Redis master right after the last login.
	killMaster := time.Now()
	master.Kill9(t)
	surviving := func(since time.Time) map[int]time.Time { // client → its first own 200 since
		mu.Lock()
		defer mu.Unlock()
		first := map[int]time.Time{}
		for _, ev := range events {
			if ev.at.After(since) && ev.kind == okOwn {
				if _, ok := first[ev.client]; !ok {
					first[ev.client] = ev.at
				}
			}
		}
		return first
	}
	lastKind := func(client int) outcome {
		mu.Lock()
		defer mu.Unlock()
		for i := len(events) - 1; i >= 0; i-- {
			if events[i].client == client {
				return events[i].kind
			}
		}
		return other
	}
	// Recovered: every citizen either works again or is sent to log in
	// (its session did not reach the replica).
	testsvc.WaitFor(t, "every citizen to be served again after the Redis failover", topoRecovery, func() error {
		first := surviving(killMaster)
		waiting := 0
		for _, c := range citizens {
			if _, ok := first[c.id]; !ok && lastKind(c.id) != toLogin {
				waiting++
			}
		}
		if waiting > 0 {
			return fmt.Errorf("%d citizens not served yet", waiting)
		}
		return nil
	})
	// Both nodes are ready again, without a restart.
	for _, n := range nodes {
		waitReady(t, n.name, n.ops, n.p)
	}
	sc := redis.NewSentinelClient(&redis.Options{Addr: sentinels[1]})
	addr, err := sc.GetMasterAddrByName(ctx, topoMaster).Result()
	sc.Close()
	if err != nil || len(addr) != 2 || addr[1] != fmt.Sprint(rport) {
		t.Fatalf("the sentinels name %v (%v) as master, want the replica on port %d", addr, err, rport)
	}
	time.Sleep(2 * time.Second) // steady load on the new master
	// Lost: sent to log in ever since. Recovery: until every other citizen
	// had its own page again.
	var lost []int
	var recovered time.Time
	first := surviving(killMaster)
	for _, c := range citizens {
		if lastKind(c.id) == toLogin {
			lost = append(lost, c.id)
		} else if first[c.id].After(recovered) {
			recovered = first[c.id]
		}
	}
	recoverRedis := time.Duration(0)
	if !recovered.IsZero() {
		recoverRedis = recovered.Sub(killMaster)
	}

	// 2. kill -9 one gateway node.
	killNode := time.Now()
	nodes[0].p.Kill9(t)
	time.Sleep(3 * time.Second)
	firstAfterNode := surviving(killNode)
	close(stop)
	wg.Wait()

	// Figures.
	mu.Lock()
	defer mu.Unlock()
	var total, cutPhase, redisPhase, nodePhase [nOutcomes]int
	var first503, last503 time.Time
	servedBy := map[string]int{}
	for _, ev := range events {
		total[ev.kind]++
		switch {
		case ev.at.After(killNode):
			nodePhase[ev.kind]++
			if ev.kind == okOwn {
				servedBy["after node kill: "+ev.node]++
			}
		case ev.at.After(killMaster):
			redisPhase[ev.kind]++
		case ev.at.After(cutStart) && ev.at.Before(cutEnd):
			cutPhase[ev.kind]++
		default:
			servedBy["before: "+ev.node]++
		}
		if ev.kind == fail503 && ev.at.After(killMaster) && ev.at.Before(killNode) {
			if first503.IsZero() {
				first503 = ev.at
			}
			last503 = ev.at
		}
	}
	lostEarly, lostLate := 0, 0
	for _, id := range lost {
		if id < topoClients-topoLate {
			lostEarly++
		} else {
			lostLate++
		}
	}
	window := time.Duration(0)
	if !first503.IsZero() {
		window = last503.Sub(first503)
	}
	sum := func(a [nOutcomes]int) int {
		n := 0
		for _, v := range a {
			n += v
		}
		return n
	}
	format := func(a [nOutcomes]int) string {
		var parts []string
		for k, v := range a {
			if v > 0 || outcome(k) == wrongID || outcome(k) == anonymous {
				parts = append(parts, fmt.Sprintf("%s=%d", outcomeNames[k], v))
			}
		}
		return strings.Join(parts, " ")
	}
	t.Logf("served by node: %v", servedBy)
	t.Logf("TOPOLOGY requests=%d [%s] | replica cut, min-replicas-to-write 1: %.1fs requests=%d [%s] login=%q | redis failover: requests=%d [%s] 503-window=%.1fs all-served-again=%.1fs sessions-lost=%d/%d-late %d/%d-early | gateway node kill: requests=%d [%s] clients-served=%d/%d",
		sum(total), format(total), cutEnd.Sub(cutStart).Seconds(), sum(cutPhase), format(cutPhase), cutLogin,
		sum(redisPhase), format(redisPhase), window.Seconds(), recoverRedis.Seconds(),
		lostLate, topoLate, lostEarly, topoClients-topoLate, sum(nodePhase), format(nodePhase), len(firstAfterNode), topoClients-len(lost))

	// The node with the wrong master_name also said so in its log, 5 s
	// after it started (it has run for longer now).
	if out := wrong.p.Output(); !strings.Contains(out, `"msg":"serve: not ready","check":"sessions"`) ||
		!strings.Contains(out, `know no master named \"overstapx\"`) {
		t.Errorf("%s logged no readiness warning naming the master:\n%s", wrong.name, out)
	}

	// Safety.
	if total[wrongID] != 0 || total[anonymous] != 0 {
		t.Fatalf("wrong identity %d, anonymous pass %d: must both be 0", total[wrongID], total[anonymous])
	}
	if total[other] != 0 {
		t.Errorf("%d answers that are neither the app, a 503 page nor a login redirect", total[other])
	}
	// Sessions confirmed on the replica (WAIT) before the failover survive it.
	if lostEarly != 0 {
		t.Errorf("%d of %d sessions replicated before the failover lost", lostEarly, topoClients-topoLate)
	}
	// Those written while the replication stream was held are lost, and
	// their citizens are sent to log in again (never anything else).
	if lostLate != topoLate {
		t.Errorf("%d of %d sessions written while the replica lagged lost, want all", lostLate, topoLate)
	}
	// Both nodes served before; after the kill every surviving citizen is
	// served by the other node.
	if len(firstAfterNode) != topoClients-len(lost) {
		t.Errorf("after the gateway node kill %d of %d citizens served", len(firstAfterNode), topoClients-len(lost))
	}
	for k := range servedBy {
		if strings.HasPrefix(k, "after node kill: ") && strings.Contains(k, nodes[0].addr) && !strings.Contains(k, nodes[1].addr) {
			t.Errorf("the killed node answered: %s", k)
		}
	}
}

// request asks for a protected page as c and classifies the answer.
func request(c *citizen, public string) event {
	ev := event{at: time.Now(), client: c.id}
	req, _ := http.NewRequest("GET", public+"/dossier", nil)
	req.Header.Set("Accept", "text/html")
	resp, err := c.hc.Do(req)
	if err != nil {
		ev.kind = connErr
		return ev
	}
	defer resp.Body.Close()
	ev.node = resp.Header.Get("X-Upstream")
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	switch resp.StatusCode {
	case http.StatusOK:
		var echo struct {
			Account *string `json:"account"`
		}
		if json.Unmarshal(body, &echo) != nil || echo.Account == nil {
			ev.kind = other
		} else if *echo.Account == "" {
			ev.kind = anonymous
		} else if *echo.Account != c.persona.NRN.Digits() {
			ev.kind = wrongID
		} else {
			ev.kind = okOwn
		}
	case http.StatusServiceUnavailable:
		// The gateway's page (through a node, with Retry-After), not
		// nginx's own.
		ev.kind = fail503
		if ev.node == "" || resp.Header.Get("Retry-After") == "" || !strings.Contains(string(body), "<h1>") {
			ev.kind = other
		}
	case http.StatusSeeOther, http.StatusFound:
		ev.kind = toLogin
	case http.StatusBadGateway:
		ev.kind = connErr // nginx: no node answered
	default:
		ev.kind = other
	}
	return ev
}

// waitReady waits for a node's /readyz (sessions, IdP, state) to be 200.
func waitReady(t *testing.T, name string, ops int, p *testsvc.Proc) {
	t.Helper()
	u := fmt.Sprintf("http://127.0.0.1:%d/readyz", ops)
	testsvc.WaitFor(t, name+" ready", 30*time.Second, func() error {
		if p.Exited() {
			t.Fatalf("%s exited: %s", name, p.Output())
		}
		resp, err := http.Get(u)
		if err != nil {
			return err
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("%d %s", resp.StatusCode, b)
		}
		return nil
	})
}
