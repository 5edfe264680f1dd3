#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# units.sh - udev/60-p11enroll.rules and the station's systemd template unit:
# 'make install' puts them where configure said; systemd-analyze verify takes
# the unit (pointed at the built tool, as ExecStart must exist); udevadm test
# runs the rules on made-up USB devices (a YubiKey, a CCID reader, a mouse)
# in a private mount namespace: a tmpfs over /etc/udev/rules.d holds our
# rules (and the opt-in rule of an administrator), a tmpfs in /sys the
# devices (SYSTEMD_DEVICE_VERIFY_SYSFS=0 lets udevadm read them).  What a
# real desk adds (the kernel's events, logind's seat ACLs, systemd starting
# the unit) is in docs/guides/workstation.md.
set -u
. "$(dirname "$0")/lib.sh"
if [ -z "${P11E_UNITS_MOUNTNS:-}" ]; then
	if ! unshare -m true 2>/dev/null; then
		echo "SKIP: cannot make a mount namespace (unshare -m: needs root)"
		SKIPPED=1
		finish
	fi
	P11E_UNITS_MOUNTNS=1 exec unshare -m sh "$0" "$@"
fi
setup
RULES=$TOP_SRCDIR/udev/60-p11enroll.rules
UNIT=$TOP_BUILDDIR/udev/p11enroll-station.service

case_ "make install"
make -s -C "$TOP_BUILDDIR" install-dist_udevrulesDATA install-data-local DESTDIR="$T/inst" \
	>"$T/install.log" 2>&1
equal "installed" "$?" 0
# where configure put them (under the prefix unless told otherwise)
RULESDIR=$(sed -n 's/^udevrulesdir = //p' "$TOP_BUILDDIR/Makefile")
UNITDIR=$(sed -n 's/^systemdsystemunitdir = //p' "$TOP_BUILDDIR/Makefile")
PREFIX=$(sed -n 's/^prefix = //p' "$TOP_BUILDDIR/Makefile")
BINDIR=$(sed -n 's/^bindir = //p' "$TOP_BUILDDIR/Makefile" | sed "s|\${exec_prefix}|$PREFIX|")
RULESDIR=$(echo "$RULESDIR" | sed "s|\${prefix}|$PREFIX|")
UNITDIR=$(echo "$UNITDIR" | sed "s|\${prefix}|$PREFIX|")
check "the rules in $RULESDIR" cmp -s "$RULES" "$T/inst$RULESDIR/60-p11enroll.rules"
check "the unit in $UNITDIR" test -s "$T/inst$UNITDIR/p11enroll-station@.service"
contains "$T/inst$UNITDIR/p11enroll-station@.service" \
	"ExecStart=$BINDIR/p11enroll station --recipe /etc/p11enroll/%i.recipe"

case_ "systemd-analyze verify"
if command -v systemd-analyze >/dev/null 2>&1; then
	mkdir "$T/units" "$T/broken"
	sed "s|^ExecStart=[^ ]*|ExecStart=$P11ENROLL|" "$UNIT" >"$T/units/p11enroll-station@.service"
	(cd "$T/units" && systemd-analyze verify --man=no p11enroll-station@desk.service) \
		>"$OUT" 2>"$ERR"
	equal "verify exits 0" "$?" 0
	equal "verify says nothing" "$(cat "$ERR")" ""
	# the check can fail: a misspelt key and a missing program are reported
	sed 's/^Restart=/Restrat=/; s|^ExecStart=[^ ]*|ExecStart=/nonexistent/p11enroll|' \
		"$T/units/p11enroll-station@.service" >"$T/broken/p11enroll-station@.service"
	(cd "$T/broken" && systemd-analyze verify --man=no p11enroll-station@desk.service) \
		>"$OUT" 2>"$ERR"
	contains "$ERR" "Unknown key 'Restrat' in section [Service]"
	contains "$ERR" "/nonexistent/p11enroll"
else
	left_out "systemd-analyze (Debian: systemd)"
fi

case_ "udevadm test"
if ! command -v udevadm >/dev/null 2>&1; then
	left_out "udevadm (Debian: udev)"
	finish
fi
# udevadm test writes its database under /run/udev: ours, not the machine's
mount -t tmpfs -o mode=0755 p11enroll-run /run || { echo "Bail out! no tmpfs on /run"; exit 99; }
mount -t tmpfs p11enroll-rules /etc/udev/rules.d || { echo "Bail out! no tmpfs on /etc/udev/rules.d"; exit 99; }
# a directory of sysfs to hide under a tmpfs of made-up devices
SYSD=
for _s in /sys/devices/software /sys/devices/virtual; do
	if [ -d "$_s" ]; then SYSD=$_s; break; fi
