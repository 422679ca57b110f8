package devidp

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// maxClaimsParam bounds the claims request parameter.
const maxClaimsParam = 4096

// bufferedResponse captures a response of op so a wrapper can rewrite it.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newBuffered() *bufferedResponse { return &bufferedResponse{header: http.Header{}} }

func (b *bufferedResponse) Header() http.Header { return b.header }
func (b *bufferedResponse) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	if b.body.Len()+len(p) > 1<<20 {
		return 0, errors.New("devidp: response too large")
	}
	return b.body.Write(p)
}
func (b *bufferedResponse) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}

func (b *bufferedResponse) copyTo(w http.ResponseWriter, body []byte) {
	for k, v := range b.header {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Header().Set("Cache-Control", "no-store")
	if b.status == 0 {
		b.status = http.StatusOK
	}
	w.WriteHeader(b.status)
	_, _ = w.Write(body)
}

func writeOAuthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

// wrapAuthorize passes the claims parameter (which op does not parse) to
// CreateAuthRequest.
func (p *profileState) wrapAuthorize(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r, ri := withInfo(r)
		if err := r.ParseForm(); err != nil {
			http.Error(w, "devidp: bad request", http.StatusBadRequest)
			return
		}
		if c := r.Form.Get("claims"); c != "" {
			if len(c) > maxClaimsParam {
				http.Error(w, "devidp: claims parameter too large", http.StatusBadRequest)
				return
			}
			ri.claims = c
		}
		next.ServeHTTP(w, r)
	})
}

// wrapToken enforces the registered client authentication method, chooses
// the audience a client assertion must carry, and, for profiles that
// encrypt (itsme), replaces the id_token of a successful response with a
// JWE (RSA-OAEP-256, A256GCM, cty JWT) of the signed ID token, encrypted
// to the client's "use":"enc" key. zitadel's op signs but cannot encrypt ID
// tokens, so the encryption is this post-processing step.
func (p *profileState) wrapToken(next http.Handler) http.Handler {
	tokenURL := p.issuer + "/" + p.spec.token
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r, ri := withInfo(r)
		if r.Method != http.MethodPost {
			writeOAuthError(w, http.StatusMethodNotAllowed, "invalid_request", "POST required")
			return
		}
		if err := r.ParseForm(); err != nil {
			writeOAuthError(w, http.StatusBadRequest, "invalid_request", "cannot parse form")
			return
		}
		used, clientID := usedAuthMethod(r)
		if used == "" {
			writeOAuthError(w, http.StatusBadRequest, "invalid_request", "more than one client authentication method used")
			return
		}
		if used != oidc.AuthMethodPrivateKeyJWT {
			rc, ok := p.srv.client(p.spec.name, clientID)
			if !ok || rc.method != used {
				writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed (method not registered for this client)")
				return
			}
		}
		var jti string
		if used == oidc.AuthMethodPrivateKeyJWT {
			peek, err := peekAssertion(r.PostForm.Get("client_assertion"))
			if err != nil {
				writeOAuthError(w, http.StatusBadRequest, "invalid_client", "client_assertion is not a JWT")
				return
			}
			ri.assertionAud = p.issuer
			if slices.Contains(peek.Aud, tokenURL) {
				ri.assertionAud = tokenURL
			}
			// RFC 7523 §3: a jti may be used once. op checks signature, iss,
			// sub, aud, exp and iat; the replay cache is ours.
			// The jti is reserved before op verifies the assertion (so two
			// concurrent uses cannot both pass) and released if the request
			// fails.
			jti = peek.Iss + "|" + peek.JTI
			if peek.JTI == "" || !p.srv.reserveJTI(jti, peek.Exp.AsTime()) {
				writeOAuthError(w, http.StatusBadRequest, "invalid_client", "client_assertion without jti or replayed")
				return
			}
		}
		buf := newBuffered()
		next.ServeHTTP(buf, r)
		body := buf.body.Bytes()
		if jti != "" && buf.status != http.StatusOK {
			p.srv.releaseJTI(jti)
		}
		if buf.status == http.StatusOK && p.spec.encryptTokens {
			out, err := p.encryptIDToken(r, ri.clientID, body)
			if err != nil {
				p.srv.log.Error("devidp: encrypting ID token", "profile", p.spec.name, "client", ri.clientID, "err", err)
				writeOAuthError(w, http.StatusInternalServerError, "server_error", "cannot encrypt the ID token to the client's enc key")
				return
			}
			body = out
		}
		buf.copyTo(w, body)
	})
}

