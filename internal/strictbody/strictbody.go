// Package strictbody reads request bodies that the gateway checks before a
// legacy app reads the same bytes (a login, a family-add request): the body
// bounded, one unambiguous Content-Type, JSON objects walked token by token
// (so duplicate keys, which encoding/json silently resolves to the last, can
// be seen) and multipart forms part by part. What a caller then refuses
// (duplicate fields, invalid text, ...) stays with the caller; the rules that
// differ between callers are explicit in Rules.
package strictbody

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
)

// Errors are the caller's own sentinel errors: every error of this package
// wraps one of them, so the caller's errors.Is checks keep working.
type Errors struct {
	TooLarge    error
	Malformed   error
	ContentType error
}

// Rules are one caller's rules for reading a body.
type Rules struct {
	// Max bounds the body; a longer one is TooLarge.
	Max int64
	// NoTypeIsForm reads a request without a Content-Type (or with an
	// empty one) as a form. Otherwise exactly one Content-Type is required.
	// A repeated Content-Type is always refused.
	NoTypeIsForm bool
	// RefuseEncoded refuses a Content-Encoding other than identity and a
	// charset parameter other than UTF-8.
	RefuseEncoded bool
	// CutIsTooLarge reports a body cut by http.MaxBytesReader (a smaller
	// limit wrapped around r.Body) as TooLarge rather than Malformed.
	CutIsTooLarge bool
	Errors
}

// Form is the media type of a form body.
const Form = "application/x-www-form-urlencoded"

// Read reads r.Body under ru and returns it with its media type and the
// type's parameters. r.Body is consumed.
func Read(r *http.Request, ru Rules) (body []byte, mediaType string, params map[string]string, err error) {
	body, err = io.ReadAll(io.LimitReader(r.Body, ru.Max+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if ru.CutIsTooLarge && errors.As(err, &mbe) {
			return nil, "", nil, ru.TooLarge
		}
		return nil, "", nil, fmt.Errorf("%w: %v", ru.Malformed, err)
	}
	if int64(len(body)) > ru.Max {
		return nil, "", nil, ru.TooLarge
	}
	if n := len(r.Header.Values("Content-Type")); n > 1 || (n == 0 && !ru.NoTypeIsForm) {
		return nil, "", nil, ru.ContentType
	}
	if ru.RefuseEncoded {
		if ce := r.Header.Values("Content-Encoding"); len(ce) > 0 && !(len(ce) == 1 && strings.EqualFold(ce[0], "identity")) {
			return nil, "", nil, ru.ContentType
		}
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" && ru.NoTypeIsForm {
		return body, Form, nil, nil
	}
	mediaType, params, err = mime.ParseMediaType(ct)
	if err != nil {
		return nil, "", nil, ru.ContentType
	}
	if cs, ok := params["charset"]; ok && ru.RefuseEncoded && !strings.EqualFold(cs, "utf-8") {
		return nil, "", nil, ru.ContentType
	}
	return body, mediaType, params, nil
}

// JSONObject reads body as exactly one JSON object (numbers kept as
// written) and calls f with each key and its raw value, in order, as it
// reads them; an error of f ends the walk and is returned. Anything after
// the object is Malformed.
func JSONObject(body []byte, e Errors, f func(key string, raw json.RawMessage) error) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return fmt.Errorf("%w: JSON body must be an object", e.Malformed)
	}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return fmt.Errorf("%w: JSON", e.Malformed)
		}
		k, _ := kt.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return fmt.Errorf("%w: JSON", e.Malformed)
		}
		if err := f(k, raw); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return fmt.Errorf("%w: JSON", e.Malformed)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("%w: trailing data after the JSON object", e.Malformed)
	}
	return nil
}

// maxParts bounds the parts of a multipart body.
const maxParts = 64

// Multipart reads a multipart/form-data body part by part (at most 64) and
// calls f with each part's form name (possibly empty) and the first
// maxField+1 bytes of its value, so that f sees an oversized value; an
// error of f ends the walk and is returned. With refuseFiles a file part is
// refused (ContentType) before it is read.
func Multipart(body []byte, boundary string, maxField int, refuseFiles bool, e Errors, f func(name, value string) error) error {
	if boundary == "" {
		return fmt.Errorf("%w: multipart without boundary", e.Malformed)
	}
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	for parts := 0; ; parts++ {
		if parts > maxParts {
			return e.TooLarge
		}
		p, err := mr.NextPart()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%w: multipart", e.Malformed)
		}
		if refuseFiles && p.FileName() != "" {
			return fmt.Errorf("%w: file parts are not accepted", e.ContentType)
		}
		b, err := io.ReadAll(io.LimitReader(p, int64(maxField)+1))
		if err != nil {
			return fmt.Errorf("%w: multipart", e.Malformed)
		}
		if err := f(p.FormName(), string(b)); err != nil {
			return err
		}
	}
}