done
if [ -z "$SYSD" ] || ! mount -t tmpfs p11enroll-sys "$SYSD"; then
	echo "Bail out! no tmpfs in /sys"
	exit 99
fi
cp "$RULES" /etc/udev/rules.d/

# usbdev NAME VID PID CLASS...: a made-up USB device, one interface per class
usbdev() {
	_d=$SYSD/$1
	mkdir -p "$_d"
	printf 'DEVTYPE=usb_device\nDRIVER=usb\nPRODUCT=%s/%s/100\nTYPE=0/0/0\nBUSNUM=001\nDEVNUM=007\n' \
		"$2" "$3" >"$_d/uevent"
	echo "$2" >"$_d/idVendor"
	echo "$3" >"$_d/idProduct"
	ln -s /sys/bus/usb "$_d/subsystem"
	shift 3
	# the descriptors usb_id reads ID_USB_INTERFACES from: device, config,
	# one interface descriptor per class
	{
		printf '\022\001\000\002\000\000\000\100\000\000\000\000\000\001\001\002\003\001'
		printf '\011\002\000\000%b\001\000\200\062' "\\0$(printf %o "$#")"
		_n=0
		for _c; do
			printf '\011\004%b\000\001%b\000\000\000' "\\0$(printf %o "$_n")" "\\0$(printf %o "0x$_c")"
			# an endpoint: usb_id reads an interface only when more follows
			printf '\007\005\201\003\010\000\012'
			_n=$((_n + 1))
		done
	} >"$_d/descriptors"
}
usbdev yubikey 1050 0407 03 0b
usbdev omnikey 076b 3031 0b
usbdev mouse 046d c077 03

# tags_has TAG: the device's TAGS (in any order) has TAG
tags_has() {
	if grep -q "^TAGS=.*:$1:" "$OUT"; then ok "TAGS has $1"; else fail "TAGS has $1" "$(grep '^TAGS=' "$OUT")"; fi
}

# utest NAME: udevadm test of the device into $OUT
utest() {
	SYSTEMD_DEVICE_VERIFY_SYSFS=0 udevadm test "$@" >"$OUT" 2>"$ERR"
	RC=$?
	cat "$ERR" >>"$OUT"
}

utest "$SYSD"/yubikey
equal "udevadm test exits 0" "$RC" 0
contains "$OUT" "Reading rules file: /etc/udev/rules.d/60-p11enroll.rules"
not_contains "$OUT" "60-p11enroll.rules:"
contains "$OUT" "ID_USB_INTERFACES=:030000:0b0000:"
contains "$OUT" "P11ENROLL_DEVICE=token"
tags_has uaccess
tags_has systemd
not_contains "$OUT" "p11enroll-station@"

utest "$SYSD"/omnikey
contains "$OUT" "P11ENROLL_DEVICE=reader"
tags_has uaccess
tags_has systemd

utest "$SYSD"/mouse
not_contains "$OUT" "P11ENROLL_DEVICE"

# a removal runs none of our rules (a device udev has not seen added, so
# that no database entry brings back what an 'add' set)
usbdev yubikey-gone 1050 0407 03 0b
utest --action=remove "$SYSD"/yubikey-gone
contains "$OUT" "ACTION=remove"
not_contains "$OUT" "P11ENROLL_DEVICE"

case_ "the opt-in starts a station"
echo 'SUBSYSTEM=="usb", ENV{DEVTYPE}=="usb_device", ENV{P11ENROLL_STATION}="desk"' \
	>/etc/udev/rules.d/59-p11enroll-station.rules
utest "$SYSD"/yubikey
contains "$OUT" "SYSTEMD_WANTS=p11enroll-station@desk.service"
utest "$SYSD"/omnikey
contains "$OUT" "SYSTEMD_WANTS=p11enroll-station@desk.service"
utest "$SYSD"/mouse
not_contains "$OUT" "p11enroll-station@"

case_ "the check can fail: a broken rule is reported"
sed 's/^ATTR{idVendor}=="1050", ENV{/ATTR{idVendor}=="1050", ENVV{/' "$RULES" \
	>/etc/udev/rules.d/60-p11enroll.rules
utest "$SYSD"/yubikey
contains "$OUT" "60-p11enroll.rules:"
not_contains "$OUT" "P11ENROLL_DEVICE=token"

finish
