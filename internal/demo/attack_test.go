package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/overstap/overstap/auth/devidp"
	"github.com/overstap/overstap/auth/legacylogin"
	"github.com/overstap/overstap/internal/testsvc"
)

// toDigits rewrites the ASCII digits of s with the digits of another
// Unicode decimal block (zero is the block's zero).
func toDigits(s string, zero rune) string {
	var b strings.Builder
	for _, c := range s {
		if c >= '0' && c <= '9' {
			c = zero + (c - '0')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func formBody(v url.Values) (string, string) {
	return "application/x-www-form-urlencoded", v.Encode()
}

func jsonBody(v map[string]string) (string, string) {
	b, _ := json.Marshal(v)
	return "application/json", string(b)
}

func multipartBody(fields [][2]string) (string, string) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, f := range fields {
		_ = w.WriteField(f[0], f[1])
	}
	_ = w.Close()
	return w.FormDataContentType(), buf.String()
}

// appLogins counts the requests any variant of the login path brought to
// the e-loket.
func appLogins(d *Demo) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for k, v := range d.seen {
		if strings.Contains(k, "login") {
			n += v
		}
	}
	return n
}

// TestLegacyLoginAttackTable: no NRN login, in any written form, body
// encoding, duplicate-field or path trick, reaches the legacy app's login;
// and with the gateway_password policy none of them logs in either.
func TestLegacyLoginAttackTable(t *testing.T) {
	for _, policy := range []legacylogin.Policy{legacylogin.PolicyBlockAll, legacylogin.PolicyGatewayPassword} {
		t.Run(string(policy), func(t *testing.T) {
			d := startDemo(t, Options{Policy: policy})
			n := persona(t, d, devidp.PersonaUnrelated).NRN
			dig, dotted := n.Digits(), n.Format()
			usernames := map[string]string{
				"digits":     dig,
				"dotted":     dotted,
				"spaces":     dig[:6] + " " + dig[6:9] + " " + dig[9:],
				"dashes":     dig[:6] + "-" + dig[6:9] + "-" + dig[9:],
				"padded":     "  " + dotted + "\t",
				"nbsp":       "\u00a0" + dig + "\u00a0",
				"fullwidth":  toDigits(dig, '０'),
				"arabic":     toDigits(dig, '٠'),
				"devanagari": toDigits(dotted, '०'),
				"zero-width": dig[:5] + "\u200b" + dig[5:],
			}
			type attempt struct {
				name, path, ctype, body string
			}
			var attempts []attempt
			for name, u := range usernames {
				ct, b := formBody(url.Values{"gebruikersnaam": {u}, "wachtwoord": {dig}})
				attempts = append(attempts, attempt{"form/" + name, "/login", ct, b})
				ct, b = jsonBody(map[string]string{"gebruikersnaam": u, "wachtwoord": dig})
				attempts = append(attempts, attempt{"json/" + name, "/login", ct, b})
				ct, b = multipartBody([][2]string{{"gebruikersnaam", u}, {"wachtwoord", dig}})
				attempts = append(attempts, attempt{"multipart/" + name, "/login", ct, b})
			}
			attempts = append(attempts,
				attempt{"duplicate form field", "/login", "application/x-www-form-urlencoded",
					"gebruikersnaam=" + ResidentUser + "&gebruikersnaam=" + dig + "&wachtwoord=" + dig},
				attempt{"duplicate json key", "/login", "application/json",
					`{"gebruikersnaam":"` + ResidentUser + `","gebruikersnaam":"` + dig + `","wachtwoord":"x"}`},
				attempt{"field in query and body", "/login?gebruikersnaam=" + dig, "application/x-www-form-urlencoded",
					"gebruikersnaam=" + ResidentUser + "&wachtwoord=x"},
				attempt{"json sent as form", "/login", "application/x-www-form-urlencoded",
					`{"gebruikersnaam":"` + dig + `","wachtwoord":"` + dig + `"}`},
				attempt{"form sent as json", "/login", "application/json", "gebruikersnaam=" + dig + "&wachtwoord=" + dig},
				attempt{"text/plain", "/login", "text/plain", "gebruikersnaam=" + dig + "&wachtwoord=" + dig},
				attempt{"oversized", "/login", "application/x-www-form-urlencoded",
					"gebruikersnaam=" + dig + "&wachtwoord=" + strings.Repeat("a", 2<<20)},
			)
			for _, p := range []string{"/LOGIN", "/login/", "//login", "/./login", "/x/../login", "/%6cogin", "/Login?next=/", "/login;jsessionid=1", "/login%2F", "/login%00"} {
				ct, b := formBody(url.Values{"gebruikersnaam": {dig}, "wachtwoord": {dig}})
				attempts = append(attempts, attempt{"path " + p, p, ct, b})
			}
			for _, a := range attempts {
				req, err := http.NewRequest("POST", d.GatewayURL+a.path, strings.NewReader(a.body))
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Content-Type", a.ctype)
				c := newCitizen(t)
				resp, body := c.do(req)
				if resp.StatusCode < 400 && resp.StatusCode != http.StatusOK {
					t.Errorf("%s: status %d (location %q)", a.name, resp.StatusCode, resp.Header.Get("Location"))
				}
				if resp.StatusCode == http.StatusOK && !strings.Contains(body, "oude aanmelding") && !strings.Contains(body, "use_federated_login") {
					t.Errorf("%s: 200 without the explanation", a.name)
				}
				for _, ck := range resp.Cookies() {
					if strings.Contains(ck.Name, "session") {
						t.Errorf("%s: a session cookie was set", a.name)
					}
				}
			}
			if n := appLogins(d); n != 0 {
				t.Fatalf("%d login requests reached the legacy app", n)
			}
		})
	}
}

// TestGatewayPasswordPolicy: a resident without a national number logs in
// with the gateway checking the password (never the app), and the stored
// MD5 is upgraded to bcrypt; an NRN login stays refused.
func TestGatewayPasswordPolicy(t *testing.T) {
	d := startDemo(t, Options{Policy: legacylogin.PolicyGatewayPassword})
	c := newCitizen(t)
	resp, _ := c.postForm(d.GatewayURL+"/login", url.Values{"gebruikersnaam": {ResidentUser}, "wachtwoord": {"wrong"}})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d", resp.StatusCode)
	}
	resp, _ = c.postForm(d.GatewayURL+"/login", url.Values{"gebruikersnaam": {ResidentUser}, "wachtwoord": {ResidentPassword}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("right password: %d", resp.StatusCode)
	}
	_, body := c.get(d.GatewayURL + "/")
	if !strings.Contains(body, "Welkom, Jan Peeters") {
		t.Fatalf("home after gateway password login:\n%s", body)
	}
	var stored string
	if err := d.AppDB.QueryRow(`SELECT wachtwoord FROM burgers WHERE gebruikersnaam = ?`, ResidentUser).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(stored, "$2") {
		t.Fatalf("stored hash not upgraded to bcrypt: %.4s...", stored)
	}
	if appLogins(d) != 0 {
		t.Fatal("the app's login saw a request")
	}
	// A cross-site post (login CSRF) is refused even with the right password.
	req, _ := http.NewRequest("POST", d.GatewayURL+"/login", strings.NewReader(url.Values{"gebruikersnaam": {ResidentUser}, "wachtwoord": {ResidentPassword}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "http://127.0.0.2:9999")
	if resp, _ := newCitizen(t).do(req); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site password post: %d", resp.StatusCode)
	}
}

// TestLockoutAcrossGatewayNodes: two gateway nodes sharing Redis share the
// brute-force limits; the locked answer is the wrong-password answer.
func TestLockoutAcrossGatewayNodes(t *testing.T) {
	r := testsvc.Redis(t)
	d := startDemo(t, Options{Policy: legacylogin.PolicyGatewayPassword, RedisURL: r.URL, RedisPrefix: r.Prefix})
	second, err := d.StartNode(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	nodes := []string{d.GatewayURL, second}
	try := func(node int, pw string) (int, string) {
		resp, body := newCitizen(t).postForm(nodes[node]+"/login", url.Values{"gebruikersnaam": {ResidentUser}, "wachtwoord": {pw}})
		return resp.StatusCode, body
	}
	wrongStatus, wrongBody := try(0, "guess-0")
	if wrongStatus != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d", wrongStatus)
	}
	for i := 1; i < 10; i++ { // the default per-user limit is 10 failures
		if st, _ := try(i%2, "guess-"+string(rune('a'+i))); st != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d", i, st)
		}
	}
	// Locked now, on both nodes: the right password gets the wrong-password page.
	for node := range nodes {
		st, body := try(node, ResidentPassword)
		if st != wrongStatus || stripRef(body) != stripRef(wrongBody) {
			t.Fatalf("node %d: locked answer %d differs from the wrong-password answer", node, st)
		}
	}
	// The helpdesk lists the bans (references only) and lifts the user's.
	admin := httptest.NewServer(d.Server.Gateway.AdminHandler())
	defer admin.Close()
	call := func(method, path, body string) (int, string) {
		req, _ := http.NewRequest(method, admin.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+d.cfg.Gateway.AdminToken.Value())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	st, list := call("GET", "/admin/bans", "")
	if st != 200 || !strings.Contains(list, `"scope":"user"`) || strings.Contains(list, ResidentUser) || strings.Contains(list, "127.0.0.1") {
		t.Fatalf("ban list %d: %s", st, list)
	}
	if st, out := call("POST", "/admin/bans/lift", `{"username":"`+ResidentUser+`"}`); st != 200 || !strings.Contains(out, `"lifted":true`) {
		t.Fatalf("lift: %d %s", st, out)
	}
	if st, _ := try(1, ResidentPassword); st != http.StatusSeeOther {
		t.Fatalf("after the lift the right password gives %d", st)
	}
	if st, _ := call("POST", "/admin/bans/lift", `{"username":"x","ip":"127.0.0.1"}`); st != 400 {
		t.Fatalf("ambiguous lift: %d", st)
	}
}

// stripRef removes the per-request reference from an error page.
func stripRef(page string) string {
	i := strings.Index(page, `<span class="ref">`)
	if i < 0 {
		return page
	}
	j := strings.Index(page[i:], "</span>")
	if j < 0 {
		return page
	}
	return page[:i] + page[i+j:]
}

// TestRevocationReachesEveryNodeWithCache: with Redis sessions, each node
// serves sessions from its in-process cache; an admin revocation on one
// node ends the session on the other at once (pub/sub invalidation).
func TestRevocationReachesEveryNodeWithCache(t *testing.T) {
	r := testsvc.Redis(t)
	d := startDemo(t, Options{RedisURL: r.URL, RedisPrefix: r.Prefix})
	second, err := d.StartNode(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c := newCitizen(t)
	p := persona(t, d, devidp.PersonaAdult)
	if _, body := c.login(d, p.Key, "/"); !strings.Contains(body, "Welkom, "+p.Name()) {
		t.Fatal("login failed")
	}
	// Both nodes serve the session (and cache it).
	for i := 0; i < 3; i++ {
		for _, node := range []string{d.GatewayURL, second} {
			req, _ := http.NewRequest("GET", node+"/", nil)
			for _, ck := range c.hc.Jar.Cookies(mustURL(t, d.GatewayURL)) {
				req.AddCookie(ck)
			}
			if resp, body := c.do(req); resp.StatusCode != 200 || !strings.Contains(body, "Welkom") {
				t.Fatalf("node %s before revocation: %d", node, resp.StatusCode)
			}
		}
	}
	admin := httptest.NewServer(d.Server.Gateway.AdminHandler())
	defer admin.Close()
	req, _ := http.NewRequest("POST", admin.URL+"/admin/revoke/person", strings.NewReader(`{"nrn":"`+p.NRN.Format()+`"}`))
	req.Header.Set("Authorization", "Bearer "+d.cfg.Gateway.AdminToken.Value())
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("revoke: %v %v", resp, err)
	}
	resp.Body.Close()
	// The invalidation travels over pub/sub: the second node drops the
	// session as soon as it is delivered (well within the 1 s TTL that
	// bounds it in any case).
	start := time.Now()
	for {
		req, _ = http.NewRequest("GET", second+"/", nil)
		for _, ck := range c.hc.Jar.Cookies(mustURL(t, d.GatewayURL)) {
			req.AddCookie(ck)
		}
		resp, _ := c.do(req)
		if resp.StatusCode == http.StatusFound && strings.Contains(resp.Header.Get("Location"), "/.overstap/login") {
			break
		}
		if time.Since(start) > 3*time.Second { // the 1 s TTL bounds it even without the message
			t.Fatalf("second node still serves the revoked session after %v: %d", time.Since(start), resp.StatusCode)
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("second node refused the revoked session after %v", time.Since(start))
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
