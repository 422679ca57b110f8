package demo

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/overstap/overstap/adapters/registry"
	"github.com/overstap/overstap/auth/devidp"
	"github.com/overstap/overstap/auth/nrn"
)

// members returns the e-loket's family rows of a persona (member ids).
func members(t *testing.T, d *Demo, key string) []string {
	t.Helper()
	rows, err := d.AppDB.Query(`SELECT lid_id FROM gezinsleden WHERE burger_id = ? ORDER BY lid_id`, accountID(t, d, key))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		rows.Scan(&id)
		out = append(out, id)
	}
	return out
}

// TestFamilyAttacksThroughGateway is the request half of the attack table
// against the running gateway: what the gateway refuses never reaches the
// e-loket, and what it forwards links exactly the verified member.
func TestFamilyAttacksThroughGateway(t *testing.T) {
	d := startDemo(t, Options{})
	c := newCitizen(t)
	c.loginAt(d, devidp.PersonaParentA, "500", "/family")
	minor, stranger := persona(t, d, devidp.PersonaMinor).NRN, persona(t, d, devidp.PersonaUnrelated).NRN
	send := func(ct, query, body string) (*http.Response, string) {
		req, _ := http.NewRequest("POST", d.GatewayURL+"/family/add"+query, strings.NewReader(body))
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		return c.do(req)
	}
	f := "rijksregisternummer"
	refused := []struct{ name, ct, query, body string }{
		{"duplicated field: minor then stranger", "application/x-www-form-urlencoded", "", f + "=" + minor.Digits() + "&" + f + "=" + stranger.Digits()},
		{"duplicated field differing in case", "application/x-www-form-urlencoded", "", f + "=" + minor.Digits() + "&RijksRegisterNummer=" + stranger.Digits()},
		{"field in query and body", "application/x-www-form-urlencoded", "?" + f + "=" + stranger.Digits(), f + "=" + minor.Digits()},
		{"JSON duplicate keys", "application/json", "", `{"` + f + `":"` + minor.Digits() + `","` + f + `":"` + stranger.Digits() + `"}`},
		{"form body labelled JSON", "application/json", "", f + "=" + minor.Digits()},
		{"JSON body labelled form", "application/x-www-form-urlencoded", "", `{"` + f + `":"` + minor.Digits() + `"}`},
		{"no content type", "", "", f + "=" + minor.Digits()},
		{"malformed number", "application/x-www-form-urlencoded", "", f + "=12345"},
	}
	for _, r := range refused {
		t.Run(r.name, func(t *testing.T) {
			resp, body := send(r.ct, r.query, r.body)
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "<h1>") {
				t.Fatalf("%d, want 400 with a page\n%s", resp.StatusCode, body)
			}
			if n := d.AppSaw("POST", "/family/add"); n != 0 {
				t.Fatalf("the e-loket saw %d adds", n)
			}
		})
	}
	t.Run("member NRN in other written forms", func(t *testing.T) {
		d6 := minor.Digits()
		for i, form := range []string{minor.Format(), d6[:6] + " " + d6[6:9] + " " + d6[9:], d6[:6] + "-" + d6[6:9] + "-" + d6[9:]} {
			resp, body := send("application/x-www-form-urlencoded", "", url.Values{f: {form}}.Encode())
			if resp.StatusCode != http.StatusSeeOther || d.AppSaw("POST", "/family/add") != i+1 {
				t.Fatalf("%q: %d\n%s", form, resp.StatusCode, body)
			}
		}
		// JSON, with the number as a JSON number: same member.
		resp, _ := send("application/json", "", `{"`+f+`":`+d6+`}`)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("JSON: %d", resp.StatusCode)
		}
		if got := members(t, d, devidp.PersonaParentA); len(got) != 1 || got[0] != accountID(t, d, devidp.PersonaMinor) {
			t.Fatalf("linked %v, want only the minor", got)
		}
		// The stranger in a written form is still a stranger.
		resp, _ = send("application/x-www-form-urlencoded", "", url.Values{f: {stranger.Format()}}.Encode())
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("stranger in eID form: %d", resp.StatusCode)
		}
	})
	t.Run("no session", func(t *testing.T) {
		anon := newCitizen(t)
		resp, _ := anon.postForm(d.GatewayURL+"/family/add", url.Values{f: {minor.Digits()}})
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("%d", resp.StatusCode)
		}
	})
	t.Run("adding oneself", func(t *testing.T) {
		resp, _ := send("application/x-www-form-urlencoded", "", f+"="+persona(t, d, devidp.PersonaParentA).NRN.Digits())
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("%d", resp.StatusCode)
		}
	})
	t.Run("another member's page without a grant", func(t *testing.T) {
		for _, key := range []string{devidp.PersonaUnrelated, devidp.PersonaAdult, devidp.PersonaParentB} {
			if resp, _ := c.get(d.GatewayURL + "/family/" + accountID(t, d, key)); resp.StatusCode != http.StatusForbidden {
				t.Fatalf("%s: %d", key, resp.StatusCode)
			}
		}
		if resp, _ := c.get(d.GatewayURL + "/family/" + accountID(t, d, devidp.PersonaMinor)); resp.StatusCode != http.StatusOK {
			t.Fatalf("minor: %d", resp.StatusCode)
		}
	})
	t.Run("own password needs step-up, other's never", func(t *testing.T) {
		weak := newCitizen(t)
		weak.loginAt(d, devidp.PersonaParentB, "200", "/")
		resp, _ := weak.postForm(d.GatewayURL+"/password", url.Values{"nieuw_wachtwoord": {"x"}})
		if resp.StatusCode != http.StatusUnauthorized || d.AppSaw("POST", "/password") != 0 {
			t.Fatalf("weak own password: %d", resp.StatusCode)
		}
		id := accountID(t, d, devidp.PersonaMinor)
		resp, _ = c.postForm(d.GatewayURL+"/family/"+id+"/password", url.Values{"nieuw_wachtwoord": {"x"}})
		if resp.StatusCode != http.StatusForbidden || d.AppSaw("POST", "/family/"+id+"/password") != 0 {
			t.Fatalf("minor's password: %d", resp.StatusCode)
		}
	})
}

