package session

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/overstap/overstap/internal/config"
	"github.com/overstap/overstap/internal/testsvc"
)

// freeClusterPort returns a free loopback port whose cluster bus port
// (port + 10000) is free too.
func freeClusterPort(t *testing.T) int {
	t.Helper()
	for range 50 {
		p := testsvc.FreePort(t)
		if p+10000 > 65535 {
			continue
		}
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p+10000))
		if err != nil {
			continue
		}
		l.Close()
		return p
	}
	t.Fatal("no free port pair for a cluster node")
	return 0
}

// TestRedisClusterStore runs the store suite on a three-master Redis
// Cluster of the test's own: every command the store sends must work when
// its keys fall on different slots and nodes.
func TestRedisClusterStore(t *testing.T) {
	bin := testsvc.LookPath(t, []string{"/usr/bin/redis-server"}, "redis-server")
	cli := testsvc.LookPath(t, []string{"/usr/bin/redis-cli"}, "redis-tools")
	var addrs []string
	for range 3 {
		p := freeClusterPort(t)
		startOwnRedis(t, bin, p, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000")
		addrs = append(addrs, fmt.Sprintf("127.0.0.1:%d", p))
	}
	out, err := exec.Command(cli, append(append([]string{"--cluster", "create"}, addrs...), "--cluster-replicas", "0", "--cluster-yes")...).CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	c, err := NewRedisClient(RedisConfig{Addrs: addrs, Cluster: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	// Every node must agree before keys route reliably, and the client's
	// slot map must cover all three masters.
	testsvc.WaitFor(t, "the cluster to become ready", 15*time.Second, func() error {
		for _, a := range addrs {
			n := redis.NewClient(&redis.Options{Addr: a})
			info, err := n.ClusterInfo(ctx).Result()
			n.Close()
			if err != nil {
				return err
			}
			if !strings.Contains(info, "cluster_state:ok") {
				return fmt.Errorf("%s: cluster_state not ok", a)
			}
		}
		return nil
	})
	cc := c.(*redis.ClusterClient)
	testsvc.WaitFor(t, "the client to see three masters", 15*time.Second, func() error {
		var n atomic.Int32
		cc.ForEachMaster(ctx, func(context.Context, *redis.Client) error { n.Add(1); return nil })
		if n.Load() == 3 {
			return nil
		}
		cc.ReloadState(ctx)
		return fmt.Errorf("%d masters", n.Load())
	})
	r := testsvc.R{Client: c, Prefix: "t_cluster:"}
	ids := &idSet{}
	runStoreSuite(t, redisHarness(t, r, ids))
	t.Run("keys spread over the nodes", func(t *testing.T) {
		var used atomic.Int32
		err := cc.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error {
			if k, err := n.DBSize(ctx).Result(); err == nil && k > 0 {
				used.Add(1)
			}
			return nil
		})
		if err != nil || used.Load() < 2 {
			t.Fatalf("keys on %d nodes (%v): the store must not pin everything to one slot", used.Load(), err)
		}
	})
	t.Run("scan reveals nothing", func(t *testing.T) {
		st := scanRedis(t, r, ids.ids, nil)
		if st.keys == 0 {
			t.Fatal("no keys to inspect")
		}
	})
}

// TestRedisSentinelStore runs the store suite through a sentinel: the
// client asks the sentinel for the master, as in a failover setup.
func TestRedisSentinelStore(t *testing.T) {
	bin := testsvc.LookPath(t, []string{"/usr/bin/redis-server"}, "redis-server")
	master := testsvc.FreePort(t)
	startOwnRedis(t, bin, master)
	sport := startSentinel(t, bin, master)
	c, err := NewRedisClient(RedisConfig{URL: fmt.Sprintf("redis://127.0.0.1:%d?master_name=overstap", sport)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	testsvc.WaitFor(t, "a master through the sentinel", 10*time.Second, func() error { return c.Ping(ctx).Err() })
	r := testsvc.R{Client: c, Prefix: "t_sentinel:"}
	ids := &idSet{}
	runStoreSuite(t, redisHarness(t, r, ids))
	t.Run("scan reveals nothing", func(t *testing.T) {
		if st := scanRedis(t, r, ids.ids, nil); st.keys == 0 {
			t.Fatal("no keys to inspect")
		}
	})
}

// startSentinel starts a sentinel of the test's own that monitors the
// master on port master under the name "overstap", and returns its port.
func startSentinel(t *testing.T, bin string, master int) int {
	t.Helper()
	sport := testsvc.FreePort(t)
	conf := filepath.Join(t.TempDir(), "sentinel.conf")
	body := fmt.Sprintf("sentinel monitor overstap 127.0.0.1 %d 1\nsentinel down-after-milliseconds overstap 5000\n", master)
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	startOwnRedis(t, bin, sport, conf, "--sentinel")
	return sport
}

// TestRedisSentinelWrongMasterName: with a master_name the sentinels do
// not know, the readiness ping says so instead of go-redis's "all
// sentinels are unreachable: redis: nil" (the sentinels do answer).
func TestRedisSentinelWrongMasterName(t *testing.T) {
	bin := testsvc.LookPath(t, []string{"/usr/bin/redis-server"}, "redis-server")
	master := testsvc.FreePort(t)
	startOwnRedis(t, bin, master)
	sport := startSentinel(t, bin, master)
	sentinel := fmt.Sprintf("127.0.0.1:%d", sport)
	ctx := context.Background()
	for _, tc := range []struct{ name, want string }{
		{"overstap", ""},
		{"overstapp", `redis: sentinels at ` + sentinel + ` answer but know no master named "overstapp" (check master_name)`},
	} {
		st, err := Open(Config{Store: "redis", Keys: []config.Secret{testKey(1)},
			Redis: RedisConfig{Addrs: []string{sentinel}, MasterName: tc.name}})
		if err != nil {
			t.Fatal(err)
		}
		if tc.want == "" {
			testsvc.WaitFor(t, "a master through the sentinel", 10*time.Second, func() error { return st.Ping(ctx) })
		} else if err := st.Ping(ctx); err == nil || !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("master_name %q: ping = %v, want %q", tc.name, err, tc.want)
		}
		st.Close()
	}
}
