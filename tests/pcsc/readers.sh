#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# readers.sh - 'p11enroll readers' and 'p11enroll wait' on a real pcsc-lite
# stack: pcscd, the virtual reader (vpcd) and the virtual card (vicc), in
# private namespaces (lib.sh).  No pcscd is one error line and exit 5; the
# readers and the card's ATR as pcscd reports them; wait returns on insert
# and on removal (timed), a card in use or held exclusively by another
# program (pyscard), --next, --reader globs, --timeout is exit 8,
# and Ctrl-C ends a wait at once.
set -u
: "${TOP_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$TOP_SRCDIR/tests/cli/lib.sh"
. "$TOP_SRCDIR/tests/pcsc/lib.sh"
pcsc_netns "$@"
pcsc_need
setup
OPENSC=/usr/lib/$(uname -m)-linux-gnu/opensc-pkcs11.so
ATR=3b:95:13:81:01:80:73:ff:01:00:0b

case_ "no pcscd"
PCSCLITE_CSOCK_NAME=$T/no-pcscd.comm
export PCSCLITE_CSOCK_NAME
expect_error 5 "$P11ENROLL" readers
equal "the message" "$(cat "$ERR")" \
	"p11enroll: no PC/SC daemon is running: start it with 'systemctl start pcscd.socket'"
expect_error 5 "$P11ENROLL" --json readers
expect_error 5 "$P11ENROLL" wait --timeout 5
contains "$ERR" "no PC/SC daemon is running"

pcsc_start

case_ "readers, no card"
expect_rc 0 p11 readers
contains "$OUT" "reader: Virtual PCD 00 00"
contains "$OUT" "reader: Virtual PCD 00 01"
contains "$OUT" "card:         absent"
contains "$OUT" "no slot in the module"
expect_rc 0 p11 --json readers
equal "two readers" "$(jq length "$OUT")" 2
equal "names" "$(jq -r '[.[].name] | join(",")' "$OUT")" "Virtual PCD 00 00,Virtual PCD 00 01"
equal "no card" "$(jq -r '[.[].card_present] | join(",")' "$OUT")" "false,false"
equal "no ATR" "$(jq -r '.[0].atr' "$OUT")" null
equal "no slot in SoftHSM" "$(jq -r '.[0].slot' "$OUT")" null

case_ "the slot OpenSC makes for the reader"
if [ -r "$OPENSC" ]; then
	expect_rc 0 "$P11ENROLL" --module "$OPENSC" --json readers
	# OpenSC gives each reader several slot ids (one per PIN of a card to
	# come): reader 1's is not 1, but its own, and named after it
	equal "reader 0's slot" "$(jq -r '.[0].slot.slot_id' "$OUT")" 0
	R1=$(jq -r '.[1].slot.slot_id' "$OUT")
	check "reader 1 has a slot of its own ($R1)" test "$R1" -gt 0
	expect_rc 0 "$P11ENROLL" --module "$OPENSC" readers
	contains "$OUT" "slot:         $R1, no token"
else
	left_out "OpenSC's PKCS#11 module ($OPENSC)"
fi

case_ "timeout"
T0=$(mono)
expect_error 8 "$P11ENROLL" wait --timeout 1
contains "$ERR" "no card came into any reader within 1.000 s"
contains "$ERR" "give a longer --timeout"
S=$(since "$T0")
check "timed out within 30 s ($S s)" num_le "$S" 30
expect_error 2 "$P11ENROLL" wait --timeout soon
expect_error 2 "$P11ENROLL" wait --reader ""

case_ "insert"
# what of the time below is Python starting the card, not the reader stack
T0=$(mono)
PYTHONPATH=$VICC_PYTHONPATH:$T/shim "$VICC" --version >/dev/null 2>&1
VICC_UP_S=$(since "$T0")
"$P11ENROLL" -v --json wait --next --reader 'Virtual PCD 00 0[0]' >"$T/ins.json" 2>"$T/ins.err" &
WAIT_PID=$!
wait_for "$T/ins.err" "waiting for a card to come: 1 matching reader" 60 "$WAIT_PID" ||
	fail "wait is waiting" "$(cat "$T/ins.err")"
T0=$(mono)
vicc_start 35963
wait "$WAIT_PID"
RC=$?
INSERT_S=$(since "$T0")
equal "wait exit status" "$RC" 0
echo "# from starting vicc to wait's return: $INSERT_S s"
equal "event" "$(jq -r .event "$T/ins.json")" inserted
equal "reader" "$(jq -r .name "$T/ins.json")" "Virtual PCD 00 00"
equal "ATR" "$(jq -r .atr "$T/ins.json")" "$ATR"
equal "present" "$(jq -r .card_present "$T/ins.json")" true

case_ "readers, a card"
expect_rc 0 p11 readers
contains "$OUT" "card:         present"
contains "$OUT" "atr:          $ATR"
expect_rc 0 p11 --json readers
equal "card in reader 0 only" "$(jq -r '[.[].card_present] | join(",")' "$OUT")" "true,false"
equal "ATR" "$(jq -r '.[0].atr' "$OUT")" "$ATR"

