#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The Debian packages, checked (KTAP): `make deb`, then what it built.
#
#   build       make deb (debian/build-debs) exits 0 and leaves veracamd and
#               veracam-dkms of the version meson.build declares
#   lintian     no E: or W: tag (overrides live in debian/*.lintian-overrides,
#               each with its reason)
#   contents    dpkg -c of each package is exactly the expected file list
#               (modes, paths; man pages compressed, the documents not)
#   depends     veracamd's Depends names the package of every library its
#               binaries link (and so libssl3, libsodium23, ...)
#   conffiles   exactly /etc/veracam/{camera,hub}.conf{,.example}
#   installable apt-get --simulate install of both .debs resolves on this
#               machine (what `apt install ./build/deb/...` does; nothing
#               is installed)
#   postinst    run with stub systemd tools: the user before the
#               directories, no unit enabled or started on a first install,
#               the first-install message, silence on upgrade
#   postrm      purge removes the state and cache directories
#   config      the shipped /etc/veracam/hub.conf and camera.conf.example
#               (what a camera instance's ID.conf is copied from): as shipped,
#               veracamd stops with exit 2 naming the one key to set; with
#               that key set it runs (status answers, SIGTERM exits 0)
#   dkms        dkms add + build of the packaged source and dkms.conf against
#               the guest's kernel headers (tests/qemu/kernel abi), in a
#               scratch DKMS tree with a scratch signing key: veracam.ko
#               built for that kernel, signed; nothing outside the scratch
#               directory is written
#
#   tests/deb/check.sh [--debs DIR]   DIR: check .debs already built there
#                                     (make deb's build/deb) instead of
#                                     building
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
ntests=14
debs=""
if [ "${1:-}" = --debs ]; then
	debs=$(cd "$2" && pwd) || exit 2
fi
. "$top/tests/ktap.sh"

scratch=$(mktemp -d)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	rm -rf "$scratch"
}
trap cleanup EXIT
log=$scratch/log
version=$(sed -n "s/^ *version: *'\([^']*\)'.*/\1/p" "$top/meson.build" | head -n 1)

# 1: build
if [ -z "$debs" ]; then
	debs=$top/build/deb
	t0=$(date +%s)
	if make -C "$top" -s deb >"$scratch/make-deb.log" 2>&1; then
		result 0 "make deb ($(( $(date +%s) - t0 )) s)"
	else
		tail -n 30 "$scratch/make-deb.log" >"$log"
		diag "$log"
		result 1 "make deb"
	fi
	sed -n 's/^  \(.*\.deb .*\)/# \1/p; s/^deb: \(lintian: .*\)/# \1/p' "$scratch/make-deb.log"
else
	result 0 "make deb # SKIP checking the .debs in $debs"
fi
vd_deb=$debs/veracamd_${version}_$(dpkg --print-architecture).deb
dkms_deb=$debs/veracam-dkms_${version}_all.deb
if [ -f "$vd_deb" ] && [ -f "$dkms_deb" ]; then
	result 0 "veracamd and veracam-dkms $version built"
else
	echo "# in $debs: $(cd "$debs" 2>/dev/null && ls *.deb 2>/dev/null | tr '\n' ' ')"
	result 1 "veracamd and veracam-dkms $version built (debian/changelog's version is meson.build's)"
	skip_rest "no packages"
fi

# 3: lintian
if [ ! -f "$debs/lintian.txt" ]; then
	result 1 "lintian ran (no $debs/lintian.txt)"
elif grep -E '^[EW]: ' "$debs/lintian.txt" >"$log"; then
	diag "$log"
	result 1 "lintian: no errors or warnings"
else
	result 0 "lintian: no errors or warnings ($(grep -c '^I: ' "$debs/lintian.txt") info, $(grep -c '^O: ' "$debs/lintian.txt") overridden)"
fi

