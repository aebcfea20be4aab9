package statesync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"

	"rampart/config"
	"rampart/statesync/ctnl"
)

// Config configures a Node: everything the daemon knows from the config
// file and the interfaces.
type Config struct {
	// Local is this node's address on the sync link: the receiver
	// listens on it and the sender dials from it. Peer is the peer's.
	Local, Peer netip.Addr
	// Port is the TCP port of both receivers (config.DefaultStateSyncPort).
	Port uint16
	// Identity authenticates the two nodes: DeriveIdentity from the
	// shared secret, or pinned keys.
	Identity Identity
	Filter   Filter
	// NetNS is the network namespace whose conntrack table is synced and
	// committed; 0 for the caller's own. The sync link's sockets are
	// opened by Listener and Dial, not here.
	NetNS int
	// Listener, if set, is used instead of listening on Local:Port.
	Listener net.Listener
	// Dial, if set, opens the connection to the peer instead of a
	// net.Dialer bound to Local.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// StrictTCP leaves the per-entry be liberal flag off on commit. By
	// default it is set on TCP entries, as conntrackd does, so that a
	// recovered connection is never judged on window data the new
	// master did not see.
	StrictTCP bool
	Logger    *slog.Logger
	Clock     Clock
	Tuning    Tuning
	// EventBuffer is the conntrack event socket's receive buffer; 0
	// means DefaultEventBuffer.
	EventBuffer int
	// OnRequest answers the peer's requests (Node.Request on its side);
	// nil refuses them.
	OnRequest RequestHandler
}

// Node is state sync on one firewall: it streams its own table to the
// peer (Source and Sender) and keeps the peer's in a cache (Receiver).
// Both nodes run the same: the backup's stream is nearly empty, and after
// a failover the roles reverse without a reconnect.
type Node struct {
	cfg Config
	src *Source
	snd *Sender
	rcv *Receiver
	ln  net.Listener

	// handover serialises BeforeMaster and AfterMaster; masterGen counts
	// BeforeMaster calls, so that a purge sees a takeover that started
	// while it ran.
	handover  sync.Mutex
	masterGen atomic.Uint64

	mu        sync.Mutex
	lastPurge *PurgeResult
}

// NewNode opens the conntrack sockets and the listener. Run starts it.
func NewNode(cfg Config) (*Node, error) {
	if !cfg.Local.IsValid() || !cfg.Peer.IsValid() || cfg.Port == 0 {
		return nil, errors.New("statesync: node: local address, peer address and port are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = SystemClock{}
	}
	cfg.Tuning = cfg.Tuning.withDefaults()
	port := strconv.Itoa(int(cfg.Port))
	if cfg.Dial == nil {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: cfg.Local.AsSlice()}}
		cfg.Dial = d.DialContext
	}
	rcv, err := NewReceiver(ReceiverConfig{Identity: cfg.Identity, Logger: cfg.Logger, Clock: cfg.Clock, Tuning: cfg.Tuning,
		OnRequest: cfg.OnRequest})
	if err != nil {
		return nil, err
	}
	src, err := NewSource(SourceConfig{NetNS: cfg.NetNS, ReadBuffer: cfg.EventBuffer, Filter: cfg.Filter,
		Logger: cfg.Logger, Clock: cfg.Clock, Backoff: cfg.Tuning.Backoff})
	if err != nil {
		return nil, err
	}
	snd, err := NewSender(SenderConfig{Peer: net.JoinHostPort(cfg.Peer.String(), port), Identity: cfg.Identity,
		Snapshot: src.Snapshot, Dial: cfg.Dial, Logger: cfg.Logger, Clock: cfg.Clock, Tuning: cfg.Tuning})
	if err != nil {
		src.Close()
		return nil, err
	}
	ln := cfg.Listener
	if ln == nil {
		if ln, err = net.Listen("tcp", net.JoinHostPort(cfg.Local.String(), port)); err != nil {
			src.Close()
			return nil, fmt.Errorf("statesync: node: %w", err)
		}
	}
	return &Node{cfg: cfg, src: src, snd: snd, rcv: rcv, ln: ln}, nil
}

