// Command benchgw measures the gateway against its upstream in one run:
// authenticated requests through the gateway (Redis sessions, headers
// profile) versus the same upstream hit directly, at several connection
// counts, with a Go load generator on loopback. Only ratios are meaningful:
// load generator, gateway, upstream and Redis share the machine.
//
//	go run ./auth/gateway/internal/benchgw -redis redis://127.0.0.1:6379/0 -d 5s
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/overstap/overstap/auth/gateway"
	"github.com/overstap/overstap/auth/gateway/route"
	"github.com/overstap/overstap/auth/identity"
	"github.com/overstap/overstap/auth/nrn"
	"github.com/overstap/overstap/auth/oidc"
	"github.com/overstap/overstap/auth/session"
	"github.com/overstap/overstap/internal/config"
)

func main() {
	redisURL := flag.String("redis", "redis://127.0.0.1:6379/0", "Redis URL for the sessions")
	dur := flag.Duration("d", 5*time.Second, "duration of each measurement (max 60s)")
	conns := flag.String("c", "8,64,256", "connection counts")
	prof := flag.String("cpuprofile", "", "write a CPU profile of the gateway runs to this file")
	flag.StringVar(&storeKind, "store", "redis", "session store: redis or memory (to see Redis's share)")
	flag.DurationVar(&cacheTTL, "cache-ttl", time.Second, "in-process session cache TTL (session.Cached, Redis store only; 0 disables)")
	flag.Parse()
	cpuProfile = *prof
	if err := run(*redisURL, min(*dur, time.Minute), *conns); err != nil {
		fmt.Fprintln(os.Stderr, "benchgw:", err)
		os.Exit(1)
	}
}

// idle is a provider that is never asked anything: requests carry a
// session made directly in the store.
type idle struct{}

func (idle) Name() string { return "bench" }
func (idle) Ready() error { return nil }
func (idle) AuthRequest(http.ResponseWriter, *http.Request, oidc.LoginOptions) (string, error) {
	return "", errors.New("benchgw: no login")
}
func (idle) Callback(http.ResponseWriter, *http.Request) (*oidc.Login, error) {
	return nil, errors.New("benchgw: no login")
}
func (idle) LogoutURL(string, string, string) (string, error) { return "", oidc.ErrNoEndSession }
func (idle) ValidateLogoutToken(context.Context, string) (*oidc.LogoutClaims, error) {
	return nil, errors.New("benchgw: no logout")
}

func listen(h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), func() { srv.Close() }, nil
}

