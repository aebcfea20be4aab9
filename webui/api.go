package webui

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"time"

	"github.com/labstack/echo/v5"

	"rampart/webui/auth"
)

// sessionInfo answers GET /api/v1/session: who am I.
type sessionInfo struct {
	Actor string `json:"actor"`
	Via   string `json:"via"` // "session" or "token"
}

func (s *Server) apiSession(c *echo.Context) error {
	p, _ := principalOf(c)
	return c.JSON(http.StatusOK, sessionInfo{Actor: p.Actor, Via: p.Via})
}

// tokenInfo is an API token as listed: never its secret or hash.
type tokenInfo struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Created time.Time `json:"created"`
	Token   string    `json:"token,omitempty"` // only in the creation response
}

type tokenList struct {
	Tokens []tokenInfo `json:"tokens"`
}

func (s *Server) apiListTokens(c *echo.Context) error {
	out := tokenList{Tokens: []tokenInfo{}}
	for _, t := range s.snapshot().Tokens {
		out.Tokens = append(out.Tokens, tokenInfo{ID: t.ID, Name: t.Name, Created: t.Created})
	}
	return c.JSON(http.StatusOK, out)
}

type createTokenRequest struct {
	Name string `json:"name"`
}

// apiCreateToken makes a token and returns its secret, once.
func (s *Server) apiCreateToken(c *echo.Context) error {
	var req createTokenRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	secret, tok, err := auth.NewAPIToken(req.Name, s.now())
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, err.Error())
	}
	err = s.updateState(func(st *auth.State) error {
		if len(st.Tokens) >= auth.MaxAPITokens {
			return echo.NewHTTPError(http.StatusConflict, fmt.Sprintf("already %d API tokens; revoke one first", auth.MaxAPITokens))
		}
		for _, t := range st.Tokens {
			if t.Name == tok.Name {
				return echo.NewHTTPError(http.StatusConflict, fmt.Sprintf("an API token named %q exists", tok.Name))
			}
		}
		st.Tokens = append(st.Tokens, tok)
		return nil
	})
	if err != nil {
		return stateError(err)
	}
	p, _ := principalOf(c)
	s.record(c, p.Actor, "token.create", fmt.Sprintf("created API token %q", tok.Name), map[string]string{"id": tok.ID, "name": tok.Name})
	return c.JSON(http.StatusCreated, tokenInfo{ID: tok.ID, Name: tok.Name, Created: tok.Created, Token: secret})
}

func (s *Server) apiRevokeToken(c *echo.Context) error {
	id := c.Param("id")
	var revoked auth.APIToken
	err := s.updateState(func(st *auth.State) error {
		for i, t := range st.Tokens {
			if t.ID == id {
				revoked = t
				st.Tokens = append(st.Tokens[:i], st.Tokens[i+1:]...)
				return nil
			}
		}
		return echo.NewHTTPError(http.StatusNotFound, "no API token with that id")
	})
	if err != nil {
		return stateError(err)
	}
	p, _ := principalOf(c)
	s.record(c, p.Actor, "token.revoke", fmt.Sprintf("revoked API token %q", revoked.Name), map[string]string{"id": revoked.ID, "name": revoked.Name})
	return c.NoContent(http.StatusNoContent)
}

// stateError passes a client error through and wraps anything else
// (a failed save) as a 500 whose cause is logged, not shown.
func stateError(err error) error {
	var he *echo.HTTPError
	if errors.As(err, &he) {
		return he
	}
	return echo.ErrInternalServerError.Wrap(err)
}

// decodeJSON reads one JSON object into v, strictly: unknown fields and
// trailing data are errors, so a typo in a script fails loudly.
func decodeJSON(c *echo.Context, v any) error {
	r := c.Request()
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return echo.NewHTTPError(http.StatusUnsupportedMediaType, "send Content-Type: application/json")
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return echo.NewHTTPError(http.StatusBadRequest, "invalid JSON: data after the object")
	}
	return nil
}

func jsonError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return bodyError(err)
	}
	return echo.NewHTTPError(http.StatusBadRequest, "invalid JSON: "+err.Error())
}
