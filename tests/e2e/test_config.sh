#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# veracamd configuration errors (TAP): each is one line on stderr naming
# the flag or the file and key, nothing on stdout, exit status 2, and no
# daemon started (nothing listens, no status socket appears). Then set-up
# errors only the user can fix (no key, a readable key, an output that
# cannot be opened): exit status 2 too (the units do not restart on 2),
# the fix named. Then a run by hand: no systemd, no /run/veracam.
#
# usage: test_config.sh VERACAMD VERACAMCTL
set -u
VD=$1 CTL=$2
T=$(mktemp -d "${TMPDIR:-/tmp}/veracamd-config.XXXXXX")
trap 'rm -rf "$T"' EXIT
n=0 fails=0

"$CTL" keygen "$T/keys" >/dev/null || exit 1
cat >"$T/bad.conf" <<'CONF'
[camera]
source=pattern:00ff00
fsp=30
CONF
cat >"$T/other-role.conf" <<'CONF'
[camera]
source=pattern:00ff00
display=drm
CONF
cat >"$T/twice.conf" <<'CONF'
[camera]
source=pattern:00ff00
# edited below, the old line left in
fps=15
fps=30
CONF

# expect_usage DESCRIPTION PATTERN ARGS...: exit 2, one stderr line matching PATTERN
expect_usage() {
	local d=$1 pat=$2 out err rc
	shift 2
	out=$(timeout 20 "$VD" "$@" --status-socket "$T/status.sock" 2>"$T/err")
	rc=$?
	err=$(cat "$T/err")
	n=$((n + 1))
	if [ "$rc" = 2 ] && [ -z "$out" ] && [ "$(wc -l <"$T/err")" = 1 ] &&
	   [[ "$err" == veracamd:* ]] && echo "$err" | grep -Eq -- "$pat" &&
	   [ ! -e "$T/status.sock" ]; then
		echo "ok $n - $d: $err"
	else
		fails=$((fails + 1))
		echo "not ok $n - $d (exit $rc)"
		sed 's/^/# /' "$T/err"
	fi
}

echo "TAP version 13"
K=(--keys "$T/keys")
expect_usage "no role" "camera|hub"
expect_usage "unknown role" "camera|hub" recorder "${K[@]}"
expect_usage "camera without a source" "--source" camera "${K[@]}"
expect_usage "malformed source" "--source" camera "${K[@]}" --source bogus:1
expect_usage "pattern colour not hex" "--source" camera "${K[@]}" --source pattern:red
expect_usage "fps out of range" "--fps" camera "${K[@]}" --source pattern:ff0000 --fps 0
expect_usage "odd width" "--width" camera "${K[@]}" --source pattern:ff0000 --width 321
expect_usage "listen without port" "--listen" camera "${K[@]}" --source pattern:ff0000 --listen 127.0.0.1
expect_usage "invalid camera name" "--name" camera "${K[@]}" --source pattern:ff0000 --name '.hidden'
expect_usage "missing key directory" "--keys" camera --keys "$T/nowhere" --source pattern:ff0000
expect_usage "hub without cameras" "--camera" hub "${K[@]}"
expect_usage "hub camera without port" "--camera" hub "${K[@]}" --camera porch@127.0.0.1
expect_usage "hub camera name not a trust name" "--camera" hub "${K[@]}" --camera 'por ch@127.0.0.1:7000'
expect_usage "hub camera pinned to an empty source" "--camera.*source" hub "${K[@]}" --camera 'porch@127.0.0.1:7000,source='
expect_usage "unknown display" "--display" hub "${K[@]}" --camera porch@127.0.0.1:7000 --display vga
expect_usage "unknown key in the file" "fsp" camera "${K[@]}" --config "$T/bad.conf"
expect_usage "other role's key in the file" "display" camera "${K[@]}" --config "$T/other-role.conf"
expect_usage "flag given twice" "twice" camera "${K[@]}" --source pattern:ff0000 --fps 15 --fps 30
expect_usage "key given twice in the file" "twice.conf:5: \[camera\] fps= given twice \(first on line 4\)" \
	camera "${K[@]}" --config "$T/twice.conf"
expect_usage "missing config file" "--config $T/none.conf" camera "${K[@]}" --config "$T/none.conf"
expect_usage "a log level that would hide errors" "err, warning, notice, info, debug" \
	camera "${K[@]}" --source pattern:ff0000 --log-level crit

