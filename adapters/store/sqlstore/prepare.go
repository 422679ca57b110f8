package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// probe checks that the mapped columns exist, naming each missing one, and
// learns the id, NRN and federated column types.
func (s *Store) probe(ctx context.Context) error {
	c := s.cfg.Columns
	// Compare the mapping with the table's real columns first: SQLite
	// reads a double-quoted name that is not a column as a string literal,
	// so a typo would otherwise silently read the column's name as data.
	if rows, err := s.db.QueryContext(ctx, "SELECT * FROM "+s.d.quote(s.cfg.Table)+" WHERE 1=0"); err == nil {
		names, err := rows.Columns()
		rows.Close()
		if err == nil {
			have := map[string]bool{}
			for _, n := range names {
				if s.d.name == "postgres" {
					have[n] = true
				} else {
					have[strings.ToLower(n)] = true
				}
			}
			var errs []error
			for _, col := range []struct{ key, v string }{
				{"id", c.ID}, {"username", c.Username}, {"password", c.Password}, {"salt", c.Salt},
				{"nrn", c.NRN}, {"name", c.Name}, {"disabled", c.Disabled}, {"federated", c.Federated}, {"created", c.Created},
			} {
				v := col.v
				if s.d.name != "postgres" {
					v = strings.ToLower(v)
				}
				if col.v != "" && !have[v] {
					errs = append(errs, fmt.Errorf("columns.%s: table %q has no column %q", col.key, s.cfg.Table, col.v))
				}
			}
			if f, _ := parseFilter(s.cfg.Filter); f != nil {
				for _, p := range f.pieces {
					v := p.text
					if s.d.name != "postgres" {
						v = strings.ToLower(v)
					}
					if p.kind == pIdent && !have[v] {
						errs = append(errs, fmt.Errorf("filter: table %q has no column %q", s.cfg.Table, p.text))
					}
				}
			}
			if len(errs) > 0 {
				return s.x.Errf("check mapping", "", "%w", errors.Join(errs...))
			}
		}
	}
	q := "SELECT " + s.selectList() + " FROM " + s.d.quote(s.cfg.Table) + " WHERE 1=0"
	rows, err := s.db.QueryContext(ctx, q)
	if err != nil {
		var errs []error
		for _, col := range []struct{ key, v string }{
			{"id", c.ID}, {"username", c.Username}, {"password", c.Password}, {"salt", c.Salt},
			{"nrn", c.NRN}, {"name", c.Name}, {"disabled", c.Disabled}, {"federated", c.Federated},
		} {
			if col.v == "" {
				continue
			}
			r, err := s.db.QueryContext(ctx, "SELECT "+s.d.quote(col.v)+" FROM "+s.d.quote(s.cfg.Table)+" WHERE 1=0")
			if err != nil {
				errs = append(errs, fmt.Errorf("columns.%s: %q cannot be read: %w", col.key, col.v, err))
				continue
			}
			r.Close()
		}
		if len(errs) == 0 {
			errs = append(errs, err)
		}
		return s.x.Errf("check mapping", "", "table %q: %w", s.cfg.Table, errors.Join(errs...))
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		return s.x.Errf("check mapping", "", "%w", err)
	}
	idType := types[0].DatabaseTypeName()
	if s.cfg.IDType == "" {
		s.intID = isIntType(idType)
	}
	s.nrnInt = c.NRN != "" && isIntType(types[4].DatabaseTypeName())
	s.pwBinary = isBinaryType(types[2].DatabaseTypeName())
	if c.Federated != "" {
		ft := types[7].DatabaseTypeName()
		switch {
		case isBoolType(ft):
		case isIntType(ft):
			s.fedType = fedInt
		default:
			s.fedType = fedText
		}
	}
	return rows.Err()
}

func (s *Store) col(name string) string {
	if name == "" {
		return "NULL"
	}
	return s.d.quote(name)
}

func (s *Store) selectList() string {
	c := s.cfg.Columns
	return strings.Join([]string{s.col(c.ID), s.col(c.Username), s.col(c.Password), s.col(c.Salt),
		s.col(c.NRN), s.col(c.Name), s.col(c.Disabled), s.col(c.Federated)}, ", ")
}

// where renders " AND (filter)" with the next placeholders.
func (s *Store) filterSQL(b *builder, f *filter) string {
	sqlf, args := f.render(s.d, b.ph)
	if sqlf == "" {
		return ""
	}
	s.fargs = args
	return " AND (" + sqlf + ")"
}

