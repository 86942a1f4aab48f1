#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Pairing discovery over mDNS/DNS-SD (TAP): a private D-Bus system bus and
# a real avahi-daemon started here (no root bus, no host avahi touched); a
# camera in pairing mode announces _veracam-pair._tcp with its key id and
# name, never its code; `veracamctl pair --discover` lists it; the window's
# end withdraws it. Skipped, with the reason, where avahi cannot run.
#
# usage: test_mdns.sh VERACAMCTL
set -u
CTL=$1
T=$(mktemp -d "${TMPDIR:-/tmp}/veracam-mdns.XXXXXX")
n=0 fails=0 bus= avahi= pm=

ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $*"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }
cleanup() {
	for p in $pm $avahi $bus; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ "$fails" -ne 0 ] && for f in "$T"/*.out "$T"/*.log; do
		[ -f "$f" ] && { echo "# --- $f"; tail -n 20 "$f" | sed 's/^/# /'; }
	done
	rm -rf "$T"
}
trap cleanup EXIT
skip_all() { echo "1..0 # SKIP $*"; exit 0; }

echo "TAP version 13"
command -v dbus-daemon >/dev/null || skip_all "no dbus-daemon (package dbus)"
command -v avahi-daemon >/dev/null && avahid=avahi-daemon || avahid=/usr/sbin/avahi-daemon
[ -x "$(command -v $avahid)" ] || skip_all "no avahi-daemon (package avahi-daemon; make deps)"
[ "$(id -u)" = 0 ] || skip_all "avahi-daemon needs root here (its pid file, port 5353)"
pgrep -x avahi-daemon >/dev/null && skip_all "an avahi-daemon already runs here (port 5353, pid file)"

cat >"$T/bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>system</type><listen>unix:path=$T/bus.sock</listen><auth>EXTERNAL</auth>
<policy context="default"><allow user="*"/><allow own="*"/><allow send_destination="*"/>
<allow receive_sender="*"/></policy></busconfig>
CONF
printf '[server]\nhost-name=veracam-mdns-test\nuse-ipv4=yes\nuse-ipv6=no\nenable-dbus=yes\n[publish]\npublish-workstation=no\n' \
	>"$T/avahi.conf"
dbus-daemon --config-file="$T/bus.conf" --nofork >"$T/bus.log" 2>&1 &
bus=$!
export DBUS_SYSTEM_BUS_ADDRESS=unix:path=$T/bus.sock
for _ in $(seq 50); do [ -S "$T/bus.sock" ] && break; sleep 0.1; done
[ -S "$T/bus.sock" ] || skip_all "a private dbus-daemon did not start: $(head -c 200 "$T/bus.log")"
$avahid -f "$T/avahi.conf" --no-drop-root --no-chroot --no-rlimits >"$T/avahi.log" 2>&1 &
avahi=$!
for _ in $(seq 100); do grep -q "Server startup complete" "$T/avahi.log" && break; sleep 0.1; done
grep -q "Server startup complete" "$T/avahi.log" ||
	skip_all "avahi-daemon did not start: $(tr '\n' ' ' <"$T/avahi.log" | head -c 300)"

"$CTL" keygen "$T/porch" >/dev/null && "$CTL" keygen "$T/hub" >/dev/null || exit 1
id=$("$CTL" identity "$T/porch" --key-id)

# nobody announces yet
"$CTL" pair "$T/hub" porch --discover >"$T/none.out" 2>&1
check "with no camera in pairing mode, --discover says none and fails" \
	bash -c "[ $? -ne 0 ] && grep -q 'no camera in pairing mode' '$T/none.out'"

PP=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$CTL" pair-mode "$T/porch" --listen "127.0.0.1:$PP" --name porch --ttl 30 >"$T/pm.out" 2>&1 &
pm=$!
payload=
for _ in $(seq 100); do
	grep -q "mDNS" "$T/pm.out" && payload=$(grep -o "veracam-pair2:[^']*" "$T/pm.out") && break
	sleep 0.1
done
check "pair-mode says it announced itself on mDNS" grep -q "Announced on mDNS as _veracam-pair._tcp" "$T/pm.out"
found=
for _ in 1 2 3 4 5; do
	"$CTL" pair "$T/hub" porch --discover >"$T/disc.out" 2>&1 && grep -q ":$PP\$" "$T/disc.out" && { found=1; break; }
done
check "pair --discover lists the camera with its key id and port" \
	bash -c "[ -n '$found' ] && grep -Eq '^  porch +key id $id  at [0-9.]+:$PP$' '$T/disc.out'"
check "... and a pair command to complete with the code, the key id to check" \
	grep -q "veracamctl pair $T/hub porch 'veracam-pair2:$id:CODE:" "$T/disc.out"
code=$(echo "$payload" | cut -d: -f3)
check "the announcement does not carry the code" \
	bash -c "[ -n '$code' ] && ! grep -q '$code' '$T/disc.out'"
check "the payload from the QR pairs (discovery was only the hint)" \
	bash -c "'$CTL' pair '$T/hub' porch '$payload' >/dev/null"
wait "$pm"; pm=
gone=
for _ in 1 2 3 4 5; do
	"$CTL" pair "$T/hub" porch --discover >"$T/after.out" 2>&1
	grep -q ":$PP\$" "$T/after.out" || { gone=1; break; }
	sleep 1
done
check "the closed window is no longer announced" test -n "$gone"

echo "1..$n"
[ "$fails" -eq 0 ]