// usedAuthMethod says which client authentication a token request uses
// ("" when it mixes several) and the client id it names.
func usedAuthMethod(r *http.Request) (oidc.AuthMethod, string) {
	user, _, basic := r.BasicAuth()
	if u, err := url.QueryUnescape(user); err == nil {
		user = u // RFC 6749 §2.3.1: the id is form-encoded in Basic
	}
	assertion := r.PostForm.Get("client_assertion") != ""
	secret := r.PostForm.Get("client_secret") != ""
	n := 0
	for _, b := range []bool{basic, assertion, secret} {
		if b {
			n++
		}
	}
	switch {
	case n > 1:
		return "", ""
	case basic:
		return oidc.AuthMethodBasic, user
	case assertion:
		return oidc.AuthMethodPrivateKeyJWT, ""
	case secret:
		return oidc.AuthMethodPost, r.PostForm.Get("client_id")
	}
	return oidc.AuthMethodNone, r.PostForm.Get("client_id")
}

type assertionPeek struct {
	Iss string        `json:"iss"`
	Aud oidc.Audience `json:"aud"`
	JTI string        `json:"jti"`
	Exp oidc.Time     `json:"exp"`
}

// peekAssertion reads a client assertion without verifying it, only to
// choose the audience op must then verify and to look up its jti; op
// verifies the signature before anything is issued.
func peekAssertion(assertion string) (assertionPeek, error) {
	var c assertionPeek
	if len(assertion) > 16<<10 {
		return c, errors.New("assertion too large")
	}
	jws, err := jose.ParseSigned(assertion, []jose.SignatureAlgorithm{jose.RS256, jose.PS256, jose.ES256})
	if err != nil {
		return c, err
	}
	err = json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &c)
	return c, err
}

// encryptFor encrypts a signed JWT for a client of an encrypting profile:
// to its single "use":"enc" RSA key (RSA-OAEP-256) when it registered
// keys, otherwise, for client_secret_* clients, with "dir" and A256GCM
// under the key derived from the client secret (the left-most 256 bits of
// its SHA-256, OIDC Core §10.2), as itsme does for secret clients.
func (p *profileState) encryptFor(r *http.Request, clientID, signed string) (string, error) {
	rc, ok := p.srv.client(p.spec.name, clientID)
	if !ok {
		return "", errors.New("unknown client")
	}
	if rc.keys == nil && rc.cfg.JWKSURI == "" {
		if rc.method != oidc.AuthMethodBasic && rc.method != oidc.AuthMethodPost {
			return "", errors.New("client has neither keys nor a secret")
		}
		return encryptJWTDirect(signed, rc.secret)
	}
	ks, err := p.srv.clientKeys(r.Context(), rc)
	if err != nil {
		return "", err
	}
	k, ok := pickKey(ks, "enc", "")
	if !ok {
		return "", errors.New(`client has no single "use":"enc" key`)
	}
	return encryptJWT(signed, k)
}

func (p *profileState) encryptIDToken(r *http.Request, clientID string, body []byte) ([]byte, error) {
	var resp map[string]any
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, err
	}
	idt, _ := resp["id_token"].(string)
	if idt == "" {
		return body, nil
	}
	jwe, err := p.encryptFor(r, clientID, idt)
	if err != nil {
		return nil, err
	}
	resp["id_token"] = jwe
	return json.Marshal(resp)
}

// wrapUserinfo answers userinfo as a signed JWT (fas clients with
// userinfo_signed) or a signed-then-encrypted JWT (itsme), both with
// Content-Type application/jwt and iss/aud per OIDC Core §5.3.2.
func (p *profileState) wrapUserinfo(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r, ri := withInfo(r)
		buf := newBuffered()
		next.ServeHTTP(buf, r)
		body := buf.body.Bytes()
		if buf.status != http.StatusOK || ri.clientID == "" {
			buf.copyTo(w, body)
			return
		}
		rc, ok := p.srv.client(p.spec.name, ri.clientID)
		if !ok || !(p.spec.encryptTokens || rc.cfg.UserinfoSigned) {
			buf.copyTo(w, body)
			return
		}
		var claims map[string]any
		if err := json.Unmarshal(body, &claims); err != nil {
			writeOAuthError(w, http.StatusInternalServerError, "server_error", "userinfo")
			return
		}
		claims["iss"] = p.issuer
		claims["aud"] = ri.clientID
		claims["iat"] = p.now().Unix()
		jwt, err := p.srv.key.sign(claims, "JWT")
		if err == nil && p.spec.encryptTokens {
			jwt, err = p.encryptFor(r, ri.clientID, jwt)
		}
		if err != nil {
			p.srv.log.Error("devidp: userinfo JWT", "profile", p.spec.name, "client", ri.clientID, "err", err)
			writeOAuthError(w, http.StatusInternalServerError, "server_error", "cannot sign or encrypt userinfo")
			return
		}
		buf.header.Set("Content-Type", "application/jwt")
		buf.copyTo(w, []byte(jwt))
	})
}

