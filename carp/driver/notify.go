package driver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"time"

	"rampart/config"
)

// Notification limits. A notify command or webhook that hangs must not
// hold back the next transition's for long, and a storm of transitions
// must not pile up without bound.
const (
	notifyTimeout  = 30 * time.Second
	webhookTimeout = 5 * time.Second
	notifyQueue    = 32
)

// notifier runs ha.notify's command and webhook for each transition, in
// order, on its own goroutine.
type notifier struct {
	mu     sync.Mutex // enqueue against close
	closed bool
	cfg    config.Notify
	log    *slog.Logger
	q      chan Transition
	done   chan struct{}
	ctx    context.Context
	stop   context.CancelFunc
	http   *http.Client
}

func newNotifier(cfg config.Notify, log *slog.Logger) *notifier {
	if cfg.Command == "" && cfg.Webhook == "" {
		return nil
	}
	ctx, stop := context.WithCancel(context.Background())
	n := &notifier{cfg: cfg, log: log, q: make(chan Transition, notifyQueue), done: make(chan struct{}),
		ctx: ctx, stop: stop, http: &http.Client{Timeout: webhookTimeout}}
	go n.run()
	return n
}

func (n *notifier) enqueue(t Transition) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return
	}
	select {
	case n.q <- t:
	default:
		n.log.Warn("carp: notify queue full; transition not notified", "group", t.Group, "to", t.To.String())
	}
}

// close lets queued notifications finish (each within its timeout).
func (n *notifier) close() {
	n.mu.Lock()
	if !n.closed {
		n.closed = true
		close(n.q)
	}
	n.mu.Unlock()
	<-n.done
	n.stop()
}

func (n *notifier) run() {
	defer close(n.done)
	for t := range n.q {
		if n.cfg.Command != "" {
			if err := n.command(t); err != nil {
				n.log.Error("carp: notify command failed", "group", t.Group, "to", t.To.String(), "err", err)
			}
		}
		if n.cfg.Webhook != "" {
			if err := n.webhook(t); err != nil {
				n.log.Error("carp: notify webhook failed", "group", t.Group, "to", t.To.String(), "err", err)
			}
		}
	}
}

// command runs the notify command with sh -c. The transition is in the
// environment, so a script needs no argument parsing:
// RAMPART_GROUP, RAMPART_FROM, RAMPART_TO, RAMPART_REASON, RAMPART_NODE.
func (n *notifier) command(t Transition) error {
	ctx, cancel := context.WithTimeout(n.ctx, notifyTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", n.cfg.Command)
	cmd.Env = append(os.Environ(),
		"RAMPART_GROUP="+strconv.Itoa(int(t.Group)),
		"RAMPART_FROM="+t.From.String(),
		"RAMPART_TO="+t.To.String(),
		"RAMPART_REASON="+t.Reason.String(),
		"RAMPART_NODE="+t.Node,
	)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := startOrdinary(cmd)
	if err == nil {
		err = cmd.Wait()
	}
	if err != nil {
		return fmt.Errorf("%w: %s", err, bytes.TrimSpace(out.Bytes()))
	}
	return nil
}

// webhookBody is what the webhook receives, as JSON.
type webhookBody struct {
	Node   string    `json:"node"`
	Group  uint8     `json:"group"`
	From   string    `json:"from"`
	To     string    `json:"to"`
	Reason string    `json:"reason"`
	Time   time.Time `json:"time"`
}

func (n *notifier) webhook(t Transition) error {
	body, err := json.Marshal(webhookBody{Node: t.Node, Group: t.Group, From: t.From.String(), To: t.To.String(), Reason: t.Reason.String(), Time: t.At.UTC()})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(n.ctx, http.MethodPost, n.cfg.Webhook, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := n.http.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("webhook answered %s", resp.Status)
	}
	return nil
}
