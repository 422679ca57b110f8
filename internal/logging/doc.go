// Package logging builds overstap's *slog.Logger (JSON in production, text in
// development) and wraps every handler in [Mask], a defence-in-depth handler
// that keeps national numbers out of the log even when a caller forgets to
// use nrn.Number.Mask or Ref.
//
// What Mask redacts, in the message, attribute keys and every attribute value
// (strings, errors, fmt.Stringers, byte slices, integers, floats, structs and
// other values, nested groups, WithAttrs and WithGroup):
//
//   - a valid national number in any accepted written form (nrn.Find) becomes
//     its mask, "85.07.30-***.**";
//   - 11 digits in an accepted written form whose check digits or date are
//     wrong (nrn.LooksLike on the canonical layouts) become "***********": a mistyped national number
//     still points at a person, and a username field full of them is exactly
//     what the gateway refuses;
//   - 11 digits grouped loosely by single spaces, dots, hyphens or slashes
//     ("85 07 30 033 28") become the mask when they form a valid number;
//   - an integer or float whose value is an 11-digit number is treated as
//     its digits.
//
// A run of more than 11 digits (an account number, a timestamp) is left
// alone, so an NRN glued to other digits without a separator is not found.
// The wrapper is a safety net, not the mechanism: code still logs
// nrn.Number values (which log as their mask) or Ref references.
package logging
