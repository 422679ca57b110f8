// Package seed fills a synthetic legacy user store for tests, demos and
// benchmarks: a vendor-like table (integer id, login, password, national
// number column, name, blocked flag) with the mix municipalities really
// have — NRN/NRN accounts (MD5 or plaintext), salted SHA-1 ({SSHA}),
// phpass, bcrypt, duplicates, garbage and NULL rows. Every national number
// comes from nrn.NewGenerator (synthetic, sequence 9xx).
//
// The table is mapped by configs/stores/seed-*.yaml for the SQL store
// adapter (hint "" for the hashed mix, "plaintext" for the plaintext mix).
package seed

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"

	"golang.org/x/crypto/bcrypt"

	"github.com/overstap/overstap/auth/nrn"
)

// Mixes of credentials.
const (
	// MixHashed: one password column mixing self-describing and bare-hex
	// hashes (store hint "").
	MixHashed = "hashed"
	// MixPlaintext: passwords in clear, most of them the national number
	// itself (store hint "plaintext").
	MixPlaintext = "plaintext"
)

// Config says what to seed.
type Config struct {
	// Driver is postgres, mysql or sqlite (the SQL dialect of db).
	Driver string
	// Table is the table to create (default legacy_accounts); it must not
	// exist yet unless Replace is set.
	Table string
	// Accounts is the number of rows (1..50,000,000).
	Accounts int
	// Mix is MixHashed (default) or MixPlaintext.
	Mix string
	// Seed makes the data deterministic (same seed, same rows).
	Seed uint64
	// Replace drops an existing table first.
	Replace bool
	// BcryptCost of the few precomputed bcrypt hashes (default 10).
	BcryptCost int
}

// Stats counts what was written, by kind.
type Stats struct {
	Rows  int            `json:"rows"`
	Kinds map[string]int `json:"kinds"`
}

var identRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)

// Validate lists every problem of cfg.
func (c Config) Validate() error {
	var errs []error
	switch c.Driver {
	case "postgres", "mysql", "sqlite":
	default:
		errs = append(errs, fmt.Errorf("driver: %q is not postgres, mysql or sqlite", c.Driver))
	}
	if c.Table != "" && !identRe.MatchString(c.Table) {
		errs = append(errs, fmt.Errorf("table: %q is not a plain identifier", c.Table))
	}
	if c.Accounts < 1 || c.Accounts > 50_000_000 {
		errs = append(errs, fmt.Errorf("accounts: %d out of range 1..50000000", c.Accounts))
	}
	switch c.Mix {
	case "", MixHashed, MixPlaintext:
	default:
		errs = append(errs, fmt.Errorf("mix: %q is not hashed or plaintext", c.Mix))
	}
	if c.BcryptCost != 0 && (c.BcryptCost < bcrypt.MinCost || c.BcryptCost > 14) {
		errs = append(errs, fmt.Errorf("bcrypt_cost: %d out of range 4..14", c.BcryptCost))
	}
	return errors.Join(errs...)
}

