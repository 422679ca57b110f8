package ratelimit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is the multi-node backend. Keys of one reference share a hash tag
// ({ref}) so the Lua script touches one cluster slot only.
type Redis struct {
	cfg    Config
	secret []byte
	rdb    redis.UniversalClient
}

var _ Limiter = (*Redis)(nil)

// NewRedis returns a Redis-backed limiter. secret keys the references.
func NewRedis(rdb redis.UniversalClient, cfg Config, secret []byte) (*Redis, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := validSecret(secret); err != nil {
		return nil, err
	}
	if rdb == nil {
		return nil, errors.New("ratelimit: nil redis client")
	}
	return &Redis{cfg: cfg.WithDefaults(), secret: append([]byte(nil), secret...), rdb: rdb}, nil
}

// Ref implements Limiter.
func (r *Redis) Ref(scope Scope, raw string) string { return refer(r.secret, scope, raw) }

func (r *Redis) key(scope Scope, ref, kind string) string {
	return r.cfg.KeyPrefix + string(scope) + ":{" + ref + "}:" + kind
}

func (r *Redis) index() string { return r.cfg.KeyPrefix + "bans" }

const lockValue = "lock"

// failScript records one failure. KEYS: window zset, ban key, consecutive
// counter ("" for IP scope is passed as a dummy key in the same slot).
// ARGV: now ms, window ms, limit, ban ms, member, max consecutive (0 = off),
// consecutive TTL ms. Returns 1 when a ban or lock is now in force.
var failScript = redis.NewScript(`
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
redis.call('ZADD', KEYS[1], now, ARGV[5])
redis.call('PEXPIRE', KEYS[1], window)
local n = redis.call('ZCARD', KEYS[1])
local banned = 0
local current = redis.call('GET', KEYS[2])
if current == 'lock' then return 1 end
local maxc = tonumber(ARGV[6])
if maxc > 0 then
  local c = redis.call('INCR', KEYS[3])
  redis.call('PEXPIRE', KEYS[3], tonumber(ARGV[7]))
  if c >= maxc then
    redis.call('SET', KEYS[2], 'lock')
    return 1
  end
end
if n >= tonumber(ARGV[3]) and not current then
  redis.call('SET', KEYS[2], tostring(now + tonumber(ARGV[4])), 'PX', tonumber(ARGV[4]))
  banned = 1
end
return banned
`)

// consecutiveTTL is how long a consecutive-failure count is kept without
// new failures.
const consecutiveTTL = 30 * 24 * time.Hour

func unavailable(err error) error {
	return fmt.Errorf("%w: %v", ErrUnavailable, err)
}

// Check implements Limiter.
func (r *Redis) Check(ctx context.Context, ip, userRef string) (Decision, error) {
	type probe struct {
		scope Scope
		cmd   *redis.StringCmd
	}
	var ps []probe
	pipe := r.rdb.Pipeline()
	if ip != "" {
		ps = append(ps, probe{ScopeIP, pipe.Get(ctx, r.key(ScopeIP, r.Ref(ScopeIP, ip), "ban"))})
	}
	if userRef != "" {
		ps = append(ps, probe{ScopeUser, pipe.Get(ctx, r.key(ScopeUser, r.Ref(ScopeUser, userRef), "ban"))})
	}
	if len(ps) == 0 {
		return Decision{Allowed: true}, nil
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return Decision{}, unavailable(err)
	}
	now := r.cfg.Now()
	d := Decision{Allowed: true}
	for _, p := range ps {
		v, err := p.cmd.Result()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			return Decision{}, unavailable(err)
		}
		if v == lockValue {
			return Decision{Allowed: false, Scope: p.scope}, nil
		}
		ms, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			// An unreadable ban is still a ban: fail closed.
			return Decision{Allowed: false, Scope: p.scope}, nil
		}
		if wait := time.UnixMilli(ms).Sub(now); wait > 0 && (d.Allowed || wait > d.RetryAfter) {
			d = Decision{Allowed: false, RetryAfter: wait, Scope: p.scope}
		}
	}
	return d, nil
}