// down is an unreachable population register.
type down struct{}

func (down) Person(context.Context, nrn.Number) (registry.Person, error) {
	return registry.Person{}, registry.ErrUnavailable
}
func (down) Household(context.Context, nrn.Number) (registry.Household, error) {
	return registry.Household{}, registry.ErrUnavailable
}
func (down) Name() string { return "down" }

// TestFamilyRegistryDown: an unreachable register links nothing (even a
// parent's minor child), says so on a clear page, and consent still works.
func TestFamilyRegistryDown(t *testing.T) {
	d := startDemo(t, Options{FamilyRegistry: down{}})
	c := newCitizen(t)
	c.loginAt(d, devidp.PersonaParentA, "500", "/family")
	resp, body := c.addMember(d, persona(t, d, devidp.PersonaMinor).NRN.Digits())
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "rijksregister nu niet raadplegen") || !reCode.MatchString(body) {
		t.Fatalf("%d\n%s", resp.StatusCode, body)
	}
	if d.AppSaw("POST", "/family/add") != 0 {
		t.Fatal("linked without the register")
	}
}

// TestStepUpBankAccount: changing the bank account number (a step_up
// route) needs a fresh high login; a password login never reaches the
// e-loket (the seed's warning about fraudsters changing IBANs).
func TestStepUpBankAccount(t *testing.T) {
	d := startDemo(t, Options{})
	weak := newCitizen(t)
	weak.loginAt(d, devidp.PersonaParentB, "200", "/")
	resp, _ := weak.postForm(d.GatewayURL+"/profile/iban", url.Values{"iban": {"BE00 0000 0000 0000"}})
	if resp.StatusCode == http.StatusSeeOther || d.AppSaw("POST", "/profile/iban") != 0 {
		t.Fatalf("weak IBAN change: %d, reached the app %d times", resp.StatusCode, d.AppSaw("POST", "/profile/iban"))
	}
	strong := newCitizen(t)
	strong.loginAt(d, devidp.PersonaParentA, "500", "/")
	resp, _ = strong.postForm(d.GatewayURL+"/profile/iban", url.Values{"iban": {"BE00 0000 0000 0001"}})
	if resp.StatusCode != http.StatusSeeOther || d.AppSaw("POST", "/profile/iban") != 1 {
		t.Fatalf("strong IBAN change: %d", resp.StatusCode)
	}
}
