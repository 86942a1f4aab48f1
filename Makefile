# SPDX-License-Identifier: GPL-2.0
#
# veracam - one entry point.
#
#   make          build veracam.ko (against Debian's kernel headers) and all userspace
#   make check    install what is missing, build, run every suite; ends "N passed, N failed"
#   make demo     the whole chain in a QEMU guest (see README.md)
#   make deps     install every Debian package the project needs (idempotent)
#   make bench    benchmarks (host): tables, a summary against the goals, build/bench/bench.json
#   make fuzz     run the libFuzzer targets for longer (FUZZ_SECONDS each, default 600)
#   make soak     the adversarial suite repeated for SOAK_SECONDS (default 840: one warm-up
#                 cycle, then 10 minutes), memory checked
#
# The kernel ABI is chosen in one place: tests/qemu/kernel, from what Debian's
# linux-headers-amd64 metapackage depends on. The guest boots that same ABI.

KVER ?= $(shell tests/qemu/kernel abi 2>/dev/null)
KDIR ?= /usr/src/linux-headers-$(KVER)
BUILD := $(CURDIR)/build
MESON_OPTS ?=

.PHONY: all module userspace check demo deps bench fuzz soak clean ktests

all: module userspace

module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

userspace: $(BUILD)/meson/build.ninja
	ninja -C $(BUILD)/meson

$(BUILD)/meson/build.ninja:
	meson setup $(BUILD)/meson -Dwerror=true $(MESON_OPTS)

# The kselftest target (tests/Makefile) with the kselftest headers and lib.mk
# taken from Debian's linux-source package (never copied into the repository).
ktests:
	tests/linux-source $(BUILD)/linux-source
	mkdir -p $(BUILD)/ktests
	$(MAKE) -C tests KSFT_DIR=$(BUILD)/linux-source/tools/testing/selftests OUTPUT=$(BUILD)/ktests \
		KHDR_INCLUDES="-I$(CURDIR)/include/uapi -I$(CURDIR)/include"

deps:
	tests/deps

check: deps
	tests/check

demo: deps
	tests/demo

# Benchmarks from an optimised build: each prints its own tables, then one
# summary table (figures, goals, pass/miss) and $(BUILD)/bench/bench.json.
# BENCH_SECONDS (default 60) is, per size, bench_chain's time with a hub and
# again the plain GStreamer pipeline's, alternated (plus one 4-camera phase
# at 720p); the whole run takes about 9 min with the default on 2 cores
# (measured: 524 s), about 5 min with 20 (estimated).
bench: deps
	[ -f $(BUILD)/release/build.ninja ] || meson setup $(BUILD)/release -Dbuildtype=release -Dwerror=true
	ninja -C $(BUILD)/release
	python3 tests/bench/summary.py --build $(BUILD)/release --out $(BUILD)/bench/bench.json

fuzz: deps
	FUZZ_SECONDS=$${FUZZ_SECONDS:-600} tests/check --fuzz-only

soak: deps userspace
	python3 tests/adversarial/run.py --build $(BUILD)/meson --scale 0.4 --soak $${SOAK_SECONDS:-840}

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	rm -rf $(BUILD)
