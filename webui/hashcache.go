package webui

import (
	"sync"

	"rampart/config"
	"rampart/webui/configsync"
)

// sharedHashCache remembers the shared-config hash of the config in
// force. The dashboard and /api/v1/status show it on every request, and
// hashing marshals the whole config: under load that was a quarter of
// the server's CPU. The backend hands out a new *config.Config for every
// change and never edits one in force, so the pointer is the key.
type sharedHashCache struct {
	mu   sync.Mutex
	cfg  *config.Config
	hash string
}

func (c *sharedHashCache) get(cfg *config.Config) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cfg != c.cfg || c.hash == "" {
		c.hash, _ = configsync.SharedHash(cfg, nil)
		c.cfg = cfg
	}
	return c.hash
}
