package webui

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v5"

	"rampart/config"
	"rampart/webui/confirm"
)

// sectionByName finds an editable section.
func (s *Server) sectionByName(name string) (*section, error) {
	for _, sec := range s.sections {
		if sec.Name == name {
			return sec, nil
		}
	}
	return nil, echo.NewHTTPError(http.StatusNotFound, "no such section")
}

// runningTree is the config in force as a tree, for editing.
func (s *Server) runningTree() (map[string]any, error) {
	cur, _ := s.be.Running()
	if cur == nil {
		return nil, ErrUnavailable
	}
	return docTree(cur)
}

// itemEdit is one edit of one section: op changes the tree and returns
// the key of the item it touched ("" when the item is gone).
type itemEdit struct {
	sec     *section
	key     string // the item before the edit, for error mapping
	summary string
	message string
	op      func(t map[string]any) (string, error)
}

// editOutcome is what an edit did or why it did not.
type editOutcome struct {
	change changeView
	key    string
	fields []fieldError // validation problems, Field set for the edited item
}

// applyEdit runs an edit through validation and commit-confirm. A
// validation failure returns errInvalid with the problems in the outcome.
func (s *Server) applyEdit(c *echo.Context, e itemEdit) (editOutcome, error) {
	if _, ok := s.pendingChange(); ok {
		return editOutcome{}, confirm.ErrBusy
	}
	t, err := s.runningTree()
	if err != nil {
		return editOutcome{}, err
	}
	key, err := e.op(t)
	if err != nil {
		return editOutcome{}, itemError(err)
	}
	cfg, err := buildConfig("change", t)
	if err == nil {
		var v changeView
		v, err = s.propose(c, proposal{cfg: cfg, summary: e.summary, message: e.message})
		if err == nil {
			return editOutcome{change: v, key: key}, nil
		}
	}
	if fes, ok := validationErrors(err); ok {
		for i := range fes { // positions in a document we generated mean nothing to the client
			fes[i].Line, fes[i].Col = 0, 0
		}
		errKey := e.key
		if key != "" {
			errKey = key
		}
		e.sec.attach(fes, errKey)
		return editOutcome{key: key, fields: fes}, errInvalid
	}
	return editOutcome{}, err
}

// errInvalid means the edited config failed validation; the outcome
// holds the problems.
var errInvalid = errors.New("the config is not valid")

func itemError(err error) error {
	switch {
	case errors.Is(err, errNoItem):
		return echo.NewHTTPError(http.StatusNotFound, "no such item; the list may have changed, reload it")
	case errors.Is(err, errItemExists):
		return echo.NewHTTPError(http.StatusConflict, err.Error())
	}
	return err
}

// Edits of each kind. Keys of list items are their indexes.

func addEdit(sec *section, name string, pos int, item map[string]any, message string) itemEdit {
	return itemEdit{sec: sec, key: name, message: message,
		summary: fmt.Sprintf("%s: added %s %s", sec.Title, sec.Noun, describe(sec, name, item)),
		op:      func(t map[string]any) (string, error) { return sec.add(t, name, pos, item) }}
}

func updateEdit(sec *section, key string, item map[string]any, message string) itemEdit {
	return itemEdit{sec: sec, key: key, message: message,
		summary: fmt.Sprintf("%s: changed %s %s", sec.Title, sec.Noun, describe(sec, key, item)),
		op:      func(t map[string]any) (string, error) { return key, sec.update(t, key, item) }}
}

func removeEdit(sec *section, key string, old map[string]any, message string) itemEdit {
	return itemEdit{sec: sec, key: key, message: message,
		summary: fmt.Sprintf("%s: deleted %s %s", sec.Title, sec.Noun, describe(sec, key, old)),
		op:      func(t map[string]any) (string, error) { return "", sec.remove(t, key) }}
}

func moveEdit(sec *section, key string, to int, old map[string]any, message string) itemEdit {
	return itemEdit{sec: sec, key: key, message: message,
		summary: fmt.Sprintf("%s: moved %s %s to position %d", sec.Title, sec.Noun, describe(sec, key, old), to+1),
		op:      func(t map[string]any) (string, error) { return sec.move(t, key, to) }}
}

// describe names an item in the history: its name or comment, else its
// one-line summary.
func describe(sec *section, key string, item map[string]any) string {
	switch {
	case sec.Keyed:
		return fmt.Sprintf("%q", key)
	case str(item, "comment") != "":
		return fmt.Sprintf("%q", str(item, "comment"))
	case str(item, "name") != "":
		return fmt.Sprintf("%q", str(item, "name"))
	}
	return "(" + sec.Summary(item) + ")"
}

// itemAt returns the running config's item at key.
func (s *Server) itemAt(sec *section, key string) (map[string]any, error) {
	t, err := s.runningTree()
	if err != nil {
		return nil, err
	}
	item, err := sec.get(t, key)
	return item, itemError(err)
}

// proposeConfig proposes a whole config (the API's PUT, a history revert).
func (s *Server) proposeConfig(c *echo.Context, cfg *config.Config, summary, message string) (changeView, error) {
	if _, ok := s.pendingChange(); ok {
		return changeView{}, confirm.ErrBusy
	}
	return s.propose(c, proposal{cfg: cfg, summary: summary, message: message})
}
