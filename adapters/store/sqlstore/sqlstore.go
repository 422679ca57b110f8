package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2" // retry jitter only, not a secret
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	_ "github.com/go-sql-driver/mysql" // MySQL/MariaDB driver "mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL driver "pgx"
	_ "modernc.org/sqlite"             // SQLite driver "sqlite"

	"github.com/overstap/overstap/adapters/store"
	"github.com/overstap/overstap/auth/nrn"
)

// Adapter is the adapter name errors start with.
const Adapter = "sqlstore"

// maxLookup bounds how many accounts one national number may return.
const maxLookup = 1000

// maxBatch bounds one SwapBatch.
const maxBatch = 10_000

// Store is a SQL user store. It is safe for concurrent use.
type Store struct {
	name  string
	cfg   Config
	d     dialect
	db    *sql.DB
	log   *slog.Logger
	x     store.Errorer
	intID bool
	// nrnInt is true when the NRN column is an integer column (leading
	// zeros lost: 2000s births are left-padded back to 11 digits).
	nrnInt bool
	// pwBinary: the password column holds bytes (bytea, BLOB).
	pwBinary bool
	// fedType is the federated column's kind: the flag is sent as a bool,
	// an integer or the text "1"/"0" (fedArg).
	fedType fedType
	fargs   []any // bound values of the filter, in order
	custom  bool  // reads are custom queries
	customW bool  // writes are custom queries
	// byNRNArgs is 4 or 8: how many written forms a custom by_nrn query
	// takes (8 = the four forms twice, for dialects without numbered
	// placeholders).
	byNRNArgs int
	st        stmts
	// filt is the parsed filter (nil when none), for statements built per
	// call (multi-row swaps).
	filt *filter
	// multi is set when SwapBatch can use multi-row statements.
	multi *multi
	// rowBatches counts SwapBatch calls that ran row by row although
	// multi-row statements were available (tests).
	rowBatches atomic.Int64
}

type stmts struct {
	first, after, get, byUser, byNRN *sql.Stmt
	cas, casNull, current, setFed    *sql.Stmt
}

var _ store.Store = (*Store)(nil)

// Open validates cfg, connects, checks the mapping against the table and
// prepares the statements. logger may be nil.
func Open(ctx context.Context, name string, cfg Config, logger *slog.Logger) (*Store, error) {
	x := store.Errorer{Adapter: Adapter, Store: name}
	if err := cfg.Validate(); err != nil {
		return nil, x.Err("config", "", err)
	}
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	d, _ := dialectFor(cfg.Driver)
	dsn, err := d.prepareDSN(cfg.DSN.Value())
	if err != nil {
		return nil, x.Err("open", "", errors.New("dsn: cannot be parsed")) // the DSN may hold a password: not shown
	}
	db, err := sql.Open(d.driver, dsn)
	if err != nil {
		return nil, x.Errf("open", "", "%s: %w", d.name, err)
	}
	n := cfg.MaxOpenConns
	if n == 0 {
		n = 4
	}
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	s := &Store{name: name, cfg: cfg, d: d, db: db, log: logger, x: x, custom: cfg.customReads(), customW: cfg.customWrites()}
	if err := s.init(ctx); err != nil {
		db.Close()
		return nil, err
	}
	logger.Debug("sqlstore: opened", "store", name, "dialect", d.name, "integer_ids", s.intID)
	return s, nil
}

func (s *Store) init(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return s.x.Errf("connect", "", "%w", err)
	}
	s.intID = s.cfg.IDType == "integer"
	if s.cfg.needsTable() {
		if err := s.probe(ctx); err != nil {
			return err
		}
	}
	if err := s.prepare(ctx); err != nil {
		return err
	}
	return s.initMulti(ctx)
}

// fedType is how a federated column stores its flag.
type fedType uint8

const (
	fedBool fedType = iota
	fedInt
	fedText
)

// fedArg converts the flag to the federated column's type.
func (s *Store) fedArg(b bool) any {
	switch s.fedType {
	case fedInt:
		if b {
			return int64(1)
		}
		return int64(0)
	case fedText:
		if b {
			return "1"
		}
		return "0"
	}
	return b
}

