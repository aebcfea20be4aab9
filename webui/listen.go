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
	save, err := s.checkCertificate(m, true)
	if _, ok := m.Current(); !ok {
		closeAll(lns)
		return err
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
	if save != nil { // a new certificate: serve first, then write it to the stick
		g.Go(func() error {
			save()
			return nil
		})
	}
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
			if save, _ := s.checkCertificate(m, false); save != nil {
				save()
			}
		}
	}
}

// checkCertificate makes sure m has a certificate in use (EnsureLater)
// and shows it on the console at start and whenever it is new. A new one
// still has to be kept: save, non-nil then, writes it to the store and
// logs a failure. Errors are logged and returned.
func (s *Server) checkCertificate(m *certs.Manager, atStart bool) (save func(), err error) {
	_, keep, err := m.EnsureLater()
	if err != nil {
		s.log.Error("webui: HTTPS certificate", "err", err)
	}
	info, ok := m.Current()
	if !ok {
		return nil, err
	}
	if keep != nil {
		s.log.Info("webui: new HTTPS certificate", "sha256", info.Fingerprint, "not_after", info.NotAfter)
		save = func() {
			if err := keep(); err != nil {
				s.log.Error("webui: HTTPS certificate", "err", err)
			}
		}
	}
	if (keep != nil || atStart) && s.opts.OnCertificate != nil {
		s.opts.OnCertificate(info)
	}
	return save, err
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
