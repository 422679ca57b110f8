package nrn

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// Synthetic returns a valid, obviously fictitious national number: its
// sequence number is 9xx (seq in 900..998), a range the test data of this
// project reserves. birth must be a date; male selects an odd sequence.
// It returns an error when no sequence in that range fits the requested sex
// (never: there are 50 of each).
func Synthetic(birth time.Time, male bool, seq int) (Number, error) {
	return synth(birth.Year(), int(birth.Month()), birth.Day(), 0, male, seq)
}

// SyntheticBIS returns a valid fictitious BIS number (month + 40 when
// sexKnown, + 20 otherwise) with sequence 9xx.
func SyntheticBIS(birth time.Time, male, sexKnown bool, seq int) (Number, error) {
	off := 20
	if sexKnown {
		off = 40
	}
	return synth(birth.Year(), int(birth.Month()), birth.Day(), off, male, seq)
}

func synth(year, month, day, monthOffset int, male bool, seq int) (Number, error) {
	if year < 1900 || year > 2099 {
		return Number{}, fmt.Errorf("nrn: synthetic birth year %d out of range", year)
	}
	s := 900 + ((seq%50+50)%50)*2 // even, 900..998
	if male {
		s++ // odd, 901..999
	}
	base := (year%100)*10_000_000 + (month+monthOffset)*100_000 + day*1000 + s
	n := base
	if year >= 2000 {
		n += 2_000_000_000
	}
	check := 97 - n%97
	return fromDigits(fmt.Sprintf("%09d%02d", base, check))
}

// Generator produces random synthetic numbers (sequence 9xx) for tests,
// seeds and the demo. It is deterministic for a given seed.
type Generator struct{ r *rand.Rand }

// NewGenerator returns a Generator seeded with seed.
func NewGenerator(seed uint64) *Generator {
	return &Generator{r: rand.New(rand.NewPCG(seed, 0x6f7665727374))}
}

// Next returns a random synthetic national number born between 1930 and
// 2024.
func (g *Generator) Next() Number {
	for {
		y := 1930 + g.r.IntN(95)
		d := time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, g.r.IntN(365))
		n, err := Synthetic(d, g.r.IntN(2) == 0, g.r.IntN(50))
		if err == nil {
			return n
		}
	}
}

// IsSynthetic reports whether n has a 9xx sequence number, the range this
// project uses for fictitious people.
func IsSynthetic(n Number) bool { return !n.IsZero() && n.digits[6] == '9' }
