package registry

import (
	"context"
	"errors"
	"time"

	"github.com/overstap/overstap/auth/nrn"
)

// Relation is how a related person is tied to the subject of a Person.
type Relation string

// The relations a register export carries.
const (
	// Child: the related person descends from the subject (MAGDA
	// GeefPersoon AfstammingDalendeLijn). Not the household position 03,
	// which is relative to the head of the household.
	Child Relation = "child"
	// Ward: the subject is the related person's legal guardian (voogdij).
	Ward Relation = "ward"
)

// Person is what the register says about one person.
type Person struct {
	NRN nrn.Number
	// Birth is the birth date (UTC midnight); zero when the register does
	// not know it fully (the NRN's date is then the only source).
	Birth time.Time
	// Deceased reports whether the register records a death.
	Deceased bool
	// Children are the person's children by descent.
	Children []nrn.Number
	// Wards are the people under the person's legal guardianship.
	Wards []nrn.Number
}

// Has reports whether n is among the person's related people of kind rel.
func (p Person) Has(rel Relation, n nrn.Number) bool {
	list := p.Children
	if rel == Ward {
		list = p.Wards
	}
	for _, c := range list {
		if c.Equal(n) {
			return true
		}
	}
	return false
}

// Member is one member of a household.
type Member struct {
	NRN nrn.Number
	// Position is the register's household position code: 01 head, 02
	// spouse, 03 son/daughter (of the head), 12 no family tie, ...
	Position string
	// Begin and End bound the membership; zero when unknown or open.
	Begin, End time.Time
}

// Household is the household a person belongs to.
type Household struct {
	ID      string
	Members []Member
}

// Errors of a Source; callers branch with errors.Is.
var (
	// ErrNotFound: the register does not know the person.
	ErrNotFound = errors.New("registry: person not found")
	// ErrUnavailable: the register cannot be asked now (connection,
	// timeout, a bad answer). Callers fail closed.
	ErrUnavailable = errors.New("registry: unavailable")
	// ErrNotConfigured: no register is configured (kind none); every link
	// needs the member's consent.
	ErrNotConfigured = errors.New("registry: none configured (consent only)")
)

// Source is a population register. Implementations are safe for
// concurrent use; errors never hold a clear national number.
type Source interface {
	// Person returns the person's birth date and relations (GeefPersoon),
	// ErrNotFound, ErrUnavailable or ErrNotConfigured.
	Person(ctx context.Context, n nrn.Number) (Person, error)
	// Household returns the person's current household
	// (GeefGezinssamenstelling), with the same errors.
	Household(ctx context.Context, n nrn.Number) (Household, error)
	// Name is the kind of source, for logs and the audit log.
	Name() string
}

// None is the source of a municipality without a register connection:
// every family link needs the member's consent.
type None struct{}

var _ Source = None{}

// Person implements Source: always ErrNotConfigured.
func (None) Person(context.Context, nrn.Number) (Person, error) { return Person{}, ErrNotConfigured }

// Household implements Source: always ErrNotConfigured.
func (None) Household(context.Context, nrn.Number) (Household, error) {
	return Household{}, ErrNotConfigured
}

// Name implements Source.
func (None) Name() string { return "none" }

// MinorChildOrWard reports whether the register proves that member is
// requester's minor child (by descent, under 18 at now) or ward. It is the
// only verdict that allows a family link without consent. The member's age
// comes from the register's birth date, else from the NRN; an unknown age
// is not minor. Errors are those of src.Person (for the requester; the
// member's own record is only read for the birth date, and a member the
// register does not know falls back to the NRN).
func MinorChildOrWard(ctx context.Context, src Source, requester, member nrn.Number, now time.Time) (Relation, bool, error) {
	p, err := src.Person(ctx, requester)
	if err != nil {
		return "", false, err
	}
	if p.Deceased {
		return "", false, nil
	}
	if p.Has(Ward, member) {
		return Ward, true, nil
	}
	if !p.Has(Child, member) {
		return "", false, nil
	}
	birth := time.Time{}
	m, err := src.Person(ctx, member)
	switch {
	case err == nil:
		if m.Deceased {
			return "", false, nil
		}
		birth = m.Birth
	case errors.Is(err, ErrNotFound):
	default:
		return "", false, err
	}
	if birth.IsZero() {
		b, ok := member.Birth()
		if !ok {
			return "", false, nil
		}
		birth = b
	}
	if Age(birth, now) < 18 {
		return Child, true, nil
	}
	return "", false, nil
}

// Age is the age in whole years at t of someone born at birth.
func Age(birth, t time.Time) int {
	t = t.UTC()
	y := t.Year() - birth.Year()
	if t.Month() < birth.Month() || (t.Month() == birth.Month() && t.Day() < birth.Day()) {
		y--
	}
	return y
}

// Adulthood is the 18th birthday of someone born at birth.
func Adulthood(birth time.Time) time.Time { return birth.AddDate(18, 0, 0) }
