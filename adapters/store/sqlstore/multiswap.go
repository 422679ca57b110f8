package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/overstap/overstap/adapters/store"
)

// Multi-row compare-and-swap. SwapBatch changes a batch with one statement
// per chunk instead of one UPDATE per row, the old-value check staying in
// the statement's WHERE clause:
//
//   - PostgreSQL: UPDATE t SET pw = v.new FROM unnest($1::idtype[],
//     $2::pwtype[], $3::pwtype[]) v(id, old, new) WHERE t.id = ANY($1)
//     AND t.id = v.id AND t.pw IS NOT DISTINCT FROM v.old RETURNING t.id:
//     one statement text whatever the chunk size, the columns' own types
//     without a length (a value is never truncated), the key array leading
//     the planner to the key index.
//   - SQLite (3.35+): the same with UPDATE ... FROM (SELECT column1 ...
//     FROM (VALUES ...)) and t.pw IS v.old ... RETURNING.
//   - MySQL/MariaDB (no UPDATE ... RETURNING): SELECT id, pw ... WHERE id
//     IN (...) FOR UPDATE locks the rows and says which still hold the old
//     value; one UPDATE ... SET pw = CASE id WHEN ... END WHERE id IN (...)
//     AND CAST(pw AS BINARY) <=> CASE id WHEN ... END changes them, and its
//     row count must equal the number expected (else the batch is rolled
//     back).
//
// Swaps the statement did not change are told apart with one SELECT of
// their ids (present: ErrConflict; absent: ErrNotFound). A batch with two
// swaps of one key, custom write queries, or anything the statement cannot
// map back exactly falls back to the per-row compare-and-swap.

// Parameter limits per statement: PostgreSQL's and MySQL's protocols count
// parameters in 16 bits; SQLite's SQLITE_MAX_VARIABLE_NUMBER is 32766
// since 3.32.
const (
	pgMaxParams     = 65535
	mysqlMaxParams  = 65535
	sqliteMaxParams = 32766
	// multiMaxRows bounds the rows of one statement (statement size and,
	// for MySQL's CASE, the quadratic evaluation).
	multiMaxRows     = 1000
	mysqlMultiMaxRow = 500
)

// multi holds what the multi-row statements need; nil on Store when the
// per-row path must be used.
type multi struct {
	// PostgreSQL casts of the VALUES columns: the id and password columns'
	// own types, without a length (so a value is never truncated).
	pgIDType, pgPwType string
}

// maxParams is the driver's parameter limit.
func (d dialect) maxParams() int {
	switch d.name {
	case "postgres":
		return pgMaxParams
	case "mysql":
		return mysqlMaxParams
	}
	return sqliteMaxParams
}

// multiRows is how many swaps one multi-row statement takes: bounded by
// the parameter limit (perRow parameters a swap, plus the filter's).
func (s *Store) multiRows() int {
	perRow, limit := 3, multiMaxRows // VALUES (id, old, new); PostgreSQL: three arrays
	switch s.d.name {
	case "postgres":
		return limit
	case "mysql":
		perRow, limit = 5, mysqlMultiMaxRow // id list twice, CASE pairs twice (id + value)
	}
	n := (s.d.maxParams() - len(s.fargs) - 1) / perRow // 1: PostgreSQL's key array
	return max(1, min(n, limit))
}

// initMulti decides whether the multi-row path is available and learns the
// PostgreSQL column types.
func (s *Store) initMulti(ctx context.Context) error {
	if s.customW {
		return nil // custom statements are opaque: per row
	}
	m := &multi{}
	if s.d.name == "postgres" {
		var err error
		m.pgIDType, err = s.pgType(ctx, s.cfg.Columns.ID)
		if err == nil {
			m.pgPwType, err = s.pgType(ctx, s.cfg.Columns.Password)
		}
		if err != nil {
			s.log.Warn("sqlstore: column types unknown, compare-and-swap one row at a time", "store", s.name, "err", err)
			return nil
		}
	}
	s.multi = m
	return nil
}

// pgType returns the schema-qualified type name of a column of the table,
// without length or precision: "pg_catalog"."int8", "pg_catalog"."varchar".
func (s *Store) pgType(ctx context.Context, col string) (string, error) {
	var nsp, typ string
	err := s.db.QueryRowContext(ctx, `SELECT n.nspname, t.typname FROM pg_attribute a
		JOIN pg_type t ON t.oid = a.atttypid JOIN pg_namespace n ON n.oid = t.typnamespace
		WHERE a.attrelid = $1::regclass AND a.attname = $2 AND NOT a.attisdropped`, s.d.quote(s.cfg.Table), col).Scan(&nsp, &typ)
	if err != nil {
		return "", fmt.Errorf("type of column %q: %w", col, err)
	}
	if !validIdent(nsp, false) || !validIdent(typ, false) {
		return "", fmt.Errorf("type of column %q: unusual type name", col)
	}
	return s.d.quote(nsp + "." + typ), nil
}

