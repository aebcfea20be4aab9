package browsertest

import (
	"bytes"
	"context"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"rampart/config"
	"rampart/internal/nsforward"
	"rampart/lab"
)

// Bounds. None is a timing assertion: each only keeps a broken run from
// hanging; a loaded 2-core box needs the slack.
const (
	actionTimeout = 90 * time.Second  // one browser action, page load included
	uiWait        = 60 * time.Second  // daemon start to listening UI
	eventWait     = 120 * time.Second // a revert, a takeover
	probeTimeout  = 3 * time.Second
)

// adminPassword is what the tests set at first boot.
const adminPassword = "correct horse battery staple"

var (
	setupTokenRE = regexp.MustCompile(`setup_token=([A-Z2-7-]+)`)
	screenshots  = os.Getenv("RAMPART_SCREENSHOTS") == "1"
)

// screenshotDir is docs/screenshots from this package's directory.
var screenshotDir = filepath.Join("..", "..", "docs", "screenshots")

// newLab brings up a lab for one test and removes it after.
func newLab(t *testing.T, nodes int) *lab.Lab {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	l, err := lab.Up(ctx, lab.Options{Nodes: nodes})
	if err != nil {
		t.Fatal(err)
	}
	labs.Lock()
	labs.prefixes[l.Prefix] = true
	labs.Unlock()
	t.Cleanup(func() {
		if t.Failed() {
			for _, f := range mustGlob(filepath.Join(l.LogDir, "*.log")) {
				b, _ := os.ReadFile(f)
				t.Logf("%s:\n%s", f, tail(string(b), 60))
			}
		}
		if err := l.Down(); err != nil {
			t.Errorf("lab down: %v", err)
		}
		labs.Lock()
		delete(labs.prefixes, l.Prefix)
		labs.Unlock()
	})
	return l
}

func mustGlob(p string) []string {
	m, _ := filepath.Glob(p)
	return m
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// firewall is one daemon and its stick (a config store directory).
type firewall struct {
	node  *lab.Node
	stick string
}

// startFirewall writes cfg as a fresh stick's rampart.yaml, runs the
// daemon on it in firewall namespace i, and waits for its web UI.
func startFirewall(t *testing.T, l *lab.Lab, i int, cfg []byte) *firewall {
	t.Helper()
	if _, err := config.Parse("test config", cfg); err != nil {
		t.Fatalf("test config: %v", err)
	}
	stick := filepath.Join(t.TempDir(), "stick")
	if err := os.MkdirAll(stick, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(stick, "rampart.yaml")
	if err := os.WriteFile(path, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), uiWait)
	defer cancel()
	n, err := l.StartNode(ctx, i, daemonBinary, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.WaitLog(ctx, 0, `msg="web UI listening"`); err != nil {
		t.Fatalf("%s: web UI not listening: %v\n%s", n.Name, err, n.Tail(30))
	}
	return &firewall{node: n, stick: stick}
}

// waitLog waits for a daemon log line after mark.
func (f *firewall) waitLog(t *testing.T, mark int, substr string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), eventWait)
	defer cancel()
	line, err := f.node.WaitLog(ctx, mark, substr)
	if err != nil {
		t.Fatalf("%s: waiting for %q: %v\n%s", f.node.Name, substr, err, f.node.Tail(30))
	}
	return line
}

// setupToken reads the first-boot token from the daemon's log.
func (f *firewall) setupToken(t *testing.T) string {
	t.Helper()
	m := setupTokenRE.FindStringSubmatch(f.node.Log())
	if m == nil {
		t.Fatalf("%s: no setup token in the log:\n%s", f.node.Name, f.node.Tail(30))
	}
	return m[1]
}

// forward carries host connections into the client namespace, to the UI
// at addr (a firewall's LAN address), and returns the base URL.
func forward(t *testing.T, l *lab.Lab, addr netip.Addr) string {
	t.Helper()
	fwd, err := nsforward.Start("127.0.0.1:0", l.Client, net.JoinHostPort(addr.String(), "443"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fwd.Close() })
	return "https://" + fwd.Addr().String()
}

// browser is one headless chromium with one tab.
type browser struct {
	t    *testing.T
	ctx  context.Context
	base string
}

