package family

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/overstap/overstap/auth/nrn"
	"github.com/overstap/overstap/internal/strictbody"
)

// Errors of ExtractMember: the request cannot be read unambiguously, so
// nothing is forwarded and the requester gets a clear page (400).
var (
	ErrTooLarge     = errors.New("family: request body too large")
	ErrMalformed    = errors.New("family: request body malformed")
	ErrDuplicate    = errors.New("family: field given more than once")
	ErrContentType  = errors.New("family: unsupported or ambiguous content type")
	ErrMissingField = errors.New("family: no national number in the request")
	ErrBadNRN       = errors.New("family: not a valid national number")
)

// Extracted is a family-add request as verified: the member's number and
// the exact body to forward, rebuilt from the parsed fields with the
// member's number in its canonical 11-digit form.
type Extracted struct {
	Member      nrn.Number
	Body        []byte
	ContentType string
}

// maxFieldLen bounds one field's value.
const maxFieldLen = 4 << 10

// bodyErrors are this package's errors for strictbody.
var bodyErrors = strictbody.Errors{TooLarge: ErrTooLarge, Malformed: ErrMalformed, ContentType: ErrContentType}

// ExtractMember reads the member's national number from field of r's body:
// a form, a JSON object or a multipart form (text fields only). It refuses
// whatever a legacy app could read differently from the gateway: a field
// given twice (in the body, in body and query string, as JSON keys that
// differ only in case), a body that is not what its Content-Type says, a
// missing or repeated Content-Type, and a Content-Encoding. The body is
// rebuilt from the parsed fields, so the app gets exactly what was
// verified. r.Body is consumed.
func ExtractMember(r *http.Request, field string, maxBody int64) (Extracted, error) {
	body, mt, params, err := strictbody.Read(r, strictbody.Rules{Max: maxBody, RefuseEncoded: true, CutIsTooLarge: true, Errors: bodyErrors})
	if err != nil {
		return Extracted{}, err
	}
	fold := strings.ToLower(field)
	// A copy of the field in the query string is a second copy.
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return Extracted{}, fmt.Errorf("%w: query string", ErrMalformed)
	}
	for k := range q {
		if strings.ToLower(k) == fold {
			return Extracted{}, fmt.Errorf("%w: %s in the query string", ErrDuplicate, field)
		}
	}
	var out Extracted
	switch mt {
	case "application/x-www-form-urlencoded":
		fields, err := formFields(body)
		if err != nil {
			return Extracted{}, err
		}
		if out.Member, err = pickMember(fields, fold, field); err != nil {
			return Extracted{}, err
		}
		v := url.Values{}
		for _, f := range fields {
			if strings.ToLower(f.k) == fold {
				v.Set(f.k, out.Member.Digits())
			} else {
				v.Set(f.k, f.v)
			}
		}
		out.Body, out.ContentType = []byte(v.Encode()), "application/x-www-form-urlencoded"
	case "application/json":
		keys, vals, err := jsonFields(body)
		if err != nil {
			return Extracted{}, err
		}
		idx := -1
		for i, k := range keys {
			if strings.ToLower(k) == fold {
				idx = i
			}
		}
		if idx < 0 {
			return Extracted{}, ErrMissingField
		}
		var s string
		var n json.Number
		dec := json.NewDecoder(bytes.NewReader(vals[idx]))
		dec.UseNumber()
		switch {
		case json.Unmarshal(vals[idx], &s) == nil:
		case dec.Decode(&n) == nil:
			s = n.String()
		default:
			return Extracted{}, fmt.Errorf("%w: %s must be a string", ErrMalformed, field)
		}
		if out.Member, err = parseMember(s); err != nil {
			return Extracted{}, err
		}
		var b bytes.Buffer
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			kb, _ := json.Marshal(k)
			b.Write(kb)
			b.WriteByte(':')
			if i == idx {
				vb, _ := json.Marshal(out.Member.Digits())
				b.Write(vb)
			} else {
				b.Write(vals[i])
			}
		}
		b.WriteByte('}')
		out.Body, out.ContentType = b.Bytes(), "application/json"
	case "multipart/form-data":
		fields, err := multipartFields(body, params["boundary"])
		if err != nil {
			return Extracted{}, err
		}
		if out.Member, err = pickMember(fields, fold, field); err != nil {
			return Extracted{}, err
		}
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		for _, f := range fields {
			v := f.v
			if strings.ToLower(f.k) == fold {
				v = out.Member.Digits()
			}
			_ = mw.WriteField(f.k, v)
		}
		_ = mw.Close()
		out.Body, out.ContentType = b.Bytes(), mw.FormDataContentType()
	default:
		return Extracted{}, ErrContentType
	}
	return out, nil
}

