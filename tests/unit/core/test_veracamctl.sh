#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# veracamctl end to end: keys, pairing, SAS; one-line errors and exit 2 on
# usage/configuration errors. TAP output. Usage: test_veracamctl.sh VERACAMCTL
C=$1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
n=0
failed=0

ok() { # ok DESCRIPTION COMMAND... : the command succeeds
	desc=$1; shift
	n=$((n + 1))
	if "$@" >"$T/out" 2>"$T/err"; then echo "ok $n - $desc"
	else echo "not ok $n - $desc"; sed 's/^/# /' "$T/err"; failed=1; fi
}

fails() { # fails STATUS DESCRIPTION COMMAND... : exits STATUS with one line on stderr
	want=$1 desc=$2; shift 2
	n=$((n + 1))
	"$@" >"$T/out" 2>"$T/err"
	st=$?
	if [ $st -eq "$want" ] && [ "$(wc -l <"$T/err")" -eq 1 ] && [ ! -s "$T/out" ]; then
		echo "ok $n - $desc: $(cat "$T/err")"
	else
		echo "not ok $n - $desc (exit $st, want $want)"; sed 's/^/# /' "$T/err"; failed=1
	fi
}

ok "keygen camera" $C keygen "$T/cam"
CAM=$(cat "$T/out")
ok "keygen hub" $C keygen "$T/hub"
HUB=$(cat "$T/out")
fails 2 "keygen refuses to overwrite" $C keygen "$T/cam"
ok "identity matches keygen output" sh -c "[ \"\$($C identity $T/cam)\" = '$CAM' ]"
ok "key file is 0600" sh -c "[ \"\$(stat -c %a $T/cam/device.key)\" = 600 ]"
ok "keygen also made the encryption key, 0600" sh -c "[ \"\$(stat -c %a $T/cam/enc.key)\" = 600 ]"
ok "enc-identity prints one veracam1:x25519: line" sh -c \
	"$C enc-identity $T/cam | grep -Eqx 'veracam1:x25519:[0-9a-f]{64}'"
ok "the encryption key is not the device key" sh -c \
	"[ \"\$($C enc-identity $T/cam | cut -d: -f3)\" != \"\$($C identity $T/cam | cut -d: -f3)\" ]"
fails 2 "enc-keygen refuses to overwrite" $C enc-keygen "$T/cam"
# a key directory made before encryption keys existed
mkdir -m 700 "$T/old" && cp -p "$T/cam/device.key" "$T/old/"
fails 2 "no enc.key: enc-identity names the fix" $C enc-identity "$T/old"
cp "$T/err" "$T/saved"
ok "... which is veracamctl enc-keygen" grep -q "veracamctl enc-keygen $T/old" "$T/saved"
ok "enc-keygen in an old key directory" $C enc-keygen "$T/old"
cp "$T/out" "$T/saved"
ok "... prints the same line as enc-identity" sh -c "[ \"\$($C enc-identity $T/old)\" = \"\$(cat $T/saved)\" ]"
ok "... and leaves the device key alone" cmp "$T/cam/device.key" "$T/old/device.key"
chmod 644 "$T/old/enc.key"
fails 2 "group-readable enc.key refused" $C enc-identity "$T/old"
cp -p "$T/cam/device.key" "$T/old/enc.key.ed" && mv "$T/old/enc.key.ed" "$T/old/enc.key"
fails 2 "an Ed25519 key in enc.key refused" $C enc-identity "$T/old"
# a first keygen into a directory whose parents do not exist yet (~/.veracam/cam)
ok "keygen makes missing parent directories" $C keygen "$T/new/parent/cam"
ok "... the key directory 0700, its key 0600" sh -c "[ \"\$(stat -c %a $T/new/parent/cam)\" = 700 ] && [ \"\$(stat -c %a $T/new/parent/cam/device.key)\" = 600 ]"
touch "$T/afile"
fails 2 "keygen under a file: one line naming it" $C keygen "$T/afile/cam"
chmod 640 "$T/cam/device.key"
fails 2 "group-readable key refused" $C identity "$T/cam"
chmod 600 "$T/cam/device.key"
ok "pair-code" $C pair-code "$T/cam"
PAYLOAD=$(cat "$T/out")
ok "payload format" sh -c "echo '$PAYLOAD' | grep -Eq '^veracam-pair1:[0-9a-f]{32}:[0-9]{8}$'"
fails 2 "trust refuses an identity that does not match the pairing code" \
	$C trust "$T/hub" front-door "$HUB" --pair-code "$PAYLOAD"
ok "hub trusts the camera (fingerprint checked)" \
	$C trust "$T/hub" front-door "$CAM" --role camera --pair-code "$PAYLOAD"
ok "camera trusts the hub" $C trust "$T/cam" living-room "$HUB" --role hub
ok "... pending: the hub's pin by hand says to compare key ids and confirm" \
	sh -c "$C trust '$T/cam' living-room '$HUB' --role hub 2>&1 | grep -q 'confirm $T/cam living-room' &&
	       $C peers '$T/cam' | grep -Eq '^living-room +hub +'\$($C identity '$T/hub' --key-id)' .* pending\$'"
ok "... the camera's pin checked by --pair-code is active" \
	sh -c "$C peers '$T/hub' | grep -Eq '^front-door +camera .* active\$'"
ok "confirm makes it active" sh -c "$C confirm '$T/cam' living-room &&
	$C peers '$T/cam' | grep -Eq '^living-room .* active\$'"
fails 2 "confirm of an unknown peer" $C confirm "$T/cam" nobody
fails 2 "pair refuses a payload without an address" $C pair "$T/hub" porch "$PAYLOAD"
fails 2 "pair refuses a malformed payload" $C pair "$T/hub" porch "veracam-pair2:zz"
ok "SAS is the same on both screens" sh -c \
	"[ \"\$($C sas $T/cam living-room)\" = \"\$($C sas $T/hub front-door $PAYLOAD)\" ]"
ok "SAS format" sh -c "$C sas $T/cam living-room | grep -Eq '^[0-9]{3} [0-9]{3}$'"
fails 2 "trust refuses another key under a trusted name" $C trust "$T/hub" front-door "$HUB"
fails 2 "trust refuses a bad identity" $C trust "$T/hub" x "veracam1:ed25519:1234"
fails 2 "trust refuses a bad name" $C trust "$T/hub" ../x "$CAM"
fails 2 "trust refuses a bad role" $C trust "$T/hub" x "$CAM" --role admin
printf 'veracam-peer 1\nname front-door\nrole camera\n' >"$T/hub/peers/front-door"
fails 2 "malformed pairing record refused" $C sas "$T/hub" front-door "$PAYLOAD"
ok "untrust" $C untrust "$T/cam" living-room
fails 2 "untrust of an unknown peer" $C untrust "$T/cam" living-room
fails 2 "sas without a pairing code" $C sas "$T/hub" front-door
fails 2 "no command" $C
fails 2 "unknown command" $C frobnicate
fails 2 "missing argument" $C trust "$T/hub"
ok "help" $C help
echo "1..$n"
exit $failed
