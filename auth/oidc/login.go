package oidc

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// LoginOptions are the per-login choices of the gateway.
type LoginOptions struct {
	// ReturnTo is the local path (starting with one "/") to go to after the
	// login; "" means "/". Absolute URLs are refused (no open redirect).
	ReturnTo string
	// MinLevel is the minimum level for this login: a level name of the
	// provider's table or low/substantial/high. "" uses the provider's
	// min_level. It is sent as acr_values and checked on return.
	MinLevel string
	// ACRValues overrides the acr_values sent (the check still uses MinLevel).
	ACRValues []string
	// MaxAge, when > 0, is sent as max_age (rounded up to seconds); the ID
	// token must then carry auth_time no older than MaxAge.
	MaxAge time.Duration
	// Prompt is sent as prompt (none, login, consent, select_account). With
	// "login", auth_time must be after the start of this login.
	Prompt string
	// UILocales are sent as ui_locales (e.g. "nl", "fr").
	UILocales []string
	// LoginHint is sent as login_hint when not empty.
	LoginHint string
	// AllowNoNRN makes a login without a national number succeed with a
	// zero Identity.NRN instead of failing with KindNoNRN.
	AllowNoNRN bool
}

// flowState is the server-side state of one login. It holds no national
// number; it is stored encrypted under a key derived from the state, so a
// store dump without the state value reveals nothing usable.
type flowState struct {
	Provider    string `json:"p"`
	Nonce       string `json:"n"`
	Verifier    string `json:"cv"`
	Binding     string `json:"b"`
	ReturnTo    string `json:"r"`
	MinRank     int    `json:"l"`
	MaxAge      int64  `json:"ma,omitempty"`
	PromptLogin bool   `json:"pl,omitempty"`
	AllowNoNRN  bool   `json:"nn,omitempty"`
	Created     int64  `json:"t"`
}

const (
	maxReturnTo  = 2048
	maxStateLen  = 128
	cookieSecure = "__Host-overstap-login"
	cookieDev    = "overstap-login"
)

// tokenLen is the length of a token from crypto/rand.Text: 26 characters
// of base32 (A–Z, 2–7; safe in cookies and URLs), 128 bits of randomness.
const tokenLen = 26

func (p *Provider) cookieName() string {
	if p.insecure {
		return cookieDev
	}
	return cookieSecure
}

// validReturnTo accepts a local absolute path only.
func validReturnTo(s string) (string, error) {
	if s == "" {
		return "/", nil
	}
	if len(s) > maxReturnTo || s[0] != '/' || strings.HasPrefix(s, "//") || strings.HasPrefix(s, "/\\") {
		return "", errors.New("oidc: return_to must be a local path")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f || s[i] == '\\' {
			return "", errors.New("oidc: return_to must be a local path")
		}
	}
	return s, nil
}

