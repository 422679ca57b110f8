package wiresign

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

var key = []byte("0123456789abcdef0123456789abcdef")

// TestGolden pins the protocol bytes: the values were computed with the
// store hook's and the registry's own signing code before they shared this
// package.
func TestGolden(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{Domain("overstap-hook-v1").Request(key, "POST", "/v1/get", "1700000000", "nonce-nonce-nonce-1", []byte(`{"id":"x"}`)),
			"v1=2f08755e2b18f141820ea26f0807b97be7a7a52bd2e814f7fac25394eb6c4e1b"},
		{Domain("overstap-hook-v1").Response(key, 200, "nonce-nonce-nonce-1", []byte(`{"ok":true}`)),
			"v1=982345f6487a3f1cef8b658292026efb0609a35db0f1804022f4a20192372df6"},
		{Domain("overstap-registry-v1").Request(key, "POST", "/v1/person", "1700000000", "nonce-nonce-nonce-1", []byte(`{"nrn":"x"}`)),
			"v1=297bdf91da16c7709336f9f1c7493f38e36322c1a480058e2d59e85f0d93b599"},
		{Domain("overstap-registry-v1").Response(key, 404, "nonce-nonce-nonce-1", []byte(`{"error":"not_found"}`)),
			"v1=428fcfa23b9a2a8f552aab382ebf0cda7c17abc835f349ddaf6cc4572af7aa42"},
	} {
		if c.got != c.want {
			t.Errorf("signature %s, want %s", c.got, c.want)
		}
	}
}

func TestVerify(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	v := &Verifier{Domain: "d-v1", Key: key, Now: func() time.Time { return now }, Window: time.Minute, MaxNonces: 2}
	req := func(method, path, ts, nonce, body string, d Domain) *httptestReq {
		r := httptest.NewRequest(method, path, strings.NewReader(body))
		r.Header.Set(HeaderTimestamp, ts)
		r.Header.Set(HeaderNonce, nonce)
		p, _, _ := strings.Cut(path, "?")
		r.Header.Set(HeaderSignature, d.Request(key, method, p, ts, nonce, []byte(body)))
		return &httptestReq{r, []byte(body)}
	}
	ts := "1700000000"
	for _, c := range []struct {
		name string
		r    *httptestReq
		want string
	}{
		{"valid", req("POST", "/v1/x?q=1", ts, "nonce-0000000001", "{}", "d-v1"), ""},
		{"replay", req("POST", "/v1/x?q=1", ts, "nonce-0000000001", "{}", "d-v1"), "replayed nonce"},
		{"other domain", req("POST", "/v1/x", ts, "nonce-0000000002", "{}", "d-v2"), "bad signature"},
		{"old", req("POST", "/v1/x", "1699999000", "nonce-0000000003", "{}", "d-v1"), "timestamp outside window"},
		{"bad ts", req("POST", "/v1/x", "17e8", "nonce-0000000004", "{}", "d-v1"), "bad timestamp"},
		{"short nonce", req("POST", "/v1/x", ts, "n", "{}", "d-v1"), "bad nonce"},
		{"second", req("POST", "/v1/x", ts, "nonce-0000000005", "{}", "d-v1"), ""},
		{"cache full", req("POST", "/v1/x", ts, "nonce-0000000006", "{}", "d-v1"), "replay cache full"},
	} {
		if got := v.Verify(c.r.r, c.r.body); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	now = now.Add(2 * time.Minute) // the held nonces expire
	if got := v.Verify(req("POST", "/v1/x", "1700000120", "nonce-0000000007", "{}", "d-v1").r, []byte("{}")); got != "" {
		t.Errorf("after expiry: %q", got)
	}
}

type httptestReq struct {
	r    *http.Request
	body []byte
}
