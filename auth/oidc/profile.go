package oidc

import (
	"fmt"
	"slices"

	"github.com/overstap/overstap/auth/identity"
)

// ClaimSource says where a claim is read from.
type ClaimSource string

// Claim sources.
const (
	FromIDToken  ClaimSource = "id_token"
	FromUserinfo ClaimSource = "userinfo"
)

// LevelSource says which claims carry the authentication level.
type LevelSource string

// Level sources.
const (
	LevelNone     LevelSource = ""        // the provider asserts no level
	LevelFromACR  LevelSource = "acr"     // the acr claim
	LevelFromAMR  LevelSource = "amr"     // the amr claim (array)
	LevelFromBoth LevelSource = "acr_amr" // both; see Profile.Level
)

// ClientAuth is a token-endpoint client authentication method.
type ClientAuth string

// Client authentication methods.
const (
	ClientSecretBasic ClientAuth = "client_secret_basic"
	ClientSecretPost  ClientAuth = "client_secret_post"
	PrivateKeyJWT     ClientAuth = "private_key_jwt"
)

// Level is one row of a provider's ordered level table.
type Level struct {
	// Name is the value sent in acr_values and found in acr/amr.
	Name string
	// Aliases are other values that mean the same level (e.g. FAS
	// "citizen:" variants).
	Aliases []string
	// EIDAS is the eIDAS level of assurance this level counts as.
	EIDAS identity.Level
	// NoNRN marks levels that never yield a national-number identity (FAS
	// Level100, ACM csamselfreg: self-registered accounts). An NRN claim is
	// ignored at such a level.
	NoNRN bool
}

// Profile describes how one kind of provider behaves. Profiles are data:
// the callback code has one path, and a profile only changes its inputs.
// A ProviderConfig starts from a built-in profile and may override fields.
type Profile struct {
	// Name is "fas", "itsme", "acmidm" or "generic".
	Name string
	// Scopes are the default scopes (openid is always added).
	Scopes []string
	// Claims is the OIDC "claims" request parameter (JSON), empty for none.
	Claims string
	// NRNClaim is the claim holding the national number ("" when the
	// provider gives none).
	NRNClaim string
	// NRNFrom says whether NRNClaim is in the ID token or in userinfo.
	NRNFrom ClaimSource
	// NameClaim, GivenNameClaim, FamilyNameClaim and LocaleClaim name the
	// profile claims (read from the ID token, then userinfo). The display
	// name is NameClaim's value, else given and family name.
	NameClaim, GivenNameClaim, FamilyNameClaim, LocaleClaim string
	// LevelFrom says where the level is.
	LevelFrom LevelSource
	// Levels is the ordered level table, weakest first.
	Levels []Level
	// DefaultLevel is what every login counts as when the profile has no
	// level table (generic without levels: low). With a table, a login
	// asserting none of its values reaches no level.
	DefaultLevel identity.Level
	// ClientAuth is the default token-endpoint authentication.
	ClientAuth ClientAuth
	// IDTokenEncrypted requires the ID token to be a JWE (itsme).
	IDTokenEncrypted bool
	// FetchUserinfo makes the callback call the userinfo endpoint even when
	// the NRN is in the ID token (for names).
	FetchUserinfo bool
}

