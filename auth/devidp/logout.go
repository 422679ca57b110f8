package devidp

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/op"
)

// logoutTokenTTL is the lifetime of a logout token (exp - iat).
const logoutTokenTTL = 120 // seconds

// TerminateSessionFromRequest implements RP-initiated logout (RP-Initiated
// Logout 1.0; op has already verified id_token_hint and matched
// post_logout_redirect_uri exactly). It ends the session the hint's sid
// names, or else the browser's session, and sends back-channel logout
// tokens to the session's RPs.
func (p *profileState) TerminateSessionFromRequest(ctx context.Context, req *op.EndSessionRequest) (string, error) {
	var sid, cookie string
	if req.IDTokenHintClaims != nil {
		sid = req.IDTokenHintClaims.SessionID
		if sid == "" {
			if v, ok := req.IDTokenHintClaims.Claims["sid"].(string); ok {
				sid = v
			}
		}
	}
	if ri := infoFrom(ctx); ri != nil {
		cookie = ri.sessionID
	}
	p.mu.Lock()
	var ended []*session
	for id, s := range p.sessions {
		match := (sid != "" && s.sid == sid) || (sid == "" && cookie != "" && id == cookie)
		// With a hint, the session must belong to the hint's subject.
		if match && (req.UserID == "" || req.UserID == s.subject) {
			ended = append(ended, s)
			delete(p.sessions, id)
		}
	}
	p.revokeTokensLocked(ended)
	p.mu.Unlock()
	if err := p.srv.sendLogouts(ctx, p, ended); err != nil {
		p.srv.log.Warn("devidp: back-channel logout", "profile", p.spec.name, "err", err)
	}
	return req.RedirectURI, nil
}

func (p *profileState) revokeTokensLocked(ended []*session) {
	if len(ended) == 0 {
		return
	}
	ids := map[string]bool{}
	for _, s := range ended {
		ids[s.id] = true
	}
	for id, t := range p.tokens {
		if ids[t.sessionID] {
			delete(p.tokens, id)
		}
	}
}

// LogoutPersona ends every session of the persona at profile p (every
// enabled profile when p is "") and sends back-channel logout tokens to the
// RPs of those sessions, as an administrator's "log this person out
// everywhere" would. It returns the delivery errors, joined.
func (s *Server) LogoutPersona(ctx context.Context, p Profile, personaKey string) error {
	var errs []error
	for _, name := range AllProfiles {
		ps, ok := s.profiles[name]
		if !ok || (p != "" && p != name) {
			continue
		}
		ps.mu.Lock()
		var ended []*session
		for id, sess := range ps.sessions {
			if sess.persona == personaKey {
				ended = append(ended, sess)
				delete(ps.sessions, id)
			}
		}
		ps.revokeTokensLocked(ended)
		ps.mu.Unlock()
		if err := s.sendLogouts(ctx, ps, ended); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// sendLogouts posts a logout token for every (session, client with a
// back-channel URI) pair.
func (s *Server) sendLogouts(ctx context.Context, ps *profileState, ended []*session) error {
	var errs []error
	for _, sess := range ended {
		clients := make([]string, 0, len(sess.clients))
		for c := range sess.clients {
			clients = append(clients, c)
		}
		slices.Sort(clients)
		for _, cid := range clients {
			rc, ok := s.client(ps.spec.name, cid)
			if !ok || rc.cfg.BackchannelLogoutURI == "" {
				continue
			}
			if err := s.sendLogout(ctx, ps, sess, rc); err != nil {
				errs = append(errs, fmt.Errorf("devidp: back-channel logout to %s: %w", cid, err))
			}
		}
	}
	return errors.Join(errs...)
}

// LogoutTokenClaims are the claims of a logout token (OIDC Back-Channel
// Logout 1.0 §2.4). Exported for tests of relying parties.
type LogoutTokenClaims struct {
	Issuer   string                    `json:"iss"`
	Audience string                    `json:"aud"`
	IssuedAt int64                     `json:"iat"`
	Expiry   int64                     `json:"exp"`
	JTI      string                    `json:"jti"`
	Subject  string                    `json:"sub,omitempty"`
	SID      string                    `json:"sid,omitempty"`
	Events   map[string]map[string]any `json:"events"`
}

func (s *Server) logoutToken(ps *profileState, sess *session, clientID string) (string, error) {
	now := s.now().Unix()
	c := LogoutTokenClaims{
		Issuer: ps.issuer, Audience: clientID, IssuedAt: now, Expiry: now + logoutTokenTTL,
		JTI: rand.Text(), Subject: sess.subject, SID: sess.sid,
		Events: map[string]map[string]any{EventBackchannelLogout: {}},
	}
	return s.key.sign(c, "logout+jwt")
}

func (s *Server) sendLogout(ctx context.Context, ps *profileState, sess *session, rc *registeredClient) error {
	tok, err := s.logoutToken(ps, sess, rc.cfg.ID)
	if err != nil {
		return err
	}
	body := url.Values{"logout_token": {tok}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rc.cfg.BackchannelLogoutURI, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := s.httpClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	// §2.8: the RP answers 200 (or 204) on success, 400 on failure.
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	s.log.Info("devidp: back-channel logout delivered", "profile", ps.spec.name, "client", rc.cfg.ID)
	return nil
}