// Run runs the source, the sender and the receiver until ctx ends, then
// closes the sockets.
func (n *Node) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i, run := range []func(context.Context) error{
		func(ctx context.Context) error { return n.src.Run(ctx, n.snd) },
		n.snd.Run,
		func(ctx context.Context) error { return n.rcv.Serve(ctx, n.ln) },
	} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if errs[i] = run(ctx); errs[i] != nil {
				cancel() // one part failing stops the node: the daemon restarts it
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// BeforeMaster commits the cache of the peer's flows to the kernel. The
// carp driver calls it from its state-change hook on becoming master,
// before it adds the VIPs and sends gratuitous ARP, so that no packet of
// a recovered connection arrives before its entry. Refused entries are
// counted in the status, not returned; the error is for a commit that
// could not run or finish. The caller bounds it with ctx.
func (n *Node) BeforeMaster(ctx context.Context) error {
	return n.commit(ctx, true)
}

// AlsoMaster is BeforeMaster for a node that is master of another group
// already (active-active: it takes over the failed peer's groups too).
// Its table holds live entries of the flows it forwards; the commit adds
// the peer's flows and leaves every entry that exists alone (counted as
// EEXIST), so that cached state never goes over live state.
func (n *Node) AlsoMaster(ctx context.Context) error {
	return n.commit(ctx, false)
}

func (n *Node) commit(ctx context.Context, replace bool) error {
	n.masterGen.Add(1)
	n.handover.Lock()
	defer n.handover.Unlock()
	c, err := ctnl.Dial(ctnl.Config{NetNS: n.cfg.NetNS})
	if err != nil {
		return fmt.Errorf("statesync: before master: %w", err)
	}
	defer c.Close()
	_, err = n.rcv.Commit(ctx, c, ctnl.CreateOptions{Liberal: !n.cfg.StrictTCP, Replace: replace})
	return err
}

// Request asks the peer over the sync link and waits for its answer:
// see RequestConfig. It fails with ErrNoSession while no session is up.
func (n *Node) Request(ctx context.Context, kind uint8, body []byte) ([]byte, error) {
	return n.snd.Request(ctx, kind, body)
}

// PeerConnected reports whether a session to the peer is up.
func (n *Node) PeerConnected() bool { return n.snd.Connected() }

// BulkDone is closed when the peer's first bulk update is in, or when
// waiting for it timed out with an alarm. The boot hold-down of CARP
// (Demote{boot}) ends on it.
func (n *Node) BulkDone() <-chan struct{} { return n.rcv.BulkDone() }

// SetFilter replaces the filter, for address changes.
func (n *Node) SetFilter(f Filter) { n.src.SetFilter(f) }

// Status returns the node's status for the UI and the metrics.
func (n *Node) Status() Status {
	n.mu.Lock()
	var purge *PurgeResult
	if n.lastPurge != nil {
		p := *n.lastPurge
		purge = &p
	}
	n.mu.Unlock()
	return Status{Source: n.src.Status(), Sender: n.snd.Status(), Receiver: n.rcv.Status(), LastPurge: purge}
}

// SecretFromConfig returns the shared secret of a statesync section: the
// secret's bytes, or the key file's bytes verbatim (as carp reads its
// key files). readFile is os.ReadFile in the daemon.
func SecretFromConfig(c *config.StateSync, readFile func(string) ([]byte, error)) ([]byte, error) {
	switch {
	case c.Secret != "" && c.KeyFile != "":
		return nil, errors.New("statesync: both a secret and a key file")
	case c.Secret != "":
		return []byte(c.Secret), nil
	case c.KeyFile == "":
		return nil, errors.New("statesync: no secret and no key file")
	}
	b, err := readFile(c.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("statesync: read key file: %w", err)
	}
	if len(b) == 0 {
		return nil, fmt.Errorf("statesync: key file %s is empty", c.KeyFile)
	}
	return b, nil
}
