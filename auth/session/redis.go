package session

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is the session store for several gateway nodes. It works with any
// go-redis UniversalClient (single server, sentinel, cluster) and uses only
// single-key commands and non-transactional pipelines, so no two keys need
// to share a cluster slot. Keys, under Config.KeyPrefix:
//
//	s:<h>  sealed session record, h = base64url(SHA-256(id)); TTL = idle expiry
//	t:<h>  sealed ID token; TTL = absolute expiry
//	p:<x>  set of h for one person, x = SHA-256 of the NRN reference
//	i:<x>  set of h for one issuer+sid
//	u:<x>  set of h for one issuer+subject
//	gen    generation, bumped by RevokeAll; records of older generations are dead
//
// Index sets expire with the longest absolute expiry of their members.
//
// Redis must not evict keys without a TTL: use maxmemory-policy noeviction
// or a volatile-* policy (the generation key has no TTL; losing it would
// not revive revoked sessions, whose records RevokeAll deletes, but it is
// the only key the store relies on to outlive its sessions).
//
// Redis is safe for concurrent use.
type Redis struct {
	c      redis.UniversalClient
	owned  bool // Close closes c
	cfg    Config
	tm     timing
	ring   *keyRing
	log    *slog.Logger
	prefix string
	// cluster is set for a Redis Cluster client, where the generation
	// and a record live in different slots and cannot be read by one MGET.
	cluster bool
}

var _ Store = (*Redis)(nil)

// NewRedis returns a store on client. cfg.Store and cfg.Redis are ignored
// (the client is given); cfg.Keys must hold at least one key. Close does not
// close client.
func NewRedis(client redis.UniversalClient, cfg Config) (*Redis, error) {
	if client == nil {
		return nil, errors.New("session: nil redis client")
	}
	cfg.Store = "redis" // so that Validate asks for keys
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	ring, err := newKeyRing(cfg.Keys)
	if err != nil {
		return nil, err
	}
	_, cluster := client.(*redis.ClusterClient)
	return &Redis{c: client, cfg: cfg, tm: cfg.timing(), ring: ring, log: cfg.Logger, prefix: cfg.KeyPrefix, cluster: cluster}, nil
}

func (r *Redis) sessionKey(hid string) string { return r.prefix + "s:" + hid }
func (r *Redis) tokenKey(hid string) string   { return r.prefix + "t:" + hid }
func (r *Redis) genKey() string               { return r.prefix + "gen" }

// indexKey maps an index name (see indexNames) to its key. The kind letter
// is derived from the helper that made it.
func (r *Redis) indexKeys(s *Session) []string {
	var keys []string
	if s.NRNRef != "" {
		keys = append(keys, r.prefix+"p:"+personIndex(s.NRNRef))
	}
	if s.SID != "" {
		keys = append(keys, r.prefix+"i:"+sidIndex(s.Issuer, s.SID))
	}
	return append(keys, r.prefix+"u:"+subjectIndex(s.Issuer, s.Subject))
}

// unavailable wraps a Redis failure.
func unavailable(op string, err error) error {
	return fmt.Errorf("%w: %s: %w", ErrUnavailable, op, err)
}

// generation reads the current generation from cmd (missing = 0).
func generation(cmd *redis.StringCmd) (uint64, error) {
	v, err := cmd.Result()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	g, err := strconv.ParseUint(v, 10, 63)
	if err != nil {
		return 0, fmt.Errorf("malformed generation: %w", err)
	}
	return g, nil
}

// indexAdd adds a member to a set and raises its TTL to at least ARGV[2] ms;
// one key per call, so it runs anywhere in a cluster. Works on Redis 2.6+.
var indexAdd = redis.NewScript(`
redis.call('SADD', KEYS[1], ARGV[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1`)

