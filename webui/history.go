package webui

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v5"

	"rampart/config"
	"rampart/config/store"
	"rampart/webui/linediff"
)

// The config history: every confirmed version on the stick (the store
// keeps store.DefaultKeep, at least the 50 the issue asks for), a diff of
// any two, and a revert, which proposes the old version as a new change
// through commit-confirm like any other.

func (s *Server) versionID(raw string) (uint64, error) {
	id, err := strconv.ParseUint(raw, 10, 64)
	if err != nil || id == 0 {
		return 0, echo.NewHTTPError(http.StatusBadRequest, "a version id is a positive number")
	}
	return id, nil
}

// version loads one stored version, mapping "no such version" to 404.
func (s *Server) version(raw string) ([]byte, store.Version, error) {
	id, err := s.versionID(raw)
	if err != nil {
		return nil, store.Version{}, err
	}
	data, v, err := s.be.Version(id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, v, echo.NewHTTPError(http.StatusNotFound, fmt.Sprintf("no version %d", id))
	}
	if err != nil {
		return nil, v, changeError(err)
	}
	return data, v, nil
}

// shownVersion is a stored version as the UI shows it: secrets redacted.
func (s *Server) shownVersion(raw string) ([]byte, store.Version, error) {
	data, v, err := s.version(raw)
	if err != nil {
		return nil, v, err
	}
	if data, _, err = redactDoc(data, nil, false); err != nil {
		return nil, v, changeError(fmt.Errorf("version %d: %w", v.ID, err))
	}
	return data, v, nil
}

// diffView is a diff of two versions.
type diffView struct {
	A     store.Version `json:"a"`
	B     store.Version `json:"b"`
	Hunks []hunkView    `json:"hunks"`
}

// hunkView is a unified-diff hunk; each line starts with ' ', '-' or '+'.
type hunkView struct {
	AStart int      `json:"a_start"`
	ALen   int      `json:"a_len"`
	BStart int      `json:"b_start"`
	BLen   int      `json:"b_len"`
	Lines  []string `json:"lines"`
}

func (s *Server) diffVersions(a, b string) (diffView, []linediff.Hunk, error) {
	da, va, err := s.version(a)
	if err != nil {
		return diffView{}, nil, err
	}
	db, vb, err := s.version(b)
	if err != nil {
		return diffView{}, nil, err
	}
	if da, db, err = redactPair(da, db); err != nil {
		return diffView{}, nil, changeError(err)
	}
	hunks := linediff.Hunks(linediff.Diff(linediff.Split(string(da)), linediff.Split(string(db))), diffContext)
	out := diffView{A: va, B: vb, Hunks: []hunkView{}}
	for _, h := range hunks {
		hv := hunkView{AStart: h.AStart, ALen: h.ALen, BStart: h.BStart, BLen: h.BLen}
		for _, l := range h.Lines {
			hv.Lines = append(hv.Lines, string(rune(l.Op))+l.Text)
		}
		out.Hunks = append(out.Hunks, hv)
	}
	return out, hunks, nil
}

// revertTo proposes stored version raw as a new change.
func (s *Server) revertTo(c *echo.Context, raw, message string) (changeView, error) {
	data, v, err := s.version(raw)
	if err != nil {
		return changeView{}, err
	}
	cfg, err := config.Parse(fmt.Sprintf("version %d", v.ID), data)
	if err != nil {
		return changeView{}, err
	}
	return s.proposeConfig(c, cfg, fmt.Sprintf("revert to version %d", v.ID), message)
}

// historyPage lists versions.
type historyPage struct {
	Versions []store.Version
	Current  uint64
}

func (s *Server) getHistory(c *echo.Context) error {
	vs, err := s.be.History()
	if err != nil {
		return changeError(err)
	}
	_, cur := s.be.Running()
	return s.render(c, http.StatusOK, "history.html", withNotice(c, s.page(c, "Config history", "history", historyPage{Versions: vs, Current: cur.ID})))
}

// versionPage shows one version's document.
type versionPage struct {
	Version store.Version
	Text    string
}

func (s *Server) getVersion(c *echo.Context) error {
	data, v, err := s.shownVersion(c.Param("id"))
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "version.html", s.page(c, fmt.Sprintf("Version %d", v.ID), "history", versionPage{Version: v, Text: string(data)}))
}

// diffPage shows a diff of two versions.
type diffPage struct {
	diffView
	Raw []linediff.Hunk
}

func (s *Server) getDiff(c *echo.Context) error {
	d, raw, err := s.diffVersions(c.QueryParam("a"), c.QueryParam("b"))
	if err != nil {
		return err
	}
	title := fmt.Sprintf("Version %d → %d", d.A.ID, d.B.ID)
	return s.render(c, http.StatusOK, "diff.html", s.page(c, title, "history", diffPage{diffView: d, Raw: raw}))
}

func (s *Server) postRevertVersion(c *echo.Context) error {
	form, err := postForm(c)
	if err != nil {
		return err
	}
	if _, err := s.revertTo(c, c.Param("id"), form.Get("message")); err != nil {
		if fes, ok := validationErrors(err); ok {
			return echo.NewHTTPError(http.StatusUnprocessableEntity, "that version is not valid for this build: "+joinMessages(fes))
		}
		return changeError(err)
	}
	return seeOther(c, "/change?done=proposed")
}

type versionsView struct {
	Versions []store.Version `json:"versions"`
}

func (s *Server) apiHistory(c *echo.Context) error {
	vs, err := s.be.History()
	if err != nil {
		return changeError(err)
	}
	if vs == nil {
		vs = []store.Version{}
	}
	return c.JSON(http.StatusOK, versionsView{Versions: vs})
}

type versionView struct {
	Version store.Version `json:"version"`
	YAML    string        `json:"yaml"`
}

func (s *Server) apiVersion(c *echo.Context) error {
	data, v, err := s.shownVersion(c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, versionView{Version: v, YAML: string(data)})
}

func (s *Server) apiDiff(c *echo.Context) error {
	d, _, err := s.diffVersions(c.QueryParam("a"), c.QueryParam("b"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, d)
}

type messageRequest struct {
	Message string `json:"message"`
}

func (s *Server) apiRevertVersion(c *echo.Context) error {
	var req messageRequest
	if c.Request().ContentLength != 0 {
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
	}
	v, err := s.revertTo(c, c.Param("id"), req.Message)
	return s.proposed(c, v, "", err)
}
