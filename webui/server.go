// Package webui is Rampart's admin console: server-rendered pages and a
// JSON API on one HTTPS listener per management address.
//
// Security in one paragraph: there is no default password (a one-time
// setup token printed on the console sets it); passwords are argon2id;
// sessions live server-side under 256-bit ids in __Host- cookies that are
// Secure, HttpOnly and SameSite=Strict; every unsafe request passes a
// session-bound CSRF token and an Origin check unless it carries an API
// token instead of a cookie; password, setup-token and API-token guesses
// are rate-limited on the TCP peer address; every change is audited; and
// every response carries a strict CSP. README.md says why for each.
package webui

import (
	"crypto/rand"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v5"
	"github.com/prometheus/client_golang/prometheus"

	"rampart/webui/audit"
	"rampart/webui/auth"
	"rampart/webui/certs"
	"rampart/webui/configsync"
	"rampart/webui/confirm"
	"rampart/webui/ratelimit"
	"rampart/webui/session"
	"rampart/webui/traffic"
)

// Options configure a Server. State and Audit are required.
type Options struct {
	Logger *slog.Logger
	Now    func() time.Time

	// State keeps the admin password hash and API tokens (on the stick).
	State auth.StateStore
	// Audit records every change and every login attempt.
	Audit audit.Log
	// Certs keeps the HTTPS certificate; ListenAndServeTLS needs it.
	Certs certs.Store
	// Hostname goes into the certificate next to the listen addresses.
	Hostname string

	// SessionIdle is config WebUI.SessionIdle (default 30m).
	SessionIdle     time.Duration
	SessionLifetime time.Duration // default 12h
	SetupTokenTTL   time.Duration // default 1h; an expired token is reissued

	// OnSetupToken is called with every setup token issued, for the console.
	OnSetupToken func(token string, expires time.Time)
	// OnCertificate is called with the certificate at start and after every
	// renewal, so the console can print the fingerprint.
	OnCertificate func(certs.Info)

	// PasswordParams are the argon2id costs; zero means auth.DefaultParams.
	PasswordParams auth.Params
	// RateLimit bounds credential guessing; zero fields take defaults.
	RateLimit ratelimit.Config
	// AllowAnyAddress lets ListenAndServeTLS bind 0.0.0.0 or ::. Off by
	// default: the UI must not answer on WAN because someone forgot a list.
	AllowAnyAddress bool

	// Backend is the daemon: the running config, its changes, and the
	// status views. Nil serves every page and API call that needs it with
	// 503 "not available".
	Backend Backend
	// Peer is the other node, for config sync; nil disables pushing.
	Peer configsync.Peer
	// PeerTimeout bounds a config push; default 10s.
	PeerTimeout time.Duration
	// AfterFunc arms the commit-confirm revert timer; nil means
	// time.AfterFunc. Tests pass their fake clock's.
	AfterFunc func(d time.Duration, f func()) (stop func() bool)
	// MaxInFlight bounds the requests handled at once by the HTTPS
	// server; more wait their turn, blocked, not runnable. 0: no bound.
	// The appliance leaves it at 0: the UI runs in a process of its own,
	// apart from carp's advert loop (appliance/webui.go), where it once
	// had to stay below GOMAXPROCS.
	MaxInFlight int
}

// Server is the web UI. Create it with New.
type Server struct {
	opts     Options
	log      *slog.Logger
	now      func() time.Time
	echo     *echo.Echo
	hasher   *auth.Hasher
	setup    *auth.Setup
	sessions *session.Store
	limiter  *ratelimit.Limiter
	pages    map[string]*template.Template
	csrfKey  []byte // per boot; sessions do not outlive it either

	mu    sync.Mutex // guards state and its saving
	state auth.State
	certs *certs.Manager // set by ListenAndServeTLS

	be        Backend
	sections  []*section
	afterFunc func(time.Duration, func()) func() bool
	metrics   *prometheus.Registry

	// marks number connections (requests, without a listener) in arrival
	// order; pendingMark is the pending change's mark, 0 when none.
	marks       atomic.Uint64
	pendingMark atomic.Uint64

	changeMu  sync.Mutex // serialises config changes; see changes.go
	changes   *confirm.Engine[change]
	stopTimer func() bool

	pushMu   sync.Mutex // one config push to the peer at a time
	syncMu   sync.Mutex // guards lastSync
	lastSync syncRecord

	liveMu sync.Mutex // the dashboard's live part, drawn (status.go)
	live   template.HTML
	liveAt time.Time

	trafficMu  sync.Mutex
	traffic    *traffic.History
	trafficGen uint64                 // samples taken, under trafficMu
	graphs     map[string]cachedGraph // drawn graphs by role, under trafficMu

	hashes sharedHashCache // the running config's shared hash (hashcache.go)
}

