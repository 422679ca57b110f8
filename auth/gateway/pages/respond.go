package pages

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// WantsPage is the one choice between a page and JSON, for the gateway
// and its hooks alike: a page for a browser's navigation or form
// submission, JSON for a program (fetch/XHR, an API client asking for
// JSON, a method no HTML form sends).
func WantsPage(r *http.Request) bool { return WantsPageFor(r.Method, r.Header) }

// WantsPageFor is WantsPage for a request described by its method and
// headers (forward-auth: the original request's).
func WantsPageFor(method string, h http.Header) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost:
	default:
		return false
	}
	if h.Get("X-Requested-With") != "" {
		return false
	}
	if m := h.Get("Sec-Fetch-Mode"); m != "" && m != "navigate" {
		return false
	}
	a := strings.ToLower(h.Get("Accept"))
	if strings.Contains(a, "application/json") && !strings.Contains(a, "text/html") {
		return false
	}
	return a == "" || strings.Contains(a, "text/html") || strings.Contains(a, "*/*")
}

// IsNavigation reports whether the request is a browser navigation that
// may be redirected (to login, to step-up): a page-wanting GET or HEAD.
// A form's POST is not: its body would be lost.
func IsNavigation(r *http.Request) bool {
	return (r.Method == http.MethodGet || r.Method == http.MethodHead) && WantsPage(r)
}

// JSON writes v as the JSON answer, never cached or sniffed.
func JSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"internal"}`)
	}
	b = append(b, '\n')
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// JSONError writes {"error": code}: the JSON form of an error page.
func JSONError(w http.ResponseWriter, status int, code string) {
	JSON(w, status, map[string]string{"error": code})
}