# 4, 5: contents. Files and links with their modes; directories are left
# out (dpkg -c lists each, and they follow from the files).
contents() {
	dpkg-deb -c "$1" | awk '$1 !~ /^d/ {
		p = $6; sub(/^\./, "", p)
		if ($1 ~ /^l/) print "link " p " -> " $8; else print $1 " " p }' | sort
}
check_contents() { # DEB NAME <EXPECTED
	sort >"$scratch/want"
	contents "$1" >"$scratch/got"
	if diff -u "$scratch/want" "$scratch/got" >"$log"; then
		result 0 "$2 contents: exactly the expected $(wc -l <"$scratch/got") files"
	else
		diag "$log"
		result 1 "$2 contents"
	fi
}
doc=/usr/share/doc
check_contents "$vd_deb" veracamd <<LIST
-rwxr-xr-x /usr/bin/veracamd
-rwxr-xr-x /usr/bin/veracamctl
-rw-r--r-- /lib/systemd/system/veracamd-camera@.service
-rw-r--r-- /lib/systemd/system/veracamd-hub.service
-rw-r--r-- /usr/lib/sysusers.d/veracamd.conf
-rw-r--r-- /usr/lib/tmpfiles.d/veracamd.conf
-rw-r--r-- /etc/veracam/hub.conf
-rw-r--r-- /etc/veracam/camera.conf.example
-rw-r--r-- /etc/veracam/hub.conf.example
-rw-r--r-- /usr/share/man/man1/veracamctl.1.gz
-rw-r--r-- /usr/share/man/man5/veracamd.conf.5.gz
-rw-r--r-- /usr/share/man/man8/veracamd.8.gz
-rw-r--r-- $doc/veracam/README.md
-rw-r--r-- $doc/veracam/ARCHITECTURE.md
-rw-r--r-- $doc/veracam/PROTOCOL.md
-rw-r--r-- $doc/veracam/TRANSPORT.md
-rw-r--r-- $doc/veracam/OPERATIONS.md
-rw-r--r-- $doc/veracam/ADVERSARIAL.md
-rw-r--r-- $doc/veracamd/changelog.gz
-rw-r--r-- $doc/veracamd/copyright
-rw-r--r-- /usr/share/lintian/overrides/veracamd
LIST
src=/usr/src/veracam-$version
check_contents "$dkms_deb" veracam-dkms <<LIST
-rw-r--r-- $src/dkms.conf
-rw-r--r-- $src/Kbuild
-rw-r--r-- $src/driver/Kbuild
$(cd "$top" && git ls-files 'driver/*.[ch]' 2>/dev/null | sed "s|^|-rw-r--r-- $src/|")
-rw-r--r-- $src/include/uapi/linux/veracam.h
-rw-r--r-- $src/include/veracam/sim-sensor.h
-rw-r--r-- $doc/veracam-dkms/changelog.gz
-rw-r--r-- $doc/veracam-dkms/copyright
LIST

# 6: Depends. Every library the two binaries link, by its package, and the
# ones the brief names (they are linked today; a missing one is a change
# to look at).
root=$scratch/root
dpkg-deb -x "$vd_deb" "$root"
depends=$(dpkg-deb -f "$vd_deb" Depends)
missing=""
for lib in $(readelf -d "$root/usr/bin/veracamd" "$root/usr/bin/veracamctl" 2>/dev/null |
	     sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort -u); do
	path=$(ldconfig -p | awk -v l="$lib" '$1 == l && /\(libc6,/ { print $NF; exit }')
	pkg=$(dpkg -S "$(readlink -f "${path:-/nonexistent}")" 2>/dev/null || dpkg -S "$path" 2>/dev/null)
	pkg=${pkg%%:*}
	pkg=${pkg%%,*}
	case ", $depends," in
	*", ${pkg:-?}"[\ ,]*) ;;
	*) missing="$missing $lib(${pkg:-no package})" ;;
	esac
done
for pkg in libssl3 libsodium23 libgstreamer1.0-0 libdrm2 libsystemd0 libyuv0; do
	case ", $depends," in
	*", $pkg"[\ ,]*) ;;
	*) missing="$missing $pkg" ;;
	esac
