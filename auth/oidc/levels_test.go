package oidc

import (
	"errors"
	"strings"
	"testing"

	"github.com/overstap/overstap/auth/identity"
	"github.com/overstap/overstap/internal/config"
)

func brokerConfig() ProviderConfig {
	return ProviderConfig{
		Name: "broker", Profile: "generic", Issuer: "https://sso.gemeente.be/realms/burgers",
		ClientID: "eloket", ClientSecret: config.NewSecret([]byte("s")), RedirectURL: "https://eloket.test/.overstap/callback/broker",
		NRNClaim: "rrn",
		Levels: []LevelConfig{
			{Value: "password", Level: identity.LevelLow},
			{Value: "otp", Aliases: []string{"urn:broker:totp"}, Level: identity.LevelSubstantial},
			{Value: "eid", Level: identity.LevelHigh},
		},
	}
}

// TestLevelTableConfig: a generic provider's configured table maps its acr
// values onto eIDAS levels; a minimum is asked as the weakest row reaching
// it; without a table every login counts as low and more is unavailable.
func TestLevelTableConfig(t *testing.T) {
	c := brokerConfig()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	p := c.profile()
	for _, tc := range []struct {
		min  string
		rank int
	}{{"", 0}, {"low", 1}, {"substantial", 2}, {"high", 3}, {"urn:broker:totp", 2}} {
		if r, err := p.MinRank(tc.min); err != nil || r != tc.rank {
			t.Errorf("MinRank(%q) = %d, %v; want %d", tc.min, r, err, tc.rank)
		}
	}
	if i := p.reached("urn:broker:totp", nil); i != 1 || p.Levels[i].EIDAS != identity.LevelSubstantial {
		t.Errorf("alias reached %d", i)
	}
	if i := p.reached("gold", []string{"eid"}); i != -1 {
		t.Errorf("unknown acr reached %d (level_from acr ignores amr)", i)
	}
	c.LevelFrom = LevelFromAMR
	if p := c.profile(); p.reached("", []string{"eid", "password"}) != 0 {
		t.Error("amr: the lowest value must count")
	}

	// Without a table: low, and nothing above it.
	c = brokerConfig()
	c.Levels = nil
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	p = c.profile()
	if r, err := p.MinRank("low"); err != nil || r != 0 || p.DefaultLevel != identity.LevelLow {
		t.Errorf("no table: MinRank(low) = %d, %v (default %q)", r, err, p.DefaultLevel)
	}
	for _, min := range []string{"substantial", "high"} {
		if _, err := p.MinRank(min); !errors.Is(err, ErrLevelUnavailable) {
			t.Errorf("no table: MinRank(%s) = %v, want ErrLevelUnavailable", min, err)
		}
	}
	// A table without high cannot give high.
	c = brokerConfig()
	c.Levels = c.Levels[:2]
	if p := c.profile(); !errors.Is(func() error { _, err := p.MinRank("high"); return err }(), ErrLevelUnavailable) {
		t.Error("MinRank(high) of a table without high: want ErrLevelUnavailable")
	}

	bad := []struct {
		name string
		mod  func(c *ProviderConfig)
		want string
	}{
		{"space in value", func(c *ProviderConfig) { c.Levels[0].Value = "two words" }, "levels[0].value:"},
		{"duplicate", func(c *ProviderConfig) { c.Levels[2].Aliases = []string{"otp"} }, "levels[2].aliases[0]: \"otp\" appears twice"},
		{"no level", func(c *ProviderConfig) { c.Levels[1].Level = identity.LevelNone }, "levels[1].level: required"},
		{"not weakest first", func(c *ProviderConfig) { c.Levels[0].Level = identity.LevelHigh }, "levels[1].level: substantial after a stronger row"},
		{"level_from", func(c *ProviderConfig) { c.LevelFrom = "claims" }, "level_from:"},
		{"built-in profile keeps its table", func(c *ProviderConfig) { c.Profile = "acmidm" }, "levels: profile acmidm has its own level table"},
		{"min_level unreachable", func(c *ProviderConfig) { c.Levels = c.Levels[:1]; c.MinLevel = "high" }, "min_level: \"high\": oidc: the provider cannot assert"},
		{"no nrn claim", func(c *ProviderConfig) { c.NRNClaim = "" }, "nrn_claim: profile generic has no national-number claim"},
		{"name claim", func(c *ProviderConfig) { c.NameClaim = "full name" }, "name_claim:"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			c := brokerConfig()
			tc.mod(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate() = %v, want %q", err, tc.want)
			}
		})
	}
	c = brokerConfig()
	c.NRNClaim, c.RequireNRN = "", new(false)
	if err := c.Validate(); err != nil {
		t.Errorf("identity-only provider refused: %v", err)
	}
}
