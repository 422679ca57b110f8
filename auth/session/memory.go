package session

import (
	"container/list"
	"context"
	"fmt"
	"sync"
	"time"
)

// Memory is the embedded session store for a single gateway node. Sessions
// live in this process only (a restart logs everybody out) and are kept as
// plain structs: sealing them would guard against nothing, since the key
// would sit in the same memory. At most Config.MaxSessions are kept; when
// full, expired sessions go first, then those touched least recently.
//
// Memory is safe for concurrent use.
type Memory struct {
	cfg Config
	tm  timing

	mu      sync.Mutex
	entries map[string]*list.Element   // hashed id → element of lru (value *memEntry)
	lru     *list.List                 // front = touched most recently
	index   map[string]map[string]bool // index name → hashed ids
}

type memEntry struct {
	hid string
	s   *Session // owned by the store, never handed out
	idx []string // the indexes it is in
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty memory store.
func NewMemory(cfg Config) (*Memory, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Memory{
		cfg:     cfg,
		tm:      cfg.timing(),
		entries: map[string]*list.Element{},
		lru:     list.New(),
		index:   map[string]map[string]bool{},
	}, nil
}

// indexNames lists the revocation indexes a session belongs to.
func indexNames(s *Session) []string {
	var names []string
	if s.NRNRef != "" {
		names = append(names, personIndex(s.NRNRef))
	}
	if s.SID != "" {
		names = append(names, sidIndex(s.Issuer, s.SID))
	}
	return append(names, subjectIndex(s.Issuer, s.Subject))
}

// Create implements Store.
func (m *Memory) Create(ctx context.Context, s *Session) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	now := m.cfg.Now()
	id, hid, err := m.tm.create(s, now)
	if err != nil {
		return "", err
	}
	own := clone(s)
	idx := indexNames(own)

	m.mu.Lock()
	defer m.mu.Unlock()
	m.evict(now)
	m.entries[hid] = m.lru.PushFront(&memEntry{hid: hid, s: own, idx: idx})
	for _, name := range idx {
		set := m.index[name]
		if set == nil {
			set = map[string]bool{}
			m.index[name] = set
		}
		set[hid] = true
	}
	return id, nil
}

// evict makes room for one more session: it drops expired sessions from the
// least recently touched end, then the least recently touched ones until
// there is room. Expired sessions elsewhere in the list go when loaded or
// when they reach the end. Caller holds m.mu.
func (m *Memory) evict(now time.Time) {
	for e := m.lru.Back(); e != nil; e = m.lru.Back() {
		me := e.Value.(*memEntry)
		if len(m.entries) < m.cfg.MaxSessions && now.Before(m.tm.idleExpiry(me.s)) {
			return
		}
		m.remove(me.hid)
	}
}

// remove drops one session and its index entries. Caller holds m.mu.
func (m *Memory) remove(hid string) bool {
	e, ok := m.entries[hid]
	if !ok {
		return false
	}
	me := e.Value.(*memEntry)
	m.lru.Remove(e)
	delete(m.entries, hid)
	for _, name := range me.idx {
		if set := m.index[name]; set != nil {
			delete(set, hid)
			if len(set) == 0 {
				delete(m.index, name)
			}
		}
	}
	return true
}

// Load implements Store.
func (m *Memory) Load(ctx context.Context, id string) (*Session, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if !validID(id) {
		return nil, ErrNotFound
	}
	hid := hashID(id)
	now := m.cfg.Now()

	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[hid]
	if !ok {
		return nil, ErrNotFound
	}
	s := e.Value.(*memEntry).s
	valid, touch := m.tm.check(s, now)
	if !valid {
		m.remove(hid)
		return nil, ErrNotFound
	}
	if touch {
		m.tm.refresh(s, now)
		m.lru.MoveToFront(e)
	}
	out := clone(s)
	out.IDToken = ""
	return out, nil
}

// IDToken implements Store.
func (m *Memory) IDToken(ctx context.Context, id string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if !validID(id) {
		return "", ErrNotFound
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[hashID(id)]
	if !ok || e.Value.(*memEntry).s.IDToken == "" {
		return "", ErrNotFound
	}
	return e.Value.(*memEntry).s.IDToken, nil
}

// Delete implements Store.
func (m *Memory) Delete(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if !validID(id) {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.remove(hashID(id))
	return nil
}

func (m *Memory) revokeIndex(ctx context.Context, name string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for hid := range m.index[name] {
		if m.remove(hid) {
			n++
		}
	}
	return n, nil
}

// RevokePerson implements Store.
func (m *Memory) RevokePerson(ctx context.Context, ref string) (int, error) {
	if ref == "" {
		return 0, nil
	}
	return m.revokeIndex(ctx, personIndex(ref))
}

// RevokeSID implements Store.
func (m *Memory) RevokeSID(ctx context.Context, issuer, sid string) (int, error) {
	if sid == "" {
		return 0, nil
	}
	return m.revokeIndex(ctx, sidIndex(issuer, sid))
}

// RevokeSubject implements Store.
func (m *Memory) RevokeSubject(ctx context.Context, issuer, sub string) (int, error) {
	if sub == "" {
		return 0, nil
	}
	return m.revokeIndex(ctx, subjectIndex(issuer, sub))
}

// RevokeAll implements Store.
func (m *Memory) RevokeAll(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	n := len(m.entries)
	m.entries = map[string]*list.Element{}
	m.lru.Init()
	m.index = map[string]map[string]bool{}
	return n, nil
}

// Len returns how many sessions the store holds, expired ones not yet
// evicted included.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.entries)
}

// Ping implements Store; memory is always available.
func (m *Memory) Ping(ctx context.Context) error { return nil }

// Close implements Store; it keeps the sessions.
func (m *Memory) Close() error { return nil }