# expect_fatal DESCRIPTION PATTERN ARGS...: a valid configuration that cannot
# start and will not by retrying: exit 2, PATTERN on stderr, nothing left
expect_fatal() {
	local d=$1 pat=$2 rc
	shift 2
	timeout 30 "$VD" "$@" --status-socket "$T/status.sock" >/dev/null 2>"$T/err"
	rc=$?
	n=$((n + 1))
	if [ "$rc" = 2 ] && grep -Eq -- "$pat" "$T/err" && [ ! -e "$T/status.sock" ]; then
		echo "ok $n - $d: $(grep -E -- "$pat" "$T/err" | head -1)"
	else
		fails=$((fails + 1))
		echo "not ok $n - $d (exit $rc)"
		sed 's/^/# /' "$T/err"
	fi
}
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
L=(--listen "127.0.0.1:$port")
mkdir -m 700 "$T/nokey"
cp -r "$T/keys" "$T/readable" && chmod 644 "$T/readable/device.key"
expect_fatal "camera without device.key" "make one with: veracamctl keygen $T/nokey" \
	camera --keys "$T/nokey" --source pattern:ff0000 "${L[@]}"
expect_fatal "camera key readable by others" "mode 0644 .*chmod 600" \
	camera --keys "$T/readable" --source pattern:ff0000 "${L[@]}"
expect_fatal "hub output that cannot be opened" "display y4m:$T/no/dir.y4m: y4m: .*No such file" \
	hub "${K[@]}" --camera porch@127.0.0.1:7000 --display "y4m:$T/no/dir.y4m"
if ls /dev/dri/card* >/dev/null 2>&1; then
	n=$((n + 1))
	echo "ok $n # SKIP this host has a DRM device: the no-device message is not reachable"
else
	expect_fatal "hub --display drm on a host with no DRM device: the reason, and what to use" \
		"no DRM device .*--display y4m:PATH" hub "${K[@]}" --camera porch@127.0.0.1:7000 \
		--display drm
fi
mkfifo -m 600 "$T/screen.y4m"
expect_fatal "hub y4m FIFO with no reader: refused at once, no hang" \
	"y4m: $T/screen.y4m is a FIFO with no reader: start its reader first" \
	hub "${K[@]}" --camera porch@127.0.0.1:7000 --display "y4m:$T/screen.y4m"

# A y4m FIFO's reader goes away: the status says the display is lost and
# the log says so once; a new reader gets a header and frames again.
display_state() {
	"$CTL" status "$T/fifo.sock" 2>/dev/null | python3 -c \
		'import json, sys; print(json.load(sys.stdin)["display"]["state"])' 2>/dev/null
}
# reader OUT: read the FIFO into OUT; returns once the FIFO is open for reading
reader() {
	rm -f "$T/reader.open"
	python3 -c '
import os, select, sys
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_NONBLOCK)
open(sys.argv[3], "w").close()
with open(sys.argv[2], "wb") as out:
    while True:
        select.select([fd], [], [])
        d = os.read(fd, 1 << 16)
        if d:
            out.write(d)
            out.flush()
        else:
            select.select([], [], [], 0.05)    # no writer right now
' "$T/screen.y4m" "$1" "$T/reader.open" &
	rpid=$!
	for _ in $(seq 100); do
		[ -e "$T/reader.open" ] && return 0
		sleep 0.05
	done
	return 1
}
wait_state() {
	for _ in $(seq 100); do
		[ "$(display_state)" = "$1" ] && return 0
		sleep 0.1
	done
	return 1
}
n=$((n + 1))
reader "$T/reader1.y4m"
r1=$rpid
"$VD" hub "${K[@]}" --camera porch@127.0.0.1:7000 --display "y4m:$T/screen.y4m" \
	--output-size 320x240 --status-socket "$T/fifo.sock" >"$T/fifo.log" 2>&1 &
hub=$!
wait_state on && first=ok || first="not on"
kill "$r1"
wait "$r1" 2>/dev/null
wait_state lost && gone=ok || gone="not lost"
reader "$T/reader2.y4m"
r2=$rpid
wait_state on && back=ok || back="not back"
for _ in $(seq 50); do
	[ "$(stat -c %s "$T/reader2.y4m")" -gt $((320 * 240 * 3 / 2)) ] && break
	sleep 0.1