func (s *Store) prepare(ctx context.Context) error {
	f, _ := parseFilter(s.cfg.Filter) // validated
	s.filt = f
	q := s.cfg.Queries
	var text struct{ first, after, get, byUser, byNRN, cas, casNull, current, setFed string }
	if s.custom {
		text.first, text.after, text.get, text.byUser, text.byNRN = q.IterateFirst, q.Iterate, q.Get, q.ByUsername, q.ByNRN
		s.byNRNArgs = placeholders(s.d, q.ByNRN)
		if s.byNRNArgs != 4 && s.byNRNArgs != 8 {
			return s.x.Errf("prepare", "", "queries.by_nrn: takes %d parameters; it must take the 4 written forms (or them twice: 8)", s.byNRNArgs)
		}
	} else {
		t := s.d.quote(s.cfg.Table)
		c := s.cfg.Columns
		sel := "SELECT " + s.selectList() + " FROM " + t + " WHERE 1=1"
		key := s.d.quote(c.ID)
		if !s.intID {
			key = s.d.textKey(key)
		}
		b := &builder{d: s.d}
		text.first = sel + s.filterSQL(b, f) + " ORDER BY " + key + " LIMIT " + b.ph()
		b = &builder{d: s.d}
		text.after = sel + " AND " + key + " > " + b.ph() + s.filterSQL(b, f) + " ORDER BY " + key + " LIMIT " + b.ph()
		b = &builder{d: s.d}
		text.get = sel + " AND " + s.d.quote(c.ID) + " = " + b.ph() + s.filterSQL(b, f)
		b = &builder{d: s.d}
		text.byUser = sel + " AND " + s.d.quote(c.Username) + " = " + b.ph() + s.filterSQL(b, f) + " ORDER BY " + key + " LIMIT 2"
		b = &builder{d: s.d}
		in := func() string { return "(" + b.ph() + ", " + b.ph() + ", " + b.ph() + ", " + b.ph() + ")" }
		cond := s.d.quote(c.Username) + " IN " + in()
		if c.NRN != "" {
			if s.nrnInt {
				cond += " OR " + s.d.quote(c.NRN) + " = " + b.ph()
			} else {
				cond += " OR " + s.d.quote(c.NRN) + " IN " + in()
			}
		}
		text.byNRN = sel + " AND (" + cond + ")" + s.filterSQL(b, f) + " ORDER BY " + key + " LIMIT " + strconv.Itoa(maxLookup+1)
	}
	if s.customW {
		text.cas, text.casNull, text.current = q.CompareAndSwap, q.CompareAndSwapNull, q.Current
	} else {
		t := s.d.quote(s.cfg.Table)
		c := s.cfg.Columns
		pw, id := s.d.quote(c.Password), s.d.quote(c.ID)
		b := &builder{d: s.d}
		text.cas = "UPDATE " + t + " SET " + pw + " = " + b.ph() + " WHERE " + id + " = " + b.ph() + " AND " + s.d.exactEq(pw, b.ph()) + s.filterSQL(b, f)
		b = &builder{d: s.d}
		text.casNull = "UPDATE " + t + " SET " + pw + " = " + b.ph() + " WHERE " + id + " = " + b.ph() + " AND " + pw + " IS NULL" + s.filterSQL(b, f)
		b = &builder{d: s.d}
		text.current = "SELECT " + pw + " FROM " + t + " WHERE " + id + " = " + b.ph() + s.filterSQL(b, f)
	}
	switch {
	case q.SetFederated != "":
		text.setFed = q.SetFederated
	case s.cfg.Columns.Federated != "":
		b := &builder{d: s.d}
		text.setFed = "UPDATE " + s.d.quote(s.cfg.Table) + " SET " + s.d.quote(s.cfg.Columns.Federated) + " = " + b.ph() +
			" WHERE " + s.d.quote(s.cfg.Columns.ID) + " = " + b.ph() + s.filterSQL(b, f)
	}
	var errs []error
	prep := func(key, q string, dst **sql.Stmt) {
		if q == "" {
			return
		}
		st, err := s.db.PrepareContext(ctx, q)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", key, err))
			return
		}
		*dst = st
	}
	prep("iterate_first", text.first, &s.st.first)
	prep("iterate", text.after, &s.st.after)
	prep("get", text.get, &s.st.get)
	prep("by_username", text.byUser, &s.st.byUser)
	prep("by_nrn", text.byNRN, &s.st.byNRN)
	prep("compare_and_swap", text.cas, &s.st.cas)
	prep("compare_and_swap_null", text.casNull, &s.st.casNull)
	prep("current", text.current, &s.st.current)
	prep("set_federated", text.setFed, &s.st.setFed)
	if len(errs) > 0 {
		s.closeStmts()
		return s.x.Errf("prepare", "", "%w", errors.Join(errs...))
	}
	return nil
}

func (s *Store) closeStmts() {
	for _, st := range []*sql.Stmt{s.st.first, s.st.after, s.st.get, s.st.byUser, s.st.byNRN, s.st.cas, s.st.casNull, s.st.current, s.st.setFed} {
		if st != nil {
			st.Close()
		}
	}
}

// isBinaryType reports whether a column type holds bytes rather than text
// (PostgreSQL bytea, SQLite and MySQL BLOB/BINARY types): credentials are
// then passed as []byte, so the driver sends them as binary, unchanged.
func isBinaryType(t string) bool {
	t = strings.ToUpper(t)
	return t == "BYTEA" || strings.Contains(t, "BLOB") || strings.Contains(t, "BINARY")
}
