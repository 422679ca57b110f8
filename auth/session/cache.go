package session

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// CacheConfig configures Cached.
type CacheConfig struct {
	// TTL is how long a loaded session is served from memory (e.g. 1s).
	// 0 disables the cache: every call goes to the store. Activity seen
	// only by the cache reaches the store up to TTL late, so keep it far
	// below the store's TouchInterval (configuration should cap it, e.g.
	// at 5s).
	TTL time.Duration
	// MaxEntries bounds the cache (default 10 000).
	MaxEntries int
	// Channel is the Redis pub/sub channel of invalidations, shared by all
	// gateway nodes of one session store (e.g. the session key prefix +
	// "invalidate"). Required when TTL > 0.
	Channel string
	// Heartbeat is how often the subscription is pinged (default 1s). With
	// no reply from Redis for 3 heartbeats the cache is bypassed.
	Heartbeat time.Duration
	// Now is the clock for entry expiry (default time.Now); give it the
	// session store's clock.
	Now func() time.Time
}

// Cached is a Store with a small in-process cache of loaded sessions, so
// most authenticated requests of a gateway node skip the Redis round trip.
//
//   - Entries are keyed by HMAC(process-random key, SHA-256(id)): no session
//     id is kept in memory by the cache.
//   - An entry lives at most TTL and never past the session's idle or
//     absolute expiry. When it expires the next Load goes to the store,
//     which records activity (touch) as without the cache: at most one Load
//     per TTL per node is not seen by the store, far below TouchInterval.
//   - Delete and Revoke* publish an invalidation on Channel after the store
//     call; every node (this one included) evicts on receipt, and this node
//     also evicts at once.
//   - The cache is used only while the subscription is confirmed live
//     (subscribe confirmed, last reply from Redis within 3 heartbeats).
//     Otherwise every Load goes to the store (fail closed); on loss and on
//     re-subscription the cache is emptied, since invalidations may have
//     been missed.
//   - A Load racing with an invalidation does not fill the cache
//     (generation check), so a revoked session is never put back.
//
// Sessions revoked by a writer that does not publish (another program
// using auth/session directly) stay served by a node for at most TTL.
type Cached struct {
	Store

	rdb     redis.UniversalClient
	cfg     CacheConfig
	key     []byte
	hmacs   sync.Pool
	start   time.Time
	mu      sync.Mutex
	m       map[[32]byte]*cacheEntry
	gen     atomic.Uint64 // bumped by every invalidation and liveness change
	subOK   atomic.Bool   // subscription confirmed and no error since
	lastRep atomic.Int64  // time.Since(start) of the last reply from Redis
	recv    atomic.Uint64 // invalidation messages received
	hits    atomic.Uint64
	losses  atomic.Uint64 // subscription errors seen
	cancel  context.CancelFunc
	ps      *redis.PubSub
	done    sync.WaitGroup
}

type cacheEntry struct {
	s     *Session
	until time.Time
	tags  [3][32]byte
	ntags int
}

var _ Store = (*Cached)(nil)

// NewCached wraps s. rdb is the Redis of the session store (used for
// pub/sub only). With cfg.TTL == 0 every call goes to s.
func NewCached(s Store, rdb redis.UniversalClient, cfg CacheConfig) (*Cached, error) {
	c := &Cached{Store: s, cfg: cfg, start: time.Now()}
	if cfg.TTL < 0 {
		return nil, errors.New("session: negative session cache TTL")
	}
	if cfg.TTL == 0 {
		return c, nil
	}
	if rdb == nil || cfg.Channel == "" {
		return nil, errors.New("session: the session cache needs Redis and an invalidation channel")
	}
	if c.cfg.MaxEntries <= 0 {
		c.cfg.MaxEntries = 10000
	}
	if c.cfg.Heartbeat <= 0 {
		c.cfg.Heartbeat = time.Second
	}
	if c.cfg.Now == nil {
		c.cfg.Now = time.Now
	}
	c.rdb = rdb
	c.key = make([]byte, 32)
	rand.Read(c.key)
	c.hmacs.New = func() any { return hmac.New(sha256.New, c.key) }
	c.m = make(map[[32]byte]*cacheEntry)
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	ps := rdb.Subscribe(ctx, cfg.Channel)
	c.ps = ps
	c.done.Add(2)
	go c.receive(ctx, ps)
	go c.heartbeat(ctx, ps)
	return c, nil
}

