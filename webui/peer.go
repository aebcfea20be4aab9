package webui

import (
	"net/netip"

	"github.com/labstack/echo/v5"
)

// peerAddr is the TCP peer: the only client address the UI believes.
// Forwarded headers are ignored, so a guesser cannot pose as many clients.
func peerAddr(c *echo.Context) netip.Addr {
	ap, err := netip.ParseAddrPort(c.Request().RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

func peerString(c *echo.Context) string {
	if a := peerAddr(c); a.IsValid() {
		return a.String()
	}
	return "unknown"
}
