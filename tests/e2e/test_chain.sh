#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# veracamd end to end on 127.0.0.1 (TAP): pattern cameras -> hubs writing
# y4m. Keys from `veracamctl keygen`, pairing with `identity`/`trust`.
#
#   porch  (camera, red)   paired with hubs kitchen and hall
#   garden (camera, blue)  paired with hub kitchen
#   kitchen (hub)          shows porch and garden in a 2x2 grid
#   hall    (hub)          shows porch: two hubs at once on one camera
#   stranger (hub)         trusts porch, porch does not trust it: refused;
#                          and its "porch2" (pinned to porch's key) is
#                          garden's address: garden's key is refused
#   attic   (hub, for a while) porch twice: pinned to porch's capture source
#                          (shown) and, as "porch-x", to garden's (every
#                          frame rejected as "source", nothing shown)
#
# Every frame every hub writes must be its own camera's pattern or its own
# unavailable screen (pixels checked). Deadlines checked are the product's:
# unavailable 1 s after the last verified frame (as the hub measures it,
# and from outside, from the signal to the screen written), video 3 s after
# a camera restart; each with a margin, and stretched by how much longer
# the daemons' work took than on CPUs of their own (their schedstat: a
# loaded host, a sanitizer build), which each check prints.
#
# usage: test_chain.sh VERACAMD VERACAMCTL Y4M_PY
set -u
VD=$1 CTL=$2 Y4M=$3
T=$(mktemp -d "${TMPDIR:-/tmp}/veracamd-chain.XXXXXX")
declare -A PID
. "$(dirname "$0")/tap.sh"

