package migrate

import (
	"context"
	"errors"
	"strings"

	"github.com/overstap/overstap/adapters/store"
	"github.com/overstap/overstap/auth/nrn"
)

// Flags are the classification bits of one account. Their values are
// stored in the state database: never renumber them.
type Flags uint32

// Classification bits.
const (
	// FlagNRNUsername: the username is a national number in some written form.
	FlagNRNUsername Flags = 1 << iota
	// FlagNRNColumn: the store's NRN column holds a valid number.
	FlagNRNColumn
	// FlagNRNInvalid: an NRN column value or an NRN-shaped username that
	// does not validate (bad checksum): counted, never guessed at.
	FlagNRNInvalid
	// FlagDerived: the password is one derived from the national number.
	FlagDerived
	// FlagDerivedUnchecked: the derived check was off or could not run.
	FlagDerivedUnchecked
	// FlagLinked: linked to a federated identity already.
	FlagLinked
	// FlagLinkUnknown: no link information available.
	FlagLinkUnknown
	// FlagDisabled: the store marks the account disabled or locked.
	FlagDisabled
	// FlagEmpty: NULL or empty credential.
	FlagEmpty
	// FlagRevoked: the credential is an overstap revocation marker.
	FlagRevoked
	// FlagUnsupported: garbage, unknown scheme, or over the cost limits.
	FlagUnsupported
	// FlagWeak: usable hash of strength none or weak.
	FlagWeak
	// FlagDuplicateNRN is set by the report (not stored per account): the
	// national number belongs to more than one account.
	FlagDuplicateNRN
)

// RevokedPrefix starts every revocation marker: "!overstap-revoked:<run>".
// The leading "!" makes it unusable as a hash in every scheme the legacy
// apps use (the same convention as a locked /etc/shadow entry).
const RevokedPrefix = "!overstap-revoked:"

// RevokedMarker returns the marker a run writes.
func RevokedMarker(run string) string { return RevokedPrefix + run }

// Class is the classification of one account. It holds references only:
// Ref is a keyed HMAC of the national number (the key is per scan).
type Class struct {
	ID       string
	Flags    Flags
	Scheme   string
	Strength Strength
	Ref      string
	// Created is the account's creation time in Unix milliseconds from
	// the store (CreationDates); 0 when unknown.
	Created int64
}

// Has reports whether all bits of f are set.
func (c Class) Has(f Flags) bool { return c.Flags&f == f }

// classifier classifies accounts; safe for concurrent use.
type classifier struct {
	hasher       Hasher
	checkDerived bool
	refKey       nrn.RefKey // zero: no references
}

// accountNRN returns the account's national number and where it came from.
func accountNRN(a store.Account) (nrn.Number, Flags) {
	var f Flags
	var n nrn.Number
	ok := false
	if a.NRNSource == "column" && a.NRN != (nrn.Number{}) {
		f |= FlagNRNColumn
		n, ok = a.NRN, true
	}
	if a.NRNProblem != "" {
		f |= FlagNRNInvalid
	}
	if un, shaped := nrn.Shaped(a.Username); shaped {
		if !un.IsZero() {
			f |= FlagNRNUsername
			if !ok {
				n, ok = un, true
			}
		} else {
			f |= FlagNRNInvalid
		}
	}
	if !ok {
		return nrn.Number{}, f
	}
	return n, f
}

func (c *classifier) classify(ctx context.Context, a store.Account) (Class, error) {
	cl := Class{ID: a.ID}
	n, f := accountNRN(a)
	cl.Flags = f
	hasNRN := f&(FlagNRNColumn|FlagNRNUsername) != 0
	if hasNRN && !c.refKey.IsZero() {
		cl.Ref = n.Ref(c.refKey)
	}
	if a.Disabled {
		cl.Flags |= FlagDisabled
	}
	switch {
	case a.CredentialNull || a.Credential == "":
		cl.Flags |= FlagEmpty
		cl.Scheme, cl.Strength = "empty", StrengthNone
		return cl, nil
	case strings.HasPrefix(a.Credential, RevokedPrefix):
		cl.Flags |= FlagRevoked
		cl.Scheme, cl.Strength = "revoked", StrengthRevoked
		return cl, nil
	}
	// The citizen's own national number in clear, in any written form, is
	// NRN-derived whatever the scheme hint says: a mixed column of hashes
	// and plaintext has no right hint, and no hash is written like a
	// national number.
	clearNRN := hasNRN && plaintextNRN(a.Credential, n)
	info, err := c.hasher.Identify(a.Credential, a.SchemeHint, a.Salt)
	if (err != nil || !info.Usable) && clearNRN {
		// Not readable under the hint: plaintext by its content. Not
		// FlagWeak: without a plaintext hint it cannot be wrapped.
		cl.Flags |= FlagDerived
		cl.Scheme, cl.Strength = "plaintext", StrengthNone
		return cl, nil
	}
	if err != nil || !info.Usable {
		cl.Flags |= FlagUnsupported
		cl.Scheme, cl.Strength = "unsupported", StrengthNone
		if err == nil && info.Scheme != "" {
			cl.Scheme = info.Scheme
		}
		return cl, nil
	}
	cl.Scheme, cl.Strength = info.Scheme, info.Strength
	if info.Strength == StrengthNone || info.Strength == StrengthWeak {
		cl.Flags |= FlagWeak
	}
	switch {
	case clearNRN:
		cl.Flags |= FlagDerived
	case !c.checkDerived || !hasNRN:
		cl.Flags |= FlagDerivedUnchecked
	default:
		if err := ctx.Err(); err != nil {
			return cl, err
		}
		d, err := c.hasher.IsDerived(ctx, a.Credential, a.SchemeHint, a.Salt, n)
		switch {
		case err != nil && ctx.Err() != nil:
			return cl, ctx.Err()
		case err != nil:
			cl.Flags |= FlagDerivedUnchecked
		case d:
			cl.Flags |= FlagDerived
		}
	}
	return cl, nil
}

// plaintextNRN reports whether a stored credential is the national number n
// itself, written in any form (nrn.Shaped).
func plaintextNRN(credential string, n nrn.Number) bool {
	p, _ := nrn.Shaped(credential)
	return !p.IsZero() && p.Equal(n)
}

// safeID returns an account ID fit for errors and logs: stores that key
// accounts by national number must not leak it (masked like every NRN).
func safeID(id string) string { return nrn.Scrub(id) }

// isCanceled reports whether err is a context cancellation or deadline.
func isCanceled(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