// Create implements Store.
func (r *Redis) Create(ctx context.Context, s *Session) (string, error) {
	now := r.cfg.Now()
	id, hid, err := r.tm.create(s, now)
	if err != nil {
		return "", err
	}
	// At least 1 ms: PX 0 is an error. now has sub-millisecond digits the
	// stored times lack.
	ttl := max(s.IdleExpiry.Sub(now), time.Millisecond)
	absTTL := max(s.AbsoluteExpiry.Sub(now), time.Millisecond)

	gen, err := generation(r.c.Get(ctx, r.genKey()))
	if err != nil {
		return "", unavailable("create", err)
	}
	blob, err := r.ring.seal(sealContext(kindSession, hid), encodeRecord(s, gen))
	if err != nil {
		return "", err
	}
	var tok []byte
	if s.IDToken != "" {
		if tok, err = r.ring.seal(sealContext(kindIDToken, hid), []byte(s.IDToken)); err != nil {
			return "", err
		}
	}

	// Record first, indexes second, in two round trips (in a cluster one
	// pipeline may reach several nodes in any order). Indexes first would
	// let a concurrent revocation take the new member out of an index
	// before the record exists, leaving a live session no revocation can
	// find. This way every record is in all its indexes once Create has
	// returned, and a revocation that starts after that finds it.
	pipe := r.c.Pipeline()
	created := pipe.SetNX(ctx, r.sessionKey(hid), blob, ttl)
	if tok != nil {
		pipe.Set(ctx, r.tokenKey(hid), tok, absTTL)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		r.cleanup(hid)
		return "", unavailable("create", err)
	}
	if !created.Val() {
		// 256 random bits collided, or crypto/rand is broken: refuse.
		return "", errors.New("session: new id already in use")
	}
	pipe = r.c.Pipeline()
	member := []any{hid, absTTL.Milliseconds()}
	for _, k := range r.indexKeys(s) {
		indexAdd.Eval(ctx, pipe, []string{k}, member...)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		// The id was never handed out, so the unindexed record cannot be
		// used; remove it anyway rather than leave it until its TTL.
		r.cleanup(hid)
		return "", unavailable("create index", err)
	}
	return id, nil
}

// cleanup removes a half-created session (whose id was never returned),
// best effort, with its own deadline: the caller's context may be the
// reason it failed.
func (r *Redis) cleanup(hid string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := r.c.Del(ctx, r.sessionKey(hid)).Err(); err != nil {
		r.log.Warn("session: removing a half-created session failed; it expires with its TTL", "err", err)
	}
	r.c.Del(ctx, r.tokenKey(hid))
}

// Load implements Store.
func (r *Redis) Load(ctx context.Context, id string) (*Session, error) {
	if !validID(id) {
		return nil, ErrNotFound
	}
	hid := hashID(id)
	gen, blob, err := r.read(ctx, hid)
	if err != nil {
		return nil, unavailable("load", err)
	}
	if blob == nil {
		return nil, ErrNotFound
	}
	s, recGen, primary, err := r.open(hid, blob)
	if err != nil {
		// Not deleted: during a key roll-out another node may hold the key.
		r.log.Debug("session: a record does not open (tampered, or sealed with a key not in this ring)", "err", err)
		return nil, ErrNotFound
	}
	now := r.cfg.Now()
	valid, touch := r.tm.check(s, now)
	if !valid || recGen < gen {
		r.forget(ctx, hid, s)
		return nil, ErrNotFound
	}
	if touch || !primary {
		// Best effort: a failed touch only lets the session expire a little
		// early; the read itself succeeded, so serve it.
		r.tm.refresh(s, now)
		if err := r.touch(ctx, hid, s, recGen, now); err != nil {
			r.log.Warn("session: refreshing the idle expiry failed", "err", err)
		}
	}
	return s, nil
}

// read fetches the generation and the sealed record (nil when absent) in
// one round trip: one MGET on a single server or sentinel master, a
// pipeline of two GETs in a cluster, where the two keys live in different
// slots.
func (r *Redis) read(ctx context.Context, hid string) (uint64, []byte, error) {
	if r.cluster {
		pipe := r.c.Pipeline()
		genCmd := pipe.Get(ctx, r.genKey())
		blobCmd := pipe.Get(ctx, r.sessionKey(hid))
		if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
			return 0, nil, err
		}
		gen, err := generation(genCmd)
		if err != nil {
			return 0, nil, err
		}
		blob, err := blobCmd.Bytes()
		if errors.Is(err, redis.Nil) {
			return gen, nil, nil
		}
		return gen, blob, err
	}
	vals, err := r.c.MGet(ctx, r.genKey(), r.sessionKey(hid)).Result()
	if err != nil {
		return 0, nil, err
	}
	if len(vals) != 2 {
		return 0, nil, fmt.Errorf("MGET returned %d values", len(vals))
	}
	var gen uint64
	if v, ok := vals[0].(string); ok {
		if gen, err = strconv.ParseUint(v, 10, 63); err != nil {
			return 0, nil, errors.New("malformed generation")
		}
	} else if vals[0] != nil {
		return 0, nil, errors.New("malformed generation")
	}
	switch v := vals[1].(type) {
	case nil:
		return gen, nil, nil
	case string:
		return gen, []byte(v), nil
	default:
		return 0, nil, errors.New("malformed session record")
	}
}

