package family

import "testing"

// TestDraftFieldNames: secrets are never kept, an app's form tokens are
// kept hidden, everything else as typed.
func TestDraftFieldNames(t *testing.T) {
	for _, n := range []string{"password", "Wachtwoord", "nieuw_wachtwoord", "mot_de_passe", "Kennwort", "pwd", "user-pin", "otp", "client_secret", "passwd", "cvv"} {
		if !secretName(n) {
			t.Errorf("%s is not taken for a secret", n)
		}
	}
	for _, n := range []string{"rijksregisternummer", "relatie", "opmerking", "spinner", "naam", "email", "_csrf"} {
		if secretName(n) {
			t.Errorf("%s is taken for a secret", n)
		}
	}
	for _, n := range []string{"_csrf", "csrf_token", "authenticity_token", "__RequestVerificationToken", "XSRF-TOKEN"} {
		if !tokenName(n) {
			t.Errorf("%s is not taken for a form token", n)
		}
	}
	if tokenName("rijksregisternummer") {
		t.Error("the member field taken for a token")
	}
}
