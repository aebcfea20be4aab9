package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"text/template"
	"time"

	"rampart/internal/netns"
	"rampart/statesync"
	"rampart/statesync/ctnl"
)

// The state sync tests run two daemons with statesync enabled and strict
// conntrack (nf_conntrack_tcp_be_liberal=0, nf_conntrack_tcp_loose=0, ct
// state invalid dropped), so that a TCP segment of a connection the new
// master has no entry for is dropped: a connection survives a failover
// only through the entries state sync committed.

// Ports of the state sync tests: the server echoes TCP and UDP; the port
// forwards on the LAN send the client's connections to them.
const (
	syncTCPPort    = 9100
	syncTCPForward = 9200
	syncUDPPort    = 9300
	syncUDPForward = 9400
)

// clientSNAT is a second client address whose traffic fw SNATs to the WAN
// VIP.
var clientSNAT = netip.MustParseAddr("192.168.1.101")

// syncPurge is the firewalls' statesync.purge_timeout: short, so that
// the tests see a former master's entries of ended flows expire.
const syncPurge = 5 * time.Second

// strictConntrack are the sysctls of the test's firewalls.
var strictConntrack = map[string]string{
	"net/netfilter/nf_conntrack_tcp_be_liberal": "0",
	"net/netfilter/nf_conntrack_tcp_loose":      "0",
}

