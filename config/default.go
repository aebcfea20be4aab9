package config

import _ "embed"

//go:embed default.yaml
var defaultYAML []byte

// DefaultYAML returns the built-in configuration document (a copy, so that
// callers cannot change what later calls see). It is what a first boot
// without a config stick and `make demo` run, and a starting point to
// write to a stick.
func DefaultYAML() []byte {
	return append([]byte(nil), defaultYAML...)
}

// Default returns the built-in configuration, parsed and validated, with
// defaults filled in; each call returns a fresh copy. TestDefault proves
// that the embedded file parses, which is why there is no error to return:
// the nil result for a broken file can only happen in a build whose tests
// failed.
func Default() *Config {
	c, err := Parse("default.yaml", defaultYAML)
	if err != nil {
		return nil
	}
	return c
}
