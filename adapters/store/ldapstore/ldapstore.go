package ldapstore

import (
	"bytes"
	"container/heap"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"

	"github.com/overstap/overstap/adapters/store"
	"github.com/overstap/overstap/auth/nrn"
)

// Adapter is the adapter name errors start with.
const Adapter = "ldapstore"

// Store is an LDAP user store. Safe for concurrent use: operations share
// one connection (LDAP multiplexes by message id), re-dialled when lost.
type Store struct {
	name  string
	cfg   Config
	log   *slog.Logger
	x     store.Errorer
	tls   *tls.Config
	attrs []string

	mu   sync.Mutex
	conn *ldap.Conn
}

var _ store.Store = (*Store)(nil)

// Open validates cfg, connects and binds.
func Open(ctx context.Context, name string, cfg Config, logger *slog.Logger) (*Store, error) {
	x := store.Errorer{Adapter: Adapter, Store: name}
	if err := cfg.Validate(); err != nil {
		return nil, x.Err("config", "", err)
	}
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	cfg = cfg.withDefaults()
	s := &Store{name: name, cfg: cfg, log: logger, x: x}
	u, _ := url.Parse(cfg.URL)
	host, _, _ := net.SplitHostPort(u.Host)
	if host == "" {
		host = u.Host
	}
	s.tls = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12, InsecureSkipVerify: cfg.InsecureSkipVerify}
	if cfg.ServerName != "" {
		s.tls.ServerName = cfg.ServerName
	}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, x.Errf("config", "", "ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, x.Errf("config", "", "ca_file: no PEM certificates")
		}
		s.tls.RootCAs = pool
	}
	if cfg.InsecureSkipVerify {
		logger.Warn("ldapstore: TLS certificate verification is OFF (insecure_skip_verify)", "store", name)
	}
	if cfg.InsecureAllowPlain && u.Scheme == "ldap" && !cfg.StartTLS {
		logger.Warn("ldapstore: plain LDAP without TLS (insecure_allow_plain)", "store", name)
	}
	a := cfg.Attributes
	for _, v := range []string{a.ID, a.Username, a.Password, a.Salt, a.NRN, a.Name, a.Disabled, a.Federated} {
		if v != "" {
			s.attrs = append(s.attrs, v)
		}
	}
	if _, err := s.connection(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Store) dial() (*ldap.Conn, error) {
	d := &net.Dialer{Timeout: s.cfg.Timeout}
	c, err := ldap.DialURL(s.cfg.URL, ldap.DialWithDialer(d), ldap.DialWithTLSConfig(s.tls))
	if err != nil {
		return nil, err
	}
	c.SetTimeout(s.cfg.Timeout)
	if s.cfg.StartTLS {
		if err := c.StartTLS(s.tls); err != nil {
			c.Close()
			return nil, fmt.Errorf("starttls: %w", err)
		}
	}
	if err := c.Bind(s.cfg.BindDN, s.cfg.BindPassword.Value()); err != nil {
		c.Close()
		return nil, fmt.Errorf("bind: %w", err)
	}
	return c, nil
}