// hashConcurrency bounds parallel argon2id runs (see auth.DefaultParams).
const hashConcurrency = 2

// New loads the credential state and builds the handler. If no admin
// password exists it issues a setup token (through OnSetupToken).
func New(opts Options) (*Server, error) {
	if opts.State == nil || opts.Audit == nil {
		return nil, errors.New("webui: new: State and Audit are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.PasswordParams == (auth.Params{}) {
		opts.PasswordParams = auth.DefaultParams()
	}
	st, err := opts.State.Load()
	if err != nil {
		return nil, fmt.Errorf("webui: new: %w", err)
	}
	hasher, err := auth.NewHasher(opts.PasswordParams, hashConcurrency)
	if err != nil {
		return nil, fmt.Errorf("webui: new: %w", err)
	}
	pages, err := loadPages()
	if err != nil {
		return nil, fmt.Errorf("webui: new: %w", err)
	}
	s := &Server{
		opts:     opts,
		log:      opts.Logger,
		now:      opts.Now,
		hasher:   hasher,
		setup:    auth.NewSetup(opts.SetupTokenTTL, opts.Now, opts.OnSetupToken),
		sessions: session.NewStore(session.Config{Idle: opts.SessionIdle, Lifetime: opts.SessionLifetime}, opts.Now),
		limiter:  ratelimit.New(opts.RateLimit, opts.Now),
		pages:    pages,
		csrfKey:  make([]byte, 32),
		state:    st,
		be:       opts.Backend,
		sections: sectionList(),
		changes:  confirm.New[change](0),
		traffic:  traffic.New(0, 0),
	}
	if s.be == nil {
		s.be = unavailable{}
	}
	s.afterFunc = opts.AfterFunc
	if s.afterFunc == nil {
		s.afterFunc = func(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }
	}
	s.metrics = s.newMetrics()
	rand.Read(s.csrfKey)
	if st.Admin == nil {
		s.setup.Current() // issue now, so the console shows it at boot
	}
	s.echo = s.routes()
	return s, nil
}

// Handler returns the web UI as an http.Handler (the echo instance).
func (s *Server) Handler() http.Handler { return s.echo }

// SetupToken returns the live setup token for the console, issuing a new
// one if the last expired. ok is false once an admin password exists.
func (s *Server) SetupToken() (token string, expires time.Time, ok bool) {
	if s.hasAdmin() {
		return "", time.Time{}, false
	}
	token, expires = s.setup.Current()
	return token, expires, token != ""
}

// Certificate describes the HTTPS certificate in use; ok is false before
// ListenAndServeTLS has made or loaded one.
func (s *Server) Certificate() (certs.Info, bool) {
	s.mu.Lock()
	m := s.certs
	s.mu.Unlock()
	if m == nil {
		return certs.Info{}, false
	}
	return m.Current()
}

func (s *Server) hasAdmin() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state.Admin != nil
}

// updateState applies change to a copy of the state, saves it, and only
// then makes it current, so a failed write changes nothing.
func (s *Server) updateState(change func(*auth.State) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	next := s.state
	next.Tokens = append([]auth.APIToken(nil), s.state.Tokens...)
	if err := change(&next); err != nil {
		return err
	}
	if err := s.opts.State.Save(next); err != nil {
		return fmt.Errorf("webui: save credentials: %w", err)
	}
	s.state = next
	return nil
}

func (s *Server) snapshot() auth.State {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.state
	st.Tokens = append([]auth.APIToken(nil), s.state.Tokens...)
	return st
}
