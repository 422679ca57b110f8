// Package pages renders the gateway's own HTML pages (login choice,
// errors, step-up, "your old login no longer works", logged out) in Dutch,
// French, German and English with html/template. Pages use one embedded
// stylesheet and no script, so they work under the strict
// Content-Security-Policy the gateway sends; every form carries a CSRF
// token supplied by the caller.
package pages