// wrapEndSession lets TerminateSessionFromRequest find the browser's
// session when no id_token_hint names one, and clears the session cookie.
func (p *profileState) wrapEndSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r, ri := withInfo(r)
		if c, err := r.Cookie(p.cookieName()); err == nil {
			ri.sessionID = c.Value
		}
		buf := newBuffered()
		next.ServeHTTP(buf, r)
		if buf.status == http.StatusFound {
			http.SetCookie(w, p.cookie(p.cookieName(), "", -1))
		}
		buf.copyTo(w, buf.body.Bytes())
	})
}

// wrapDiscovery makes the discovery document say what this profile serves
// and nothing else (a relying party plans its requests by it): it adds
// what op does not advertise (encryption algorithms for itsme, signed
// userinfo, acr values, the claims parameter, back-channel logout), puts
// the profile's own scopes and claims instead of op's defaults (op reads
// them only from an unwrapped *op.Provider), and drops the device
// authorization endpoint (the device flow is refused).
func (p *profileState) wrapDiscovery(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		buf := newBuffered()
		next.ServeHTTP(buf, r)
		var d map[string]any
		if buf.status != http.StatusOK || json.Unmarshal(buf.body.Bytes(), &d) != nil {
			buf.copyTo(w, buf.body.Bytes())
			return
		}
		var acrs []string
		for _, l := range p.spec.levels {
			if l.ACR != "0" {
				acrs = append(acrs, l.ACR)
			}
			acrs = append(acrs, l.AMR...)
		}
		d["acr_values_supported"] = acrs
		d["scopes_supported"] = p.spec.scopes
		d["claims_supported"] = supportedClaims(p.spec)
		delete(d, "device_authorization_endpoint")
		d["claims_parameter_supported"] = p.spec.name == ProfileITSME
		d["userinfo_signing_alg_values_supported"] = []string{"RS256"}
		d["code_challenge_methods_supported"] = []string{"S256"}
		d["response_types_supported"] = []string{"code"}
		d["grant_types_supported"] = []string{"authorization_code"}
		d["backchannel_logout_supported"] = true
		d["backchannel_logout_session_supported"] = true
		d["authorization_response_iss_parameter_supported"] = p.srv.respIss
		methods := make([]string, 0, len(p.spec.authMethods))
		for _, m := range p.spec.authMethods {
			methods = append(methods, string(m))
		}
		d["token_endpoint_auth_methods_supported"] = methods
		if p.spec.encryptTokens {
			d["id_token_encryption_alg_values_supported"] = []string{"RSA-OAEP-256"}
			d["id_token_encryption_enc_values_supported"] = []string{"A256GCM"}
			d["userinfo_encryption_alg_values_supported"] = []string{"RSA-OAEP-256"}
			d["userinfo_encryption_enc_values_supported"] = []string{"A256GCM"}
		}
		out, err := json.Marshal(d)
		if err != nil {
			buf.copyTo(w, buf.body.Bytes())
			return
		}
		buf.copyTo(w, out)
	})
}

func (p *profileState) cookieName() string { return "devidp_" + string(p.spec.name) }

func (p *profileState) cookie(name, value string, maxAge int) *http.Cookie {
	c := &http.Cookie{
		Name: name, Value: value, Path: p.spec.path + "/", HttpOnly: true,
		Secure: p.srv.secure, SameSite: http.SameSiteLaxMode, MaxAge: maxAge,
	}
	if maxAge < 0 {
		c.Expires = time.Unix(1, 0)
	}
	return c
}

// addIss adds iss (RFC 9207 §2) to authorization responses that redirect to
// a client: every redirect that leaves the IdP and carries code or error.
func (p *profileState) addIss(next http.Handler) http.Handler {
	if !p.srv.respIss {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(&issWriter{ResponseWriter: w, p: p}, r)
	})
}

type issWriter struct {
	http.ResponseWriter
	p *profileState
}

func (iw *issWriter) WriteHeader(code int) {
	if code == http.StatusFound || code == http.StatusSeeOther {
		h := iw.Header()
		if u, err := url.Parse(h.Get("Location")); err == nil && !strings.HasPrefix(u.String(), iw.p.srv.base+"/") {
			q := u.Query()
			if (q.Has("code") || q.Has("error")) && !q.Has("iss") {
				q.Set("iss", iw.p.issuer)
				u.RawQuery = q.Encode()
				h.Set("Location", u.String())
			}
		}
	}
	iw.ResponseWriter.WriteHeader(code)
}