// builder numbers placeholders in text order.
type builder struct {
	d dialect
	n int
}

func (b *builder) ph() string { b.n++; return b.d.ph(b.n) }

// Name returns the configured store name.
func (s *Store) Name() string { return s.name }

// Capabilities: atomic CAS and transactional batches; the federated flag
// when mapped.
func (s *Store) Capabilities() store.Capabilities {
	return store.Capabilities{AtomicCAS: true, Transactions: true, Federated: s.st.setFed != nil}
}

// MultiRowSwaps reports whether SwapBatch changes a batch with multi-row
// statements (not with custom write queries, which run one row at a time).
func (s *Store) MultiRowSwaps() bool { return s.multi != nil }

// Close closes the statements and the pool.
func (s *Store) Close() error {
	s.closeStmts()
	return s.db.Close()
}

// idArg converts an account id (or cursor) to the key's type; ok is false
// when it cannot be a key of this store.
func (s *Store) idArg(id string) (any, bool) {
	if id == "" || len(id) > store.MaxValue {
		return nil, false
	}
	if !s.intID {
		return id, true
	}
	v, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return nil, false
	}
	return v, true
}

func (s *Store) args(pre []any, post ...any) []any {
	out := make([]any, 0, len(pre)+len(s.fargs)+len(post))
	out = append(out, pre...)
	out = append(out, s.fargs...)
	return append(out, post...)
}

// writeArgs is args for write statements (custom writes take no filter).
// credArg is a credential as a statement argument: bytes for a binary
// password column (bytea, BLOB), so no driver or server treats them as
// text in some encoding; the string otherwise.
func (s *Store) credArg(v string) any {
	if s.pwBinary {
		return bytesOf(v)
	}
	return v
}

// bytesOf copies v into a non-nil slice: a nil []byte would be sent as
// NULL, and an empty credential is not NULL.
func bytesOf(v string) []byte {
	b := make([]byte, len(v))
	copy(b, v)
	return b
}

func (s *Store) writeArgs(pre ...any) []any {
	if s.customW {
		return pre
	}
	return append(pre, s.fargs...)
}

// readArgs is args for read statements (custom reads take no filter).
func (s *Store) readArgs(pre []any, post ...any) []any {
	if s.custom {
		return append(pre, post...)
	}
	return s.args(pre, post...)
}

// Iterate returns up to limit accounts after the cursor in key order.
func (s *Store) Iterate(ctx context.Context, after store.Cursor, limit int) ([]store.Account, store.Cursor, error) {
	if err := store.CheckLimit(limit); err != nil {
		return nil, "", s.x.Err("iterate", "", err)
	}
	var rows *sql.Rows
	var err error
	if after == "" {
		rows, err = s.st.first.QueryContext(ctx, s.readArgs(nil, limit)...)
	} else {
		key, ok := s.idArg(string(after))
		if !ok {
			return nil, "", s.x.Errf("iterate", "", "cursor is not a key of this store")
		}
		rows, err = s.st.after.QueryContext(ctx, s.readArgs([]any{key}, limit)...)
	}
	if err != nil {
		return nil, "", s.x.Errf("iterate", "", "after cursor: %w", err)
	}
	out, err := s.scanAll(rows, limit)
	if err != nil {
		return nil, "", s.x.Errf("iterate", "", "%w", err)
	}
	var next store.Cursor
	if len(out) == limit {
		next = store.Cursor(out[len(out)-1].ID)
	}
	return out, next, nil
}

func (s *Store) scanAll(rows *sql.Rows, max int) ([]store.Account, error) {
	defer rows.Close()
	// Room for a page up front: growing a slice of Account structs page
	// after page was a third of the cost of reading them.
	out := make([]store.Account, 0, min(max, 4096))
	var v [8]sql.NullString
	for rows.Next() {
		if len(out) >= max {
			return out, errTooMany
		}
		if err := rows.Scan(&v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]); err != nil {
			return nil, err
		}
		out = append(out, s.account(v))
	}
	return out, rows.Err()
}

var errTooMany = errors.New("too many rows")

