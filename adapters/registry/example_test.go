package registry_test

import (
	"context"
	"fmt"
	"time"

	"github.com/overstap/overstap/adapters/registry"
	"github.com/overstap/overstap/auth/nrn"
)

// ExampleMinorChildOrWard: a register export with one parent and two
// children, one of them of age. Only the minor child may be linked without
// consent.
func ExampleMinorChildOrWard() {
	now := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
	parent, _ := nrn.Synthetic(time.Date(1984, 3, 2, 0, 0, 0, 0, time.UTC), false, 901)
	minor, _ := nrn.Synthetic(time.Date(2016, 6, 1, 0, 0, 0, 0, time.UTC), true, 903)
	adult, _ := nrn.Synthetic(time.Date(2007, 1, 9, 0, 0, 0, 0, time.UTC), false, 905)
	src, err := registry.NewMemory("example", registry.Export{
		Persons: []registry.PersonRow{
			{NRN: parent.Digits(), BirthDate: "1984-03-02", HouseholdID: "h1", Position: "01"},
			{NRN: minor.Digits(), BirthDate: "2016-06-01", HouseholdID: "h1", Position: "03"},
			{NRN: adult.Digits(), BirthDate: "2007-01-09", HouseholdID: "h1", Position: "03"},
		},
		Relations: []registry.RelationRow{
			{NRN: parent.Digits(), Related: minor.Digits(), Kind: registry.Child},
			{NRN: parent.Digits(), Related: adult.Digits(), Kind: registry.Child},
		},
	})
	if err != nil {
		panic(err)
	}
	for _, m := range []nrn.Number{minor, adult} {
		rel, ok, err := registry.MinorChildOrWard(context.Background(), src, parent, m, now)
		fmt.Println(m.Mask(), rel, ok, err)
	}
	// Output:
	// 16.06.01-***.** child true <nil>
	// 07.01.09-***.**  false <nil>
}
