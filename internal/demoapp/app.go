package demoapp

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/subtle"
	"database/sql"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"

	_ "modernc.org/sqlite" // SQLite driver

	"github.com/overstap/overstap/auth/nrn"
)

//go:embed templates/*.html
var templateFS embed.FS

var pages = template.Must(template.ParseFS(templateFS, "templates/*.html"))

// IdentityFunc tells the app who the gateway says the user is: the legacy
// account id from a verified identity assertion. ok is false when the request
// carries no assertion; err is non-nil when it carries a bad one.
type IdentityFunc func(r *http.Request) (accountID string, ok bool, err error)

// Config configures the demo app.
type Config struct {
	// DB is the app's SQLite database (the schema is created by Open).
	DB *sql.DB
	// Identity, when set, makes the app trust the gateway's assertion.
	Identity IdentityFunc
	// Logger receives the app's log lines; nil discards.
	Logger *slog.Logger
}

// App is the demo e-loket.
type App struct {
	db       *sql.DB
	identity IdentityFunc
	log      *slog.Logger

	mu       sync.Mutex
	sessions map[string]int64 // the app's own (flawed) login sessions
}

// Schema is the vendor's table, as a user-store adapter would map it:
// table "burgers", id "id", username "gebruikersnaam", password "wachtwoord",
// NRN "rijksregisternummer", name "naam", federated flag "federatief".
const Schema = `
CREATE TABLE IF NOT EXISTS burgers (
	id INTEGER PRIMARY KEY,
	gebruikersnaam TEXT NOT NULL UNIQUE,
	wachtwoord TEXT,
	rijksregisternummer TEXT,
	naam TEXT NOT NULL,
	iban TEXT NOT NULL DEFAULT '',
	email TEXT NOT NULL DEFAULT '',
	federatief INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS gezinsleden (
	burger_id INTEGER NOT NULL REFERENCES burgers(id),
	lid_id INTEGER NOT NULL REFERENCES burgers(id),
	PRIMARY KEY (burger_id, lid_id)
);`

// New returns the app over an existing database, creating the schema.
func New(ctx context.Context, cfg Config) (*App, error) {
	if cfg.DB == nil {
		return nil, errors.New("demoapp: no database")
	}
	if _, err := cfg.DB.ExecContext(ctx, Schema); err != nil {
		return nil, fmt.Errorf("demoapp: schema: %w", err)
	}
	l := cfg.Logger
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	return &App{db: cfg.DB, identity: cfg.Identity, log: l, sessions: map[string]int64{}}, nil
}

// Citizen is one seeded account.
type Citizen struct {
	NRN  nrn.Number
	Name string
	IBAN string
	// MD5 stores the password as {MD5}base64 instead of plaintext.
	MD5 bool
}

// Seed inserts citizens the way the legacy vendor did: username and password
// are both the national number.
func (a *App) Seed(ctx context.Context, people []Citizen) error {
	for _, p := range people {
		pw := p.NRN.Digits()
		if p.MD5 {
			sum := md5.Sum([]byte(pw))
			pw = "{MD5}" + base64.StdEncoding.EncodeToString(sum[:])
		}
		if _, err := a.db.ExecContext(ctx,
			`INSERT INTO burgers (gebruikersnaam, wachtwoord, rijksregisternummer, naam, iban) VALUES (?, ?, ?, ?, ?)`,
			p.NRN.Digits(), pw, p.NRN.Digits(), p.Name, p.IBAN); err != nil {
			return fmt.Errorf("demoapp: seed: %w", err)
		}
	}
	return nil
}

// checkPassword is the vendor's password check: plaintext or {MD5}.
func checkPassword(stored, given string) bool {
	if rest, ok := strings.CutPrefix(stored, "{MD5}"); ok {
		sum := md5.Sum([]byte(given))
		return subtle.ConstantTimeCompare([]byte(rest), []byte(base64.StdEncoding.EncodeToString(sum[:]))) == 1
	}
	return stored != "" && subtle.ConstantTimeCompare([]byte(stored), []byte(given)) == 1
}

