// Package httphook lets vendors in any language plug a user store into
// overstap through a small signed JSON protocol over HTTPS: Client is the
// store.Store overstap uses; Server is a reference hook server in Go that
// serves the protocol from any store.Store (the tests back it with an
// SQLite table), for vendors to run or copy.
//
// Every request is a POST with a JSON body (so national numbers never
// appear in URLs or access logs), except GET /v1/capabilities:
//
//	POST /v1/get               {"id"}                        -> {"account"}
//	POST /v1/lookup-username   {"username"}                  -> {"account"}
//	POST /v1/lookup-nrn        {"nrn"}                       -> {"accounts"}
//	POST /v1/iterate           {"after","limit"}             -> {"accounts","next"}
//	POST /v1/compare-and-swap  {"id","old","old_null","new"} -> {}
//	POST /v1/swap-batch        {"swaps":[...]}               -> {"results":["ok","conflict","not_found"]}
//	POST /v1/set-federated     {"id","federated"}            -> {}
//
// Errors are {"error": "not_found" | "conflict" | "ambiguous" |
// "unsupported" | "bad_request" | "unauthorized" | "internal"}.
//
// Requests carry X-Overstap-Timestamp (Unix seconds), X-Overstap-Nonce and
// X-Overstap-Signature: "v1=" + hex HMAC-SHA256(key, "overstap-hook-v1\n"
// + method + "\n" + path + "\n" + timestamp + "\n" + nonce + "\n" +
// hex(SHA-256(body))). The server accepts a timestamp within ±5 minutes and
// each nonce once in that window, and compares in constant time. Responses
// are signed the same way over the status, the request's nonce and the
// body hash, so a response cannot be forged or replayed onto another
// request. The client retries with backoff only idempotent calls (reads,
// set-federated), never a compare-and-swap or a batch.
//
// See docs/adapters/httphook.md and docs/adapters/httphook.openapi.yaml.
package httphook