func (s *Store) account(v [8]sql.NullString) store.Account {
	a := store.Account{
		ID:             v[0].String,
		Username:       v[1].String,
		Credential:     v[2].String,
		CredentialNull: !v[2].Valid,
		Salt:           v[3].String,
		SchemeHint:     s.cfg.SchemeHint,
		Name:           strings.ToValidUTF8(v[5].String, "\uFFFD"),
		Federated:      v[7].Valid && store.Truthy(v[7].String),
	}
	if v[6].Valid {
		a.Disabled = store.Truthy(v[6].String) != s.cfg.DisabledInverted
	}
	col := v[4].String
	if s.nrnInt && len(col) < 11 && len(col) >= 8 {
		col = strings.Repeat("0", 11-len(col)) + col
	}
	a.ResolveNRN(col, v[4].Valid)
	return a
}

// Get returns the account with that id.
func (s *Store) Get(ctx context.Context, id string) (store.Account, error) {
	key, ok := s.idArg(id)
	if !ok {
		return store.Account{}, s.x.Err("get", id, store.ErrNotFound)
	}
	rows, err := s.st.get.QueryContext(ctx, s.readArgs([]any{key})...)
	if err != nil {
		return store.Account{}, s.x.Errf("get", id, "%w", err)
	}
	as, err := s.scanAll(rows, 1)
	switch {
	case errors.Is(err, errTooMany):
		return store.Account{}, s.x.Errf("get", id, "id is not unique: %w", store.ErrAmbiguous)
	case err != nil:
		return store.Account{}, s.x.Errf("get", id, "%w", err)
	case len(as) == 0:
		return store.Account{}, s.x.Err("get", id, store.ErrNotFound)
	}
	return as[0], nil
}

// LookupByUsername returns the one account with that username.
func (s *Store) LookupByUsername(ctx context.Context, username string) (store.Account, error) {
	if username == "" || len(username) > store.MaxValue {
		return store.Account{}, s.x.Err("lookup by username", "", store.ErrNotFound)
	}
	rows, err := s.st.byUser.QueryContext(ctx, s.readArgs([]any{username})...)
	if err != nil {
		return store.Account{}, s.x.Errf("lookup by username", "", "%w", err)
	}
	as, err := s.scanAll(rows, 2)
	switch {
	case err != nil:
		return store.Account{}, s.x.Errf("lookup by username", "", "%w", err)
	case len(as) == 0:
		return store.Account{}, s.x.Err("lookup by username", "", store.ErrNotFound)
	case len(as) > 1:
		return store.Account{}, s.x.Err("lookup by username", "", store.ErrAmbiguous)
	}
	return as[0], nil
}

// LookupByNRN returns every account of the national number: NRN column or
// username in any written form.
func (s *Store) LookupByNRN(ctx context.Context, n nrn.Number) ([]store.Account, error) {
	if n.IsZero() {
		return nil, s.x.Errf("lookup by nrn", "", "no national number given")
	}
	forms := n.Forms()
	args := []any{forms[0], forms[1], forms[2], forms[3]}
	if s.custom && s.byNRNArgs == 8 {
		args = append(args, args...)
	}
	if !s.custom && s.cfg.Columns.NRN != "" {
		if s.nrnInt {
			v, _ := strconv.ParseInt(n.Digits(), 10, 64)
			args = append(args, v)
		} else {
			args = append(args, forms[0], forms[1], forms[2], forms[3])
		}
	}
	rows, err := s.st.byNRN.QueryContext(ctx, s.readArgs(args)...)
	if err != nil {
		return nil, s.x.Errf("lookup by nrn", "", "%w", err)
	}
	as, err := s.scanAll(rows, maxLookup)
	if errors.Is(err, errTooMany) {
		s.log.Warn("sqlstore: national number matches too many accounts", "store", s.name, "nrn", n.Mask(), "returned", maxLookup)
		err = nil
	}
	if err != nil {
		return nil, s.x.Errf("lookup by nrn", "", "%w", err)
	}
	return as, nil
}

