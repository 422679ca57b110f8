package migrate

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/overstap/overstap/adapters/state"
	"github.com/overstap/overstap/adapters/store"
	"github.com/overstap/overstap/adapters/store/sqlstore"
	"github.com/overstap/overstap/auth/nrn"
	"github.com/overstap/overstap/internal/config"
)

// memStore is a transactional in-memory store for engine unit tests: CAS
// semantics as the contract says, all-or-nothing SwapBatch, fault
// injection, and a count of effective writes per account. The end-to-end
// tests use the real SQL adapter.
type memStore struct {
	mu       sync.Mutex
	name     string
	caps     store.Capabilities
	accts    map[string]store.Account
	writes   map[string]int
	failSwap func(batch int) error // injected failure before batch n commits
	// lostAck: batch n commits but the caller gets an error (commit
	// acknowledgement lost with the connection).
	lostAck  func(batch int) error
	failIter func(call int) error
	swaps    int
	iters    int
}

func newMemStore(accts []store.Account) *memStore {
	m := &memStore{name: "mem", caps: store.Capabilities{AtomicCAS: true, Transactions: true},
		accts: map[string]store.Account{}, writes: map[string]int{}}
	for _, a := range accts {
		m.accts[a.ID] = a
	}
	return m
}

func (m *memStore) Name() string                     { return m.name }
func (m *memStore) Capabilities() store.Capabilities { return m.caps }

func (m *memStore) Iterate(ctx context.Context, after store.Cursor, limit int) ([]store.Account, store.Cursor, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.iters++
	if m.failIter != nil {
		if err := m.failIter(m.iters); err != nil {
			return nil, "", err
		}
	}
	ids := make([]string, 0, len(m.accts))
	for id := range m.accts {
		if id > string(after) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	if len(ids) > limit {
		ids = ids[:limit]
	}
	out := make([]store.Account, len(ids))
	for i, id := range ids {
		out[i] = m.accts[id]
	}
	var next store.Cursor
	if len(ids) == limit {
		next = store.Cursor(ids[len(ids)-1])
	}
	return out, next, nil
}

func (m *memStore) Get(ctx context.Context, id string) (store.Account, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.accts[id]
	if !ok {
		return a, store.ErrNotFound
	}
	return a, nil
}

func (m *memStore) SwapBatch(ctx context.Context, swaps []store.Swap) ([]error, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.swaps++
	if m.failSwap != nil {
		if err := m.failSwap(m.swaps); err != nil {
			return nil, err
		}
	}
	res := make([]error, len(swaps))
	for i, s := range swaps {
		a, ok := m.accts[s.ID]
		switch {
		case !ok:
			res[i] = store.ErrNotFound
		case a.CredentialNull != s.OldNull || (!s.OldNull && a.Credential != s.Old):
			res[i] = store.ErrConflict
		default:
			a.Credential, a.CredentialNull = s.New, false
			m.accts[s.ID] = a
			m.writes[s.ID]++
		}
	}
	if m.lostAck != nil {
		if err := m.lostAck(m.swaps); err != nil {
			return nil, err
		}
	}
	return res, nil
}

func (m *memStore) set(id, cred string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a := m.accts[id]
	a.Credential, a.CredentialNull = cred, false
	m.accts[id] = a
}

func (m *memStore) snapshot() map[string]string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]string{}
	for id, a := range m.accts {
		out[id] = a.Credential
	}
	return out
}

// testHasher understands bare MD5 hex, "plaintext" by hint, and
// "$test$" values standing in for a strong scheme, enough for the engine's
// decisions. Wrap returns "$wrap$" + md5 of the value.
type testHasher struct{}

func (testHasher) Identify(stored, hint, salt string) (HashInfo, error) {
	switch {
	case hint == "plaintext":
		return HashInfo{Scheme: "plaintext", Strength: StrengthNone, Usable: true}, nil
	case len(stored) == 32 && isHexStr(stored):
		return HashInfo{Scheme: "md5", Strength: StrengthWeak, Usable: true}, nil
	case strings.HasPrefix(stored, "$test$"):
		return HashInfo{Scheme: "test", Strength: StrengthStrong, Usable: true}, nil
	case strings.HasPrefix(stored, "$wrap$"):
		return HashInfo{Scheme: "wrapped(md5)", Strength: StrengthStrong, Usable: true}, nil
	}
	return HashInfo{}, errors.New("hash: unsupported")
}

