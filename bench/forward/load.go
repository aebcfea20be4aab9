package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// The load generator and the sink run as separate processes (this binary
// re-executed inside the client and server namespaces), so that their
// sockets need no namespace switching and their CPU shows as ordinary
// user processes.

// connTimeout bounds every step of one short connection.
const connTimeout = time.Second

// loadgenMain opens short connections to -addr from -workers goroutines
// for -duration and prints "<ok> <failed>".
func loadgenMain(args []string) int {
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	addr := fs.String("addr", "", "sink address")
	d := fs.Duration("duration", 5*time.Second, "how long to open connections")
	workers := fs.Int("workers", 16, "parallel connections")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	deadline := time.Now().Add(*d)
	var ok, failed atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < *workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				if shortConn(*addr) == nil {
					ok.Add(1)
				} else {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	fmt.Println(ok.Load(), failed.Load())
	return 0
}

// shortConn is one request: connect, one byte each way, and close with a
// reset (SO_LINGER 0), as load generators do, so that neither end keeps
// TIME_WAIT state and ports are not exhausted.
func shortConn(addr string) error {
	c, err := net.DialTimeout("tcp", addr, connTimeout)
	if err != nil {
		return err
	}
	tc := c.(*net.TCPConn)
	defer tc.Close()
	_ = tc.SetLinger(0)
	_ = tc.SetDeadline(time.Now().Add(connTimeout))
	var b [1]byte
	if _, err := tc.Write(b[:]); err != nil {
		return err
	}
	_, err = io.ReadFull(tc, b[:])
	return err
}

// sinkMain answers shortConn on -listen until it is killed. It prints
// "ready" once it listens.
func sinkMain(args []string) int {
	fs := flag.NewFlagSet("sink", flag.ContinueOnError)
	addr := fs.String("listen", "", "listen address")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sink:", err)
		return 1
	}
	fmt.Println("ready")
	for {
		c, err := ln.Accept()
		if err != nil {
			fmt.Fprintln(os.Stderr, "sink:", err)
			return 1
		}
		go answer(c)
	}
}

// answer echoes one byte and waits for the client's reset, so that the
// server side keeps no TIME_WAIT either.
func answer(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * connTimeout))
	var b [1]byte
	if _, err := io.ReadFull(c, b[:]); err != nil {
		return
	}
	if _, err := c.Write(b[:]); err != nil {
		return
	}
	_, _ = io.Copy(io.Discard, c)
}
