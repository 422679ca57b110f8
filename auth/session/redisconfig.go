package session

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/overstap/overstap/internal/config"
)

// RedisConfig says how to reach Redis: one server, a sentinel-managed
// master, or a cluster. Give either URL or Addrs.
//
// URL form (a password is never part of it; use Password):
//
//	redis://[user@]host:port[/db][?addr=host:port&...][&master_name=NAME][&cluster=true]
//	rediss://...                                       the same over TLS
//
// Extra addr parameters add addresses (cluster seeds or sentinels).
type RedisConfig struct {
	// URL is the whole connection in one string (see the type's doc).
	URL string `yaml:"url"`
	// Addrs are host:port addresses: one server, the sentinels (with
	// MasterName) or cluster seed nodes (with Cluster).
	Addrs []string `yaml:"addrs"`
	// MasterName selects sentinel mode: the name of the monitored master.
	MasterName string `yaml:"master_name"`
	// Cluster selects Redis Cluster mode (implied by several Addrs
	// without MasterName).
	Cluster bool `yaml:"cluster"`
	// Username and Password authenticate with Redis ACLs (AUTH).
	Username string        `yaml:"username"`
	Password config.Secret `yaml:"password"`
	// SentinelPassword authenticates with the sentinels, if they need it.
	SentinelPassword config.Secret `yaml:"sentinel_password"`
	// DB is the database number (single server and sentinel only).
	DB int `yaml:"db"`
	// TLS connects over TLS (verified against the system roots).
	TLS bool `yaml:"tls"`
	// TLSServerName overrides the name checked in the server certificate.
	TLSServerName string `yaml:"tls_server_name"`
	// DialTimeout, ReadTimeout and WriteTimeout bound each operation
	// (defaults 2s, 1s, 1s): a hung Redis must turn into a 503, not a
	// hung request.
	DialTimeout  time.Duration `yaml:"dial_timeout"`
	ReadTimeout  time.Duration `yaml:"read_timeout"`
	WriteTimeout time.Duration `yaml:"write_timeout"`
	// PoolSize is the number of connections per node (default: go-redis's
	// 10 per CPU).
	PoolSize int `yaml:"pool_size"`
}

// resolved is a RedisConfig with the URL folded in.
type resolved struct {
	addrs               []string
	master, user        string
	cluster, tls        bool
	db                  int
	serverName          string
	dial, read, write   time.Duration
	pool                int
	password, sentinelP string
}

// Validate returns every problem in c, each starting with its YAML key.
func (c RedisConfig) Validate() error {
	_, err := c.resolve()
	return err
}

func (c RedisConfig) resolve() (resolved, error) {
	var errs []error
	r := resolved{
		addrs: append([]string(nil), c.Addrs...), master: c.MasterName, user: c.Username,
		cluster: c.Cluster, tls: c.TLS, db: c.DB, serverName: c.TLSServerName,
		dial: c.DialTimeout, read: c.ReadTimeout, write: c.WriteTimeout, pool: c.PoolSize,
		password: c.Password.Value(), sentinelP: c.SentinelPassword.Value(),
	}
	switch {
	case c.URL != "" && len(c.Addrs) > 0:
		errs = append(errs, errors.New("url: give either url or addrs, not both"))
	case c.URL == "" && len(c.Addrs) == 0:
		errs = append(errs, errors.New("url: required (e.g. redis://127.0.0.1:6379/0), or give addrs"))
	case c.URL != "":
		if err := r.parseURL(c.URL); err != nil {
			errs = append(errs, fmt.Errorf("url: %w", err))
		}
	}
	for i, a := range r.addrs {
		if err := checkAddr(a); err != nil {
			errs = append(errs, fmt.Errorf("addrs[%d]: %w", i, err))
		}
	}
	if r.master != "" && r.cluster {
		errs = append(errs, errors.New("master_name: sentinel and cluster modes exclude each other"))
	}
	if r.cluster && r.db != 0 {
		errs = append(errs, errors.New("db: Redis Cluster has only database 0"))
	}
	if r.db < 0 || r.db > 15 {
		errs = append(errs, errors.New("db: must be between 0 and 15"))
	}
	for _, d := range []struct {
		key string
		v   time.Duration
	}{{"dial_timeout", r.dial}, {"read_timeout", r.read}, {"write_timeout", r.write}} {
		if d.v < 0 || d.v > time.Minute {
			errs = append(errs, fmt.Errorf("%s: must be between 0 and 1m", d.key))
		}
	}
	if r.pool < 0 || r.pool > 10000 {
		errs = append(errs, errors.New("pool_size: must be between 0 and 10000"))
	}
	return r, errors.Join(errs...)
}

// PlaintextRemote returns the configured addresses that are not on a
// loopback interface while TLS is off: there the Redis password and every
// key and value (session records are encrypted, flow state and rate-limit
// counters are not) cross the network in clear. With sentinels these are
// the sentinels' addresses; the master's is learnt at run time. Nil when
// the configuration does not resolve (Validate reports that).
func (c RedisConfig) PlaintextRemote() []string {
	r, err := c.resolve()
	if err != nil || r.tls {
		return nil
	}
	var out []string
	for _, a := range r.addrs {
		host, _, err := net.SplitHostPort(a)
		if err != nil || strings.EqualFold(host, "localhost") {
			continue
		}
		if ip, err := netip.ParseAddr(host); err == nil && ip.Unmap().IsLoopback() {
			continue
		}
		out = append(out, a)
	}
	return out
}

