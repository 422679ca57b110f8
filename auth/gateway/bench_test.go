package gateway_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkHandler is the gateway's per-request cost for an authenticated
// request (memory session store, headers profile), upstream over loopback,
// next to the same upstream called directly (baseline in the same run).
func BenchmarkHandler(b *testing.B) {
	t := &testing.T{}
	f := newFixture(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }), nil)
	b.Run("direct", func(b *testing.B) {
		c := &http.Client{}
		b.ReportAllocs()
		for b.Loop() {
			resp, err := c.Get(f.up.URL + "/x")
			if err != nil {
				b.Fatal(err)
			}
			resp.Body.Close()
		}
	})
	b.Run("gateway", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			req := httptest.NewRequest("GET", "/x", nil)
			req.Header.Set("Cookie", f.cookie)
			w := httptest.NewRecorder()
			f.g.ServeHTTP(w, req)
			if w.Code != 200 {
				b.Fatal(w.Code)
			}
		}
	})
}
