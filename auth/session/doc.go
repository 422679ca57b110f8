// Package session holds the gateway's login sessions: who is logged in
// (a keyed reference to the national number, the number itself, the legacy
// account id), through which provider and at which level, and until when.
//
// Two stores implement [Store]:
//
//   - [Memory], the embedded default for a single gateway node: bounded in
//     size, least-recently-touched sessions evicted first.
//   - [Redis], for several nodes, on any go-redis UniversalClient (single
//     server, sentinel, cluster; see [RedisConfig] and [NewRedisClient]).
//
// What a Redis dump gives an attacker: nothing usable. The session id (the
// cookie value, 256 random bits) is never stored; keys are
// base64url(SHA-256(id)). The session record and the ID token are sealed
// with XChaCha20-Poly1305 under a key ring ([Config.Keys]): the first key
// seals, every key opens, so keys rotate without logging anybody out. The
// associated data binds each record to the hashed id and the record kind, so
// a record copied under another key does not open. Revocation indexes (per
// person, per issuer+sid, per issuer+sub) are keyed by SHA-256 of the
// reference, never by a clear national number or subject.
//
// Expiry follows NIST SP 800-63B AAL2 by default: 30 minutes idle, 12 hours
// absolute. The idle timeout slides without a write per request: [Store.Load]
// rewrites the record only when the last write is older than
// [Config.TouchInterval] (default one tenth of the idle timeout), or when the
// record was sealed with a key other than the first of the ring.
package session