done
if [ -z "$missing" ]; then
	result 0 "veracamd Depends names every linked library's package"
else
	echo "# Depends: $depends"
	result 1 "veracamd Depends (missing:$missing)"
fi

# 7: conffiles
ctrl=$scratch/ctrl
dpkg-deb -e "$vd_deb" "$ctrl"
printf '%s\n' /etc/veracam/camera.conf.example \
	/etc/veracam/hub.conf /etc/veracam/hub.conf.example >"$scratch/want"
if sort "$ctrl/conffiles" 2>/dev/null | diff -u "$scratch/want" - >"$log"; then
	result 0 "conffiles: /etc/veracam/hub.conf, /etc/veracam/{camera,hub}.conf.example"
else
	diag "$log"
	result 1 "conffiles"
fi

# 8: installable here (a simulation: no root, no change, no network)
if apt-get -s -q install "$vd_deb" "$dkms_deb" >"$log" 2>&1 &&
   grep -q '^Conf veracamd ' "$log" && grep -q '^Conf veracam-dkms ' "$log"; then
	result 0 "apt-get -s install of both packages resolves ($(grep -c '^Inst ' "$log") to install)"
else
	tail -n 15 "$log" >"$scratch/tail"
	diag "$scratch/tail"
	result 1 "apt-get -s install of both packages resolves"
fi

# 9: postinst, run with stubs in front of PATH that log each call:
# the systemd tools, systemctl and deb-systemd-helper (was-enabled: no,
# as on a first install), and /run/systemd/system as the script sees it.
stub=$scratch/stub
mkdir -p "$stub"
for t in systemd-sysusers systemd-tmpfiles systemctl deb-systemd-helper deb-systemd-invoke; do
	printf '#!/bin/sh\necho "%s $*" >>"%s/calls"\n[ "$1" != was-enabled ] && [ "$2" != was-enabled ]\n' \
		"$t" "$scratch" >"$stub/$t"
	chmod +x "$stub/$t"
done
postinst_run() { # ARGS...: stdout+stderr of the postinst to $scratch/out, calls to $scratch/calls
	: >"$scratch/calls"
	PATH=$stub:$PATH sh "$ctrl/postinst" "$@" >"$scratch/out" 2>&1
}
why=""
if ! postinst_run configure ""; then
	why="exit status $? on install"
else
	grep -n . "$scratch/calls" >"$scratch/numbered"
	su=$(grep -m1 'systemd-sysusers .*veracamd.conf' "$scratch/numbered" | cut -d: -f1)
	tf=$(grep -m1 'systemd-tmpfiles .*--create.*veracamd.conf' "$scratch/numbered" | cut -d: -f1)
	[ -n "$su" ] && [ -n "$tf" ] && [ "$su" -lt "$tf" ] ||
		why="$why; not sysusers then tmpfiles (lines ${su:-none}, ${tf:-none})"
	grep -Eq 'deb-systemd-helper (.* )?enable|systemctl (.* )?(enable|start)' "$scratch/calls" &&
		why="$why; a unit enabled or started"
	grep -q 'not enabled' "$scratch/out" && grep -q 'veracamctl keygen' "$scratch/out" ||
		why="$why; no first-install message"
	postinst_run configure 0.0.1 || why="$why; exit status $? on upgrade"
	grep -q 'not enabled' "$scratch/out" && why="$why; the message again on upgrade"
fi
if [ -z "$why" ]; then
	result 0 "postinst: user, then key directories; nothing enabled or started; message on first install only"
else
	sed 's/^/# call: /' "$scratch/calls"
	diag "$scratch/out"
	result 1 "postinst:${why#;}"
fi

# 10: postrm purge (read, not run: it removes /var/lib/veracam)
if sed -n '/"\$1" = purge/,/^fi/p' "$ctrl/postrm" | grep -q 'rm -rf /var/lib/veracam /var/cache/veracam' &&
   grep -q 'deb-systemd-helper purge' "$ctrl/postrm"; then
	result 0 "postrm purge removes /var/lib/veracam, /var/cache/veracam and the units' state"
