package csvstore

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/overstap/overstap/adapters/store"
	"github.com/overstap/overstap/auth/nrn"
)

// Adapter is the adapter name errors start with.
const Adapter = "csvstore"

// changesHeader is the first line of every changes file.
var changesHeader = []string{"seq", "time", "id", "action", "value", "old_sha256"}

// Actions in the changes file.
const (
	ActionSetCredential = "set_credential"
	ActionSetFederated  = "set_federated"
)

// Store reads an export and appends changes. It is safe for concurrent use;
// operations are serialised.
type Store struct {
	name  string
	cfg   Config
	log   *slog.Logger
	x     store.Errorer
	comma rune
	now   func() time.Time

	mu      sync.Mutex
	f       *os.File
	stamp   stamp
	idx     []entry
	col     columns
	nfields int
	pending map[string]pending
	cf      *os.File
	seq     int64
}

type stamp struct {
	size  int64
	mtime time.Time
	ino   uint64
}

type entry struct {
	id  string
	num int64
	off int64
}

type columns struct{ id, user, pw, salt, nrn, name, dis, fed int }

type pending struct {
	cred *string
	fed  *bool
}

var _ store.Store = (*Store)(nil)

// Open validates cfg, indexes the export and loads pending changes.
func Open(_ context.Context, name string, cfg Config, logger *slog.Logger) (*Store, error) {
	x := store.Errorer{Adapter: Adapter, Store: name}
	if err := cfg.Validate(); err != nil {
		return nil, x.Err("config", "", err)
	}
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	comma, _ := cfg.delimiter()
	s := &Store{name: name, cfg: cfg, log: logger, x: x, comma: comma, now: cfg.Now, pending: map[string]pending{}}
	if s.now == nil {
		s.now = time.Now
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.refresh(); err != nil {
		return nil, err
	}
	if err := s.loadChanges(); err != nil {
		s.f.Close()
		return nil, err
	}
	return s, nil
}

func statOf(fi os.FileInfo) stamp {
	st := stamp{size: fi.Size(), mtime: fi.ModTime()}
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
		st.ino = sys.Ino
	}
	return st
}

// refresh re-indexes the export when it was replaced or changed.
func (s *Store) refresh() error {
	fi, err := os.Stat(s.cfg.Path)
	if err != nil {
		return s.x.Errf("open export", "", "%w", err)
	}
	st := statOf(fi)
	if s.f != nil && st == s.stamp {
		return nil
	}
	f, err := os.Open(s.cfg.Path)
	if err != nil {
		return s.x.Errf("open export", "", "%w", err)
	}
	idx, col, n, err := s.index(f)
	if err != nil {
		f.Close()
		return s.x.Errf("index export", "", "%w", err)
	}
	if s.f != nil {
		s.f.Close()
		s.log.Info("csvstore: export changed, re-indexed", "store", s.name, "accounts", len(idx))
	}
	s.f, s.stamp, s.idx, s.col, s.nfields = f, st, idx, col, n
	return nil
}

func (s *Store) reader(r io.Reader) *csv.Reader {
	cr := csv.NewReader(r)
	cr.Comma = s.comma
	cr.ReuseRecord = true
	return cr
}

