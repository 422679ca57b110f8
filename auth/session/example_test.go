package session_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/overstap/overstap/auth/identity"
	"github.com/overstap/overstap/auth/nrn"
	"github.com/overstap/overstap/auth/session"
)

// The gateway's use of a store: create a session after the callback, load
// it on each request, revoke on back-channel logout.
func ExampleNewMemory() {
	ctx := context.Background()
	st, err := session.NewMemory(session.Config{}) // defaults: 30m idle, 12h absolute
	if err != nil {
		panic(err)
	}
	person := nrn.NewGenerator(7).Next() // a synthetic number
	id, err := st.Create(ctx, &session.Session{
		NRNRef: person.Ref(nrn.MustRefKey([]byte("reference-key-from-the-config..."))),
		Identity: identity.Identity{ // as auth/oidc produced it
			NRN:      person,
			Provider: "fas",
			Issuer:   "https://idp.iamfas.belgium.be/fas/oauth2",
			Subject:  "b3f2...",
			SID:      "sid-42",
			AMR:      []string{"urn:be:fedict:iam:fas:Level500"},
			Level:    identity.LevelHigh,
		},
	})
	if err != nil {
		panic(err)
	}
	// id goes into the __Host- cookie.
	s, err := st.Load(ctx, id)
	fmt.Println(s.Provider, err)

	n, _ := st.RevokeSID(ctx, "https://idp.iamfas.belgium.be/fas/oauth2", "sid-42")
	fmt.Println("revoked", n)

	_, err = st.Load(ctx, id)
	fmt.Println(errors.Is(err, session.ErrNotFound))
	// Output:
	// fas <nil>
	// revoked 1
	// true
}
