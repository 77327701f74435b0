package client

// beat runs every HeartbeatInterval of silence: when nothing was written for that long it
// sends a ping, and arms the check of its pong.
func (cn *conn) beat() {
	interval := cn.c.opts.HeartbeatInterval
	cn.mu.Lock()
	if cn.dead() {
		cn.mu.Unlock()
		return
	}
	idle := cn.c.opts.clock.Now().Sub(cn.lastWrite)
	if idle < interval {
		cn.heartbeat = cn.c.opts.clock.AfterFunc(interval-idle, cn.beat)
		cn.mu.Unlock()
		return
	}
	cn.mu.Unlock()
	cn.ping()
	cn.mu.Lock()
	defer cn.mu.Unlock()
	if !cn.dead() {
		cn.heartbeat = cn.c.opts.clock.AfterFunc(interval, cn.beat)
	}
}

// ping sends a ping and arms the check of its pong.
func (cn *conn) ping() {
	cn.mu.Lock()
	cn.pings++
	n := cn.pings
	cn.mu.Unlock()
	if err := cn.write(pingBody); err != nil {
		return
	}
	cn.mu.Lock()
	defer cn.mu.Unlock()
	if !cn.dead() {
		cn.pongCheck = cn.c.opts.clock.AfterFunc(cn.c.opts.PongTimeout, func() { cn.checkPong(n) })
	}
}

// probe pings unless a ping already awaits its pong: a request without answer may mean a
// connection the network silently dropped, which a busy client's heartbeat never tests.
func (cn *conn) probe() {
	cn.mu.Lock()
	waiting := cn.pongs < cn.pings
	cn.mu.Unlock()
	if !waiting {
		cn.ping()
	}
}

// checkPong runs PongTimeout after ping n: without its pong the connection is dead, unless
// the reader is still handing an earlier frame to the application (the pong may wait behind
// it), in which case it looks again later.
func (cn *conn) checkPong(n int) {
	cn.mu.Lock()
	if cn.dead() || cn.pongs >= n {
		cn.mu.Unlock()
		return
	}
	if cn.busy {
		cn.pongCheck = cn.c.opts.clock.AfterFunc(cn.c.opts.PongTimeout, func() { cn.checkPong(n) })
		cn.mu.Unlock()
		return
	}
	cn.mu.Unlock()
	cn.kill(errNoPong)
}

// gotPong counts a pong.
func (cn *conn) gotPong() {
	cn.mu.Lock()
	cn.pongs++
	cn.mu.Unlock()
}
