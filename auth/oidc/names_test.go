package oidc

import (
	"encoding/json"
	"strings"
	"testing"
)

func claims(t *testing.T, m map[string]any) map[string]json.RawMessage {
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]json.RawMessage
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCitizenName: the name claim, else given + family name, from the ID
// token then userinfo, per profile; cleaned to NFC without controls.
func TestCitizenName(t *testing.T) {
	fas, _ := BuiltinProfile("fas")
	itsme, _ := BuiltinProfile("itsme")
	generic, _ := BuiltinProfile("generic")
	renamed := generic
	renamed.NameClaim, renamed.GivenNameClaim, renamed.FamilyNameClaim = "displayName", "voornaam", "achternaam"
	for _, tc := range []struct {
		name   string
		prof   Profile
		id, ui map[string]any
		want   string
	}{
		{"FAS givenName/surname from userinfo", fas, nil, map[string]any{"givenName": "Zoë", "surname": "Françoise-Noël"}, "Zoë Françoise-Noël"},
		{"FAS ignores a name claim", fas, map[string]any{"name": "X"}, map[string]any{"givenName": "Jan", "surname": "Peeters"}, "Jan Peeters"},
		{"itsme name claim first", itsme, map[string]any{"name": "محمد العلوي", "given_name": "x", "family_name": "y"}, nil, "محمد العلوي"},
		{"itsme given + family", itsme, map[string]any{"given_name": "小明", "family_name": "王"}, nil, "小明 王"},
		{"ID token before userinfo", generic, map[string]any{"name": "Token Name"}, map[string]any{"name": "Userinfo Name"}, "Token Name"},
		{"userinfo when the ID token has none", generic, nil, map[string]any{"name": "Userinfo Name"}, "Userinfo Name"},
		{"renamed claims", renamed, map[string]any{"voornaam": "Els", "achternaam": "De Smet"}, nil, "Els De Smet"},
		{"renamed display name", renamed, map[string]any{"displayName": "Els De Smet (OCMW)"}, nil, "Els De Smet (OCMW)"},
		{"only a family name", generic, map[string]any{"family_name": "Janssens"}, nil, "Janssens"},
		{"NFC", generic, map[string]any{"name": "Rene\u0301e"}, nil, "Ren\u00e9e"},
		{"controls and bidi overrides removed", generic, map[string]any{"name": "Jan\u202e\u0000 \t\n Peeters\u2066"}, nil, "Jan Peeters"},
		{"RLM kept for Arabic", generic, map[string]any{"name": "\u200fمحمد"}, nil, "\u200fمحمد"},
		{"not a string", generic, map[string]any{"name": 42, "given_name": "A", "family_name": "B"}, nil, "A B"},
		{"too long", generic, map[string]any{"name": strings.Repeat("é", 200)}, nil, ""},
		{"none", generic, nil, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := citizenName(claims(t, tc.id), claims(t, tc.ui), &tc.prof); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
