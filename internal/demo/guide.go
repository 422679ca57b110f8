package demo

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"github.com/overstap/overstap/auth/devidp"
)

// The demo's start page ("the guide"): served by the demo itself on its own
// loopback address, not by the gateway, so it needs no login and is never
// mistaken for a page of the municipality. It lists the personas and the
// steps to try, in order, with what each one proves. Dutch (the default) and
// English: the demo is shown by a Flemish municipality's IT team to its
// helpdesk and to the app's vendor.

//go:embed guide.html
var guideHTML string

var guideTmpl = template.Must(template.New("guide").Parse(guideHTML))

// GuideLanguages are the guide's languages, the first the default.
var GuideLanguages = []string{"nl", "en"}

// PersonaNote says in a few words what a persona is for in the demo
// (shared by the printed summary and the guide).
func PersonaNote(p devidp.Persona, lang string) string {
	nl := lang == "nl"
	pick := func(n, e string) string {
		if nl {
			return n
		}
		return e
	}
	switch {
	case p.ForeignDocument:
		return pick("itsme met een buitenlands document: geen rijksregisternummer", "itsme with a foreign document: no national number")
	case p.BIS:
		return pick("BIS-nummer: geen account in het e-loket", "BIS number: no account in the e-loket")
	case len(p.Children) > 0:
		return pick("ouder van ", "parent of ") + strings.Join(p.Children, ", ")
	case len(p.Parents) > 0 && p.Age < 18:
		return pick("minderjarig kind van ", "minor child of ") + strings.Join(p.Parents, ", ")
	case len(p.Parents) > 0:
		return pick("meerderjarig kind van ", "adult child of ") + strings.Join(p.Parents, ", ")
	case p.Position == "12":
		return pick("zelfde adres en gezin, geen familieband", "same address and household, no family tie")
	}
	return pick("een andere burger", "another citizen")
}

type guidePersona struct {
	Key, Name, Age, NRN, Note string
}

type guideLang struct {
	Code, Label string
	Current     bool
}

type guideData struct {
	Lang             string
	Languages        []guideLang
	Gateway, IdP     string
	Personas         []guidePersona
	ResidentUser     string
	ResidentPassword string
	PasswordPolicy   bool
	ParentA, Minor   string
	Roommate         string
	ParentAName      string
	MinorName        string
	RoommateName     string
}

// guide serves the start page at "/" (and its language variants ?lang=).
func (d *Demo) guide(policyGatewayPassword bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		lang := r.URL.Query().Get("lang")
		if lang != "en" {
			lang = "nl"
		}
		g := guideData{Lang: lang, Gateway: d.GatewayURL, IdP: d.IdPURL, ResidentUser: ResidentUser,
			ResidentPassword: ResidentPassword, PasswordPolicy: policyGatewayPassword}
		for _, l := range GuideLanguages {
			label := map[string]string{"nl": "Nederlands", "en": "English"}[l]
			g.Languages = append(g.Languages, guideLang{Code: l, Label: label, Current: l == lang})
		}
		for _, p := range d.Personas {
			num := "—"
			if p.HasNRN() {
				num = p.NRN.Format()
			}
			g.Personas = append(g.Personas, guidePersona{Key: p.Key, Name: p.Name(), Age: strconv.Itoa(p.Age), NRN: num, Note: PersonaNote(p, lang)})
			switch p.Key {
			case devidp.PersonaParentA:
				g.ParentA, g.ParentAName = num, p.Name()
			case devidp.PersonaMinor:
				g.Minor, g.MinorName = num, p.Name()
			case devidp.PersonaRoommate:
				g.Roommate, g.RoommateName = num, p.Name()
			}
		}
		var buf bytes.Buffer
		if err := guideTmpl.Execute(&buf, g); err != nil {
			http.Error(w, "demo: guide: "+err.Error(), http.StatusInternalServerError)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Language", lang)
		h.Set("Cache-Control", "no-store")
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'none'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Length", fmt.Sprint(buf.Len()))
		_, _ = w.Write(buf.Bytes())
	})
}