// connection returns the live connection, dialling when needed.
func (s *Store) connection(ctx context.Context) (*ldap.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, s.x.Err("connect", "", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != nil && !s.conn.IsClosing() {
		return s.conn, nil
	}
	c, err := s.dial()
	if err != nil {
		return nil, s.x.Errf("connect", "", "%w", err)
	}
	s.conn = c
	return c, nil
}

// dropped forgets a connection that failed at the network level.
func (s *Store) dropped(c *ldap.Conn, err error) {
	if !ldap.IsErrorWithCode(err, ldap.ErrorNetwork) {
		return
	}
	s.mu.Lock()
	if s.conn == c {
		s.conn = nil
	}
	s.mu.Unlock()
	c.Close()
}

// search runs a read, re-dialling once after a lost connection.
func (s *Store) search(ctx context.Context, req *ldap.SearchRequest) (*ldap.SearchResult, error) {
	for attempt := 0; ; attempt++ {
		c, err := s.connection(ctx)
		if err != nil {
			return nil, err
		}
		res, err := c.Search(req)
		if err != nil && ldap.IsErrorWithCode(err, ldap.ErrorNetwork) && attempt == 0 {
			s.dropped(c, err)
			continue
		}
		if err != nil {
			s.dropped(c, err)
		}
		return res, err
	}
}

func (s *Store) request(filter string, sizeLimit int, controls []ldap.Control) *ldap.SearchRequest {
	return ldap.NewSearchRequest(s.cfg.BaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, sizeLimit,
		int(s.cfg.Timeout.Seconds()), false, filter, s.attrs, controls)
}

// and combines the configured filter with a condition.
func (s *Store) and(cond string) string { return "(&" + s.cfg.Filter + cond + ")" }

func eq(attr, v string) string { return "(" + attr + "=" + ldap.EscapeFilter(v) + ")" }

func (s *Store) account(e *ldap.Entry) store.Account {
	a := s.cfg.Attributes
	raw := e.GetRawAttributeValues(a.Password)
	vals := make([]string, len(raw))
	for i, r := range raw {
		vals[i] = string(r)
	}
	acc := store.Account{
		ID:             e.GetAttributeValue(a.ID),
		Username:       e.GetAttributeValue(a.Username),
		Credential:     strings.Join(vals, "\n"),
		CredentialNull: len(raw) == 0,
		SchemeHint:     s.cfg.SchemeHint,
		Name:           strings.ToValidUTF8(e.GetAttributeValue(a.Name), "\uFFFD"),
	}
	if a.Salt != "" {
		acc.Salt = string(e.GetRawAttributeValue(a.Salt))
	}
	if a.Disabled != "" {
		if v := e.GetAttributeValue(a.Disabled); v != "" {
			acc.Disabled = store.Truthy(v) != s.cfg.DisabledInverted
		}
	}
	if a.Federated != "" {
		acc.Federated = store.Truthy(e.GetAttributeValue(a.Federated))
	}
	var n string
	if a.NRN != "" {
		n = e.GetAttributeValue(a.NRN)
	}
	acc.ResolveNRN(n, n != "")
	return acc
}

// Name returns the configured store name.
func (s *Store) Name() string { return s.name }

// Capabilities: atomic CAS (one modify); no multi-entry transactions.
func (s *Store) Capabilities() store.Capabilities {
	return store.Capabilities{AtomicCAS: true, Federated: s.cfg.Attributes.Federated != ""}
}

// Close unbinds.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != nil {
		err := s.conn.Close()
		s.conn = nil
		return err
	}
	return nil
}

// accHeap is a max-heap on ID: it keeps the limit smallest ids seen.
type accHeap []store.Account

func (h accHeap) Len() int           { return len(h) }
func (h accHeap) Less(i, j int) bool { return h[i].ID > h[j].ID }
func (h accHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *accHeap) Push(x any)        { *h = append(*h, x.(store.Account)) }
func (h *accHeap) Pop() any {
	old := *h
	v := old[len(old)-1]
	*h = old[:len(old)-1]
	return v
}

// Iterate returns up to limit accounts with id after the cursor, byte-wise
// id order, by one paged search over the base (see the package comment).
func (s *Store) Iterate(ctx context.Context, after store.Cursor, limit int) ([]store.Account, store.Cursor, error) {
	if err := store.CheckLimit(limit); err != nil {
		return nil, "", s.x.Err("iterate", "", err)
	}
	h := make(accHeap, 0, min(limit, 4096))
	paging := ldap.NewControlPaging(uint32(s.cfg.PageSize))
	idAttr := s.cfg.Attributes.ID
	skipped := 0
	for {
		if err := ctx.Err(); err != nil {
			return nil, "", s.x.Err("iterate", "", err)
		}
		res, err := s.search(ctx, s.request(s.cfg.Filter, 0, []ldap.Control{paging}))
		if err != nil {
			return nil, "", s.x.Errf("iterate", "", "%w", err)
		}
		for _, e := range res.Entries {
			id := e.GetAttributeValue(idAttr)
			if id == "" {
				skipped++
				continue
			}
			if after != "" && id <= string(after) {
				continue
			}
			if len(h) == limit {
				if id >= h[0].ID {
					continue
				}
				heap.Pop(&h)
			}
			heap.Push(&h, s.account(e))
		}
		ctrl, _ := ldap.FindControl(res.Controls, ldap.ControlTypePaging).(*ldap.ControlPaging)
		if ctrl == nil || len(ctrl.Cookie) == 0 {
			break
		}
		paging.SetCookie(ctrl.Cookie)
	}
	if skipped > 0 {
		s.log.Warn("ldapstore: entries without an id attribute skipped", "store", s.name, "attribute", idAttr, "count", skipped)
	}
	out := make([]store.Account, len(h))
	for i := len(h) - 1; i >= 0; i-- {
		out[i] = heap.Pop(&h).(store.Account)
	}
	var next store.Cursor
	if len(out) == limit {
		next = store.Cursor(out[len(out)-1].ID)
	}
	return out, next, nil
}

