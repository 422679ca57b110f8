// Package logging builds overstap's *slog.Logger (JSON in production, text in
// development) and wraps every handler in [Mask], a defence-in-depth handler
// that keeps national numbers out of the log even when a caller forgets to
// use nrn.Number.Mask or Ref.
//
// What Mask redacts, in the message, attribute keys and every attribute value
// (strings, errors, fmt.Stringers, byte slices, integers, floats, structs and
// other values, nested groups, WithAttrs and WithGroup), is what nrn.Scrub
// redacts: a valid national number in any written form becomes its mask
// ("85.07.30-***.**"), 11 digits in a national number's layout that do not
// validate become "***********". An integer or float whose value is an
// 11-digit number is treated as its digits.
//
// The wrapper is a safety net, not the mechanism: code still logs
// nrn.Number values (which log as their mask) or Ref references.
package logging
