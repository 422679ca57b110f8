package oidc

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// FlowStore keeps login flow state between the authorization request and
// the callback. Keys are opaque (a hash of the state); payloads are small
// and encrypted by this package. Implementations must be safe for
// concurrent use; Take must be atomic so a state is usable once.
type FlowStore interface {
	// Put stores payload under key for ttl. It returns ErrFlowExists when
	// the key is already present.
	Put(ctx context.Context, key string, payload []byte, ttl time.Duration) error
	// Take returns the payload and deletes it in one atomic step. It
	// returns ErrFlowNotFound for an unknown, expired or already taken key.
	Take(ctx context.Context, key string) ([]byte, error)
}

// ReplayCache remembers identifiers (back-channel logout jti) for a while.
// Implementations must be safe for concurrent use.
type ReplayCache interface {
	// Add records key for ttl. It reports fresh=false when the key was
	// already recorded (a replay).
	Add(ctx context.Context, key string, ttl time.Duration) (fresh bool, err error)
}

// MemoryStore is an in-process FlowStore and ReplayCache for one gateway
// node. It holds at most MaxEntries live entries (fail closed with
// ErrStoreFull beyond that).
type MemoryStore struct {
	now        func() time.Time
	maxEntries int

	mu   sync.Mutex
	m    map[string]memEntry
	puts int
	last time.Time // last full sweep
}

type memEntry struct {
	val []byte
	exp time.Time
}

var (
	_ FlowStore   = (*MemoryStore)(nil)
	_ ReplayCache = (*MemoryStore)(nil)
	_ FlowStore   = (*RedisStore)(nil)
	_ ReplayCache = (*RedisStore)(nil)
)

// NewMemoryStore returns a MemoryStore. now may be nil (time.Now);
// maxEntries ≤ 0 means 100000.
func NewMemoryStore(now func() time.Time, maxEntries int) *MemoryStore {
	if now == nil {
		now = time.Now
	}
	if maxEntries <= 0 {
		maxEntries = 100000
	}
	return &MemoryStore{now: now, maxEntries: maxEntries, m: make(map[string]memEntry)}
}

// sweepLocked drops expired entries; called every 1024 writes and when full.
func (s *MemoryStore) sweepLocked(now time.Time) {
	for k, e := range s.m {
		if !now.Before(e.exp) {
			delete(s.m, k)
		}
	}
}

func (s *MemoryStore) add(key string, val []byte, ttl time.Duration) (bool, error) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.m[key]; ok && now.Before(e.exp) {
		return false, nil
	}
	s.puts++
	// Sweep every 1024 writes, and when full at most once a second (a full
	// store must not turn every write into a full scan).
	if s.puts%1024 == 0 || (len(s.m) >= s.maxEntries && now.Sub(s.last) > time.Second) {
		s.sweepLocked(now)
		s.last = now
	}
	if len(s.m) >= s.maxEntries {
		return false, ErrStoreFull
	}
	s.m[key] = memEntry{val: val, exp: now.Add(ttl)}
	return true, nil
}

// Put implements FlowStore.
func (s *MemoryStore) Put(_ context.Context, key string, payload []byte, ttl time.Duration) error {
	fresh, err := s.add(key, append([]byte(nil), payload...), ttl)
	if err != nil {
		return err
	}
	if !fresh {
		return ErrFlowExists
	}
	return nil
}

// Take implements FlowStore.
func (s *MemoryStore) Take(_ context.Context, key string) ([]byte, error) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[key]
	if !ok {
		return nil, ErrFlowNotFound
	}
	delete(s.m, key)
	if !now.Before(e.exp) {
		return nil, ErrFlowNotFound
	}
	return e.val, nil
}

// Add implements ReplayCache.
func (s *MemoryStore) Add(_ context.Context, key string, ttl time.Duration) (bool, error) {
	return s.add(key, nil, ttl)
}

// RedisStore is a FlowStore and ReplayCache on Redis (single, sentinel or
// cluster through redis.UniversalClient). Every key starts with Prefix.
type RedisStore struct {
	client redis.UniversalClient
	prefix string
}

// NewRedisStore returns a RedisStore writing keys under prefix (e.g.
// "overstap:oidc:").
func NewRedisStore(client redis.UniversalClient, prefix string) *RedisStore {
	return &RedisStore{client: client, prefix: prefix}
}

// Put implements FlowStore with SET NX EX.
func (s *RedisStore) Put(ctx context.Context, key string, payload []byte, ttl time.Duration) error {
	ok, err := s.client.SetNX(ctx, s.prefix+"flow:"+key, payload, ttl).Result()
	if err != nil {
		return fmt.Errorf("oidc: flow store: %w", err)
	}
	if !ok {
		return ErrFlowExists
	}
	return nil
}

// Take implements FlowStore with the atomic GETDEL.
func (s *RedisStore) Take(ctx context.Context, key string) ([]byte, error) {
	b, err := s.client.GetDel(ctx, s.prefix+"flow:"+key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, ErrFlowNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("oidc: flow store: %w", err)
	}
	return b, nil
}

// Add implements ReplayCache with SET NX PX.
func (s *RedisStore) Add(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	ok, err := s.client.SetNX(ctx, s.prefix+"jti:"+key, "1", ttl).Result()
	if err != nil {
		return false, fmt.Errorf("oidc: replay cache: %w", err)
	}
	return ok, nil
}
