#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Real encoder output through the core: x264enc encodes a test pattern,
# h264_sign signs/seals/verifies every AU, and the signed stream decodes
# (h264parse ! avdec_h264) to exactly the same pixels as the original.
# TAP output; exit 77 (skip) without gst-launch-1.0, x264enc or avdec_h264.
# Usage: test_h264_passthrough.sh H264_SIGN
SIGN=$1
for e in x264enc avdec_h264 h264parse videotestsrc; do
	if ! command -v gst-inspect-1.0 >/dev/null || ! gst-inspect-1.0 "$e" >/dev/null 2>&1; then
		echo "1..0 # SKIP GStreamer element $e not available"
		exit 77
	fi
done
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
n=0 failed=0
step() { # step DESCRIPTION COMMAND...
	desc=$1; shift
	n=$((n + 1))
	if "$@" >"$T/log" 2>&1; then echo "ok $n - $desc"
	else echo "not ok $n - $desc"; sed 's/^/# /' "$T/log"; failed=1; fi
}
decode() { # decode IN OUT
	gst-launch-1.0 -q filesrc location="$1" ! h264parse ! avdec_h264 ! \
		video/x-raw,format=I420 ! filesink location="$2"
}

step "encode 60 frames with x264enc (IDR every 15, AUD)" \
	gst-launch-1.0 -q videotestsrc num-buffers=60 pattern=ball ! \
	video/x-raw,format=I420,width=320,height=240,framerate=30/1 ! \
	x264enc key-int-max=15 aud=true tune=zerolatency speed-preset=ultrafast ! \
	video/x-h264,stream-format=byte-stream,alignment=au ! filesink location="$T/orig.h264"
step "sign, seal and verify every access unit" "$SIGN" "$T/orig.h264" "$T/signed.h264"
sed 's/^/# /' "$T/log"
step "signed stream carries one veracam SEI per AU" \
	sh -c "[ \$(od -An -tx1 -v '$T/signed.h264' | tr -d ' \n' | grep -o 40b81eb6f0754e2aa6c09f34d0010911 | wc -l) -eq 60 ]"
step "decode the original" decode "$T/orig.h264" "$T/orig.yuv"
step "decode the signed stream" decode "$T/signed.h264" "$T/signed.yuv"
step "decoded pixels are identical (60 frames of 320x240 I420)" \
	sh -c "[ \$(stat -c %s '$T/orig.yuv') -eq $((320 * 240 * 3 / 2 * 60)) ] && cmp '$T/orig.yuv' '$T/signed.yuv'"
echo "1..$n"
exit $failed
