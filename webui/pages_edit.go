package webui

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v5"
)

// listItem is one row of a section's table.
type listItem struct {
	Key      string
	Summary  string
	Comment  string
	Counter  *RuleCounter
	Disabled bool
}

// sectionView is a section as the rules and HA pages list it.
type sectionView struct {
	Sec   *section
	Items []listItem
}

func (s *Server) sectionViews(page string, counters []RuleCounter) ([]sectionView, error) {
	t, err := s.runningTree()
	if err != nil {
		return nil, err
	}
	var out []sectionView
	for _, sec := range s.sections {
		if sec.Page == page {
			out = append(out, sectionView{Sec: sec, Items: listItems(sec, t, counters)})
		}
	}
	return out, nil
}

func listItems(sec *section, t map[string]any, counters []RuleCounter) []listItem {
	var out []listItem
	add := func(key string, v any) {
		item, _ := v.(map[string]any)
		li := listItem{Key: key, Summary: sec.Summary(orEmpty(item)), Comment: str(item, "comment"), Disabled: str(item, "disabled") == "true"}
		if sec.Name == "rules" {
			i, _ := strconv.Atoi(key)
			for j := range counters {
				if counters[j].Kind == "rule" && counters[j].Index == i {
					li.Counter = &counters[j]
				}
			}
		}
		out = append(out, li)
	}
	if sec.Keyed {
		for _, k := range sortedNames(sec.entries(t)) {
			add(k, sec.entries(t)[k])
		}
		return out
	}
	for i, v := range sec.items(t) {
		add(strconv.Itoa(i), v)
	}
	return out
}

func (s *Server) getRules(c *echo.Context) error {
	fw, _ := s.be.Firewall()
	views, err := s.sectionViews("rules", fw.Counters)
	if err != nil {
		return changeError(err)
	}
	return s.render(c, http.StatusOK, "rules.html", withNotice(c, s.page(c, "Rules", "rules", views)))
}

// editPage is the item form.
type editPage struct {
	Sec     *section
	Key     string // "" for a new item
	Pos     string // where a new list item goes; "" appends
	Action  string
	Values  map[string]string
	Errors  map[string][]string
	General []fieldError // problems outside this form's fields
}

func (s *Server) getNewItem(c *echo.Context) error {
	sec, err := s.sectionByName(c.Param("section"))
	if err != nil {
		return err
	}
	p := editPage{Sec: sec, Pos: c.QueryParam("pos"), Action: "/edit/" + sec.Name, Values: sec.toForm(newItemDefaults(sec), "")}
	if p.Pos != "" {
		p.Action += "?pos=" + url.QueryEscape(p.Pos)
	}
	return s.render(c, http.StatusOK, "edit.html", s.page(c, "New "+sec.Noun, sec.Page, p))
}

// newItemDefaults pre-fills a new item's form where one choice is usual.
func newItemDefaults(sec *section) map[string]any {
	switch sec.Name {
	case "rules":
		return map[string]any{"action": "accept"}
	case "port_forwards":
		return map[string]any{"protocol": "tcp"}
	}
	return map[string]any{}
}

func (s *Server) getEditItem(c *echo.Context) error {
	sec, err := s.sectionByName(c.Param("section"))
	if err != nil {
		return err
	}
	key := c.Param("key")
	item, err := s.itemAt(sec, key)
	if err != nil {
		return changeError(err)
	}
	p := editPage{Sec: sec, Key: key, Action: "/edit/" + sec.Name + "/" + url.PathEscape(key), Values: sec.toForm(item, key)}
	return s.render(c, http.StatusOK, "edit.html", s.page(c, "Edit "+sec.Noun, sec.Page, p))
}

func (s *Server) postNewItem(c *echo.Context) error {
	sec, err := s.sectionByName(c.Param("section"))
	if err != nil {
		return err
	}
	form, err := postForm(c)
	if err != nil {
		return err
	}
	item, name := sec.fromForm(form, nil)
	pos := -1
	if p := c.QueryParam("pos"); p != "" {
		pos = atoiDefault(p, -1)
	}
	page := editPage{Sec: sec, Pos: c.QueryParam("pos"), Action: c.Request().URL.RequestURI()}
	return s.formEdit(c, page, form, addEdit(sec, name, pos, item, form.Get("message")))
}

func (s *Server) postEditItem(c *echo.Context) error {
	sec, err := s.sectionByName(c.Param("section"))
	if err != nil {
		return err
	}
	form, err := postForm(c)
	if err != nil {
		return err
	}
	key := c.Param("key")
	base, err := s.itemAt(sec, key)
	if err != nil {
		return changeError(err)
	}
	item, name := sec.fromForm(form, base)
	edit := updateEdit(sec, key, item, form.Get("message"))
	if sec.Keyed && name != key { // a rename: remove and add in one change
		edit = renameEdit(sec, key, name, item, form.Get("message"))
	}
	page := editPage{Sec: sec, Key: key, Action: c.Request().URL.RequestURI()}
	return s.formEdit(c, page, form, edit)
}

