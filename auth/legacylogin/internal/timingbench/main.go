// Command timingbench measures how long every answer of the legacy login's
// gateway_password path takes, side by side in one run: unknown user,
// wrong password (legacy MD5 account and migrated bcrypt account), locked
// username, rate-limited client, NRN-shaped username, account with a
// national number, and the correct password of a migrated account. The
// branches are interleaved in a shuffled order per round, N rounds, on the
// real interceptor, SQL store (SQLite) and hash library at the production
// bcrypt cost. It prints median, p10, p90 and spread per branch and
// whether all medians lie within 10 % of each other (exit status 1 if not,
// with -check). Run: scripts/bench-timing.sh.
package main

import (
	"context"
	"crypto/md5"
	"database/sql"
	"encoding/base64"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/overstap/overstap/adapters/store/sqlstore"
	"github.com/overstap/overstap/auth/legacylogin"
	"github.com/overstap/overstap/auth/nrn"
	"github.com/overstap/overstap/auth/ratelimit"
	"github.com/overstap/overstap/internal/config"
	"github.com/overstap/overstap/internal/demoapp"
	"github.com/overstap/overstap/migrate/hash"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "timingbench:", err)
		os.Exit(2)
	}
}

type branch struct {
	name, user, pw, ip string
	want               legacylogin.Outcome
	samples            []time.Duration
}