// keyString is the canonical text of a converted key, to map rows the
// database returns back to swaps.
func keyString(k any) string {
	if v, ok := k.(int64); ok {
		return strconv.FormatInt(v, 10)
	}
	return k.(string)
}

// errFallback: the multi-row statement cannot tell every outcome exactly;
// the batch is redone row by row.
var errFallback = errors.New("multi-row swap: fall back to per-row")

// multiSwap runs the swaps (all with valid, distinct keys) in tx, chunk by
// chunk; verdicts[i] is nil, ErrConflict or ErrNotFound. Another error is
// fatal for the transaction (errFallback: redo the batch row by row).
func (s *Store) multiSwap(ctx context.Context, tx *sql.Tx, swaps []store.Swap, keys []any) ([]error, error) {
	verdicts := make([]error, len(swaps))
	size := s.multiRows()
	for lo := 0; lo < len(swaps); lo += size {
		hi := min(lo+size, len(swaps))
		var err error
		if s.d.name == "mysql" {
			err = s.mysqlChunk(ctx, tx, swaps[lo:hi], keys[lo:hi], verdicts[lo:hi])
		} else {
			err = s.returningChunk(ctx, tx, swaps[lo:hi], keys[lo:hi], verdicts[lo:hi])
		}
		if err != nil {
			return nil, err
		}
	}
	return verdicts, nil
}

// oldArg returns the swap's old value as a parameter (nil for NULL).
func (s *Store) oldArg(sw store.Swap) any {
	if sw.OldNull {
		return nil
	}
	return s.credArg(sw.Old)
}

// filterClause renders " AND (filter)" with the builder's next
// placeholders, and its arguments (not touching s.fargs: SwapBatch runs
// concurrently).
func (s *Store) filterClause(b *builder) (string, []any) {
	sqlf, args := s.filt.render(s.d, b.ph)
	if sqlf == "" {
		return "", nil
	}
	return " AND (" + sqlf + ")", args
}

// returningChunk: PostgreSQL and SQLite, UPDATE ... FROM (VALUES ...)
// RETURNING the changed ids.
func (s *Store) returningChunk(ctx context.Context, tx *sql.Tx, swaps []store.Swap, keys []any, verdicts []error) error {
	c := s.cfg.Columns
	t := s.d.quote(s.cfg.Table)
	pw, id := s.d.quote(c.Password), s.d.quote(c.ID)
	// The rows go in key order, as the key index returns them:
	// whichever side of the join drives, rows are locked in key order, so
	// two batches over the same rows do not deadlock (should a plan do it
	// anyway, the database aborts one and SwapBatch retries it).
	order := make([]int, len(swaps))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmpKey(keys[a], keys[b]) })
	b := &builder{d: s.d}
	args := make([]any, 0, 3*len(swaps)+len(s.fargs))
	var q strings.Builder
	q.Grow(64 + 40*len(swaps))
	q.WriteString("UPDATE " + t + " AS ovs_t SET " + pw + " = v.ovs_new FROM ")
	if s.d.name == "postgres" {
		// Three arrays, whatever the chunk size: one statement text, which
		// pgx prepares once per connection and the server plans cheaply
		// (a VALUES list of as many parameters costs milliseconds to parse
		// and plan, and a prepared statement per size would fill both
		// caches). The key array, sorted, also leads the planner to the
		// key index rather than a hash join over a scan of the table.
		sortedKeys := make([]any, len(order))
		olds := make([]*string, len(order))
		news := make([]string, len(order))
		for i, j := range order {
			sortedKeys[i] = keys[j]
			if !swaps[j].OldNull {
				olds[i] = &swaps[j].Old
			}
			news[i] = swaps[j].New
		}
		kt, pt := s.multi.pgIDType+"[]", s.multi.pgPwType+"[]"
		ka := b.ph()
		q.WriteString("unnest(" + ka + "::" + kt + ", " + b.ph() + "::" + pt + ", " + b.ph() + "::" + pt + ") AS v(ovs_id, ovs_old, ovs_new)" +
			" WHERE ovs_t." + id + " = ANY(" + ka + "::" + kt + ") AND ovs_t." + id + " = v.ovs_id AND ovs_t." + pw + " IS NOT DISTINCT FROM v.ovs_old")
		if s.pwBinary {
			// bytea[] from text[] would read backslashes as escapes: send
			// the bytes themselves.
			oldB, newB := make([][]byte, len(order)), make([][]byte, len(order))
			for i := range order {
				if olds[i] != nil {
					oldB[i] = bytesOf(*olds[i])
				}
				newB[i] = bytesOf(news[i])
			}
			args = append(args, s.pgKeyArray(sortedKeys), oldB, newB)
		} else {
			args = append(args, s.pgKeyArray(sortedKeys), olds, news)
		}
	} else {
		q.WriteString("(SELECT column1 AS ovs_id, column2 AS ovs_old, column3 AS ovs_new FROM (VALUES ")
		for i, j := range order {
			if i > 0 {
				q.WriteByte(',')
			}
			q.WriteString("(" + b.ph() + "," + b.ph() + "," + b.ph() + ")")
			args = append(args, keys[j], s.oldArg(swaps[j]), s.credArg(swaps[j].New))
		}
		q.WriteString(")) AS v WHERE ovs_t." + id + " = v.ovs_id AND ovs_t." + pw + " IS v.ovs_old")
	}
	fsql, fargs := s.filterClause(b)
	q.WriteString(fsql)
	args = append(args, fargs...)
	q.WriteString(" RETURNING " + id) // unqualified: SQLite refuses the alias here
	rows, err := tx.QueryContext(ctx, q.String(), args...)
	if err != nil {
		return err
	}
	idx := make(map[string]int, len(swaps))
	for i, k := range keys {
		idx[keyString(k)] = i
	}
	changed := make([]bool, len(swaps))
	nChanged := 0
	for rows.Next() {
		var got sql.NullString
		if err := rows.Scan(&got); err != nil {
			rows.Close()
			return err
		}
		i, ok := idx[got.String]
		if !ok {
			rows.Close()
			return errFallback // the database's key text differs from ours
		}
		if changed[i] {
			rows.Close()
			return errNotUnique
		}
		changed[i] = true
		nChanged++
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return err
	}
	rows.Close()
	if nChanged == len(swaps) {
		return nil
	}
	return s.classifyMissed(ctx, tx, keys, changed, verdicts)
}

