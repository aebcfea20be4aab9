package webui

// ChangePending reports whether a change awaits confirmation. The daemon
// asks before a SIGHUP reload, which would otherwise put a config in
// force under the pending change and be undone by its revert.
func (s *Server) ChangePending() bool {
	_, ok := s.pendingChange()
	return ok
}
