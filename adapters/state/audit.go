package state

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"log/slog"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/overstap/overstap/auth/nrn"
	"github.com/overstap/overstap/internal/audit"
	"github.com/prometheus/client_golang/prometheus"
)

// Event is something worth an audit entry. Actor and Target are references,
// never clear national numbers: nrn.Number.Ref ("nrnref1:..."), a legacy
// account id, an admin's name.
type Event struct {
	Time    time.Time         // when; zero means now. Stored to the nanosecond, in UTC.
	Type    string            // what happened, e.g. "link.created", "login"; [a-z0-9_.:-], ≤ 64
	Actor   string            // who did it; ≤ 256 bytes
	Target  string            // to whom or what; ≤ 256 bytes
	App     string            // which legacy application, if any; ≤ 256 bytes
	Outcome string            // "success", "denied", "error", ...; [a-z0-9_.:-], ≤ 32
	Details map[string]string // extra facts; ≤ 32 keys [a-z0-9_.:-] ≤ 64, values ≤ 1024 bytes
}

// Entry is an event as recorded: its position in the log and the chain.
type Entry struct {
	Seq int64 // 1, 2, 3, ...
	Event
	PrevHash string // hex SHA-256 of the previous entry; "" for the first
	Hash     string // hex SHA-256 of this entry's canonical encoding
}

// Errors returned by Append for events it refuses.
var (
	ErrInvalidEvent = errors.New("state: invalid audit event")
	ErrClearNRN     = errors.New("state: audit event holds a national number in clear; use nrn.Number.Ref")
)

// Bounds on events.
const (
	maxTokenLen   = 64
	maxOutcomeLen = 32
	maxFieldLen   = 256
	maxDetails    = 32
	maxDetailLen  = 1024
)

// checkEvent validates e and refuses any field that holds a national number
// or anything written like one (the logging scrubber's rules: a mistyped NRN
// is still personal data). Messages name the field, never the value.
func checkEvent(e Event) error {
	var errs []error
	bad := func(field, why string) { errs = append(errs, fmt.Errorf("%w: %s %s", ErrInvalidEvent, field, why)) }
	if !isToken(e.Type, maxTokenLen) {
		bad("type", fmt.Sprintf("must be 1..%d characters of [a-z0-9_.:-]", maxTokenLen))
	}
	if !isToken(e.Outcome, maxOutcomeLen) {
		bad("outcome", fmt.Sprintf("must be 1..%d characters of [a-z0-9_.:-]", maxOutcomeLen))
	}
	text := func(field, v string, max int) {
		switch {
		case len(v) > max:
			bad(field, fmt.Sprintf("is longer than %d bytes", max))
		case !utf8.ValidString(v) || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }):
			bad(field, "must be valid UTF-8 without control characters")
		case nrn.Holds(v):
			errs = append(errs, fmt.Errorf("%w (field %s)", ErrClearNRN, field))
		}
	}
	text("actor", e.Actor, maxFieldLen)
	text("target", e.Target, maxFieldLen)
	text("app", e.App, maxFieldLen)
	if len(e.Details) > maxDetails {
		bad("details", fmt.Sprintf("has more than %d keys", maxDetails))
	} else {
		for k, v := range e.Details {
			if nrn.Holds(k) {
				errs = append(errs, fmt.Errorf("%w (a details key)", ErrClearNRN))
				continue
			}
			if !isToken(k, maxTokenLen) {
				bad("details key", fmt.Sprintf("must be 1..%d characters of [a-z0-9_.:-]", maxTokenLen))
				continue
			}
			text("details."+k, v, maxDetailLen)
		}
	}
	return errors.Join(errs...)
}

func isToken(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == ':' || c == '-') {
			return false
		}
	}
	return true
}