case_ "a card in use, a card held exclusively"
# another program opens the card (pyscard, through pcscd like any other)
cat >"$T/hold.py" <<'EOP'
import signal, sys
from smartcard.scard import *
rv, ctx = SCardEstablishContext(SCARD_SCOPE_USER)
mode = SCARD_SHARE_EXCLUSIVE if sys.argv[2] == "exclusive" else SCARD_SHARE_SHARED
rv, card, proto = SCardConnect(ctx, sys.argv[1], mode, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1)
if rv != SCARD_S_SUCCESS:
    print("connect failed:", SCardGetErrorMessage(rv), flush=True)
    sys.exit(1)
print("held", flush=True)
signal.pause()
EOP
for mode in shared exclusive; do
	/usr/bin/python3 "$T/hold.py" "Virtual PCD 00 00" "$mode" >"$T/hold.out" 2>&1 &
	HOLD_PID=$!
	if wait_for "$T/hold.out" "held" 60 "$HOLD_PID"; then
		expect_rc 0 p11 --json readers
		if [ "$mode" = shared ]; then
			equal "in use" "$(jq -r '.[0].in_use' "$OUT")" true
			equal "not exclusive" "$(jq -r '.[0].exclusive' "$OUT")" false
		else
			equal "exclusive" "$(jq -r '.[0].exclusive' "$OUT")" true
			expect_rc 0 p11 readers
			contains "$OUT" "card:         present, held exclusively"
		fi
	else
		fail "the card is held ($mode)" "$(cat "$T/hold.out")"
	fi
	kill "$HOLD_PID" 2>/dev/null
	wait "$HOLD_PID" 2>/dev/null
	HOLD_PID=
done
# pcscd lets go of the card when it sees the holder's socket close: wait for that
_end=$(awk -v a="$(mono)" 'BEGIN { print a + 30 }')
until p11 --json readers >"$OUT" 2>"$ERR" &&
	[ "$(jq -r '[.[0].in_use, .[0].exclusive] | join(",")' "$OUT")" = "false,false" ]; do
	num_le "$(mono)" "$_end" || break
	sleep 0.05
done
equal "let go" "$(jq -r '[.[0].in_use, .[0].exclusive] | join(",")' "$OUT")" "false,false"

case_ "a card already there"
T0=$(mono)
expect_rc 0 "$P11ENROLL" wait --timeout 30
equal "text" "$(cat "$OUT")" "card in reader 'Virtual PCD 00 00'
  atr:          $ATR"
S=$(since "$T0")
check "at once: within 5 s ($S s)" num_le "$S" 5
expect_error 8 "$P11ENROLL" wait --next --timeout 1
expect_error 8 "$P11ENROLL" wait --reader '*01' --timeout 1
contains "$ERR" "no card came into a matching reader"
expect_error 8 "$P11ENROLL" wait --removed --reader '*00' --timeout 1
contains "$ERR" "no card left a matching reader"

case_ "removal"
"$P11ENROLL" -v --json wait --removed >"$T/rm.json" 2>"$T/rm.err" &
WAIT_PID=$!
wait_for "$T/rm.err" "waiting for a card to leave: 2 matching readers" 60 "$WAIT_PID" ||
	fail "wait is waiting" "$(cat "$T/rm.err")"
T0=$(mono)
vicc_stop
wait "$WAIT_PID"
RC=$?
REMOVE_S=$(since "$T0")
equal "wait exit status" "$RC" 0
echo "# from killing vicc to wait's return: $REMOVE_S s"
equal "event" "$(jq -r .event "$T/rm.json")" removed
equal "reader" "$(jq -r .name "$T/rm.json")" "Virtual PCD 00 00"
equal "no card" "$(jq -r .card_present "$T/rm.json")" false
expect_rc 0 "$P11ENROLL" wait --removed --timeout 30
equal "no card at the start" "$(cat "$OUT")" "no card in any matching reader"

case_ "Ctrl-C"
# a background job of a script ignores SIGINT: give the tool the default
env --default-signal=INT "$P11ENROLL" -v wait >"$T/int.out" 2>"$T/int.err" &
WAIT_PID=$!
wait_for "$T/int.err" "waiting for a card to come" 60 "$WAIT_PID" ||
	fail "wait is waiting" "$(cat "$T/int.err")"
T0=$(mono)
kill -INT "$WAIT_PID"
wait "$WAIT_PID"
RC=$?
INT_S=$(since "$T0")
equal "died of SIGINT" "$RC" 130
echo "# from SIGINT to the end of wait: $INT_S s"
check "ended within 5 s ($INT_S s; the wait checks for a cancel every second at worst)" num_le "$INT_S" 5
equal "nothing printed" "$(cat "$T/int.out")" ""
env --default-signal=INT "$P11ENROLL" -v wait >"$T/term.out" 2>"$T/term.err" &
WAIT_PID=$!
wait_for "$T/term.err" "waiting for a card to come" 60 "$WAIT_PID" ||
	fail "wait is waiting" "$(cat "$T/term.err")"
kill -TERM "$WAIT_PID"
wait "$WAIT_PID"
equal "died of SIGTERM" "$?" 143

# A reader plugged in while waiting cannot be played here: pcscd 1.9.9 reads
# reader.conf.d (vpcd's readers) only at its start; SIGUSR1 (pcscd --hotplug)
# rescans USB readers only.  The code path (the PnP pseudo-reader, the list
# read again) is run by every wait here all the same, and the README says so.

echo "# measured: insert seen $INSERT_S s after vicc started (vicc --version alone: $VICC_UP_S s), removal $REMOVE_S s after vicc was killed, SIGINT $INT_S s"
finish