// Built-in level tables. The FAS and ACM tables follow REFERENCE.md §3;
// see docs/providers.md for the eIDAS mapping decisions.
var (
	fasLevels = []Level{
		{Name: "urn:be:fedict:iam:fas:Level100", Aliases: []string{"urn:be:fedict:iam:fas:citizen:Level100"}, NoNRN: true},
		{Name: "urn:be:fedict:iam:fas:Level200", Aliases: []string{"urn:be:fedict:iam:fas:citizen:Level200"}, EIDAS: identity.LevelLow},
		{Name: "urn:be:fedict:iam:fas:Level300", Aliases: []string{"urn:be:fedict:iam:fas:citizen:Level300"}, EIDAS: identity.LevelLow},
		{Name: "urn:be:fedict:iam:fas:Level350", Aliases: []string{"urn:be:fedict:iam:fas:citizen:Level350"}, EIDAS: identity.LevelLow},
		{Name: "urn:be:fedict:iam:fas:Level400", Aliases: []string{"urn:be:fedict:iam:fas:citizen:Level400"}, EIDAS: identity.LevelSubstantial},
		{Name: "urn:be:fedict:iam:fas:Level450", Aliases: []string{"urn:be:fedict:iam:fas:citizen:Level450"}, EIDAS: identity.LevelHigh},
		{Name: "urn:be:fedict:iam:fas:Level500", Aliases: []string{"urn:be:fedict:iam:fas:citizen:Level500"}, EIDAS: identity.LevelHigh},
	}
	itsmeLevels = []Level{
		{Name: "http://itsme.services/v2/claim/acr_basic", EIDAS: identity.LevelSubstantial},
		{Name: "http://itsme.services/v2/claim/acr_advanced", EIDAS: identity.LevelHigh},
	}
	acmLevels = []Level{
		{Name: "urn:be:vlaanderen:authmech:csamselfreg", NoNRN: true},
		{Name: "urn:be:vlaanderen:authmech:csampassword", EIDAS: identity.LevelLow},
		{Name: "urn:be:vlaanderen:authmech:eidassubstantial", Aliases: []string{
			"urn:be:vlaanderen:authmech:csamtotp", "urn:be:vlaanderen:authmech:csamsms"}, EIDAS: identity.LevelSubstantial},
		{Name: "urn:be:vlaanderen:authmech:eidashigh", Aliases: []string{
			"urn:be:vlaanderen:authmech:eid", "urn:be:vlaanderen:authmech:itsme"}, EIDAS: identity.LevelHigh},
	}
)

// BuiltinProfile returns a copy of the named built-in profile.
func BuiltinProfile(name string) (Profile, bool) {
	var p Profile
	switch name {
	case "fas":
		p = Profile{
			Name: "fas", Scopes: []string{"profile", "egovnrn"},
			NRNClaim: "egovNRN", NRNFrom: FromUserinfo,
			GivenNameClaim: "givenName", FamilyNameClaim: "surname", LocaleClaim: "prefLanguage",
			LevelFrom: LevelFromBoth, Levels: fasLevels, ClientAuth: ClientSecretBasic,
			FetchUserinfo: true,
		}
	case "itsme":
		p = Profile{
			Name: "itsme", Scopes: []string{"profile", "eid"},
			Claims:   `{"id_token":{"http://itsme.services/v2/claim/BENationalNumber":null,"given_name":null,"family_name":null,"locale":null}}`,
			NRNClaim: "http://itsme.services/v2/claim/BENationalNumber", NRNFrom: FromIDToken,
			NameClaim: "name", GivenNameClaim: "given_name", FamilyNameClaim: "family_name", LocaleClaim: "locale",
			LevelFrom: LevelFromACR, Levels: itsmeLevels, ClientAuth: PrivateKeyJWT,
			IDTokenEncrypted: true,
		}
	case "acmidm":
		p = Profile{
			Name: "acmidm", Scopes: []string{"profile", "rrn"},
			NRNClaim: "rrn", NRNFrom: FromIDToken,
			NameClaim: "name", GivenNameClaim: "given_name", FamilyNameClaim: "family_name", LocaleClaim: "locale",
			LevelFrom: LevelFromACR, Levels: acmLevels, ClientAuth: ClientSecretBasic,
			FetchUserinfo: true, // names may come only from userinfo
		}
	case "generic":
		p = Profile{
			Name: "generic", Scopes: []string{"profile"},
			NRNFrom:   FromIDToken,
			NameClaim: "name", GivenNameClaim: "given_name", FamilyNameClaim: "family_name", LocaleClaim: "locale",
			ClientAuth:   ClientSecretBasic,
			DefaultLevel: identity.LevelLow, // until the configuration gives a level table
		}
	default:
		return Profile{}, false
	}
	p.Scopes = slices.Clone(p.Scopes)
	p.Levels = slices.Clone(p.Levels)
	return p, true
}