// newBrowser starts Debian's chromium with a fresh profile.
//
// ignore-certificate-errors: the UI's certificate is self-signed by
// design (made on first boot; the console prints its fingerprint for a
// person to compare). A test has no person, and pinning the fingerprint
// through the DevTools protocol would test chromium, not Rampart.
func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox, // root in a container-like box: the sandbox needs user namespaces we do not set up
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("ignore-certificate-errors", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); acancel() })
	// The first Run starts chromium for the life of ctx: no timeout on it.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	// data-confirm forms ask window.confirm(); the admin says yes.
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for _, err := range dialogs {
			if err != nil {
				return
			}
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	return &browser{t: t, ctx: ctx, base: base}
}

func (b *browser) run(actions ...chromedp.Action[chromedp.Void]) error {
	ctx, cancel := context.WithTimeout(b.ctx, actionTimeout)
	defer cancel()
	return chromedp.Do(ctx, actions...)
}

func (b *browser) must(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := b.run(actions...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// value runs an action that reads something.
func value[T any](b *browser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, actionTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
	return v
}

// open loads path and waits for it.
func (b *browser) open(path string) {
	b.t.Helper()
	b.must("open "+path, chromedp.Navigate(b.base+path))
}

// tryOpen loads path and returns the load error, for pages that may fail.
func (b *browser) tryOpen(path string) error {
	return b.run(chromedp.Navigate(b.base + path))
}

// fill sets form fields by name.
func (b *browser) fill(fields map[string]string) {
	b.t.Helper()
	for name, v := range fields {
		b.must("fill "+name, chromedp.SetValue(chromedp.CSS(`[name="`+name+`"]`), v))
	}
}

// submit clicks sel and waits for the page it leads to.
func (b *browser) submit(sel string) error {
	ctx, cancel := context.WithTimeout(b.ctx, actionTimeout)
	defer cancel()
	_, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
	return err
}

func (b *browser) mustSubmit(sel string) {
	b.t.Helper()
	if err := b.submit(sel); err != nil {
		b.t.Fatalf("submit %s: %v", sel, err)
	}
}

// location is the current page's path and query.
func (b *browser) location() string {
	b.t.Helper()
	loc := value(b, "location", chromedp.Location())
	u, err := url.Parse(loc)
	if err != nil {
		b.t.Fatalf("location %q: %v", loc, err)
	}
	return u.RequestURI()
}

// text is the visible text of the first element matching sel. A page that
// is still settling (a script replacing a node, a late navigation) can
// make chromedp's node id go stale between finding and reading it; that
// one error is retried, a few times at most.
func (b *browser) text(sel string) string {
	b.t.Helper()
	var err error
	for range 3 {
		ctx, cancel := context.WithTimeout(b.ctx, actionTimeout)
		var v string
		v, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		cancel()
		if err == nil {
			return v
		}
		if !strings.Contains(err.Error(), "No node with given id") {
			break
		}
	}
	b.t.Fatalf("text of %s: %v", sel, err)
	return ""
}

// expect checks the page's path and that its main text has every want.
func (b *browser) expect(path string, want ...string) {
	b.t.Helper()
	if got := b.location(); !strings.HasPrefix(got, path) {
		b.t.Fatalf("at %s, want %s; page says:\n%s", got, path, b.text("body"))
	}
	body := b.text("body")
	for _, w := range want {
		if !strings.Contains(body, w) {
			b.t.Fatalf("page %s lacks %q; it says:\n%s", path, w, body)
		}
	}
}

// shot writes a screenshot of the whole page as docs/screenshots/name.png
// when RAMPART_SCREENSHOTS=1.
func (b *browser) shot(name string) {
	b.t.Helper()
	if !screenshots {
		return
	}
	png := value(b, "screenshot "+name, chromedp.FullScreenshot(100))
	if !bytes.HasPrefix(png, []byte("\x89PNG")) {
		b.t.Fatalf("screenshot %s: not a PNG", name)
	}
	if err := os.MkdirAll(screenshotDir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(screenshotDir, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// setUp does the first-boot setup with the token from f's console and
// logs in, leaving the browser on the dashboard.
func (b *browser) setUp(t *testing.T, f *firewall) {
	t.Helper()
	b.open("/setup")
	b.fill(map[string]string{"token": f.setupToken(t), "password": adminPassword, "confirm": adminPassword})
	b.mustSubmit(`form[action="/setup"] button[type=submit]`)
	b.expect("/login")
	b.login(adminPassword)
	b.expect("/", "Dashboard")
}

// login posts the login form from /login.
func (b *browser) login(password string) {
	b.t.Helper()
	b.open("/login")
	b.fill(map[string]string{"password": password})
	b.mustSubmit(`form[action="/login"] button[type=submit]`)
}
