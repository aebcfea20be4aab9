package webui

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v5"
	"gopkg.in/yaml.v3"

	"rampart/config"
	"rampart/config/store"
	"rampart/webui/configsync"
)

// maxConfigBody bounds PUT /api/v1/config: a whole document (config.MaxSize)
// with room for JSON string escaping.
const maxConfigBody = 2 * config.MaxSize

// invalidBody is the 422 answer: the problems, each at its path, and for
// item edits at the item's field.
type invalidBody struct {
	Error  string       `json:"error"`
	Fields []fieldError `json:"fields"`
}

// proposedBody is the 202 answer to every change: it is in force now and
// reverts at change.deadline unless POST /api/v1/change/confirm comes first.
type proposedBody struct {
	Change changeView `json:"change"`
	Key    string     `json:"key,omitempty"` // the item's index or name after the edit
}

// proposed answers a proposal: 202, 422 with the field errors, or the
// mapped error.
func (s *Server) proposed(c *echo.Context, v changeView, key string, err error) error {
	if err == nil {
		return c.JSON(http.StatusAccepted, proposedBody{Change: v, Key: key})
	}
	if fes, ok := validationErrors(err); ok {
		return c.JSON(http.StatusUnprocessableEntity, invalidBody{Error: "the config is not valid; nothing was applied", Fields: fes})
	}
	return changeError(err)
}

// itemRequest is the body of POST and PUT on a section.
type itemRequest struct {
	Item     map[string]any `json:"item"`
	Name     string         `json:"name,omitempty"`     // keyed sections: the new item's name (POST)
	Position *int           `json:"position,omitempty"` // lists: insert before this index (POST); default the end
	Message  string         `json:"message,omitempty"`  // a note for the history
}

type moveRequest struct {
	To      *int   `json:"to"`
	Message string `json:"message,omitempty"`
}

// itemView is one item as the API lists it.
type itemView struct {
	Key     string         `json:"key"`
	Summary string         `json:"summary"`
	Item    map[string]any `json:"item"`
}

type itemsView struct {
	Items []itemView `json:"items"`
}

// sectionAPI registers the JSON API of one section.
func (s *Server) sectionAPI(api *echo.Group, sec *section) {
	api.GET(sec.API, func(c *echo.Context) error { return s.apiListItems(c, sec) })
	api.POST(sec.API, func(c *echo.Context) error { return s.apiAddItem(c, sec) })
	api.GET(sec.API+"/:key", func(c *echo.Context) error { return s.apiGetItem(c, sec) })
	api.PUT(sec.API+"/:key", func(c *echo.Context) error { return s.apiUpdateItem(c, sec) })
	api.DELETE(sec.API+"/:key", func(c *echo.Context) error { return s.apiDeleteItem(c, sec) })
	if sec.Movable {
		api.POST(sec.API+"/:key/move", func(c *echo.Context) error { return s.apiMoveItem(c, sec) })
	}
}

func (s *Server) apiListItems(c *echo.Context, sec *section) error {
	t, err := s.runningTree()
	if err != nil {
		return changeError(err)
	}
	out := itemsView{Items: []itemView{}}
	for _, li := range listItems(sec, t, nil) {
		item, _ := sec.get(t, li.Key)
		out.Items = append(out.Items, itemView{Key: li.Key, Summary: li.Summary, Item: item})
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) apiGetItem(c *echo.Context, sec *section) error {
	item, err := s.itemAt(sec, c.Param("key"))
	if err != nil {
		return changeError(err)
	}
	return c.JSON(http.StatusOK, itemView{Key: c.Param("key"), Summary: sec.Summary(item), Item: item})
}

func decodeItem(c *echo.Context) (itemRequest, error) {
	var req itemRequest
	if err := decodeJSON(c, &req); err != nil {
		return req, err
	}
	if req.Item == nil {
		return req, echo.NewHTTPError(http.StatusBadRequest, "item is required: the item as a JSON object with the config's keys")
	}
	return req, nil
}

func (s *Server) apiAddItem(c *echo.Context, sec *section) error {
	req, err := decodeItem(c)
	if err != nil {
		return err
	}
	if sec.Keyed && req.Name == "" {
		return echo.NewHTTPError(http.StatusBadRequest, "name is required")
	}
	if !sec.Keyed && req.Name != "" {
		return echo.NewHTTPError(http.StatusBadRequest, "name is only for aliases; list items are addressed by index")
	}
	pos := -1
	if req.Position != nil {
		pos = *req.Position
	}
	out, err := s.applyEdit(c, addEdit(sec, req.Name, pos, req.Item, req.Message))
	return s.editAnswer(c, out, err)
}

func (s *Server) apiUpdateItem(c *echo.Context, sec *section) error {
	req, err := decodeItem(c)
	if err != nil {
		return err
	}
	if req.Name != "" || req.Position != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "name and position are only for POST")
	}
	out, err := s.applyEdit(c, updateEdit(sec, c.Param("key"), req.Item, req.Message))
	return s.editAnswer(c, out, err)
}

