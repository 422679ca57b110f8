package registry

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/overstap/overstap/auth/nrn"
)

// ExportSchema creates the tables of the documented register export
// (the same DDL for PostgreSQL, MariaDB/MySQL and SQLite). National
// numbers are 11 digits; birth_date is YYYY-MM-DD text.
const ExportSchema = `CREATE TABLE registry_persons (
	nrn          VARCHAR(11) NOT NULL PRIMARY KEY,
	birth_date   VARCHAR(10),
	deceased     INTEGER NOT NULL DEFAULT 0,
	household_id VARCHAR(64),
	position     VARCHAR(2)
);
CREATE TABLE registry_relations (
	nrn         VARCHAR(11) NOT NULL,
	related_nrn VARCHAR(11) NOT NULL,
	kind        VARCHAR(8) NOT NULL,
	PRIMARY KEY (nrn, related_nrn, kind)
)`

// Default queries over ExportSchema. Each takes the 11-digit national
// number as its only parameter, written "?" ($1 for PostgreSQL is
// substituted).
const (
	DefaultPersonQuery    = `SELECT birth_date, deceased FROM registry_persons WHERE nrn = ?`
	DefaultRelationsQuery = `SELECT related_nrn, kind FROM registry_relations WHERE nrn = ?`
	DefaultHouseholdQuery = `SELECT p.household_id, p.nrn, p.position FROM registry_persons p WHERE p.household_id = (SELECT q.household_id FROM registry_persons q WHERE q.nrn = ?) ORDER BY p.nrn`
)

// SQLSource reads a register export in a SQL database.
type SQLSource struct {
	db                 *sql.DB
	postgres           bool
	timeout            time.Duration
	closeDB            bool
	personQ, relQ, hhQ string
}

var _ Source = (*SQLSource)(nil)

// NewSQL returns a source over db (driver "pgx", "mysql" or "sqlite";
// postgres selects $1 placeholders). Empty queries take the defaults.
func NewSQL(db *sql.DB, postgres bool, c SQLConfig) *SQLSource {
	s := &SQLSource{db: db, postgres: postgres, timeout: c.Timeout}
	s.personQ = pick(c.PersonQuery, DefaultPersonQuery)
	s.relQ = pick(c.RelationsQuery, DefaultRelationsQuery)
	s.hhQ = pick(c.HouseholdQuery, DefaultHouseholdQuery)
	if postgres {
		s.personQ, s.relQ, s.hhQ = rebind(s.personQ), rebind(s.relQ), rebind(s.hhQ)
	}
	if s.timeout == 0 {
		s.timeout = 5 * time.Second
	}
	return s
}

func pick(v, def string) string {
	if strings.TrimSpace(v) == "" {
		return def
	}
	return v
}

