// Package nrn parses, validates, formats, masks and pseudonymises Belgian
// national register numbers (rijksregisternummer, INSZ/NISS) and BIS numbers.
//
// The package is pure: no I/O, no globals, no dependencies outside the
// standard library. A national number is sensitive personal data: outside
// the few places that need the clear value, use [Number.Mask] for people and
// [Number.Ref] (a keyed HMAC) for machines — logs, metrics, cache keys.
//
// Layout of the 11 digits: YYMMDD birth date, SSS sequence (odd = male, even =
// female), CC check digits with CC = 97 - (N mod 97), where N is the first nine
// digits, prefixed with "2" for people born in 2000 or later. At most one of
// the two variants validates, so the check digits decide the century.
package nrn
