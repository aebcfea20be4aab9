package webui

import (
	"fmt"
	"html/template"
	"net/url"
	"strings"
	"time"

	"rampart/webui/chart"
	"rampart/webui/linediff"
)

// tableArgs is what the "sectiontable" partial needs.
type tableArgs struct {
	View sectionView
	CSRF string
}

// templateFuncs are the helpers pages use to format values.
func templateFuncs() template.FuncMap {
	return template.FuncMap{
		"bytes":   func(n uint64) string { return chart.SI(float64(n)) + "B" },
		"count":   func(n uint64) string { return chart.SI(float64(n)) },
		"when":    formatTime,
		"dur":     formatDuration,
		"short":   func(h string) string { return h[:min(len(h), 12)] },
		"join":    strings.Join,
		"svg":     func(b []byte) template.HTML { return template.HTML(b) }, // chart escapes every text it writes
		"path":    url.PathEscape,
		"query":   url.QueryEscape,
		"add":     func(a, b int) int { return a + b },
		"opchar":  func(o linediff.Op) string { return string(rune(o)) },
		"table":   func(v sectionView, csrf string) tableArgs { return tableArgs{View: v, CSRF: csrf} },
		"checked": func(v string) bool { return v != "" },
		"addr":    addrPort,
	}
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

func formatDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "0"
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	}
	return d.Round(time.Second).String()
}
