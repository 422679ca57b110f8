package family

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/overstap/overstap/auth/gateway/pages"
	"github.com/overstap/overstap/auth/nrn"
)

// AdminHandler serves the admin API of family grants. It does no
// authentication of its own: mount it on the gateway's admin listener,
// behind its bearer token (e.g. under /admin/family/).
//
//	POST .../grants/revoke   {"grant": "<id>", "by": "alice"}         → {"revoked": 1}
//	POST .../persons/revoke  {"nrn": "85.07.30-033.28", "by": "alice"} → {"revoked": n}
//
// "by" names the admin in the audit log (default "admin"). The national
// number is read in any written form and used only to compute its
// reference.
func (s *Service) AdminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /grants/revoke", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Grant string `json:"grant"`
			By    string `json:"by"`
		}
		if !readJSON(w, r, &in) || in.Grant == "" {
			pages.JSON(w, http.StatusBadRequest, map[string]string{"error": "bad_request"})
			return
		}
		_, err := s.AdminRevoke(r.Context(), in.Grant, adminName(in.By))
		switch {
		case errors.Is(err, ErrNotFound):
			pages.JSON(w, http.StatusNotFound, map[string]string{"error": "not_found"})
		case err != nil:
			s.log.Error("family: admin revoke failed", "err", err.Error())
			pages.JSON(w, http.StatusServiceUnavailable, map[string]string{"error": "unavailable"})
		default:
			pages.JSON(w, http.StatusOK, map[string]int{"revoked": 1})
		}
	})
	mux.HandleFunc("POST /persons/revoke", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			NRN string `json:"nrn"`
			By  string `json:"by"`
		}
		if !readJSON(w, r, &in) {
			pages.JSON(w, http.StatusBadRequest, map[string]string{"error": "bad_request"})
			return
		}
		n, err := nrn.Parse(in.NRN)
		if err != nil {
			pages.JSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_nrn"})
			return
		}
		gs, err := s.AdminRevokePerson(r.Context(), s.ref(n), adminName(in.By))
		if err != nil {
			s.log.Error("family: admin revoke failed", "err", err.Error())
			pages.JSON(w, http.StatusServiceUnavailable, map[string]string{"error": "unavailable"})
			return
		}
		s.log.Info("family: admin revoked the grants of a person", "nrn", n.Mask(), "count", len(gs))
		pages.JSON(w, http.StatusOK, map[string]int{"revoked": len(gs)})
	})
	return mux
}

// AdminRoutes are AdminHandler's routes mounted under prefix
// ("/admin/family"), as the gateway's admin listener takes them
// (internal/server AdminRouter): "POST <prefix>/grants/revoke" and
// "POST <prefix>/persons/revoke", behind the admin token.
func (s *Service) AdminRoutes(prefix string) map[string]http.Handler {
	h := http.StripPrefix(prefix, s.AdminHandler())
	return map[string]http.Handler{
		"POST " + prefix + "/grants/revoke":  h,
		"POST " + prefix + "/persons/revoke": h,
	}
}

func adminName(s string) string {
	if s == "" || len(s) > 64 || !validName(s) {
		return "admin"
	}
	return s
}

func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 4<<10))
	if err != nil {
		return false
	}
	return json.Unmarshal(b, v) == nil
}