// Close stops the subscription (the cache is bypassed afterwards).
func (c *Cached) Close() error {
	if c.cancel == nil {
		return nil
	}
	c.cancel()
	c.subOK.Store(false)
	err := c.ps.Close() // unblocks Receive
	c.done.Wait()
	c.clear()
	return err
}

// Live reports whether the cache is in use (subscription confirmed live).
func (c *Cached) Live() bool {
	if c.cfg.TTL == 0 || !c.subOK.Load() {
		return false
	}
	return time.Since(c.start)-time.Duration(c.lastRep.Load()) < 3*c.cfg.Heartbeat
}

// Invalidations returns how many invalidation messages were received and
// applied (counted after the eviction, so a reader that sees the count
// also sees the entry gone).
func (c *Cached) Invalidations() uint64 { return c.recv.Load() }

// Hits returns how many Loads were answered from the cache.
func (c *Cached) Hits() uint64 { return c.hits.Load() }

// Len returns the number of cached entries.
func (c *Cached) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

func (c *Cached) replied() { c.lastRep.Store(int64(time.Since(c.start))) }

func (c *Cached) receive(ctx context.Context, ps *redis.PubSub) {
	defer c.done.Done()
	backoff := 50 * time.Millisecond
	for {
		msg, err := ps.Receive(ctx)
		if err != nil {
			c.subOK.Store(false)
			c.clear()
			c.losses.Add(1)
			if ctx.Err() != nil {
				return
			}
			select { // go-redis reconnects and re-subscribes on the next Receive
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, time.Second)
			continue
		}
		backoff = 50 * time.Millisecond
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" && m.Channel == c.cfg.Channel {
				c.clear() // anything published before is lost to us
				c.replied()
				c.subOK.Store(true)
			} else {
				c.subOK.Store(false)
				c.clear()
			}
		case *redis.Pong:
			c.replied()
		case *redis.Message:
			c.replied()
			c.apply(m.Payload)
			c.recv.Add(1) // after the eviction: Invalidations counts what took effect
		}
	}
}

func (c *Cached) heartbeat(ctx context.Context, ps *redis.PubSub) {
	defer c.done.Done()
	t := time.NewTicker(c.cfg.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !c.Live() {
			c.clear()
		}
		_ = ps.Ping(ctx) // the Pong arrives in receive
	}
}

// clear empties the cache and stops Loads in flight from filling it.
func (c *Cached) clear() {
	c.mu.Lock()
	c.gen.Add(1)
	clear(c.m)
	c.mu.Unlock()
}

// Invalidation messages: "d:" + hex SHA-256(id) for one session,
// "r:" + hex tag for sessions matching a tag, "a" for all.
func (c *Cached) apply(p string) {
	var h [32]byte
	switch {
	case p == "a":
		c.clear()
	case len(p) == 2+64 && p[:2] == "d:":
		if _, err := hex.Decode(h[:], []byte(p[2:])); err != nil {
			c.clear()
			return
		}
		k := c.mapKey(h)
		c.mu.Lock()
		c.gen.Add(1)
		delete(c.m, k)
		c.mu.Unlock()
	case len(p) == 2+64 && p[:2] == "r:":
		if _, err := hex.Decode(h[:], []byte(p[2:])); err != nil {
			c.clear()
			return
		}
		c.mu.Lock()
		c.gen.Add(1)
		for k, e := range c.m {
			if slices.Contains(e.tags[:e.ntags], h) {
				delete(c.m, k)
			}
		}
		c.mu.Unlock()
	default: // unknown: be safe
		c.clear()
	}
}

func (c *Cached) mapKey(idHash [32]byte) [32]byte {
	m := c.hmacs.Get().(hash.Hash)
	m.Reset()
	m.Write(idHash[:])
	var k [32]byte
	m.Sum(k[:0])
	c.hmacs.Put(m)
	return k
}