// Run creates the table and fills it.
func Run(ctx context.Context, db *sql.DB, c Config) (Stats, error) {
	if err := c.Validate(); err != nil {
		return Stats{}, fmt.Errorf("seed: %w", err)
	}
	if c.Table == "" {
		c.Table = "legacy_accounts"
	}
	if c.Mix == "" {
		c.Mix = MixHashed
	}
	if c.BcryptCost == 0 {
		c.BcryptCost = 10
	}
	if c.Replace {
		if _, err := db.ExecContext(ctx, "DROP TABLE IF EXISTS "+c.Table); err != nil {
			return Stats{}, fmt.Errorf("seed: drop: %w", err)
		}
	}
	boolType, idType := "BOOLEAN", "BIGINT PRIMARY KEY"
	if c.Driver == "sqlite" {
		idType = "INTEGER PRIMARY KEY"
	}
	ddl := fmt.Sprintf(`CREATE TABLE %s (
		id %s,
		login VARCHAR(255) NOT NULL,
		passwd VARCHAR(255) NULL,
		rrn VARCHAR(32) NULL,
		full_name VARCHAR(255) NULL,
		blocked %s NOT NULL DEFAULT FALSE)`, c.Table, idType, boolType)
	if _, err := db.ExecContext(ctx, ddl); err != nil {
		return Stats{}, fmt.Errorf("seed: create table %s: %w", c.Table, err)
	}
	g, err := newGen(c)
	if err != nil {
		return Stats{}, err
	}
	st := Stats{Kinds: map[string]int{}}
	const batch = 1000
	rows := make([]row, 0, batch)
	flush := func() error {
		if len(rows) == 0 {
			return nil
		}
		var b strings.Builder
		fmt.Fprintf(&b, "INSERT INTO %s (id, login, passwd, rrn, full_name, blocked) VALUES ", c.Table)
		args := make([]any, 0, len(rows)*6)
		for i, r := range rows {
			if i > 0 {
				b.WriteByte(',')
			}
			n := i * 6
			if c.Driver == "postgres" {
				fmt.Fprintf(&b, "($%d,$%d,$%d,$%d,$%d,$%d)", n+1, n+2, n+3, n+4, n+5, n+6)
			} else {
				b.WriteString("(?,?,?,?,?,?)")
			}
			args = append(args, r.id, r.login, r.passwd, r.rrn, r.name, r.blocked)
		}
		if _, err := db.ExecContext(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("seed: insert: %w", err)
		}
		rows = rows[:0]
		return nil
	}
	for i := 1; i <= c.Accounts; i++ {
		r, kind := g.next(i)
		st.Kinds[kind]++
		rows = append(rows, r)
		if len(rows) == batch {
			if err := flush(); err != nil {
				return st, err
			}
			st.Rows = i
		}
	}
	if err := flush(); err != nil {
		return st, err
	}
	st.Rows = c.Accounts
	return st, nil
}

type row struct {
	id      int64
	login   string
	passwd  sql.NullString
	rrn     sql.NullString
	name    string
	blocked bool
}

type gen struct {
	c       Config
	rng     *rand.Rand
	nrns    *nrn.Generator
	used    []nrn.Number // a small ring of earlier numbers, for duplicates
	bcrypts []string
	phpass  []string
}

func newGen(c Config) (*gen, error) {
	g := &gen{c: c, rng: rand.New(rand.NewPCG(c.Seed, c.Seed^0x9e3779b97f4a7c15)), nrns: nrn.NewGenerator(c.Seed)}
	if c.Mix == MixHashed {
		// A few precomputed hashes reused: seeding a million rows must not
		// cost a million bcrypt computations.
		for i := range 4 {
			h, err := bcrypt.GenerateFromPassword([]byte(fmt.Sprintf("bcrypt-password-%d-%d", c.Seed, i)), c.BcryptCost)
			if err != nil {
				return nil, fmt.Errorf("seed: bcrypt: %w", err)
			}
			g.bcrypts = append(g.bcrypts, string(h))
		}
		for i := range 8 {
			g.phpass = append(g.phpass, phpassHash(fmt.Sprintf("phpass-password-%d", i), fmt.Sprintf("salt%04d", i), 8))
		}
	}
	return g, nil
}

func (g *gen) nrn() nrn.Number {
	n := g.nrns.Next()
	if len(g.used) < 256 {
		g.used = append(g.used, n)
	} else {
		g.used[g.rng.IntN(len(g.used))] = n
	}
	return n
}

// written returns a written form of n, as citizens typed them.
func (g *gen) written(n nrn.Number) string {
	d := n.Digits()
	switch g.rng.IntN(4) {
	case 0:
		return n.Format()
	case 1:
		return d[0:6] + " " + d[6:9] + " " + d[9:11]
	case 2:
		return d[0:6] + "-" + d[6:9] + "-" + d[9:11]
	}
	return d
}

func (g *gen) word() string {
	const letters = "abcdefghijkmnopqrstuvwxyz23456789"
	b := make([]byte, 10)
	for i := range b {
		b[i] = letters[g.rng.IntN(len(letters))]
	}
	return string(b)
}

func ns(s string) sql.NullString { return sql.NullString{String: s, Valid: true} }