func (s *Store) index(f *os.File) ([]entry, columns, int, error) {
	r := s.reader(f)
	head, err := r.Read()
	if err != nil {
		return nil, columns{}, 0, fmt.Errorf("header: %w", err)
	}
	head = slices.Clone(head)
	if len(head) > 0 {
		head[0] = strings.TrimPrefix(head[0], "\ufeff") // spreadsheet BOM
	}
	pos := map[string]int{}
	for i, h := range head {
		pos[strings.TrimSpace(h)] = i
	}
	var errs []error
	find := func(key, name string) int {
		if name == "" {
			return -1
		}
		i, ok := pos[name]
		if !ok {
			errs = append(errs, fmt.Errorf("columns.%s: header %q not in the export", key, name))
			return -1
		}
		return i
	}
	c := s.cfg.Columns
	col := columns{
		id: find("id", c.ID), user: find("username", c.Username), pw: find("password", c.Password),
		salt: find("salt", c.Salt), nrn: find("nrn", c.NRN), name: find("name", c.Name),
		dis: find("disabled", c.Disabled), fed: find("federated", c.Federated),
	}
	if len(errs) > 0 {
		return nil, col, 0, errors.Join(errs...)
	}
	r.FieldsPerRecord = len(head)
	var idx []entry
	for {
		off := r.InputOffset()
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, col, 0, err // csv.ParseError: line and column, no content
		}
		e := entry{id: rec[col.id], off: off}
		if e.id == "" {
			line, _ := r.FieldPos(col.id)
			return nil, col, 0, fmt.Errorf("line %d: empty id", line)
		}
		if s.cfg.IDType == "integer" {
			if e.num, err = strconv.ParseInt(e.id, 10, 64); err != nil {
				line, _ := r.FieldPos(col.id)
				return nil, col, 0, fmt.Errorf("line %d: id is not an integer", line)
			}
		}
		idx = append(idx, e)
	}
	s.sortIdx(idx)
	for i := 1; i < len(idx); i++ {
		if s.cmp(idx[i-1], idx[i]) == 0 {
			return nil, col, 0, fmt.Errorf("duplicate id %s", store.SafeID(idx[i].id))
		}
	}
	return idx, col, len(head), nil
}

func (s *Store) cmp(a, b entry) int {
	if s.cfg.IDType == "integer" {
		switch {
		case a.num < b.num:
			return -1
		case a.num > b.num:
			return 1
		}
		return 0
	}
	return strings.Compare(a.id, b.id)
}

func (s *Store) sortIdx(idx []entry) { slices.SortFunc(idx, s.cmp) }

// key makes an index probe from an id; ok false when it cannot be a key.
func (s *Store) key(id string) (entry, bool) {
	if id == "" || len(id) > store.MaxValue {
		return entry{}, false
	}
	e := entry{id: id}
	if s.cfg.IDType == "integer" {
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil {
			return entry{}, false
		}
		e.num = n
	}
	return e, true
}

func (s *Store) find(id string) (entry, bool) {
	k, ok := s.key(id)
	if !ok {
		return entry{}, false
	}
	i, found := slices.BinarySearchFunc(s.idx, k, s.cmp)
	if !found {
		return entry{}, false
	}
	return s.idx[i], true
}

func (s *Store) readAt(e entry) (store.Account, error) {
	r := s.reader(io.NewSectionReader(s.f, e.off, s.stamp.size-e.off))
	r.FieldsPerRecord = s.nfields
	rec, err := r.Read()
	if err != nil {
		return store.Account{}, err
	}
	return s.account(rec), nil
}

func field(rec []string, i int) (string, bool) {
	if i < 0 {
		return "", false
	}
	return rec[i], true
}

func (s *Store) account(rec []string) store.Account {
	pw, _ := field(rec, s.col.pw)
	a := store.Account{
		ID: rec[s.col.id], Username: rec[s.col.user], Credential: pw, CredentialNull: pw == "",
		SchemeHint: s.cfg.SchemeHint,
	}
	a.Salt, _ = field(rec, s.col.salt)
	name, _ := field(rec, s.col.name)
	a.Name = strings.ToValidUTF8(name, "\uFFFD")
	if v, ok := field(rec, s.col.dis); ok && strings.TrimSpace(v) != "" {
		a.Disabled = store.Truthy(v) != s.cfg.DisabledInverted
	}
	if v, ok := field(rec, s.col.fed); ok {
		a.Federated = store.Truthy(v)
	}
	n, ok := field(rec, s.col.nrn)
	a.ResolveNRN(n, ok)
	if p, ok := s.pending[a.ID]; ok {
		if p.cred != nil {
			a.Credential, a.CredentialNull = *p.cred, false
		}
		if p.fed != nil {
			a.Federated = *p.fed
		}
	}
	// Copy out of the reused record.
	a.ID, a.Username, a.Credential, a.Salt = strings.Clone(a.ID), strings.Clone(a.Username), strings.Clone(a.Credential), strings.Clone(a.Salt)
	return a
}

// Name returns the configured store name.
func (s *Store) Name() string { return s.name }

// Capabilities: no atomic CAS (the vendor imports the changes later), no
// transactions; the federated flag when a column is mapped.
func (s *Store) Capabilities() store.Capabilities {
	return store.Capabilities{Federated: s.cfg.Columns.Federated != ""}
}

