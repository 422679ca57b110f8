package demo

import (
	"path/filepath"
	"time"

	"github.com/overstap/overstap/adapters/registry"
	"github.com/overstap/overstap/auth/devidp"
	"github.com/overstap/overstap/auth/family"
)

// familyRegistryFiles are the demo register's CSV export files in dir.
func familyRegistryFiles(dir string) (persons, relations string) {
	return filepath.Join(dir, "register-persons.csv"), filepath.Join(dir, "register-relations.csv")
}

// familyConfig is the family section of the demo's configuration (the
// e-loket's family routes, step-up high within 10 minutes): the register is the CSV export Start writes to dir (the personas'
// households and descent), read like a municipality's export.
func familyConfig(dir string) *family.Config {
	persons, relations := familyRegistryFiles(dir)
	return &family.Config{
		Registry: registry.Config{Kind: "csv", CSV: registry.CSVConfig{Persons: persons, Relations: relations}},
		StepUp:   family.StepUp{Level: "high", MaxAge: 10 * time.Minute},
		Apps: []family.AppConfig{{
			Name: AppName, MemberField: "rijksregisternummer", MemberPath: "/family/{member}/**", ReturnTo: "/family",
			Label: family.Words{"nl": "E-loket", "fr": "Guichet électronique", "de": "Online-Schalter", "en": "Online counter"},
		}},
	}
}

// RegistryExport is the population register of the demo: the personas'
// households and descent, as a municipality's export would hold them.
func RegistryExport(ps []devidp.Persona) registry.Export {
	byKey := map[string]devidp.Persona{}
	var e registry.Export
	for _, p := range ps {
		if p.NRN.IsZero() {
			continue
		}
		byKey[p.Key] = p
		e.Persons = append(e.Persons, registry.PersonRow{NRN: p.NRN.Digits(), BirthDate: p.Birth.Format(time.DateOnly),
			HouseholdID: p.HouseholdID, Position: p.Position})
	}
	for _, p := range ps {
		for _, c := range p.Children {
			if child, ok := byKey[c]; ok && !p.NRN.IsZero() {
				e.Relations = append(e.Relations, registry.RelationRow{NRN: p.NRN.Digits(), Related: child.NRN.Digits(), Kind: registry.Child})
			}
		}
	}
	return e
}