func member(now time.Time) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return strconv.FormatInt(now.UnixMilli(), 10) + "-" + hex.EncodeToString(b[:])
}

// Fail implements Limiter.
func (r *Redis) Fail(ctx context.Context, ip, userRef string) error {
	now := r.cfg.Now()
	for _, k := range []struct {
		scope Scope
		raw   string
	}{{ScopeIP, ip}, {ScopeUser, userRef}} {
		if k.raw == "" {
			continue
		}
		ref := r.Ref(k.scope, k.raw)
		rule, maxc := r.cfg.IP, 0
		if k.scope == ScopeUser {
			rule, maxc = r.cfg.User, r.cfg.MaxConsecutive
		}
		keys := []string{r.key(k.scope, ref, "win"), r.key(k.scope, ref, "ban"), r.key(k.scope, ref, "seq")}
		banned, err := failScript.Run(ctx, r.rdb, keys,
			now.UnixMilli(), rule.Window.Milliseconds(), rule.Limit, rule.Ban.Milliseconds(),
			member(now), maxc, consecutiveTTL.Milliseconds()).Int()
		if err != nil {
			return unavailable(err)
		}
		if banned == 1 {
			if err := r.rdb.ZAdd(ctx, r.index(), redis.Z{Score: float64(now.UnixMilli()), Member: string(k.scope) + ":" + ref}).Err(); err != nil {
				return unavailable(err)
			}
		}
	}
	return nil
}

// Succeed implements Limiter.
func (r *Redis) Succeed(ctx context.Context, userRef string) error {
	ref := r.Ref(ScopeUser, userRef)
	if err := r.rdb.Del(ctx, r.key(ScopeUser, ref, "win"), r.key(ScopeUser, ref, "seq")).Err(); err != nil {
		return unavailable(err)
	}
	return nil
}

// Bans implements Limiter. Stale index members (expired bans) are pruned.
func (r *Redis) Bans(ctx context.Context) ([]Ban, error) {
	members, err := r.rdb.ZRange(ctx, r.index(), 0, 10_000).Result()
	if err != nil {
		return nil, unavailable(err)
	}
	var out []Ban
	for _, m := range members {
		scope, ref, ok := splitMember(m)
		if !ok {
			continue
		}
		v, err := r.rdb.Get(ctx, r.key(scope, ref, "ban")).Result()
		if errors.Is(err, redis.Nil) {
			r.rdb.ZRem(ctx, r.index(), m)
			continue
		}
		if err != nil {
			return nil, unavailable(err)
		}
		b := Ban{Scope: scope, Ref: ref}
		if v == lockValue {
			b.Locked = true
		} else if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
			b.Until = time.UnixMilli(ms)
		}
		out = append(out, b)
	}
	sortBans(out)
	return out, nil
}

func splitMember(m string) (Scope, string, bool) {
	for _, s := range []Scope{ScopeIP, ScopeUser} {
		p := string(s) + ":"
		if len(m) > len(p) && m[:len(p)] == p {
			return s, m[len(p):], true
		}
	}
	return "", "", false
}

// Lift implements Limiter.
func (r *Redis) Lift(ctx context.Context, scope Scope, ref string) (bool, error) {
	n, err := r.rdb.Del(ctx, r.key(scope, ref, "ban")).Result()
	if err != nil {
		return false, unavailable(err)
	}
	if err := r.rdb.Del(ctx, r.key(scope, ref, "win"), r.key(scope, ref, "seq")).Err(); err != nil {
		return false, unavailable(err)
	}
	if err := r.rdb.ZRem(ctx, r.index(), string(scope)+":"+ref).Err(); err != nil {
		return false, unavailable(err)
	}
	return n > 0, nil
}

func sortBans(b []Ban) {
	sort.Slice(b, func(i, j int) bool {
		if b[i].Scope != b[j].Scope {
			return b[i].Scope < b[j].Scope
		}
		return b[i].Ref < b[j].Ref
	})
}
