#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The install, checked: `meson install --destdir` of the build into a
# scratch directory, then the installed tree, printed as KTAP.
#
#   files       exactly the expected files, binaries 0755, the rest 0644
#   exec        the installed units' ExecStart= is the installed veracamd
#   units       tests/systemd/check.sh passes on the installed units,
#               sysusers and tmpfiles entries (exposure, verify, ...)
#   render      each man page renders with groff -man -ww without a warning
#   drift       every option veracamd camera|hub --help prints has its
#               entry in veracamd(8) and its key in veracamd.conf(5); every
#               command and option of veracamctl --help is in veracamctl(1)
#   examples    each role's example lists every key of the role, and parses:
#               as shipped (the required key given as a flag) and with every
#               key uncommented, veracamd gets past the configuration and
#               stops at the empty key directory (device key, exit 2)
#
# meson runs it with the install directories in the environment (MESON,
# BUILD_DIR, BINDIR, UNITDIR, SYSUSERSDIR, TMPFILESDIR, CONFDIR, DOCDIR,
# MANDIR, MAN_PAGES=yes|no); see tests/install/meson.build.
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
ntests=15
. "$top/tests/ktap.sh"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
dest=$scratch/dest
log=$scratch/log

# 1: install
if "$MESON" install -C "$BUILD_DIR" --destdir "$dest" --no-rebuild >"$log" 2>&1; then
	result 0 "meson install --destdir"
else
	diag "$log"
	result 1 "meson install --destdir"
	skip_rest "nothing installed"
fi

# 2: the tree, with modes
pages=""
[ "$MAN_PAGES" = yes ] && pages="
0644 $MANDIR/man1/veracamctl.1
0644 $MANDIR/man5/veracamd.conf.5
0644 $MANDIR/man8/veracamd.8"
sort >"$scratch/want" <<LIST
0755 $BINDIR/veracamctl
0755 $BINDIR/veracamd
0644 $UNITDIR/veracamd-camera@.service
0644 $UNITDIR/veracamd-hub.service
0644 $SYSUSERSDIR/veracamd.conf
0644 $TMPFILESDIR/veracamd.conf
0644 $CONFDIR/camera.conf.example
0644 $CONFDIR/hub.conf.example
0644 $DOCDIR/README.md
0644 $DOCDIR/ARCHITECTURE.md
0644 $DOCDIR/PROTOCOL.md
0644 $DOCDIR/TRANSPORT.md
0644 $DOCDIR/OPERATIONS.md
0644 $DOCDIR/ADVERSARIAL.md$pages
LIST
(cd "$dest" && find . ! -type d -printf '%#m /%P\n' | sed 's|^0*\([0-7]\{4\}\) |\1 |' | sort) >"$scratch/got"
if diff -u "$scratch/want" "$scratch/got" >"$log"; then
	result 0 "installed files and modes ($(wc -l <"$scratch/got") files)"
else
	diag "$log"
	result 1 "installed files and modes"
fi

# 3: the units start the installed daemon
bad=""
for u in veracamd-camera@ veracamd-hub; do
	exe=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$dest$UNITDIR/$u.service" 2>/dev/null)
	[ "$exe" = "$BINDIR/veracamd" ] && [ -x "$dest$exe" ] || bad="$bad $u:${exe:-none}"
done
result "$([ -z "$bad" ]; echo $?)" "units' ExecStart= is $BINDIR/veracamd${bad:+ (got$bad)}"

# 4: the unit checks, on the installed copies
if VERACAM_UNIT_DIR="$dest$UNITDIR" VERACAM_SYSUSERS="$dest$SYSUSERSDIR/veracamd.conf" \
   VERACAM_TMPFILES="$dest$TMPFILESDIR/veracamd.conf" VERACAMD="$dest$BINDIR/veracamd" \
   "$top/tests/systemd/check.sh" >"$log" 2>&1; then
	result 0 "tests/systemd/check.sh on the installed units ($(grep -c '^ok' "$log") ok)"
else
	grep -v '^ok ' "$log" | sed 's/^/# /'
	result 1 "tests/systemd/check.sh on the installed units"
fi

vd=$dest$BINDIR/veracamd
ctl=$dest$BINDIR/veracamctl
# the long options a --help prints, one a line, without the dashes
options() { "$@" --help 2>&1 | grep -o -- '--[a-z][a-z-]*' | sed 's/^--//' | sort -u; }
options "$vd" camera >"$scratch/camera.opts"
options "$vd" hub >"$scratch/hub.opts"
# the keys: every option but --config and --help
grep -vx 'config\|help' "$scratch/camera.opts" >"$scratch/camera.keys"
grep -vx 'config\|help' "$scratch/hub.opts" >"$scratch/hub.keys"

