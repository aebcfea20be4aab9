// Package browsertest drives the web UI the way an admin does: Debian's
// chromium, headless, through chromedp, against a real rampart daemon in
// the namespace lab. Its tests need root (the lab) and chromium; `make
// test` installs chromium, and under CI=1 a missing chromium fails the
// run instead of skipping it.
//
// The browser runs on the host and reaches the UI through
// internal/nsforward, which dials every connection anew from the client
// namespace: the UI sees the LAN client 192.168.1.100 arriving on its
// management interface, which is the path the tests are about (a lockout
// cuts exactly that path).
//
// With RAMPART_SCREENSHOTS=1 the tests write PNGs of the main pages to
// docs/screenshots/, which docs/webui.md shows.
package browsertest
