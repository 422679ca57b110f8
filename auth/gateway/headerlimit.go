package gateway

import "net/http"

// headerBytes is the size of r's request line and header fields as they
// came on the wire ("Name: value\r\n" each), the measure of
// Limits.MaxHeaderBytes. net/http's own limit allows 4 KiB of slack and is
// only as strict as the server it runs in (the demo's, a test's), so the
// handler enforces the configured number itself.
func headerBytes(r *http.Request) int {
	n := len(r.Method) + 1 + len(r.RequestURI) + 1 + len(r.Proto) + 2
	if r.Host != "" {
		n += len("Host: ") + len(r.Host) + 2
	}
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + 2 + len(v) + 2
		}
	}
	return n
}
