# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=sh
# lib.sh - a real pcsc-lite stack for the reader tests; sourced after
# tests/cli/lib.sh and its setup.
#
# pcscd, the virtual reader driver (vsmartcard-vpcd) and the virtual card
# (vsmartcard-vpicc's vicc) run in a private network namespace (vpcd listens
# on every address: nothing may be reachable from outside) and a private
# mount namespace, where a tmpfs on /run takes pcscd's /run/pcscd.
# pcscd 1.9.9 ignores PCSCLITE_CSOCK_NAME (only the client library reads it),
# so its socket is made by systemd-socket-activate in the test's directory
# and handed to it (socket activation); the tool finds it through
# PCSCLITE_CSOCK_NAME.  The system's pcscd is never used nor touched.
# Every daemon is killed by its PID in the EXIT trap.

PCSCD=/usr/sbin/pcscd
VPCD_DRIVER=/usr/lib/pcsc/drivers/serial/libifdvpcd.so
VICC=/usr/bin/vicc
# Debian 12: python3-virtualsmartcard installs outside Python's path
VICC_PYTHONPATH=/usr/lib/python3/site-packages/virtualsmartcard
PCSCD_PID=
VICC_PID=

# pcsc_netns "$@": run this script again inside new network and mount
# namespaces (first thing, before setup); skips without unshare's rights.
pcsc_netns() {
	if [ -n "${P11E_PCSC_NETNS:-}" ]; then
		ip link set lo up || { echo "Bail out! no loopback in the namespace"; exit 99; }
		return 0
	fi
	if ! unshare -n -m true 2>/dev/null; then
		echo "SKIP: cannot make network and mount namespaces (unshare -n -m: needs root)"
		SKIPPED=1
		finish
	fi
	P11E_PCSC_NETNS=1 exec unshare -n -m sh "$0" "$@"
}

# pcsc_need: the packages of the stack, or the test is skipped.
pcsc_need() {
	for _f in "$PCSCD" "$VPCD_DRIVER" "$VICC" /usr/bin/systemd-socket-activate; do
		if [ ! -e "$_f" ]; then
			echo "SKIP: $_f is missing (scripts/install-deps installs pcscd, vsmartcard-vpcd, vsmartcard-vpicc, python3-virtualsmartcard)"
			SKIPPED=1
			finish
		fi
	done
	if ! /usr/bin/python3 -c 'import smartcard.scard' 2>/dev/null; then
		echo "SKIP: no pyscard (Debian: python3-pyscard)"
		SKIPPED=1
		finish
	fi
}

HOLD_PID=

pcsc_stop() {
	if [ -n "$HOLD_PID" ]; then
		kill "$HOLD_PID" 2>/dev/null
		wait "$HOLD_PID" 2>/dev/null
	fi
	vicc_stop
	if [ -n "$PCSCD_PID" ]; then
		kill "$PCSCD_PID" 2>/dev/null
		wait "$PCSCD_PID" 2>/dev/null
		PCSCD_PID=
	fi
}

pcsc_cleanup() {
	pcsc_stop
	cleanup
}

# vpcd_conf NAME PORT: a reader.conf.d entry for vpcd (two readers,
# "NAME 00 00" on PORT and "NAME 00 01" on PORT+1) in $T/readers.
vpcd_conf() {
	cat >"$T/readers/$1" <<EOC
FRIENDLYNAME "$1"
DEVICENAME   /dev/null:$2
LIBPATH      $VPCD_DRIVER
CHANNELID    $2
EOC
}

# pcsc_start: pcscd with "Virtual PCD" (port 35963) on a socket in $T;
# returns when the tool sees its readers.
pcsc_start() {
	mkdir -p "$T/readers" "$T/shim"
	vpcd_conf "Virtual PCD" 35963
	# python3-pycryptodome is "Cryptodome"; virtualsmartcard imports "Crypto"
	ln -s /usr/lib/python3/dist-packages/Cryptodome "$T/shim/Crypto"
	# pcscd makes /run/pcscd and its pid file there: in a tmpfs of our own
	mount -t tmpfs -o mode=0755 p11enroll-run /run ||
		{ echo "Bail out! cannot mount a tmpfs on /run"; exit 99; }
	PCSCLITE_CSOCK_NAME=$T/pcscd.comm
	export PCSCLITE_CSOCK_NAME
	trap pcsc_cleanup EXIT
	systemd-socket-activate -l "$PCSCLITE_CSOCK_NAME" \
		"$PCSCD" -f -c "$T/readers" >"$T/pcscd.log" 2>&1 &
	PCSCD_PID=$!
	# pcscd starts at the first connection and answers once its readers
	# are up: the bound is for a machine under load, the event ends it
	_end=$(awk -v a="$(mono)" 'BEGIN { print a + 60 }')
	until "$P11ENROLL" readers 2>/dev/null | grep -q 'Virtual PCD 00 00'; do
		num_le "$(mono)" "$_end" || { echo "Bail out! pcscd did not come up"; cat "$T/pcscd.log"; exit 99; }
		kill -0 "$PCSCD_PID" 2>/dev/null || { echo "Bail out! pcscd died"; cat "$T/pcscd.log"; exit 99; }
		sleep 0.05
	done
}

# vicc_start [PORT]: the virtual card connects to vpcd: a card is inserted.
vicc_start() {
	PYTHONPATH=$VICC_PYTHONPATH:$T/shim "$VICC" -v -H 127.0.0.1 -P "${1:-35963}" \
		>>"$T/vicc.log" 2>&1 &
	VICC_PID=$!
}

# vicc_stop: the virtual card goes: the card is removed.
vicc_stop() {
	if [ -n "$VICC_PID" ]; then
		kill "$VICC_PID" 2>/dev/null
		wait "$VICC_PID" 2>/dev/null
		VICC_PID=
	fi
}
