package webui

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"time"

	"golang.org/x/sync/errgroup"

	"rampart/webui/certs"
)

// Timeouts of the HTTPS server: a slowloris must not hold connections, and
// nothing the UI sends takes long.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 60 * time.Second
	idleTimeout       = 2 * time.Minute
	maxHeaderBytes    = 32 << 10
	shutdownTimeout   = 5 * time.Second
	// certCheckInterval re-runs the certificate check, so a box that runs
	// for years renews its certificate with a month to spare.
	certCheckInterval = 24 * time.Hour
)

// ListenAndServeTLS serves the UI on exactly addrs, which the caller takes
// from the management interfaces, until ctx ends. It refuses the
// unspecified addresses (0.0.0.0, ::) unless Options.AllowAnyAddress is
// set: listening everywhere would include WAN. The certificate is made or
// loaded first and covers Options.Hostname and every address in addrs.
func (s *Server) ListenAndServeTLS(ctx context.Context, addrs []netip.AddrPort) error {
	if err := s.checkListenAddrs(addrs); err != nil {
		return err
	}
	var lns []net.Listener
	for _, a := range addrs {
		ln, err := net.Listen("tcp", a.String())
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			return fmt.Errorf("webui: listen on %s: %w", a, err)
		}
		lns = append(lns, ln)
	}
	return s.serveTLS(ctx, lns)
}

func (s *Server) checkListenAddrs(addrs []netip.AddrPort) error {
	if len(addrs) == 0 {
		return errors.New("webui: listen: no management addresses given")
	}
	for _, a := range addrs {
		if !a.IsValid() || a.Port() == 0 {
			return fmt.Errorf("webui: listen: invalid address %s", a)
		}
		if a.Addr().IsUnspecified() && !s.opts.AllowAnyAddress {
			return fmt.Errorf("webui: listen: refusing %s: it would include WAN; list the management addresses", a)
		}
	}
	return nil
}

// serveTLS serves on lns, which it closes; the certificate names the
// listeners' addresses.
func (s *Server) serveTLS(ctx context.Context, lns []net.Listener) error {
	if s.opts.Certs == nil {
		closeAll(lns)
		return errors.New("webui: serve: no certificate store (Options.Certs)")
	}
	var ips []netip.Addr
	for _, ln := range lns {
		if ap, err := netip.ParseAddrPort(ln.Addr().String()); err == nil && !ap.Addr().IsUnspecified() {
			ips = append(ips, ap.Addr())
		}
	}
	m := certs.NewManager(s.opts.Certs, certs.Config{Hostname: s.opts.Hostname, Addrs: ips}, s.now)
	s.mu.Lock()
	s.certs = m
	s.mu.Unlock()
	if err := s.checkCertificate(m, true); err != nil {
		if _, ok := m.Current(); !ok {
			closeAll(lns)
			return err
		}
	}
	srv := s.httpServer(m)
	g, gctx := errgroup.WithContext(ctx)
	for _, ln := range lns {
		g.Go(func() error {
			if err := srv.ServeTLS(ln, "", ""); !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("webui: serve %s: %w", ln.Addr(), err)
			}
			return nil
		})
	}
	g.Go(func() error {
		s.sampleTrafficEvery(gctx)
		return nil
	})
	g.Go(func() error {
		s.maintainCertificate(gctx, m)
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
		defer cancel()
		return srv.Shutdown(sctx)
	})
	return g.Wait()
}

func (s *Server) httpServer(m *certs.Manager) *http.Server {
	return &http.Server{
		Handler:           limitInFlight(s.echo, s.opts.MaxInFlight),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ConnContext:       s.connContext,
		TLSConfig:         &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: m.GetCertificate},
		// Browsers meeting a self-signed certificate abort handshakes by the
		// dozen; that is debug noise, not an error.
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
}

// maintainCertificate re-checks the certificate daily until ctx ends.
func (s *Server) maintainCertificate(ctx context.Context, m *certs.Manager) {
	t := time.NewTicker(certCheckInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.checkCertificate(m, false)
		}
	}
}

// checkCertificate runs m.Ensure and shows the certificate on the console
// at start and whenever it is new. Errors are logged and returned.
func (s *Server) checkCertificate(m *certs.Manager, atStart bool) error {
	_, created, err := m.Ensure()
	if err != nil {
		s.log.Error("webui: HTTPS certificate", "err", err)
	}
	info, ok := m.Current()
	if !ok {
		return err
	}
	if created {
		s.log.Info("webui: new HTTPS certificate", "sha256", info.Fingerprint, "not_after", info.NotAfter)
	}
	if (created || atStart) && s.opts.OnCertificate != nil {
		s.opts.OnCertificate(info)
	}
	return err
}

func closeAll(lns []net.Listener) {
	for _, l := range lns {
		l.Close()
	}
}

// limitInFlight lets at most n requests into h at once (n ≤ 0: all).
func limitInFlight(h http.Handler, n int) http.Handler {
	if n <= 0 {
		return h
	}
	sem := make(chan struct{}, n)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case sem <- struct{}{}:
		case <-r.Context().Done():
			return // the client gave up while waiting
		}
		defer func() { <-sem }()
		h.ServeHTTP(w, r)
	})
}