// Handler returns the app's routes.
func (a *App) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.home)
	mux.HandleFunc("GET /login", a.loginForm)
	mux.HandleFunc("POST /login", a.login)
	mux.HandleFunc("POST /logout", a.logout)
	mux.HandleFunc("POST /profile/iban", a.changeIBAN)
	mux.HandleFunc("POST /password", a.changeOwnPassword)
	mux.HandleFunc("GET /family", a.family)
	mux.HandleFunc("POST /family/add", a.addFamily)
	mux.HandleFunc("GET /family/{id}", a.member)
	mux.HandleFunc("POST /family/{id}/password", a.changeMemberPassword)
	mux.HandleFunc("/", a.notFound) // every other path: the e-loket's own 404 page, not Go's bare text
	return mux
}

// notFound is the e-loket's page for a path it does not have (in its own
// layout, like every page of it; the gateway passes it through).
func (a *App) notFound(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusNotFound)
	if err := pages.ExecuteTemplate(w, "notfound.html", nil); err != nil {
		a.log.Error("demoapp: render", "page", "notfound.html", "err", err)
	}
}

type account struct {
	ID       int64
	Username string
	Name     string
	IBAN     string
	NRN      string // masked for display
}

// current returns the logged-in account: the gateway's assertion when one is
// configured and present, else the app's own session cookie.
func (a *App) current(r *http.Request) (int64, bool) {
	if a.identity != nil {
		id, ok, err := a.identity(r)
		if err != nil {
			a.log.Warn("demoapp: rejected identity assertion", "err", err)
			return 0, false
		}
		if ok {
			n, err := strconv.ParseInt(id, 10, 64)
			return n, err == nil
		}
	}
	c, err := r.Cookie("eloket_sessie")
	if err != nil {
		return 0, false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	id, ok := a.sessions[c.Value]
	return id, ok
}

func (a *App) load(ctx context.Context, id int64) (account, error) {
	var acc account
	var rrn sql.NullString
	err := a.db.QueryRowContext(ctx, `SELECT id, gebruikersnaam, naam, iban, rijksregisternummer FROM burgers WHERE id = ?`, id).
		Scan(&acc.ID, &acc.Username, &acc.Name, &acc.IBAN, &rrn)
	if n, perr := nrn.Parse(rrn.String); perr == nil {
		acc.NRN = n.Mask()
	}
	if u, perr := nrn.Parse(acc.Username); perr == nil {
		acc.Username = u.Mask()
	}
	return acc, err
}

func (a *App) render(w http.ResponseWriter, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := pages.ExecuteTemplate(w, name, data); err != nil {
		a.log.Error("demoapp: render", "page", name, "err", err)
	}
}

func (a *App) home(w http.ResponseWriter, r *http.Request) {
	id, ok := a.current(r)
	if !ok {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	a.renderAccount(w, r, "home.html", id)
}

// renderAccount shows page with account id, or 404 when it is gone.
func (a *App) renderAccount(w http.ResponseWriter, r *http.Request, page string, id int64) {
	acc, err := a.load(r.Context(), id)
	if err != nil {
		http.Error(w, "account niet gevonden", http.StatusNotFound)
		return
	}
	a.render(w, page, acc)
}

func (a *App) loginForm(w http.ResponseWriter, r *http.Request) {
	a.render(w, "login.html", map[string]string{"Error": r.URL.Query().Get("fout")})
}

// login is the flaw the supervisor described: username and password are the
// national number.
func (a *App) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	user, pw := r.PostFormValue("gebruikersnaam"), r.PostFormValue("wachtwoord")
	var id int64
	var stored sql.NullString
	err := a.db.QueryRowContext(r.Context(), `SELECT id, wachtwoord FROM burgers WHERE gebruikersnaam = ?`, user).Scan(&id, &stored)
	if err != nil || !checkPassword(stored.String, pw) {
		http.Redirect(w, r, "/login?fout=1", http.StatusSeeOther)
		return
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		http.Error(w, "fout", http.StatusInternalServerError)
		return
	}
	tok := hex.EncodeToString(b[:])
	a.mu.Lock()
	a.sessions[tok] = id
	a.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: "eloket_sessie", Value: tok, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (a *App) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie("eloket_sessie"); err == nil {
		a.mu.Lock()
		delete(a.sessions, c.Value)
		a.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{Name: "eloket_sessie", Value: "", Path: "/", MaxAge: -1})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func (a *App) mustLogin(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, ok := a.current(r)
	if !ok {
		http.Error(w, "niet aangemeld", http.StatusUnauthorized)
	}
	return id, ok
}

func (a *App) changeIBAN(w http.ResponseWriter, r *http.Request) {
	id, ok := a.mustLogin(w, r)
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if _, err := a.db.ExecContext(r.Context(), `UPDATE burgers SET iban = ? WHERE id = ?`, r.PostFormValue("iban"), id); err != nil {
		http.Error(w, "fout", http.StatusInternalServerError)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (a *App) setPassword(w http.ResponseWriter, r *http.Request, target int64) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if _, err := a.db.ExecContext(r.Context(), `UPDATE burgers SET wachtwoord = ? WHERE id = ?`, r.PostFormValue("nieuw_wachtwoord"), target); err != nil {
		http.Error(w, "fout", http.StatusInternalServerError)
		return
	}
	fmt.Fprintln(w, "wachtwoord gewijzigd")
}

func (a *App) changeOwnPassword(w http.ResponseWriter, r *http.Request) {
	if id, ok := a.mustLogin(w, r); ok {
		a.setPassword(w, r, id)
	}
}

func (a *App) family(w http.ResponseWriter, r *http.Request) {
	id, ok := a.mustLogin(w, r)
	if !ok {
		return
	}
	rows, err := a.db.QueryContext(r.Context(), `SELECT lid_id FROM gezinsleden WHERE burger_id = ? ORDER BY lid_id`, id)
	if err != nil {
		http.Error(w, "fout", http.StatusInternalServerError)
		return
	}
	var ids []int64
	for rows.Next() {
		var m int64
		if rows.Scan(&m) == nil {
			ids = append(ids, m)
		}
	}
	rows.Close()
	var members []account
	for _, m := range ids {
		if acc, err := a.load(r.Context(), m); err == nil {
			members = append(members, acc)
		}
	}
	a.render(w, "family.html", members)
}

// addFamily is the second flaw: anyone can be added by national number.
func (a *App) addFamily(w http.ResponseWriter, r *http.Request) {
	id, ok := a.mustLogin(w, r)
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	// Like many vendors, a JSON API too, decoded the usual way (the last of
	// duplicate keys wins, numbers accepted): the gateway must forward
	// exactly what it verified.
	value := ""
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/json" {
		var in map[string]any
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, "ongeldige aanvraag", http.StatusBadRequest)
			return
		}
		switch v := in["rijksregisternummer"].(type) {
		case string:
			value = v
		case float64:
			value = strconv.FormatFloat(v, 'f', -1, 64)
		}
	} else {
		value = r.PostFormValue("rijksregisternummer")
	}
	n, err := nrn.Parse(value)
	if err != nil {
		http.Error(w, "ongeldig rijksregisternummer", http.StatusBadRequest)
		return
	}
	var member int64
	if err := a.db.QueryRowContext(r.Context(), `SELECT id FROM burgers WHERE rijksregisternummer = ?`, n.Digits()).Scan(&member); err != nil {
		http.Error(w, "onbekende inwoner", http.StatusNotFound)
		return
	}
	if _, err := a.db.ExecContext(r.Context(), `INSERT OR IGNORE INTO gezinsleden (burger_id, lid_id) VALUES (?, ?)`, id, member); err != nil {
		http.Error(w, "fout", http.StatusInternalServerError)
		return
	}
	http.Redirect(w, r, "/family", http.StatusSeeOther)
}

func (a *App) isMember(ctx context.Context, id, member int64) bool {
	var one int
	return a.db.QueryRowContext(ctx, `SELECT 1 FROM gezinsleden WHERE burger_id = ? AND lid_id = ?`, id, member).Scan(&one) == nil
}

// familyMember is the family member in the path ({id}) of the logged-in
// citizen; without a login, or for someone not in their family, it has
// answered and returns false.
func (a *App) familyMember(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, ok := a.mustLogin(w, r)
	if !ok {
		return 0, false
	}
	m, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || !a.isMember(r.Context(), id, m) {
		http.Error(w, "geen gezinslid", http.StatusForbidden)
		return 0, false
	}
	return m, true
}

func (a *App) member(w http.ResponseWriter, r *http.Request) {
	if m, ok := a.familyMember(w, r); ok {
		a.renderAccount(w, r, "member.html", m)
	}
}

// changeMemberPassword completes the takeover the supervisor described.
func (a *App) changeMemberPassword(w http.ResponseWriter, r *http.Request) {
	if m, ok := a.familyMember(w, r); ok {
		a.setPassword(w, r, m)
	}
}