// open unseals and decodes a session record.
func (r *Redis) open(hid string, blob []byte) (*Session, uint64, bool, error) {
	plain, primary, err := r.ring.open(sealContext(kindSession, hid), blob)
	if err != nil {
		return nil, 0, false, err
	}
	s, gen, err := decodeRecord(plain)
	if err != nil {
		return nil, 0, false, err
	}
	return s, gen, primary, nil
}

// touch rewrites the record with the new LastSeen under the first key and
// the new TTL. SET XX: a session deleted or revoked since it was read must
// not come back.
func (r *Redis) touch(ctx context.Context, hid string, s *Session, gen uint64, now time.Time) error {
	ttl := s.IdleExpiry.Sub(now)
	if ttl < time.Millisecond {
		return nil
	}
	blob, err := r.ring.seal(sealContext(kindSession, hid), encodeRecord(s, gen))
	if err != nil {
		return err
	}
	return r.c.SetXX(ctx, r.sessionKey(hid), blob, ttl).Err()
}

// forget removes a dead session's records and index entries, best effort.
func (r *Redis) forget(ctx context.Context, hid string, s *Session) {
	if err := r.remove(ctx, hid, s); err != nil {
		r.log.Debug("session: removing a dead session failed; it expires with its TTL", "err", err)
	}
}

// remove deletes a session's record and ID token and, when s is known,
// its index entries, in one pipeline.
func (r *Redis) remove(ctx context.Context, hid string, s *Session) error {
	pipe := r.c.Pipeline()
	pipe.Del(ctx, r.sessionKey(hid))
	pipe.Del(ctx, r.tokenKey(hid))
	if s != nil {
		for _, k := range r.indexKeys(s) {
			pipe.SRem(ctx, k, hid)
		}
	}
	_, err := pipe.Exec(ctx)
	return err
}

// IDToken implements Store.
func (r *Redis) IDToken(ctx context.Context, id string) (string, error) {
	if !validID(id) {
		return "", ErrNotFound
	}
	hid := hashID(id)
	blob, err := r.c.Get(ctx, r.tokenKey(hid)).Bytes()
	if errors.Is(err, redis.Nil) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", unavailable("id token", err)
	}
	plain, _, err := r.ring.open(sealContext(kindIDToken, hid), blob)
	if err != nil || len(plain) > maxIDToken {
		return "", ErrNotFound
	}
	return string(plain), nil
}

// Delete implements Store.
func (r *Redis) Delete(ctx context.Context, id string) error {
	if !validID(id) {
		return nil
	}
	hid := hashID(id)
	blob, err := r.c.Get(ctx, r.sessionKey(hid)).Bytes()
	if errors.Is(err, redis.Nil) {
		blob = nil
	} else if err != nil {
		return unavailable("delete", err)
	}
	var s *Session
	if blob != nil {
		s, _, _, _ = r.open(hid, blob) // nil when it does not open: indexes then expire by TTL
	}
	if err := r.remove(ctx, hid, s); err != nil {
		return unavailable("delete", err)
	}
	return nil
}

// revokeIndex deletes every session listed in the index set key. Members
// are removed from the set one by one rather than the set itself, so that a
// session indexed concurrently stays findable by the next revocation.
func (r *Redis) revokeIndex(ctx context.Context, key string) (int, error) {
	members, err := r.c.SMembers(ctx, key).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return 0, unavailable("revoke", err)
	}
	n := 0
	for len(members) > 0 {
		batch := members[:min(len(members), 256)]
		members = members[len(batch):]
		pipe := r.c.Pipeline()
		dels := make([]*redis.IntCmd, 0, len(batch))
		var done []any
		for _, hid := range batch {
			if !validHashedID(hid) {
				continue // not ours: leave it, the set expires
			}
			dels = append(dels, pipe.Del(ctx, r.sessionKey(hid)))
			pipe.Del(ctx, r.tokenKey(hid))
			done = append(done, hid)
		}
		if len(done) > 0 {
			pipe.SRem(ctx, key, done...)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return n, unavailable("revoke", err)
		}
		for _, d := range dels {
			n += int(d.Val())
		}
	}
	return n, nil
}

