package vmtest

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"rampart/config"
	"rampart/firewall"
	"rampart/image"
)

// The stick's config must compile to a ruleset the default's cannot be
// taken for, or expectRuleset proves nothing.
func TestStickConfigDiffersFromDefault(t *testing.T) {
	a, err := firewall.Compile(mustParse(t, stickConfig))
	if err != nil {
		t.Fatal(err)
	}
	b, err := firewall.Compile(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	if a.Elements() == b.Elements() {
		t.Fatalf("stick config and default both compile to %d set elements", a.Elements())
	}
}

// BIOS, from CD, with a stick: PID 1, modules, the stick's ruleset, the
// web UI through a forward to 127.0.0.1, then ctrl-alt-del reboots
// cleanly with the stick unmounted.
func TestBootBIOSCDStick(t *testing.T) {
	t.Parallel()
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	vm := boot(t, Options{Firmware: BIOS, Boot: CD, Stick: makeStick(t, false), Forward: map[int]int{port: 443}})
	expectBooted(t, vm)
	expect(t, vm, `msg="config loaded" .*source=stick .*hostname=sticktest`, bootTimeout)
	expectRuleset(t, vm, mustParse(t, stickConfig))
	checkWebUI(t, vm, port)

	vm.Mark()
	if err := vm.Monitor("sendkey ctrl-alt-delete"); err != nil {
		t.Fatal(err)
	}
	expect(t, vm, `msg="reboot requested"`, stepTimeout)
	expect(t, vm, `msg="stick unmounted"`, stepTimeout)
	expect(t, vm, `rampart: rebooting`, stepTimeout)
	if err := vm.Wait(stepTimeout); err != nil {
		t.Fatal(err)
	}
}

// checkWebUI fetches the web UI's first page through the forward and
// checks that it presents the certificate whose fingerprint the console
// shows.
func checkWebUI(t *testing.T, vm *VM, port int) {
	t.Helper()
	m := expect(t, vm, `msg="web UI listening" .*sha256=([0-9A-Fa-f:]+)`, stepTimeout)
	want := strings.ToLower(strings.ReplaceAll(m[1], ":", ""))
	client := &http.Client{
		Timeout: 20 * time.Second,
		Transport: &http.Transport{
			// Self-signed; the pin is the fingerprint check below.
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	var resp *http.Response
	var err error
	// Bounded retries: slirp forwards may lag the listen by a moment.
	for i := 0; i < 10; i++ {
		resp, err = client.Get(fmt.Sprintf("https://127.0.0.1:%d/", port))
		if err == nil {
			break
		}
		time.Sleep(2 * time.Second)
	}
	if err != nil {
		t.Fatalf("web UI through 127.0.0.1:%d: %v", port, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 500 {
		t.Errorf("web UI answered %s", resp.Status)
	}
	sum := sha256.Sum256(resp.TLS.PeerCertificates[0].Raw)
	if got := hex.EncodeToString(sum[:]); got != want {
		t.Errorf("web UI certificate sha256 %s, console shows %s", got, want)
	}
}

// UEFI, from USB, without a stick: the embedded default runs, loudly.
func TestBootUEFIUSBNoStick(t *testing.T) {
	t.Parallel()
	vm := boot(t, Options{Firmware: UEFI, Boot: USB})
	expectBooted(t, vm)
	expect(t, vm, `NO CONFIG STICK`, bootTimeout)
	expectRuleset(t, vm, config.Default())
}

// UEFI, from CD, with a stick partitioned the way Windows does it.
func TestBootUEFICDPartitionedStick(t *testing.T) {
	t.Parallel()
	vm := boot(t, Options{Firmware: UEFI, Boot: CD, Stick: makeStick(t, true)})
	expectBooted(t, vm)
	expect(t, vm, `msg="config loaded" .*source=stick .*hostname=sticktest`, bootTimeout)
	expectRuleset(t, vm, mustParse(t, stickConfig))
}

// BIOS, from USB, with a stick: the ISO written to a USB disk boots too.
// Then the stick is pulled: the box says so and keeps running from RAM.
func TestBootBIOSUSBStick(t *testing.T) {
	t.Parallel()
	vm := boot(t, Options{Firmware: BIOS, Boot: USB, Stick: makeStick(t, false)})
	expectBooted(t, vm)
	expect(t, vm, `msg="config loaded" .*source=stick .*hostname=sticktest`, bootTimeout)
	expectRuleset(t, vm, mustParse(t, stickConfig))

	vm.Mark()
	if err := vm.Monitor("device_del " + StickDevice); err != nil {
		t.Fatal(err)
	}
	expect(t, vm, `CONFIG STICK REMOVED`, stepTimeout)
}

// Config writes from inside the VM (the test-writes flag), the power cut
// in the middle of one, and a boot that still finds a valid config. The
// web UI's process, beside PID 1, keeps its certificate on the stick:
// the second boot serves the first one's (rampart/internal/stickrw).
func TestPowerCutDuringConfigWrite(t *testing.T) {
	t.Parallel()
	res := needImage(t)
	stick := makeStick(t, false)
	direct := Options{Firmware: BIOS, Kernel: res.Kernel, Initrd: res.Initramfs, Stick: stick}

	first := direct
	first.Append = image.Cmdline + " rampart.testwrites"
	vm := boot(t, first)
	expectBooted(t, vm)
	cert := expect(t, vm, webUICert, bootTimeout)[1]
	expect(t, vm, `msg="test write saved" .*n=3 `, bootTimeout)
	// The writes run back to back, so the kill lands in one of them.
	vm.Kill()

	second := direct
	second.Append = image.Cmdline
	vm = boot(t, second)
	expectBooted(t, vm)
	m := expect(t, vm, `msg="config loaded" .*source=stick version=(\d+) `, bootTimeout)
	t.Logf("after the power cut the stick loads version %s", m[1])
	expectRuleset(t, vm, mustParse(t, stickConfig))
	if got := expect(t, vm, webUICert, stepTimeout)[1]; got != cert {
		t.Errorf("web UI certificate %s after the reboot, %s before: it was not kept on the stick", got, cert)
	}
}

// webUICert matches the web UI's listening line; the group is the
// certificate's fingerprint.
const webUICert = `msg="web UI listening" .*sha256=([0-9A-Fa-f:]+)`

// A stick with no config: the appliance, a child of PID 1, seeds the
// embedded default into it, remounting the read-only stick around the
// write (rampart/internal/stickrw); after a clean reboot the stick holds
// the default as its rampart.yaml.
func TestEmptyStickSeededByAppliance(t *testing.T) {
	t.Parallel()
	res := needImage(t)
	stick := filepath.Join(t.TempDir(), "stick.img")
	if err := (Stick{}).Make(stick); err != nil {
		t.Fatal(err)
	}
	vm := boot(t, Options{Firmware: BIOS, Kernel: res.Kernel, Initrd: res.Initramfs, Append: image.Cmdline, Stick: stick})
	expectBooted(t, vm)
	expect(t, vm, `THE CONFIG STICK HOLDS NO VALID CONFIG`, bootTimeout)
	expectRuleset(t, vm, config.Default())
	if err := vm.Monitor("sendkey ctrl-alt-delete"); err != nil {
		t.Fatal(err)
	}
	expect(t, vm, `msg="stick unmounted"`, stepTimeout)
	if err := vm.Wait(stepTimeout); err != nil {
		t.Fatal(err)
	}
	if got := vm.Lines(regexp.MustCompile(`appliance exited`)); len(got) > 0 {
		t.Errorf("the appliance exited %d times, first: %s", len(got), got[0][0])
	}
	got, err := ReadStickFile(stick, false, "rampart.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(config.DefaultYAML()), string(got)); diff != "" {
		t.Errorf("rampart.yaml on the stick (-want +got):\n%s", diff)
	}
}

// haConfig is one node of a pair: eth0 is the user network, eth1 the
// LAN link between the two VMs that carries the VIP, eth2 the heartbeat.
func haConfig(node string, prio int) string {
	n := map[string]string{"a": "2", "b": "3"}[node]
	sync := map[string]string{"a": "1", "b": "2"}[node]
	peer := map[string]string{"a": "2", "b": "1"}[node]
	return fmt.Sprintf(`schema_version: 1
hostname: fw-%[1]s
interfaces:
  mgmt:
    device: eth0
    addresses: [10.0.2.15/24]
  lan:
    device: eth1
    addresses: [10.99.0.%[2]s/24]
  sync:
    device: eth2
    addresses: [10.98.0.%[3]s/30]
rules:
  - comment: LAN clients may reach anything
    from: { interface: lan }
    action: accept
management:
  interfaces: [mgmt]
ha:
  node_id: %[1]s
  heartbeat: sync
  peers: [10.98.0.%[4]s]
  auth:
    key_id: 1
    passphrase: vmtest-advert-key
  groups:
    - vhid: 1
      priority: %[5]d
      vips:
        - { interface: lan, address: 10.99.0.1/24 }
`, node, n, sync, peer, prio)
}

// masterNow reports whether a node holds the VIPs: it added them more
// often than it removed them.
func masterNow(vm *VM) bool {
	added := len(vm.Lines(regexp.MustCompile(`carp: VIPs added`)))
	removed := len(vm.Lines(regexp.MustCompile(`carp: VIPs removed`)))
	return added > removed
}

// Two VMs joined by virtual links elect one master, and powering the
// master off moves the VIP to the other.
func TestCARPFailover(t *testing.T) {
	t.Parallel()
	res := needImage(t)
	ports := make([]int, 4)
	for i := range ports {
		p, err := FreeUDPPort()
		if err != nil {
			t.Fatal(err)
		}
		ports[i] = p
	}
	node := func(name string, prio int, lan, sync []string) *VM {
		stick := filepath.Join(t.TempDir(), "stick-"+name+".img")
		s := Stick{Files: map[string][]byte{"rampart.yaml": []byte(haConfig(name, prio))}}
		if err := s.Make(stick); err != nil {
			t.Fatal(err)
		}
		return boot(t, Options{Firmware: BIOS, Kernel: res.Kernel, Initrd: res.Initramfs, Append: image.Cmdline,
			Stick: stick, Net: append(lan, sync...)})
	}
	a := node("a", 200, Link("lan", ports[0], ports[1]), Link("sync", ports[2], ports[3]))
	b := node("b", 100, Link("lan", ports[1], ports[0]), Link("sync", ports[3], ports[2]))
	for _, vm := range []*VM{a, b} {
		expectBooted(t, vm)
		expect(t, vm, `msg="ha started"`, bootTimeout)
	}
	// a has the higher priority: it ends up master, b backup.
	expect(t, a, `carp: VIPs added`, stepTimeout)
	deadline := time.Now().Add(stepTimeout)
	for masterNow(b) && time.Now().Before(deadline) {
		time.Sleep(time.Second)
	}
	if !masterNow(a) || masterNow(b) {
		t.Fatalf("want a master and b backup; a master %v, b master %v", masterNow(a), masterNow(b))
	}

	b.Mark()
	a.Kill()
	expect(t, b, `carp: VIPs added`, stepTimeout)
}
