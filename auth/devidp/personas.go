package devidp

import (
	"time"

	"github.com/overstap/overstap/auth/nrn"
)

// Persona is a synthetic test citizen. Nothing about a persona is real: the
// national numbers come from [nrn.Synthetic] (sequence 9xx).
type Persona struct {
	// Key is the stable identifier used in tests, forms and LogoutPersona.
	Key string
	// GivenName and FamilyName are the names the providers return.
	GivenName, FamilyName string
	// NRN is the national (or BIS) number; zero for ForeignDocument.
	NRN nrn.Number
	// Male is the sex the number encodes.
	Male bool
	// Birth is the birth date (UTC midnight).
	Birth time.Time
	// Age is the age in whole years at the time Personas was called.
	Age int
	// HouseholdID groups the members of one household in the population
	// register; Address is where they live (a roommate shares the address,
	// and here also the household, without any family tie).
	HouseholdID, Address string
	// Position is the household position code of the register (01 head,
	// 02 spouse, 03 son/daughter, 12 no family tie).
	Position string
	// Parents and Children are Keys of personas linked by descent.
	Parents, Children []string
	// Language is the preferred language (nl, fr, de, en).
	Language string
	// Email is a fictitious address under example.invalid.
	Email string
	// BIS reports whether NRN is a BIS number (not in the national register).
	BIS bool
	// ForeignDocument reports an itsme user enrolled with a foreign identity
	// document: no Belgian national number at all. Only the itsme profile
	// offers this persona.
	ForeignDocument bool
}

// Name returns "GivenName FamilyName".
func (p Persona) Name() string { return p.GivenName + " " + p.FamilyName }

// HasNRN reports whether the persona has a national or BIS number.
func (p Persona) HasNRN() bool { return !p.NRN.IsZero() }

// Persona keys, stable across versions: tests refer to them.
const (
	PersonaParentA   = "parent-a"  // mother, 42
	PersonaParentB   = "parent-b"  // father, 44
	PersonaMinor     = "minor"     // their daughter, 10
	PersonaAdult     = "adult"     // their son, 19, same household
	PersonaRoommate  = "roommate"  // same address and household, no family tie
	PersonaUnrelated = "unrelated" // another citizen elsewhere
	PersonaBIS       = "bis"       // BIS-number holder
	PersonaForeign   = "foreign"   // itsme user with a foreign document, no NRN
)

type personaSpec struct {
	key, given, family string
	male               bool
	age                int
	seq                int
	household, address string
	position           string
	parents, children  []string
	lang               string
	bis, foreign       bool
}

var personaSpecs = []personaSpec{
	{key: PersonaParentA, given: "An", family: "Peeters", age: 42, seq: 1, household: "hh-peeters", address: "Kerkstraat 1, 9999 Teststad", position: "02", children: []string{PersonaMinor, PersonaAdult}, lang: "nl"},
	{key: PersonaParentB, given: "Bart", family: "Peeters", male: true, age: 44, seq: 2, household: "hh-peeters", address: "Kerkstraat 1, 9999 Teststad", position: "01", children: []string{PersonaMinor, PersonaAdult}, lang: "nl"},
	{key: PersonaMinor, given: "Lotte", family: "Peeters", age: 10, seq: 3, household: "hh-peeters", address: "Kerkstraat 1, 9999 Teststad", position: "03", parents: []string{PersonaParentA, PersonaParentB}, lang: "nl"},
	{key: PersonaAdult, given: "Jonas", family: "Peeters", male: true, age: 19, seq: 4, household: "hh-peeters", address: "Kerkstraat 1, 9999 Teststad", position: "03", parents: []string{PersonaParentA, PersonaParentB}, lang: "nl"},
	{key: PersonaRoommate, given: "Sam", family: "Janssens", male: true, age: 27, seq: 5, household: "hh-peeters", address: "Kerkstraat 1, 9999 Teststad", position: "12", lang: "nl"},
	{key: PersonaUnrelated, given: "Emma", family: "Dubois", age: 35, seq: 6, household: "hh-dubois", address: "Rue de l'Essai 2, 9998 Villetest", position: "01", lang: "fr"},
	{key: PersonaBIS, given: "Piotr", family: "Kowalski", male: true, age: 31, seq: 7, household: "hh-kowalski", address: "Proefweg 3, 9999 Teststad", position: "01", lang: "en", bis: true},
	{key: PersonaForeign, given: "Maria", family: "Rossi", age: 29, lang: "en", foreign: true},
}

// Personas returns the synthetic personas as they are at now: birth dates
// are computed so that every persona has its stated age at now (the
// birthday was 30 days before now), so ages are stable whatever the date
// the tests run. Two calls with instants on the same UTC day return the
// same national numbers.
func Personas(now time.Time) []Persona {
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	out := make([]Persona, 0, len(personaSpecs))
	for _, s := range personaSpecs {
		birth := day.AddDate(-s.age, 0, -30)
		p := Persona{
			Key: s.key, GivenName: s.given, FamilyName: s.family, Male: s.male,
			Birth: birth, HouseholdID: s.household, Address: s.address, Position: s.position,
			Parents: append([]string(nil), s.parents...), Children: append([]string(nil), s.children...),
			Language: s.lang, Email: s.key + "@example.invalid", BIS: s.bis, ForeignDocument: s.foreign,
		}
		p.Age = ageAt(birth, now)
		var err error
		switch {
		case s.foreign:
		case s.bis:
			p.NRN, err = nrn.SyntheticBIS(birth, s.male, true, s.seq)
		default:
			p.NRN, err = nrn.Synthetic(birth, s.male, s.seq)
		}
		if err != nil {
			// Only for birth years outside 1900..2099: not reachable in
			// this century; leave the persona without a number.
			p.NRN = nrn.Number{}
		}
		out = append(out, p)
	}
	return out
}

func ageAt(birth, t time.Time) int {
	y := t.Year() - birth.Year()
	if t.Month() < birth.Month() || (t.Month() == birth.Month() && t.Day() < birth.Day()) {
		y--
	}
	return y
}
