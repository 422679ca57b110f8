package gateway_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/overstap/overstap/auth/gateway"
	"github.com/overstap/overstap/internal/logging"
	"github.com/overstap/overstap/internal/testsvc"
)

// TestAccessLog: with access_log on, one structured line per request with
// method, canonical path, status, bytes, duration, app, class, decision and
// the session's NRN reference; never the session id, the query or an NRN.
// Off, no line.
func TestAccessLog(t *testing.T) {
	for _, on := range []bool{true, false} {
		var buf testsvc.SyncBuffer
		log, _ := logging.New(&buf, "json", "info")
		f := newFixtureDeps(t, nil, func(c *gateway.Config) { c.AccessLog = on }, func(d *gateway.Deps) { d.Logger = log })
		sid := strings.TrimPrefix(f.cookie, "overstap_session=")
		f.do(t, "GET", "/a/b?nrn="+f.n.Digits()+"&token=secret", map[string]string{"Cookie": f.cookie}, nil)
		f.do(t, "GET", "/admin/x", map[string]string{"Cookie": f.cookie, "Accept": "text/html"}, nil)
		f.do(t, "GET", "/x", map[string]string{"Accept": "application/json"}, nil)
		var lines []map[string]any
		for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
			var m map[string]any
			if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == "access" {
				lines = append(lines, m)
			}
		}
		if !on {
			if len(lines) != 0 {
				t.Fatalf("access_log off, still %d lines", len(lines))
			}
			continue
		}
		if len(lines) != 3 {
			t.Fatalf("want 3 access lines, got %d:\n%s", len(lines), buf.String())
		}
		want := []struct {
			path, class, decision string
			status                float64
			who                   bool
		}{{"/a/b", "protected", "allow", 200, true}, {"/admin/x", "blocked", "deny", 403, false}, {"/x", "protected", "login", 401, false}}
		for i, w := range want {
			l := lines[i]
			if l["method"] != "GET" || l["path"] != w.path || l["class"] != w.class || l["decision"] != w.decision || l["status"] != w.status || l["app"] != "eloket" {
				t.Errorf("line %d: %v", i, l)
			}
			if _, ok := l["duration_ms"].(float64); !ok {
				t.Errorf("line %d: no duration: %v", i, l)
			}
			if b, _ := l["bytes"].(float64); b <= 0 {
				t.Errorf("line %d: no bytes: %v", i, l)
			}
			if who, _ := l["who"].(string); w.who != strings.HasPrefix(who, "nrnref1:") {
				t.Errorf("line %d: who %q", i, who)
			}
		}
		out := buf.String()
		for _, secret := range []string{sid, f.n.Digits(), "token=secret", "acc-42"} {
			if strings.Contains(out, secret) {
				t.Errorf("access log holds %q:\n%s", secret, out)
			}
		}
	}
}

// TestRefusalLoggedAtInfo: a refused request (blocked path) is a decision,
// logged at info with the reference the citizen sees and the masked path;
// faults (5xx) stay at warn.
func TestRefusalLoggedAtInfo(t *testing.T) {
	var buf testsvc.SyncBuffer
	log, _ := logging.New(&buf, "json", "info")
	f := newFixtureDeps(t, nil, nil, func(d *gateway.Deps) { d.Logger = log })
	f.do(t, "GET", "/admin/"+f.n.Digits(), map[string]string{"Cookie": f.cookie, "Accept": "text/html"}, nil)
	var refused map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == "gateway: refused" {
			refused = m
		}
	}
	if refused == nil || refused["level"] != "INFO" || refused["status"] != float64(403) || refused["method"] != "GET" ||
		!strings.HasPrefix(refused["path"].(string), "/admin/") || refused["ref"] == "" {
		t.Fatalf("no info line for the refusal: %v\n%s", refused, buf.String())
	}
	if strings.Contains(buf.String(), f.n.Digits()) {
		t.Errorf("the national number in the path reached the log:\n%s", buf.String())
	}
}

// TestRefusalLogCutsAfterMasking: the refused path is cut to 200 bytes
// after it is masked, so a national number across the cut does not reach
// the log as a run of digits too short to be recognised.
func TestRefusalLogCutsAfterMasking(t *testing.T) {
	var buf testsvc.SyncBuffer
	log, _ := logging.New(&buf, "json", "info")
	f := newFixtureDeps(t, nil, nil, func(d *gateway.Deps) { d.Logger = log })
	pad := "/admin/" + strings.Repeat("a", 195-len("/admin/"))
	d := f.n.Digits()
	f.do(t, "GET", pad+d, map[string]string{"Cookie": f.cookie, "Accept": "text/html"}, nil)
	if !strings.Contains(buf.String(), `"msg":"gateway: refused"`) {
		t.Fatalf("no refusal line:\n%s", buf.String())
	}
	if strings.Contains(buf.String(), pad+d[:5]) {
		t.Errorf("the first digits of the national number reached the log:\n%s", buf.String())
	}
}