func tag(kind string, parts ...string) [32]byte {
	h := sha256.New()
	h.Write([]byte("overstap session cache\x00" + kind))
	for _, p := range parts {
		fmt.Fprintf(h, "\x00%d:%s", len(p), p)
	}
	var t [32]byte
	h.Sum(t[:0])
	return t
}

// Load reads a session, from the cache when it is live.
func (c *Cached) Load(ctx context.Context, id string) (*Session, error) {
	if c.cfg.TTL == 0 || !c.Live() {
		return c.Store.Load(ctx, id)
	}
	idh := sha256.Sum256([]byte(id))
	k := c.mapKey(idh)
	now := c.cfg.Now()
	c.mu.Lock()
	e := c.m[k]
	if e != nil && now.Before(e.until) {
		s := e.s
		c.mu.Unlock()
		c.hits.Add(1)
		return clone(s), nil
	}
	if e != nil {
		delete(c.m, k)
	}
	c.mu.Unlock()

	gen := c.gen.Load()
	x, err := c.Store.Load(ctx, id)
	if err != nil {
		return nil, err
	}
	s := x
	until := now.Add(c.cfg.TTL)
	for _, t := range []time.Time{x.IdleExpiry, x.AbsoluteExpiry} {
		if !t.IsZero() && t.Before(until) {
			until = t
		}
	}
	ne := &cacheEntry{s: clone(s), until: until}
	ne.tags[0] = tag("person", x.NRNRef)
	ne.tags[1] = tag("subject", x.Issuer, x.Subject)
	ne.ntags = 2
	if x.SID != "" {
		ne.tags[2] = tag("sid", x.Issuer, x.SID)
		ne.ntags = 3
	}
	c.mu.Lock()
	if c.gen.Load() == gen && c.Live() && now.Before(until) {
		if len(c.m) >= c.cfg.MaxEntries {
			for k2 := range c.m { // drop one (random map order)
				delete(c.m, k2)
				break
			}
		}
		c.m[k] = ne
	}
	c.mu.Unlock()
	return s, nil
}

// publish evicts locally and tells every node.
func (c *Cached) publish(ctx context.Context, msg string) error {
	c.apply(msg)
	if err := c.rdb.Publish(ctx, c.cfg.Channel, msg).Err(); err != nil {
		return fmt.Errorf("session: publishing a session invalidation failed (other nodes may serve the session up to the cache TTL): %w", err)
	}
	return nil
}

// Delete removes a session and invalidates it on every node.
func (c *Cached) Delete(ctx context.Context, id string) error {
	err := c.Store.Delete(ctx, id)
	if c.cfg.TTL == 0 {
		return err
	}
	h := sha256.Sum256([]byte(id))
	return errors.Join(err, c.publish(ctx, "d:"+hex.EncodeToString(h[:])))
}

func (c *Cached) revoked(ctx context.Context, n int, err error, t [32]byte) (int, error) {
	if c.cfg.TTL == 0 {
		return n, err
	}
	return n, errors.Join(err, c.publish(ctx, "r:"+hex.EncodeToString(t[:])))
}

// RevokePerson removes a person's sessions and invalidates them everywhere.
func (c *Cached) RevokePerson(ctx context.Context, ref string) (int, error) {
	n, err := c.Store.RevokePerson(ctx, ref)
	return c.revoked(ctx, n, err, tag("person", ref))
}

// RevokeSID removes the sessions with this IdP sid and invalidates them.
func (c *Cached) RevokeSID(ctx context.Context, issuer, sid string) (int, error) {
	n, err := c.Store.RevokeSID(ctx, issuer, sid)
	return c.revoked(ctx, n, err, tag("sid", issuer, sid))
}

// RevokeSubject removes the sessions of a subject and invalidates them.
func (c *Cached) RevokeSubject(ctx context.Context, issuer, sub string) (int, error) {
	n, err := c.Store.RevokeSubject(ctx, issuer, sub)
	return c.revoked(ctx, n, err, tag("subject", issuer, sub))
}

// RevokeAll removes every session and empties every node's cache.
func (c *Cached) RevokeAll(ctx context.Context) (int, error) {
	n, err := c.Store.RevokeAll(ctx)
	if c.cfg.TTL == 0 {
		return n, err
	}
	return n, errors.Join(err, c.publish(ctx, "a"))
}
