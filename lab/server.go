package lab

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"

	"rampart/internal/netns"
)

// Server is a TCP or UDP responder inside a namespace. It tells every
// client the address it sees ("peer 203.0.113.2:41234\n"), which is how a
// probe proves masquerade or a port forward, and then echoes.
type Server struct {
	// Addr is the address the server is bound to.
	Addr netip.AddrPort

	ln net.Listener   // TCP
	pc net.PacketConn // UDP

	mu     sync.Mutex
	peers  []netip.AddrPort
	conns  map[net.Conn]bool
	closed bool
	wg     sync.WaitGroup
}

// ServeTCP listens on addr ("[::]:80", "203.0.113.100:7000") inside ns.
// An unspecified address serves IPv4 and IPv6 alike.
func ServeTCP(ns *netns.NS, addr string) (*Server, error) {
	var ln net.Listener
	if err := ns.Do(func() error {
		var err error
		ln, err = net.Listen("tcp", addr)
		return err
	}); err != nil {
		return nil, fmt.Errorf("lab: serve tcp %s in %s: %w", addr, ns.Name, err)
	}
	s := &Server{Addr: addrPort(ln.Addr()), ln: ln, conns: map[net.Conn]bool{}}
	s.wg.Add(1)
	go s.acceptLoop()
	return s, nil
}

// ServeUDP answers datagrams on addr inside ns with the peer line followed
// by the datagram itself.
func ServeUDP(ns *netns.NS, addr string) (*Server, error) {
	var pc net.PacketConn
	if err := ns.Do(func() error {
		var err error
		pc, err = net.ListenPacket("udp", addr)
		return err
	}); err != nil {
		return nil, fmt.Errorf("lab: serve udp %s in %s: %w", addr, ns.Name, err)
	}
	s := &Server{Addr: addrPort(pc.LocalAddr()), pc: pc}
	s.wg.Add(1)
	go s.udpLoop()
	return s, nil
}

// Peers returns every client address the server has seen, in order.
func (s *Server) Peers() []netip.AddrPort {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]netip.AddrPort(nil), s.peers...)
}

// Close stops the server and closes its open connections.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	var err error
	if s.ln != nil {
		err = s.ln.Close()
	} else {
		err = s.pc.Close()
	}
	s.wg.Wait()
	return err
}

func (s *Server) acceptLoop() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return // closed; Accept on a listener has no other lasting error here
		}
		if !s.track(c) {
			c.Close()
			return
		}
		s.wg.Add(1)
		go s.serveConn(c)
	}
}

// track records a new connection, or says the server is closing.
func (s *Server) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[c] = true
	s.peers = append(s.peers, addrPort(c.RemoteAddr()))
	return true
}

func (s *Server) serveConn(c net.Conn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		c.Close()
	}()
	if _, err := io.WriteString(c, peerLine(c.RemoteAddr())); err != nil {
		return
	}
	_, _ = io.Copy(c, c) // echo until the client closes
}

func (s *Server) udpLoop() {
	defer s.wg.Done()
	buf := make([]byte, 2048)
	for {
		n, from, err := s.pc.ReadFrom(buf)
		if err != nil {
			return // closed: an unconnected socket reports no ICMP errors
		}
		s.mu.Lock()
		s.peers = append(s.peers, addrPort(from))
		s.mu.Unlock()
		reply := append([]byte(peerLine(from)), buf[:n]...)
		_, _ = s.pc.WriteTo(reply, from)
	}
}