func checkAddr(a string) error {
	host, port, err := net.SplitHostPort(a)
	if err != nil || host == "" {
		return fmt.Errorf("%q is not host:port", a)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return fmt.Errorf("%q has no valid port", a)
	}
	return nil
}

// parseURL folds a URL into r.
func (r *resolved) parseURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("does not parse as a URL") // the URL may hold a password: do not echo it
	}
	switch u.Scheme {
	case "redis":
	case "rediss":
		r.tls = true
	default:
		return fmt.Errorf("scheme must be redis or rediss, not %q", u.Scheme)
	}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			return errors.New("must not contain a password: use the password key (a secret reference)")
		}
		r.user = u.User.Username()
	}
	if u.Host == "" {
		return errors.New("has no host:port")
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "6379")
	}
	r.addrs = []string{host}
	if p := strings.Trim(u.Path, "/"); p != "" {
		db, err := strconv.Atoi(p)
		if err != nil {
			return fmt.Errorf("path %q is not a database number", p)
		}
		r.db = db
	}
	q := u.Query()
	for k, vs := range q {
		switch k {
		case "addr":
			r.addrs = append(r.addrs, vs...)
		case "master_name":
			r.master = q.Get(k)
		case "cluster":
			b, err := strconv.ParseBool(q.Get(k))
			if err != nil {
				return errors.New("cluster must be true or false")
			}
			r.cluster = b
		default:
			return fmt.Errorf("unknown parameter %q (known: addr, master_name, cluster)", k)
		}
	}
	return nil
}

// NewRedisClient builds a go-redis client for c: a failover (sentinel)
// client with MasterName, a cluster client with Cluster or several
// addresses, a plain client otherwise.
func NewRedisClient(c RedisConfig) (redis.UniversalClient, error) {
	r, err := c.resolve()
	if err != nil {
		return nil, fmt.Errorf("session: invalid redis config: %w", err)
	}
	opt := &redis.UniversalOptions{
		Addrs:         r.addrs,
		MasterName:    r.master,
		IsClusterMode: r.cluster,
		Username:      r.user,
		Password:      r.password,
		DB:            r.db,
		DialTimeout:   orDefault(r.dial, 2*time.Second),
		ReadTimeout:   orDefault(r.read, time.Second),
		WriteTimeout:  orDefault(r.write, time.Second),
		PoolSize:      r.pool,
		MaxRetries:    1,
		// One dial attempt: with Redis down a request must fail (503) in
		// about a dial timeout, not after go-redis's default 5 attempts.
		DialerRetries:      1,
		DialerRetryTimeout: 50 * time.Millisecond,
	}
	if r.master != "" {
		opt.SentinelPassword = r.sentinelP
	}
	if r.tls {
		// Our own dialer, so that each node (cluster, sentinel) is verified
		// under its own host name unless TLSServerName overrides it.
		dialTimeout := opt.DialTimeout
		opt.Dialer = func(ctx context.Context, network, addr string) (net.Conn, error) {
			d := &tls.Dialer{
				NetDialer: &net.Dialer{Timeout: dialTimeout, KeepAlive: 5 * time.Minute},
				Config:    r.tlsConfig(addr),
			}
			return d.DialContext(ctx, network, addr)
		}
	}
	return redis.NewUniversalClient(opt), nil
}

// tlsConfig is the TLS configuration of a connection to the node at addr:
// verified under TLSServerName when set, else under the node's own host.
func (r resolved) tlsConfig(addr string) *tls.Config {
	name := r.serverName
	if name == "" {
		name, _, _ = net.SplitHostPort(addr)
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, ServerName: name}
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// Open builds the store cfg.Store names: "memory" (the default) or "redis",
// whose client it creates from cfg.Redis and closes on Close.
func Open(cfg Config) (Store, error) {
	if cfg.Store == "redis" {
		if err := cfg.Validate(); err != nil {
			return nil, fmt.Errorf("session: invalid config: %w", err)
		}
		c, err := NewRedisClient(cfg.Redis)
		if err != nil {
			return nil, err
		}
		r, err := NewRedis(c, cfg)
		if err != nil {
			c.Close()
			return nil, err
		}
		r.owned = true
		return r, nil
	}
	return NewMemory(cfg)
}

// explainSentinel says why a sentinel-mode client found no master when the
// sentinels themselves answer: it asks each sentinel for the master named
// in c (SENTINEL get-master-addr-by-name). It returns nil when c is not in
// sentinel mode, when no sentinel answers (the client's own error says
// that), or when a sentinel names a master (the master is the problem).
func explainSentinel(ctx context.Context, c RedisConfig) error {
	r, err := c.resolve()
	if err != nil || r.master == "" {
		return nil
	}
	var answered []string
	for _, a := range r.addrs {
		opt := &redis.Options{Addr: a, Password: r.sentinelP, DialTimeout: orDefault(r.dial, 2*time.Second),
			ReadTimeout: orDefault(r.read, time.Second), WriteTimeout: orDefault(r.write, time.Second), MaxRetries: -1}
		if r.tls {
			opt.TLSConfig = r.tlsConfig(a)
		}
		sc := redis.NewSentinelClient(opt)
		_, err := sc.GetMasterAddrByName(ctx, r.master).Result()
		sc.Close()
		switch {
		case err == nil:
			return nil
		case errors.Is(err, redis.Nil):
			answered = append(answered, a)
		}
	}
	if len(answered) == 0 {
		return nil
	}
	return fmt.Errorf("redis: sentinels at %s answer but know no master named %q (check master_name)",
		strings.Join(answered, ", "), r.master)
}
