package devidp

import (
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"golang.org/x/text/language"
)

// releasesNRN reports whether a login of per at level may carry a national
// number: never for a persona without one, never at a level that is not
// linked to one (FAS Level100, ACM csamselfreg).
func releasesNRN(per Persona, level Level) bool { return per.HasNRN() && !level.NoNRN }

func (c claimsRequest) wantsIDToken(name string) bool { _, ok := c.IDToken[name]; return ok }
func (c claimsRequest) wantsUserinfo(name string) bool {
	_, ok := c.Userinfo[name]
	return ok
}

func setOIDCNames(info *oidc.UserInfo, per Persona) {
	info.GivenName = per.GivenName
	info.FamilyName = per.FamilyName
	info.Name = per.Name()
	info.Locale = oidc.NewLocale(language.Make(per.Language))
}

// idTokenClaims adds the profile's claims to an ID token. scopes are the
// granted scopes minus profile/email/address/phone (those are userinfo
// claims, OIDC Core §5.4).
func (p *profileState) idTokenClaims(info *oidc.UserInfo, per Persona, level Level, scopes []string, cr claimsRequest) {
	switch p.spec.name {
	case ProfileFAS:
		// FAS puts identity claims in userinfo only.
	case ProfileITSME:
		if releasesNRN(per, level) && (slices.Contains(scopes, "eid") || cr.wantsIDToken(ClaimITSMENRN)) {
			info.AppendClaims(ClaimITSMENRN, per.NRN.Digits())
		}
		if cr.wantsIDToken("given_name") || cr.wantsIDToken("family_name") || cr.wantsIDToken("name") {
			setOIDCNames(info, per)
		}
	case ProfileACM:
		if releasesNRN(per, level) && slices.Contains(scopes, "rrn") {
			info.AppendClaims(ClaimRRN, per.NRN.Digits())
		}
	}
}

// userinfoClaims fills the userinfo response.
func (p *profileState) userinfoClaims(info *oidc.UserInfo, per Persona, level Level, scopes []string, cr claimsRequest) {
	profile := slices.Contains(scopes, oidc.ScopeProfile)
	switch p.spec.name {
	case ProfileFAS:
		if releasesNRN(per, level) && slices.Contains(scopes, "egovnrn") {
			info.AppendClaims(ClaimEgovNRN, per.NRN.Digits())
		}
		if profile {
			info.AppendClaims(ClaimFASGivenName, per.GivenName)
			info.AppendClaims(ClaimFASSurname, per.FamilyName)
			info.AppendClaims(ClaimFASPrefLanguage, per.Language)
			info.AppendClaims("mail", per.Email)
		}
	case ProfileITSME:
		if releasesNRN(per, level) && (slices.Contains(scopes, "eid") || cr.wantsUserinfo(ClaimITSMENRN)) {
			info.AppendClaims(ClaimITSMENRN, per.NRN.Digits())
		}
		if profile || cr.wantsUserinfo("given_name") || cr.wantsUserinfo("family_name") {
			setOIDCNames(info, per)
		}
		if slices.Contains(scopes, oidc.ScopeEmail) {
			info.Email = per.Email
			info.EmailVerified = true
		}
	case ProfileACM:
		if releasesNRN(per, level) && slices.Contains(scopes, "rrn") {
			info.AppendClaims(ClaimRRN, per.NRN.Digits())
		}
		if profile {
			info.GivenName = per.GivenName
			info.FamilyName = per.FamilyName
		}
	}
}
