package webui

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/labstack/echo/v5"
)

// The UI's own files, compiled into the binary: no third-party front-end
// code and nothing to fetch at run time.
//
//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// pageData is what every template sees.
type pageData struct {
	Title  string
	CSRF   string // the synchronizer token for forms and <meta>
	Actor  string // "" when logged out
	Error  string
	Notice string
	// Nav marks the current menu entry; Pending is the change awaiting
	// confirmation, shown on every page; Data is the page's own.
	Nav     string
	Pending *changeView
	Data    any
}

// shared templates are parsed with every page and are not pages.
var sharedTemplates = []string{"templates/layout.html", "templates/partials.html"}

// loadPages parses the pages once per process: every Server shares them
// (a parsed template is safe for concurrent use).
var loadPages = sync.OnceValues(parsePages)

// Preload parses the page templates in the background, so that New finds
// them ready. The UI process calls it first thing: under emulation the
// parse took 0.35-0.45 s of a boot, and the process would otherwise wait
// idle for the daemon meanwhile (docs/benchmarks.md, boot).
func Preload() { go loadPages() }

// parsePages parses each page with the shared layout and partials.
func parsePages() (map[string]*template.Template, error) {
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("list templates: %w", err)
	}
	pages := make(map[string]*template.Template)
	for _, n := range names {
		name := strings.TrimPrefix(n, "templates/")
		if slices.Contains(sharedTemplates, n) {
			continue
		}
		t, err := template.New(name).Funcs(templateFuncs()).ParseFS(templateFiles, append(slices.Clone(sharedTemplates), n)...)
		if err != nil {
			return nil, fmt.Errorf("parse template %s: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}

// render executes page into a buffer first, so a template error becomes
// a clean 500 instead of half a page.
func (s *Server) render(c *echo.Context, code int, page string, data pageData) error {
	t, ok := s.pages[page]
	if !ok {
		return echo.ErrInternalServerError.Wrap(fmt.Errorf("no template %q", page))
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		return echo.ErrInternalServerError.Wrap(fmt.Errorf("render %s: %w", page, err))
	}
	return c.HTMLBlob(code, buf.Bytes())
}

// renderFragment executes one named template of page, without the
// layout: a part of a page for a script to put in place.
func (s *Server) renderFragment(c *echo.Context, page, name string, data any) error {
	t, ok := s.pages[page]
	if !ok {
		return echo.ErrInternalServerError.Wrap(fmt.Errorf("no template %q", page))
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name, data); err != nil {
		return echo.ErrInternalServerError.Wrap(fmt.Errorf("render %s of %s: %w", name, page, err))
	}
	return c.HTMLBlob(http.StatusOK, buf.Bytes())
}

// staticTypes lists the static files and their types: anything else is a
// 404, whatever the embedded directory holds.
func staticType(name string) (string, bool) {
	switch name {
	case "app.css":
		return "text/css; charset=utf-8", true
	case "app.js":
		return "text/javascript; charset=utf-8", true
	}
	return "", false
}

func serveStatic(c *echo.Context) error {
	name := c.Param("name")
	ctype, ok := staticType(name)
	if !ok {
		return echo.ErrNotFound
	}
	data, err := staticFiles.ReadFile("static/" + name)
	if err != nil {
		return echo.ErrNotFound
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=3600")
	return c.Blob(http.StatusOK, ctype, data)
}

// apiError is every API error body.
type apiError struct {
	Error string `json:"error"`
}

// handleError answers API paths in JSON and pages in HTML. Server errors
// are logged with their cause and shown without it.
func (s *Server) handleError(c *echo.Context, err error) {
	if resp, _ := echo.UnwrapResponse(c.Response()); resp != nil && resp.Committed {
		return
	}
	code, msg := http.StatusInternalServerError, http.StatusText(http.StatusInternalServerError)
	var sc echo.HTTPStatusCoder
	if errors.As(err, &sc) && sc.StatusCode() != 0 {
		code, msg = sc.StatusCode(), http.StatusText(sc.StatusCode())
	}
	var he *echo.HTTPError
	if errors.As(err, &he) && he.Message != "" && code < 500 {
		msg = he.Message
	}
	r := c.Request()
	if code >= 500 {
		s.log.Error("webui: request failed", "method", r.Method, "path", r.URL.Path, "peer", peerString(c), "err", err)
	}
	var werr error
	switch {
	case r.Method == http.MethodHead:
		werr = c.NoContent(code)
	case strings.HasPrefix(r.URL.Path, "/api/"):
		werr = c.JSON(code, apiError{Error: msg})
	default:
		werr = s.render(c, code, "error.html", pageData{Title: http.StatusText(code), Error: msg})
	}
	if werr != nil {
		s.log.Warn("webui: write error response", "err", werr)
	}
}
