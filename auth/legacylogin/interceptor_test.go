package legacylogin

import (
	"context"
	"crypto/md5"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/overstap/overstap/adapters/store/sqlstore"
	"github.com/overstap/overstap/auth/nrn"
	"github.com/overstap/overstap/auth/ratelimit"
	"github.com/overstap/overstap/internal/audit"
	"github.com/overstap/overstap/internal/config"
	"github.com/overstap/overstap/internal/demoapp"
	"github.com/overstap/overstap/internal/testsvc"
	"github.com/overstap/overstap/migrate/hash"
)

var refKey = nrn.MustRefKey([]byte("0123456789abcdef0123456789abcdef"))

type fixture struct {
	db      *sql.DB
	store   *sqlstore.Store
	hasher  *hash.Hasher
	citizen nrn.Number
	audit   *auditLog
}

type auditLog struct {
	mu      sync.Mutex
	entries []string
}

func (a *auditLog) record(_ context.Context, kind string, _ audit.Outcome, ref string, details map[string]string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.entries = append(a.entries, fmt.Sprintf("%s %s %v", kind, ref, details))
}

func (a *auditLog) kinds() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var ks []string
	for _, e := range a.entries {
		ks = append(ks, strings.Fields(e)[0])
	}
	return strings.Join(ks, ",")
}