// find returns the one entry with that id.
func (s *Store) find(ctx context.Context, op, id string) (*ldap.Entry, error) {
	if id == "" || len(id) > store.MaxValue {
		return nil, s.x.Err(op, id, store.ErrNotFound)
	}
	res, err := s.search(ctx, s.request(s.and(eq(s.cfg.Attributes.ID, id)), 2, nil))
	if ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded) {
		return nil, s.x.Err(op, id, store.ErrAmbiguous)
	}
	if err != nil {
		return nil, s.x.Errf(op, id, "%w", err)
	}
	switch len(res.Entries) {
	case 0:
		return nil, s.x.Err(op, id, store.ErrNotFound)
	case 1:
		// Attribute matching may be case-insensitive; the id must match exactly.
		if res.Entries[0].GetAttributeValue(s.cfg.Attributes.ID) != id {
			return nil, s.x.Err(op, id, store.ErrNotFound)
		}
		return res.Entries[0], nil
	}
	return nil, s.x.Err(op, id, store.ErrAmbiguous)
}

// Get returns the account with that id.
func (s *Store) Get(ctx context.Context, id string) (store.Account, error) {
	e, err := s.find(ctx, "get", id)
	if err != nil {
		return store.Account{}, err
	}
	return s.account(e), nil
}

// LookupByUsername returns the one account with that username.
func (s *Store) LookupByUsername(ctx context.Context, username string) (store.Account, error) {
	const op = "lookup by username"
	if username == "" || len(username) > store.MaxValue {
		return store.Account{}, s.x.Err(op, "", store.ErrNotFound)
	}
	res, err := s.search(ctx, s.request(s.and(eq(s.cfg.Attributes.Username, username)), 2, nil))
	if ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded) {
		return store.Account{}, s.x.Err(op, "", store.ErrAmbiguous)
	}
	if err != nil {
		return store.Account{}, s.x.Errf(op, "", "%w", err)
	}
	switch len(res.Entries) {
	case 0:
		return store.Account{}, s.x.Err(op, "", store.ErrNotFound)
	case 1:
		return s.account(res.Entries[0]), nil
	}
	return store.Account{}, s.x.Err(op, "", store.ErrAmbiguous)
}

// maxLookup bounds the accounts one national number may return.
const maxLookup = 1000

// LookupByNRN returns every account of the number: NRN attribute or
// username in any written form.
func (s *Store) LookupByNRN(ctx context.Context, n nrn.Number) ([]store.Account, error) {
	const op = "lookup by nrn"
	if n.IsZero() {
		return nil, s.x.Errf(op, "", "no national number given")
	}
	var b strings.Builder
	b.WriteString("(|")
	for _, f := range n.Forms() {
		b.WriteString(eq(s.cfg.Attributes.Username, f))
		if s.cfg.Attributes.NRN != "" {
			b.WriteString(eq(s.cfg.Attributes.NRN, f))
		}
	}
	b.WriteString(")")
	res, err := s.search(ctx, s.request(s.and(b.String()), maxLookup, nil))
	if err != nil && !ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded) {
		return nil, s.x.Errf(op, "", "%w", err)
	}
	out := []store.Account{}
	if res != nil {
		for _, e := range res.Entries {
			out = append(out, s.account(e))
		}
	}
	return out, nil
}

// assertion is the LDAP assertion control (RFC 4528): the operation only
// applies when the entry matches the filter.
type assertion struct{ filter string }

func (a assertion) GetControlType() string { return "1.3.6.1.1.12" }

func (a assertion) Encode() *ber.Packet {
	p := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "Control")
	p.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, a.GetControlType(), "Control Type (Assertion)"))
	p.AppendChild(ber.NewBoolean(ber.ClassUniversal, ber.TypePrimitive, ber.TagBoolean, true, "Criticality"))
	v := ber.Encode(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, nil, "Control Value (Assertion)")
	f, err := ldap.CompileFilter(a.filter)
	if err == nil {
		v.AppendChild(f)
	}
	p.AppendChild(v)
	return p
}

