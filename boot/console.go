package boot

import (
	"bufio"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// consoles writes to every console the kernel has (/proc/consoles): the
// serial port and the screen both show the same lines.
type consoles struct {
	mu sync.Mutex
	ws []io.Writer
}

func openConsoles() *consoles {
	c := &consoles{}
	f, err := os.Open("/proc/consoles")
	if err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) == 0 {
				continue
			}
			if w, err := os.OpenFile("/dev/"+fields[0], os.O_WRONLY|unix.O_NOCTTY, 0); err == nil {
				c.ws = append(c.ws, w)
			}
		}
		f.Close()
	}
	if len(c.ws) == 0 {
		if w, err := os.OpenFile("/dev/console", os.O_WRONLY|unix.O_NOCTTY, 0); err == nil {
			c.ws = append(c.ws, w)
		} else {
			c.ws = append(c.ws, os.Stderr)
		}
	}
	return c
}

// Write writes p to every console. A console that fails is skipped: the
// others still show it.
func (c *consoles) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, w := range c.ws {
		_, _ = w.Write(p)
	}
	return len(p), nil
}

// newLogger logs text lines to the consoles. The kernel's own lines carry
// the uptime; ours carry the wall time. rampart.debug on the kernel
// command line shows debug lines.
func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{
		Level: level,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey && len(groups) == 0 {
				return slog.String("time", a.Value.Time().UTC().Format("15:04:05.000"))
			}
			return a
		},
	})).With("src", "init")
}