// cmpKey orders converted keys: numerically, or byte-wise.
func cmpKey(a, b any) int {
	if x, ok := a.(int64); ok {
		return cmp.Compare(x, b.(int64))
	}
	return strings.Compare(a.(string), b.(string))
}

// retryable reports whether the database aborted the transaction to break
// a deadlock or a serialization conflict: the whole batch may be retried.
func retryable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "40P01" || pe.Code == "40001"
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number == 1213 // ER_LOCK_DEADLOCK
	}
	return false
}

func setVerdicts(changed, present []bool, verdicts []error) {
	for i := range changed {
		switch {
		case changed[i]:
		case present[i]:
			verdicts[i] = store.ErrConflict
		default:
			verdicts[i] = store.ErrNotFound
		}
	}
}

// pgKeyArray is the keys as one PostgreSQL array parameter. "= ANY($1)"
// plans in a fraction of the time of an IN list of as many parameters,
// and leads the planner to the key index just the same.
func (s *Store) pgKeyArray(keys []any) any {
	if s.intID {
		a := make([]int64, len(keys))
		for i, k := range keys {
			a[i] = k.(int64)
		}
		return a
	}
	a := make([]string, len(keys))
	for i, k := range keys {
		a[i] = k.(string)
	}
	return a
}

// selectKeys builds SELECT cols FROM table WHERE id IN keys (and the
// filter): PostgreSQL takes the keys as one array, so the text is the same
// for any number of keys (one prepared statement).
func (s *Store) selectKeys(cols string, keys []any) (string, []any) {
	id := s.d.quote(s.cfg.Columns.ID)
	b := &builder{d: s.d}
	var cond string
	var args []any
	if s.d.name == "postgres" && s.multi != nil {
		cond = id + " = ANY(" + b.ph() + "::" + s.multi.pgIDType + "[])"
		args = append(args, s.pgKeyArray(keys))
	} else {
		phs := make([]string, len(keys))
		for i := range keys {
			phs[i] = b.ph()
		}
		cond = id + " IN (" + strings.Join(phs, ",") + ")"
		args = append(args, keys...)
	}
	fsql, fargs := s.filterClause(b)
	return "SELECT " + cols + " FROM " + s.d.quote(s.cfg.Table) + " WHERE " + cond + fsql, append(args, fargs...)
}