func (a assertion) String() string { return "Assertion " + a.filter }

// swap runs one compare-and-swap as one modify.
func (s *Store) swap(ctx context.Context, sw store.Swap) error {
	if err := sw.Check(); err != nil {
		return err
	}
	e, err := s.find(ctx, "compare-and-swap", sw.ID)
	if err != nil {
		var se *store.Error
		if errors.As(err, &se) {
			return se.Err
		}
		return err
	}
	pw := s.cfg.Attributes.Password
	// Every current value must be listed: deleting one of two passwords
	// would leave the other usable. (A value added between this read and
	// the modify survives; the modify itself still refuses a changed list.)
	if cur := s.account(e); cur.CredentialNull != sw.OldNull || cur.Credential != sw.Old {
		return store.ErrConflict
	}
	raw := e.GetRawAttributeValues(pw)
	old := make([]string, len(raw))
	for i, r := range raw {
		if bytes.IndexByte(r, '\n') >= 0 {
			return errLineFeed
		}
		old[i] = string(r)
	}
	var req *ldap.ModifyRequest
	if sw.OldNull {
		req = ldap.NewModifyRequest(e.DN, []ldap.Control{assertion{filter: "(!(" + pw + "=*))"}})
	} else {
		req = ldap.NewModifyRequest(e.DN, nil)
		req.Delete(pw, old)
	}
	// A new value holds a line feed only when it gives back the values of
	// an entry that had several (no single value with one is ever swapped
	// away): each line is one value again.
	req.Add(pw, strings.Split(sw.New, "\n"))
	c, err := s.connection(ctx)
	if err != nil {
		return err
	}
	err = c.Modify(req)
	switch {
	case err == nil:
		return nil
	case ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchAttribute),
		ldap.IsErrorWithCode(err, ldap.LDAPResultAssertionFailed),
		ldap.IsErrorWithCode(err, ldap.LDAPResultAttributeOrValueExists):
		return store.ErrConflict
	case ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject):
		return store.ErrNotFound
	}
	s.dropped(c, err)
	return err
}

// errLineFeed refuses to swap away a password value holding a line feed:
// several values are carried joined by line feeds, so such a value could
// not be given back exactly by a rollback. The account is listed, the
// batch goes on.
var errLineFeed = errors.New("a password value contains a line feed (0x0A), which this adapter uses to join several values: it could not be restored exactly, so it is left unchanged; change it by hand")

// CompareAndSwap replaces the password if it still equals s.Old.
func (s *Store) CompareAndSwap(ctx context.Context, sw store.Swap) error {
	return s.x.Err("compare-and-swap", sw.ID, s.swap(ctx, sw))
}

// SwapBatch applies the swaps one by one (each atomic; the batch is not a
// transaction). A network failure stops the batch: the swaps before it are
// reported, the rest is not attempted, and the error is returned.
func (s *Store) SwapBatch(ctx context.Context, swaps []store.Swap) ([]error, error) {
	results := make([]error, len(swaps))
	for i, sw := range swaps {
		err := s.swap(ctx, sw)
		if err != nil && !errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrNotFound) && !errors.Is(err, errLineFeed) {
			return nil, s.x.Errf("swap batch", sw.ID, "stopped after %d of %d swaps (those are applied): %w", i, len(swaps), err)
		}
		results[i] = s.x.Err("compare-and-swap", sw.ID, err)
	}
	return results, nil
}

// SetFederated replaces the mapped flag attribute with TRUE or FALSE.
func (s *Store) SetFederated(ctx context.Context, id string, federated bool) error {
	const op = "set federated"
	if s.cfg.Attributes.Federated == "" {
		return s.x.Err(op, id, store.ErrUnsupported)
	}
	e, err := s.find(ctx, op, id)
	if err != nil {
		return err
	}
	v := "FALSE"
	if federated {
		v = "TRUE"
	}
	req := ldap.NewModifyRequest(e.DN, nil)
	req.Replace(s.cfg.Attributes.Federated, []string{v})
	c, err := s.connection(ctx)
	if err != nil {
		return err
	}
	if err := c.Modify(req); err != nil {
		s.dropped(c, err)
		if ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
			return s.x.Err(op, id, store.ErrNotFound)
		}
		return s.x.Errf(op, id, "%w", err)
	}
	return nil
}