done
kill "$hub"
wait "$hub"
rc=$?
kill "$r2" 2>/dev/null
wait "$r2" 2>/dev/null
lost_lines=$(grep -c "output lost" "$T/fifo.log")
if [ "$first/$gone/$back" = ok/ok/ok ] && [ "$lost_lines" = 1 ] && [ "$rc" = 0 ] &&
   head -c 9 "$T/reader2.y4m" | grep -q YUV4MPEG2 &&
   [ "$(stat -c %s "$T/reader2.y4m")" -gt $((320 * 240 * 3 / 2)) ]; then
	echo "ok $n - y4m FIFO reader gone: status display lost, one log line; a new reader gets a header and frames"
else
	fails=$((fails + 1))
	echo "not ok $n - y4m FIFO reader gone: first $first, gone $gone, back $back, $lost_lines 'output lost' lines, exit $rc"
	sed 's/^/# /' "$T/fifo.log"
fi

# --version: one line on stdout, exit 0, both programs
for prog in "$VD" "$CTL"; do
	n=$((n + 1))
	out=$("$prog" --version 2>&1)
	rc=$?
	if [ "$rc" = 0 ] && [[ "$out" =~ ^veracam(d|ctl)\ [0-9]+\.[0-9]+\.[0-9]+$ ]]; then
		echo "ok $n - $(basename "$prog") --version: $out"
	else
		fails=$((fails + 1))
		echo "not ok $n - $(basename "$prog") --version: exit $rc: $out"
	fi
done

# By hand: no systemd ($RUNTIME_DIRECTORY), no /run/veracam. The status
# socket goes to $XDG_RUNTIME_DIR/veracam/camera, where veracamctl finds it;
# with no $XDG_RUNTIME_DIR either, one line names --status-socket.
n=$((n + 1))
if [ -w /run/veracam/camera ]; then
	echo "ok $n # SKIP /run/veracam/camera is writable here: the system place is used"
else
	mkdir -m 700 "$T/xdg"
	env -u RUNTIME_DIRECTORY XDG_RUNTIME_DIR="$T/xdg" "$VD" camera "${K[@]}" \
		--source pattern:ff0000 --width 160 --height 120 "${L[@]}" \
		>"$T/byhand.log" 2>&1 &
	pid=$!
	got=
	for _ in $(seq 100); do
		got=$(env -u RUNTIME_DIRECTORY XDG_RUNTIME_DIR="$T/xdg" "$CTL" status camera \
			2>/dev/null | grep -c '"role": "camera"')
		[ "$got" = 1 ] && break
		sleep 0.2
	done
	kill "$pid"
	wait "$pid"
	rc=$?
	if [ "$got" = 1 ] && [ "$rc" = 0 ]; then
		echo "ok $n - by hand: status socket in \$XDG_RUNTIME_DIR/veracam/camera, veracamctl status camera found it, SIGTERM exits 0"
	else
		fails=$((fails + 1))
		echo "not ok $n - by hand: veracamctl status camera found ${got:-nothing}, exit $rc"
		sed 's/^/# /' "$T/byhand.log"
	fi
	n=$((n + 1))
	err=$(env -u RUNTIME_DIRECTORY -u XDG_RUNTIME_DIR "$VD" camera "${K[@]}" \
		--source pattern:ff0000 "${L[@]}" 2>&1 >/dev/null)
	rc=$?
	if [ "$rc" = 2 ] && [ "$(echo "$err" | wc -l)" = 1 ] && [[ "$err" == *--status-socket* ]]; then
		echo "ok $n - by hand with no place for the status socket: $err"
	else
		fails=$((fails + 1))
		echo "not ok $n - no place for the status socket: exit $rc: $err"
	fi
	n=$((n + 1))
	err=$(env -u RUNTIME_DIRECTORY -u XDG_RUNTIME_DIR "$CTL" status camera 2>&1)
	rc=$?
	if [ "$rc" != 0 ] && [[ "$err" == *"looked for /run/veracam/camera/status.sock"* ]]; then
		echo "ok $n - veracamctl status camera with no daemon says where it looked: $err"
	else
		fails=$((fails + 1))
		echo "not ok $n - veracamctl status camera with no daemon: exit $rc: $err"
	fi
fi
echo "1..$n"
exit $((fails > 0))