// Close closes the files.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var err error
	if s.cf != nil {
		err = s.cf.Close()
	}
	return errors.Join(s.f.Close(), err)
}

// Iterate returns up to limit accounts after the cursor in key order.
func (s *Store) Iterate(_ context.Context, after store.Cursor, limit int) ([]store.Account, store.Cursor, error) {
	if err := store.CheckLimit(limit); err != nil {
		return nil, "", s.x.Err("iterate", "", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.refresh(); err != nil {
		return nil, "", err
	}
	start := 0
	if after != "" {
		k, ok := s.key(string(after))
		if !ok {
			return nil, "", s.x.Errf("iterate", "", "cursor is not a key of this store")
		}
		i, found := slices.BinarySearchFunc(s.idx, k, s.cmp)
		if found {
			i++
		}
		start = i
	}
	end := min(start+limit, len(s.idx))
	out := make([]store.Account, 0, end-start)
	// Exports are usually sorted by id: then consecutive index entries are
	// consecutive records and one reader serves the whole page.
	var r *csv.Reader
	var base int64
	for _, e := range s.idx[start:end] {
		if r == nil || base+r.InputOffset() != e.off {
			base = e.off
			r = s.reader(io.NewSectionReader(s.f, e.off, s.stamp.size-e.off))
			r.FieldsPerRecord = s.nfields
		}
		rec, err := r.Read()
		if err != nil {
			return nil, "", s.x.Errf("iterate", e.id, "%w", err)
		}
		out = append(out, s.account(rec))
	}
	var next store.Cursor
	if len(out) == limit {
		next = store.Cursor(out[len(out)-1].ID)
	}
	return out, next, nil
}

// Get returns the account with that id.
func (s *Store) Get(_ context.Context, id string) (store.Account, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.refresh(); err != nil {
		return store.Account{}, err
	}
	return s.get("get", id)
}

func (s *Store) get(op, id string) (store.Account, error) {
	e, ok := s.find(id)
	if !ok {
		return store.Account{}, s.x.Err(op, id, store.ErrNotFound)
	}
	a, err := s.readAt(e)
	if err != nil {
		return store.Account{}, s.x.Errf(op, id, "%w", err)
	}
	return a, nil
}

// scan calls match for every account of the export, in file order.
func (s *Store) scan(op string, match func(rec []string) bool) ([]store.Account, error) {
	if err := s.refresh(); err != nil {
		return nil, err
	}
	r := s.reader(io.NewSectionReader(s.f, 0, s.stamp.size))
	if _, err := r.Read(); err != nil {
		return nil, s.x.Errf(op, "", "%w", err)
	}
	r.FieldsPerRecord = s.nfields
	out := []store.Account{}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, s.x.Errf(op, "", "%w", err)
		}
		if match(rec) {
			out = append(out, s.account(rec))
		}
	}
}

// LookupByUsername scans for the one account with that username.
func (s *Store) LookupByUsername(_ context.Context, username string) (store.Account, error) {
	const op = "lookup by username"
	if username == "" || len(username) > store.MaxValue {
		return store.Account{}, s.x.Err(op, "", store.ErrNotFound)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	as, err := s.scan(op, func(rec []string) bool { return rec[s.col.user] == username })
	switch {
	case err != nil:
		return store.Account{}, err
	case len(as) == 0:
		return store.Account{}, s.x.Err(op, "", store.ErrNotFound)
	case len(as) > 1:
		return store.Account{}, s.x.Err(op, "", store.ErrAmbiguous)
	}
	return as[0], nil
}

// LookupByNRN scans for every account of the national number (NRN column
// or username, any written form).
func (s *Store) LookupByNRN(_ context.Context, n nrn.Number) ([]store.Account, error) {
	const op = "lookup by nrn"
	if n.IsZero() {
		return nil, s.x.Errf(op, "", "no national number given")
	}
	forms := n.Forms()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.scan(op, func(rec []string) bool {
		if slices.Contains(forms, rec[s.col.user]) {
			return true
		}
		v, ok := field(rec, s.col.nrn)
		return ok && slices.Contains(forms, v)
	})
}
