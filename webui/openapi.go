package webui

import (
	_ "embed"
	"net/http"

	"github.com/labstack/echo/v5"
)

// openAPI documents /api/v1; it is served as written.
//
//go:embed openapi.yaml
var openAPI []byte

func serveOpenAPI(c *echo.Context) error {
	return c.Blob(http.StatusOK, "application/yaml", openAPI)
}
