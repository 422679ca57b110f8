package devidp

import (
	"slices"
	"testing"
	"time"

	"github.com/overstap/overstap/auth/nrn"
)

func TestPersonas(t *testing.T) {
	for _, now := range []time.Time{
		time.Date(2026, 11, 22, 23, 59, 0, 0, time.UTC),
		time.Date(2028, 2, 29, 0, 0, 0, 0, time.UTC),
		time.Date(2027, 1, 1, 0, 0, 1, 0, time.UTC),
		time.Date(2030, 12, 31, 12, 0, 0, 0, time.UTC),
		time.Date(2026, 3, 30, 8, 0, 0, 0, time.UTC), // birthday 30 days back crosses a month boundary
	} {
		t.Run(now.Format(time.DateOnly), func(t *testing.T) {
			ps := Personas(now)
			byKey := map[string]Persona{}
			nums := map[string]bool{}
			for _, p := range ps {
				byKey[p.Key] = p
				if p.ForeignDocument {
					if p.HasNRN() {
						t.Errorf("%s: foreign-document persona has a national number", p.Key)
					}
					continue
				}
				if !p.HasNRN() || !nrn.IsSynthetic(p.NRN) {
					t.Fatalf("%s: missing or non-synthetic number", p.Key)
				}
				if nums[p.NRN.Digits()] {
					t.Errorf("%s: duplicate number", p.Key)
				}
				nums[p.NRN.Digits()] = true
				again, err := nrn.Parse(p.NRN.Digits())
				if err != nil || !again.Equal(p.NRN) {
					t.Errorf("%s: number does not parse back: %v", p.Key, err)
				}
				if age, ok := p.NRN.AgeAt(now); !ok || age != p.Age {
					t.Errorf("%s: age from number %d, stated %d", p.Key, age, p.Age)
				}
				if (p.NRN.Kind().String() == "bis") != p.BIS {
					t.Errorf("%s: kind %s, BIS %v", p.Key, p.NRN.Kind(), p.BIS)
				}
				if wantSex := map[bool]string{true: "M", false: "F"}[p.Male]; p.NRN.Sex().String() != wantSex {
					t.Errorf("%s: sex %s", p.Key, p.NRN.Sex())
				}
			}
			wantAges := map[string]int{PersonaParentA: 42, PersonaParentB: 44, PersonaMinor: 10, PersonaAdult: 19}
			for k, age := range wantAges {
				if byKey[k].Age != age || ageAt(byKey[k].Birth, now) != age {
					t.Errorf("%s: age %d, want %d", k, byKey[k].Age, age)
				}
			}
			for _, k := range []string{PersonaMinor, PersonaAdult} {
				if !slices.Equal(byKey[k].Parents, []string{PersonaParentA, PersonaParentB}) {
					t.Errorf("%s parents %v", k, byKey[k].Parents)
				}
				for _, parent := range byKey[k].Parents {
					if !slices.Contains(byKey[parent].Children, k) {
						t.Errorf("%s does not list child %s", parent, k)
					}
				}
			}
			room := byKey[PersonaRoommate]
			if room.Address != byKey[PersonaParentA].Address || len(room.Parents)+len(room.Children) != 0 || room.Position != "12" {
				t.Errorf("roommate %+v", room)
			}
			if byKey[PersonaUnrelated].Address == room.Address || byKey[PersonaUnrelated].HouseholdID == room.HouseholdID {
				t.Error("unrelated persona shares the address or household")
			}
		})
	}
	t.Run("same day gives the same numbers", func(t *testing.T) {
		a := Personas(time.Date(2026, 5, 1, 1, 0, 0, 0, time.UTC))
		b := Personas(time.Date(2026, 5, 1, 23, 0, 0, 0, time.UTC))
		for i := range a {
			if !a[i].NRN.Equal(b[i].NRN) {
				t.Errorf("%s differs within one day", a[i].Key)
			}
		}
	})
}
