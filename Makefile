# Rampart. `make demo` and `make test` work on a fresh Debian machine as
# root: they install what they need themselves.

GO ?= $(shell command -v go 2>/dev/null || echo /usr/local/go/bin/go)
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
export CGO_ENABLED = 0

# Debian packages: the lab and kernel tests (iproute2), the nft/iptables
# peers the tests and benchmarks compare against, the load tools, and the
# browser the web UI tests drive (chromium).
DEBS = iproute2 procps nftables iptables iperf3 ethtool conntrack iputils-ping curl chromium

# The peers some benchmarks run side by side with ours.
BENCH_DEBS = conntrackd keepalived

.PHONY: all build test demo deps vet bench-ruleset bench-forward bench-ctcommit bench-failover sim clean lab-down

all: build

build:
	$(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o bin/rampart ./cmd/rampart

deps:
	@scripts/deps.sh $(DEBS)

vet:
	$(GO) vet ./...

# Every test, the kernel tests as root included.
# One test binary at a time (-p 1): the kernel, lab, browser and VM tests
# share the machine's two cores, and the failover tests measure timing;
# run side by side they only slow each other into flakes. -count=1: kernel,
# lab and VM results depend on more than the files go test can see.
test: deps image-deps vet
	$(GO) build ./...
	$(GO) test -p 1 -count=1 -timeout 50m ./...

# The lab with the embedded default config; Ctrl-C tears it down.
demo: deps build
	bin/rampart lab demo

# Remove whatever a killed lab or test run left behind.
lab-down: build
	bin/rampart lab down

bench-ruleset: deps
	$(GO) run ./bench/ruleset

bench-forward: deps build
	$(GO) run ./bench/forward

bench-ctcommit: deps
	@scripts/deps.sh $(BENCH_DEBS)
	$(GO) run ./bench/ctcommit

# Failover gap against keepalived, planned switchover, CPU hog (bench/failover).
bench-failover: deps build
	@scripts/deps.sh $(BENCH_DEBS)
	$(GO) run ./bench/failover

# The CARP simulation at length: 10 million steps, new seeds every run.
sim:
	$(GO) test ./carp/sim -run TestSimLong -sim.steps=10000000 -timeout 60m -v

clean:
	rm -rf bin out

# The web UI under 50 clients for 30 s, and carp's adverts meanwhile (bench/ui).
.PHONY: bench-ui
bench-ui: deps
	$(GO) run ./bench/ui

# The bootable image (out/rampart.iso) and its boot benchmark. The image
# is made from Debian packages only; qemu and OVMF boot it in the tests.
IMAGE_DEBS = isolinux syslinux-common grub-efi-amd64-bin xorriso mtools dosfstools qemu-system-x86 ovmf
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 1704067200)

.PHONY: image image-deps bench-boot

image-deps:
	@scripts/deps.sh $(IMAGE_DEBS)

image: image-deps
	$(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o out/rampart ./cmd/rampart
	SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) $(GO) run ./image/cmd/mkimage -binary out/rampart -o out/rampart.iso -cache out/cache

bench-boot: image
	$(GO) run ./bench/boot -iso out/rampart.iso -initrd out/initrd.img

# State sync against conntrackd, side by side: flows surviving the lab's
# failover, replication rate and lag, commit of 100,000 (bench/sync).
.PHONY: bench-sync
bench-sync: deps build
	@scripts/deps.sh $(BENCH_DEBS)
	$(GO) run ./bench/sync -ctcommit "$(GO) run ./bench/ctcommit -runs 3" -labtest "$(GO) test ./lab -run ^TestSyncFailoverLinksCut$$ -count=1 -v"
