package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/overstap/overstap/auth/devidp"
	"github.com/overstap/overstap/auth/family"
	"github.com/overstap/overstap/internal/config"
)

// exampleBase is a minimal valid configuration file. A documentation
// example that shows one section (a fragment) is merged into it at its
// place, so the fragment is checked in the context of a whole file: strict
// decoding (no stale key) and every validation, cross-section checks
// included.
const exampleBase = `
nrn_ref_key: "${OVERSTAP_NRN_REF_KEY}"
state: {path: /var/lib/overstap/state.db}
sessions:
  store: memory
  keys: ["${OVERSTAP_SESSION_KEY}"]
providers:
  - name: fas
    profile: fas
    issuer: https://idp.iamfas.belgium.be/fas/oauth2
    client_id: eloket-gemeente
    client_secret: "${OVERSTAP_FAS_SECRET}"
    redirect_url: https://eloket.gemeente.be/.overstap/callback/fas
gateway:
  public_url: https://eloket.gemeente.be
  admin_listen: ""
  apps:
    - name: eloket
      upstream: http://127.0.0.1:8081
`

// docExamples says, for every ```yaml block of the documentation, what it
// is: "file" (a whole configuration file) or the key path a fragment
// belongs under ("sessions", "gateway", "gateway.apps[0]"). A block that
// is not listed fails TestEveryExampleLoads, so a new example cannot be
// left unchecked.
var docExamples = map[string][]string{
	"docs/configuration.md": {"file", "file"},
	"docs/family.md":        {"gateway.apps[0]"},
	"docs/sessions.md":      {"sessions"},
	"docs/vendors.md":       {"gateway.apps[0]", "gateway", "gateway.apps[0]"},
	"docs/providers.md":     {"file"},
}

// exampleEnv are the secrets the examples name.
var exampleEnv = map[string]string{
	"OVERSTAP_NRN_REF_KEY":       "0123456789abcdef0123456789abcdef",
	"OVERSTAP_SESSION_KEY":       "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	"OVERSTAP_SESSION_KEY_OLD":   "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210",
	"OVERSTAP_FAS_SECRET":        "fas-secret",
	"OVERSTAP_ADMIN_TOKEN":       "0123456789abcdef0123456789abcdef-admin",
	"OVERSTAP_STATE_PASSWORD":    "pw",
	"OVERSTAP_REDIS_PASSWORD":    "pw",
	"OVERSTAP_REGISTRY_PASSWORD": "pw",
	"OVERSTAP_DEVIDP_ACM_SECRET": "example",
	"OVERSTAP_BROKER_SECRET":     "broker-secret",
	"OVERSTAP_PERSONEEL_SECRET":  "staff-secret",
	"ELOKET_DB_DSN":              "postgres://eloket@127.0.0.1:5432/eloket",
	"SEED_PG_DSN":                "postgres://postgres@127.0.0.1:5432/test",
	"SEED_MYSQL_DSN":             "root@tcp(127.0.0.1:3306)/test",
	"SEED_SQLITE_DSN":            "file:/tmp/overstap-example.db",
}

// onServerOnly reports whether a problem is only that a key file named by
// the example exists on the municipality's server and not here.
func onServerOnly(p *config.Problem) bool {
	return strings.Contains(p.Msg, "/etc/overstap/")
}

