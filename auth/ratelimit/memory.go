package ratelimit

import (
	"context"
	"sync"
	"time"
)

// maxMemoryKeys bounds the memory backend. When full, expired entries are
// swept, then entries that are neither banned nor locked are dropped: a flood
// of fresh usernames can forget counts, but never a ban.
const maxMemoryKeys = 200_000

type memEntry struct {
	fails       []time.Time // within the window, oldest first
	banUntil    time.Time
	consecutive int
	locked      bool
}

type memKey struct {
	scope Scope
	ref   string
}

// Memory is the one-node backend.
type Memory struct {
	cfg    Config
	secret []byte

	mu      sync.Mutex
	entries map[memKey]*memEntry
}

var _ Limiter = (*Memory)(nil)

// NewMemory returns a memory limiter. secret keys the references (≥ 16 bytes).
func NewMemory(cfg Config, secret []byte) (*Memory, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := validSecret(secret); err != nil {
		return nil, err
	}
	return &Memory{cfg: cfg.WithDefaults(), secret: append([]byte(nil), secret...), entries: map[memKey]*memEntry{}}, nil
}

// Ref implements Limiter.
func (m *Memory) Ref(scope Scope, raw string) string { return refer(m.secret, scope, raw) }

func (m *Memory) rule(s Scope) Rule {
	if s == ScopeIP {
		return m.cfg.IP
	}
	return m.cfg.User
}

// Check implements Limiter.
func (m *Memory) Check(ctx context.Context, ip, userRef string) (Decision, error) {
	now := m.cfg.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	d := Decision{Allowed: true}
	for _, k := range m.keys(ip, userRef) {
		e := m.entries[k]
		if e == nil {
			continue
		}
		switch {
		case e.locked:
			return Decision{Allowed: false, Scope: k.scope}, nil
		case now.Before(e.banUntil):
			if wait := e.banUntil.Sub(now); !d.Allowed || wait > d.RetryAfter {
				d = Decision{Allowed: false, RetryAfter: wait, Scope: k.scope}
			}
		}
	}
	return d, nil
}

func (m *Memory) keys(ip, userRef string) []memKey {
	var ks []memKey
	if ip != "" {
		ks = append(ks, memKey{ScopeIP, m.Ref(ScopeIP, ip)})
	}
	if userRef != "" {
		ks = append(ks, memKey{ScopeUser, m.Ref(ScopeUser, userRef)})
	}
	return ks
}

// Fail implements Limiter.
func (m *Memory) Fail(ctx context.Context, ip, userRef string) error {
	now := m.cfg.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range m.keys(ip, userRef) {
		e := m.entries[k]
		if e == nil {
			m.makeRoom(now)
			e = &memEntry{}
			m.entries[k] = e
		}
		r := m.rule(k.scope)
		cut := 0
		for cut < len(e.fails) && !e.fails[cut].After(now.Add(-r.Window)) {
			cut++
		}
		e.fails = append(e.fails[cut:], now)
		if len(e.fails) >= r.Limit && !now.Before(e.banUntil) {
			e.banUntil = now.Add(r.Ban)
		}
		if k.scope == ScopeUser {
			e.consecutive++
			if e.consecutive >= m.cfg.MaxConsecutive {
				e.locked = true
			}
		}
	}
	return nil
}

// makeRoom keeps the map under its bound; called with mu held.
func (m *Memory) makeRoom(now time.Time) {
	if len(m.entries) < maxMemoryKeys {
		return
	}
	for k, e := range m.entries {
		if m.idle(e, k.scope, now) {
			delete(m.entries, k)
		}
	}
	for k, e := range m.entries {
		if len(m.entries) < maxMemoryKeys {
			return
		}
		if !e.locked && !now.Before(e.banUntil) {
			delete(m.entries, k)
		}
	}
}

func (m *Memory) idle(e *memEntry, s Scope, now time.Time) bool {
	if e.locked || now.Before(e.banUntil) || e.consecutive > 0 {
		return false
	}
	return len(e.fails) == 0 || !e.fails[len(e.fails)-1].After(now.Add(-m.rule(s).Window))
}

// Succeed implements Limiter.
func (m *Memory) Succeed(ctx context.Context, userRef string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := memKey{ScopeUser, m.Ref(ScopeUser, userRef)}
	if e := m.entries[k]; e != nil && !e.locked && !m.cfg.Now().Before(e.banUntil) {
		delete(m.entries, k)
	}
	return nil
}

// Bans implements Limiter.
func (m *Memory) Bans(ctx context.Context) ([]Ban, error) {
	now := m.cfg.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Ban
	for k, e := range m.entries {
		switch {
		case e.locked:
			out = append(out, Ban{Scope: k.scope, Ref: k.ref, Locked: true})
		case now.Before(e.banUntil):
			out = append(out, Ban{Scope: k.scope, Ref: k.ref, Until: e.banUntil})
		}
	}
	sortBans(out)
	return out, nil
}

// Lift implements Limiter.
func (m *Memory) Lift(ctx context.Context, scope Scope, ref string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := memKey{scope, ref}
	e := m.entries[k]
	if e == nil {
		return false, nil
	}
	was := e.locked || m.cfg.Now().Before(e.banUntil)
	delete(m.entries, k)
	return was, nil
}
