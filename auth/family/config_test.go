package family_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/overstap/overstap/auth/family"
	"github.com/overstap/overstap/internal/config"
)

// TestExampleConfig keeps configs/family.yaml valid under strict decoding.
func TestExampleConfig(t *testing.T) {
	f, err := os.Open("../../configs/family.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	t.Setenv("OVERSTAP_REGISTRY_PASSWORD", "example")
	var c struct {
		Family family.Config `yaml:"family"`
	}
	if err := config.Decode(f, &c); err != nil {
		t.Fatalf("configs/family.yaml: %v", err)
	}
	if c.Family.Registry.Kind != "sql" || c.Family.StepUp.MaxAge != 10*time.Minute || len(c.Family.Apps) != 1 || c.Family.Apps[0].InviteActions[0] != "attest" {
		t.Fatalf("decoded %+v", c.Family)
	}
}

func TestConfigValidate(t *testing.T) {
	ok := family.AppConfig{Name: "eloket"}
	cases := map[string]struct {
		c    family.Config
		want string
	}{
		"no apps":          {family.Config{}, "apps:"},
		"weak step-up":     {family.Config{Apps: []family.AppConfig{ok}, StepUp: family.StepUp{Level: "low"}}, "step_up.level"},
		"long invitations": {family.Config{Apps: []family.AppConfig{ok}, InvitationTTL: 60 * 24 * time.Hour}, "invitation_ttl"},
		"duplicate app":    {family.Config{Apps: []family.AppConfig{ok, ok}}, "apps[1].name"},
		"member path":      {family.Config{Apps: []family.AppConfig{{Name: "a", MemberPath: "/family/*"}}}, "member_path"},
		"action GET":       {family.Config{Apps: []family.AppConfig{{Name: "a", Actions: []family.Action{{Name: "x", Methods: []string{"GET"}, Path: "/f/{member}"}}}}}, "methods"},
		"invite unknown":   {family.Config{Apps: []family.AppConfig{{Name: "a", InviteActions: []string{"pay"}}}}, "invite_actions"},
		"return_to":        {family.Config{Apps: []family.AppConfig{{Name: "a", ReturnTo: "//evil.example"}}}, "return_to"},
		"registry":         {family.Config{Apps: []family.AppConfig{ok}, Registry: registryKind("magda")}, "registry.kind"},
		"label language":   {family.Config{Apps: []family.AppConfig{{Name: "a", Label: family.Words{"nl": "E-loket", "fr": "Guichet", "en": "Counter"}}}}, "apps[0].label.de: missing"},
		"label unknown":    {family.Config{Apps: []family.AppConfig{{Name: "a", Label: family.Words{"nl": "a", "fr": "a", "de": "a", "en": "a", "es": "a"}}}}, "apps[0].label.es: not a page language"},
		"action label": {family.Config{Apps: []family.AppConfig{{Name: "a", Actions: []family.Action{{Name: "pay", Methods: []string{"POST"}, Path: "/f/{member}/pay",
			Label: family.Words{"nl": "betalen", "fr": "payer", "de": " ", "en": "pay"}}}}}}, "apps[0].actions[0].label.de: missing"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			err := c.c.Validate()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want %q", err, c.want)
			}
		})
	}
	if err := (family.Config{Apps: []family.AppConfig{ok}}).Validate(); err != nil {
		t.Fatal(err)
	}
	full := family.Words{"nl": "E-loket", "fr": "Guichet", "de": "Schalter", "en": "Counter"}
	if err := (family.Config{Apps: []family.AppConfig{{Name: "a", Label: full}}}).Validate(); err != nil {
		t.Fatal(err)
	}
}

// TestWordsFallback: the page's language, else the first page language
// that has the text, else the fallback.
func TestWordsFallback(t *testing.T) {
	w := family.Words{"fr": "Guichet", "en": "Counter"}
	if w.In("en", "x") != "Counter" || w.In("de", "x") != "Guichet" || family.Words(nil).In("nl", "eloket") != "eloket" {
		t.Fatal(w.In("en", "x"), w.In("de", "x"))
	}
}
