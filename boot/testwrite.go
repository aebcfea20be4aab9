package boot

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"rampart/config/store"
)

// TestWritesFlag on the kernel command line makes PID 1 save the running
// config to the stick again and again after boot, each version padded to
// TestWritePadding bytes so a write takes a while. It exists for the
// power-cut test, which kills the VM in the middle of a write and boots
// again to show the stick still loads a valid config. Only the boot
// loader's command line sets it, which nobody reaches from the network.
const (
	TestWritesFlag   = "rampart.testwrites"
	TestWritePadding = 256 << 10
)

// testWrites saves versions until ctx ends, logging each id.
func testWrites(ctx context.Context, log *slog.Logger, st *store.Store, base []byte) {
	log.Warn("test writes enabled on the kernel command line", "flag", TestWritesFlag)
	for n := 1; ctx.Err() == nil; n++ {
		v, err := st.Save(testVersion(base, n), store.Meta{Author: "boot", Source: "testwrites", Message: "test write " + strconv.Itoa(n)})
		if err != nil {
			log.Error("test write failed", "n", n, "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
			continue
		}
		log.Info("test write saved", "n", n, "id", v.ID)
	}
}

// testVersion is the config with a comment block that differs per write,
// so that every version has different bytes and a good size.
func testVersion(base []byte, n int) []byte {
	var b bytes.Buffer
	b.Write(base)
	if len(base) > 0 && base[len(base)-1] != '\n' {
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "# test write %d\n", n)
	line := fmt.Sprintf("# padding for test write %d ................................................\n", n)
	for b.Len() < TestWritePadding {
		b.WriteString(line)
	}
	return b.Bytes()
}