// TestEveryExampleLoads loads every example configuration of configs/ and
// every YAML example of docs/ with the loader `overstap serve` uses (or the
// devidp's, the store files' and Traefik's own format for those files), so
// no example can go stale or be wrong: unknown keys, invalid values and
// cross-section problems (a redirect_url that is not the gateway's callback)
// all fail. The only problems tolerated are key files under /etc/overstap/,
// which exist on a real server only.
func TestEveryExampleLoads(t *testing.T) {
	for k, v := range exampleEnv {
		t.Setenv(k, v)
	}
	root := "../.."
	var files []string
	err := filepath.WalkDir(filepath.Join(root, "configs"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	if len(files) < 5 {
		t.Fatalf("found only %v", files)
	}
	for _, p := range files {
		rel, _ := filepath.Rel(root, p)
		t.Run(rel, func(t *testing.T) {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case rel == "configs/devidp.yaml":
				checkDevIDPExample(t, b)
			case rel == "configs/family.yaml":
				var c struct {
					Family family.Config `yaml:"family"`
				}
				checkLoaded(t, config.Decode(bytes.NewReader(b), &c))
			case strings.HasPrefix(rel, "configs/stores/"):
				_, err := loadStoreFile(p)
				checkLoaded(t, err)
			case strings.HasPrefix(rel, "configs/monitoring/"):
				// Prometheus' own format, checked with promtool in
				// internal/opstest (TestAlertRules).
				var v map[string]any
				if err := yaml.Unmarshal(b, &v); err != nil || v["groups"] == nil {
					t.Fatalf("not Prometheus rules: %v", err)
				}
			case strings.HasPrefix(rel, "configs/traefik/"):
				// Traefik's own format: well-formed, and it points at the
				// gateway's forward-auth endpoint.
				var v map[string]any
				if err := yaml.Unmarshal(b, &v); err != nil {
					t.Fatal(err)
				}
				if !bytes.Contains(b, []byte("/.overstap/auth")) {
					t.Error("the Traefik example does not use /.overstap/auth")
				}
			default:
				checkLoaded(t, config.Decode(bytes.NewReader(b), new(fileConfig)))
			}
		})
	}

	// Every ```yaml block of the documentation.
	var docs []string
	err = filepath.WalkDir(filepath.Join(root, "docs"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".md") {
			docs = append(docs, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	docs = append(docs, filepath.Join(root, "README.md"))
	block := regexp.MustCompile("(?s)```ya?ml\n(.*?)```")
	seen := 0
	for _, p := range docs {
		rel, _ := filepath.Rel(root, p)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		blocks := block.FindAllSubmatch(b, -1)
		kinds := docExamples[rel]
		if len(blocks) != len(kinds) {
			t.Errorf("%s has %d yaml examples, docExamples lists %d: say in docExamples what each one is", rel, len(blocks), len(kinds))
			continue
		}
		for i, m := range blocks {
			seen++
			t.Run(rel+"#"+strconv.Itoa(i+1), func(t *testing.T) {
				doc := m[1]
				if kinds[i] != "file" {
					doc, err = mergeExample([]byte(exampleBase), m[1], kinds[i])
					if err != nil {
						t.Fatalf("%v\n%s", err, m[1])
					}
				}
				err := config.Decode(bytes.NewReader(doc), new(fileConfig))
				if err != nil && !tolerated(err) {
					t.Errorf("example does not load: %v\n%s", err, m[1])
				}
			})
		}
	}
	if seen < 6 {
		t.Errorf("found only %d documentation examples", seen)
	}
}

func tolerated(err error) bool {
	var ce *config.Error
	if !errors.As(err, &ce) {
		return false
	}
	for _, p := range ce.Problems {
		if !onServerOnly(p) {
			return false
		}
	}
	return true
}

func checkLoaded(t *testing.T, err error) {
	t.Helper()
	if err != nil && !tolerated(err) {
		t.Errorf("does not load: %v", err)
	}
}

var callbackRE = regexp.MustCompile(`^https?://[^/]+/\.overstap/callback/[a-z0-9_-]{1,32}$`)

// checkDevIDPExample loads the dev IdP example and checks that the clients
// it registers for a local gateway use the gateway's callback path.
func checkDevIDPExample(t *testing.T, b []byte) {
	c, err := devidp.ParseConfig(b)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := devidp.New(c, nil); err != nil {
		t.Fatal(err)
	}
	for _, cl := range c.Clients {
		for _, u := range cl.RedirectURIs {
			if !callbackRE.MatchString(u) {
				t.Errorf("client %s: redirect URI %s is not a gateway callback (/.overstap/callback/<provider>)", cl.ID, u)
			}
		}
	}
}

// mergeExample puts fragment under path ("sessions", "gateway",
// "gateway.apps[0]") of base: mappings merge key by key, the fragment's
// values win, lists are replaced.
func mergeExample(base, fragment []byte, path string) ([]byte, error) {
	var b, f map[string]any
	if err := yaml.Unmarshal(base, &b); err != nil {
		return nil, err
	}
	if err := yaml.Unmarshal(fragment, &f); err != nil {
		return nil, fmt.Errorf("fragment: %w", err)
	}
	var cur any = b
	for _, seg := range strings.Split(path, ".") {
		if seg == "" {
			break // the whole document
		}
		name, idx := seg, -1
		if i := strings.IndexByte(seg, '['); i >= 0 {
			name = seg[:i]
			idx, _ = strconv.Atoi(strings.TrimSuffix(seg[i+1:], "]"))
		}
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: not a mapping in the base", path)
		}
		next, ok := m[name]
		if !ok {
			next = map[string]any{}
			m[name] = next
		}
		if idx >= 0 {
			l, ok := next.([]any)
			if !ok || idx >= len(l) {
				return nil, fmt.Errorf("%s: no such list item in the base", path)
			}
			next = l[idx]
		}
		cur = next
	}
	dst, ok := cur.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: not a mapping in the base", path)
	}
	mergeMaps(dst, f)
	return yaml.Marshal(b)
}

func mergeMaps(dst, src map[string]any) {
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				mergeMaps(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
}

// TestRedirectURLChecked: a provider's redirect_url must be the gateway's
// callback for that provider on the public URL's host; anything else is
// refused at load with the key, the line and the URL to use.
func TestRedirectURLChecked(t *testing.T) {
	for k, v := range exampleEnv {
		t.Setenv(k, v)
	}
	const use = "use https://eloket.gemeente.be/.overstap/callback/fas (and register it at the provider)"
	for _, tc := range []struct{ url, want string }{
		{"https://eloket.gemeente.be/.overstap/callback/fas", ""},
		{"https://ELOKET.gemeente.be/.overstap/callback/fas", ""},
		{"https://eloket.gemeente.be/auth/callback/fas", `the path must be /.overstap/callback/fas, where the gateway completes the logins of provider "fas": ` + use},
		{"https://eloket.gemeente.be/oauth2/callback/fas", `the path must be /.overstap/callback/fas`},
		{"https://eloket.gemeente.be/.overstap/callback/itsme", `the path must be /.overstap/callback/fas`},
		{"https://eloket.gemeente.be/.overstap/callback", `the path must be /.overstap/callback/fas`},
		{"https://eloket.gemeente.be/.overstap/callback/fas?x=1", `the path must be /.overstap/callback/fas`},
		{"https://andere.gemeente.be/.overstap/callback/fas", "https://andere.gemeente.be is not the gateway's public_url https://eloket.gemeente.be; the provider would send the citizen elsewhere: " + use},
		{"https://eloket.gemeente.be:8443/.overstap/callback/fas", "is not the gateway's public_url"},
	} {
		t.Run(tc.url, func(t *testing.T) {
			doc := strings.Replace(exampleBase, "https://eloket.gemeente.be/.overstap/callback/fas", tc.url, 1)
			err := config.Decode(strings.NewReader(doc), new(fileConfig))
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var ce *config.Error
			if !errors.As(err, &ce) || len(ce.Problems) != 1 {
				t.Fatalf("want one problem, got %v", err)
			}
			p := ce.Problems[0]
			if p.Path != "providers[0].redirect_url" || p.Line != 13 || !strings.Contains(p.Msg, tc.want) {
				t.Errorf("got %s (path %q, line %d), want %q", p.Error(), p.Path, p.Line, tc.want)
			}
		})
	}
}

// TestRequireNRNFalseChecked: a provider that logs citizens in without a
// national number (require_nrn: false) needs account_id: subject, and the
// features that need the number are refused at load, naming their keys.
func TestRequireNRNFalseChecked(t *testing.T) {
	for k, v := range exampleEnv {
		t.Setenv(k, v)
	}
	const staff = `
providers:
  - name: staff
    profile: generic
    issuer: https://sso.gemeente.be/realms/personeel
    client_id: personeelsportaal
    client_secret: "${OVERSTAP_PERSONEEL_SECRET}"
    redirect_url: https://eloket.gemeente.be/.overstap/callback/staff
    require_nrn: false
gateway:
  account_id: subject
`
	for _, tc := range []struct {
		name, extra string
		want        []string
	}{
		{"identity-only app", "", nil},
		{"account by nrn", "gateway: {account_id: nrn}", []string{
			"gateway.account_id: must be subject: providers[0] (staff) has require_nrn: false"}},
		{"linking", `
stores: [{name: eloket, type: csv, csv: {path: /var/lib/eloket/users.csv}}]
linking: {eloket: {store: eloket}}`, []string{
			"linking.eloket: links accounts by the national number and intercepts the legacy login (linking.eloket.legacy_login), but providers[0] (staff) has require_nrn: false"}},
		{"family", "family: {apps: [{name: eloket}]}", []string{"family: family links are proven with national numbers"}},
		{"registration", `
gateway:
  apps: [{name: eloket, upstream: "http://127.0.0.1:8081", no_account: register, register_path: /registreren, identity: {headers: {nrn: X-Nrn}}}]`,
			[]string{"gateway.apps[0].no_account: register sends the verified national number to the app"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := mergeExample([]byte(exampleBase), []byte(staff), "")
			if err == nil && tc.extra != "" {
				doc, err = mergeExample(doc, []byte(tc.extra), "")
			}
			if err != nil {
				t.Fatal(err)
			}
			err = config.Decode(bytes.NewReader(doc), new(fileConfig))
			var got []string
			var ce *config.Error
			if errors.As(err, &ce) {
				for _, p := range ce.Problems {
					got = append(got, p.Error())
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if len(tc.want) == 0 && len(got) > 0 {
				t.Fatalf("refused: %q", got)
			}
			for _, w := range tc.want {
				if !slices.ContainsFunc(got, func(g string) bool { return strings.Contains(g, w) }) {
					t.Errorf("no problem says %q; got %q", w, got)
				}
			}
		})
	}
}
