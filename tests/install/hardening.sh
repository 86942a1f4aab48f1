#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The shipped binaries are built hardened (meson.build), as TAP:
#   pie        an ELF of type DYN flagged PIE (ASLR for the program's code)
#   now        every symbol bound at start-up (BIND_NOW): with RELRO, the GOT
#              is read-only before any input is read
#   relro      a GNU_RELRO segment
#   nx-stack   the GNU_STACK segment is not executable
#   canary     the stack protector is linked in (__stack_chk_fail)
#   fortify    libc calls are fortified (__*_chk imports); not in a build
#              without the optimiser or under a sanitizer, where meson.build
#              leaves _FORTIFY_SOURCE out (the test says it skipped)
#
# usage: hardening.sh FORTIFY(yes|no) BINARY...
set -u
fortify=$1
shift
n=0 fails=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $*"; }
check() { local d=$1; shift; if "$@" >/dev/null 2>&1; then ok "$d"; else not_ok "$d"; fi; }

command -v readelf >/dev/null || { echo "1..0 # SKIP readelf (binutils) is not installed"; exit 0; }
echo "1..$(($# * 6))"
for bin in "$@"; do
	b=$(basename "$bin")
	hdr=$(readelf -hW "$bin")
	dyn=$(readelf -dW "$bin")
	seg=$(readelf -lW "$bin")
	syms=$(readelf --dyn-syms -W "$bin")
	check "$b: pie (type DYN, FLAGS_1 PIE)" \
		bash -c 'grep -q "Type:[[:space:]]*DYN" <<<"$1" && grep -Eq "FLAGS_1.*\bPIE\b" <<<"$2"' _ "$hdr" "$dyn"
	check "$b: now (BIND_NOW)" grep -Eq '\(FLAGS\).*BIND_NOW|\(FLAGS_1\).*\bNOW\b' <<<"$dyn"
	check "$b: relro (GNU_RELRO segment)" grep -q 'GNU_RELRO' <<<"$seg"
	check "$b: nx-stack (GNU_STACK not executable)" grep -Eq 'GNU_STACK([[:space:]]+0x[0-9a-f]+){5}[[:space:]]+RW[[:space:]]' <<<"$seg"
	check "$b: canary (__stack_chk_fail)" grep -q ' __stack_chk_fail' <<<"$syms"
	if [ "$fortify" = yes ]; then
		check "$b: fortify (__*_chk imports)" grep -Eq ' __[a-z0-9_]+_chk(@|$)' <<<"$syms"
	else
		ok "$b: fortify # SKIP _FORTIFY_SOURCE is off in this build (no optimiser, or a sanitizer)"
	fi
done
[ "$fails" = 0 ]