// upSync is upHA with the state sync config and the client's SNAT address.
func upSync(t *testing.T) *haLab {
	t.Helper()
	h := upHA(t, haDefaults())
	for i := range 2 {
		if err := os.WriteFile(h.cfg[i], renderSync(t, haDefaults(), i), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := ipBatch(context.Background(), h.Client.Name, []string{"addr add " + clientSNAT.String() + "/24 dev eth0"}); err != nil {
		t.Fatal(err)
	}
	return h
}

func renderSync(t *testing.T, s haSettings, i int) []byte {
	t.Helper()
	return renderSyncSecret(t, s, i, "lab-sync-secret-change-me")
}

func renderSyncSecret(t *testing.T, s haSettings, i int, secret string) []byte {
	t.Helper()
	tmpl, err := template.ParseFiles(filepath.Join("testdata", "ha", "sync.yaml.tmpl"))
	if err != nil {
		t.Fatal(err)
	}
	data := map[string]any{
		"Node": string(rune('a' + i)), "Host": 2 + i, "Sync": 1 + i, "PeerSync": 2 - i,
		"Window": s.Window, "Priority": s.Priority[i], "AdvBase": s.AdvBase, "Preempt": s.Preempt,
		"SNATSource": clientSNAT, "TCPPort": syncTCPPort, "TCPForward": syncTCPForward,
		"UDPPort": syncUDPPort, "UDPForward": syncUDPForward, "Secret": secret, "Purge": syncPurge,
	}
	var b bytes.Buffer
	if err := tmpl.Execute(&b, data); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// startSyncPair starts both nodes at once (each holds its boot demotion
// until the other's bulk update is in), makes conntrack strict, and waits
// until fw-a alone holds the VIPs.
func (h *haLab) startSyncPair() {
	h.t.Helper()
	h.start(0)
	h.start(1)
	for i := range 2 {
		h.waitLog(i, 0, "bulk update received", 30*time.Second)
		if err := SetSysctls(h.FW[i], strictConntrack); err != nil {
			h.t.Fatal(err)
		}
	}
	h.waitLog(0, 0, "to=master", 30*time.Second)
	h.waitSingleHolder(0, 30*time.Second)
}

// echoServer echoes TCP and UDP inside a namespace.
type echoServer struct {
	ln    net.Listener
	uc    net.PacketConn
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns []net.Conn
}

func startEcho(t *testing.T, ns *netns.NS) *echoServer {
	t.Helper()
	s := &echoServer{}
	if err := ns.Do(func() error {
		var err error
		if s.ln, err = net.Listen("tcp", fmt.Sprintf(":%d", syncTCPPort)); err != nil {
			return err
		}
		s.uc, err = net.ListenPacket("udp", fmt.Sprintf(":%d", syncUDPPort))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	s.wg.Add(2)
	go s.accept()
	go s.udp()
	t.Cleanup(s.close)
	return s
}

func (s *echoServer) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns = append(s.conns, c)
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			_, _ = io.Copy(c, c)
			_ = c.(*net.TCPConn).CloseWrite()
		}()
	}
}

func (s *echoServer) udp() {
	defer s.wg.Done()
	buf := make([]byte, 2048)
	for {
		n, from, err := s.uc.ReadFrom(buf)
		if err != nil {
			return
		}
		_, _ = s.uc.WriteTo(buf[:n], from)
	}
}

func (s *echoServer) close() {
	s.ln.Close()
	s.uc.Close()
	s.mu.Lock()
	for _, c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// flowKind is how a flow crosses the firewall.
type flowKind int

const (
	kindPlain flowKind = iota
	kindSNAT
	kindDNAT
	kindV6 // plain, over IPv6
)

func (k flowKind) String() string { return [...]string{"plain", "snat", "dnat", "plain-v6"}[k] }

// kindOf spreads flows: half plain (a quarter of those over IPv6), a
// quarter SNAT, a quarter DNAT.
func kindOf(i int) flowKind {
	switch i % 8 {
	case 0, 1, 2:
		return kindPlain
	case 3:
		return kindV6
	case 4, 5:
		return kindSNAT
	}
	return kindDNAT
}

// endpoints returns the client's source and the destination of a kind.
func endpoints(k flowKind, tcp bool) (netip.Addr, netip.AddrPort) {
	port, fwd := uint16(syncTCPPort), uint16(syncTCPForward)
	if !tcp {
		port, fwd = syncUDPPort, syncUDPForward
	}
	switch k {
	case kindSNAT:
		return clientSNAT, netip.AddrPortFrom(ServerV4, port)
	case kindDNAT:
		return ClientV4, netip.AddrPortFrom(ServerV4, fwd)
	case kindV6:
		return ClientV6, netip.AddrPortFrom(ServerV6, port)
	}
	return ClientV4, netip.AddrPortFrom(ServerV4, port)
}

// Bounds of a TCP flow's exchanges: one may wait for a failover and the
// retransmissions after it.
const (
	syncOpTimeout = 20 * time.Second
	syncInterval  = 200 * time.Millisecond
	syncMaxChunk  = 8 << 10
)

// tcpFlow is one long-lived connection that sends chunks of random bytes
// of random sizes and checks the echo of each.
type tcpFlow struct {
	id     int
	kind   flowKind
	c      *net.TCPConn
	rounds atomic.Int64
	bytes  int64
	err    error
}

func dialFlow(ns *netns.NS, id int, k flowKind) (*tcpFlow, error) {
	src, dst := endpoints(k, true)
	var c net.Conn
	err := ns.Do(func() error {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: src.AsSlice()}, Timeout: 5 * time.Second}
		var err error
		c, err = d.Dial("tcp", dst.String())
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("flow %d (%s): dial %s: %w", id, k, dst, err)
	}
	return &tcpFlow{id: id, kind: k, c: c.(*net.TCPConn)}, nil
}

// run exchanges chunks until stop is closed, then half-closes and waits
// for the server's end: the connection completes, FIN and all.
func (f *tcpFlow) run(stop <-chan struct{}) {
	defer f.c.Close()
	rng := rand.New(rand.NewPCG(uint64(f.id), 7))
	out, in := make([]byte, syncMaxChunk), make([]byte, syncMaxChunk)
	wait := time.Duration(rng.Int64N(int64(syncInterval))) // spread the flows
	for {
		select {
		case <-stop:
			f.err = f.finish()
			return
		case <-time.After(wait):
		}
		wait = syncInterval/2 + time.Duration(rng.Int64N(int64(syncInterval)))
		n := 1 + rng.IntN(syncMaxChunk)
		for i := range out[:n] {
			out[i] = byte(rng.Uint32())
		}
		if err := f.exchange(out[:n], in[:n]); err != nil {
			f.err = fmt.Errorf("flow %d (%s, %s): round %d: %w", f.id, f.kind, f.c.LocalAddr(), f.rounds.Load(), err)
			return
		}
		f.bytes += int64(n)
		f.rounds.Add(1)
	}
}

func (f *tcpFlow) exchange(out, in []byte) error {
	if err := f.c.SetDeadline(time.Now().Add(syncOpTimeout)); err != nil {
		return err
	}
	if _, err := f.c.Write(out); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if _, err := io.ReadFull(f.c, in); err != nil {
		return fmt.Errorf("read: %w", err)
	}
	if !bytes.Equal(out, in) {
		return errors.New("the echo differs from what was sent")
	}
	return nil
}

func (f *tcpFlow) finish() error {
	if err := f.c.SetDeadline(time.Now().Add(syncOpTimeout)); err != nil {
		return err
	}
	if err := f.c.CloseWrite(); err != nil {
		return fmt.Errorf("flow %d (%s): close: %w", f.id, f.kind, err)
	}
	rest, err := io.ReadAll(f.c)
	if err != nil || len(rest) > 0 {
		return fmt.Errorf("flow %d (%s): end: %d stray bytes, %v", f.id, f.kind, len(rest), err)
	}
	return nil
}

// udpFlow sends a numbered datagram every interval and counts echoes.
type udpFlow struct {
	id   int
	kind flowKind
	c    net.Conn
	got  atomic.Int64
	bad  atomic.Int64
}

func dialUDP(ns *netns.NS, id int, k flowKind) (*udpFlow, error) {
	src, dst := endpoints(k, false)
	var c net.Conn
	err := ns.Do(func() error {
		d := net.Dialer{LocalAddr: &net.UDPAddr{IP: src.AsSlice()}}
		var err error
		c, err = d.Dial("udp", dst.String())
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("udp flow %d (%s): %w", id, k, err)
	}
	return &udpFlow{id: id, kind: k, c: c}, nil
}

func (f *udpFlow) run(stop <-chan struct{}, wg *sync.WaitGroup) {
	wg.Add(2)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for seq := 0; ; seq++ {
			_, _ = fmt.Fprintf(f.c, "flow %d seq %d", f.id, seq)
			select {
			case <-stop:
				_ = f.c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
				return
			case <-tick.C:
			}
		}
	}()
	go func() {
		defer wg.Done()
		defer f.c.Close()
		buf := make([]byte, 256)
		want := fmt.Sprintf("flow %d seq ", f.id)
		for {
			n, err := f.c.Read(buf)
			if err != nil {
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					return
				}
				select {
				case <-stop:
					return
				default:
					time.Sleep(5 * time.Millisecond) // ICMP errors while no node holds the VIPs
					continue
				}
			}
			if strings.HasPrefix(string(buf[:n]), want) {
				f.got.Add(1)
			} else {
				f.bad.Add(1)
			}
		}
	}()
}

// traffic is the test's mix of flows.
type traffic struct {
	tcp  []*tcpFlow
	udp  []*udpFlow
	stop chan struct{}
	wg   sync.WaitGroup
}

// startTraffic opens nTCP connections and nUDP flows from the client and
// waits until every TCP flow has had two rounds.
func startTraffic(t *testing.T, h *haLab, nTCP, nUDP int) *traffic {
	t.Helper()
	tr := &traffic{stop: make(chan struct{}), tcp: make([]*tcpFlow, nTCP)}
	var dialWG sync.WaitGroup
	errs := make(chan error, nTCP)
	next := atomic.Int64{}
	for range 8 {
		dialWG.Add(1)
		go func() {
			defer dialWG.Done()
			for i := int(next.Add(1) - 1); i < nTCP; i = int(next.Add(1) - 1) {
				f, err := dialFlow(h.Client, i, kindOf(i))
				if err != nil {
					errs <- err
					continue
				}
				tr.tcp[i] = f
			}
		}()
	}
	dialWG.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, f := range tr.tcp {
		if f == nil {
			continue
		}
		tr.wg.Add(1)
		go func() {
			defer tr.wg.Done()
			f.run(tr.stop)
		}()
	}
	t.Cleanup(tr.halt)
	if t.Failed() {
		t.FailNow()
	}
	for i := range nUDP {
		f, err := dialUDP(h.Client, i, kindOf(i))
		if err != nil {
			t.Fatal(err)
		}
		tr.udp = append(tr.udp, f)
		f.run(tr.stop, &tr.wg)
	}
	tr.waitRounds(t, make([]int64, nTCP), make([]int64, nUDP), 2, 30*time.Second)
	return tr
}

func (tr *traffic) rounds() (tcp, udp []int64) {
	for _, f := range tr.tcp {
		tcp = append(tcp, f.rounds.Load())
	}
	for _, f := range tr.udp {
		udp = append(udp, f.got.Load())
	}
	return tcp, udp
}

// waitRounds waits until every TCP flow has had more rounds than base,
// and every UDP flow more echoes, or one TCP flow failed.
func (tr *traffic) waitRounds(t *testing.T, baseTCP, baseUDP []int64, more int64, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		tcp, udp := tr.rounds()
		behind := 0
		for i, n := range tcp {
			if n < baseTCP[i]+more {
				behind++
			}
		}
		for i, n := range udp {
			if n < baseUDP[i]+more {
				behind++
			}
		}
		if behind == 0 {
			return
		}
		if time.Now().After(deadline) {
			tr.halt()
			tr.report(t)
			t.Fatalf("%d flows had no %d more rounds within %v", behind, more, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// halt stops every flow and waits for them; each TCP flow completes its
// close first.
func (tr *traffic) halt() {
	select {
	case <-tr.stop:
	default:
		close(tr.stop)
	}
	tr.wg.Wait()
}

// report fails the test for every broken flow, and logs the totals.
func (tr *traffic) report(t *testing.T) {
	t.Helper()
	var total int64
	failed := map[flowKind]int{}
	shown := 0
	for _, f := range tr.tcp {
		total += f.bytes
		if f.err != nil {
			failed[f.kind]++
			if shown++; shown <= 10 {
				t.Error(f.err)
			}
		}
	}
	if len(failed) > 0 {
		broke := 0
		for _, n := range failed {
			broke += n
		}
		t.Errorf("%d of %d TCP flows broke, by kind: %v", broke, len(tr.tcp), failed)
	}
	for _, f := range tr.udp {
		if f.bad.Load() > 0 {
			t.Errorf("udp flow %d (%s): %d wrong echoes", f.id, f.kind, f.bad.Load())
		}
	}
	t.Logf("%d TCP flows, %d bytes echoed and verified; %d UDP flows", len(tr.tcp), total, len(tr.udp))
}

// syncFlows is the number of long-lived TCP connections of the tests.
const (
	syncFlows    = 1000
	syncUDPFlows = 24
)

// TestSyncFailoverLinksCut: 1,000 long-lived TCP connections (half
// forwarded, a quarter SNAT'd to the WAN VIP, a quarter through a DNAT
// port forward) and UDP flows run through fw-a; its links are cut
// mid-transfer; fw-b commits the synced entries before it takes the VIPs,
// and every connection goes on and completes with its bytes verified.
func TestSyncFailoverLinksCut(t *testing.T) {
	h := upSync(t)
	h.startSyncPair()
	startEcho(t, h.Server)
	tr := startTraffic(t, h, syncFlows, syncUDPFlows)
	// The flows' entries reach fw-b within milliseconds (the sender
	// flushes every 5ms); give the stream a moment under load.
	time.Sleep(time.Second)

	mark := h.node[1].Mark()
	h.setLinks(0, false, linkSync, linkLAN, linkWAN)
	h.waitLog(1, mark, "to=master", 10*time.Second)
	checkCommit(t, h.waitLog(1, mark, "cache committed", 10*time.Second), syncFlows)
	tcp, udp := tr.rounds()
	tr.waitRounds(t, tcp, udp, 3, 60*time.Second)
	tr.halt()
	tr.report(t)
}

// checkCommit checks the new master's commit log line: at least min
// entries, all of them taken by the kernel.
func checkCommit(t *testing.T, line string, least int) {
	t.Helper()
	t.Log(line)
	var entries, committed int
	for _, f := range strings.Fields(line) {
		if v, ok := strings.CutPrefix(f, "entries="); ok {
			_, _ = fmt.Sscan(v, &entries)
		}
		if v, ok := strings.CutPrefix(f, "committed="); ok {
			_, _ = fmt.Sscan(v, &committed)
		}
	}
	if entries < least || committed != entries || !strings.Contains(line, "refused=map[]") {
		t.Errorf("commit of %d entries, %d committed; want at least %d, all committed, none refused", entries, committed, least)
	}
}

// TestSyncBackupRestart: the backup's daemon restarts and its conntrack
// table is flushed, so all it knows comes from the bulk update the master
// sends when the session comes back; then the master's links are cut and
// the flows survive on that alone.
func TestSyncBackupRestart(t *testing.T) {
	h := upSync(t)
	h.startSyncPair()
	startEcho(t, h.Server)
	tr := startTraffic(t, h, 400, 8)

	if err := h.node[1].Stop(); err != nil {
		t.Fatal(err)
	}
	flushConntrack(t, h.FW[1])
	h.start(1)
	t.Log(h.waitLog(1, 0, "bulk update received", 30*time.Second))
	tcp, udp := tr.rounds()
	tr.waitRounds(t, tcp, udp, 2, 30*time.Second) // changes since the bulk reach fw-b too

	mark := h.node[1].Mark()
	h.setLinks(0, false, linkSync, linkLAN, linkWAN)
	h.waitLog(1, mark, "to=master", 10*time.Second)
	checkCommit(t, h.waitLog(1, mark, "cache committed", 10*time.Second), 400)
	tcp, udp = tr.rounds()
	tr.waitRounds(t, tcp, udp, 3, 60*time.Second)
	tr.halt()
	tr.report(t)
}

func flushConntrack(t *testing.T, ns *netns.NS) {
	t.Helper()
	c, err := ctnl.Dial(ctnl.Config{NetNS: ns.Fd()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
}

// forgedFlow is what a forger tries to plant in the backup's table.
var forgedFlow = ctnl.Entry{
	Orig:    ctnl.Tuple{Src: netip.MustParseAddr("198.51.100.66"), Dst: ServerV4, Proto: 17, SrcPort: 6666, DstPort: 53},
	Reply:   ctnl.Tuple{Src: ServerV4, Dst: netip.MustParseAddr("198.51.100.66"), Proto: 17, SrcPort: 53, DstPort: 6666},
	Status:  ctnl.StatusConfirmed,
	Timeout: 600,
}

// forge runs a state sync sender with the wrong secret from inside ns,
// from the address src, against fw-b's receiver, for a while.
func forge(t *testing.T, ns *netns.NS, src netip.Addr) {
	t.Helper()
	peer := netip.MustParseAddr("192.168.255.2")
	id, err := statesync.DeriveIdentity([]byte("not-the-lab-sync-secret"), src, peer)
	if err != nil {
		t.Fatal(err)
	}
	s, err := statesync.NewSender(statesync.SenderConfig{
		Peer: netip.AddrPortFrom(peer, 7547).String(), Identity: id,
		Snapshot: func(context.Context) ([]ctnl.Entry, error) { return []ctnl.Entry{forgedFlow}, nil },
		Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			var c net.Conn
			err := ns.Do(func() error {
				d := net.Dialer{LocalAddr: &net.TCPAddr{IP: src.AsSlice()}, Timeout: time.Second}
				var err error
				c, err = d.DialContext(ctx, network, addr)
				return err
			})
			return c, err
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_ = s.Run(ctx)
	st := s.Status()
	if st.PeerConnected || st.EntriesSent > 0 {
		t.Errorf("forger from %s: %+v; want no session", src, st)
	}
	t.Logf("forger from %s in %s: auth failures %d, last error %q", src, ns.Name, st.AuthFailures, st.LastError)
}

// TestSyncForgedRejected: sync traffic forged from other namespaces is
// rejected: from the client (the firewall takes sync only from the peer's
// address on the sync link) and from the peer's own address with the
// wrong secret (TLS refuses the key). The real session goes on, and after
// a failover the forged flow is not in the new master's table while the
// real ones survive.
func TestSyncForgedRejected(t *testing.T) {
	h := upSync(t)
	h.startSyncPair()
	startEcho(t, h.Server)
	tr := startTraffic(t, h, 100, 4)

	mark := h.node[1].Mark()
	forge(t, h.Client, ClientV4)
	forge(t, h.FW[0], netip.MustParseAddr("192.168.255.1"))
	if lines := h.logSince(1, mark, "peer authentication failed"); len(lines) == 0 {
		t.Errorf("fw-b logged no authentication failure:\n%s", h.node[1].Tail(20))
	}
	if lines := h.logSince(1, mark, "peer connected"); len(lines) > 0 {
		t.Errorf("fw-b accepted a session: %q", lines)
	}
	tcp, udp := tr.rounds()
	tr.waitRounds(t, tcp, udp, 2, 30*time.Second)

	mark = h.node[1].Mark()
	h.setLinks(0, false, linkSync, linkLAN, linkWAN)
	h.waitLog(1, mark, "to=master", 10*time.Second)
	h.waitLog(1, mark, "cache committed", 10*time.Second)
	tcp, udp = tr.rounds()
	tr.waitRounds(t, tcp, udp, 3, 60*time.Second)
	tr.halt()
	tr.report(t)

	c, err := ctnl.Dial(ctnl.Config{NetNS: h.FW[1].Fd()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	table, err := c.Dump()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range table {
		if e.Orig.Src == forgedFlow.Orig.Src {
			t.Errorf("the forged flow is in fw-b's table: %+v", e)
		}
	}
}

// TestSyncReload: a reload that changes the shared secret restarts state
// sync on both nodes; the new sessions send fresh bulk updates, and the
// flows survive a failover after it.
func TestSyncReload(t *testing.T) {
	h := upSync(t)
	h.startSyncPair()
	startEcho(t, h.Server)
	tr := startTraffic(t, h, 200, 4)

	var marks [2]int
	for i := range 2 {
		if err := os.WriteFile(h.cfg[i], renderSyncSecret(t, haDefaults(), i, "another-lab-sync-secret"), 0o644); err != nil {
			t.Fatal(err)
		}
		marks[i] = h.node[i].Mark()
		if err := h.node[i].Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 2 {
		h.waitLog(i, marks[i], "restarting state sync", 10*time.Second)
		h.waitLog(i, marks[i], "bulk update received", 30*time.Second)
	}
	tcp, udp := tr.rounds()
	tr.waitRounds(t, tcp, udp, 2, 30*time.Second)

	mark := h.node[1].Mark()
	h.setLinks(0, false, linkSync, linkLAN, linkWAN)
	h.waitLog(1, mark, "to=master", 10*time.Second)
	checkCommit(t, h.waitLog(1, mark, "cache committed", 10*time.Second), 200)
	tcp, udp = tr.rounds()
	tr.waitRounds(t, tcp, udp, 3, 60*time.Second)
	tr.halt()
	tr.report(t)
}
