package main

import (
	"bytes"
	"os"
	"testing"

	"github.com/overstap/overstap/auth/gateway"
	"github.com/overstap/overstap/auth/session"
	"github.com/overstap/overstap/internal/config"
)

// FuzzServeConfig: no configuration document that decodes makes the
// loader, serve's checks or the gateway's assembly panic (the smallest
// useful file once did, in insecureSecrets). The assembly here is the part
// without I/O: gateway.New on the decoded section with an in-memory session
// store; opening databases and user stores is left out on purpose (a fuzzed
// path or DSN must not create files or dial).
func FuzzServeConfig(f *testing.F) {
	if b, err := os.ReadFile("../../configs/gateway.yaml"); err == nil {
		f.Add(b)
	}
	f.Add([]byte("nrn_ref_key: " + testRefKey + "\nstate:\n  path: /tmp/x.db\n"))
	f.Add([]byte("nrn_ref_key: " + testRefKey + "\ngateway: {}\n"))
	f.Add([]byte("nrn_ref_key: " + testRefKey + "\nproviders: [{name: fas}]\ngateway:\n  listen: \":99999\"\n  public_url: http://x\n  dev_insecure_cookies: true\n  apps: [{name: a, upstream: \"http://127.0.0.1:1\", rules: [{path: /a/**, class: public}]}]\n"))
	f.Add([]byte("gateway:\n  apps:\n    - name: a\n      identity: {profile: assertion}\n"))
	f.Add([]byte("log: {format: text}\nfamily: {}\nlinking: {a: {store: s}}\n"))
	store, err := session.NewMemory(session.Config{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		var cfg fileConfig
		if err := config.Decode(bytes.NewReader(doc), &cfg); err != nil {
			return
		}
		_ = serveProblems(cfg)
		_ = serveWarnings(cfg)
		if cfg.Gateway != nil {
			g := *cfg.Gateway
			g.NRNRefKey, _ = cfg.RefKey()
			_, _ = gateway.New(g, gateway.Deps{Sessions: store})
		}
	})
}
