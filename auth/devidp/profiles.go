package devidp

import (
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// Profile names a provider the dev IdP imitates.
type Profile string

// The profiles. Their issuer paths follow the real providers.
const (
	ProfileFAS   Profile = "fas"   // CSAM/FAS, issuer path /fas/oauth2
	ProfileITSME Profile = "itsme" // itsme, issuer path /itsme/v2
	ProfileACM   Profile = "acm"   // ACM/IDM, issuer path /acm/op
)

// AllProfiles lists every profile in a fixed order.
var AllProfiles = []Profile{ProfileFAS, ProfileITSME, ProfileACM}

// Claim names the profiles use.
const (
	ClaimEgovNRN           = "egovNRN"
	ClaimITSMENRN          = "http://itsme.services/v2/claim/BENationalNumber"
	ClaimRRN               = "rrn"
	ClaimFASGivenName      = "givenName"
	ClaimFASSurname        = "surname"
	ClaimFASPrefLanguage   = "prefLanguage"
	EventBackchannelLogout = "http://schemas.openid.net/event/backchannel-logout"
)

// Level is an authentication level a tester can pick for one login.
type Level struct {
	// Key is the form value on the picker, e.g. "500", "advanced", "eid".
	Key string
	// Label is shown on the picker.
	Label string
	// ACR is the acr claim of the ID token.
	ACR string
	// AMR is the amr claim of the ID token (may be empty).
	AMR []string
	// Rank orders the levels of one profile (higher is stronger).
	Rank int
	// NoNRN marks a level that is not linked to a national number
	// (FAS Level100, ACM csamselfreg): no NRN claim is released.
	NoNRN bool
}

type profileSpec struct {
	name         Profile
	path         string // issuer path, no trailing slash
	title        string
	authorize    string
	token        string
	userinfo     string
	endSession   string
	keys         string
	introspect   string
	revoke       string
	levels       []Level
	defaultLevel string
	codeTTL      time.Duration
	idTokenTTL   time.Duration
	accessTTL    time.Duration
	authMethods  []oidc.AuthMethod
	// encryptTokens: ID token and userinfo are signed then encrypted to the
	// client's enc key (itsme); clients must register one.
	encryptTokens bool
	scopes        []string
}

func fasLevel(n, label string, rank int, noNRN bool) Level {
	urn := "urn:be:fedict:iam:fas:Level" + n
	return Level{Key: n, Label: label, ACR: "0", AMR: []string{urn}, Rank: rank, NoNRN: noNRN}
}

func acmLevel(key, label string, rank int, noNRN bool) Level {
	return Level{Key: key, Label: label, ACR: "urn:be:vlaanderen:authmech:" + key, Rank: rank, NoNRN: noNRN}
}

var profileSpecs = map[Profile]*profileSpec{
	ProfileFAS: {
		name: ProfileFAS, path: "/fas/oauth2", title: "CSAM / FAS (federal)",
		authorize: "authorize", token: "access_token", userinfo: "userinfo",
		endSession: "connect/endSession", keys: "connect/jwk_uri", introspect: "introspect", revoke: "token/revoke",
		levels: []Level{
			fasLevel("100", "Level100: self-registered account (no national number)", 1, true),
			fasLevel("200", "Level200: username and password", 2, false),
			fasLevel("400", "Level400: TOTP or SMS code (eIDAS substantial)", 4, false),
			fasLevel("450", "Level450: itsme", 5, false),
			fasLevel("500", "Level500: eID card reader", 6, false),
		},
		defaultLevel: "500",
		codeTTL:      5 * time.Minute, idTokenTTL: time.Hour, accessTTL: time.Hour,
		authMethods: []oidc.AuthMethod{oidc.AuthMethodBasic},
		scopes:      []string{oidc.ScopeOpenID, oidc.ScopeProfile, "egovnrn"},
	},
	ProfileITSME: {
		name: ProfileITSME, path: "/itsme/v2", title: "itsme",
		authorize: "authorization", token: "token", userinfo: "userinfo",
		endSession: "logout", keys: "jwks", introspect: "introspect", revoke: "revoke",
		levels: []Level{
			{Key: "basic", Label: "acr_basic: itsme app, PIN", ACR: "http://itsme.services/v2/claim/acr_basic", Rank: 1},
			{Key: "advanced", Label: "acr_advanced: itsme app, PIN, fresh confirmation", ACR: "http://itsme.services/v2/claim/acr_advanced", Rank: 2},
		},
		defaultLevel: "basic",
		codeTTL:      3 * time.Minute, idTokenTTL: 5 * time.Minute, accessTTL: 5 * time.Minute,
		authMethods:   []oidc.AuthMethod{oidc.AuthMethodPrivateKeyJWT, oidc.AuthMethodPost},
		encryptTokens: true,
		scopes:        []string{oidc.ScopeOpenID, oidc.ScopeProfile, "eid", oidc.ScopeEmail},
	},
	ProfileACM: {
		name: ProfileACM, path: "/acm/op", title: "ACM / IDM (Flemish government)",
		authorize: "v1/auth", token: "v1/token", userinfo: "v1/userinfo",
		endSession: "v1/logout", keys: "v1/keys", introspect: "v1/introspect", revoke: "v1/revoke",
		levels: []Level{
			acmLevel("csamselfreg", "csamselfreg: self-registered (no national number)", 1, true),
			acmLevel("csampassword", "csampassword: username and password", 2, false),
			acmLevel("csamsms", "csamsms: SMS code", 3, false),
			acmLevel("csamtotp", "csamtotp: authenticator app", 3, false),
			acmLevel("eidassubstantial", "eidassubstantial: eIDAS substantial", 3, false),
			acmLevel("itsme", "itsme", 4, false),
			acmLevel("eidashigh", "eidashigh: eIDAS high", 4, false),
			acmLevel("eid", "eid: eID card reader", 4, false),
		},
		defaultLevel: "eid",
		codeTTL:      30 * time.Second, idTokenTTL: time.Hour, accessTTL: time.Hour,
		authMethods: []oidc.AuthMethod{oidc.AuthMethodBasic, oidc.AuthMethodPost, oidc.AuthMethodPrivateKeyJWT},
		scopes:      []string{oidc.ScopeOpenID, oidc.ScopeProfile, "rrn"},
	},
}

// Path returns the issuer path of the profile ("/fas/oauth2"), or "" for an
// unknown profile.
func (p Profile) Path() string {
	if s, ok := profileSpecs[p]; ok {
		return s.path
	}
	return ""
}

// Levels returns the levels a tester can pick in the profile, weakest first.
func (p Profile) Levels() []Level {
	if s, ok := profileSpecs[p]; ok {
		return slices.Clone(s.levels)
	}
	return nil
}

// Valid reports whether p is a known profile.
func (p Profile) Valid() bool { _, ok := profileSpecs[p]; return ok }

func (s *profileSpec) level(key string) (Level, bool) {
	for _, l := range s.levels {
		if l.Key == key {
			return l, true
		}
	}
	return Level{}, false
}

// levelFor returns the level whose acr or amr value equals v.
func (s *profileSpec) levelFor(v string) (Level, bool) {
	for _, l := range s.levels {
		if l.ACR == v && l.ACR != "0" || slices.Contains(l.AMR, v) {
			return l, true
		}
	}
	return Level{}, false
}

// minRequested returns the weakest level among the requested acr_values
// that the profile knows (the RP's minimum), and whether there was one.
func (s *profileSpec) minRequested(acrValues []string) (Level, bool) {
	var best Level
	found := false
	for _, v := range acrValues {
		if l, ok := s.levelFor(v); ok && (!found || l.Rank < best.Rank) {
			best, found = l, true
		}
	}
	return best, found
}

// offers reports whether the profile offers persona p on its picker: the
// foreign-document persona exists only at itsme, and itsme users are 16 or
// older.
func (s *profileSpec) offers(p Persona) bool {
	if s.name == ProfileITSME {
		return p.Age >= 16
	}
	return !p.ForeignDocument
}
