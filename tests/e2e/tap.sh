# SPDX-License-Identifier: GPL-2.0
# Sourced by the daemon tests (test_chain.sh, test_events.sh, test_store.sh):
# TAP lines, a free port on 127.0.0.1, an expression on a status snapshot.
n=0 fails=0

ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $*"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; return 1; fi; }
diag() { sed 's/^/# /'; }

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_until SECONDS EXPR: EXPR (json below) is True on the caller's
# `status` snapshot within SECONDS (test_chain.sh has its own, per daemon)
wait_until() {
	local end=$((SECONDS + $1))
	while [ $SECONDS -lt "$end" ]; do
		[ "$(status | json "$2" 2>/dev/null)" = True ] && return 0
		sleep 0.2
	done
	return 1
}

# wait_for SECONDS NAME EXPR: the same on daemon NAME's snapshot (the
# caller's `status NAME`), for tests with several daemons
wait_for() {
	local end=$((SECONDS + $1))
	while [ $SECONDS -lt "$end" ]; do
		[ "$(status "$2" | json "$3" 2>/dev/null)" = True ] && return 0
		sleep 0.2
	done
	return 1
}

# json EXPR < document: evaluate EXPR on the parsed snapshot d
json() { python3 -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }
