package session

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/overstap/overstap/internal/config"
	"github.com/overstap/overstap/internal/testsvc"
)

func TestConfigValidate(t *testing.T) {
	raw := testKey(1).Bytes()
	for _, tc := range []struct {
		name string
		cfg  Config
		want []string // substrings of the error, each a yaml key first; none = valid
	}{
		{"zero is valid (memory, defaults)", Config{}, nil},
		{"redis with key", Config{Store: "redis", Keys: []config.Secret{testKey(1)}, Redis: RedisConfig{URL: "redis://127.0.0.1:6379/0"}}, nil},
		{"unknown store", Config{Store: "etcd"}, []string{`store: "etcd"`}},
		{"redis without keys or url", Config{Store: "redis"}, []string{"keys: at least one", "redis.url: required"}},
		{"negative idle", Config{IdleTimeout: -time.Second}, []string{"idle_timeout: must be positive"}},
		{"negative absolute", Config{AbsoluteTimeout: -time.Second}, []string{"absolute_timeout: must be positive"}},
		{"idle longer than absolute", Config{IdleTimeout: 2 * time.Hour, AbsoluteTimeout: time.Hour}, []string{"idle_timeout: 2h0m0s is longer than absolute_timeout"}},
		{"idle below a second", Config{IdleTimeout: time.Millisecond}, []string{"idle_timeout: must be at least 1s"}},
		{"touch not below idle", Config{TouchInterval: DefaultIdleTimeout}, []string{"touch_interval:"}},
		{"short key", Config{Keys: []config.Secret{config.NewSecret([]byte("short"))}}, []string{"keys[0]: must be 32 bytes"}},
		{"bad hex", Config{Keys: []config.Secret{config.NewSecret([]byte(strings.Repeat("zz", 32)))}}, []string{"keys[0]: must be 32 bytes"}},
		{"duplicate key in two forms", Config{Keys: []config.Secret{testKey(1), config.NewSecret([]byte(hex.EncodeToString(raw)))}}, []string{"keys[1]: the same key appears twice"}},
		{"too many keys", Config{Keys: func() []config.Secret {
			var k []config.Secret
			for i := range maxKeys + 1 {
				k = append(k, testKey(byte(i)))
			}
			return k
		}()}, []string{"keys: at most"}},
		{"hash tag in prefix", Config{KeyPrefix: "{s}:"}, []string{"key_prefix: must not contain {"}},
		{"negative max sessions", Config{MaxSessions: -1}, []string{"max_sessions:"}},
		{"every problem at once", Config{Store: "x", IdleTimeout: -1, KeyPrefix: "{", MaxSessions: -1}, []string{"store:", "idle_timeout:", "key_prefix:", "max_sessions:"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate accepted it")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if _, err := NewMemory(tc.cfg); err == nil {
				t.Error("NewMemory accepted an invalid config")
			}
		})
	}
}

func TestParseKeyForms(t *testing.T) {
	raw := testKey(3).Bytes()
	for name, v := range map[string]string{
		"raw":           string(raw),
		"hex":           hex.EncodeToString(raw),
		"hex upper":     strings.ToUpper(hex.EncodeToString(raw)),
		"base64":        base64.StdEncoding.EncodeToString(raw),
		"base64 raw":    base64.RawStdEncoding.EncodeToString(raw),
		"base64url":     base64.URLEncoding.EncodeToString(raw),
		"base64url raw": base64.RawURLEncoding.EncodeToString(raw),
	} {
		t.Run(name, func(t *testing.T) {
			b, err := parseKey(config.NewSecret([]byte(v)))
			if err != nil || string(b) != string(raw) {
				t.Fatalf("parseKey = %x, %v", b, err)
			}
		})
	}
}

func TestConfigYAML(t *testing.T) {
	t.Setenv("SESSION_KEY_TEST", hex.EncodeToString(testKey(1).Bytes()))
	in := `
store: redis
idle_timeout: 15m
absolute_timeout: 8h
touch_interval: 30s
keys: ["${SESSION_KEY_TEST}"]
key_prefix: "gemeente:sess:"
redis:
  url: redis://app@127.0.0.1:6379/2?addr=127.0.0.1:6380
  password: insecure-literal:pw
`
	var cfg Config
	dec := yaml.NewDecoder(strings.NewReader(in))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.IdleTimeout != 15*time.Minute || cfg.AbsoluteTimeout != 8*time.Hour || cfg.TouchInterval != 30*time.Second || len(cfg.Keys) != 1 || cfg.Redis.Password.Value() != "pw" {
		t.Fatalf("decoded %+v", cfg)
	}
}

func TestNewRedisConfig(t *testing.T) {
	// The client is given: no redis section needed, but keys are.
	if _, err := NewRedis(nil, Config{Keys: []config.Secret{testKey(1)}}); err == nil || !strings.Contains(err.Error(), "nil redis client") {
		t.Errorf("nil client: %v", err)
	}
	r := testsvc.Redis(t)
	if _, err := NewRedis(r.Client, Config{Keys: []config.Secret{testKey(1)}, KeyPrefix: r.Prefix}); err != nil {
		t.Errorf("NewRedis without a redis section: %v", err)
	}
	if _, err := NewRedis(r.Client, Config{KeyPrefix: r.Prefix}); err == nil || !strings.Contains(err.Error(), "keys: at least one") {
		t.Errorf("NewRedis without keys: %v", err)
	}
	if _, err := Open(Config{Store: "redis", Keys: []config.Secret{testKey(1)}}); err == nil || !strings.Contains(err.Error(), "redis.url: required") {
		t.Errorf("Open without a redis section: %v", err)
	}
}

// TestConfigLoadedOnlyChecksSelectedStore loads the sessions section the way
// the gateway does (config.Decode, which validates nested sections): only
// the selected store's settings are required, and each problem is reported
// once.
func TestConfigLoadedOnlyChecksSelectedStore(t *testing.T) {
	type file struct {
		Sessions Config `yaml:"sessions"`
	}
	t.Setenv("SESSION_KEY_TEST", hex.EncodeToString(testKey(1).Bytes()))
	for _, tc := range []struct {
		name, yaml string
		want       []string // problems, in full; none = valid
	}{
		{"memory store needs no redis section", "sessions:\n  store: memory\n", nil},
		{"default store needs no redis section", "sessions:\n  idle_timeout: 10m\n", nil},
		{"memory store ignores an unused redis section", "sessions:\n  store: memory\n  redis:\n    db: 99\n", nil},
		{"redis store with its settings", "sessions:\n  store: redis\n  keys: [\"${SESSION_KEY_TEST}\"]\n  redis:\n    url: redis://127.0.0.1:6379/0\n", nil},
		{"redis store needs redis.url", "sessions:\n  store: redis\n  keys: [\"${SESSION_KEY_TEST}\"]\n",
			[]string{"sessions.redis.url: required (e.g. redis://127.0.0.1:6379/0), or give addrs"}},
		{"redis store checks the redis section", "sessions:\n  store: redis\n  keys: [\"${SESSION_KEY_TEST}\"]\n  redis:\n    url: redis://127.0.0.1:6379/0\n    dial_timeout: 5m\n",
			[]string{"sessions.redis.dial_timeout: must be between 0 and 1m"}},
		{"redis store needs keys", "sessions:\n  store: redis\n  redis:\n    url: redis://127.0.0.1:6379/0\n",
			[]string{`sessions.keys: at least one 32-byte key is required for store "redis" (e.g. ${OVERSTAP_SESSION_KEY} holding 64 hex digits from "openssl rand -hex 32")`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var f file
			err := config.Decode(strings.NewReader(tc.yaml), &f)
			var got []string
			var ce *config.Error
			if errors.As(err, &ce) {
				for _, p := range ce.Problems {
					got = append(got, p.Path+": "+p.Msg)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Fatalf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			if tc.want == nil {
				s, err := Open(f.Sessions)
				if f.Sessions.Store == "redis" {
					return // Open would dial; Validate is what matters here
				}
				if err != nil {
					t.Fatalf("Open(memory): %v", err)
				}
				s.Close()
			}
		})
	}
}