func validHashedID(h string) bool {
	if len(h) != hashedIDLen {
		return false
	}
	for i := 0; i < len(h); i++ {
		if !isB64URL(h[i]) {
			return false
		}
	}
	return true
}

// RevokePerson implements Store.
func (r *Redis) RevokePerson(ctx context.Context, ref string) (int, error) {
	if ref == "" {
		return 0, nil
	}
	return r.revokeIndex(ctx, r.prefix+"p:"+personIndex(ref))
}

// RevokeSID implements Store.
func (r *Redis) RevokeSID(ctx context.Context, issuer, sid string) (int, error) {
	if sid == "" {
		return 0, nil
	}
	return r.revokeIndex(ctx, r.prefix+"i:"+sidIndex(issuer, sid))
}

// RevokeSubject implements Store.
func (r *Redis) RevokeSubject(ctx context.Context, issuer, sub string) (int, error) {
	if sub == "" {
		return 0, nil
	}
	return r.revokeIndex(ctx, r.prefix+"u:"+subjectIndex(issuer, sub))
}

// RevokeAll implements Store. Bumping the generation ends every session at
// once, on every node; the records of the old generation are then found
// with SCAN (on every master of a cluster) and deleted, and counted.
// Records that do not open (sealed with a key no longer in the ring) are
// deleted too. If the clean-up fails, the sessions stay dead and their
// records expire with their TTL; the error says so.
func (r *Redis) RevokeAll(ctx context.Context) (int, error) {
	gen, err := r.c.Incr(ctx, r.genKey()).Uint64()
	if err != nil {
		return 0, unavailable("revoke all", err)
	}
	var n atomic.Int64 // ForEachMaster runs the sweeps concurrently
	sweep := func(ctx context.Context, c redis.UniversalClient) error {
		iter := c.Scan(ctx, 0, escapeGlob(r.prefix+"s:")+"*", 512).Iterator()
		var keys []string
		flush := func() error {
			m, err := r.sweep(ctx, keys, gen)
			n.Add(int64(m))
			keys = keys[:0]
			return err
		}
		for iter.Next(ctx) {
			if keys = append(keys, iter.Val()); len(keys) == 256 {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		if err := iter.Err(); err != nil {
			return err
		}
		return flush()
	}
	if cc, ok := r.c.(*redis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return sweep(ctx, c) })
	} else {
		err = sweep(ctx, r.c)
	}
	if err != nil {
		return int(n.Load()), fmt.Errorf("%w (all sessions are revoked; some records remain until they expire)", unavailable("revoke all", err))
	}
	return int(n.Load()), nil
}

// sweep deletes the session records among keys older than generation gen.
func (r *Redis) sweep(ctx context.Context, keys []string, gen uint64) (int, error) {
	if len(keys) == 0 {
		return 0, nil
	}
	pipe := r.c.Pipeline()
	gets := make([]*redis.StringCmd, len(keys))
	for i, k := range keys {
		gets[i] = pipe.Get(ctx, k)
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return 0, err
	}
	pipe = r.c.Pipeline()
	var dels []*redis.IntCmd
	for i, k := range keys {
		blob, err := gets[i].Bytes()
		if err != nil {
			continue // gone meanwhile
		}
		hid := strings.TrimPrefix(k, r.prefix+"s:")
		s, recGen, _, err := r.open(hid, blob)
		if err == nil && recGen >= gen {
			continue // created after the bump
		}
		dels = append(dels, pipe.Del(ctx, k))
		pipe.Del(ctx, r.tokenKey(hid))
		if s != nil {
			for _, ik := range r.indexKeys(s) {
				pipe.SRem(ctx, ik, hid)
			}
		}
	}
	if len(dels) == 0 {
		return 0, nil
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return 0, err
	}
	n := 0
	for _, d := range dels {
		n += int(d.Val())
	}
	return n, nil
}

// escapeGlob escapes the characters SCAN MATCH treats specially.
func escapeGlob(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if strings.IndexByte(`*?[]\`, c) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	return b.String()
}

// Ping implements Store.
func (r *Redis) Ping(ctx context.Context) error {
	if err := r.c.Ping(ctx).Err(); err != nil {
		if why := explainSentinel(ctx, r.cfg.Redis); why != nil {
			err = why
		}
		return unavailable("ping", err)
	}
	return nil
}

// Close implements Store: it closes the client only when Open made it.
func (r *Redis) Close() error {
	if r.owned {
		return r.c.Close()
	}
	return nil
}
