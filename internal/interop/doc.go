// Package interop holds the interoperability suite of the gateway against
// real OpenID providers: `overstap serve`'s assembly (a configuration file
// decoded and validated by the loader, server.Build, the gateway's own
// listeners) in front of a test app, logging citizens in through Ory Hydra
// (an OpenID Certified provider, see internal/hydratest) configured as a
// generic provider or broker. The package has no code of its own; its
// tests are the suite.
package interop