func validToken(s string, maxLen int) bool {
	if s == "" || len(s) > maxLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// AuthRequest starts a login: it records the flow state, sets the
// short-lived pre-auth cookie that binds the state to this browser, and
// returns the URL of the provider's authorization endpoint to redirect to.
// PKCE S256 and a nonce are always used.
func (p *Provider) AuthRequest(w http.ResponseWriter, r *http.Request, opts LoginOptions) (string, error) {
	m, err := p.metadata()
	if err != nil {
		return "", err
	}
	returnTo, err := validReturnTo(opts.ReturnTo)
	if err != nil {
		return "", err
	}
	minLevel := opts.MinLevel
	if minLevel == "" {
		minLevel = p.cfg.MinLevel
	}
	minRank, err := p.prof.MinRank(minLevel)
	if err != nil {
		return "", err
	}
	if opts.MaxAge < 0 || opts.MaxAge > 365*24*time.Hour {
		return "", errors.New("oidc: max_age out of range")
	}
	if opts.Prompt != "" {
		for _, v := range strings.Fields(opts.Prompt) {
			if !slices.Contains([]string{"none", "login", "consent", "select_account"}, v) {
				return "", fmt.Errorf("oidc: prompt %q not supported", v)
			}
		}
	}
	for _, l := range opts.UILocales {
		if !validToken(l, 35) {
			return "", errors.New("oidc: invalid ui_locales tag")
		}
	}
	for _, v := range opts.ACRValues {
		if !validToken(v, 256) {
			return "", errors.New("oidc: invalid acr value")
		}
	}
	if len(opts.LoginHint) > 256 {
		return "", errors.New("oidc: login_hint too long")
	}

	// Browser binding: reuse a well-formed pre-auth cookie (several tabs may
	// log in at once), else set a new one.
	binding := ""
	if c, err := r.Cookie(p.cookieName()); err == nil && len(c.Value) == tokenLen && validToken(c.Value, tokenLen) {
		binding = c.Value
	}
	if binding == "" {
		binding = rand.Text()
	}
	http.SetCookie(w, &http.Cookie{
		Name: p.cookieName(), Value: binding, Path: "/", MaxAge: int(p.ttl / time.Second),
		Secure: !p.insecure, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})

	state := rand.Text()
	fs := flowState{
		Provider: p.name, Nonce: rand.Text(), Verifier: oauth2.GenerateVerifier(),
		Binding: bindingHash(binding), ReturnTo: returnTo, MinRank: minRank,
		PromptLogin: slices.Contains(strings.Fields(opts.Prompt), "login"),
		AllowNoNRN:  opts.AllowNoNRN, Created: p.now().Unix(),
	}
	if opts.MaxAge > 0 {
		fs.MaxAge = int64((opts.MaxAge + time.Second - 1) / time.Second)
	}
	key, blob, err := sealFlow(state, &fs)
	if err != nil {
		return "", err
	}
	if err := p.flows.Put(r.Context(), key, blob, p.ttl); err != nil {
		return "", fmt.Errorf("oidc: storing login flow: %w", err)
	}

	authOpts := []oauth2.AuthCodeOption{
		oauth2.S256ChallengeOption(fs.Verifier),
		oauth2.SetAuthURLParam("nonce", fs.Nonce),
	}
	acr := opts.ACRValues
	if len(acr) == 0 && minRank > 0 {
		acr = []string{p.prof.Levels[minRank-1].Name}
	}
	if len(acr) > 0 {
		authOpts = append(authOpts, oauth2.SetAuthURLParam("acr_values", strings.Join(acr, " ")))
	}
	if fs.MaxAge > 0 {
		authOpts = append(authOpts, oauth2.SetAuthURLParam("max_age", strconv.FormatInt(fs.MaxAge, 10)))
	}
	if opts.Prompt != "" {
		authOpts = append(authOpts, oauth2.SetAuthURLParam("prompt", opts.Prompt))
	}
	if len(opts.UILocales) > 0 {
		authOpts = append(authOpts, oauth2.SetAuthURLParam("ui_locales", strings.Join(opts.UILocales, " ")))
	}
	if opts.LoginHint != "" {
		authOpts = append(authOpts, oauth2.SetAuthURLParam("login_hint", opts.LoginHint))
	}
	if p.prof.Claims != "" {
		authOpts = append(authOpts, oauth2.SetAuthURLParam("claims", p.prof.Claims))
	}
	for k, v := range p.cfg.Extra {
		authOpts = append(authOpts, oauth2.SetAuthURLParam(k, v))
	}
	return p.oauth2Config(m).AuthCodeURL(state, authOpts...), nil
}

func (p *Provider) oauth2Config(m *metadata) *oauth2.Config {
	scopes := append([]string{"openid"}, p.prof.Scopes...)
	scopes = slices.Compact(scopes)
	c := &oauth2.Config{
		ClientID:    p.cfg.ClientID,
		Endpoint:    oauth2.Endpoint{AuthURL: m.authURL, TokenURL: m.tokenURL},
		RedirectURL: p.cfg.RedirectURL,
		Scopes:      scopes,
	}
	switch p.prof.ClientAuth {
	case ClientSecretBasic:
		c.ClientSecret = p.secret
		c.Endpoint.AuthStyle = oauth2.AuthStyleInHeader
	case ClientSecretPost:
		c.ClientSecret = p.secret
		c.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	case PrivateKeyJWT:
		c.Endpoint.AuthStyle = oauth2.AuthStyleInParams // client_id in the body, no secret
	}
	return c
}

func bindingHash(v string) string {
	s := sha256.Sum256([]byte("overstap/oidc/binding\x00" + v))
	return base64.RawURLEncoding.EncodeToString(s[:])
}

// flowKeys derives the store key and the AEAD key from the state.
func flowKeys(state string) (storeKey string, aeadKey []byte) {
	id := sha256.Sum256([]byte("overstap/oidc/flow-id\x00" + state))
	k := sha256.Sum256([]byte("overstap/oidc/flow-key\x00" + state))
	return hex.EncodeToString(id[:]), k[:]
}

func sealFlow(state string, fs *flowState) (string, []byte, error) {
	key, k := flowKeys(state)
	plain, err := json.Marshal(fs)
	if err != nil {
		return "", nil, fmt.Errorf("oidc: encoding flow: %w", err)
	}
	aead, err := newGCM(k)
	if err != nil {
		return "", nil, err
	}
	nonce := make([]byte, aead.NonceSize())
	_, _ = rand.Read(nonce)
	return key, aead.Seal(nonce, nonce, plain, []byte(key)), nil
}

func openFlow(key string, k, blob []byte) (*flowState, error) {
	aead, err := newGCM(k)
	if err != nil {
		return nil, err
	}
	if len(blob) < aead.NonceSize() || len(blob) > 4096 {
		return nil, errors.New("oidc: flow payload malformed")
	}
	plain, err := aead.Open(nil, blob[:aead.NonceSize()], blob[aead.NonceSize():], []byte(key))
	if err != nil {
		return nil, errors.New("oidc: flow payload does not decrypt")
	}
	var fs flowState
	if err := json.Unmarshal(plain, &fs); err != nil {
		return nil, fmt.Errorf("oidc: flow payload: %w", err)
	}
	return &fs, nil
}

func newGCM(k []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(k)
	if err != nil {
		return nil, fmt.Errorf("oidc: %w", err)
	}
	return cipher.NewGCM(b)
}
