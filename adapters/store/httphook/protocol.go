package httphook

import (
	"encoding/base64"
	"errors"
	"unicode/utf8"

	"github.com/overstap/overstap/adapters/store"
	"github.com/overstap/overstap/auth/nrn"
	"github.com/overstap/overstap/internal/wiresign"
)

// Header names of the signature scheme.
const (
	HeaderTimestamp = wiresign.HeaderTimestamp
	HeaderNonce     = wiresign.HeaderNonce
	HeaderSignature = wiresign.HeaderSignature
)

// Protocol paths, relative to the configured base URL.
const (
	PathCapabilities   = "/v1/capabilities"
	PathGet            = "/v1/get"
	PathLookupUsername = "/v1/lookup-username"
	PathLookupNRN      = "/v1/lookup-nrn"
	PathIterate        = "/v1/iterate"
	PathCompareAndSwap = "/v1/compare-and-swap"
	PathSwapBatch      = "/v1/swap-batch"
	PathSetFederated   = "/v1/set-federated"
)

// Error codes on the wire.
const (
	CodeNotFound     = "not_found"
	CodeConflict     = "conflict"
	CodeAmbiguous    = "ambiguous"
	CodeUnsupported  = "unsupported"
	CodeBadRequest   = "bad_request"
	CodeUnauthorized = "unauthorized"
	CodeInternal     = "internal"
	// ResultOK is a successful swap in a batch result.
	ResultOK = "ok"
)

// MinKeyLen is the minimum length of the shared HMAC key.
const MinKeyLen = 32

// The hook's signatures (the scheme in internal/wiresign, documented in
// doc.go) under its own domain string.
const hookDomain = wiresign.Domain("overstap-hook-v1")

// sign computes the request signature.
func sign(key []byte, method, path, ts, nonce string, body []byte) string {
	return hookDomain.Request(key, method, path, ts, nonce, body)
}

// signResponse computes the response signature, bound to the request's
// nonce.
func signResponse(key []byte, status int, nonce string, body []byte) string {
	return hookDomain.Response(key, status, nonce, body)
}

// WireAccount is an account on the wire. Values that are not valid UTF-8
// travel base64-encoded in the *_b64 field instead, so bytes survive JSON.
type WireAccount struct {
	ID             string `json:"id"`
	Username       string `json:"username,omitempty"`
	UsernameB64    string `json:"username_b64,omitempty"`
	Credential     string `json:"credential,omitempty"`
	CredentialB64  string `json:"credential_b64,omitempty"`
	CredentialNull bool   `json:"credential_null,omitempty"`
	Salt           string `json:"salt,omitempty"`
	// NRN is the raw value of the vendor's national-number field; overstap
	// validates it. Empty when there is none.
	NRN string `json:"nrn,omitempty"`
	// NRNProblem may say why the vendor's NRN value is unusable.
	NRNProblem string `json:"nrn_problem,omitempty"`
	SchemeHint string `json:"scheme_hint,omitempty"`
	Name       string `json:"name,omitempty"`
	Disabled   bool   `json:"disabled,omitempty"`
	Federated  bool   `json:"federated,omitempty"`
}

// encodeBytes puts v into s, or into b64 when it is not valid UTF-8.
func encodeBytes(v string) (s, b64 string) {
	if utf8.ValidString(v) {
		return v, ""
	}
	return "", base64.StdEncoding.EncodeToString([]byte(v))
}

func decodeBytes(s, b64 string) (string, error) {
	if b64 == "" {
		return s, nil
	}
	if s != "" {
		return "", errors.New("both a value and its base64 form")
	}
	b, err := base64.StdEncoding.DecodeString(b64)
	return string(b), err
}

