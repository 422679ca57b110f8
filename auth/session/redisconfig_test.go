package session

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/overstap/overstap/internal/config"
)

func TestRedisConfigResolve(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  RedisConfig
		want resolved
		err  string
	}{
		{"single url", RedisConfig{URL: "redis://127.0.0.1:6379/3"}, resolved{addrs: []string{"127.0.0.1:6379"}, db: 3}, ""},
		{"default port", RedisConfig{URL: "redis://redis.gemeente.local"}, resolved{addrs: []string{"redis.gemeente.local:6379"}}, ""},
		{"tls and user", RedisConfig{URL: "rediss://app@10.0.0.1:6380"}, resolved{addrs: []string{"10.0.0.1:6380"}, user: "app", tls: true}, ""},
		{"sentinel url", RedisConfig{URL: "redis://10.0.0.1:26379?addr=10.0.0.2:26379&master_name=mymaster"}, resolved{addrs: []string{"10.0.0.1:26379", "10.0.0.2:26379"}, master: "mymaster"}, ""},
		{"cluster url", RedisConfig{URL: "redis://10.0.0.1:7000?addr=10.0.0.2:7000&cluster=true"}, resolved{addrs: []string{"10.0.0.1:7000", "10.0.0.2:7000"}, cluster: true}, ""},
		{"addrs", RedisConfig{Addrs: []string{"[::1]:6379"}, DB: 1}, resolved{addrs: []string{"[::1]:6379"}, db: 1}, ""},
		{"password in url", RedisConfig{URL: "redis://u:hunter2@127.0.0.1:6379"}, resolved{}, "url: must not contain a password"},
		{"both url and addrs", RedisConfig{URL: "redis://a:1", Addrs: []string{"b:2"}}, resolved{}, "url: give either url or addrs"},
		{"neither", RedisConfig{}, resolved{}, "url: required"},
		{"scheme", RedisConfig{URL: "http://127.0.0.1:6379"}, resolved{}, "url: scheme must be redis or rediss"},
		{"unknown parameter", RedisConfig{URL: "redis://127.0.0.1:6379?pool=3"}, resolved{}, `url: unknown parameter "pool"`},
		{"db not a number", RedisConfig{URL: "redis://127.0.0.1:6379/x"}, resolved{}, "url: path"},
		{"db out of range", RedisConfig{Addrs: []string{"a:1"}, DB: 16}, resolved{}, "db: must be between"},
		{"cluster with db", RedisConfig{Addrs: []string{"a:1"}, Cluster: true, DB: 1}, resolved{}, "db: Redis Cluster"},
		{"sentinel and cluster", RedisConfig{Addrs: []string{"a:1"}, Cluster: true, MasterName: "m"}, resolved{}, "master_name: sentinel and cluster"},
		{"bad addr", RedisConfig{Addrs: []string{"nohost"}}, resolved{}, `addrs[0]: "nohost" is not host:port`},
		{"bad port", RedisConfig{Addrs: []string{"a:99999"}}, resolved{}, "addrs[0]:"},
		{"bad extra addr", RedisConfig{URL: "redis://a:1?addr=b"}, resolved{}, "addrs[1]:"},
		{"cluster flag", RedisConfig{URL: "redis://a:1?cluster=maybe"}, resolved{}, "url: cluster must be true or false"},
		{"negative timeout", RedisConfig{Addrs: []string{"a:1"}, ReadTimeout: -1}, resolved{}, "read_timeout:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.cfg.resolve()
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Fatalf("error shows the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, got, cmp.AllowUnexported(resolved{})); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestNewRedisClientModes(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  RedisConfig
		want string
	}{
		{"single", RedisConfig{URL: "redis://127.0.0.1:1/0"}, "*redis.Client"},
		{"sentinel", RedisConfig{URL: "redis://127.0.0.1:1?addr=127.0.0.1:2&master_name=m", SentinelPassword: config.NewSecret([]byte("x"))}, "*redis.Client"},
		{"cluster by flag", RedisConfig{URL: "redis://127.0.0.1:1?cluster=true"}, "*redis.ClusterClient"},
		{"cluster by addrs", RedisConfig{Addrs: []string{"127.0.0.1:1", "127.0.0.1:2"}}, "*redis.ClusterClient"},
		{"tls", RedisConfig{URL: "rediss://127.0.0.1:1"}, "*redis.Client"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewRedisClient(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			var got string
			switch c.(type) {
			case *redis.Client:
				got = "*redis.Client"
			case *redis.ClusterClient:
				got = "*redis.ClusterClient"
			default:
				got = "other"
			}
			if got != tc.want {
				t.Errorf("client %s, want %s", got, tc.want)
			}
		})
	}
	if _, err := NewRedisClient(RedisConfig{}); err == nil {
		t.Error("empty config accepted")
	}
}

// FuzzRedisURL: any url either resolves or is refused, without a panic and
// without repeating a password in the error.
func FuzzRedisURL(f *testing.F) {
	for _, s := range []string{"redis://127.0.0.1:6379/0", "rediss://u@h:1?addr=h:2&cluster=true", "redis://u:secretpw@h:1", "redis://h:1?master_name=m&addr=x:2", "%zz", "redis://[::1]:6379/15"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		_, err := RedisConfig{URL: raw}.resolve()
		if err != nil && strings.Contains(raw, ":secretpw@") && strings.Contains(err.Error(), "secretpw") {
			t.Fatalf("error repeats the password: %v", err)
		}
	})
}

// The remote addresses here are documentation addresses (RFC 5737, .invalid):
// PlaintextRemote only reads the configuration, nothing is dialled.
func TestRedisConfigPlaintextRemote(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  RedisConfig
		want []string
	}{
		{"loopback v4", RedisConfig{URL: "redis://127.0.0.1:6379"}, nil},
		{"loopback v6", RedisConfig{URL: "redis://[::1]:6379"}, nil},
		{"localhost", RedisConfig{Addrs: []string{"LocalHost:6379"}}, nil},
		{"loopback range", RedisConfig{Addrs: []string{"127.0.0.2:6379"}}, nil},
		{"remote plain", RedisConfig{URL: "redis://192.0.2.5:6379/0"}, []string{"192.0.2.5:6379"}},
		{"remote name", RedisConfig{Addrs: []string{"redis.example.invalid:6379"}}, []string{"redis.example.invalid:6379"}},
		{"remote over rediss", RedisConfig{URL: "rediss://192.0.2.5:6380"}, nil},
		{"remote with tls key", RedisConfig{Addrs: []string{"192.0.2.5:6380"}, TLS: true}, nil},
		{"sentinels, one remote", RedisConfig{Addrs: []string{"127.0.0.1:26379", "192.0.2.6:26379"}, MasterName: "m"}, []string{"192.0.2.6:26379"}},
		{"mapped loopback", RedisConfig{Addrs: []string{"[::ffff:127.0.0.1]:6379"}}, nil},
		{"broken", RedisConfig{URL: "http://192.0.2.5"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.cfg.PlaintextRemote()
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Fatalf("PlaintextRemote = %q, want %q", got, tc.want)
			}
		})
	}
}
