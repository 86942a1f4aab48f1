# SPDX-License-Identifier: GPL-2.0
#
# tests/ktap.sh - KTAP output for veracam's shell test scripts (sourced).
#
#   ntests=N; . "$(dirname "$0")/ktap.sh"   # prints the header and plan
#   result STATUS "description"             # STATUS 0 = ok, else not ok
#   diag FILE                               # FILE's lines as # diagnostics
#   skip_rest "reason"                      # the remaining tests skipped, exit 4
#   ktap_finish                             # totals line, exit status
n=0
failed=0

echo "TAP version 13"
echo "1..$ntests"

result() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n $2"
	else
		echo "not ok $n $2"
		failed=$((failed + 1))
	fi
}

diag() {
	[ -s "$1" ] && sed 's/^/# /' "$1"
	return 0
}

skip_rest() {
	while [ "$n" -lt "$ntests" ]; do
		n=$((n + 1))
		echo "ok $n # SKIP $1"
	done
	exit 4
}

ktap_finish() {
	echo "# totals: pass:$((n - failed)) fail:$failed skip:0"
	[ "$failed" -eq 0 ]
	exit
}