type kv struct{ k, v string }

// pickMember returns the member's number in the one value of field; every
// field must be single (the app could bind either copy of any field).
func pickMember(fields []kv, fold, field string) (nrn.Number, error) {
	seen := map[string]bool{}
	val, found := "", false
	for _, f := range fields {
		k := strings.ToLower(f.k)
		if seen[k] {
			return nrn.Number{}, fmt.Errorf("%w: %s", ErrDuplicate, f.k)
		}
		seen[k] = true
		if k == fold {
			val, found = f.v, true
		}
	}
	if !found {
		return nrn.Number{}, ErrMissingField
	}
	return parseMember(val)
}

func checkText(k, v string) error {
	if len(v) > maxFieldLen || len(k) > 256 {
		return ErrTooLarge
	}
	if !utf8.ValidString(k) || !utf8.ValidString(v) || strings.ContainsRune(v, 0) || strings.ContainsRune(k, 0) {
		return fmt.Errorf("%w: not valid text", ErrMalformed)
	}
	return nil
}

func formFields(body []byte) ([]kv, error) {
	var out []kv
	for _, part := range strings.Split(string(body), "&") {
		if part == "" {
			continue
		}
		if strings.Contains(part, ";") {
			return nil, fmt.Errorf("%w: form", ErrMalformed)
		}
		k, v, _ := strings.Cut(part, "=")
		ku, err1 := url.QueryUnescape(k)
		vu, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("%w: form", ErrMalformed)
		}
		if err := checkText(ku, vu); err != nil {
			return nil, err
		}
		out = append(out, kv{ku, vu})
	}
	return out, nil
}

// jsonFields reads one JSON object, keeping each value raw; duplicate keys
// (which encoding/json silently resolves to the last), also differing only
// in case, are refused.
func jsonFields(body []byte) ([]string, []json.RawMessage, error) {
	var keys []string
	var vals []json.RawMessage
	seen := map[string]bool{}
	err := strictbody.JSONObject(body, bodyErrors, func(k string, raw json.RawMessage) error {
		if err := checkText(k, ""); err != nil {
			return err
		}
		if seen[strings.ToLower(k)] {
			return fmt.Errorf("%w: JSON key %s", ErrDuplicate, k)
		}
		seen[strings.ToLower(k)] = true
		keys, vals = append(keys, k), append(vals, raw)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return keys, vals, nil
}

// multipartFields reads the text fields of a multipart form; file parts
// and parts without a name are refused.
func multipartFields(body []byte, boundary string) ([]kv, error) {
	var out []kv
	err := strictbody.Multipart(body, boundary, maxFieldLen, true, bodyErrors, func(name, v string) error {
		if name == "" {
			return fmt.Errorf("%w: multipart part without a name", ErrMalformed)
		}
		if err := checkText(name, v); err != nil {
			return err
		}
		out = append(out, kv{name, v})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// parseMember reads a national number in any written form: the usual ones
// (dots, dashes, spaces), and the Unicode digits and separators some
// frameworks normalise before their own lookup.
func parseMember(s string) (nrn.Number, error) {
	if n, err := nrn.Parse(s); err == nil {
		return n, nil
	}
	if n, _ := nrn.Shaped(s); !n.IsZero() {
		return n, nil
	}
	return nrn.Number{}, ErrBadNRN
}
