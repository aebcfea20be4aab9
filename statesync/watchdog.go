package statesync

// bulkComplete records a complete bulk update: the watchdog stops, the
// alarm clears and the boot hold-down ends.
func (r *Receiver) bulkComplete(applied, expired int) {
	r.stopWatchdog()
	r.mu.Lock()
	r.st.bulks++
	r.st.bulkDone = true
	r.st.alarm = ""
	r.mu.Unlock()
	r.bulkOnce.Do(func() { close(r.bulkDone) })
	r.cfg.Logger.Info("state sync: bulk update received", "entries", applied, "expired", expired)
}

// armWatchdog (re)starts the bulk watchdog: unless a bulk update
// completes within BulkTimeout, it raises msg as an alarm and releases
// the boot hold-down.
func (r *Receiver) armWatchdog(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.watchStop != nil {
		r.watchStop()
	}
	r.watchGen++
	gen := r.watchGen
	r.watchStop = r.cfg.Clock.AfterFunc(r.cfg.Tuning.BulkTimeout, func() { r.watchdogFired(gen, msg) })
}

func (r *Receiver) stopWatchdog() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.watchStop != nil {
		r.watchStop()
		r.watchStop = nil
	}
	r.watchGen++
}

func (r *Receiver) watchdogFired(gen uint64, msg string) {
	r.mu.Lock()
	if gen != r.watchGen {
		r.mu.Unlock()
		return
	}
	r.watchStop = nil
	r.st.alarm = msg
	r.st.bulkDone = true
	r.mu.Unlock()
	r.cfg.Logger.Error("state sync: bulk update stuck; releasing the boot hold-down", "alarm", msg)
	r.bulkOnce.Do(func() { close(r.bulkDone) })
}