func run() error {
	n := flag.Int("n", 30, "samples per branch (at least 30)")
	cost := flag.Int("cost", hash.DefaultBcryptCost, "bcrypt cost of the hasher (production default)")
	check := flag.Bool("check", false, "exit 1 when the medians are not within 10 % of each other")
	flag.Parse()
	if *n < 30 {
		return fmt.Errorf("-n must be at least 30")
	}
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "timingbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "eloket.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := demoapp.New(ctx, demoapp.Config{DB: db}); err != nil {
		return err
	}
	h, err := hash.New(hash.Config{BcryptCost: *cost})
	if err != nil {
		return err
	}
	migrated, err := h.Hash(ctx, "Blue-Orbit-7351")
	if err != nil {
		return err
	}
	md5b64 := func(s string) string {
		d := md5.Sum([]byte(s))
		return "{MD5}" + base64.StdEncoding.EncodeToString(d[:])
	}
	withNRN, _ := nrn.Synthetic(time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC), true, 922)
	shaped, _ := nrn.Synthetic(time.Date(1975, 5, 5, 0, 0, 0, 0, time.UTC), false, 923)
	for _, row := range [][]any{
		{"jan.peeters", md5b64("Correct-Horse-42"), nil},
		{"an.migrated", migrated, nil},
		{"locked.user", md5b64("Locked-Pass-1"), nil},
		{"piet.nrn", md5b64("Some-Pass-99"), withNRN.Digits()},
	} {
		if _, err := db.Exec(`INSERT INTO burgers (gebruikersnaam, wachtwoord, rijksregisternummer, naam) VALUES (?, ?, ?, 'X')`, row...); err != nil {
			return err
		}
	}
	st, err := sqlstore.Open(ctx, "eloket", sqlstore.Config{Driver: "sqlite", DSN: config.NewSecret([]byte(path)), Table: "burgers",
		SchemeHint: "plaintext", Columns: sqlstore.Columns{ID: "id", Username: "gebruikersnaam", Password: "wachtwoord",
			NRN: "rijksregisternummer", Name: "naam", Federated: "federatief"}}, nil)
	if err != nil {
		return err
	}
	defer st.Close()
	refKey := nrn.MustRefKey([]byte(strings.Repeat("r", 32)))
	// Each sample comes from a fresh client address, so only the banned one
	// reaches the per-address limit; the wrong-password usernames stay
	// below the per-username limit for the whole run.
	userLimit := *n + 10
	lim, err := ratelimit.NewMemory(ratelimit.Config{IP: ratelimit.Rule{Limit: 20, Window: time.Hour, Ban: time.Hour},
		User: ratelimit.Rule{Limit: userLimit, Window: time.Hour, Ban: time.Hour}, MaxConsecutive: 100}, refKey.Bytes())
	if err != nil {
		return err
	}
	for k := range userLimit {
		// Lock one username (from many addresses) and ban one address (with
		// many usernames).
		if err := lim.Fail(ctx, fmt.Sprintf("10.2.%d.%d", k/200, k%200+1), legacylogin.UserRef(refKey, "locked.user")); err != nil {
			return err
		}
		if err := lim.Fail(ctx, "10.0.0.66", legacylogin.UserRef(refKey, fmt.Sprintf("spray-%d", k))); err != nil {
			return err
		}
	}
	i, err := legacylogin.New(ctx, legacylogin.Config{Fields: legacylogin.Fields{Username: "gebruikersnaam", Password: "wachtwoord"},
		Policy: legacylogin.PolicyGatewayPassword}, legacylogin.Deps{Accounts: st, Hasher: h, Limiter: lim, RefKey: refKey})
	if err != nil {
		return err
	}
	branches := []*branch{
		{name: "unknown user", user: "nobody.here", pw: "Whatever-1", want: legacylogin.Invalid},
		{name: "wrong password, legacy MD5 account", user: "jan.peeters", pw: "Wrong-Pass-1", want: legacylogin.Invalid},
		{name: "wrong password, migrated bcrypt account", user: "an.migrated", pw: "Wrong-Pass-1", want: legacylogin.Invalid},
		{name: "locked username", user: "locked.user", pw: "Locked-Pass-1", want: legacylogin.Invalid},
		{name: "rate-limited client", user: "jan.peeters", pw: "Correct-Horse-42", ip: "10.0.0.66", want: legacylogin.Invalid},
		{name: "NRN-shaped username", user: shaped.Format(), pw: shaped.Digits(), want: legacylogin.UseFederated},
		{name: "account with a national number", user: "piet.nrn", pw: "Some-Pass-99", want: legacylogin.UseFederated},
		{name: "correct password, migrated account", user: "an.migrated", pw: "Blue-Orbit-7351", want: legacylogin.Verified},
	}
	req := func(user, pw string) *http.Request {
		r := httptest.NewRequest("POST", "/login", strings.NewReader(url.Values{"gebruikersnaam": {user}, "wachtwoord": {pw}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return r
	}
	// One warm-up round, then n measured rounds in shuffled order.
	for round := -1; round < *n; round++ {
		order := slices.Clone(branches)
		rand.Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })
		for k, b := range order {
			ip := fmt.Sprintf("10.1.%d.%d", round&0xff+1, k+1)
			if b.ip != "" {
				ip = b.ip
			}
			r := req(b.user, b.pw)
			start := time.Now()
			res, err := i.Decide(ctx, r, ip)
			d := time.Since(start)
			if err != nil {
				return fmt.Errorf("%s: %w", b.name, err)
			}
			if res.Outcome != b.want {
				return fmt.Errorf("%s: outcome %d, want %d", b.name, res.Outcome, b.want)
			}
			if round >= 0 {
				b.samples = append(b.samples, d)
			}
		}
	}
	fmt.Printf("bcrypt cost %d, %d samples per branch, interleaved\n", *cost, *n)
	fmt.Printf("%-42s %9s %9s %9s %9s\n", "branch", "median", "p10", "p90", "p90-p10")
	var lo, hi time.Duration
	for _, b := range branches {
		slices.Sort(b.samples)
		q := func(p float64) time.Duration { return b.samples[int(p*float64(len(b.samples)-1))] }
		med := q(0.5)
		if lo == 0 || med < lo {
			lo = med
		}
		hi = max(hi, med)
		fmt.Printf("%-42s %9s %9s %9s %9s\n", b.name, ms(med), ms(q(0.1)), ms(q(0.9)), ms(q(0.9)-q(0.1)))
	}
	ratio := float64(hi) / float64(lo)
	ok := ratio <= 1.10
	fmt.Printf("slowest/fastest median: %.3f (%s)\n", ratio, map[bool]string{true: "within 10 %", false: "NOT within 10 %"}[ok])
	if *check && !ok {
		os.Exit(1)
	}
	return nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000) }
