package oidc

import (
	"strings"
	"testing"
	"time"

	"github.com/overstap/overstap/auth/identity"
	"github.com/overstap/overstap/internal/config"
	"go.yaml.in/yaml/v3"
)

func TestProviderConfigValidate(t *testing.T) {
	testKeys(t)
	good := func() ProviderConfig {
		return ProviderConfig{
			Name: "fas", Profile: "fas", Issuer: "https://idp.iamfas.int.belgium.be/fas/oauth2",
			ExpectedIssuer: "http://idp.iamfas.int.belgium.be:80/fas/oauth2",
			ClientID:       "c", ClientSecret: config.NewSecret([]byte("s")), RedirectURL: "https://eloket.test/auth/callback/fas",
			MinLevel: "urn:be:fedict:iam:fas:Level450",
		}
	}
	if err := func() *ProviderConfig { c := good(); return &c }().Validate(); err != nil {
		t.Fatalf("good config rejected: %v", err)
	}
	cases := []struct {
		name string
		mod  func(c *ProviderConfig)
		want string // key prefix expected in the error
	}{
		{"name", func(c *ProviderConfig) { c.Name = "FAS prod" }, "name:"},
		{"profile", func(c *ProviderConfig) { c.Profile = "google" }, "profile:"},
		{"issuer http", func(c *ProviderConfig) { c.Issuer = "http://idp.example.be" }, "issuer:"},
		{"issuer relative", func(c *ProviderConfig) { c.Issuer = "/fas" }, "issuer:"},
		{"expected_issuer", func(c *ProviderConfig) { c.ExpectedIssuer = "idp" }, "expected_issuer:"},
		{"client_id", func(c *ProviderConfig) { c.ClientID = "" }, "client_id:"},
		{"client_secret", func(c *ProviderConfig) { c.ClientSecret = config.Secret{} }, "client_secret:"},
		{"private_key", func(c *ProviderConfig) { c.ClientAuth = PrivateKeyJWT }, "private_key:"},
		{"private_key bad", func(c *ProviderConfig) {
			c.ClientAuth = PrivateKeyJWT
			c.PrivateKey = config.NewSecret([]byte("nope"))
		}, "private_key:"},
		{"client_auth", func(c *ProviderConfig) { c.ClientAuth = "none" }, "client_auth:"},
		{"redirect_url", func(c *ProviderConfig) { c.RedirectURL = "http://eloket.test/cb" }, "redirect_url:"},
		{"alg none", func(c *ProviderConfig) { c.AllowedAlgs = []string{"none"} }, "allowed_algs[0]:"},
		{"alg HS256", func(c *ProviderConfig) { c.AllowedAlgs = []string{"RS256", "HS256"} }, "allowed_algs[1]:"},
		{"min_level", func(c *ProviderConfig) { c.MinLevel = "urn:be:vlaanderen:authmech:eid" }, "min_level:"},
		{"extra reserved", func(c *ProviderConfig) { c.Extra = map[string]string{"nonce": "x"} }, "extra:"},
		{"scope", func(c *ProviderConfig) { c.Scopes = []string{"a b"} }, "scopes[0]:"},
		{"flow_ttl", func(c *ProviderConfig) { c.FlowTTL = time.Hour }, "flow_ttl:"},
		{"itsme needs an encryption key", func(c *ProviderConfig) {
			c.Profile, c.ClientSecret, c.MinLevel = "itsme", config.Secret{}, ""
			c.PrivateKey = pemOf(t, rpSigKey)
		}, "encryption_key:"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := good()
			tc.mod(&c)
			err := c.Validate()
			if err == nil {
				t.Fatal("accepted")
			}
			found := false
			for _, line := range strings.Split(err.Error(), "\n") {
				if strings.HasPrefix(line, tc.want) {
					found = true
				}
			}
			if !found {
				t.Fatalf("error %q has no line starting with %q", err, tc.want)
			}
		})
	}
	t.Run("all problems at once", func(t *testing.T) {
		c := ProviderConfig{}
		if n := len(strings.Split(c.Validate().Error(), "\n")); n < 5 {
			t.Fatalf("only %d problems reported", n)
		}
	})
}

func TestProfilesOrdered(t *testing.T) {
	for _, name := range []string{"fas", "itsme", "acmidm", "generic"} {
		p, ok := BuiltinProfile(name)
		if !ok {
			t.Fatalf("%s missing", name)
		}
		if errs := p.validate(); len(errs) > 0 {
			t.Errorf("%s: %v", name, errs)
		}
	}
	fas, _ := BuiltinProfile("fas")
	order := []string{"Level100", "Level200", "Level300", "Level350", "Level400", "Level450", "Level500"}
	for i, l := range order {
		r, err := fas.MinRank("urn:be:fedict:iam:fas:" + l)
		if err != nil || r != i+1 {
			t.Errorf("FAS %s rank = %d, %v", l, r, err)
		}
		rc, _ := fas.MinRank("urn:be:fedict:iam:fas:citizen:" + l)
		if rc != r {
			t.Errorf("FAS citizen:%s rank %d != %d", l, rc, r)
		}
	}
	acm, _ := BuiltinProfile("acmidm")
	for v, want := range map[string]identity.Level{
		"csamselfreg": identity.LevelNone, "csampassword": identity.LevelLow, "csamtotp": identity.LevelSubstantial, "csamsms": identity.LevelSubstantial,
		"eidassubstantial": identity.LevelSubstantial, "eid": identity.LevelHigh, "itsme": identity.LevelHigh, "eidashigh": identity.LevelHigh,
	} {
		i := acm.reached("urn:be:vlaanderen:authmech:"+v, nil)
		if i < 0 || acm.Levels[i].EIDAS != want {
			t.Errorf("ACM %s → index %d, want eIDAS %q", v, i, want)
		}
	}
}

// TestProviderConfigYAML decodes a full entry strictly, as the loader does.
func TestProviderConfigYAML(t *testing.T) {
	src := `
name: itsme
profile: itsme
issuer: https://idp.e2e.itsme.services/v2
client_id: my-client
client_secret: "insecure-literal:s3cret"
client_auth: client_secret_post
redirect_url: https://eloket.test/auth/callback/itsme
extra_scopes: ["service:GEMEENTE_LOGIN"]
allowed_algs: [RS256]
min_level: high
flow_ttl: 5m
clock_skew: 30s
`
	var c ProviderConfig
	dec := yaml.NewDecoder(strings.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.FlowTTL != 5*time.Minute || c.ClockSkew != 30*time.Second || c.ClientSecret.Value() != "s3cret" {
		t.Errorf("decoded %+v", c)
	}
	if got := c.profile().Scopes; strings.Join(got, " ") != "profile eid service:GEMEENTE_LOGIN" {
		t.Errorf("scopes = %v", got)
	}
	dec = yaml.NewDecoder(strings.NewReader(src + "unknown_key: 1\n"))
	dec.KnownFields(true)
	if err := dec.Decode(&ProviderConfig{}); err == nil {
		t.Error("unknown key accepted")
	}
}
