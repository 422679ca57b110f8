package sqlstore

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"time"

	"github.com/overstap/overstap/adapters/store"
)

// maxCreatedIDs bounds one CreatedAt call.
const maxCreatedIDs = maxBatch

// HasCreationDates reports whether a creation-date column is mapped
// (columns.created).
func (s *Store) HasCreationDates() bool { return s.cfg.Columns.Created != "" }

// CreatedAt returns the creation time of those of ids whose mapped
// creation column holds a date (UTC); NULL, and values in no form
// documented at Columns.Created, are left out: unknown, never guessed.
// Accounts outside the filter are left out too. ErrUnsupported when no
// creation column is mapped.
func (s *Store) CreatedAt(ctx context.Context, ids []string) (map[string]time.Time, error) {
	if !s.HasCreationDates() {
		return nil, s.x.Err("created at", "", store.ErrUnsupported)
	}
	if len(ids) > maxCreatedIDs {
		return nil, s.x.Errf("created at", "", "%d ids, at most %d", len(ids), maxCreatedIDs)
	}
	out := make(map[string]time.Time, len(ids))
	keys := make([]any, 0, len(ids))
	want := make(map[string]string, len(ids)) // key text -> id as asked
	for _, id := range ids {
		if k, ok := s.idArg(id); ok {
			keys = append(keys, k)
			want[keyString(k)] = id
		}
	}
	id := s.d.quote(s.cfg.Columns.ID)
	for lo := 0; lo < len(keys); lo += 1000 {
		chunk := keys[lo:min(lo+1000, len(keys))]
		q, args := s.selectKeys(id+", "+s.d.quote(s.cfg.Columns.Created), chunk)
		rows, err := s.db.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, s.x.Errf("created at", "", "%w", err)
		}
		for rows.Next() {
			var got sql.NullString
			var v any
			if err := rows.Scan(&got, &v); err != nil {
				rows.Close()
				return nil, s.x.Errf("created at", "", "%w", err)
			}
			asked, ok := want[got.String]
			if !ok {
				continue // a collation-equal key: not the one asked for
			}
			if t, ok := parseCreated(v); ok {
				out[asked] = t
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, s.x.Errf("created at", "", "%w", err)
		}
	}
	return out, nil
}

// createdLayouts are the text forms a creation column may hold.
var createdLayouts = []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999", "2006-01-02"}

// parseCreated converts a creation column value: a time (drivers that
// parse dates), text in an ISO 8601 form (UTC when without a zone), or an
// integer of Unix seconds.
func parseCreated(v any) (time.Time, bool) {
	switch x := v.(type) {
	case time.Time:
		return x.UTC(), !x.IsZero() // MySQL's zero date (parseTime) is "no date"
	case int64:
		return time.Unix(x, 0).UTC(), x > 0
	case []byte:
		return parseCreatedText(string(x))
	case string:
		return parseCreatedText(x)
	}
	return time.Time{}, false
}

func parseCreatedText(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" || strings.HasPrefix(s, "0000-00-00") {
		return time.Time{}, false // MySQL's zero date is "no date"
	}
	for _, l := range createdLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), true
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 {
		return time.Unix(n, 0).UTC(), true // an integer column read as text (MySQL)
	}
	return time.Time{}, false
}