else
	result 1 "postrm purge removes /var/lib/veracam, /var/cache/veracam and the units' state"
fi

# 11, 12: the shipped configuration files, read by the packaged veracamd
vd=$root/usr/bin/veracamd
ctl=$root/usr/bin/veracamctl
export GST_REGISTRY=$scratch/gst-registry.bin
port=$((20000 + $$ % 20000))
for role in camera hub; do
	keys=$scratch/keys-$role
	"$ctl" keygen "$keys" >/dev/null 2>"$log" || diag "$log"
	# the hub's unit reads the conffile; a camera instance reads the
	# example copied to /etc/veracam/camera/ID.conf, with --source v4l2:id=ID
	conf=/etc/veracam/$role.conf
	[ $role = hub ] || conf=/etc/veracam/camera.conf.example
	shipped=$conf
	conf=$root$conf
	sock=$scratch/$role.sock
	why=""
	# as shipped: one line naming the missing key, exit 2
	if [ $role = camera ]; then need=source; set_line="source=pattern:00ff00"
	else need=camera; set_line="camera=porch@127.0.0.1:$port"; fi
	timeout 20 "$vd" $role --config "$conf" --keys "$keys" --status-socket "$sock" \
		>"$scratch/out" 2>&1 </dev/null
	rc=$?
	{ [ $rc = 2 ] && grep -q -- "$need" "$scratch/out" && [ ! -e "$sock" ]; } ||
		why="as shipped: exit $rc, $(head -n 1 "$scratch/out")"
	# a copy with the key set, and small pictures on the loopback (each
	# commented default replaced, so any other line is read as shipped;
	# no flag overrides the file): it runs
	if [ $role = camera ]; then
		edits=(-e "s|^#width=1280\$|width=160|" -e "s|^#height=720\$|height=120|"
		       -e "s|^#fps=30\$|fps=10|" -e "s|^#listen=0.0.0.0:7000\$|listen=127.0.0.1:$port|")
	else
		mkfifo "$scratch/hub.y4m"
		cat "$scratch/hub.y4m" >/dev/null &
		pids="$pids $!"
		edits=(-e "s|^#display=drm\$|display=y4m:$scratch/hub.y4m|"
		       -e "s|^#output-size=1280x720\$|output-size=160x120|")
	fi
	sed -e "s|^#$need=.*|$set_line|" "${edits[@]}" "$conf" >"$scratch/$role.conf"
	"$vd" $role --config "$scratch/$role.conf" --keys "$keys" --status-socket "$sock" \
		>"$scratch/$role.log" 2>&1 </dev/null &
	pid=$!
	pids="$pids $pid"
	up=""
	for _ in $(seq 100); do
		if "$ctl" status "$sock" 2>/dev/null | grep -q "\"role\": \"$role\""; then
			up=1
			break
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.2
	done
	kill "$pid" 2>/dev/null
	wait "$pid"
	rc=$?
	[ -n "$up" ] && [ $rc = 0 ] ||
		why="$why${why:+; }with $set_line: status ${up:-never answered}, exit $rc"
	if [ -z "$why" ]; then
		result 0 "$shipped as shipped: exit 2 naming '$need'; with $need= set: runs, status answers, SIGTERM exits 0"
	else
		diag "$scratch/out"
		diag "$scratch/$role.log" | tail -n 5
		result 1 "$shipped: $why"
	fi
done

# 13, 14: DKMS in a scratch tree
kver=$("$top/tests/qemu/kernel" abi 2>/dev/null)
kdir=/usr/src/linux-headers-$kver
if ! command -v dkms >/dev/null; then
	result 1 "dkms installed (package dkms; make deps)"
	result 1 "dkms build"
