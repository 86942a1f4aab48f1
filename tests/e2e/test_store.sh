#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The event store end to end (TAP), on a real nginx (tests/store/nginx-store:
# WebDAV store, proxy_cache in front), never a mock. A camera (motion off,
# `veracamctl event` triggers) with --event-store uploads each event:
# objects under STORE/KEYID/, byte-identical to what the spool held, the
# spool drained. The store down (nginx stopped): events stay queued and
# counted, retried with backoff; the camera restarted meanwhile finds them
# on disk; the store back (same ports): every one uploaded, objects
# already stored (an upload cut after the clip) not sent again. The bound
# reached while down: the oldest dropped, counted, the rest uploaded
# after. A store answering 500, and one stopped (SIGSTOP): retries, a
# status that answers, a SIGTERM that ends the camera at once. A store
# refusing PUT (403): the event given up, counted, kept in the spool. The
# hub lists the events through the cache (veracamctl events list) and
# opens each envelope, fetches the objects byte-identical to the store; the
# second fetch of each is a cache HIT with the same bytes. Attacks on the
# hub: events left out (a gap shown), an old listing and a 404 after events
# were seen (a rollback, exit 3), swapped and oversized thumbnails (not
# written). A store trickling its answers: hub and camera give up within
# their bound. A store URL with a password: never in a log or the status.
# Skips when nginx is not installed.
#
# usage: test_store.sh VERACAMD VERACAMCTL NGINX_STORE
set -u
VD=$1 CTL=$2 NGS=$3
T=$(mktemp -d "${TMPDIR:-/tmp}/veracamd-store.XXXXXX")
chmod 755 "$T"
PID=
. "$(dirname "$0")/tap.sh"

echo "TAP version 13"
if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
	echo "1..0 # SKIP nginx is not installed (tests/tools/deps installs it)"
	exit 0
fi