// CompareAndSwap sets the credential if it still equals s.Old.
func (s *Store) CompareAndSwap(ctx context.Context, sw store.Swap) error {
	if err := sw.Check(); err != nil {
		return s.x.Err("compare-and-swap", sw.ID, err)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.x.Errf("compare-and-swap", sw.ID, "begin: %w", err)
	}
	defer tx.Rollback()
	if err := s.swapIn(ctx, tx, sw); err != nil {
		return s.x.Err("compare-and-swap", sw.ID, err)
	}
	if err := tx.Commit(); err != nil {
		return s.x.Errf("compare-and-swap", sw.ID, "commit: %w", err)
	}
	return nil
}

// errNotUnique: an UPDATE by id matched more than one row; the transaction
// is rolled back.
var errNotUnique = errors.New("id matches more than one row; rolled back")

// swapIn runs one swap inside tx: nil, store.ErrConflict, store.ErrNotFound
// or another (fatal for the transaction) error.
func (s *Store) swapIn(ctx context.Context, tx *sql.Tx, sw store.Swap) error {
	key, ok := s.idArg(sw.ID)
	if !ok {
		return store.ErrNotFound
	}
	var res sql.Result
	var err error
	if sw.OldNull {
		res, err = tx.StmtContext(ctx, s.st.casNull).ExecContext(ctx, s.writeArgs(s.credArg(sw.New), key)...)
	} else {
		res, err = tx.StmtContext(ctx, s.st.cas).ExecContext(ctx, s.writeArgs(s.credArg(sw.New), key, s.credArg(sw.Old))...)
	}
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	switch {
	case n == 1:
		return nil
	case n > 1:
		return errNotUnique
	}
	var cur sql.NullString
	err = tx.StmtContext(ctx, s.st.current).QueryRowContext(ctx, s.writeArgs(key)...).Scan(&cur)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.ErrNotFound
	case err != nil:
		return err
	}
	return store.ErrConflict
}

// isVerdict reports whether err is a per-swap outcome rather than a
// failure of the transaction.
func isVerdict(err error) bool {
	return err == nil || errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound)
}

// SwapBatch applies the swaps in one transaction.
func (s *Store) SwapBatch(ctx context.Context, swaps []store.Swap) ([]error, error) {
	if len(swaps) > maxBatch {
		return nil, s.x.Errf("swap batch", "", "%d swaps, at most %d", len(swaps), maxBatch)
	}
	results := make([]error, len(swaps))
	if len(swaps) == 0 {
		return results, nil
	}
	for _, sw := range swaps {
		if err := sw.Check(); err != nil {
			return nil, s.x.Err("swap batch", sw.ID, err)
		}
	}
	if s.multi != nil {
		res, err := s.swapBatchMulti(ctx, swaps)
		if !errors.Is(err, errFallback) {
			return res, err
		}
		s.rowBatches.Add(1)
	}
	return s.swapBatchRows(ctx, swaps)
}

// swapBatchRows is the per-row SwapBatch: one conditional UPDATE a swap.
func (s *Store) swapBatchRows(ctx context.Context, swaps []store.Swap) ([]error, error) {
	results := make([]error, len(swaps))
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, s.x.Errf("swap batch", "", "begin: %w", err)
	}
	defer tx.Rollback()
	for i, sw := range swaps {
		err := s.swapIn(ctx, tx, sw)
		if !isVerdict(err) {
			return nil, s.x.Errf("swap batch", sw.ID, "rolled back: %w", err)
		}
		results[i] = s.x.Err("compare-and-swap", sw.ID, err)
	}
	if err := tx.Commit(); err != nil {
		return nil, s.x.Errf("swap batch", "", "commit: %w", err)
	}
	return results, nil
}

// maxSwapAttempts bounds the tries of a batch the database aborts to break
// a deadlock or a serialization conflict (busy rows under concurrent
// writers; nothing of an aborted try was written).
const maxSwapAttempts = 8

