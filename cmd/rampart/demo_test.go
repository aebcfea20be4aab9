package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"rampart/internal/netns"
	"rampart/lab"
)

// syncBuffer is a bytes.Buffer that the demo writes while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestDemo runs `rampart lab demo` as `make demo` does: an HA pair whose
// two web UIs answer on the host through the printed addresses, each
// with its own setup token; the client reaches the server through the
// VIPs; Ctrl-C (the context) takes every namespace down.
func TestDemo(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (network namespaces)")
	}
	bin, err := lab.BuildDaemon(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- runDemo(ctx, bin, &out) }()

	deadline := time.Now().Add(90 * time.Second)
	for !strings.Contains(out.String(), "Ctrl-C tears it all down") {
		select {
		case err := <-done:
			t.Fatalf("demo ended early: %v\n%s", err, out.String())
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cancel()
			<-done
			t.Fatalf("demo not up in 90s:\n%s", out.String())
		}
	}
	text := out.String()
	t.Log(text)
	prefix := regexp.MustCompile(`Rampart lab (\S+) is up`).FindStringSubmatch(text)
	uis := regexp.MustCompile(`from here\s+(https://\S+/)`).FindAllStringSubmatch(text, -1)
	tokens := regexp.MustCompile(`setup token\s+(\S+)`).FindAllStringSubmatch(text, -1)
	if prefix == nil || len(uis) != 2 || len(tokens) != 2 {
		t.Fatalf("want the lab prefix, two UI addresses and two setup tokens in the output")
	}

	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, // the demo's self-signed certificates
	}}
	for _, ui := range uis {
		resp, err := client.Get(ui[1] + "setup")
		if err != nil {
			t.Errorf("%s: %v", ui[1], err)
			continue
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%ssetup: %s", ui[1], resp.Status)
		}
	}
	curl := exec.Command("ip", "netns", "exec", prefix[1]+"-client", "curl", "-s", "-m", "10", "http://203.0.113.100/")
	if b, err := curl.CombinedOutput(); err != nil || !strings.Contains(string(b), "you came from 203.0.113.1:") {
		t.Errorf("client to server through the VIPs: %v: %s (want the WAN VIP as the source)", err, b)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("demo: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("demo did not stop in 60s")
	}
	if left, _ := netns.List(prefix[1]); len(left) > 0 {
		t.Errorf("namespaces left behind: %v", left)
	}
}