cleanup() {
	[ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null
	[ -n "${TPID:-}" ] && kill "$TPID" 2>/dev/null
	# shellcheck disable=SC2046
	kill -CONT "$(cat "$T/s/nginx.pid" 2>/dev/null)" $(pgrep -P "$(cat "$T/s/nginx.pid" 2>/dev/null)") 2>/dev/null
	"$NGS" stop "$T/s" 2>/dev/null
	wait 2>/dev/null
	if [ "$fails" -ne 0 ]; then
		for f in "$T"/*.log "$T"/s/error.log; do echo "# --- $f"; tail -n 30 "$f" | diag; done
	fi
	[ -n "${KEEP_STORE_TEST:-}" ] || rm -rf "$T"
}
trap cleanup EXIT

status() { "$CTL" status "$T/cam.sock" 2>/dev/null; }
ev() { status | json "d['events']$1"; }

start_camera() {
	"$VD" camera --keys "$T/cam" --name porch --source "${SRC:-pattern:3060a0}" --width 320 --height 240 \
		--fps 15 --bitrate "${BR:-400k}" --listen "127.0.0.1:$(free_port)" --status-socket "$T/cam.sock" \
		--event-pre-roll 1s --event-post-roll 1s --motion false \
		--event-store-timeout "${STORE_TIMEOUT:-1s}" --event-store-backoff-max "${STORE_BACKOFF:-1s}" "$@" >>"$T/cam.log" 2>&1 &
	PID=$!
	wait_until 30 'd["ready"]'
}

# SIGTERM: the camera (and its uploader) gone within $1 s, exit 0. The
# bounds below are far from what a loaded ASan camera needs (it exits in
# well under 1 s at rest) and far below the waits they prove are cut short.
quick_stop() {
	local end=$((SECONDS + $1)) rc
	kill -TERM "$PID"
	while kill -0 "$PID" 2>/dev/null; do
		[ $SECONDS -lt $end ] || return 1
		sleep 0.1
	done
	wait "$PID"
	rc=$?
	PID=
	return $rc
}
stop_camera() { quick_stop 60; }

store_start() { read -r STORE CACHE < <("$NGS" start "$T/s" ${SPORT:-} ${CPORT:-}); }
store_stop() { "$NGS" stop "$T/s"; }
# one event, written into the spool (written reaches $1)
record() {
	"$CTL" event "$T/cam.sock" >/dev/null && wait_until 20 "d['events']['written'] == $1 and d['events']['state'] == 'idle'"
}

"$CTL" keygen "$T/cam" >/dev/null && "$CTL" keygen "$T/hub" >/dev/null &&
	"$CTL" trust "$T/cam" kitchen "$("$CTL" identity "$T/hub")" --role hub --confirmed >/dev/null &&
	"$CTL" trust "$T/hub" porch "$("$CTL" identity "$T/cam")" --confirmed >/dev/null &&
	"$CTL" enc-pin "$T/cam" kitchen "$("$CTL" enc-binding "$T/hub")" >/dev/null || exit 1
KEYID=$("$CTL" identity "$T/cam" --key-id)
SPOOL=$T/cam/events

check "nginx-store starts a store and a cache" store_start
SPORT=${STORE##*:} CPORT=${CACHE##*:}
OBJ=$T/s/store/events/$KEYID

# 1. the store up: each event uploaded, the spool drained
start_camera --event-store "$STORE/events/"
sleep 2		# the pre-roll ring fills
check "event 0 recorded" record 1
check "event 0 uploaded, the spool drained, no retry" \
	wait_until 20 'd["events"]["uploaded"] == 1 and d["events"]["spool"]["events"] == 0 and d["events"]["upload_queue"]["events"] == 0 and d["events"]["upload_retries"] == 0 and d["events"]["upload_objects"] == 3 and d["events"]["upload_last_error"] is None'
check "the store holds its envelope, thumbnail and clip under the camera's key id" \
	bash -c "[ \$(ls '$OBJ' | grep -cE '^0{20}-[0-9a-f]{32}\\.(env|thumb|clip)\$') = 3 ] && [ -z \"\$(ls -A '$SPOOL')\" ]"

# 2. the store down: events stay queued, retried, nothing lost
store_stop
check "event 1 recorded while the store is down" record 2
check "event 2 recorded while the store is down" record 3
check "both wait in the spool and the queue, retried with backoff, the error shown" \
	wait_until 10 'd["events"]["spool"]["events"] == 2 and d["events"]["upload_queue"]["events"] == 2 and d["events"]["upload_retries"] >= 2 and d["events"]["uploaded"] == 1 and "onnect" in (d["events"]["upload_last_error"] or "")'
r1=$(ev "['upload_retries']")
sleep 3
r2=$(ev "['upload_retries']")
# backoff 250 ms doubling to the 1 s cap: at most ~4 a second, far fewer than a busy loop
check "retries back off (3 s: $((r2 - r1)) retries, 2..12 expected)" \
	test $((r2 - r1)) -ge 2 -a $((r2 - r1)) -le 12
cp -a "$SPOOL" "$T/spool-copy"
check "SIGTERM while retrying: the camera exits 0 (no hang in the uploader)" quick_stop 20
start_camera --event-store "$STORE/events"
check "restarted with the store still down: the spool's 2 events are queued again" \
	wait_until 10 'd["events"]["upload_queue"]["events"] == 2 and d["events"]["uploaded"] == 0 and d["events"]["upload_retries"] >= 1'
# as if the first one's upload had been cut after its clip: its thumbnail
# and clip already in the store, no envelope
first=$(ls "$SPOOL" | grep '\.env$' | sort | head -1)
first=${first%.env}
install -m 0644 "$SPOOL/$first.thumb" "$SPOOL/$first.clip" "$OBJ/"
check "the store back on the same ports" store_start
check "both uploaded (resume), the spool drained" \
	wait_until 20 'd["events"]["uploaded"] == 2 and d["events"]["spool"]["events"] == 0 and d["events"]["upload_queue"]["events"] == 0 and d["events"]["upload_last_error"] is None'
check "the cut upload resumed: its 2 stored objects not sent again (HEAD), 4 PUT" \
	wait_until 2 'd["events"]["upload_skipped"] == 2 and d["events"]["upload_objects"] == 4'
same_bytes() {
	local f n=0
	for f in "$T"/spool-copy/*; do
		cmp -s "$f" "$OBJ/$(basename "$f")" || { echo "# $f differs" ; return 1; }
		n=$((n + 1))
	done
	[ $n = 6 ]
}
check "the store's 6 objects are byte-identical to what the spool held" same_bytes
stop_camera

# 3. the bound reached while the store is down: the oldest dropped, counted
store_stop
rm -rf "$T/spool-copy"
SRC=pattern:3060a0,scene=moving BR=1500k start_camera --event-store "$STORE/events" --event-spool-max 1
sleep 2
# events (a moving scene at 1.5 Mbit/s: some 300-600 KB each, fewer bytes
# when a loaded machine drops frames) until the bound drops one, 8 at most
recorded=0
record_until_drop() {
	while [ $recorded -lt 8 ]; do
		recorded=$((recorded + 1))
		record $recorded || return 1
		[ "$(ev "['spool']['dropped']")" -ge 1 ] && return 0
	done
	return 1
}
check "events recorded with the store down and a 1 MiB spool, until the bound dropped one" \
	record_until_drop
dropped=$(ev "['spool']['dropped']")
queued=$(ev "['spool']['events']")
spooled=$(ev "['spool']['bytes']")
check "the bound held: $dropped of $recorded dropped (counted, logged), $queued queued ($spooled bytes <= 1 MiB), none lost otherwise" \
	bash -c "[ '$dropped' -ge 1 ] && [ \$(( $dropped + $queued )) = $recorded ] && [ '$spooled' -le 1048576 ] && grep -q 'dropped the oldest event' '$T/cam.log'"
oldest_kept=$(ls "$SPOOL" | grep '\.env$' | sort | head -1)
store_start
kept_uploaded() {
	wait_until 20 "d['events']['uploaded'] == $queued and d['events']['spool']['events'] == 0" &&
		[ -e "$OBJ/$oldest_kept" ] && [ "$(ls "$OBJ" | grep -c '\.env$')" = $((3 + queued)) ]
}
check "the store back: the $queued kept are uploaded, the dropped are not in the store" kept_uploaded
stop_camera

# 4. a store answering 500, then one that stalls (SIGSTOP): retries, no hang
start_camera --event-store "$STORE/fail"
sleep 2
record 1 >/dev/null
check "a store answering 500: retried with backoff, nothing uploaded, the event kept" \
	wait_until 10 'd["events"]["upload_retries"] >= 2 and d["events"]["uploaded"] == 0 and d["events"]["spool"]["events"] == 1 and "HTTP 500" in (d["events"]["upload_last_error"] or "")'
stop_camera
# shellcheck disable=SC2046
kill -STOP "$(cat "$T/s/nginx.pid")" $(pgrep -P "$(cat "$T/s/nginx.pid")")
start_camera --event-store "$STORE/events"
check "a stalled store (SIGSTOP): each request times out (1 s), retried; the status answers" \
	wait_until 15 'd["events"]["upload_retries"] >= 2 and d["events"]["uploaded"] == 0 and any(w in (d["events"]["upload_last_error"] or "") for w in ("too slow", "imeout", "timed out"))'
stop_camera
# the same stalled store with a request timeout of 120 s: a SIGTERM must cut
# the request in flight (libcurl's progress callback), not wait it out
STORE_TIMEOUT=120s STORE_BACKOFF=120s start_camera --event-store "$STORE/events"
check "a request of a 120 s timeout in flight to the stalled store" \
	wait_until 10 'd["events"]["upload"] == "sending" and d["events"]["upload_retries"] == 0 and d["events"]["uploaded"] == 0'
sleep 1
check "SIGTERM with that request in flight: the camera exits 0 within 30 s, the request cut" \
	quick_stop 30
# shellcheck disable=SC2046
kill -CONT "$(cat "$T/s/nginx.pid")" $(pgrep -P "$(cat "$T/s/nginx.pid")")

# 5. a store that refuses (the cache is read only: 403): given up, counted, kept
start_camera --event-store "$CACHE/events"
check "a store refusing the PUT (403): the event given up, counted, kept in the spool" \
	wait_until 10 'd["events"]["upload_failed"] == 1 and d["events"]["uploaded"] == 0 and d["events"]["spool"]["events"] == 1 and "HTTP 403" in (d["events"]["upload_last_error"] or "")'
check "... logged once, not retried" \
	bash -c "[ \$(grep -c 'not uploaded: PUT' '$T/cam.log') = 1 ] && [ '$(ev "['upload_retries']")' = 0 ]"
stop_camera
start_camera --event-store "$STORE/events"
check "the right store: the kept event uploaded after the restart" \
	wait_until 10 'd["events"]["uploaded"] == 1 and d["events"]["spool"]["events"] == 0'
stop_camera

# 6. the hub: through the cache, every envelope opened with its key
n_env=$(ls "$OBJ" | grep -c '\.env$')
hub_lists() {
	"$CTL" events list "$T/hub" --store "$CACHE/events" --camera porch --fetch "$T/f1" >"$T/list.out" 2>&1
	local rc=$?
	diag <"$T/list.out"
	[ $rc = 0 ] && [ "$(grep -c ' opened' "$T/list.out")" = "$n_env" ]
}
check "veracamctl events list: the hub lists and opens all $n_env events through the cache" hub_lists
env0=$(ls "$OBJ" | grep '\.env$' | sort | head -1)
check "a second fetch of an envelope through the cache is a HIT, byte-identical to the store" \
	bash -c "curl -s -o '$T/a' -D '$T/h1' '$CACHE/events/$KEYID/$env0' && curl -s -o '$T/b' -D '$T/h2' '$CACHE/events/$KEYID/$env0' &&
		 grep -qi '^X-Cache-Status: HIT' '$T/h2' && cmp '$T/b' '$OBJ/$env0' && cmp '$T/a' '$T/b'"
# every object fetched through the cache is the store's, byte for byte
same_as_store() {
	local f n=0
	for f in "$1"/*; do
		cmp -s "$f" "$OBJ/$(basename "$f")" || { echo "# $f differs"; return 1; }
		n=$((n + 1))
	done
	[ $n = $((3 * n_env)) ]
}
check "--fetch: each event's envelope, thumbnail and clip, byte-identical to the store" \
	same_as_store "$T/f1"
hub_again() {
	"$CTL" events list "$T/hub" --store "$CACHE/events" --camera porch --fetch "$T/f2" >"$T/list2.out" 2>&1 &&
		[ "$(grep -cE 'opened \(cache HIT\), thumb [0-9]+ bytes \(cache HIT\), clip [0-9]+ bytes \(cache HIT\)' "$T/list2.out")" = "$n_env" ] &&
		same_as_store "$T/f2"
}
check "the hub's second fetch: every envelope and object a cache HIT, the same bytes" hub_again

# 7. the hub's chain across runs: gaps shown, a rollback refused. Straight
# at the store (the cache keeps listings 1 s, objects 10 min).
SEEN=$T/hub/events-seen/porch
newest=$(ls "$OBJ" | grep '\.env$' | sort | tail -1)
check "the first list kept the newest event seen (0600): ${newest%%-*}" \
	bash -c "[ \"\$(stat -c %a '$SEEN')\" = 600 ] && [ \"\$(cut -d' ' -f1 '$SEEN')\" = $((10#${newest%%-*})) ]"
check "the events the spool's bound dropped (section 3) are shown as a gap, not refused" \
	bash -c "grep -q ' gap: event.* missing' '$T/list.out' && grep -qE 'refused or missing, [1-9][0-9]* gaps? \\(' '$T/list.out'"
# events list of the store $1 into list3.out (shown); its exit status
lst() {
	"$CTL" events list "$T/hub" --store "$1" --camera porch >"$T/list3.out" 2>&1
	local rc=$?
	diag <"$T/list3.out"
	return $rc
}
mkdir -p "$T/hidden"
middle=$(ls "$OBJ" | grep '\.env$' | sort | sed -n 2p)
mv "$OBJ/$middle" "$T/hidden/"
left_out() {
	lst "$STORE/events" && grep -q "gap: event $((10#${middle%%-*}))\\.\\.$((10#${middle%%-*})) missing" "$T/list3.out"
}
check "an event left out of the listing is shown as a gap" left_out
mv "$T/hidden/$middle" "$OBJ/"
seen_before=$(cat "$SEEN")
mv "$OBJ/$newest" "$T/hidden/"
rolled_back() {
	lst "$STORE/events"
	[ $? = 3 ] && grep -q '^rollback: the newest listed event is' "$T/list3.out" &&
		grep -q 'refused or missing (replay 1)' "$T/list3.out" && [ "$(cat "$SEEN")" = "$seen_before" ]
}
check "an old listing served as the newest: a rollback, refused (replay, exit 3), the seen event kept" rolled_back
mv "$T/hidden/$newest" "$OBJ/"
gone() {
	lst "$STORE/elsewhere"
	[ $? = 3 ] && grep -q '^rollback: the store has no listing' "$T/list3.out"
}
check "a 404 listing after events were seen: a rollback, not \"no events\" (exit 3)" gone
mkdir -p "$T/s/store/empty/$KEYID"
emptied() {
	lst "$STORE/empty"
	[ $? = 3 ] && grep -q '^rollback: no listed event opened' "$T/list3.out"
}
check "an empty listing after events were seen: a rollback (exit 3)" emptied

# 8. --fetch writes only objects that open: a thumbnail swapped for another
# event's, a clip served as the thumbnail, an oversized thumbnail
with_thumb=$(ls "$OBJ" | grep '\.thumb$' | sort | head -2)
t1=$(echo "$with_thumb" | sed -n 1p) t2=$(echo "$with_thumb" | sed -n 2p)
cp -a "$OBJ/$t1" "$T/hidden/orig.thumb"
fetch_refused() {	# $1: what the note says
	rm -rf "$T/f3"
	"$CTL" events list "$T/hub" --store "$STORE/events" --camera porch --fetch "$T/f3" >"$T/list4.out" 2>&1
	local rc=$?
	diag <"$T/list4.out"
	[ $rc = 1 ] && grep -q "${t1:21:32} .*$1" "$T/list4.out" && [ ! -e "$T/f3/$t1" ] &&
		[ ! -e "$T/f3/${t1%.thumb}.env" ]
}
cp "$OBJ/$t2" "$OBJ/$t1"
check "--fetch: another event's thumbnail is refused (decrypt), not written" fetch_refused "thumb refused (decrypt), not written"
cp "$OBJ/${t1%.thumb}.clip" "$OBJ/$t1"
check "--fetch: a clip served as the thumbnail is refused, not written" fetch_refused "thumb refused (decrypt), not written"
head -c $((5 << 20)) /dev/zero >"$OBJ/$t1"
check "--fetch: a 5 MiB thumbnail is refused before it is read (answer too long)" fetch_refused "\.thumb: answer too long"
cp -a "$T/hidden/orig.thumb" "$OBJ/$t1"

# 9. a store that trickles its answers (3 bytes every 0.9 s, above the old
# 1 byte/s stall limit): the hub and the camera give up within their bound
TP=$(free_port)
python3 - "$TP" >"$T/trickle.log" 2>&1 <<'PY' &
import socket, sys, threading, time
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", int(sys.argv[1])))
srv.listen(16)
def serve(c):
    # HEAD: not there; PUT (its body read) and GET: 200, then the answer's
    # body 3 bytes every 0.9 s (curl counts body bytes, not header bytes,
    # against its low-speed limit)
    try:
        c.settimeout(30)
        buf = b""
        while b"\r\n\r\n" not in buf:
            d = c.recv(65536)
            if not d:
                return
            buf += d
        head, body = buf.split(b"\r\n\r\n", 1)
        if head.startswith(b"HEAD "):
            c.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
            return
        want = 0
        for line in head.split(b"\r\n")[1:]:
            k, _, v = line.partition(b":")
            if k.strip().lower() == b"content-length":
                want = int(v)
        while len(body) < want:
            d = c.recv(65536)
            if not d:
                return
            body += d
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
        while True:
            c.sendall(b"abc")
            time.sleep(0.9)
    except OSError:
        pass
    finally:
        c.close()
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
TPID=$!
listening() { local i; for i in $(seq 100); do (: </dev/tcp/127.0.0.1/"$TP") 2>/dev/null && return 0; sleep 0.1; done; return 1; }
check "a trickling HTTP server (3 bytes every 0.9 s) listens" listening
trickled_hub() {
	local t0=$SECONDS rc
	timeout 60 "$CTL" events list "$T/hub" --store "http://127.0.0.1:$TP/events" --camera porch \
		--timeout 1 >"$T/list5.out" 2>&1
	rc=$?
	diag <"$T/list5.out"
	echo "# gave up after $((SECONDS - t0)) s, exit $rc"
	[ $rc = 1 ] && [ $((SECONDS - t0)) -le 5 ] && grep -q 'too slow\|imeout\|timed out' "$T/list5.out"
}
check "the hub gives up on a trickling store within 5 s (timeout 1 s)" trickled_hub
start_camera --event-store "http://127.0.0.1:$TP/events"
sleep 2
record 1 >/dev/null
check "the camera gives up on a trickling store and retries (each request cut after ~1 s)" \
	wait_until 15 'd["events"]["upload_retries"] >= 2 and d["events"]["uploaded"] == 0 and any(w in (d["events"]["upload_last_error"] or "") for w in ("too slow", "imeout", "timed out"))'
stop_camera
kill "$TPID" 2>/dev/null
wait "$TPID" 2>/dev/null

# 9b. the store takes PUT with the cameras' password only (nginx-store's
# basic auth, the URL it prints carries it): a camera without it is refused
start_camera --event-store "http://${STORE##*@}/events"
check "a camera without the store's password: its upload refused (401), counted, shown" \
	wait_until 10 'd["events"]["upload_failed"] >= 1 and "401" in (d["events"]["upload_last_error"] or "")'
stop_camera

# 10. credentials in the store's URL never shown: not at start, not in an
# upload error (log, status), not by the hub
start_camera --event-store "http://porchuser:s3cretPW@${CACHE#http://}/events"
check "a store URL with a password: the refusal (403) is shown with the credentials redacted" \
	wait_until 10 'd["events"]["upload_failed"] == 1 and "http://***@" in (d["events"]["upload_last_error"] or "")'
no_password() {
	! grep -q 's3cretPW\|porchuser' "$T/cam.log" && ! status | grep -q 's3cretPW\|porchuser' &&
		grep -q 'event store: http://\*\*\*@' "$T/cam.log"
}
check "... the password (and user) appear neither in the log nor in the status" no_password
stop_camera
hub_no_password() {
	"$CTL" events list "$T/hub" --store "http://porchuser:s3cretPW@127.0.0.1:$TP/events" --camera porch \
		--timeout 1 >"$T/list6.out" 2>&1
	diag <"$T/list6.out"
	! grep -q 's3cretPW\|porchuser' "$T/list6.out" && grep -q 'http://\*\*\*@' "$T/list6.out"
}
check "the hub's errors show its store URL without the credentials" hub_no_password

echo "1..$n"
[ "$fails" -eq 0 ]
