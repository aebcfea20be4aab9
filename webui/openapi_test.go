package webui

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"
)

// apiRoutesOf lists the registered /api/v1 routes as "METHOD /path" with
// OpenAPI's {param} syntax, relative to the server URL.
func apiRoutesOf(s *Server) []string {
	param := regexp.MustCompile(`:(\w+)`)
	var out []string
	for _, r := range s.echo.Router().Routes() {
		p, ok := strings.CutPrefix(r.Path, "/api/v1")
		if !ok || r.Method == echoAny {
			continue
		}
		out = append(out, r.Method+" "+param.ReplaceAllString(p, "{$1}"))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

const echoAny = "echo_route_any"

func TestOpenAPICoversRoutes(t *testing.T) {
	e := newEnv(t)
	var doc struct {
		OpenAPI string                    `yaml:"openapi"`
		Servers []struct{ URL string }    `yaml:"servers"`
		Paths   map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(openAPI, &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	if doc.OpenAPI != "3.1.0" || len(doc.Servers) != 1 || doc.Servers[0].URL != "/api/v1" {
		t.Errorf("openapi %q servers %v", doc.OpenAPI, doc.Servers)
	}
	var documented []string
	for p, ops := range doc.Paths {
		for m := range ops {
			if m != "parameters" {
				documented = append(documented, strings.ToUpper(m)+" "+p)
			}
		}
	}
	slices.Sort(documented)
	if diff := cmp.Diff(documented, apiRoutesOf(e.srv)); diff != "" {
		t.Errorf("routes vs openapi.yaml (-documented +registered):\n%s", diff)
	}
	refs := regexp.MustCompile(`\$ref: "#/components/(\w+)/(\w+)"`).FindAllStringSubmatch(string(openAPI), -1)
	var comps struct {
		Components map[string]map[string]any `yaml:"components"`
	}
	yaml.Unmarshal(openAPI, &comps)
	for _, r := range refs {
		if _, ok := comps.Components[r[1]][r[2]]; !ok {
			t.Errorf("dangling $ref %s/%s", r[1], r[2])
		}
	}
}

// Every API route refuses a request without credentials, and answers a
// token (with whatever status the missing body or id earns).
func TestAPIAuth(t *testing.T) {
	e, b := adminEnv(t)
	tok := e.token(b, "ci")
	for _, route := range apiRoutesOf(e.srv) {
		method, path, _ := strings.Cut(route, " ")
		path = "/api/v1" + regexp.MustCompile(`\{\w+\}`).ReplaceAllString(path, "0")
		anon := e.browser("192.0.2.80:1")
		// Unsafe methods meet the CSRF check (403) before authentication.
		if resp := anon.do(anon.request(method, path, "", nil)); resp.StatusCode != http.StatusUnauthorized && (safeMethod(method) || resp.StatusCode != http.StatusForbidden) {
			t.Errorf("%s %s without credentials: %d, want 401 (or 403 for unsafe methods)", method, path, resp.StatusCode)
		}
		r := anon.request(method, path, "", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		if resp := anon.do(r); resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden || resp.StatusCode >= 500 {
			t.Errorf("%s %s with a token: %d %s", method, path, resp.StatusCode, readBody(resp))
		}
	}
	// A browser session works too, but its unsafe requests need the CSRF token.
	r := b.request(http.MethodPut, "/api/v1/maintenance", "application/json", strings.NewReader(`{"enabled":true}`))
	if resp := b.do(r); resp.StatusCode != http.StatusForbidden {
		t.Errorf("session PUT without the CSRF header: %d, want 403", resp.StatusCode)
	}
	if v, ok := e.srv.pendingChange(); ok { // the DELETE above proposed one
		b.api(http.MethodPost, "/api/v1/change/revert", changeIDRequest{ID: v.ID})
	}
	if resp := b.api(http.MethodPut, "/api/v1/maintenance", map[string]bool{"enabled": true}); resp.StatusCode != http.StatusOK {
		t.Errorf("session PUT with the CSRF header: %d %s", resp.StatusCode, readBody(resp))
	}
}