elif [ -z "$kver" ] || [ ! -f "$kdir/Makefile" ]; then
	echo "ok 13 # SKIP no headers for the guest kernel ${kver:-?} ($kdir)"
	echo "ok 14 # SKIP no headers for the guest kernel"
	n=14
else
	dk=$scratch/dkms
	mkdir -p "$dk/tree" "$dk/modules" "$dk/src"
	dpkg-deb -x "$dkms_deb" "$dk/root"
	conf=$dk/root$src/dkms.conf
	# what the DKMS tools need of the file: name, the version of the
	# directory it sits in, the module, rebuilt for new kernels
	why=""
	grep -qx 'PACKAGE_NAME="veracam"' "$conf" || why="$why PACKAGE_NAME"
	grep -qx "PACKAGE_VERSION=\"$version\"" "$conf" || why="$why PACKAGE_VERSION"
	grep -qx 'BUILT_MODULE_NAME\[0\]="veracam"' "$conf" || why="$why BUILT_MODULE_NAME"
	grep -qx 'BUILT_MODULE_NAME\[1\]="vc1"' "$conf" || why="$why BUILT_MODULE_NAME[1]"
	grep -qx 'AUTOINSTALL="yes"' "$conf" || why="$why AUTOINSTALL"
	dpkg-deb -e "$dkms_deb" "$dk/ctrl"
	grep -q '^DKMS_NAME=veracam$' "$dk/ctrl/postinst" &&
		grep -q "^DKMS_VERSION=$version\$" "$dk/ctrl/postinst" || why="$why postinst"
	result "$([ -z "$why" ]; echo $?)" "dkms.conf and postinst: veracam $version, AUTOINSTALL${why:+ (wrong:$why)}"

	# dkms reads its signing key paths from the environment when
	# /etc/dkms/framework.conf sets none: a scratch key, never
	# /var/lib/dkms/mok.key.
	fw_sign=$(grep -hE '^\s*(mok_signing_key|mok_certificate|sign_file)=' \
		/etc/dkms/framework.conf /etc/dkms/framework.conf.d/*.conf 2>/dev/null)
	opts=(--dkmstree "$dk/tree" --sourcetree "$dk/root/usr/src" --installtree "$dk/modules"
	      -m veracam -v "$version" -k "$kver" --kernelsourcedir "$kdir")
	if [ -n "$fw_sign" ]; then
		result 1 "dkms build # /etc/dkms/framework.conf sets a signing key; not run so as not to use it"
	elif mok_signing_key=$dk/mok.key mok_certificate=$dk/mok.pub \
	     nice dkms add "${opts[@]}" >"$log" 2>&1 &&
	     mok_signing_key=$dk/mok.key mok_certificate=$dk/mok.pub \
	     nice dkms build "${opts[@]}" >>"$log" 2>&1; then
		ko=$(ls "$dk/tree/veracam/$version/$kver"/*/module/veracam.ko* 2>/dev/null | head -n 1)
		sko=$(ls "$dk/tree/veracam/$version/$kver"/*/module/vc1.ko* 2>/dev/null | head -n 1)
		info=$(modinfo -F vermagic "$ko" 2>/dev/null; modinfo -F signer "$ko" 2>/dev/null)
		if [ -n "$ko" ] && [ -n "$sko" ] && [[ "$info" == "$kver "* ]] &&
		   grep -q 'DKMS module signing key' <<<"$info"; then
			result 0 "dkms add + build for $kver: ${ko##*/} and ${sko##*/}, vermagic $kver, signed by the scratch DKMS key"
		else
			diag "$log" | tail -n 20
			echo "# modules: ${ko:-none} ${sko:-none}; modinfo: $info"
			result 1 "dkms build for $kver: signed veracam.ko and vc1.ko for that kernel"
		fi
	else
		diag "$log" | tail -n 20
		cat "$dk"/tree/veracam/"$version"/build/make.log 2>/dev/null | tail -n 20 | sed 's/^/# /'
		result 1 "dkms add + build for $kver"
	fi
fi

ktap_finish