cleanup() {
	for p in "${PID[@]}"; do kill -CONT "$p" 2>/dev/null; kill -KILL "$p" 2>/dev/null; done
	wait 2>/dev/null
	if [ "$fails" -ne 0 ]; then
		for f in "$T"/*.log; do echo "# --- $f"; tail -n 30 "$f" | diag; done
	fi
	rm -rf "$T"
}
trap cleanup EXIT

status() { "$CTL" status "$T/$1.sock" 2>/dev/null; }
# wait_until SECONDS NAME EXPR: poll NAME's status until EXPR is true (tap.sh)
wait_until() { wait_for "$@"; }
# wait_file SECONDS FILE: FILE exists within SECONDS
wait_file() {
	local end=$((SECONDS + $1))
	while [ $SECONDS -lt "$end" ]; do
		[ -e "$2" ] && return 0
		sleep 0.05
	done
	return 1
}
# wait_grep SECONDS PATTERN FILE: a line of FILE matches within SECONDS
wait_grep() {
	local end=$((SECONDS + $1))
	while [ $SECONDS -lt "$end" ]; do
		grep -q -- "$2" "$3" && return 0
		sleep 0.2
	done
	return 1
}
# pattern_identity NAME / source_id STABLE, computed here from the documents
# (camera.h: a pattern camera's unique id is SHA-256("veracam-pattern:" NAME)[0..16);
# docs/PROTOCOL.md: source id = SHA-256("veracam source v1" 00 || stable identity))
pattern_identity() {
	python3 -c 'import hashlib, sys; print("id:" + hashlib.sha256(b"veracam-pattern:" + sys.argv[1].encode()).digest()[:16].hex())' "$1"
}
source_id() {
	python3 -c 'import hashlib, sys; print(hashlib.sha256(b"veracam source v1\0" + sys.argv[1].encode()).hexdigest())' "$1"
}
within() { python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) <= float(sys.argv[2]) else 1)' "$1" "$2"; }
# sched: per thread of every running daemon, its CPU time and its time
# runnable but waiting for a CPU so far (ns, its schedstat), as JSON
sched() {
	python3 -c '
import json, os, sys
out = {}
for pid in sys.argv[1:]:
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        continue
    for tid in tids:
        try:
            a, b = open(f"/proc/{pid}/task/{tid}/schedstat").read().split()[:2]
            out[tid] = [int(a), int(b)]
        except (OSError, ValueError):
            pass
print(json.dumps(out))' "${PID[@]}"
}
# stretched LIMIT "SCHED": LIMIT times how much longer the daemons' work took
# since the sched reading SCHED than on CPUs of their own ((CPU + wait) /
# CPU, at least 1): the deadlines are the product's at the CPU it needs; a
# host that gives the daemons less (a second CI run, a sanitizer build)
# stretches them, and the check says by how much
# (capped at 6: beyond that the host is too busy for any deadline to mean much,
# and a daemon gone wrong must not relax its own check without bound)
stretched() {
	python3 -c '
import json, sys
limit, was, now = float(sys.argv[1]), json.loads(sys.argv[2]), json.loads(sys.argv[3])
cpu = wait = 0
for tid, (c, w) in now.items():    # threads that ended took their times along
    c0, w0 = was.get(tid, (0, 0))
    cpu, wait = cpu + c - c0, wait + w - w0
f = min(6.0, max(1.0, (cpu + wait) / cpu)) if cpu > 0 else 1.0
print(f"{limit * f:.2f}")' "$1" "$2" "$(sched)"
}
now() { python3 -c 'import time; print(time.time())'; }

# notify NAME: an sd_notify socket for NAME; its messages go to NAME.notify
# (one line each), and the daemon started next asks for a 2 s watchdog.
notify() {
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a") as f:
    while True:
        f.write(s.recv(4096).decode().replace("\n", " | ") + "\n")
        f.flush()' "$T/$1.sock-notify" "$T/$1.notify" &
	PID[notify-$1]=$!
	while [ ! -S "$T/$1.sock-notify" ]; do sleep 0.05; done
	NOTIFY_ENV=(NOTIFY_SOCKET="$T/$1.sock-notify" WATCHDOG_USEC=2000000)
}
NOTIFY_ENV=()

camera() {	# NAME COLOUR PORT
	env "${NOTIFY_ENV[@]}" "$VD" camera --keys "$T/$1" --name "$1" --source "pattern:$2" \
		--listen "127.0.0.1:$3" --width 320 --height 240 --fps 15 \
		--status-socket "$T/$1.sock" >>"$T/$1.log" 2>&1 &
	PID[$1]=$!
	NOTIFY_ENV=()
}
hub() {	# NAME CAMERA...
	local name=$1; shift
	local args=()
	for c in "$@"; do args+=(--camera "$c"); done
	env "${NOTIFY_ENV[@]}" "$VD" hub --keys "$T/$name" "${args[@]}" ${HUBOPT:-} --display "y4m:$T/$name.y4m" \
		--output-size 320x240 --backoff-max 1s --status-socket "$T/$name.sock" \
		>>"$T/$name.log" 2>&1 &
	PID[$name]=$!
	NOTIFY_ENV=()
}

echo "TAP version 13"


for d in porch garden kitchen hall stranger attic; do
	"$CTL" keygen "$T/$d" >/dev/null || exit 1
done
id() { "$CTL" identity "$T/$1"; }
"$CTL" trust "$T/kitchen" porch "$(id porch)" --role camera --confirmed &&
"$CTL" trust "$T/kitchen" garden "$(id garden)" --role camera --confirmed &&
"$CTL" trust "$T/hall" porch "$(id porch)" --role camera --confirmed &&
"$CTL" trust "$T/stranger" porch "$(id porch)" --role camera --confirmed &&
"$CTL" trust "$T/stranger" porch2 "$(id porch)" --role camera --confirmed &&
"$CTL" trust "$T/porch" kitchen "$(id kitchen)" --role hub --confirmed &&
"$CTL" trust "$T/porch" hall "$(id hall)" --role hub --confirmed &&
"$CTL" trust "$T/porch" attic "$(id attic)" --role hub --confirmed &&
"$CTL" trust "$T/attic" porch "$(id porch)" --role camera --confirmed &&
"$CTL" trust "$T/attic" porch-x "$(id porch)" --role camera --confirmed &&
"$CTL" trust "$T/garden" kitchen "$(id kitchen)" --role hub --confirmed || exit 1

PA=$(free_port) PB=$(free_port)
notify porch
camera porch ff0000 "$PA"
camera garden 0000ff "$PB"
check "camera porch ready (first frame signed)" wait_until 30 porch 'd["ready"]'
check "camera garden ready" wait_until 30 garden 'd["ready"]'

notify kitchen
hub kitchen "porch@127.0.0.1:$PA" "garden@127.0.0.1:$PB"
HUBOPT="--transport tcp" hub hall "porch@127.0.0.1:$PA"
hub stranger "porch@127.0.0.1:$PA" "porch2@127.0.0.1:$PB"
check "kitchen shows both cameras of its grid" wait_until 30 kitchen \
	'all(c["shown"] >= 20 for c in d["cameras"])'
check "hall shows porch while kitchen does (two hubs on one camera)" wait_until 30 hall \
	'd["cameras"][0]["shown"] >= 20'
check "porch streams to kitchen and hall at once" wait_until 10 porch \
	'sorted(h["name"] for h in d["hubs"]) == ["hall", "kitchen"] and all(h["frames_sent"] > 0 for h in d["hubs"])'
check "hall's media goes over TCP, kitchen's over UDP" wait_until 5 porch \
	'sorted((h["name"], h["transport"]) for h in d["hubs"]) == [("hall", "tcp"), ("kitchen", "udp")]'
check "porch refused the unpaired hub at the handshake and counted it" wait_until 10 porch \
	'd["rejected_peers"].get("unpaired", 0) >= 1'
check "stranger refused garden's key where it expected porch's, and counted it" \
	wait_until 10 stranger 'd["cameras"][1]["rejected"].get("unpaired-camera", 0) >= 1 and d["cameras"][1]["received"] == 0'
# It retries (backoff-max 1 s) and fails the same way each time: a failure
# is logged at the default level when it differs from the one before (a
# loaded host may add a timeout between two refusals), a repeat at debug.
refusal_not_repeated() {
	wait_until 20 stranger 'd["cameras"][1]["rejected"].get("unpaired-camera", 0) >= 3' &&
		grep -q 'camera porch2: TLS handshake: peer key .* is not paired as a camera' "$T/stranger.log" &&
		[ -z "$(grep 'camera porch2: ' "$T/stranger.log" | grep -v ' shown, ' | uniq -d)" ]
}
check "stranger: porch2 refused at least 3 times, the refusal never logged twice in a row" \
	refusal_not_repeated || grep 'porch2' "$T/stranger.log" | diag
check "the unpaired hub received nothing and shows not connected" wait_until 5 stranger \
	'd["cameras"][0]["received"] == 0 and d["cameras"][0]["shown"] == 0 and d["cameras"][0]["state"] == "not connected"'
check "every access unit kitchen and hall received verified" \
	bash -c "[ \"\$('$CTL' status '$T/kitchen.sock' | python3 -c 'import json,sys; d=json.load(sys.stdin); print(sum(c[\"rejected\"][\"total\"] for c in d[\"cameras\"]))')\" = 0 ] &&
		 [ \"\$('$CTL' status '$T/hall.sock' | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d[\"cameras\"][0][\"rejected\"][\"total\"])')\" = 0 ]"
check "porch: READY=1 once the first frame was signed" \
	grep -q "READY=1 | STATUS=streaming: first frame signed" "$T/porch.notify"
check "porch: WATCHDOG=1 while frames flow" wait_grep 5 '^WATCHDOG=1' "$T/porch.notify"
check "porch: STATUS= lines" wait_grep 5 '^STATUS=.* fps, 2 hubs' "$T/porch.notify"
check "kitchen: READY=1" grep -q '^READY=1' "$T/kitchen.notify"
check "kitchen: WATCHDOG=1 while its display runs" wait_grep 5 '^WATCHDOG=1' "$T/kitchen.notify"
check "kitchen: per-camera STATUS= lines" wait_grep 5 \
	'^STATUS=porch: connected, [0-9]* shown, 0 rejected; garden: connected' "$T/kitchen.notify"
# The signed capture identity: each hub reports the source id of the last
# verified frame, and it is its own camera's stable identity, hashed.
PORCH_ID=$(pattern_identity porch) GARDEN_ID=$(pattern_identity garden)
PORCH_SRC=$(source_id "$PORCH_ID") GARDEN_SRC=$(source_id "$GARDEN_ID")
check "porch status: signing for capture identity $PORCH_ID, source id $PORCH_SRC" wait_until 5 porch \
	"d['capture_identity'] == '$PORCH_ID' and d['source'] == '$PORCH_SRC'"
check "porch status: its key holder refused none of its signing requests" wait_until 5 porch \
	"d['key_holder_refused'] == 0 and d['frames_signed'] > 0"
check "porch logged its capture identity and source id once" \
	test "$(grep -c "signing frames of capture source $PORCH_ID (source id $PORCH_SRC)" "$T/porch.log")" = 1
check "kitchen: porch's verified frames are signed for porch's source, garden's for garden's" \
	wait_until 5 kitchen "d['cameras'][0]['source'] == '$PORCH_SRC' and d['cameras'][1]['source'] == '$GARDEN_SRC' and '$PORCH_SRC' != '$GARDEN_SRC'"
check "hall: porch's source as well" wait_until 5 hall "d['cameras'][0]['source'] == '$PORCH_SRC'"
check "stranger verified nothing: no source shown" wait_until 5 stranger \
	"d['cameras'][0]['source'] is None and d['cameras'][1]['source'] is None"

# A hub pinned to a capture source: the right one is shown, porch's frames
# under a pin to garden's sensor are all rejected as "source".
hub attic "porch@127.0.0.1:$PA,source=$PORCH_ID" "porch-x@127.0.0.1:$PA,source=$GARDEN_ID"
check "attic: porch pinned to its own source is shown" wait_until 30 attic \
	"d['cameras'][0]['shown'] >= 10 and d['cameras'][0]['source'] == '$PORCH_SRC' and d['cameras'][0]['rejected']['total'] == 0"
# Besides 'source', only what delivery itself causes on a loaded host may
# appear (a late unit, a lost one and the P-frames after it until an IDR);
# never a reason that would mean the frames were not porch's own. Its state
# is 'not verified', or 'not connected' between sessions: under ASan beside
# a second CI run attic's sessions to porch were seen reconnecting (25 in
# 37 s, both pins alike), and a snapshot can fall between two.
check "attic: porch pinned to garden's source: every frame rejected as 'source', none shown" \
	wait_until 30 attic "d['cameras'][1]['rejected'].get('source', 0) >= 10 and d['cameras'][1]['shown'] == 0 and d['cameras'][1]['source'] is None and d['cameras'][1]['state'] in ('not verified', 'not connected') and set(d['cameras'][1]['rejected']) <= {'total', 'source', 'stale', 'gap', 'await-idr'}" ||
	status attic | diag
check "attic logged both pins" test "$(grep -c "pinned to capture source" "$T/attic.log")" = 2
kill -TERM "${PID[attic]}"
wait "${PID[attic]}"; rc=$?
unset "PID[attic]"
check "attic: SIGTERM exits 0" test "$rc" = 0
check "porch dropped attic's sessions" wait_until 10 porch \
	'sorted(h["name"] for h in d["hubs"]) == ["hall", "kitchen"]'

S=$(status kitchen)
check "veracamctl status shows per-camera counters and glass latency" \
	bash -c "echo '$S' | python3 -c 'import json,sys; d=json.load(sys.stdin); c=d[\"cameras\"][0]; sys.exit(0 if c[\"received\"] >= c[\"shown\"] > 0 and c[\"glass_latency_ms\"] > 0 and c[\"last_verified_capture\"] else 1)'"
echo "$S" | diag

# SIGHUP: porch stops trusting hall; hall's session ends, its retries are
# refused and counted; trusted again, hall shows porch again.
"$CTL" untrust "$T/porch" hall
R0=$(status porch | json 'd["rejected_peers"].get("unpaired", 0)')
kill -HUP "${PID[porch]}"
check "SIGHUP: porch dropped the hub it no longer trusts" wait_until 5 porch \
	'[h["name"] for h in d["hubs"]] == ["kitchen"]'
check "hall shows porch not connected" wait_until 5 hall \
	'd["cameras"][0]["state"] == "not connected"'
check "hall's reconnects are refused and counted" wait_until 10 porch \
	"d['rejected_peers'].get('unpaired', 0) > $R0"
"$CTL" trust "$T/porch" hall "$(id hall)" --role hub --confirmed
kill -HUP "${PID[porch]}"
check "trusted again after SIGHUP: hall shows porch" wait_until 10 hall \
	'd["cameras"][0]["state"] == "connected" and d["cameras"][0]["reconnects"] >= 1'

# Pairing records are read for every handshake, not only on SIGHUP; and a
# hub key holds one session on a camera. hall2 is a second hub process with
# hall's key: refused while hall is untrusted (hall's running session
# stays: only SIGHUP judges running sessions), then, trusted again without
# a SIGHUP, its session replaces hall's.
"$CTL" untrust "$T/porch" hall
R0=$(status porch | json 'd["rejected_peers"].get("unpaired", 0)')
cp -a "$T/hall" "$T/hall2"
hub hall2 "porch@127.0.0.1:$PA"
check "untrusted, no SIGHUP: the next handshake with hall's key is refused" wait_until 10 porch \
	"d['rejected_peers'].get('unpaired', 0) > $R0"
check "hall's running session stays until a SIGHUP" wait_until 2 porch \
	'sorted(h["name"] for h in d["hubs"]) == ["hall", "kitchen"]'
"$CTL" trust "$T/porch" hall "$(id hall)" --role hub --confirmed
check "trusted again, no SIGHUP: hall2's session replaced hall's (one per hub key)" \
	wait_grep 10 "hub hall: session ended (replaced by a new session" "$T/porch.log"
check "porch holds one session for hall's key" wait_until 2 porch \
	'sorted(h["name"] for h in d["hubs"]) == ["hall", "kitchen"]'
kill -TERM "${PID[hall2]}"
wait "${PID[hall2]}"
unset "PID[hall2]"
check "hall shows porch again once hall2 is gone" wait_until 10 hall \
	'd["cameras"][0]["state"] == "connected"'

# A frozen camera: the hub's screen turns to "unavailable" on its own clock.
T0=$(now) S0=$(sched)
kill -STOP "${PID[garden]}"
D=$(python3 "$Y4M" watch "$T/kitchen.y4m" 2 1 0000ff unavailable "$T0")
L=$(stretched 3 "$S0")
check "garden frozen: kitchen's cell unavailable after ${D}s (limit ${L}s)" within "$D" "$L"
G=$(sed -n 's/.*camera garden: unavailable (no verified frame), \([0-9]*\) ms after.*/\1/p' \
	"$T/kitchen.log" | tail -n 1)
L=$(stretched 1250 "$S0")
check "kitchen: unavailable ${G:-?} ms after garden's last verified frame (1000 + margin: ${L})" \
	within "${G:-99999}" "$L"
check "kitchen's other cell still shows porch" wait_until 5 kitchen \
	'd["cameras"][0]["state"] == "connected"'
T0=$(now) S0=$(sched)
kill -CONT "${PID[garden]}"
D=$(python3 "$Y4M" watch "$T/kitchen.y4m" 2 1 0000ff own "$T0")
L=$(stretched 4 "$S0")
check "garden resumed: video again after ${D}s (limit ${L}s)" within "$D" "$L"
check "kitchen reports garden connected again" wait_until 5 kitchen \
	'd["cameras"][1]["state"] == "connected"'

# A decoder child killed (docs/ARCHITECTURE.md "The hub's decoders"): only
# that camera's cell goes unavailable, within 1 s; the other cell keeps
# playing; a fresh child shows the camera again from its next IDR. The
# child itself: seccomp, no new privileges, no core, and no descriptor of a
# DRM device, a key or a network socket (only root may list a non-dumpable
# process's descriptors).
DP=$(status kitchen | json 'd["cameras"][1]["decoder_pid"]')
sandboxed() {	# PID
	grep -q '^Seccomp:[[:space:]]*2' "/proc/$1/status" &&
		grep -q '^NoNewPrivs:[[:space:]]*1' "/proc/$1/status" &&
		grep -q '^Max core file size *0 ' "/proc/$1/limits" &&
		[ "$(ps -o ppid= -p "$1" | tr -d ' ')" = "${PID[kitchen]}" ] || return 1
	[ "$EUID" = 0 ] || return 0
	local l bad=0
	for l in /proc/"$1"/fd/*; do
		l=$(readlink "$l")
		case $l in
		/dev/dri/*|*key*|memfd:*) bad=1 ;;
		socket:\[*\]) grep -q " ${l:8:-1} *\$" /proc/net/unix || bad=1 ;;
		esac
	done
	return $bad
}
check "kitchen: garden's decoder child (pid $DP) sandboxed, no DRM, key or network descriptor" \
	sandboxed "$DP"
# The cell is unavailable only until the new child's first IDR (a few
# frames): rather than race it with a watch, kitchen's frames written after
# the kill are read afterwards. Frames of garden's own after the kill and
# before its unavailable screen are at most 1 s of them (30: two cameras
# at 15 fps; in fact the pictures decoded before the kill); then its own
# again; nothing else.
# hubscreen (tests/lib): the screen's cells, as y4m.py reads them
hubscreen() { python3 - "$@" <<PY
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath("$Y4M")), "..", "lib"))
import hubscreen as hs
$(cat)
PY
}
after_kill() {	# Y4M SKIP: the frames written since SKIP, garden's cell in runs
	hubscreen "$1" "$2" <<'PY'
runs = []
for fr in hs.y4m_frames(sys.argv[1], int(sys.argv[2])):
    cell = hs.layout(fr.w, fr.h, 2, fr.align)[1]
    c = hs.NAMES[hs.classify(fr, cell, hs.parse_colour("0000ff"))]
    if runs and runs[-1][0] == c:
        runs[-1][1] += 1
    else:
        runs.append([c, 1])
print(" ".join(f"{c}x{n}" for c, n in runs))
PY
}
frames_in() {	# Y4M: how many whole frames it holds now
	hubscreen "$1" <<'PY'
print(hs.y4m_count(sys.argv[1]))
PY
}
P0=$(status kitchen | json 'd["cameras"][0]["shown"]')
F0=$(frames_in "$T/kitchen.y4m")
L0=$(wc -l <"$T/kitchen.log")
C1=$(status kitchen | json 'd["cameras"][1]["decoder_crashes"]')	# a loaded host: wedged before?
SK=$(sched)
kill -KILL "$DP"
check "kitchen counted the crash" wait_until 10 kitchen "d['cameras'][1]['decoder_crashes'] >= ${C1:-0} + 1"
# porch's child untouched by it: no porch decoder failure since the kill
# but its own "wedged" (a child starved of CPU for 2 s on a loaded host is
# replaced, fail closed: that is not garden's crash reaching it)
porch_untouched() {
	! tail -n +"$((L0 + 1))" "$T/kitchen.log" | grep 'camera porch: decoder error' | grep -qv '(wedged)'
}
# (30 s: the isolation is the log's; this is liveness, which a host starving
# porch's own child for seconds slows without anything being wrong)
porch_kept_playing() {
	wait_until 30 kitchen "d['cameras'][0]['state'] == 'connected' and d['cameras'][0]['shown'] > $P0 + 15" &&
		porch_untouched
}
check "porch's cell kept playing, its decoder child untouched by garden's crash" porch_kept_playing
G1=$(status kitchen | json 'd["cameras"][1]["shown"]')
check "garden shown again from its next IDR, by a new child" wait_until 20 kitchen \
	"d['cameras'][1]['shown'] > $G1 + 5 and d['cameras'][1]['state'] == 'connected'"
R=$(after_kill "$T/kitchen.y4m" "$F0")
# (own and unavailable only after that: a loaded host may let a later
# picture's freshness run out, which fails closed too). The own frames
# before the unavailable screen: at most 1 s of two cameras (30), stretched
# as the other deadlines by how much CPU the host withheld since the kill
NK=$(stretched 30 "$SK")
check "garden's cell since the kill: own (<= ${NK%.*} frames: 30, 1 s of two cameras, stretched), unavailable, own: $R" \
	python3 -c 'import re, sys; m = re.fullmatch(r"(ownx([0-9]+) )?unavailablex[0-9]+ ownx[0-9]+( (own|unavailable)x[0-9]+)*", sys.argv[1]); sys.exit(0 if m and int(m.group(2) or 0) <= float(sys.argv[2]) else 1)' "$R" "$NK"
check "garden runs a new decoder child and is connected" wait_until 5 kitchen \
	"d['cameras'][1]['decoder_pid'] not in (None, $DP) and d['cameras'][1]['state'] == 'connected'" ||
	status kitchen | diag
# the journal line of each child failure names its cause (here: SIGKILL)
grep 'decoder error' "$T/kitchen.log" | sed 's/^/# /'
check "kitchen's log names the killed child and what became of it" \
	grep -Eq "decoder error \(child $DP (killed by signal 9|closed its socket)" "$T/kitchen.log"

# A killed camera: its session ends at once; restarted, video returns (the
# time is the camera's start-up plus at most one --backoff-max of 1 s).
T0=$(now)
kill -KILL "${PID[porch]}"
wait "${PID[porch]}" 2>/dev/null
S0=$(sched)	# without porch: its threads' times went with it
D=$(python3 "$Y4M" watch "$T/hall.y4m" 1 0 ff0000 unavailable "$T0")
L=$(stretched 3 "$S0")
check "porch killed: hall unavailable after ${D}s (session ended: at once; limit ${L}s)" \
	within "$D" "$L"
check "hall reports porch not connected" wait_until 5 hall \
	'd["cameras"][0]["state"] == "not connected"'
T0=$(now) S0=$(sched)
camera porch ff0000 "$PA"
D=$(python3 "$Y4M" watch "$T/hall.y4m" 1 0 ff0000 own "$T0")
L=$(stretched 6 "$S0")
check "porch restarted: hall shows video after ${D}s (3 s + margin: ${L}s)" within "$D" "$L"
D=$(python3 "$Y4M" watch "$T/kitchen.y4m" 2 0 ff0000 own "$T0")
L=$(stretched 6 "$S0")
check "porch restarted: kitchen shows it again after ${D}s (3 s + margin: ${L}s)" within "$D" "$L"

# The key holder killed (docs/ARCHITECTURE.md "Key custody"): the camera
# signs nothing more, says why and exits 1 for the service manager to
# restart it; the hub shows it unavailable within 1 s; restarted, video.
holder_pid() { sed -n 's/.*key holder: pid \([0-9]*\) holds the device key.*/\1/p' "$T/porch.log" | tail -n 1; }
HP=$(holder_pid)
check "porch: the key holder is a child of the camera, under seccomp (pid ${HP:-?})" \
	bash -c "[ -n '$HP' ] && [ \"\$(ps -o ppid= -p '$HP' | tr -d ' ')\" = '${PID[porch]}' ] &&
		 grep -q '^Seccomp:[[:space:]]*2' /proc/$HP/status"
# The camera's own process: no descriptor or mapping of device.key, and not
# one copy of the key's seed anywhere in its memory (it is non-dumpable:
# only root may look; the seed is read here from the PEM file).
no_key_in() {	# PID KEYDIR
	python3 - "$1" "$2" <<'PY'
import os, re, sys
from cryptography.hazmat.primitives import serialization
pid, keydir = sys.argv[1], sys.argv[2]
key = serialization.load_pem_private_key(open(keydir + "/device.key", "rb").read(), None)
seed = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                         serialization.NoEncryption())
fds = [os.readlink(f"/proc/{pid}/fd/{f}") for f in os.listdir(f"/proc/{pid}/fd")]
maps = open(f"/proc/{pid}/maps").read()
hits = scanned = 0
with open(f"/proc/{pid}/mem", "rb", 0) as mem:
    for line in maps.splitlines():
        m = re.match(r"([0-9a-f]+)-([0-9a-f]+) (\S+)", line)
        if not m or m.group(3)[0] != "r" or "[vvar]" in line or "[vsyscall]" in line:
            continue
        lo, hi = int(m.group(1), 16), int(m.group(2), 16)
        if hi - lo > 1 << 32:    # a sanitizer's shadow, never written by us
            continue
        try:
            mem.seek(lo)
            data = mem.read(hi - lo)
        except OSError:
            continue
        scanned += len(data)
        hits += data.count(seed)
bad = [f for f in fds if "device.key" in f] + (["maps"] if "device.key" in maps else [])
print(f"# {len(fds)} fds, {scanned >> 20} MiB scanned, seed found {hits} times, key file in {bad or 'nothing'}")
sys.exit(0 if scanned and not hits and not bad else 1)
PY
}
if [ "$EUID" = 0 ]; then
	check "porch's network process: no fd, mapping or copy of the device key's seed" \
		no_key_in "${PID[porch]}" "$T/porch"
else
	n=$((n + 1))
	echo "ok $n # SKIP porch's memory not searched for the seed: needs root (the daemon is non-dumpable)"
fi
# The watcher starts first, so that what is measured is the hub's reaction
# from the kill on, not the camera's own exit or the watcher's start-up.
rm -f "$T/kill-time" "$T/kill-time.ready"
python3 "$Y4M" watch "$T/hall.y4m" 1 0 ff0000 unavailable "@$T/kill-time" >"$T/kill-watch" &
WP=$!
wait_file 60 "$T/kill-time.ready"
S0=$(sched)
now >"$T/kill-time"
kill -KILL "$HP"
wait "${PID[porch]}"
RC=$?
check "porch: holder killed -> exit status 1 (restart), not 2 (got $RC)" test "$RC" = 1
check "porch: the log says the holder died and nothing is signed" \
	grep -q "key holder (pid $HP) was killed by signal 9.*no frame is signed" "$T/porch.log"
wait "$WP"
D=$(cat "$T/kill-watch")
L=$(stretched 1 "$S0")
check "holder killed: hall unavailable after ${D}s (limit 1 s, stretched: ${L}s)" within "$D" "$L"
T0=$(now) S0=$(sched)
camera porch ff0000 "$PA"
D=$(python3 "$Y4M" watch "$T/hall.y4m" 1 0 ff0000 own "$T0")
L=$(stretched 6 "$S0")
check "porch restarted with a new holder: hall shows video after ${D}s (limit ${L}s)" \
	within "$D" "$L"
check "porch restarted: a new holder" bash -c "[ \"\$(sed -n 's/.*key holder: pid \([0-9]*\) holds.*/\1/p' '$T/porch.log' | tail -n 1)\" != '$HP' ]"

# A camera at max-hubs tells the next paired hub why it is refused:
# shed (max-hubs 1) streams to barn; byre, also paired, is told "busy".
for d in shed barn byre; do "$CTL" keygen "$T/$d" >/dev/null; done
"$CTL" trust "$T/shed" barn "$(id barn)" --role hub --confirmed &&
"$CTL" trust "$T/shed" byre "$(id byre)" --role hub --confirmed &&
"$CTL" trust "$T/barn" shed "$(id shed)" --role camera --confirmed &&
"$CTL" trust "$T/byre" shed "$(id shed)" --role camera --confirmed || exit 1
PC=$(free_port)
"$VD" camera --keys "$T/shed" --name shed --source pattern:00ff00 --listen "127.0.0.1:$PC" \
	--width 320 --height 240 --fps 15 --max-hubs 1 --status-socket "$T/shed.sock" \
	>>"$T/shed.log" 2>&1 &
PID[shed]=$!
hub barn "shed@127.0.0.1:$PC"
check "shed (max-hubs 1) streams to barn" wait_until 30 barn \
	'd["cameras"][0]["state"] == "connected"'
hub byre "shed@127.0.0.1:$PC"
check "byre is told why: its log says the camera is busy" \
	wait_grep 20 "camera shed: camera refused the session: busy" "$T/byre.log"
check "byre counts it (camera-busy) and shows shed not connected" wait_until 10 byre \
	'd["cameras"][0]["rejected"].get("camera-busy", 0) >= 1 and d["cameras"][0]["state"] == "not connected"'
check "shed counted byre as busy; barn kept its session" wait_until 10 shed \
	'd["rejected_peers"].get("busy", 0) >= 1 and [h["name"] for h in d["hubs"]] == ["barn"]'
for p in byre barn shed; do
	kill -TERM "${PID[$p]}"
	wait "${PID[$p]}"
	unset "PID[$p]"
done

# SIGTERM: the camera ends its streams; every daemon exits 0.
kill -TERM "${PID[garden]}"
wait "${PID[garden]}"; rc=$?
check "garden: SIGTERM exits 0" test "$rc" = 0
check "kitchen saw garden end its stream" wait_until 5 kitchen \
	'd["cameras"][1]["state"] == "not connected"'
kill -TERM "${PID[porch]}"
wait "${PID[porch]}"; rc=$?
unset "PID[porch]"
check "porch: SIGTERM exits 0" test "$rc" = 0
check "porch ended its hub sessions on stop" grep -q "session ended (stopping)" "$T/porch.log"
check "hall saw porch's stream end" wait_until 5 hall \
	'd["cameras"][0]["state"] == "not connected"'
rcs=""
for p in stranger hall kitchen; do
	kill -TERM "${PID[$p]}"
	wait "${PID[$p]}"; rcs="$rcs$p=$? "
	unset "PID[$p]"
done
check "SIGTERM: every hub exits 0 ($rcs)" test "$rcs" = "stranger=0 hall=0 kitchen=0 "

# The pixels of every frame written.
for h in "kitchen ff0000 0000ff" "hall ff0000" "stranger ff0000 ff0000"; do
	set -- $h
	out=$(python3 "$Y4M" classify "$T/$1.y4m" "${@:2}")
	echo "$out" | diag
	check "$1: no foreign frame in its y4m" test "$(echo "$out" | grep -c 'foreign=[1-9]')" = 0
	case $1 in
	stranger) check "stranger: only its unavailable screens" \
			bash -c "[ \$(echo '$out' | grep -c 'own=0 unavailable=[1-9]') = 2 ]" ;;
	*)	check "$1: own pattern and unavailable screen both seen" \
			bash -c "! echo '$out' | grep -Eq 'own=0 |unavailable=0 '" ;;
	esac
done
check "no sanitizer report in any daemon's log" \
	bash -c "! grep -l 'runtime error\|Sanitizer' '$T'/*.log"
echo "1..$n"
exit $((fails > 0))
