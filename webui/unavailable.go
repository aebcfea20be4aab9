package webui

import (
	"context"

	"rampart/config"
	"rampart/config/store"
)

// unavailable stands in for a missing Backend, so the pages answer
// "not available" rather than crash.
type unavailable struct{}

func (unavailable) Running() (*config.Config, store.Version)    { return nil, store.Version{} }
func (unavailable) Apply(context.Context, *config.Config) error { return ErrUnavailable }
func (unavailable) Commit([]byte, store.Meta) (store.Version, error) {
	return store.Version{}, ErrUnavailable
}
func (unavailable) History() ([]store.Version, error) { return nil, ErrUnavailable }
func (unavailable) Version(uint64) ([]byte, store.Version, error) {
	return nil, store.Version{}, ErrUnavailable
}
func (unavailable) Firewall() (FirewallStatus, error)      { return FirewallStatus{}, ErrUnavailable }
func (unavailable) Interfaces() ([]InterfaceStatus, error) { return nil, ErrUnavailable }
func (unavailable) HA() HAStatus                           { return HAStatus{} }
func (unavailable) StateSync() SyncStatus                  { return SyncStatus{} }
func (unavailable) Conntrack(context.Context, ConnQuery) (ConnPage, error) {
	return ConnPage{}, ErrUnavailable
}
func (unavailable) Logs(uint64, int) []LogLine { return nil }
