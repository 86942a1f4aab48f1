# SPDX-License-Identifier: GPL-2.0
#
# veracam - one entry point.
#
#   make          build veracam.ko (see below) and all userspace
#   make install  install userspace, units, configuration examples, docs and man pages
#                 (meson install; DESTDIR=DIR stages them, PREFIX=/usr by default)
#   make deb      Debian packages veracamd and veracam-dkms from the tracked files
#                 (debian/build-debs: dpkg-buildpackage, lintian) into build/deb/
#   make check    install what is missing, build, run every suite; ends "N passed, N failed"
#   make demo     the whole chain in a QEMU guest (see README.md)
#   make deps     install every Debian package the project needs (idempotent)
#   make bench    benchmarks (host): tables, a summary against the goals, build/bench/bench.json
#   make fuzz     run the libFuzzer targets for longer (FUZZ_SECONDS each, default 600)
#   make soak     the adversarial suite repeated for SOAK_SECONDS (default 840: one warm-up
#                 cycle, then 10 minutes), memory checked
#
# Which kernel veracam.ko is built for, first match wins:
#   KDIR=DIR      the kernel build tree DIR
#   KVER=guest    the Debian ABI the QEMU guest boots (tests/qemu/kernel, from what
#                 Debian's linux-headers-amd64 depends on); what the tests build
#   KVER=ABI      the headers of kernel ABI (/usr/src/linux-headers-ABI)
#   (nothing)     the running kernel, when its headers are installed
#                 (/lib/modules/$(uname -r)/build); when they are not, the module is
#                 skipped with one line and userspace is built all the same

ifeq ($(KVER),guest)
override KVER := $(shell $(CURDIR)/tests/qemu/kernel abi)
ifeq ($(KVER),)
KDIR_WHY := KVER=guest: the guest's kernel ABI is unknown (see tests/qemu/kernel abi)
endif
endif
ifndef KDIR
ifneq ($(KVER),)
KDIR := $(firstword $(wildcard /usr/src/linux-headers-$(KVER) /lib/modules/$(KVER)/build) \
		    /usr/src/linux-headers-$(KVER))
else ifndef KDIR_WHY
KVER := $(shell uname -r)
KDIR := $(patsubst %/Makefile,%,$(wildcard /lib/modules/$(KVER)/build/Makefile))
endif
endif
BUILD := $(CURDIR)/build
MESON_OPTS ?=
PREFIX ?= /usr

.PHONY: all module userspace install deb check demo deps bench fuzz soak clean ktests

all: module userspace

module:
ifneq ($(KDIR_WHY),)
	@echo "module: $(KDIR_WHY)" >&2; exit 2
else ifeq ($(KDIR),)
	@echo "module: skipped: no headers for the running kernel $(KVER) (/lib/modules/$(KVER)/build); install linux-headers-$(KVER), or give KVER=guest|ABI or KDIR=DIR"
else
	@test -f $(KDIR)/Makefile || { echo "module: no kernel build tree at $(KDIR): install that kernel's headers, or give KDIR=DIR" >&2; exit 2; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules
endif

userspace: $(BUILD)/meson/build.ninja
	ninja -C $(BUILD)/meson

$(BUILD)/meson/build.ninja:
	meson setup $(BUILD)/meson -Dwerror=true $(MESON_OPTS)

# meson install from the same build; the prefix is set each time, so a build
# directory made before (or with another PREFIX) installs where asked.
install: userspace
	meson configure $(BUILD)/meson -Dprefix=$(PREFIX)
	meson install -C $(BUILD)/meson $(if $(DESTDIR),--destdir $(abspath $(DESTDIR)))

# The .debs, .buildinfo and .changes in $(BUILD)/deb, built from a copy of
# the tracked files (never this tree's build directories); lintian's summary last.
deb:
	debian/build-debs $(BUILD)/deb

# The kselftest target (tests/Makefile) with the kselftest headers and lib.mk
# taken from Debian's linux-source package (never copied into the repository).
ktests:
	tests/tools/linux-source $(BUILD)/linux-source
	mkdir -p $(BUILD)/ktests
	$(MAKE) -C tests KSFT_DIR=$(BUILD)/linux-source/tools/testing/selftests OUTPUT=$(BUILD)/ktests \
		KHDR_INCLUDES="-I$(CURDIR)/include/uapi -I$(CURDIR)/include"

deps:
	tests/tools/deps

check: deps
	tests/tools/check

# The demo installs the packages a user would (make deb, fresh each time),
# so it never shows a stale build/deb.
demo: deps
	$(MAKE) deb
	tests/tools/demo

# Benchmarks from an optimised build: each prints its own tables, then one
# summary table (figures, goals, pass/miss) and $(BUILD)/bench/bench.json.
# BENCH_SECONDS (default 60) is, per size, bench_chain's time with a hub and
# again the plain GStreamer pipeline's, alternated (at 720p also a 4-camera
# phase in each cycle); the whole run took 524 s with the default on 2 cores
# with one 4-camera phase (about 10 min with three, estimated), about 5 min
# with 20 (estimated).
bench: deps
	[ -f $(BUILD)/release/build.ninja ] || meson setup $(BUILD)/release -Dbuildtype=release -Dwerror=true
	ninja -C $(BUILD)/release
	python3 tests/bench/summary.py --build $(BUILD)/release --out $(BUILD)/bench/bench.json

fuzz: deps
	FUZZ_SECONDS=$${FUZZ_SECONDS:-600} tests/tools/check --fuzz-only

soak: deps userspace
	python3 tests/adversarial/run.py --build $(BUILD)/meson --scale 0.4 --soak $${SOAK_SECONDS:-840}

clean:
ifneq ($(wildcard $(KDIR)/Makefile),)
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean
else
	rm -f Module.symvers modules.order .*.cmd driver/*.o driver/*.ko driver/*.mod driver/*.mod.c \
		driver/modules.order driver/.*.cmd
endif
	rm -rf $(BUILD)
