package pages

import (
	"bytes"
	"cmp"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/text/language"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Static returns the embedded static files (overstap.css) rooted at
// "static", for http.FileServerFS.
func Static() fs.FS {
	sub, _ := fs.Sub(staticFS, "static")
	return sub
}

// Provider is one login choice on the login page.
type Provider struct {
	Name  string // form value
	Label string // shown after "Log in with" (itsme, eID, ...): a brand, not translated
}

// Data is what a page shows. Title and Kind select translated texts.
type Data struct {
	Lang         string
	Title        string // translation key of the <title>
	Brand        string // the municipality's name
	StaticPrefix string // URL prefix of overstap.css
	Action       string // form action (gateway-relative path)
	CSRF         string
	ReturnTo     string
	Providers    []Provider
	Kind         string // error kind (Kind) or a page's variant
	Ref          string // request reference shown on error pages
	HomeURL      string
	IsError      bool
	LangAction   string // the gateway's language switch endpoint
	Here         string // the current local path, to come back to after a language switch
	Languages    []langLink
	// Extra is the typed data of a page of a Set (its templates read
	// .Extra.<Field>); nil for the gateway's own pages.
	Extra any
}

// Kind is the kind of an error page: it selects the err.<kind>.title and
// err.<kind>.body texts. The gateway's kinds are ErrorKinds; a Set adds
// its own.
type Kind string

// Set is a group of pages owned by another part (the family pages): its
// templates (each "<page>.html" defining "content", rendered in the
// gateway's layout), titles, error kinds and texts in every language.
// The renderer refuses a Set that lacks a text in a language, redefines
// a page, a kind or a text key.
type Set struct {
	FS     fs.FS
	Pages  []string
	Titles map[string]string // page → title text key
	Kinds  []Kind
	Texts  map[string]map[string]string // language → key → text
}

type langLink struct {
	Code, Label string
	Current     bool
}

// Page names.
const (
	Login     = "login"
	StepUp    = "stepup"
	Legacy    = "legacy"
	LoggedOut = "loggedout"
	Logout    = "logout"
	Error     = "error"
)

// Pages lists the gateway's own page names.
var Pages = []string{Login, StepUp, Legacy, LoggedOut, Logout, Error}

var baseTitles = map[string]string{
	Login: "login.title", StepUp: "stepup.title", Legacy: "legacy.title",
	LoggedOut: "loggedout.title", Logout: "logout.title",
}

// Renderer renders pages. It is safe for concurrent use.
type Renderer struct {
	tmpl   map[string]*template.Template
	pages  []string
	titles map[string]string
	kinds  []Kind
	texts  map[string]map[string]string
	brand  string
}

// New parses the gateway's templates and those of sets. brand is the
// municipality's name shown on every page.
func New(brand string, sets ...Set) (*Renderer, error) {
	r := &Renderer{tmpl: map[string]*template.Template{}, titles: maps.Clone(baseTitles), brand: brand,
		kinds: slices.Clone(ErrorKinds), texts: map[string]map[string]string{}}
	for _, l := range Languages {
		r.texts[l] = maps.Clone(texts[l])
	}
	funcs := template.FuncMap{"t": r.translate}
	base, err := template.New("layout").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("pages: %w", err)
	}
	add := func(fsys fs.FS, dir, p string) error {
		if _, dup := r.tmpl[p]; dup {
			return fmt.Errorf("pages: page %q defined twice", p)
		}
		t, err := template.Must(base.Clone()).ParseFS(fsys, dir+p+".html")
		if err != nil {
			return fmt.Errorf("pages: %s: %w", p, err)
		}
		r.tmpl[p] = t
		r.pages = append(r.pages, p)
		return nil
	}
	for _, p := range Pages {
		if err := add(templateFS, "templates/", p); err != nil {
			return nil, err
		}
	}
	for _, s := range sets {
		for _, p := range s.Pages {
			if err := add(s.FS, "", p); err != nil {
				return nil, err
			}
			r.titles[p] = s.Titles[p]
		}
		for _, k := range s.Kinds {
			if slices.Contains(r.kinds, k) {
				return nil, fmt.Errorf("pages: error kind %q defined twice", k)
			}
			r.kinds = append(r.kinds, k)
		}
		for _, l := range Languages {
			if len(s.Texts[l]) != len(s.Texts[Languages[0]]) {
				return nil, fmt.Errorf("pages: language %s has %d texts, %s %d", l, len(s.Texts[l]), Languages[0], len(s.Texts[Languages[0]]))
			}
			for k, v := range s.Texts[l] {
				if _, dup := r.texts[l][k]; dup {
					return nil, fmt.Errorf("pages: text %s/%s defined twice", l, k)
				}
				r.texts[l][k] = v
			}
		}
	}
	return r, nil
}

