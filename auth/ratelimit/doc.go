// Package ratelimit regulates brute force on the login paths the gateway
// still serves: per client IP and per username reference, over a sliding
// window, with a ban once a limit is reached, plus a cap on consecutive
// failures per account (NIST SP 800-63B §5.2.2: at most 100).
//
// Two backends share one contract: memory (one gateway node) and Redis (a
// sliding-window sorted set per key, updated atomically by a Lua script, so
// the limits hold across gateway nodes). Keys are opaque references: callers
// pass an IP or a username reference, and the limiter stores only a keyed
// HMAC of it, so neither Redis nor the ban list shows an address or a name.
// Client addresses are normalised first (IPKey): an IPv4-mapped IPv6 address
// counts as its IPv4 address, and IPv6 addresses are counted per /64.
package ratelimit
