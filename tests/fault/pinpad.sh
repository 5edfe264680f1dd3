#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# pinpad.sh - a token with a PIN pad (CKF_PROTECTED_AUTHENTICATION_PATH),
# played by the fault-injecting module: P11FAULT_PINPAD=PIN passes a C_Login
# without a PIN on with PIN (the user typed it on the pad) and aborts on a
# C_Login that was given one.  p11enroll logs in with no PIN and says where
# to type it, demands no PIN source, ignores --pin with a note, and runs the
# lockout guard first all the same.
#
# Environment: as tests/cli (lib.sh), plus P11FAULT_SO.
set -u
: "${TOP_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$TOP_SRCDIR/tests/cli/lib.sh"
need_fault_module
setup

SO_PIN=61803398 USER_PIN=27182818 WRONG_PIN=11111111
export SO_PIN USER_PIN WRONG_PIN
mk_token fault-pinpad
TL=fault-pinpad
LOG=$T/calls.log
PAD=0x100 # CKF_PROTECTED_AUTHENTICATION_PATH
FLAGS=$PAD PINPAD=$USER_PIN

# pf ARGS...: the tool on the wrapper, a PIN pad whose user types $PINPAD,
# with the token flags $FLAGS; every call logged to a fresh $LOG.  No
# terminal: a PIN could only come from a source.
pf() {
	rm -f "$LOG"
	P11FAULT_MODULE=$SOFTHSM_MODULE P11FAULT_LOG=$LOG P11FAULT_TOKEN_FLAGS=$FLAGS \
		P11FAULT_PINPAD=$PINPAD "$P11ENROLL" --module "$P11FAULT_SO" --token "$TL" "$@" </dev/null
}

calls() {
	if [ -r "$LOG" ]; then grep -c -x "$1" "$LOG"; else echo 0; fi
}

NOTE="p11enroll: note: enter the PIN on the reader's PIN pad"

case_ "the token shows its PIN pad"
expect_rc 0 pf --json tokens
equal "flag" "$(jq -r '.[0].flags | index("protected-auth-path") != null' "$OUT")" true

case_ "login on the pad, no PIN source"
expect_rc 0 pf enroll --label pad-key --type ec:P-256 --subject /CN=pad -o "$T/pad.csr"
equal "stderr: the note" "$(grep -v '^p11enroll: wrote' "$ERR" | head -n 1)" "$NOTE"
equal "C_Login once" "$(calls C_Login)" 1
check "the request verifies" openssl req -in "$T/pad.csr" -noout -verify
# the key is on the token: the real module, with the real PIN
expect_rc 0 p11 --token "$TL" --pin env:USER_PIN list
contains "$OUT" "pad-key"

case_ "--pin is ignored"
expect_rc 0 pf --pin env:WRONG_PIN list
contains "$ERR" "p11enroll: note: --pin is ignored: token 'fault-pinpad' takes the PIN on its reader's PIN pad"
contains "$ERR" "$NOTE"
contains "$OUT" "pad-key"
equal "C_Login once" "$(calls C_Login)" 1
expect_rc 0 pf -q --pin env:WRONG_PIN list
equal "-q: no notes" "$(cat "$ERR")" ""

case_ "a wrong PIN on the pad"
PINPAD=$WRONG_PIN
expect_rc 3 pf list
stdout_empty
# the note said where to type it; then one error line
equal "the note first" "$(sed -n 1p "$ERR")" "$NOTE"
equal "two lines" "$(wc -l <"$ERR")" 2
contains "$ERR" "CKR_PIN_INCORRECT"
not_contains "$ERR" "$WRONG_PIN"
equal "C_Login once, never again" "$(calls C_Login)" 1
PINPAD=$USER_PIN

case_ "the guard runs first"
FLAGS=0x20100 # and CKF_USER_PIN_FINAL_TRY
expect_error 3 pf list
contains "$ERR" "has one try left"
equal "no C_Login" "$(calls C_Login)" 0
not_contains "$ERR" "PIN pad"
FLAGS=0x40100 # and CKF_USER_PIN_LOCKED
expect_error 3 pf list
contains "$ERR" "is locked"
equal "no C_Login" "$(calls C_Login)" 0
FLAGS=0x20100
expect_rc 0 pf --force list
contains "$ERR" "spending the last user PIN try"
contains "$ERR" "$NOTE"
equal "--force: C_Login once" "$(calls C_Login)" 1

case_ "the wrapper catches a PIN sent to a PIN pad"
# a token without the flag gets the PIN from --pin: the wrapper aborts
FLAGS=0
pf --pin env:USER_PIN list >"$OUT" 2>"$ERR"
RC=$?
check "exit status of an abort (got $RC)" test "$RC" -ge 128
contains "$ERR" "p11fault: P11FAULT_PINPAD: C_Login was given a PIN"

finish
