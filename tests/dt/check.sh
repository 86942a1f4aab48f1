#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Host-side device-tree checks for the veracam VC1 binding and overlays.
# Prints KTAP; exits 0 when every test passed or was skipped, 1 otherwise,
# 4 when the tools are missing (kselftest skip).
#
#   binding:   dt-doc-validate, dt-mk-schema, and dt-validate of the
#              binding's own example
#   overlays:  dtc -@ of the base board and both overlays (.dtso; no warnings),
#              fdtoverlay onto the base, dt-validate of the result against
#              the binding (the camera node must match the veracam schema),
#              endpoint linkage both ways
#   negative:  a unique-id property, three data lanes and a missing
#              supply must each be reported by dt-validate
#   vendor:    every validation runs with the kernel's vendor-prefixes.yaml
#              loaded, holding the "veracam" entry its registration patch
#              adds (docs/veracam.rst); a property under a prefix that is
#              not registered is reported
#
# The media schemas the binding references (video-interfaces.yaml,
# video-interface-devices.yaml) and the dt-bindings headers come from the
# kernel source: $VERACAM_LINUX_SRC if set, else they are extracted once
# from /usr/src/linux-source-6.1.tar.xz into $VERACAM_BUILD/dt (default
# build/dt).

set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
dts=$top/dts
build=${VERACAM_BUILD:-$top/build}/dt
tarball=${VERACAM_LINUX_TARBALL:-/usr/src/linux-source-6.1.tar.xz}
ntests=16
. "$top/tests/ktap.sh"

# A tool run is clean when it exits 0 and prints nothing (dt-doc-validate
# and dt-validate exit 0 even when they report errors).
clean() {	# clean <log> <cmd...>
	log=$1
	shift
	"$@" >"$log" 2>&1 && [ ! -s "$log" ]
}

for tool in dtc fdtoverlay fdtget dt-doc-validate dt-mk-schema dt-validate \
	    dt-extract-example cpp; do
	command -v "$tool" >/dev/null 2>&1 ||
		skip_rest "$tool not installed (device-tree-compiler, dt-schema, cpp)"
done

mkdir -p "$build/schemas/media" "$build/out"
ksrc=${VERACAM_LINUX_SRC:-$build/linux-source-6.1}
kbind=$ksrc/Documentation/devicetree/bindings
if [ ! -f "$kbind/media/video-interfaces.yaml" ] ||
   [ ! -f "$kbind/vendor-prefixes.yaml" ] ||
   [ ! -f "$ksrc/include/dt-bindings/gpio/gpio.h" ]; then
	[ -r "$tarball" ] || skip_rest "no kernel source: set VERACAM_LINUX_SRC or install linux-source-6.1"
	tar -C "$build" -xJf "$tarball" \
		linux-source-6.1/Documentation/devicetree/bindings/media/video-interfaces.yaml \
		linux-source-6.1/Documentation/devicetree/bindings/media/video-interface-devices.yaml \
		linux-source-6.1/Documentation/devicetree/bindings/vendor-prefixes.yaml \
		linux-source-6.1/include/dt-bindings/gpio/gpio.h ||
		skip_rest "cannot extract the media schemas from $tarball"
	ksrc=$build/linux-source-6.1
	kbind=$ksrc/Documentation/devicetree/bindings
fi

# dtschema checks a binding's $id against its path below the schema
# directory, so the binding is linked into one tree with the media schemas.
schemas=$build/schemas
cp "$kbind/media/video-interfaces.yaml" "$kbind/media/video-interface-devices.yaml" \
	"$schemas/media/"
# The vendor prefix registry with the entry "veracam" would be registered
# with: a patch to vendor-prefixes.yaml ahead of the binding's.
sed 's/^  "\^vertexcom,\.\*":$/  "^veracam,.*":\n    description: veracam project (VC1 camera sensor)\n&/' \
	"$kbind/vendor-prefixes.yaml" >"$schemas/vendor-prefixes.yaml"
rm -f "$schemas/veracam,vc1.yaml"	# where the binding was before media/i2c
mkdir -p "$schemas/media/i2c"
ln -sf "$dts/bindings/media/i2c/veracam,vc1.yaml" "$schemas/media/i2c/veracam,vc1.yaml"
out=$build/out
processed=$build/processed-schema.json

# 1: the binding is a valid dt-schema document.
clean "$out/doc-validate.log" dt-doc-validate -u "$schemas" "$schemas/media/i2c/veracam,vc1.yaml"
rc=$?
diag "$out/doc-validate.log"
result $rc "dt-doc-validate veracam,vc1.yaml"

# 2: dtschema's core schemas + media schemas + the binding, processed.
rc=1
if dt-mk-schema -j -o "$processed" "$schemas" >"$out/mk-schema.log" 2>&1 &&
   grep -q 'schemas/media/i2c/veracam,vc1.yaml#' "$processed"; then
	rc=0
fi
diag "$out/mk-schema.log"
result $rc "dt-mk-schema builds a processed schema holding veracam,vc1"
[ $rc -eq 0 ] || skip_rest "no processed schema"

# validate <dtb> <log>: clean dt-validate run, and the VC1 node really was
# checked against the binding (a silent run that matched nothing proves
# nothing).
validate() {
	dt-validate -s "$processed" "$1" >"$2" 2>&1 && [ ! -s "$2" ] &&
		dt-validate -M -s "$processed" "$1" 2>&1 |
		grep -A1 'camera@36: matched on schema' | grep -q 'schemas/media/i2c/veracam,vc1.yaml#'
}

