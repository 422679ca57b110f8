package family

import (
	"context"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/overstap/overstap/adapters/store"
	"github.com/overstap/overstap/auth/identity"
	"github.com/overstap/overstap/auth/nrn"
)

// The family pages name people, not numbers. Where a name comes from, in
// this order:
//
//  1. NameLogin: the person's own login, the name the identity provider
//     asserted (itsme and the FAS give the legal name). It is recorded
//     when the person asks for a link, answers an invitation or opens the
//     family pages, and replaces any earlier name.
//  2. NameStore: the app's user store (the account's mapped name, when
//     exactly one account of the app has the number), recorded when a
//     grant is made for a member who never logged in (a minor child the
//     register linked). It never replaces a login name.
//  3. The register is not a source: the register adapters carry no names.
//  4. None known: the masked national number stands in for the name.
//
// Only ShortName is kept: the first name and the initial of the surname.
// A name is shown to the other person of a grant, and the requester's
// name to the member who opens their invitation; a pending invitation
// shows its member by masked number only, since naming whoever's number
// was typed would tell a name nobody consented to show. Two people of one
// page with the same name get their masked numbers as a second line.
const (
	NameLogin = "login"
	NameStore = "store"
)

// maxShortName bounds a recorded name (bytes).
const maxShortName = 80

// ShortName is the first word of a full name and the initial of the
// second, "An Peeters" → "An P."; one word stays as it is; "" when full
// has no letters. full is a clean name (identity.CleanName: no control or
// bidirectional characters); noteName cleans what it records.
func ShortName(full string) string {
	words := strings.Fields(full)
	if len(words) == 0 || !strings.ContainsFunc(full, unicode.IsLetter) {
		return ""
	}
	first := words[0]
	for len(first) > maxShortName-4 {
		_, n := utf8.DecodeLastRuneInString(first)
		first = first[:len(first)-n]
	}
	if len(words) == 1 {
		return first
	}
	r, _ := utf8.DecodeRuneInString(words[1])
	return first + " " + string(unicode.ToUpper(r)) + "."
}

// noteName records the short form of full for the person ref; a failure
// is logged (a name is a courtesy, never a reason to refuse).
func (s *Service) noteName(ctx context.Context, ref, full, source string) {
	name := ShortName(identity.CleanName(full)) // a store's names are not cleaned by the login
	if ref == "" || name == "" || nrn.Holds(name) {
		return
	}
	if err := s.store.SetName(context.WithoutCancel(ctx), ref, name, source, s.now()); err != nil {
		s.log.Warn("family: name not recorded", "err", nrn.Scrub(err.Error()))
	}
}

// NoteLogin records the name a person's own login asserted. It always
// goes to the store, which writes only when the name or its source
// changes: a name first recorded from a user store becomes the login's,
// so that no store name replaces it later.
func (s *Service) NoteLogin(ctx context.Context, n nrn.Number, full string) {
	if n.IsZero() {
		return
	}
	s.noteName(ctx, s.ref(n), full, NameLogin)
}

// byNRN is the lookup of a user store by national number (store.Reader).
type byNRN interface {
	LookupByNRN(ctx context.Context, n nrn.Number) ([]store.Account, error)
}

// noteStoreName records member's name from app's user store, when exactly
// one account has the number and a name is mapped.
func (s *Service) noteStoreName(ctx context.Context, a *app, member nrn.Number) {
	st, ok := a.accounts.(byNRN)
	if !ok {
		return
	}
	accs, err := st.LookupByNRN(ctx, member)
	if err != nil || len(accs) != 1 || accs[0].Name == "" {
		return
	}
	s.noteName(ctx, s.ref(member), accs[0].Name, NameStore)
}

// person is how a page shows someone: by name, with the masked number as
// a second line only when the name is unknown or shared on the page.
type person struct {
	Name string // the short name, or the masked number when none is known
	Mask string // the masked number as a second line; "" when not needed
}

// people builds the persons of one page from (ref, mask) pairs, in order.
func (s *Service) people(ctx context.Context, refs, masks []string) []person {
	names, err := s.store.Names(ctx, refs)
	if err != nil {
		s.log.Warn("family: names unavailable", "err", nrn.Scrub(err.Error()))
		names = nil
	}
	out := make([]person, len(refs))
	count := map[string]map[string]bool{} // name → the refs that bear it
	for i, ref := range refs {
		n := names[ref]
		if n == "" {
			out[i] = person{Name: masks[i]}
			continue
		}
		out[i] = person{Name: n}
		if count[n] == nil {
			count[n] = map[string]bool{}
		}
		count[n][ref] = true
	}
	for i, ref := range refs {
		if n := names[ref]; n != "" && len(count[n]) > 1 {
			out[i].Mask = masks[i]
		}
	}
	return out
}