func rebind(q string) string {
	var b strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// LoadExport creates ExportSchema in db and inserts e (tests, the demo).
func LoadExport(ctx context.Context, db *sql.DB, postgres bool, e Export) error {
	for _, stmt := range strings.Split(ExportSchema, ";\n") {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("registry: schema: %w", err)
		}
	}
	q := func(s string) string {
		if postgres {
			return rebind(s)
		}
		return s
	}
	for i, p := range e.Persons {
		n, err := nrn.Parse(p.NRN)
		if err != nil {
			return fmt.Errorf("registry: persons[%d]: invalid national number", i)
		}
		d := 0
		if p.Deceased {
			d = 1
		}
		if _, err := db.ExecContext(ctx, q(`INSERT INTO registry_persons (nrn, birth_date, deceased, household_id, position) VALUES (?, ?, ?, ?, ?)`),
			n.Digits(), nullable(p.BirthDate), d, nullable(p.HouseholdID), nullable(p.Position)); err != nil {
			return fmt.Errorf("registry: persons[%d]: %w", i, err)
		}
	}
	for i, r := range e.Relations {
		a, err1 := nrn.Parse(r.NRN)
		b, err2 := nrn.Parse(r.Related)
		if err1 != nil || err2 != nil {
			return fmt.Errorf("registry: relations[%d]: invalid national number", i)
		}
		if _, err := db.ExecContext(ctx, q(`INSERT INTO registry_relations (nrn, related_nrn, kind) VALUES (?, ?, ?)`), a.Digits(), b.Digits(), string(r.Kind)); err != nil {
			return fmt.Errorf("registry: relations[%d]: %w", i, err)
		}
	}
	return nil
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (s *SQLSource) unavailable(what string, err error) error {
	return fmt.Errorf("%w: sql %s: %s", ErrUnavailable, what, nrn.Scrub(err.Error()))
}

// Person implements Source.
func (s *SQLSource) Person(ctx context.Context, n nrn.Number) (Person, error) {
	if n.IsZero() {
		return Person{}, ErrNotFound
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	p := Person{NRN: n}
	var birth sql.NullString
	var deceased sql.NullInt64
	err := s.db.QueryRowContext(ctx, s.personQ, n.Digits()).Scan(&birth, &deceased)
	found := err == nil
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return Person{}, s.unavailable("person", err)
	}
	if b := strings.TrimSpace(birth.String); birth.Valid && b != "" {
		// A DATE column arrives as an RFC 3339 time through database/sql:
		// its first ten characters are the date.
		b, err := time.Parse(time.DateOnly, b[:min(10, len(b))])
		if err != nil {
			return Person{}, fmt.Errorf("%w: sql person: birth_date is not YYYY-MM-DD", ErrUnavailable)
		}
		p.Birth = b
	}
	p.Deceased = deceased.Valid && deceased.Int64 != 0
	rows, err := s.db.QueryContext(ctx, s.relQ, n.Digits())
	if err != nil {
		return Person{}, s.unavailable("relations", err)
	}
	defer rows.Close()
	for rows.Next() {
		var rel, kind string
		if err := rows.Scan(&rel, &kind); err != nil {
			return Person{}, s.unavailable("relations", err)
		}
		r, err := nrn.Parse(rel)
		if err != nil {
			return Person{}, fmt.Errorf("%w: sql relations: invalid national number in the export", ErrUnavailable)
		}
		found = true
		switch Relation(strings.TrimSpace(kind)) {
		case Child:
			p.Children = append(p.Children, r)
		case Ward:
			p.Wards = append(p.Wards, r)
		}
	}
	if err := rows.Err(); err != nil {
		return Person{}, s.unavailable("relations", err)
	}
	if !found {
		return Person{}, ErrNotFound
	}
	return p, nil
}

// Household implements Source.
func (s *SQLSource) Household(ctx context.Context, n nrn.Number) (Household, error) {
	if n.IsZero() {
		return Household{}, ErrNotFound
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	rows, err := s.db.QueryContext(ctx, s.hhQ, n.Digits())
	if err != nil {
		return Household{}, s.unavailable("household", err)
	}
	defer rows.Close()
	var h Household
	for rows.Next() {
		var id, num, pos sql.NullString
		if err := rows.Scan(&id, &num, &pos); err != nil {
			return Household{}, s.unavailable("household", err)
		}
		m, err := nrn.Parse(num.String)
		if err != nil {
			return Household{}, fmt.Errorf("%w: sql household: invalid national number in the export", ErrUnavailable)
		}
		h.ID = id.String
		h.Members = append(h.Members, Member{NRN: m, Position: pos.String})
	}
	if err := rows.Err(); err != nil {
		return Household{}, s.unavailable("household", err)
	}
	if len(h.Members) == 0 {
		return Household{}, ErrNotFound
	}
	return h, nil
}

// Name implements Source.
func (s *SQLSource) Name() string { return "sql" }

// Close closes the database when the source opened it.
func (s *SQLSource) Close() error {
	if s.closeDB {
		return s.db.Close()
	}
	return nil
}
