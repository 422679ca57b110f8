package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/overstap/overstap/auth/nrn"
)

func synth(t testing.TB, y int, m time.Month, d int, male bool, seq int) nrn.Number {
	t.Helper()
	n, err := nrn.Synthetic(time.Date(y, m, d, 0, 0, 0, 0, time.UTC), male, seq)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// badCheck returns the digits of n with check digits that validate in
// neither century: NRN-shaped, not a valid number.
func badCheck(t testing.TB, n nrn.Number) string {
	t.Helper()
	for c := 0; c < 100; c++ {
		s := n.Digits()[:9] + fmt.Sprintf("%02d", c)
		if _, err := nrn.Parse(s); err != nil {
			return s
		}
	}
	t.Fatal("no bad check digits")
	return ""
}

// assertClean fails when out holds a national number or anything written
// like one (what nrn.Scrub would change).
func assertClean(t *testing.T, out string) {
	t.Helper()
	if s := nrn.Scrub(out); s != out {
		t.Errorf("output holds a national number or something written like one: %q", out)
	}
}

type citizen struct {
	Name     string
	Username string
	Members  []string
	Age      int
}

type stringer struct{ v string }

func (s stringer) String() string { return "stringer(" + s.v + ")" }

type jsonOnly struct{ secret string }

func (j jsonOnly) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]string{"u": j.secret})
}

// TestNoNRNInLogs runs a realistic sequence of gateway and migration log
// calls, with national numbers everywhere a careless caller could put them,
// through both handlers, and checks that none reaches the output.
func TestNoNRNInLogs(t *testing.T) {
	g := nrn.NewGenerator(7)
	people := make([]nrn.Number, 6)
	for i := range people {
		people[i] = g.Next()
	}
	bis, err := nrn.SyntheticBIS(time.Date(1990, 5, 17, 0, 0, 0, 0, time.UTC), true, false, 3)
	if err != nil {
		t.Fatal(err)
	}
	key := nrn.MustRefKey([]byte("0123456789abcdef0123456789abcdef"))
	p0, p1, p2 := people[0], people[1], people[2]
	d2 := p2.Digits()
	asInt, _ := strconv.ParseInt(p1.Digits(), 10, 64)
	mistyped := badCheck(t, people[3])

	for _, format := range []string{"json", "text"} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			log, err := New(&buf, format, "debug")
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()

			// Gateway: a login.
			req := log.With("request_id", "r-1", "remote", "127.0.0.1")
			req.Info("callback for "+p0.Digits(), "issuer", "https://idp.example", "nrn", p0, "ref", p0.Ref(key))
			req.Debug("claims", slog.Group("id_token", "egovNRN", p0.Digits(), "acr", "urn:be:fedict:iam:fas:Level500"))
			req.Warn("store lookup failed", "err", fmt.Errorf("store: no account for %s: %w", p0.Format(), io.EOF))
			// Legacy login interception: mistyped and loose usernames.
			req.Warn("legacy login refused", "username", mistyped, "form", url(d2))
			req.Info("legacy login refused", "username", d2[0:2]+" "+d2[2:4]+" "+d2[4:6]+" "+d2[6:9]+" "+d2[9:])
			// Family linking: groups, WithGroup, WithAttrs with NRNs.
			fam := req.WithGroup("family").With("requester", p1.Format(), p1.Digits(), "as key")
			fam.Info("invitation", slog.Group("member", "nrn", bis.Digits(), "pointer", &p2), "members", []string{p2.Digits(), bis.Format()})
			fam.WithGroup("grp-"+p0.Digits()).Info("nested", "x", 1)
			// Numbers as numbers.
			log.Info("numeric", "id", asInt, "uid", uint64(asInt), "f", float64(asInt), "neg", -asInt)
			// Arbitrary values: structs, maps, Stringers, byte slices, joined errors.
			log.Info("account", "citizen", citizen{Name: "Test Persoon", Username: p0.Digits(), Members: []string{hyphen(p1)}, Age: 40})
			log.Info("map", "m", map[string]any{"u": p2.Format(), "n": 3})
			log.Info("stringer", "s", stringer{p1.Digits()}, "raw", []byte("body=user%3D"+p0.Digits()))
			log.Info("json-only", "j", jsonOnly{secret: p0.Digits()})
			log.Error("batch failed", "err", errors.Join(errors.New("row "+p1.Digits()), fmt.Errorf("row %s", bis.Digits())))
			log.LogAttrs(ctx, slog.LevelInfo, "attrs "+people[4].Format(), slog.String("k", people[5].Digits()), slog.Any("n", people[5]))
			// Migration: scan report line.
			log.Info(fmt.Sprintf("account %s has its NRN %s as password", p2.Digits(), p2.Digits()), "scheme", "md5")

			out := buf.String()
			if strings.Count(out, "\n") != 15 {
				t.Fatalf("want 15 log lines, got:\n%s", out)
			}
			assertClean(t, out)
			for _, n := range append(people, bis) {
				if strings.Contains(out, n.Digits()) {
					t.Errorf("clear digits of %s in output", n.Mask())
				}
			}
			// The log is still useful: masks, references and other values survive.
			for _, want := range []string{p0.Mask(), p0.Ref(key), "r-1", "urn:be:fedict:iam:fas:Level500", "Test Persoon", "md5", "***********", "EOF"} {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			if format == "json" {
				for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
					if !json.Valid([]byte(line)) {
						t.Errorf("not JSON: %s", line)
					}
				}
			}
		})
	}
}