// renameEdit renames a keyed item. References to the old name are not
// rewritten: validation then points at each one, which is what an admin
// renaming an alias needs to see.
func renameEdit(sec *section, from, to string, item map[string]any, message string) itemEdit {
	e := addEdit(sec, to, -1, item, message)
	e.summary = sec.Title + ": renamed " + sec.Noun + " " + strconv.Quote(from) + " to " + strconv.Quote(to)
	e.op = func(t map[string]any) (string, error) {
		if err := sec.remove(t, from); err != nil {
			return "", err
		}
		return sec.add(t, to, -1, item)
	}
	return e
}

// formEdit runs an edit from a form: on success to the change page, on
// invalid input back to the form with the errors at their fields.
func (s *Server) formEdit(c *echo.Context, page editPage, form url.Values, e itemEdit) error {
	out, err := s.applyEdit(c, e)
	if err == nil {
		return seeOther(c, "/change?done=proposed")
	}
	if !errors.Is(err, errInvalid) {
		return s.formError(c, page, form, changeError(err))
	}
	page.Values = submitted(page.Sec, form)
	page.Errors = map[string][]string{}
	for _, fe := range out.fields {
		if fe.Field != "" && fe.Field != "-" {
			page.Errors[fe.Field] = append(page.Errors[fe.Field], sentence(fe.Message))
		} else {
			page.General = append(page.General, fe)
		}
	}
	pd := s.page(c, "Edit "+page.Sec.Noun, page.Sec.Page, page)
	pd.Error = "The change was not applied: fix the fields marked below."
	return s.render(c, http.StatusUnprocessableEntity, "edit.html", pd)
}

// formError shows a refusal (busy, apply failed) on the form, keeping
// what the admin typed.
func (s *Server) formError(c *echo.Context, page editPage, form url.Values, err error) error {
	var he *echo.HTTPError
	if !errors.As(err, &he) || he.Code >= 500 {
		return err
	}
	page.Values = submitted(page.Sec, form)
	pd := s.page(c, "Edit "+page.Sec.Noun, page.Sec.Page, page)
	pd.Error = sentence(he.Message)
	return s.render(c, he.Code, "edit.html", pd)
}

func submitted(sec *section, form url.Values) map[string]string {
	vals := map[string]string{}
	for _, f := range sec.Fields {
		vals[f.Name] = form.Get(f.Name)
	}
	return vals
}

func (s *Server) postDeleteItem(c *echo.Context) error {
	sec, err := s.sectionByName(c.Param("section"))
	if err != nil {
		return err
	}
	key := c.Param("key")
	old, err := s.itemAt(sec, key)
	if err != nil {
		return changeError(err)
	}
	return s.listEdit(c, sec, removeEdit(sec, key, old, ""))
}

func (s *Server) postMoveItem(c *echo.Context) error {
	sec, err := s.sectionByName(c.Param("section"))
	if err != nil {
		return err
	}
	form, err := postForm(c)
	if err != nil {
		return err
	}
	t, err := s.runningTree()
	if err != nil {
		return changeError(err)
	}
	key := c.Param("key")
	old, err := sec.get(t, key)
	if err != nil {
		return itemError(err)
	}
	i, _ := strconv.Atoi(key)
	to := i - 1
	if form.Get("dir") == "down" {
		to = i + 1
	}
	if !sec.Movable || to < 0 || to >= len(sec.items(t)) {
		return echo.NewHTTPError(http.StatusBadRequest, "cannot move that item there")
	}
	return s.listEdit(c, sec, moveEdit(sec, key, to, old, ""))
}

// listEdit runs a delete or move from a list page. Validation problems
// (say, an alias still referenced) go back to the list page.
func (s *Server) listEdit(c *echo.Context, sec *section, e itemEdit) error {
	out, err := s.applyEdit(c, e)
	if err == nil {
		return seeOther(c, "/change?done=proposed")
	}
	if !errors.Is(err, errInvalid) {
		return changeError(err)
	}
	msg := "The change was not applied: " + joinMessages(out.fields)
	if sec.Page == "ha" {
		return s.renderHA(c, http.StatusUnprocessableEntity, msg)
	}
	fw, _ := s.be.Firewall()
	views, verr := s.sectionViews(sec.Page, fw.Counters)
	if verr != nil {
		return changeError(verr)
	}
	pd := s.page(c, "Rules", "rules", views)
	pd.Error = msg
	return s.render(c, http.StatusUnprocessableEntity, "rules.html", pd)
}

func joinMessages(fes []fieldError) string {
	msg := ""
	for i, fe := range fes {
		if i > 0 {
			msg += "; "
		}
		if fe.Path != "" {
			msg += fe.Path + ": "
		}
		msg += fe.Message
	}
	return msg
}
