package webui

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"rampart/webui/audit"
	"rampart/webui/auth"
	"rampart/webui/certs"
)

func TestListenRefusesWildcardAndEmpty(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Certs = certs.DirStore{Dir: t.TempDir()} })
	for _, addrs := range [][]netip.AddrPort{
		nil,
		{netip.MustParseAddrPort("0.0.0.0:443")},
		{netip.MustParseAddrPort("127.0.0.1:8443"), netip.MustParseAddrPort("[::]:443")},
		{netip.MustParseAddrPort("127.0.0.1:0")},
		{{}},
	} {
		if err := e.srv.ListenAndServeTLS(context.Background(), addrs); err == nil {
			t.Errorf("ListenAndServeTLS(%v) = nil, want a refusal", addrs)
		}
	}
}

func TestServeTLS(t *testing.T) {
	var shown []certs.Info
	e := newEnv(t, func(o *Options) {
		o.Certs = certs.DirStore{Dir: t.TempDir()}
		o.Hostname = "fw1"
		o.OnCertificate = func(i certs.Info) { shown = append(shown, i) }
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.srv.serveTLS(ctx, []net.Listener{ln}) }()

	var seen string
	client := &http.Client{
		Transport: &http.Transport{TLSClientConfig: &tls.Config{
			InsecureSkipVerify: true, // pinned by fingerprint below, as the admin does
			VerifyConnection: func(cs tls.ConnectionState) error {
				seen = certs.Fingerprint(cs.PeerCertificates[0].Raw)
				return nil
			},
		}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       30 * time.Second,
	}
	defer client.CloseIdleConnections()
	// The listener is open already, so the request waits in its backlog
	// until the server goroutine accepts: no polling needed.
	resp, err := client.Get("https://" + ln.Addr().String() + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/setup" {
		t.Errorf("GET /login over TLS: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	info, ok := e.srv.Certificate()
	if !ok || len(shown) != 1 || shown[0].Fingerprint != info.Fingerprint || seen != info.Fingerprint {
		t.Errorf("fingerprints: console %v, served %s, Certificate() %s", shown, seen, info.Fingerprint)
	}
	if len(info.Addrs) != 1 || info.Addrs[0] != netip.MustParseAddr("127.0.0.1") || len(info.DNSNames) != 1 || info.DNSNames[0] != "fw1" {
		t.Errorf("certificate names %v %v, want fw1 and 127.0.0.1", info.DNSNames, info.Addrs)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serveTLS after cancel = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serveTLS did not stop")
	}
}

func TestNewErrors(t *testing.T) {
	dir := t.TempDir()
	log := audit.NewFileLog(filepath.Join(dir, "audit.log"), 0, 0)
	st := auth.FileStateStore{Path: filepath.Join(dir, "state.json")}
	for name, opts := range map[string]Options{
		"no state":   {Audit: log},
		"no audit":   {State: st},
		"bad params": {State: st, Audit: log, PasswordParams: auth.Params{MemoryKiB: 1}},
	} {
		if _, err := New(opts); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
	if err := os.WriteFile(st.Path, []byte("{garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A corrupt state file must not fall back to first boot: that would
	// reopen setup to whoever reads the console next, silently.
	if _, err := New(Options{State: st, Audit: log}); err == nil || errors.Is(err, os.ErrNotExist) {
		t.Errorf("New with a corrupt state file = %v, want an error", err)
	}
}