func (s *Server) apiDeleteItem(c *echo.Context, sec *section) error {
	key := c.Param("key")
	old, err := s.itemAt(sec, key)
	if err != nil {
		return changeError(err)
	}
	out, err := s.applyEdit(c, removeEdit(sec, key, old, clip(c.QueryParam("message"), store.MaxMetaSize)))
	return s.editAnswer(c, out, err)
}

func (s *Server) apiMoveItem(c *echo.Context, sec *section) error {
	var req moveRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.To == nil {
		return echo.NewHTTPError(http.StatusBadRequest, "to is required: the new index")
	}
	key := c.Param("key")
	old, err := s.itemAt(sec, key)
	if err != nil {
		return changeError(err)
	}
	out, err := s.applyEdit(c, moveEdit(sec, key, *req.To, old, req.Message))
	return s.editAnswer(c, out, err)
}

func (s *Server) editAnswer(c *echo.Context, out editOutcome, err error) error {
	if errors.Is(err, errInvalid) {
		return c.JSON(http.StatusUnprocessableEntity, invalidBody{Error: "the config is not valid; nothing was applied", Fields: out.fields})
	}
	return s.proposed(c, out.change, out.key, err)
}

// configView answers GET /api/v1/config.
type configView struct {
	Version store.Version  `json:"version"` // the last confirmed version
	Pending bool           `json:"pending"` // the config in force awaits confirmation
	Hash    string         `json:"hash"`    // shared-config hash (configsync)
	YAML    string         `json:"yaml"`
	Config  map[string]any `json:"config"`
}

func (s *Server) apiGetConfig(c *echo.Context) error {
	cur, v := s.be.Running()
	if cur == nil {
		return changeError(ErrUnavailable)
	}
	data, err := config.Marshal(cur)
	if err != nil {
		return changeError(err)
	}
	if data, _, err = redactDoc(data, nil, false); err != nil {
		return changeError(err)
	}
	t, err := docTree(cur)
	if err != nil {
		return changeError(err)
	}
	redactTree(t)
	h, _ := configsync.SharedHash(cur, nil)
	_, pending := s.pendingChange()
	return c.JSON(http.StatusOK, configView{Version: v, Pending: pending, Hash: h, YAML: string(data), Config: t})
}

// putConfigRequest replaces the whole config: exactly one of yaml (the
// document, errors then carry its line and column) and config (the
// document as JSON, errors carry paths). A secret sent as the placeholder
// GET gave keeps the stored one.
type putConfigRequest struct {
	YAML    *string         `json:"yaml"`
	Config  json.RawMessage `json:"config"`
	Message string          `json:"message"`
}

func (s *Server) apiPutConfig(c *echo.Context) error {
	var req putConfigRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	cur, _ := s.be.Running()
	stored, err := runningSecrets(cur)
	if err != nil {
		return changeError(err)
	}
	var data []byte
	switch {
	case req.YAML != nil && req.Config == nil:
		if data, err = restoreDoc("request", []byte(*req.YAML), stored); err != nil {
			return s.proposed(c, changeView{}, "", err)
		}
	case req.YAML == nil && req.Config != nil:
		var tree map[string]any
		if err := json.Unmarshal(req.Config, &tree); err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, "config: "+err.Error())
		}
		if err := restoreTree(tree, stored); err != nil {
			return s.proposed(c, changeView{}, "", err)
		}
		if data, err = yaml.Marshal(tree); err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, "config: "+err.Error())
		}
	default:
		return echo.NewHTTPError(http.StatusBadRequest, "send exactly one of yaml and config")
	}
	cfg, err := config.Parse("request", data)
	if err != nil {
		if req.Config != nil {
			err = withoutPositions(err)
		}
		return s.proposed(c, changeView{}, "", err)
	}
	v, err := s.proposeConfig(c, cfg, "replaced the whole config", req.Message)
	return s.proposed(c, v, "", err)
}

// withoutPositions drops line and column from errors about a document we
// generated: they would point into text the client never sent.
func withoutPositions(err error) error {
	var es config.Errors
	if !errors.As(err, &es) {
		return err
	}
	out := make(config.Errors, len(es))
	for i, e := range es {
		out[i] = &config.Error{Path: e.Path, Msg: e.Msg}
	}
	return out
}

// parseSeq reads the after= of the log API.
func parseSeq(raw string) (uint64, error) {
	if raw == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(raw, 10, 64)
	if err != nil {
		return 0, echo.NewHTTPError(http.StatusBadRequest, "after is a log sequence number")
	}
	return n, nil
}