func run(redisURL string, d time.Duration, connList string) error {
	opt, err := redis.ParseURL(redisURL)
	if err != nil {
		return err
	}
	// go-redis default pool (10 per CPU), as overstap serve uses it.
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	ctx := context.Background()
	if err := rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	rnd := make([]byte, 6)
	rand.Read(rnd)
	prefix := "overstap:bench:" + hex.EncodeToString(rnd) + ":"
	defer func() { // remove our keys
		iter := rdb.Scan(ctx, 0, prefix+"*", 500).Iterator()
		for iter.Next(ctx) {
			rdb.Del(ctx, iter.Val())
		}
	}()
	key := make([]byte, 32)
	rand.Read(key)
	var store session.Store
	if storeKind == "memory" {
		store, err = session.NewMemory(session.Config{})
	} else {
		store, err = session.NewRedis(rdb, session.Config{Store: "redis", Redis: session.RedisConfig{URL: redisURL},
			Keys: []config.Secret{config.NewSecret([]byte(hex.EncodeToString(key)))}, KeyPrefix: prefix})
	}
	if err != nil {
		return err
	}
	body := []byte(strings.Repeat("x", 512))
	up, stopUp, err := listen(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write(body)
	}))
	if err != nil {
		return err
	}
	defer stopUp()
	refKey := nrn.RandomRefKey()
	var sessions session.Store = store
	cacheNote := "no session cache"
	if storeKind != "memory" && cacheTTL > 0 {
		cs, err := session.NewCached(store, rdb, session.CacheConfig{TTL: cacheTTL, Channel: prefix + "invalidate"})
		if err != nil {
			return err
		}
		defer cs.Close()
		for start := time.Now(); !cs.Live(); time.Sleep(10 * time.Millisecond) {
			if time.Since(start) > 5*time.Second {
				return errors.New("session cache: subscription not live")
			}
		}
		sessions, cacheNote = cs, fmt.Sprintf("session cache TTL %s", cacheTTL)
	}
	g, err := gateway.New(gateway.Config{
		PublicURL: "http://127.0.0.1", DevInsecureCookies: true, NRNRefKey: refKey,
		Apps: []gateway.AppConfig{{App: route.App{Name: "bench", Rules: []route.Rule{
			{Path: "/static/**", Class: route.Public}, {Path: "/admin/**", Class: route.Blocked},
			{Path: "/login", Methods: []string{"POST"}, Class: route.LegacyLogin},
		}}, Upstream: up}},
	}, gateway.Deps{Sessions: sessions, Providers: []gateway.Authenticator{idle{}}})
	if err != nil {
		return err
	}
	gw, stopGW, err := listen(g)
	if err != nil {
		return err
	}
	defer stopGW()
	n, _ := nrn.Synthetic(time.Date(1985, 7, 30, 0, 0, 0, 0, time.UTC), true, 901)
	id, err := store.Create(ctx, &session.Session{NRNRef: n.Ref(refKey), AccountID: n.Digits(), Identity: identity.Identity{
		NRN: n, Provider: "bench", Issuer: "https://idp.example", Subject: "bench-sub", Level: identity.LevelHigh, AuthTime: time.Now()}})
	if err != nil {
		return err
	}
	cookie := "overstap_session=" + id
	// Check the gateway really serves the authenticated request.
	if code := once(gw+"/dossier", cookie); code != 200 {
		return fmt.Errorf("gateway answered %d to the authenticated request", code)
	}
	fmt.Printf("# gateway vs direct, %s each (alternating slices), %s sessions, %s, 512-byte responses, Go load generator (loopback)\n", d, storeKind, cacheNote)
	fmt.Printf("%-6s %12s %12s %7s %10s %10s %10s %10s %10s %10s\n", "conns", "direct r/s", "gateway r/s", "ratio",
		"p50 dir", "p50 gw", "+p50", "p99 dir", "p99 gw", "+p99")
	for _, cs := range strings.Split(connList, ",") {
		c, err := strconv.Atoi(strings.TrimSpace(cs))
		if err != nil || c < 1 || c > 1024 {
			return fmt.Errorf("bad connection count %q", cs)
		}
		load(gw+"/dossier", cookie, c, d/5) // warm-up: connections, pools
		load(up+"/dossier", cookie, c, d/5)
		// Alternate short slices of direct and gateway load, so both see
		// the same background load of the shared machine.
		const rounds = 5
		var dl, gl []time.Duration
		var de, ge int64
		stop := startProfile()
		for range rounds {
			r := loadRaw(up+"/dossier", cookie, c, d/rounds)
			dl, de = append(dl, r.lat...), de+r.errors
			r = loadRaw(gw+"/dossier", cookie, c, d/rounds)
			gl, ge = append(gl, r.lat...), ge+r.errors
		}
		stop()
		dr, gr := summarize(dl, de, d), summarize(gl, ge, d)
		if gr.errors > 0 || dr.errors > 0 {
			fmt.Printf("# errors: direct %d, gateway %d\n", dr.errors, gr.errors)
		}
		fmt.Printf("%-6d %12.0f %12.0f %6.1f%% %10s %10s %10s %10s %10s %10s\n", c, dr.rps, gr.rps, 100*gr.rps/dr.rps,
			ms(dr.p50), ms(gr.p50), ms(gr.p50-dr.p50), ms(dr.p99), ms(gr.p99), ms(gr.p99-dr.p99))
	}
	return nil
}

var (
	cpuProfile, storeKind string
	cacheTTL              time.Duration
)

func startProfile() func() {
	if cpuProfile == "" {
		return func() {}
	}
	f, err := os.Create(cpuProfile)
	if err != nil {
		return func() {}
	}
	pprof.StartCPUProfile(f)
	return func() { pprof.StopCPUProfile(); f.Close(); cpuProfile = "" }
}

func ms(d time.Duration) string { return fmt.Sprintf("%.3fms", float64(d)/1e6) }

func once(url, cookie string) int {
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Cookie", cookie)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

type raw struct {
	lat    []time.Duration
	errors int64
}

func summarize(all []time.Duration, errs int64, d time.Duration) result {
	slices.Sort(all)
	r := result{errors: errs}
	if len(all) == 0 {
		return r
	}
	r.rps = float64(len(all)) / d.Seconds()
	r.p50 = all[len(all)/2]
	r.p99 = all[len(all)*99/100]
	return r
}

type result struct {
	rps      float64
	p50, p99 time.Duration
	errors   int64
}

// load runs c connections (one goroutine and one keep-alive connection
// each) against url for d.
func load(url, cookie string, c int, d time.Duration) result {
	r := loadRaw(url, cookie, c, d)
	return summarize(r.lat, r.errors, d)
}

// loadRaw is load without the summary.
func loadRaw(url, cookie string, c int, d time.Duration) raw {
	tr := &http.Transport{MaxIdleConnsPerHost: c, MaxConnsPerHost: c, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	var errs atomic.Int64
	lat := make([][]time.Duration, c)
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for i := range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("GET", url, nil)
			req.Header.Set("Cookie", cookie)
			req.Header.Set("Accept", "text/html")
			l := make([]time.Duration, 0, 1<<14)
			for time.Now().Before(deadline) {
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					errs.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					errs.Add(1)
				}
				l = append(l, time.Since(t0))
			}
			lat[i] = l
		}()
	}
	wg.Wait()
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	return raw{lat: all, errors: errs.Load()}
}
