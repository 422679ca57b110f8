package opstest

import (
	"bytes"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// masterProxy is the Redis master's address for everyone (sentinels,
// gateway nodes, the replica): it forwards every connection to the real
// master, and can hold back the replication stream, as a lagging network
// would: while held, what the master sends on the replica's connection
// (the one that says REPLCONF/PSYNC) is kept here; when the master dies
// meanwhile, the replica never gets it — asynchronous replication loses
// it. (A proxy for the replica alone would not do: the sentinels would
// "fix" the replica's master address back to the real one.)
type masterProxy struct {
	ln     net.Listener
	master string
	held   atomic.Bool

	mu    sync.Mutex
	conns []net.Conn
}

func startMasterProxy(t *testing.T, master string) *masterProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &masterProxy{ln: ln, master: master}
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
	})
	go p.serve()
	return p
}

func (p *masterProxy) port() int { return p.ln.Addr().(*net.TCPAddr).Port }

// hold stops forwarding the master's replication stream to the replica.
func (p *masterProxy) hold() { p.held.Store(true) }

func (p *masterProxy) serve() {
	for {
		down, err := p.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", p.master)
		if err != nil {
			down.Close() // the master is gone: like a refused connection
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, down, up)
		p.mu.Unlock()
		var repl atomic.Bool
		go func() { // client → master, noting the replica's connection
			defer up.Close()
			buf := make([]byte, 32<<10)
			for {
				n, err := down.Read(buf)
				if n > 0 {
					if !repl.Load() && (bytes.Contains(bytes.ToUpper(buf[:n]), []byte("PSYNC")) || bytes.Contains(bytes.ToUpper(buf[:n]), []byte("REPLCONF"))) {
						repl.Store(true)
					}
					if _, err := up.Write(buf[:n]); err != nil {
						return
					}
				}
				if err != nil {
					return
				}
			}
		}()
		go p.forward(down, up, &repl)
	}
}

// forward copies master → client; on the replica's connection it keeps
// what arrives while held, and drops it when the master's side ends.
func (p *masterProxy) forward(down, up net.Conn, repl *atomic.Bool) {
	defer down.Close()
	buf := make([]byte, 32<<10)
	var pending []byte
	for {
		n, err := up.Read(buf)
		pending = append(pending, buf[:n]...)
		held := repl.Load() && p.held.Load()
		if err != nil {
			if !held {
				down.Write(pending)
			}
			return
		}
		if held {
			continue
		}
		if _, err := down.Write(pending); err != nil {
			io.Copy(io.Discard, up)
			return
		}
		pending = pending[:0]
	}
}