# covers DESCRIPTION FILE PATTERN <NAMES: one test, passed when FILE has a
# line matching the extended regex PATTERN, @ standing for the name, for
# every name read; the missing names are listed
covers() {
	local missing="" name
	while read -r name; do
		grep -Eq -- "${3//@/$name}" "$2" || missing="$missing $name"
	done
	result "$([ -z "$missing" ]; echo $?)" "$1${missing:+ (missing:$missing)}"
}

# 5-11: the man pages
# plain text of a page, no hyphenation, lines long enough not to break
render() { groff -man -Tutf8 -P-cbou -rHY=0 -rLL=300n "$1" 2>/dev/null; }
if [ "$MAN_PAGES" != yes ]; then
	for t in "render veracamd.8" "render veracamctl.1" "render veracamd.conf.5" \
		 "veracamd(8) options" "veracamctl(1) commands" "veracamctl(1) options" \
		 "veracamd.conf(5) keys"; do
		n=$((n + 1))
		echo "ok $n $t # SKIP man pages not built (-Dman, scdoc)"
	done
elif ! command -v groff >/dev/null; then
	for t in 5 6 7 8 9 10 11; do
		n=$((n + 1))
		echo "ok $n # SKIP groff not installed (package groff-base)"
	done
else
	for page in man8/veracamd.8 man1/veracamctl.1 man5/veracamd.conf.5; do
		f=$dest$MANDIR/$page
		if [ -s "$f" ] && LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$f" >"$log" 2>&1 && [ ! -s "$log" ]; then
			result 0 "render ${page#*/} without warnings"
		else
			diag "$log"
			result 1 "render ${page#*/} without warnings"
		fi
	done

	# each option and command an entry of its own (at the start of a line)
	render "$dest$MANDIR/man8/veracamd.8" >"$scratch/veracamd.txt"
	covers "veracamd(8) has an entry for every option of camera/hub --help" \
		"$scratch/veracamd.txt" '^ +(-h, )?--@( |$)' \
		< <(sort -u "$scratch/camera.opts" "$scratch/hub.opts")
	render "$dest$MANDIR/man1/veracamctl.1" >"$scratch/veracamctl.txt"
	covers "veracamctl(1) has an entry for every command of --help" \
		"$scratch/veracamctl.txt" '^ +@( |,|$)' \
		< <("$ctl" --help | sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p')
	covers "veracamctl(1) names every option of --help" \
		"$scratch/veracamctl.txt" '(^|[^-[:alnum:]])--@([^-[:alnum:]]|$)' \
		< <(options "$ctl")
	render "$dest$MANDIR/man5/veracamd.conf.5" >"$scratch/conf.txt"
	covers "veracamd.conf(5) has an entry for every key of both roles" \
		"$scratch/conf.txt" '^ +@=' < <(sort -u "$scratch/camera.keys" "$scratch/hub.keys")
fi

# 12-15: the examples
mkdir -p "$scratch/keys"
for role in camera hub; do
	covers "$role.conf.example lists every $role key" "$dest$CONFDIR/$role.conf.example" \
		'^#?@=' <"$scratch/$role.keys"
done

# parses: veracamd reads the whole configuration, then stops at the key
# directory, which is empty (exit 2, "device key")
parses() { # ROLE FILE [FLAGS...]
	local role=$1 file=$2
	shift 2
	"$vd" "$role" --config "$file" --keys "$scratch/keys" --status-socket none "$@" \
		>"$log" 2>&1 </dev/null
	local rc=$?
	[ $rc -eq 2 ] && grep -q 'device key:' "$log" && ! grep -q "veracamd: " "$log"
}
required() { [ "$1" = camera ] && echo "--source=pattern:ff0000" || echo "--camera=porch@127.0.0.1:7000"; }
for role in camera hub; do
	ex=$dest$CONFDIR/$role.conf.example
	all=$scratch/$role.conf
	sed 's/^#\([a-z-]*=\)/\1/' "$ex" >"$all"
	if parses "$role" "$ex" "$(required "$role")" && parses "$role" "$all"; then
		result 0 "$role.conf.example parses, as shipped and with every key set"
	else
		diag "$log"
		result 1 "$role.conf.example parses, as shipped and with every key set"
	fi
done

ktap_finish
