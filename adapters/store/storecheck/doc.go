// Package storecheck reads a sample of a user store without writing and
// reports what a migration would trip over: where national numbers come
// from and which are unusable, duplicate national numbers, NULL
// credentials, hash schemes counted by kind, bytes that are not UTF-8.
// "overstap store check" prints its Report.
package storecheck
