package registry

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/overstap/overstap/auth/nrn"
)

// PersonRow is one person of a register export (table registry_persons,
// file persons.csv). NRN is written in any form; BirthDate is YYYY-MM-DD
// or empty.
type PersonRow struct {
	NRN         string
	BirthDate   string
	Deceased    bool
	HouseholdID string
	Position    string
}

// RelationRow is one relation of a register export (table
// registry_relations, file relations.csv): Related is the Kind of NRN
// (Kind child: Related descends from NRN; ward: NRN is Related's guardian).
type RelationRow struct {
	NRN, Related string
	Kind         Relation
}

// Export is a register export: what the SQL and CSV adapters read, and
// what tests and the demo write.
type Export struct {
	Persons   []PersonRow
	Relations []RelationRow
}

// CSV headers of the two files.
var (
	PersonsHeader   = []string{"nrn", "birth_date", "deceased", "household_id", "position"}
	RelationsHeader = []string{"nrn", "related_nrn", "kind"}
)

// WriteCSV writes the export as the two CSV files the CSV adapter reads.
func (e Export) WriteCSV(personsPath, relationsPath string) error {
	write := func(path string, header []string, rows [][]string) error {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return fmt.Errorf("registry: %w", err)
		}
		w := csv.NewWriter(f)
		_ = w.Write(header)
		_ = w.WriteAll(rows)
		if err := w.Error(); err != nil {
			f.Close()
			return fmt.Errorf("registry: write %s: %w", path, err)
		}
		return f.Close()
	}
	var ps, rs [][]string
	for _, p := range e.Persons {
		d := "0"
		if p.Deceased {
			d = "1"
		}
		ps = append(ps, []string{p.NRN, p.BirthDate, d, p.HouseholdID, p.Position})
	}
	for _, r := range e.Relations {
		rs = append(rs, []string{r.NRN, r.Related, string(r.Kind)})
	}
	if err := write(personsPath, PersonsHeader, ps); err != nil {
		return err
	}
	return write(relationsPath, RelationsHeader, rs)
}

// ReadCSV reads an export from the two CSV readers. Every problem is
// reported with its file and line, never with the national number.
func ReadCSV(persons, relations io.Reader) (Export, error) {
	var e Export
	var errs []error
	read := func(name string, r io.Reader, header []string, row func(line int, rec []string) error) {
		cr := csv.NewReader(r)
		cr.FieldsPerRecord = len(header)
		cr.ReuseRecord = true
		for line := 1; ; line++ {
			rec, err := cr.Read()
			if err == io.EOF {
				return
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("registry: %s line %d: malformed CSV (want %d columns)", name, line, len(header)))
				return
			}
			if line == 1 {
				if strings.Join(rec, ",") != strings.Join(header, ",") {
					errs = append(errs, fmt.Errorf("registry: %s: header must be %s", name, strings.Join(header, ",")))
					return
				}
				continue
			}
			if err := row(line, rec); err != nil {
				errs = append(errs, fmt.Errorf("registry: %s line %d: %w", name, line, err))
			}
		}
	}
	read("persons", persons, PersonsHeader, func(_ int, rec []string) error {
		var d bool
		switch rec[2] {
		case "0", "", "false":
		case "1", "true":
			d = true
		default:
			return errors.New("deceased: want 0 or 1")
		}
		e.Persons = append(e.Persons, PersonRow{NRN: rec[0], BirthDate: rec[1], Deceased: d, HouseholdID: rec[3], Position: rec[4]})
		return nil
	})
	read("relations", relations, RelationsHeader, func(_ int, rec []string) error {
		e.Relations = append(e.Relations, RelationRow{NRN: rec[0], Related: rec[1], Kind: Relation(rec[2])})
		return nil
	})
	if len(errs) > 0 {
		return Export{}, errors.Join(errs...)
	}
	return e, nil
}

// Memory is a Source over an export held in memory (the CSV adapter, and
// tests). Safe for concurrent use; immutable.
type Memory struct {
	name       string
	persons    map[string]memPerson
	households map[string][]Member
}

type memPerson struct {
	p         Person
	household string
}

var _ Source = (*Memory)(nil)

// NewMemory checks and indexes an export. name is the Source's Name.
func NewMemory(name string, e Export) (*Memory, error) {
	m := &Memory{name: name, persons: map[string]memPerson{}, households: map[string][]Member{}}
	var errs []error
	for i, r := range e.Persons {
		n, err := nrn.Parse(r.NRN)
		if err != nil {
			errs = append(errs, fmt.Errorf("registry: persons[%d]: invalid national number", i))
			continue
		}
		p := Person{NRN: n, Deceased: r.Deceased}
		if r.BirthDate != "" {
			b, err := time.Parse(time.DateOnly, r.BirthDate)
			if err != nil {
				errs = append(errs, fmt.Errorf("registry: persons[%d]: birth_date: want YYYY-MM-DD", i))
				continue
			}
			p.Birth = b
		}
		if _, dup := m.persons[n.Digits()]; dup {
			errs = append(errs, fmt.Errorf("registry: persons[%d]: listed twice", i))
			continue
		}
		m.persons[n.Digits()] = memPerson{p: p, household: r.HouseholdID}
		if r.HouseholdID != "" {
			m.households[r.HouseholdID] = append(m.households[r.HouseholdID], Member{NRN: n, Position: r.Position})
		}
	}
	for i, r := range e.Relations {
		a, err1 := nrn.Parse(r.NRN)
		b, err2 := nrn.Parse(r.Related)
		if err1 != nil || err2 != nil {
			errs = append(errs, fmt.Errorf("registry: relations[%d]: invalid national number", i))
			continue
		}
		mp, ok := m.persons[a.Digits()]
		if !ok {
			mp = memPerson{p: Person{NRN: a}}
		}
		switch r.Kind {
		case Child:
			mp.p.Children = append(mp.p.Children, b)
		case Ward:
			mp.p.Wards = append(mp.p.Wards, b)
		default:
			errs = append(errs, fmt.Errorf("registry: relations[%d]: kind must be child or ward", i))
			continue
		}
		m.persons[a.Digits()] = mp
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return m, nil
}

// Person implements Source.
func (m *Memory) Person(ctx context.Context, n nrn.Number) (Person, error) {
	if err := ctx.Err(); err != nil {
		return Person{}, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	mp, ok := m.persons[n.Digits()]
	if !ok || n.IsZero() {
		return Person{}, ErrNotFound
	}
	p := mp.p
	p.Children = append([]nrn.Number(nil), p.Children...)
	p.Wards = append([]nrn.Number(nil), p.Wards...)
	return p, nil
}

// Household implements Source.
func (m *Memory) Household(ctx context.Context, n nrn.Number) (Household, error) {
	if err := ctx.Err(); err != nil {
		return Household{}, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	mp, ok := m.persons[n.Digits()]
	if !ok || n.IsZero() || mp.household == "" {
		return Household{}, ErrNotFound
	}
	return Household{ID: mp.household, Members: append([]Member(nil), m.households[mp.household]...)}, nil
}

// Name implements Source.
func (m *Memory) Name() string { return m.name }