// ToWire converts an account for the wire (used by the server).
func ToWire(a store.Account) WireAccount {
	w := WireAccount{ID: a.ID, CredentialNull: a.CredentialNull, Salt: a.Salt, SchemeHint: a.SchemeHint,
		Name: a.Name, Disabled: a.Disabled, Federated: a.Federated, NRNProblem: a.NRNProblem}
	w.Username, w.UsernameB64 = encodeBytes(a.Username)
	w.Credential, w.CredentialB64 = encodeBytes(a.Credential)
	if a.NRNSource == "column" {
		w.NRN = a.NRN.Digits()
	}
	return w
}

// FromWire converts a wire account, validating its national number (used
// by the client). defaultHint applies when the hook gives none.
func FromWire(w WireAccount, defaultHint string) (store.Account, error) {
	if w.ID == "" || len(w.ID) > store.MaxValue {
		return store.Account{}, errors.New("account without a valid id")
	}
	a := store.Account{ID: w.ID, CredentialNull: w.CredentialNull, Salt: w.Salt, SchemeHint: w.SchemeHint,
		Name: w.Name, Disabled: w.Disabled, Federated: w.Federated}
	var err error
	if a.Username, err = decodeBytes(w.Username, w.UsernameB64); err != nil {
		return store.Account{}, errors.New("username_b64: not base64")
	}
	if a.Credential, err = decodeBytes(w.Credential, w.CredentialB64); err != nil {
		return store.Account{}, errors.New("credential_b64: not base64")
	}
	if a.CredentialNull && a.Credential != "" {
		return store.Account{}, errors.New("credential_null with a credential")
	}
	if a.SchemeHint == "" {
		a.SchemeHint = defaultHint
	}
	a.ResolveNRN(w.NRN, w.NRN != "")
	if a.NRNProblem == "" && w.NRNProblem != "" && a.NRNSource != "column" {
		a.NRNProblem = nrn.Scrub(w.NRNProblem)
	}
	return a, nil
}

// WireSwap is one compare-and-swap on the wire.
type WireSwap struct {
	ID      string `json:"id"`
	Old     string `json:"old,omitempty"`
	OldB64  string `json:"old_b64,omitempty"`
	OldNull bool   `json:"old_null,omitempty"`
	New     string `json:"new,omitempty"`
	NewB64  string `json:"new_b64,omitempty"`
}

func swapToWire(s store.Swap) WireSwap {
	w := WireSwap{ID: s.ID, OldNull: s.OldNull}
	w.Old, w.OldB64 = encodeBytes(s.Old)
	w.New, w.NewB64 = encodeBytes(s.New)
	return w
}

func swapFromWire(w WireSwap) (store.Swap, error) {
	s := store.Swap{ID: w.ID, OldNull: w.OldNull}
	var err error
	if s.Old, err = decodeBytes(w.Old, w.OldB64); err != nil {
		return s, err
	}
	if s.New, err = decodeBytes(w.New, w.NewB64); err != nil {
		return s, err
	}
	return s, s.Check()
}

type (
	getRequest struct {
		ID string `json:"id"`
	}
	usernameRequest struct {
		Username    string `json:"username,omitempty"`
		UsernameB64 string `json:"username_b64,omitempty"`
	}
	nrnRequest struct {
		NRN string `json:"nrn"`
	}
	iterateRequest struct {
		After string `json:"after,omitempty"`
		Limit int    `json:"limit"`
	}
	batchRequest struct {
		Swaps []WireSwap `json:"swaps"`
	}
	federatedRequest struct {
		ID        string `json:"id"`
		Federated bool   `json:"federated"`
	}
	accountResponse struct {
		Account WireAccount `json:"account"`
	}
	accountsResponse struct {
		Accounts []WireAccount `json:"accounts"`
		Next     string        `json:"next,omitempty"`
	}
	batchResponse struct {
		Results []string `json:"results"`
	}
	errorResponse struct {
		Error string `json:"error"`
	}
	// capabilitiesResponse mirrors store.Capabilities.
	capabilitiesResponse struct {
		AtomicCAS    bool `json:"atomic_cas"`
		Federated    bool `json:"federated"`
		Transactions bool `json:"transactions"`
	}
)
