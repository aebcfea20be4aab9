// Package examples holds the shipped example configs, embedded so that
// `rampart lab demo` can run the HA pair from the very files the docs
// show and the config tests parse.
package examples

import _ "embed"

// HAA and HAB are the two nodes of the lab's HA pair (ha-a.yaml,
// ha-b.yaml): the embedded default config's rules and NAT, with the
// addresses, ha and statesync sections of each node.
var (
	//go:embed ha-a.yaml
	HAA []byte
	//go:embed ha-b.yaml
	HAB []byte
)
