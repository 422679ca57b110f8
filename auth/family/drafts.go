package family

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/overstap/overstap/auth/nrn"
	"github.com/overstap/overstap/internal/strictbody"
)

// A family-add form that needs a step-up first is not lost: the gateway
// keeps what the citizen typed, and after the re-authentication shows it
// again in a form (PageResume) that the citizen checks and sends
// themselves. The post is never replayed by itself.
//
// What is kept, and how:
//   - the text fields of a browser's form post (urlencoded or multipart)
//     to a family-add route, in their order; never a password (a field
//     whose name says pass, wachtwoord, pwd, pin, secret, ...: shown again
//     as an empty password field to retype) and never a file (a form with
//     a file part is not kept at all; the family-add refuses files anyway);
//   - at most draftMaxFields fields and draftMaxBytes of names and values,
//     else nothing is kept (the step-up then returns to the app's page);
//   - server-side only, in the state store (table family_drafts), sealed
//     with AES-256-GCM under a key derived from the reference key and
//     bound to the person's reference and the app: never in a URL or a
//     cookie, the typed national number never stored in clear;
//   - one draft per person and app (a newer one replaces it), for
//     DraftTTL; taken (deleted) when shown, and only by a session of the
//     same person (the national number of the new login): someone else
//     logging in at the step-up finds nothing. The sweep deletes expired
//     drafts.
//
// The resume page shows the typed values back to the person who typed
// them (the member's number too, in its input: it is their own input, on
// a no-store page), and posts to the same app route, where the family
// checks run again.
const (
	DraftTTL       = 15 * time.Minute
	draftMaxFields = 32
	draftMaxBytes  = 8 << 10
)

// draftField is one kept field.
type draftField struct {
	Name     string `json:"k"`
	Value    string `json:"v,omitempty"`
	Hidden   bool   `json:"h,omitempty"` // a token field of the app's form (csrf, ...)
	Password bool   `json:"p,omitempty"` // not kept: to retype
}

// draft is what is sealed.
type draft struct {
	Path   string       `json:"path"` // the form's action: the original request's path and query
	Fields []draftField `json:"fields"`
}

// secretName reports whether a field name says it holds a secret.
func secretName(name string) bool {
	n := strings.ToLower(name)
	for _, s := range []string{"pass", "wachtwoord", "motdepasse", "mot_de_passe", "kennwort", "secret", "cvc", "cvv"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	for _, w := range strings.FieldsFunc(n, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9') }) {
		switch w {
		case "pw", "pwd", "pin", "otp", "tan", "code2fa", "totp":
			return true
		}
	}
	return false
}

// tokenName reports whether a field name is an app's form token, kept as
// a hidden field.
func tokenName(name string) bool {
	n := strings.ToLower(name)
	return strings.Contains(n, "csrf") || strings.Contains(n, "xsrf") || strings.Contains(n, "token") || strings.HasPrefix(n, "_")
}

// keepDraft keeps the text fields of a browser's form post r (to app's
// family-add route) for the person ownerRef; it reports whether it did.
// r.Body is consumed.
func (s *Service) keepDraft(ctx context.Context, ownerRef string, a *app, r *http.Request) bool {
	body, mt, params, err := strictbody.Read(r, strictbody.Rules{Max: a.MaxBodyBytes, RefuseEncoded: true, CutIsTooLarge: true, Errors: bodyErrors})
	if err != nil {
		return false
	}
	var fields []kv
	switch mt {
	case "application/x-www-form-urlencoded":
		fields, err = formFields(body)
	case "multipart/form-data":
		fields, err = multipartFields(body, params["boundary"]) // a file part: refused, nothing kept
	default:
		return false
	}
	if err != nil || len(fields) == 0 || len(fields) > draftMaxFields {
		return false
	}
	d := draft{Path: r.URL.RequestURI()}
	size := 0
	for _, f := range fields {
		df := draftField{Name: f.k}
		switch {
		case secretName(f.k):
			df.Password = true
		case tokenName(f.k):
			df.Hidden, df.Value = true, f.v
		default:
			df.Value = f.v
		}
		size += len(df.Name) + len(df.Value)
		d.Fields = append(d.Fields, df)
	}
	if size > draftMaxBytes || !strings.HasPrefix(d.Path, "/") || strings.HasPrefix(d.Path, "//") {
		return false
	}
	plain, _ := json.Marshal(d)
	nonce := make([]byte, s.drafts.NonceSize())
	if _, err := io.ReadFull(s.rand, nonce); err != nil {
		return false
	}
	sealed := s.drafts.Seal(nonce, nonce, plain, []byte(ownerRef+"\x00"+a.Name))
	if err := s.store.PutDraft(ctx, ownerRef, a.Name, base64.RawURLEncoding.EncodeToString(sealed), s.now().Add(DraftTTL)); err != nil {
		s.log.Warn("family: draft not kept", "err", nrn.Scrub(err.Error()))
		return false
	}
	return true
}

// takeDraft removes and returns the draft of the person ownerRef in app.
func (s *Service) takeDraft(ctx context.Context, ownerRef, appName string) (draft, error) {
	v, err := s.store.TakeDraft(ctx, ownerRef, appName, s.now())
	if err != nil {
		return draft{}, err
	}
	raw, err := base64.RawURLEncoding.DecodeString(v)
	n := s.drafts.NonceSize()
	if err != nil || len(raw) < n {
		return draft{}, errors.New("family: draft unreadable")
	}
	plain, err := s.drafts.Open(nil, raw[:n], raw[n:], []byte(ownerRef+"\x00"+appName))
	if err != nil {
		return draft{}, errors.New("family: draft unreadable")
	}
	var d draft
	if err := json.Unmarshal(plain, &d); err != nil {
		return draft{}, errors.New("family: draft unreadable")
	}
	return d, nil
}
