// Package wiresign is the HMAC request signing shared by overstap's signed
// JSON protocols: the store hook (adapters/store/httphook) and the register
// service (adapters/registry). Each protocol has its own domain string, so a
// signature of one is never valid in the other.
//
// A request carries X-Overstap-Timestamp (Unix seconds), X-Overstap-Nonce
// and X-Overstap-Signature: "v1=" + hex HMAC-SHA256(key, domain + "\n" +
// method + "\n" + path + "\n" + timestamp + "\n" + nonce + "\n" +
// hex SHA-256(body)). A response is signed the same way over domain +
// "-response\n" + status + "\n" + the request's nonce + "\n" +
// hex SHA-256(body).
package wiresign

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Header names of the signature scheme.
const (
	HeaderTimestamp = "X-Overstap-Timestamp"
	HeaderNonce     = "X-Overstap-Nonce"
	HeaderSignature = "X-Overstap-Signature"
)

// Domain is a protocol's domain string, e.g. "overstap-hook-v1".
type Domain string

// Request computes a request signature.
func (d Domain) Request(key []byte, method, path, ts, nonce string, body []byte) string {
	return mac(key, string(d)+"\n"+method+"\n"+path+"\n"+ts+"\n"+nonce+"\n", body)
}

// Response computes a response signature, bound to the request's nonce.
func (d Domain) Response(key []byte, status int, nonce string, body []byte) string {
	return mac(key, string(d)+"-response\n"+strconv.Itoa(status)+"\n"+nonce+"\n", body)
}

func mac(key []byte, head string, body []byte) string {
	h := sha256.Sum256(body)
	m := hmac.New(sha256.New, key)
	m.Write([]byte(head))
	m.Write([]byte(hex.EncodeToString(h[:])))
	return "v1=" + hex.EncodeToString(m.Sum(nil))
}

// Verifier checks signed requests on the server side: the timestamp within
// Window of Now, the nonce's length, the signature and the replay cache.
// The zero value is not usable; set every field.
type Verifier struct {
	Domain Domain
	Key    []byte
	Now    func() time.Time
	Window time.Duration
	// MaxNonces bounds the replay cache: with that many nonces held (after
	// dropping the expired ones) requests are refused, failing closed.
	MaxNonces int

	mu     sync.Mutex
	nonces map[string]time.Time
}

// Verify checks r with its already-read body and returns "" when it is
// valid, else the reason for the log (never for the caller). A valid
// request's nonce is remembered until its timestamp leaves the window.
func (v *Verifier) Verify(r *http.Request, body []byte) string {
	nonce := r.Header.Get(HeaderNonce)
	tsText := r.Header.Get(HeaderTimestamp)
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil || len(tsText) > 12 {
		return "bad timestamp"
	}
	now := v.Now()
	if d := now.Sub(time.Unix(ts, 0)); d > v.Window || d < -v.Window {
		return "timestamp outside window"
	}
	if len(nonce) < 16 || len(nonce) > 64 {
		return "bad nonce"
	}
	path, _, _ := strings.Cut(r.RequestURI, "?")
	want := v.Domain.Request(v.Key, r.Method, path, tsText, nonce, body)
	if !hmac.Equal([]byte(want), []byte(r.Header.Get(HeaderSignature))) {
		return "bad signature"
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, seen := v.nonces[nonce]; seen {
		return "replayed nonce"
	}
	if len(v.nonces) >= v.MaxNonces {
		for n, exp := range v.nonces {
			if now.After(exp) {
				delete(v.nonces, n)
			}
		}
		if len(v.nonces) >= v.MaxNonces {
			return "replay cache full"
		}
	}
	if v.nonces == nil {
		v.nonces = map[string]time.Time{}
	}
	// Keep the nonce while its timestamp can still be accepted.
	v.nonces[nonce] = time.Unix(ts, 0).Add(v.Window + time.Second)
	return ""
}
