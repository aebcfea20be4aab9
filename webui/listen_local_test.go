package webui

import (
	"net/http/httptest"
	"testing"
)

// newLocalServer serves s on 127.0.0.1 with its connection marks, over
// plain HTTP (API tokens need no Secure cookie).
func newLocalServer(t *testing.T, s *Server) *httptest.Server {
	t.Helper()
	ts := httptest.NewUnstartedServer(s.Handler())
	ts.Config.ConnContext = s.connContext
	ts.Start()
	t.Cleanup(ts.Close)
	return ts
}