// newFixture builds the demo e-loket's vendor database with one NRN/NRN
// citizen and a few accounts of people without a national number, behind
// the real SQL store adapter.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	path := filepath.Join(t.TempDir(), "eloket.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	app, err := demoapp.New(context.Background(), demoapp.Config{DB: db})
	if err != nil {
		t.Fatal(err)
	}
	citizen, _ := nrn.Synthetic(time.Date(1972, 3, 14, 0, 0, 0, 0, time.UTC), false, 21)
	if err := app.Seed(context.Background(), []demoapp.Citizen{{NRN: citizen, Name: "Burger Test"}}); err != nil {
		t.Fatal(err)
	}
	other, _ := nrn.Synthetic(time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC), true, 22)
	for _, row := range [][]any{
		{"jan.peeters", "{MD5}" + b64md5("Correct-Horse-42"), nil, "Jan Peeters"},
		{"marie.claes", "{MD5}" + b64md5("claes2024!"), nil, "Marie Claes"},
		{"piet.nrn", "{MD5}" + b64md5("Some-Pass-99"), other.Digits(), "Piet Met Nummer"},
	} {
		if _, err := db.Exec(`INSERT INTO burgers (gebruikersnaam, wachtwoord, rijksregisternummer, naam) VALUES (?, ?, ?, ?)`, row...); err != nil {
			t.Fatal(err)
		}
	}
	st, err := sqlstore.Open(context.Background(), "eloket", sqlstore.Config{
		Driver:     "sqlite",
		DSN:        config.NewSecret([]byte(path)),
		Table:      "burgers",
		SchemeHint: "plaintext",
		Columns: sqlstore.Columns{ID: "id", Username: "gebruikersnaam", Password: "wachtwoord",
			NRN: "rijksregisternummer", Name: "naam", Federated: "federatief"},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h, err := hash.New(hash.Config{BcryptCost: 4})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{db: db, store: st, hasher: h, citizen: citizen, audit: &auditLog{}}
}

func b64md5(s string) string {
	h := md5.Sum([]byte(s))
	return base64.StdEncoding.EncodeToString(h[:])
}

func (f *fixture) interceptor(t *testing.T, policy Policy, lim ratelimit.Limiter) *Interceptor {
	t.Helper()
	if lim == nil {
		var err error
		lim, err = ratelimit.NewMemory(ratelimit.Config{}, refKey.Bytes())
		if err != nil {
			t.Fatal(err)
		}
	}
	i, err := New(context.Background(), Config{Fields: Fields{Username: "gebruikersnaam", Password: "wachtwoord"}, Policy: policy},
		Deps{Accounts: f.store, Hasher: f.hasher, Limiter: lim, RefKey: refKey, Audit: f.audit.record})
	if err != nil {
		t.Fatal(err)
	}
	return i
}

func loginReq(user, pw string) *http.Request {
	r := httptest.NewRequest("POST", "/login", strings.NewReader(url.Values{"gebruikersnaam": {user}, "wachtwoord": {pw}}.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}

func (f *fixture) credential(t *testing.T, user string) string {
	var pw sql.NullString
	if err := f.db.QueryRow(`SELECT wachtwoord FROM burgers WHERE gebruikersnaam = ?`, user).Scan(&pw); err != nil {
		t.Fatal(err)
	}
	return pw.String
}

func TestBlockAll(t *testing.T) {
	f := newFixture(t)
	i := f.interceptor(t, PolicyBlockAll, nil)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		req  *http.Request
		want Outcome
	}{
		{"nrn plain", loginReq(f.citizen.Digits(), f.citizen.Digits()), UseFederated},
		{"nrn dotted", loginReq(f.citizen.Format(), f.citizen.Digits()), UseFederated},
		{"other username", loginReq("jan.peeters", "Correct-Horse-42"), UseFederated},
		{"malformed", httptest.NewRequest("POST", "/login?gebruikersnaam=a", strings.NewReader("gebruikersnaam=b")), BadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := i.Decide(ctx, tc.req, "127.0.0.1")
			if err != nil || res.Outcome != tc.want {
				t.Fatalf("Decide = %+v, %v; want %v", res, err, tc.want)
			}
		})
	}
	if f.credential(t, "jan.peeters") != "{MD5}"+b64md5("Correct-Horse-42") {
		t.Fatal("block_all changed a credential")
	}
}

func TestGatewayPassword(t *testing.T) {
	f := newFixture(t)
	i := f.interceptor(t, PolicyGatewayPassword, nil)
	ctx := context.Background()
	decide := func(user, pw string) Result {
		t.Helper()
		res, err := i.Decide(ctx, loginReq(user, pw), "127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if r := decide(f.citizen.Format(), f.citizen.Digits()); r.Outcome != UseFederated {
		t.Fatalf("NRN username: %+v", r)
	}
	if r := decide("piet.nrn", "Some-Pass-99"); r.Outcome != UseFederated {
		t.Fatalf("account with an NRN column: %+v", r)
	}
	if r := decide("jan.peeters", "wrong"); r.Outcome != Invalid {
		t.Fatalf("wrong password: %+v", r)
	}
	if r := decide("nobody", "x"); r.Outcome != Invalid {
		t.Fatalf("unknown user: %+v", r)
	}
	r := decide("jan.peeters", "Correct-Horse-42")
	if r.Outcome != Verified || !r.Upgraded || r.Account.Username != "jan.peeters" {
		t.Fatalf("right password: %+v", r)
	}
	if got := f.credential(t, "jan.peeters"); !strings.HasPrefix(got, "$2") {
		t.Fatalf("hash not upgraded to bcrypt: %.4s...", got)
	}
	if r := decide("jan.peeters", "Correct-Horse-42"); r.Outcome != Verified || r.Upgraded {
		t.Fatalf("second login: %+v", r)
	}
	// A password built from the person's own name is refused and revoked.
	if r := decide("marie.claes", "claes2024!"); r.Outcome != UseFederated {
		t.Fatalf("context-word password: %+v", r)
	}
	if got := f.credential(t, "marie.claes"); got != RevokedMarker {
		t.Fatalf("context-word password not revoked: %.6s...", got)
	}
	if r := decide("marie.claes", "claes2024!"); r.Outcome == Verified {
		t.Fatal("revoked password still works")
	}
	for _, e := range f.audit.entries {
		if nrn.Contains(e) || strings.Contains(e, "jan.peeters") {
			t.Fatalf("audit entry with clear identifier: %s", e)
		}
	}
}

// TestLockoutLooksLikeWrongPassword: after the per-user limit, even the
// right password gives the same outcome as a wrong one.
func TestLockoutLooksLikeWrongPassword(t *testing.T) {
	f := newFixture(t)
	i := f.interceptor(t, PolicyGatewayPassword, nil)
	ctx := context.Background()
	for n := 0; n < ratelimit.DefaultUser.Limit; n++ {
		res, err := i.Decide(ctx, loginReq("jan.peeters", fmt.Sprintf("guess-%d", n)), "127.0.0.1")
		if err != nil || res.Outcome != Invalid {
			t.Fatalf("guess %d: %+v %v", n, res, err)
		}
	}
	res, err := i.Decide(ctx, loginReq("jan.peeters", "Correct-Horse-42"), "127.0.0.2")
	if err != nil || res.Outcome != Invalid {
		t.Fatalf("locked account accepted the right password: %+v %v", res, err)
	}
	if !strings.Contains(f.audit.kinds(), "legacy_login.locked") {
		t.Fatalf("no lock audit event: %s", f.audit.kinds())
	}
}

// TestLockoutAcrossNodes: two gateway nodes sharing Redis share the count.
func TestLockoutAcrossNodes(t *testing.T) {
	r := testsvc.Redis(t)
	f := newFixture(t)
	mk := func() *Interceptor {
		lim, err := ratelimit.NewRedis(r.Client, ratelimit.Config{KeyPrefix: r.Prefix + "rl:"}, refKey.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		return f.interceptor(t, PolicyGatewayPassword, lim)
	}
	a, b := mk(), mk()
	ctx := context.Background()
	for n := 0; n < ratelimit.DefaultUser.Limit; n++ {
		node := a
		if n%2 == 1 {
			node = b
		}
		if res, err := node.Decide(ctx, loginReq("jan.peeters", "nope"), "127.0.0.1"); err != nil || res.Outcome != Invalid {
			t.Fatalf("guess %d: %+v %v", n, res, err)
		}
	}
	for _, node := range []*Interceptor{a, b} {
		if res, err := node.Decide(ctx, loginReq("jan.peeters", "Correct-Horse-42"), "127.0.0.3"); err != nil || res.Outcome != Invalid {
			t.Fatalf("lock not shared across nodes: %+v %v", res, err)
		}
	}
}

func TestLimiterDownFailsClosed(t *testing.T) {
	f := newFixture(t)
	c := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", testsvc.FreePort(t)), MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer c.Close()
	lim, err := ratelimit.NewRedis(c, ratelimit.Config{}, refKey.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	i := f.interceptor(t, PolicyGatewayPassword, lim)
	_, err = i.Decide(context.Background(), loginReq("jan.peeters", "Correct-Horse-42"), "127.0.0.1")
	if !errors.Is(err, ratelimit.ErrUnavailable) {
		t.Fatalf("err = %v, want the limiter's unavailability", err)
	}
}

func TestConfigValidate(t *testing.T) {
	err := Config{Policy: "open"}.Validate()
	for _, want := range []string{"fields.username", "fields.password", "policy"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want mention of %s", err, want)
		}
	}
	if _, err := New(context.Background(), Config{Fields: Fields{"u", "p"}, Policy: PolicyGatewayPassword}, Deps{RefKey: refKey}); err == nil {
		t.Fatal("gateway_password without a store accepted")
	}
}

// TestNRNAccountProbesCounted: asking whether a username belongs to an
// account with a national number costs like a wrong password, so the
// per-IP limit stops an enumeration.
func TestNRNAccountProbesCounted(t *testing.T) {
	f := newFixture(t)
	lim, err := ratelimit.NewMemory(ratelimit.Config{IP: ratelimit.Rule{Limit: 3, Window: time.Minute, Ban: time.Minute}}, refKey.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	i := f.interceptor(t, PolicyGatewayPassword, lim)
	ctx := context.Background()
	for n := 0; n < 3; n++ {
		if res, err := i.Decide(ctx, loginReq("piet.nrn", "x"), "127.0.0.9"); err != nil || res.Outcome != UseFederated {
			t.Fatalf("probe %d: %+v %v", n, res, err)
		}
	}
	// The client is now banned: even a real account's right password fails.
	if res, err := i.Decide(ctx, loginReq("jan.peeters", "Correct-Horse-42"), "127.0.0.9"); err != nil || res.Outcome != Invalid {
		t.Fatalf("after probes: %+v %v; want Invalid (banned)", res, err)
	}
}
