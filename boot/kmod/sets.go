package kmod

// The modules the appliance needs, by when PID 1 loads them. The image
// holds all of them with their dependencies and soft dependencies; the
// lists live here so that the image builder and PID 1 cannot disagree.
var (
	// Storage modules are loaded at boot, after the USB host drivers
	// (Hardware), so that the config stick shows up.
	// crc64_rocksoft_generic comes first: sd_mod needs the crc64-rocksoft
	// library, whose softdep names the crc64 library instead of this
	// provider, and without it the kernel asks /sbin/modprobe.
	Storage = []string{"usb_storage", "uas", "crc64_rocksoft_generic", "sd_mod"}
	// Firewall modules are loaded at boot, beside Storage. nf_tables
	// itself holds counter, cmp, bitwise, byteorder, payload, immediate,
	// lookup and meta. nfnetlink_log is here because the daemon binds
	// its NFLOG group as it starts: left to the kernel, the request costs
	// an exec of /sbin/modprobe, 0.2 s and more under emulation.
	Firewall = []string{
		"nf_tables", "nft_ct", "nft_reject_inet", "nft_nat", "nft_masq", "nft_chain_nat",
		"nf_conntrack", "nf_nat", "nfnetlink_log",
	}
	// Hardware modules are loaded when a device needs them: PID 1 matches
	// the modalias of every PCI and virtio device against modules.alias,
	// as udev's coldplug does, so a box loads only its own drivers.
	Hardware = []string{
		"xhci_pci", "ehci_pci",
		"virtio_pci", "virtio_net", "virtio_blk", "virtio_scsi",
		"e1000", "e1000e", "igb", "r8169",
	}
	// Late modules are loaded once the appliance is up: a USB keyboard
	// (so ctrl-alt-del reboots a real box cleanly), rule logging,
	// ctnetlink for state sync and CARP's macvlans. Should the appliance
	// need one sooner, the kernel asks /sbin/modprobe for it.
	Late = []string{
		"usbhid", "hid_generic",
		"nft_log", "nf_log_syslog", "nf_conntrack_netlink", "macvlan",
	}
	// OnDemand modules are loaded when asked for: the file system of the
	// stick before it is mounted, and through /sbin/modprobe when the
	// kernel requests one (a CD, an ext4 stick).
	OnDemand = []string{
		"vfat", "ext4", "isofs", "sr_mod",
		"nls_cp437", "nls_ascii", "nls_iso8859_1", "nls_utf8",
	}
)

// All is every module the image must hold.
func All() []string {
	var out []string
	for _, l := range [][]string{Storage, Firewall, Hardware, Late, OnDemand} {
		out = append(out, l...)
	}
	return out
}