func (h testHasher) IsDerived(ctx context.Context, stored, hint, salt string, n nrn.Number) (bool, error) {
	info, err := h.Identify(stored, hint, salt)
	if err != nil {
		return false, err
	}
	for _, c := range []string{n.Digits(), n.Format()} {
		switch info.Scheme {
		case "plaintext":
			if stored == c {
				return true, nil
			}
		case "md5":
			if stored == md5hex(c) {
				return true, nil
			}
		}
	}
	return false, nil
}

func (testHasher) Wrap(ctx context.Context, stored, hint, salt string) (string, error) {
	return "$wrap$" + md5hex(stored), nil
}

func md5hex(s string) string { d := md5.Sum([]byte(s)); return hex.EncodeToString(d[:]) }

func isHexStr(s string) bool {
	for _, c := range s {
		if !strings.ContainsRune("0123456789abcdef", c) {
			return false
		}
	}
	return true
}

// newStateDB opens a fresh SQLite state store with the migrate tables.
func newStateDB(t testing.TB) *DB {
	t.Helper()
	db, _ := openStateDB(t, sqliteState(t))
	return db
}

// sqliteState configures a SQLite state store in the test's directory.
func sqliteState(t testing.TB) state.Config {
	return state.Config{Driver: "sqlite", Path: filepath.Join(t.TempDir(), "state.db")}
}

// openStateDB opens a state store with the migrate tables (and the extra
// migration sets), closed when the test ends, and the journal on it.
func openStateDB(t testing.TB, cfg state.Config, extra ...state.Migrations) (*DB, *state.Store) {
	t.Helper()
	st, err := state.Open(context.Background(), cfg, nil, append([]state.Migrations{{Component: Component, FS: SchemaFS()}}, extra...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	db, err := OpenDB(st.DB(), Dialect(st.Dialect()))
	if err != nil {
		t.Fatal(err)
	}
	return db, st
}

// synth returns the i-th synthetic national number.
func synth(t testing.TB, i int) nrn.Number {
	t.Helper()
	n, err := nrn.Synthetic(time.Date(1970+i%40, time.Month(1+i%12), 1+i%28, 0, 0, 0, 0, time.UTC), i%2 == 0, 900+i%99)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// mixedAccounts builds n accounts: NRN/NRN plaintext-as-md5, md5 of
// something else, strong, empty, garbage, revoked.
func mixedAccounts(t testing.TB, n int) []store.Account {
	var out []store.Account
	for i := range n {
		id := fmt.Sprintf("u%06d", i)
		a := store.Account{ID: id, Username: "user" + id}
		nr := synth(t, i)
		switch i % 6 {
		case 0: // NRN username, NRN-derived md5 password
			a.Username, a.Credential = nr.Format(), md5hex(nr.Digits())
		case 1: // NRN column, derived password
			a.NRN, a.NRNSource, a.Credential = nr, "column", md5hex(nr.Digits())
		case 2: // weak md5 of a real password
			a.Credential = md5hex("secret" + id)
		case 3: // strong
			a.Credential = "$test$" + id
		case 4: // garbage
			a.Credential = "??garbage" + id
		case 5: // NULL
			a.CredentialNull = true
		}
		out = append(out, a)
	}
	return out
}

func newTestEngine(t testing.TB, st Store, db *DB, cfg Config) *Engine {
	t.Helper()
	e, err := New(Options{Config: cfg, DB: db, Store: st, Hasher: testHasher{}})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func testKey(t testing.TB) *PrivateKey {
	t.Helper()
	k, err := GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// openLegacy opens the SQL store adapter as name on driver and dsn, closed
// when the test ends: integer ids and, where cfg names none, the seeded
// table and its columns.
func openLegacy(t testing.TB, name, driver, dsn string, cfg sqlstore.Config) *sqlstore.Store {
	t.Helper()
	cfg.Driver, cfg.DSN, cfg.IDType = driver, config.NewSecret([]byte(dsn)), "integer"
	if cfg.Table == "" {
		cfg.Table = "legacy_accounts"
	}
	if cfg.Columns == (sqlstore.Columns{}) {
		cfg.Columns = seedColumns()
	}
	st, err := sqlstore.Open(context.Background(), name, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}