var garbage = []string{"???", "md5:not-a-hash", "$2y$10$truncated", "{SSHA}!!!notbase64", "0123456789abcdef0123", "\tspaces and tabs\t"}

func (g *gen) next(i int) (row, string) {
	r := row{id: int64(i), name: fmt.Sprintf("Synthetic Person %d", i)}
	if g.rng.IntN(100) < 3 {
		r.blocked = true
	}
	p := g.rng.IntN(100)
	if g.c.Mix == MixPlaintext {
		n := g.nrn()
		r.login = g.written(n)
		switch {
		case p < 70:
			r.passwd = ns(n.Digits())
			return r, "nrn-nrn-plaintext"
		case p < 90:
			r.passwd = ns(g.word())
			return r, "plaintext"
		case p < 95:
			r.passwd = sql.NullString{}
			return r, "null"
		}
		r.passwd = ns("")
		return r, "empty"
	}
	email := fmt.Sprintf("user%d@example.invalid", i)
	switch {
	case p < 25: // NRN/NRN with MD5
		n := g.nrn()
		r.login = g.written(n)
		r.passwd = ns(md5hex(n.Digits()))
		return r, "nrn-nrn-md5"
	case p < 35: // NRN column, NRN-derived salted SHA-1
		n := g.nrn()
		r.login, r.rrn = email, ns(n.Format())
		r.passwd = ns(ssha(n.Digits(), g.word()[:8]))
		return r, "nrn-derived-ssha"
	case p < 55: // NRN column, salted SHA-1 of a real password
		n := g.nrn()
		r.login, r.rrn = email, ns(n.Digits())
		r.passwd = ns(ssha(g.word(), g.word()[:8]))
		return r, "ssha"
	case p < 65:
		r.login = email
		r.passwd = ns(g.phpass[g.rng.IntN(len(g.phpass))])
		return r, "phpass"
	case p < 80:
		r.login = email
		r.passwd = ns(g.bcrypts[g.rng.IntN(len(g.bcrypts))])
		return r, "bcrypt"
	case p < 85: // duplicate national number in the NRN column
		r.login = email
		if len(g.used) == 0 {
			g.nrn()
		}
		r.rrn = ns(g.used[g.rng.IntN(len(g.used))].Digits())
		r.passwd = ns(md5hex(g.word()))
		return r, "duplicate-nrn"
	case p < 90:
		r.login = email
		r.passwd = ns(md5hex(g.word()))
		return r, "md5"
	case p < 95:
		r.login = email
		r.passwd = ns(garbage[g.rng.IntN(len(garbage))])
		return r, "garbage"
	}
	r.login = email
	return r, "null"
}

func md5hex(s string) string { d := md5.Sum([]byte(s)); return hex.EncodeToString(d[:]) }

// ssha is the LDAP {SSHA} form: base64(sha1(password + salt) + salt).
func ssha(pw, salt string) string {
	h := sha1.New()
	h.Write([]byte(pw))
	h.Write([]byte(salt))
	return "{SSHA}" + base64.StdEncoding.EncodeToString(append(h.Sum(nil), salt...))
}

const itoa64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// phpassHash is phpass's portable hash ("$P$"): MD5 iterated 2^log2
// times, in phpass's own base-64.
func phpassHash(pw, salt string, log2 int) string {
	x := md5.Sum([]byte(salt + pw))
	for range 1 << log2 {
		x = md5.Sum(append(x[:], pw...))
	}
	return "$P$" + string(itoa64[log2]) + salt + encode64(x[:])
}

func encode64(in []byte) string {
	var out []byte
	i, n := 0, len(in)
	for i < n {
		v := int(in[i])
		i++
		out = append(out, itoa64[v&0x3f])
		if i < n {
			v |= int(in[i]) << 8
		}
		out = append(out, itoa64[(v>>6)&0x3f])
		if i >= n {
			break
		}
		i++
		if i < n {
			v |= int(in[i]) << 16
		}
		out = append(out, itoa64[(v>>12)&0x3f])
		if i >= n {
			break
		}
		i++
		out = append(out, itoa64[(v>>18)&0x3f])
	}
	return string(out)
}