// presence runs q (selecting the id column) and reports which keys it
// returned; skip marks keys that must not come back.
func (s *Store) presence(ctx context.Context, tx *sql.Tx, q string, args, keys []any, skip []bool) ([]bool, error) {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	idx := make(map[string]int, len(keys))
	for i, k := range keys {
		idx[keyString(k)] = i
	}
	present := make([]bool, len(keys))
	for rows.Next() {
		var got sql.NullString
		if err := rows.Scan(&got); err != nil {
			return nil, err
		}
		i, ok := idx[got.String]
		if !ok || (skip != nil && skip[i]) {
			return nil, errFallback
		}
		if present[i] {
			return nil, errNotUnique
		}
		present[i] = true
	}
	return present, rows.Err()
}

// classifyMissed sets ErrConflict or ErrNotFound for the swaps not
// changed: one SELECT of their ids inside the transaction.
func (s *Store) classifyMissed(ctx context.Context, tx *sql.Tx, keys []any, changed []bool, verdicts []error) error {
	var missed []any
	for i, k := range keys {
		if !changed[i] {
			missed = append(missed, k)
		}
	}
	q, args := s.selectKeys(s.d.quote(s.cfg.Columns.ID), missed)
	present, err := s.presence(ctx, tx, q, args, keys, changed)
	if err != nil {
		return err
	}
	setVerdicts(changed, present, verdicts)
	return nil
}

// mysqlChunk: lock and read the rows, decide in Go (byte-exact), then one
// UPDATE with the old-value check in its WHERE clause.
func (s *Store) mysqlChunk(ctx context.Context, tx *sql.Tx, swaps []store.Swap, keys []any, verdicts []error) error {
	c := s.cfg.Columns
	t := s.d.quote(s.cfg.Table)
	pw, id := s.d.quote(c.Password), s.d.quote(c.ID)
	list := "(" + strings.TrimSuffix(strings.Repeat("?,", len(keys)), ",") + ")"
	b := &builder{d: s.d}
	fsql, fargs := s.filterClause(b)
	rows, err := tx.QueryContext(ctx, "SELECT "+id+", "+pw+" FROM "+t+" WHERE "+id+" IN "+list+fsql+" FOR UPDATE", append(append([]any{}, keys...), fargs...)...)
	if err != nil {
		return err
	}
	idx := make(map[string]int, len(keys))
	for i, k := range keys {
		idx[keyString(k)] = i
	}
	seen := make([]bool, len(keys))
	match := make([]bool, len(keys))
	for rows.Next() {
		var gotID, cur sql.NullString
		if err := rows.Scan(&gotID, &cur); err != nil {
			rows.Close()
			return err
		}
		i, ok := idx[gotID.String]
		if !ok || seen[i] {
			rows.Close()
			return errFallback // a collation-equal key, or a non-unique id: per row decides
		}
		seen[i] = true
		sw := swaps[i]
		match[i] = (sw.OldNull && !cur.Valid) || (!sw.OldNull && cur.Valid && cur.String == sw.Old)
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return err
	}
	rows.Close()
	var setArgs, whereArgs, idArgs []any
	var setCase, oldCase strings.Builder
	for i, sw := range swaps {
		switch {
		case !seen[i]:
			verdicts[i] = store.ErrNotFound
		case !match[i]:
			verdicts[i] = store.ErrConflict
		default:
			setCase.WriteString(" WHEN ? THEN ?")
			setArgs = append(setArgs, keys[i], s.credArg(sw.New))
			oldCase.WriteString(" WHEN ? THEN CAST(? AS BINARY)")
			whereArgs = append(whereArgs, keys[i], s.oldArg(sw))
			idArgs = append(idArgs, keys[i])
		}
	}
	if len(idArgs) == 0 {
		return nil
	}
	q := "UPDATE " + t + " SET " + pw + " = CASE " + id + setCase.String() + " ELSE " + pw + " END WHERE " + id + " IN (" +
		strings.TrimSuffix(strings.Repeat("?,", len(idArgs)), ",") + ") AND CAST(" + pw + " AS BINARY) <=> CASE " + id + oldCase.String() + " END" + fsql
	args := make([]any, 0, len(setArgs)+len(idArgs)+len(whereArgs)+len(fargs))
	args = append(append(append(append(args, setArgs...), idArgs...), whereArgs...), fargs...)
	res, err := tx.ExecContext(ctx, q, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n != int64(len(idArgs)) {
		// The rows are locked: a difference means the mapping is not what
		// we think (non-unique ids, collation); never guess.
		return fmt.Errorf("multi-row swap changed %d rows, %d expected: %w", n, len(idArgs), errNotUnique)
	}
	return nil
}
