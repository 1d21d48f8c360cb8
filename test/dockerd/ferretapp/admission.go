package main

import (
	"context"
	"encoding/binary"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
)

// admit serves addr in front of FerretDB (listening on the Unix socket
// sock), letting at most max writes in at once: FerretDB 1.24's SQLite
// backend holds a pooled connection for an update's query while it asks
// its pool (100 connections) for another to write, so about 100 updates
// at once wait for each other forever. A write is admitted when the first
// bytes of its request arrive and leaves when the first bytes of its reply
// do; an idle connection holds nothing. (MongoDB clients send one request
// at a time on a connection and wait for its reply.) Other commands pass:
// a read takes one pooled connection and gives it back (an open cursor
// keeps its own until drained), and holding back a cursor's getMore, or a
// new connection's handshake, behind writes that wait for the pool would
// wedge it all over again.
func admit(ctx context.Context, addr, sock string, max int, log *slog.Logger) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	go func() { <-ctx.Done(); l.Close() }()
	sem := make(chan struct{}, max)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		c, err := l.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := pipe(ctx, c, sock, sem); err != nil {
				log.Warn("admission proxy", "error", err)
			}
		}()
	}
}

// pipe carries one client connection to FerretDB and back.
func pipe(ctx context.Context, c net.Conn, sock string, sem chan struct{}) error {
	defer c.Close()
	var d net.Dialer
	s, err := d.DialContext(ctx, "unix", sock)
	if err != nil {
		return err
	}
	defer s.Close()
	stop := context.AfterFunc(ctx, func() { c.Close(); s.Close() })
	defer stop()
	var holding atomic.Bool
	release := func() {
		if holding.CompareAndSwap(true, false) {
			<-sem
		}
	}
	defer release()
	go func() {
		buf := make([]byte, 64<<10)
		for {
			n, err := c.Read(buf)
			if n > 0 {
				if !holding.Load() && isWrite(buf[:n]) && holding.CompareAndSwap(false, true) {
					select {
					case sem <- struct{}{}:
					case <-ctx.Done():
						holding.Store(false)
						return
					}
				}
				if _, werr := s.Write(buf[:n]); werr != nil {
					err = werr
				}
			}
			if err != nil {
				s.Close() // ends the reply side too
				return
			}
		}
	}()
	buf := make([]byte, 64<<10)
	for {
		n, err := s.Read(buf)
		if n > 0 {
			release()
			if _, werr := c.Write(buf[:n]); werr != nil {
				return nil // the client went away
			}
		}
		if err != nil {
			return nil
		}
	}
}

// opMsg is the MongoDB wire protocol's OP_MSG opcode.
const opMsg = 2013

// isWrite reports whether the request that begins with b is an OP_MSG
// whose command (its body's first key) writes: insert, update, delete or
// findAndModify.
func isWrite(b []byte) bool {
	// header (16 bytes: length, id, response to, opcode), flag bits (4),
	// section kind 0 (1), the body's length (4), its first element's type
	// (1) and name.
	const name = 16 + 4 + 1 + 4 + 1
	if len(b) < name || binary.LittleEndian.Uint32(b[12:16]) != opMsg || b[20] != 0 {
		return false
	}
	rest := b[name:]
	for _, cmd := range []string{"insert", "update", "delete", "findAndModify"} {
		if len(rest) > len(cmd) && string(rest[:len(cmd)]) == cmd && rest[len(cmd)] == 0 {
			return true
		}
	}
	return false
}
