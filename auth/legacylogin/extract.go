package legacylogin

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/overstap/overstap/internal/strictbody"
)

// Errors for a login request that cannot be read unambiguously. Callers
// answer 400 with the refusal page; nothing is forwarded.
var (
	ErrTooLarge    = errors.New("legacylogin: request body too large")
	ErrMalformed   = errors.New("legacylogin: request body malformed")
	ErrDuplicate   = errors.New("legacylogin: field given more than once")
	ErrContentType = errors.New("legacylogin: unsupported content type")
)

// Fields names the legacy form's fields.
type Fields struct {
	Username string `yaml:"username"`
	Password string `yaml:"password"`
}

// Attempt is what a login request carried.
type Attempt struct {
	Username string
	Password string
}

// maxField bounds one field's value; usernames and passwords are short.
const maxField = 1024

// bodyErrors are this package's errors for strictbody.
var bodyErrors = strictbody.Errors{TooLarge: ErrTooLarge, Malformed: ErrMalformed, ContentType: ErrContentType}

// Extract reads the username and password from r's body (form, JSON or
// multipart) and, for form bodies, from the query string too: a field that
// appears more than once anywhere — twice in the body, in body and query, in
// two JSON keys that differ only in case — is refused, since the legacy app
// might read a different copy than the one checked here. The body is limited
// to maxBody bytes. r.Body is consumed.
func Extract(r *http.Request, f Fields, maxBody int64) (Attempt, error) {
	body, mt, params, err := strictbody.Read(r, strictbody.Rules{Max: maxBody, NoTypeIsForm: true, Errors: bodyErrors})
	if err != nil {
		return Attempt{}, err
	}
	var vals map[string][]string
	switch mt {
	case "application/x-www-form-urlencoded":
		vals, err = parseForm(body)
	case "application/json":
		vals, err = parseJSON(body)
	case "multipart/form-data":
		vals, err = parseMultipart(body, params["boundary"])
	default:
		return Attempt{}, ErrContentType
	}
	if err != nil {
		return Attempt{}, err
	}
	// A query string copy of a field is a second copy.
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return Attempt{}, fmt.Errorf("%w: query string", ErrMalformed)
	}
	for k, v := range q {
		vals[foldKey(k)] = append(vals[foldKey(k)], v...)
	}
	var a Attempt
	if a.Username, err = single(vals, f.Username); err != nil {
		return Attempt{}, err
	}
	if a.Password, err = single(vals, f.Password); err != nil {
		return Attempt{}, err
	}
	return a, nil
}

// foldKey makes field names compare case-insensitively: some frameworks
// bind "Username" and "username" to the same field.
func foldKey(k string) string { return strings.ToLower(k) }

func single(vals map[string][]string, name string) (string, error) {
	v := vals[foldKey(name)]
	switch {
	case len(v) > 1:
		return "", fmt.Errorf("%w: %s", ErrDuplicate, name)
	case len(v) == 0:
		return "", nil
	case len(v[0]) > maxField:
		return "", ErrTooLarge
	case !utf8.ValidString(v[0]) || strings.ContainsRune(v[0], 0):
		return "", fmt.Errorf("%w: %s is not valid text", ErrMalformed, name)
	}
	return v[0], nil
}

func parseForm(body []byte) (map[string][]string, error) {
	v, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("%w: form", ErrMalformed)
	}
	out := map[string][]string{}
	for k, vs := range v {
		out[foldKey(k)] = append(out[foldKey(k)], vs...)
	}
	return out, nil
}

// parseJSON accepts one flat JSON object of strings (numbers are taken as
// their literal text, since a national number may be sent as a number);
// duplicate keys — which encoding/json silently resolves to the last — are
// detected with the token stream.
func parseJSON(body []byte) (map[string][]string, error) {
	out := map[string][]string{}
	err := strictbody.JSONObject(body, bodyErrors, func(k string, raw json.RawMessage) error {
		var s string
		var n json.Number
		switch {
		case json.Unmarshal(raw, &s) == nil:
		case json.Unmarshal(raw, &n) == nil:
			s = n.String()
		default:
			s = string(raw) // objects, arrays: kept raw so the key still counts
		}
		out[foldKey(k)] = append(out[foldKey(k)], s)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// parseMultipart reads every part of a multipart form, file parts too;
// parts without a name are skipped.
func parseMultipart(body []byte, boundary string) (map[string][]string, error) {
	out := map[string][]string{}
	err := strictbody.Multipart(body, boundary, maxField, false, bodyErrors, func(name, v string) error {
		if name != "" {
			out[foldKey(name)] = append(out[foldKey(name)], v)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// nrnlessRef is a keyed reference of a username, never the username itself.
func nrnlessRef(key []byte, s string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("overstap/username-ref/v1\x00"))
	m.Write([]byte(s))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}