// hashEntry is SHA-256 over a canonical, length-prefixed encoding of every
// field of the entry, its sequence number and the previous entry's hash, so
// that changing, moving or unlinking an entry changes the hash.
func hashEntry(seq int64, e Event, prevHash string) string {
	h := sha256.New()
	h.Write([]byte("overstap/audit/v1\x00"))
	writeUint(h, uint64(seq))
	writeUint(h, uint64(e.Time.UnixNano()))
	for _, s := range []string{e.Type, e.Actor, e.Target, e.App, e.Outcome} {
		writeString(h, s)
	}
	keys := make([]string, 0, len(e.Details))
	for k := range e.Details {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	writeUint(h, uint64(len(keys)))
	for _, k := range keys {
		writeString(h, k)
		writeString(h, e.Details[k])
	}
	writeString(h, prevHash)
	return hex.EncodeToString(h.Sum(nil))
}

func writeUint(h hash.Hash, v uint64) {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	h.Write(b[:])
}

func writeString(h hash.Hash, s string) {
	writeUint(h, uint64(len(s)))
	h.Write([]byte(s))
}

func encodeDetails(d map[string]string) (string, error) {
	if len(d) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(d) // keys sorted
	return string(b), err
}

func decodeDetails(s string) (map[string]string, error) {
	var d map[string]string
	if err := json.Unmarshal([]byte(s), &d); err != nil {
		return nil, err
	}
	if len(d) == 0 {
		return nil, nil
	}
	return d, nil
}

// Append records e at the end of the audit log and returns the entry. It is
// serialised against every other Append on the database, from this process
// or another.
func (s *Store) Append(ctx context.Context, e Event) (Entry, error) {
	if s.readOnly {
		return Entry{}, ErrReadOnly
	}
	if err := checkEvent(e); err != nil {
		return Entry{}, err
	}
	if e.Time.IsZero() {
		e.Time = s.now()
	}
	e.Time = time.Unix(0, e.Time.UnixNano()).UTC()
	if len(e.Details) == 0 {
		e.Details = nil
	} else {
		e.Details = cloneMap(e.Details)
	}
	details, err := encodeDetails(e.Details)
	if err != nil {
		return Entry{}, fmt.Errorf("state: audit details: %w", err)
	}

	tx, err := s.db.BeginTx(ctx, nil) // SQLite: BEGIN IMMEDIATE takes the write lock now
	if err != nil {
		return Entry{}, fmt.Errorf("state: audit append: %w", err)
	}
	defer tx.Rollback()
	var head Entry
	if err := tx.QueryRowContext(ctx, s.stmt.readHead).Scan(&head.Seq, &head.Hash); err != nil {
		return Entry{}, fmt.Errorf("state: audit append: reading head: %w", err)
	}
	ent := Entry{Seq: head.Seq + 1, Event: e, PrevHash: head.Hash}
	ent.Hash = hashEntry(ent.Seq, e, ent.PrevHash)
	if _, err := tx.ExecContext(ctx, s.stmt.insertEntry,
		ent.Seq, e.Time.UnixNano(), e.Type, e.Actor, e.Target, e.App, e.Outcome, details, ent.PrevHash, ent.Hash); err != nil {
		return Entry{}, fmt.Errorf("state: audit append: %w", err)
	}
	if _, err := tx.ExecContext(ctx, s.stmt.updateHead, ent.Seq, ent.Hash); err != nil {
		return Entry{}, fmt.Errorf("state: audit append: updating head: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return Entry{}, fmt.Errorf("state: audit append: commit: %w", err)
	}
	return ent, nil
}

// appendStatements are Append's statements in the dialect's placeholders,
// written once when the store is opened.
type appendStatements struct{ readHead, insertEntry, updateHead string }

func appendStatementsFor(d Dialect) appendStatements {
	st := appendStatements{
		readHead: "SELECT seq, hash FROM audit_head WHERE id = 1",
		insertEntry: d.Rebind(`INSERT INTO audit_log
(seq, at, type, actor, target, app, outcome, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		updateHead: d.Rebind("UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1"),
	}
	if d == Postgres {
		st.readHead += " FOR UPDATE" // one appender at a time, across nodes
	}
	return st
}

func cloneMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Filter selects audit entries for List. Empty fields match everything.
type Filter struct {
	Type, Actor, Target, App, Outcome string
	Since, Until                      time.Time // Since ≤ Time < Until
	AfterSeq                          int64     // entries with Seq > AfterSeq (paging)
	Limit                             int       // default 100, at most 1000
}

// List returns the entries matching f in sequence order.
func (s *Store) List(ctx context.Context, f Filter) ([]Entry, error) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		where = append(where, cond)
		args = append(args, v)
	}
	for _, c := range []struct{ col, v string }{{"type", f.Type}, {"actor", f.Actor}, {"target", f.Target}, {"app", f.App}, {"outcome", f.Outcome}} {
		if c.v != "" {
			add(c.col+" = ?", c.v)
		}
	}
	if !f.Since.IsZero() {
		add("at >= ?", f.Since.UnixNano())
	}
	if !f.Until.IsZero() {
		add("at < ?", f.Until.UnixNano())
	}
	if f.AfterSeq > 0 {
		add("seq > ?", f.AfterSeq)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	q := "SELECT " + entryColumns + " FROM audit_log"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += fmt.Sprintf(" ORDER BY seq LIMIT %d", limit)
	rows, err := s.db.QueryContext(ctx, s.dialect.Rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("state: audit list: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		e, _, err := scanEntry(rows)
		if err != nil {
			return nil, fmt.Errorf("state: audit list: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("state: audit list: %w", err)
	}
	return out, nil
}

const entryColumns = "seq, at, type, actor, target, app, outcome, details, prev_hash, hash"

// scanEntry reads one row; detailsOK is false when the stored details are
// not valid JSON (tampering), in which case Details is nil.
func scanEntry(rows *sql.Rows) (e Entry, detailsOK bool, err error) {
	var at int64
	var details string
	if err := rows.Scan(&e.Seq, &at, &e.Type, &e.Actor, &e.Target, &e.App, &e.Outcome, &details, &e.PrevHash, &e.Hash); err != nil {
		return Entry{}, false, err
	}
	e.Time = time.Unix(0, at).UTC()
	d, derr := decodeDetails(details)
	e.Details = d
	return e, derr == nil, nil
}

// Auditor writes the events of audit.Func emitters (account linking,
// legacy-login interception) and of the family service (Append) to the
// store's hash-chained log, with the outcome the emitter decided, and logs
// each at info: refusals and decisions are visible in the log too, with
// references only. A failed write is logged (the reference is already a
// reference, never an NRN) and does not change the citizen's answer.
type Auditor struct {
	Store *Store
	Log   *slog.Logger // nil: not logged
	// Events counts events by type and outcome (nil: not counted).
	Events *prometheus.CounterVec
}

var _ audit.Func = Auditor{}.Record

// Record appends one event; the "app" detail becomes the event's app and
// every other value is scrubbed of national numbers.
func (a Auditor) Record(ctx context.Context, kind string, outcome audit.Outcome, ref string, details map[string]string) {
	d := make(map[string]string, len(details))
	app := ""
	for k, v := range details {
		if k == "app" {
			app = v
			continue
		}
		d[k] = nrn.Scrub(v)
	}
	if _, err := a.Append(ctx, Event{Type: kind, Target: nrn.Scrub(ref), App: app, Outcome: string(outcome), Details: d}); err != nil {
		if a.Log != nil {
			a.Log.Error("audit: append failed", "kind", kind, "err", err.Error())
		}
	}
}

// Append appends e to the store and, once the store took it (it refuses
// an invalid event or one holding a national number), counts it and logs
// it at info ("audit", with its type, outcome, references and details).
func (a Auditor) Append(ctx context.Context, e Event) (Entry, error) {
	ent, err := a.Store.Append(ctx, e)
	if err != nil {
		return ent, err
	}
	if a.Events != nil {
		a.Events.WithLabelValues(e.Type, e.Outcome).Inc() // types are the code's fixed event names
	}
	if log := a.Log; log != nil && log.Enabled(ctx, slog.LevelInfo) {
		attrs := []slog.Attr{slog.String("event", e.Type), slog.String("outcome", e.Outcome)}
		for _, kv := range [][2]string{{"actor", e.Actor}, {"target", e.Target}, {"app", e.App}} {
			if kv[1] != "" {
				attrs = append(attrs, slog.String(kv[0], kv[1]))
			}
		}
		if len(e.Details) > 0 {
			keys := slices.Sorted(maps.Keys(e.Details))
			details := make([]any, 0, len(keys))
			for _, k := range keys {
				details = append(details, slog.String(k, e.Details[k]))
			}
			attrs = append(attrs, slog.Group("details", details...))
		}
		log.LogAttrs(ctx, slog.LevelInfo, "audit", attrs...)
	}
	return ent, nil
}