// levelIndex returns the 0-based index of value in the table, or -1.
func (p *Profile) levelIndex(value string) int {
	for i, l := range p.Levels {
		if l.Name == value || slices.Contains(l.Aliases, value) {
			return i
		}
	}
	return -1
}

// MinRank resolves a minimum level written as a level name (or alias) of
// the table, or as an eIDAS word ("low", "substantial", "high"), to a rank
// (1-based position in the table). "" means no minimum (rank 0).
func (p *Profile) MinRank(min string) (int, error) {
	if min == "" {
		return 0, nil
	}
	if i := p.levelIndex(min); i >= 0 {
		return i + 1, nil
	}
	if e, err := identity.ParseLevel(min); err == nil {
		if len(p.Levels) == 0 {
			if p.DefaultLevel >= e {
				return 0, nil // every login counts as DefaultLevel: nothing to ask
			}
			return 0, fmt.Errorf("%w: profile %s has no level table (its logins count as %s), %s needed",
				ErrLevelUnavailable, p.Name, p.DefaultLevel, e)
		}
		for i, l := range p.Levels {
			if l.EIDAS >= e {
				return i + 1, nil
			}
		}
		return 0, fmt.Errorf("%w: no level of profile %s reaches %s", ErrLevelUnavailable, p.Name, e)
	}
	return 0, fmt.Errorf("oidc: profile %s: unknown level %q", p.Name, min)
}

// reached computes the level reached from the acr and amr claims. Only
// values found in the table count (FAS sends acr "0", which is ignored).
// When several table values are present (acr and amr, or several amr
// entries) the LOWEST one counts: disagreeing claims never raise the level.
// It returns the 0-based index, or -1 when no known level was asserted.
func (p *Profile) reached(acr string, amr []string) int {
	best := -1
	consider := func(v string) {
		if i := p.levelIndex(v); i >= 0 && (best < 0 || i < best) {
			best = i
		}
	}
	switch p.LevelFrom {
	case LevelFromACR:
		consider(acr)
	case LevelFromAMR:
		for _, v := range amr {
			consider(v)
		}
	case LevelFromBoth:
		consider(acr)
		for _, v := range amr {
			consider(v)
		}
	}
	return best
}

func (p *Profile) validate() []error {
	var errs []error
	switch p.LevelFrom {
	case LevelNone, LevelFromACR, LevelFromAMR, LevelFromBoth:
	default:
		errs = append(errs, fmt.Errorf("level_from: %q is not one of acr, amr, acr_amr", p.LevelFrom))
	}
	if p.LevelFrom != LevelNone && len(p.Levels) == 0 {
		errs = append(errs, fmt.Errorf("levels: required when level_from is %q", p.LevelFrom))
	}
	switch p.NRNFrom {
	case FromIDToken, FromUserinfo:
	default:
		errs = append(errs, fmt.Errorf("nrn_from: %q is not id_token or userinfo", p.NRNFrom))
	}
	switch p.ClientAuth {
	case ClientSecretBasic, ClientSecretPost, PrivateKeyJWT:
	default:
		errs = append(errs, fmt.Errorf("client_auth: %q is not client_secret_basic, client_secret_post or private_key_jwt", p.ClientAuth))
	}
	prev := 0
	for i, l := range p.Levels {
		if l.Name == "" {
			errs = append(errs, fmt.Errorf("levels[%d]: name is required", i))
		}
		if r := int(l.EIDAS); r < prev {
			errs = append(errs, fmt.Errorf("levels[%d]: eIDAS level %q is lower than a weaker row's", i, l.EIDAS))
		} else {
			prev = r
		}
	}
	return errs
}
