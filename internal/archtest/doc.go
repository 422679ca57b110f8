// Package archtest holds the import-rule test of docs/architecture.md:
// it lists every package's dependencies with `go list -deps` and fails
// when a forbidden import direction appears.
package archtest