func hyphen(n nrn.Number) string {
	d := n.Digits()
	return d[0:6] + "-" + d[6:9] + "-" + d[9:]
}

func url(d string) string { return "/login?user=" + d + "&pw=" + d }

func TestStructWithoutNRNStaysStructured(t *testing.T) {
	var buf bytes.Buffer
	log, _ := New(&buf, "json", "info")
	log.Info("m", "c", citizen{Name: "A", Age: 3}, "n", 42, "big", int64(123456789012))
	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	c, ok := got["c"].(map[string]any)
	if !ok || c["Name"] != "A" {
		t.Errorf("struct not logged as an object: %s", buf.String())
	}
	if got["n"] != float64(42) || got["big"] != float64(123456789012) {
		t.Errorf("numbers changed: %s", buf.String())
	}
}

func TestNewAndConfig(t *testing.T) {
	var buf bytes.Buffer
	log, err := New(&buf, "text", "warn")
	if err != nil {
		t.Fatal(err)
	}
	log.Info("hidden")
	log.Warn("shown")
	if strings.Contains(buf.String(), "hidden") || !strings.Contains(buf.String(), "level=WARN msg=shown") {
		t.Errorf("text/warn output: %q", buf.String())
	}
	buf.Reset()
	log, err = New(&buf, "", "")
	if err != nil {
		t.Fatal(err)
	}
	log.Debug("hidden")
	log.Info("shown")
	if !strings.HasPrefix(buf.String(), "{") || strings.Contains(buf.String(), "hidden") {
		t.Errorf("default output: %q", buf.String())
	}
	for _, tc := range []struct {
		c    Config
		want string
	}{
		{Config{}, ""},
		{Config{Format: "JSON", Level: "Debug"}, ""},
		{Config{Format: "xml"}, `format: unknown format "xml": use json or text`},
		{Config{Level: "loud"}, `level: unknown level "loud": use debug, info, warn or error`},
		{Config{Format: "xml", Level: "loud"}, "format: unknown format \"xml\": use json or text\nlevel: unknown level \"loud\": use debug, info, warn or error"},
	} {
		err := tc.c.Validate()
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("Validate(%+v) = %q, want %q", tc.c, got, tc.want)
		}
	}
	if _, err := New(io.Discard, "xml", ""); err == nil || !strings.HasPrefix(err.Error(), "logging: ") {
		t.Errorf("New(xml) = %v", err)
	}
	if _, err := New(io.Discard, "", "verbose"); err == nil {
		t.Error("New(verbose) succeeded")
	}
	if OrDiscard(nil) == nil || OrDiscard(log) != log {
		t.Error("OrDiscard")
	}
	if Mask(Mask(slog.DiscardHandler)) == nil {
		t.Error("Mask(Mask)")
	}
}

func BenchmarkHandler(b *testing.B) {
	n, _ := nrn.Synthetic(time.Date(1985, 7, 30, 0, 0, 0, 0, time.UTC), true, 3)
	ref := n.Ref(nrn.MustRefKey([]byte(strings.Repeat("k", 32))))
	run := func(b *testing.B, h slog.Handler, withNRN bool) {
		log := slog.New(h).With("request_id", "0123456789abcdef")
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if withNRN {
				log.Info("legacy login refused for "+n.Digits(), "route", "/login", "status", 303, "user", n.Format())
			} else {
				log.Info("request", "route", "/eloket/aanvraag", "status", 200, "dur", 1500*time.Microsecond, "ref", ref)
			}
		}
	}
	b.Run("json/plain", func(b *testing.B) { run(b, slog.NewJSONHandler(io.Discard, nil), false) })
	b.Run("json/masked", func(b *testing.B) { run(b, Mask(slog.NewJSONHandler(io.Discard, nil)), false) })
	b.Run("json/masked-with-nrn", func(b *testing.B) { run(b, Mask(slog.NewJSONHandler(io.Discard, nil)), true) })
}

// TestRefNeverMasked: error references are drawn from an alphabet without
// digits, so the masker never touches one (with hex references ~0.4 % had
// 11 digits in a row and were logged as "a***********").
func TestRefNeverMasked(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 200000; i++ {
		ref := NewRef()
		if len(ref) != RefLen {
			t.Fatalf("ref %q: length %d", ref, len(ref))
		}
		if got := nrn.Scrub(ref); got != ref {
			t.Fatalf("masker changed reference %q to %q", ref, got)
		}
		if got := nrn.Scrub("ref=" + ref + " err=x"); got != "ref="+ref+" err=x" {
			t.Fatalf("masker changed a log line with %q: %q", ref, got)
		}
		seen[ref] = true
	}
	if len(seen) < 199990 {
		t.Fatalf("only %d distinct references in 200000", len(seen))
	}
	var buf bytes.Buffer
	log, _ := New(&buf, "json", "info")
	ref := NewRef()
	log.Warn("gateway: error page", "ref", ref)
	if !strings.Contains(buf.String(), `"ref":"`+ref+`"`) {
		t.Fatalf("logged reference changed: %s", buf.String())
	}
}