// swapBatchMulti is SwapBatch with multi-row statements (multiswap.go) in
// one transaction. errFallback (unwrapped) asks for the per-row path:
// nothing was written.
func (s *Store) swapBatchMulti(ctx context.Context, swaps []store.Swap) ([]error, error) {
	results := make([]error, len(swaps))
	keys := make([]any, 0, len(swaps))
	var todo []store.Swap
	var pos []int
	seen := make(map[string]bool, len(swaps))
	for i, sw := range swaps {
		key, ok := s.idArg(sw.ID)
		if !ok {
			results[i] = s.x.Err("compare-and-swap", sw.ID, store.ErrNotFound)
			continue
		}
		k := keyString(key)
		if seen[k] {
			return nil, errFallback // two swaps of one account: in order, row by row
		}
		seen[k] = true
		keys = append(keys, key)
		todo = append(todo, sw)
		pos = append(pos, i)
	}
	if len(todo) == 0 {
		return results, nil
	}
	var verdicts []error
	for attempt := 1; ; attempt++ {
		var err error
		verdicts, err = s.multiTx(ctx, todo, keys)
		if err == nil {
			break
		}
		if errors.Is(err, errFallback) {
			return nil, errFallback
		}
		if attempt < maxSwapAttempts && retryable(err) && ctx.Err() == nil {
			s.log.Debug("sqlstore: swap batch aborted by the database, retried", "store", s.name, "attempt", attempt, "err", err)
			// A short random pause, growing with the attempt, so that the
			// batches the database aborted do not collide again at once.
			pause := time.Duration(attempt) * (time.Millisecond + time.Duration(rand.Int64N(int64(10*time.Millisecond))))
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(pause):
			}
			continue
		}
		return nil, err
	}
	for j, v := range verdicts {
		results[pos[j]] = s.x.Err("compare-and-swap", todo[j].ID, v)
	}
	return results, nil
}

// multiTx runs the multi-row swaps in one transaction.
func (s *Store) multiTx(ctx context.Context, swaps []store.Swap, keys []any) ([]error, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, s.x.Errf("swap batch", "", "begin: %w", err)
	}
	defer tx.Rollback()
	verdicts, err := s.multiSwap(ctx, tx, swaps, keys)
	switch {
	case errors.Is(err, errFallback):
		return nil, errFallback
	case err != nil:
		return nil, s.x.Errf("swap batch", "", "rolled back: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, s.x.Errf("swap batch", "", "commit: %w", err)
	}
	return verdicts, nil
}

// SetFederated sets the mapped federated flag.
func (s *Store) SetFederated(ctx context.Context, id string, federated bool) error {
	if s.st.setFed == nil {
		return s.x.Err("set federated", id, store.ErrUnsupported)
	}
	key, ok := s.idArg(id)
	if !ok {
		return s.x.Err("set federated", id, store.ErrNotFound)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.x.Errf("set federated", id, "begin: %w", err)
	}
	defer tx.Rollback()
	var flag any = federated
	if s.cfg.Queries.SetFederated == "" {
		flag = s.fedArg(federated)
	}
	args := []any{flag, key}
	if s.cfg.Queries.SetFederated == "" {
		args = append(args, s.fargs...)
	}
	res, err := tx.StmtContext(ctx, s.st.setFed).ExecContext(ctx, args...)
	if err != nil {
		return s.x.Errf("set federated", id, "%w", err)
	}
	n, err := res.RowsAffected()
	switch {
	case err != nil:
		return s.x.Errf("set federated", id, "%w", err)
	case n == 0:
		return s.x.Err("set federated", id, store.ErrNotFound)
	case n > 1:
		return s.x.Err("set federated", id, errNotUnique)
	}
	if err := tx.Commit(); err != nil {
		return s.x.Errf("set federated", id, "commit: %w", err)
	}
	return nil
}

// Count returns how many accounts the store holds (the table's rows
// matching the filter): the migration's progress shows it as the total up
// front. With custom read queries it is unknown (store.ErrUnsupported).
func (s *Store) Count(ctx context.Context) (int64, error) {
	if s.custom {
		return 0, s.x.Err("count", "", store.ErrUnsupported)
	}
	b := &builder{d: s.d}
	fsql, fargs := s.filterClause(b)
	var n int64
	if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+s.d.quote(s.cfg.Table)+" WHERE 1=1"+fsql, fargs...).Scan(&n); err != nil {
		return 0, s.x.Err("count", "", err)
	}
	return n, nil
}
