package opstest

import (
	"bytes"
	"net"
	"sync"
	"testing"
)

// masterProxy is the Redis master's address for everyone (sentinels,
// gateway nodes, the replica): it forwards every connection to the real
// master, and can hold back the replica's connection (the one that says
// REPLCONF/PSYNC), as a lagging or cut network would. While held, what
// the master sends to the replica (and, when partitioned, what the replica
// acknowledges) is kept here; released, it flows on; when the master dies
// meanwhile, the replica never gets it — asynchronous replication loses
// it. (A proxy for the replica alone would not do: the sentinels would
// "fix" the replica's master address back to the real one.)
type masterProxy struct {
	ln     net.Listener
	master string

	mu         sync.Mutex
	changed    *sync.Cond
	holdData   bool // master → replica held
	holdAcks   bool // replica → master held too (a partition)
	conns      []net.Conn
	closedDown bool
}

func startMasterProxy(t *testing.T, master string) *masterProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &masterProxy{ln: ln, master: master}
	p.changed = sync.NewCond(&p.mu)
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			c.Close()
		}
		p.closedDown = true
		p.changed.Broadcast()
		p.mu.Unlock()
	})
	go p.serve()
	return p
}

func (p *masterProxy) port() int { return p.ln.Addr().(*net.TCPAddr).Port }

// hold holds back the replication stream (data; acks too when partition).
// release lets everything kept flow on.
func (p *masterProxy) hold(partition bool) { p.set(true, partition) }
func (p *masterProxy) release()            { p.set(false, false) }

func (p *masterProxy) set(data, acks bool) {
	p.mu.Lock()
	p.holdData, p.holdAcks = data, acks
	p.changed.Broadcast()
	p.mu.Unlock()
}

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
		c := &proxied{p: p}
		go c.pipe(down, up, true)
		go c.pipe(up, down, false)
	}
}

// proxied is one forwarded connection.
type proxied struct {
	p    *masterProxy
	repl bool // guarded by p.mu: this is the replica's connection
}

// pipe copies from → to. Chunks are written by a second goroutine that
// waits while the direction is held; when from ends while held, what is
// kept is dropped.
func (c *proxied) pipe(from, to net.Conn, toMaster bool) {
	p := c.p
	var queue [][]byte
	ended := false
	go func() {
		buf := make([]byte, 32<<10)
		for {
			n, err := from.Read(buf)
			p.mu.Lock()
			if n > 0 {
				if toMaster && !c.repl && (bytes.Contains(bytes.ToUpper(buf[:n]), []byte("PSYNC")) || bytes.Contains(bytes.ToUpper(buf[:n]), []byte("REPLCONF"))) {
					c.repl = true
				}
				queue = append(queue, append([]byte(nil), buf[:n]...))
			}
			if err != nil {
				ended = true
			}
			p.changed.Broadcast()
			p.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	defer to.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		held := c.repl && (p.holdAcks || (!toMaster && p.holdData))
		switch {
		case p.closedDown:
			return
		case ended && held:
			return // the source died with data kept back: it is lost
		case !held && len(queue) > 0:
			chunk := queue[0]
			queue = queue[1:]
			p.mu.Unlock()
			_, err := to.Write(chunk)
			p.mu.Lock()
			if err != nil {
				return
			}
			continue
		case !held && ended:
			return
		}
		p.changed.Wait()
	}
}
