package family_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/overstap/overstap/auth/devidp"
)

func TestAdminHandler(t *testing.T) {
	e := newEnv(t, envOpt{})
	g := e.approve(t, e.invite(t, "eloket", devidp.PersonaParentA, devidp.PersonaUnrelated), devidp.PersonaUnrelated)
	h := e.svc.AdminHandler()
	post := func(path, body string) (int, string) {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("POST", path, strings.NewReader(body)))
		return w.Code, w.Body.String()
	}
	if code, body := post("/grants/revoke", `{"grant":"`+g.ID+`","by":"alice"}`); code != http.StatusOK || strings.TrimSpace(body) != `{"revoked":1}` {
		t.Fatalf("revoke grant: %d %s", code, body)
	}
	if code, _ := post("/grants/revoke", `{"grant":"`+g.ID+`"}`); code != http.StatusNotFound {
		t.Fatalf("again: %d", code)
	}
	if code, _ := post("/grants/revoke", `{`); code != http.StatusBadRequest {
		t.Fatalf("bad JSON: %d", code)
	}
	e.approve(t, e.invite(t, "eloket", devidp.PersonaParentA, devidp.PersonaUnrelated), devidp.PersonaUnrelated)
	if code, body := post("/persons/revoke", `{"nrn":"`+e.who[devidp.PersonaUnrelated].Format()+`"}`); code != http.StatusOK || strings.TrimSpace(body) != `{"revoked":1}` {
		t.Fatalf("revoke person: %d %s", code, body)
	}
	if code, body := post("/persons/revoke", `{"nrn":"12345"}`); code != http.StatusBadRequest || strings.Contains(body, "12345") {
		t.Fatalf("bad nrn: %d %s", code, body)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/grants/revoke", nil))
	if w.Code != http.StatusMethodNotAllowed {
		t.Fatalf("GET: %d", w.Code)
	}
	// Mounted under a prefix, as the gateway's admin listener does.
	g2 := e.approve(t, e.invite(t, "eloket", devidp.PersonaParentA, devidp.PersonaRoommate), devidp.PersonaRoommate)
	mux := http.NewServeMux()
	for pattern, h := range e.svc.AdminRoutes("/admin/family") {
		mux.Handle(pattern, h)
	}
	w = httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest("POST", "/admin/family/grants/revoke", strings.NewReader(`{"grant":"`+g2.ID+`"}`)))
	if w.Code != http.StatusOK {
		t.Fatalf("mounted: %d %s", w.Code, w.Body)
	}
	es := e.audit(t, "family.revoked")
	if len(es) != 3 || es[0].Actor != "admin:alice" || es[1].Actor != "admin:admin" {
		t.Fatalf("audit %+v", es)
	}
}