// Pages lists every page the renderer knows (the gateway's, then the sets').
func (r *Renderer) Pages() []string { return slices.Clone(r.pages) }

// Kinds lists every error kind the renderer knows.
func (r *Renderer) Kinds() []Kind { return slices.Clone(r.kinds) }

// HasKind reports whether k is an error kind of the renderer.
func (r *Renderer) HasKind(k Kind) bool { return slices.Contains(r.kinds, k) }

// Texts returns the renderer's texts of lang (for tests).
func (r *Renderer) Texts(lang string) map[string]string { return maps.Clone(r.texts[lang]) }

// translate looks a key up; a missing key is an error, so a page with a
// missing translation fails to render (and the test catches it).
func (r *Renderer) translate(lang, key string) (string, error) {
	if s, ok := r.texts[lang][key]; ok {
		return s, nil
	}
	return "", fmt.Errorf("pages: missing translation %s/%s", lang, key)
}

// Render writes page with status. d.Lang must be one of Languages.
func (r *Renderer) Render(w http.ResponseWriter, status int, page string, d Data) error {
	t, ok := r.tmpl[page]
	if !ok {
		return fmt.Errorf("pages: unknown page %q", page)
	}
	if !slices.Contains(Languages, d.Lang) {
		d.Lang = Languages[0]
	}
	if d.Brand == "" {
		d.Brand = r.brand
	}
	if d.Title == "" {
		d.Title = r.titles[page]
	}
	if page == Error {
		d.Title = "err." + d.Kind + ".title"
		d.IsError = true
	}
	if d.LangAction == "" {
		d.LangAction = "/.overstap/lang"
	}
	if d.Here == "" {
		d.Here = "/"
	}
	if d.HomeURL == "" {
		d.HomeURL = "/"
	}
	d.Languages = make([]langLink, len(Languages))
	for i, l := range Languages {
		d.Languages[i] = langLink{Code: l, Label: langLabels[l], Current: l == d.Lang}
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", d); err != nil {
		return fmt.Errorf("pages: render %s: %w", page, err)
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Language", d.Lang)
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

// matcher chooses among Languages, in their order (the first is the
// fallback when nothing matches).
var matcher = language.NewMatcher(func() []language.Tag {
	tags := make([]language.Tag, len(Languages))
	for i, l := range Languages {
		tags[i] = language.MustParse(l)
	}
	return tags
}())

// maxAcceptLanguages bounds the Accept-Language entries looked at.
const maxAcceptLanguages = 32

// Negotiate picks the page language: the lang cookie value when it is a
// supported language, else the best match of the Accept-Language header by
// golang.org/x/text/language ("nl-BE" is Dutch, "lb" German, q-values
// honoured; an entry that does not parse or has a weight outside 0–1 is
// skipped, the others still count), else Dutch.
func Negotiate(cookie, acceptLanguage string) string {
	if slices.Contains(Languages, cookie) {
		return cookie
	}
	type weighted struct {
		tag language.Tag
		q   float32
	}
	var ws []weighted
	entries := strings.SplitN(acceptLanguage, ",", maxAcceptLanguages+1)
	for _, entry := range entries[:min(len(entries), maxAcceptLanguages)] {
		t, q, err := language.ParseAcceptLanguage(entry)
		if err != nil || len(t) != 1 || q[0] > 1 {
			continue
		}
		ws = append(ws, weighted{t[0], q[0]})
	}
	slices.SortStableFunc(ws, func(a, b weighted) int { return cmp.Compare(b.q, a.q) })
	prefs := make([]language.Tag, len(ws))
	for i, w := range ws {
		prefs[i] = w.tag
	}
	_, i, _ := matcher.Match(prefs...)
	return Languages[i]
}
