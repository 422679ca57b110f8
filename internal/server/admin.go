package server

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/overstap/overstap/auth/gateway/pages"
	"github.com/overstap/overstap/auth/legacylogin"
	"github.com/overstap/overstap/auth/nrn"
	"github.com/overstap/overstap/auth/ratelimit"
)

// banAdmin is the admin API of the legacy-login rate limiter:
//
//	GET  /admin/bans                                → [{"scope","ref","until","locked"}]
//	POST /admin/bans/lift {"scope":"user","ref":...}       → {"lifted": true|false}
//	POST /admin/bans/lift {"username":"jan.peeters"}        (the helpdesk's way)
//	POST /admin/bans/lift {"ip":"192.0.2.7"}
//
// Bans are listed by opaque reference only (never an IP or a username); a
// lift by username or IP computes the same reference and forgets the input.
type banAdmin struct {
	l      ratelimit.Limiter
	refKey nrn.RefKey
}

func (b banAdmin) routes() map[string]http.Handler {
	return map[string]http.Handler{
		"GET /admin/bans":       http.HandlerFunc(b.list),
		"POST /admin/bans/lift": http.HandlerFunc(b.lift),
	}
}

type banJSON struct {
	Scope  ratelimit.Scope `json:"scope"`
	Ref    string          `json:"ref"`
	Until  *time.Time      `json:"until,omitempty"`
	Locked bool            `json:"locked"`
}

func (b banAdmin) list(w http.ResponseWriter, r *http.Request) {
	bans, err := b.l.Bans(r.Context())
	if err != nil {
		pages.JSON(w, http.StatusServiceUnavailable, map[string]string{"error": "rate_limiter"})
		return
	}
	out := make([]banJSON, 0, len(bans))
	for _, x := range bans {
		j := banJSON{Scope: x.Scope, Ref: x.Ref, Locked: x.Locked}
		if !x.Until.IsZero() {
			u := x.Until.UTC()
			j.Until = &u
		}
		out = append(out, j)
	}
	pages.JSON(w, http.StatusOK, out)
}

func (b banAdmin) lift(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Scope    ratelimit.Scope `json:"scope"`
		Ref      string          `json:"ref"`
		Username string          `json:"username"`
		IP       string          `json:"ip"`
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(&body)
	switch {
	case err != nil:
	case body.Username != "" && body.Ref == "" && body.IP == "":
		body.Scope, body.Ref = ratelimit.ScopeUser, b.l.Ref(ratelimit.ScopeUser, legacylogin.UserRef(b.refKey, body.Username))
	case body.IP != "" && body.Ref == "" && body.Username == "":
		body.Scope, body.Ref = ratelimit.ScopeIP, b.l.Ref(ratelimit.ScopeIP, body.IP)
	}
	if err != nil || (body.Scope != ratelimit.ScopeIP && body.Scope != ratelimit.ScopeUser) || body.Ref == "" || len(body.Ref) > 256 {
		pages.JSON(w, http.StatusBadRequest, map[string]string{"error": "bad_request"})
		return
	}
	ok, err := b.l.Lift(r.Context(), body.Scope, body.Ref)
	if err != nil {
		pages.JSON(w, http.StatusServiceUnavailable, map[string]string{"error": "rate_limiter"})
		return
	}
	pages.JSON(w, http.StatusOK, map[string]bool{"lifted": ok})
}