# 3: the binding's own example validates against it.
rc=1
if dt-extract-example "$dts/bindings/media/i2c/veracam,vc1.yaml" >"$out/example.dts" &&
   cpp -nostdinc -undef -D__DTS__ -x assembler-with-cpp -I "$ksrc/include" \
	"$out/example.dts" -o "$out/example.pp.dts" &&
   dtc -q -I dts -O dtb -o "$out/example.dtb" "$out/example.pp.dts" &&
   validate "$out/example.dtb" "$out/example.log"; then
	rc=0
fi
diag "$out/example.log"
result $rc "binding example passes dt-validate"

# 4-6: base and overlays compile with symbols and without warnings.
for f in veracam-test-base veracam-vc1-overlay veracam-vc1-rpi-overlay; do
	case $f in
	*-base) o=$out/$f.dtb src=$f.dts ;;
	*) o=$out/$f.dtbo src=$f.dtso ;;
	esac
	clean "$out/$f.dtc.log" dtc -@ -I dts -O dtb -o "$o" "$dts/$src"
	rc=$?
	diag "$out/$f.dtc.log"
	result $rc "dtc -@ $src"
done

# 7-10: apply each overlay to the base and validate the merged tree.
for f in veracam-vc1-overlay veracam-vc1-rpi-overlay; do
	clean "$out/$f.apply.log" fdtoverlay -i "$out/veracam-test-base.dtb" \
		-o "$out/$f.merged.dtb" "$out/$f.dtbo"
	rc=$?
	diag "$out/$f.apply.log"
	result $rc "fdtoverlay $f onto veracam-test-base"

	rc=1
	[ -f "$out/$f.merged.dtb" ] && validate "$out/$f.merged.dtb" "$out/$f.validate.log" && rc=0
	diag "$out/$f.validate.log"
	result $rc "dt-validate $f applied"
done

# 11-12: the sensor and receiver endpoints point at each other after the
# overlay's fixups were resolved, and the receiver was enabled.
linked() {	# linked <dtb> <camera endpoint> <receiver node>
	cam_ph=$(fdtget "$1" "$2" phandle 2>/dev/null) &&
	rx_ph=$(fdtget "$1" "$3/port/endpoint" phandle 2>/dev/null) &&
	[ "$(fdtget "$1" "$2" remote-endpoint)" = "$rx_ph" ] &&
	[ "$(fdtget "$1" "$3/port/endpoint" remote-endpoint)" = "$cam_ph" ] &&
	[ "$(fdtget "$1" "$3" status)" = okay ]
}
rc=1
linked "$out/veracam-vc1-overlay.merged.dtb" \
	/soc/i2c@7e804000/camera@36/port/endpoint /soc/csi@7e800000 && rc=0
result $rc "generic overlay links camera and CSI-2 receiver endpoints"
rc=1
linked "$out/veracam-vc1-rpi-overlay.merged.dtb" \
	/soc/i2c@7e205000/camera@36/port/endpoint /soc/csi@7e801000 && rc=0
result $rc "rpi overlay links camera and csi1 endpoints"

# 13-14: the binding rejects what a driver could not use.
# expect_reject <name> <sed script>: a mutated generic overlay must apply
# but fail validation with a message about the VC1 node.
expect_reject() {
	m=$out/neg-$1
	sed "$2" "$dts/veracam-vc1-overlay.dtso" >"$m.dts"
	if cmp -s "$m.dts" "$dts/veracam-vc1-overlay.dtso"; then
		echo "# mutation $1 did not change the overlay"
		return 1
	fi
	dtc -q -@ -I dts -O dtb -o "$m.dtbo" "$m.dts" &&
	fdtoverlay -i "$out/veracam-test-base.dtb" -o "$m.dtb" "$m.dtbo" &&
	dt-validate -s "$processed" "$m.dtb" >"$m.log" 2>&1
	diag "$m.log"
	grep -q "$3" "$m.log"
}
rc=1
expect_reject unique-id 's|rotation = <0>;|rotation = <0>;\n\t\tveracam,unique-id = /bits/ 8 <0xca 0x11>;|' \
	'veracam,unique-id' && rc=0
result $rc "dt-validate rejects a veracam,unique-id property (the id is in the sensor's OTP)"
rc=1
expect_reject lanes-supply 's/data-lanes = <1 2>;/data-lanes = <1 2 3>;/; /vana-supply/d' \
	"'vana-supply' is a required property" &&
	grep -q 'data-lanes' "$out/neg-lanes-supply.log" && rc=0
result $rc "dt-validate rejects three data lanes and a missing vana-supply"

# 15-16: the vendor prefix registry is loaded, "veracam" in it, and a
# property under a prefix nobody registered is reported.
rc=1
grep -q '"\^veracam,\.\*"' "$schemas/vendor-prefixes.yaml" &&
	grep -q 'schemas/vendor-prefixes.yaml#' "$processed" && rc=0
result $rc "vendor-prefixes.yaml loaded in every validation, with the veracam entry"
rc=1
expect_reject unregistered 's|rotation = <0>;|rotation = <0>;\n\t\tveracamx,mode = <1>;|' \
	'veracamx,mode' &&
	grep -q 'From schema: .*/vendor-prefixes.yaml' "$out/neg-unregistered.log" && rc=0
result $rc "dt-validate (vendor-prefixes.yaml) reports a property under an unregistered vendor prefix"

echo "# totals: pass:$((n - failed)) fail:$failed skip:0"
[ "$failed" -eq 0 ]
