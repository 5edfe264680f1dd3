#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck disable=SC2086 # $SETSID is empty or one word
# pin.sh - pin change / init / unblock and the PIN sources.
set -u
. "$(dirname "$0")/lib.sh"
setup

# distinctive PINs, so that a leak shows in a grep
SO_PIN=97531864 USER_PIN=48213579 PIN_B=61728394 PIN_C=30592847 PIN_D=85061739
export SO_PIN USER_PIN PIN_B PIN_C PIN_D
mk_token cli-pin
tokens_json
uri=$(jqt '.[] | select(.label == "cli-pin") | .uri')
TL=cli-pin

case_ "pin change"
expect_rc 0 p11 --token "$TL" --pin env:USER_PIN pin change --new-pin env:PIN_B
check "new PIN logs in (pkcs11-tool)" login_ok cli-pin "$PIN_B"
expect_error 3 p11 --token "$TL" --pin env:USER_PIN pin change --new-pin env:PIN_C
contains "$ERR" "CKR_PIN_INCORRECT"
contains "$ERR" "C_Login"
check_not "old PIN no longer logs in (pkcs11-tool)" login_ok cli-pin "$USER_PIN"
check "PIN unchanged after the failure" login_ok cli-pin "$PIN_B"

case_ "pin init as SO"
expect_rc 0 p11 --token "$TL" --so-pin env:SO_PIN pin init --new-pin env:PIN_C
check "PIN set by SO logs in (pkcs11-tool)" login_ok cli-pin "$PIN_C"
expect_rc 0 p11 --token "$TL" --pin env:PIN_C pin change --new-pin env:PIN_B

case_ "pin unblock as SO"
expect_rc 0 p11 --token "$TL" --so-pin env:SO_PIN pin unblock --new-pin env:PIN_D
contains "$ERR" "not locked"
check "PIN set by unblock logs in (pkcs11-tool)" login_ok cli-pin "$PIN_D"

case_ "wrong SO PIN"
expect_rc 3 p11 --token "$TL" --so-pin env:PIN_B pin init --new-pin env:PIN_C
contains "$ERR" "CKR_PIN_INCORRECT"
stdout_empty
check "user PIN unchanged" login_ok cli-pin "$PIN_D"
expect_rc 3 p11 --token "$TL" --so-pin env:PIN_B pin unblock --new-pin env:PIN_C
check "user PIN unchanged" login_ok cli-pin "$PIN_D"

case_ "fd: source"
f=$(pin_file d.pin "$PIN_D")
expect_rc 0 p11 --token "$TL" --pin fd:3 pin change --new-pin env:USER_PIN 3<"$f"
check "PIN from fd:3 was used" login_ok cli-pin "$USER_PIN"

case_ "stdin source"
printf '%s\n' "$USER_PIN" >"$T/stdin.txt"
expect_rc 0 p11 --token "$TL" --pin stdin pin change --new-pin env:PIN_B <"$T/stdin.txt"
check "PIN from stdin was used" login_ok cli-pin "$PIN_B"
printf '%s\n%s\n' "$PIN_B" "$PIN_C" >"$T/stdin2.txt"
expect_rc 0 p11 --token "$TL" --pin stdin pin change --new-pin stdin <"$T/stdin2.txt"
check "two PINs on stdin, one line each" login_ok cli-pin "$PIN_C"

case_ "pass: source"
expect_rc 0 p11 --token "$TL" --pin "pass:$PIN_C" pin change --new-pin env:PIN_B
check "pass: PIN was used" login_ok cli-pin "$PIN_B"

case_ "no --token: the only initialised token"
expect_rc 0 p11 --pin env:PIN_B pin change --new-pin env:PIN_C
check "PIN changed on cli-pin" login_ok cli-pin "$PIN_C"
expect_rc 0 p11 --pin env:PIN_C pin change --new-pin env:PIN_B

case_ "pin-source in the --token URI"
f=$(pin_file b.pin "$PIN_B")
expect_rc 0 p11 --token "$uri?pin-source=file:$f" pin change --new-pin env:USER_PIN
check "PIN from pin-source was used" login_ok cli-pin "$USER_PIN"

case_ "pin-value in the --token URI, never repeated"
expect_rc 0 p11 -v --token "$uri?pin-value=$USER_PIN" pin change --new-pin env:PIN_B
check "PIN from pin-value was used" login_ok cli-pin "$PIN_B"
not_contains "$ERR" "$USER_PIN"
not_contains "$OUT" "$USER_PIN"
expect_rc 0 p11 --token "$uri?pin-value=$PIN_B" pin change --new-pin env:USER_PIN
check "and back" login_ok cli-pin "$USER_PIN"

case_ "-v logs calls, never PINs"
expect_rc 0 p11 -v --token "$TL" --pin env:USER_PIN pin change --new-pin env:PIN_B
contains "$ERR" "C_Login: CKR_OK"
contains "$ERR" "C_SetPIN: CKR_OK"
cp "$OUT" "$T/v1.out"; cp "$ERR" "$T/v1.err"
expect_rc 0 p11 -v --token "$TL" --so-pin env:SO_PIN pin init --new-pin env:PIN_C
contains "$ERR" "C_InitPIN: CKR_OK"
cat "$OUT" "$ERR" "$T/v1.out" "$T/v1.err" >"$T/verbose.all"
for p in "$SO_PIN" "$USER_PIN" "$PIN_B" "$PIN_C"; do
	not_contains "$T/verbose.all" "$p"
done
expect_rc 3 p11 -v --token "$TL" --pin env:PIN_D pin change --new-pin env:USER_PIN
contains "$ERR" "C_Login: CKR_PIN_INCORRECT"
not_contains "$ERR" "$PIN_D"
not_contains "$ERR" "$USER_PIN"

case_ "no PIN source and no terminal"
# a good login clears the failed-tries count, and with it a warning line
check "user PIN logs in (pkcs11-tool)" login_ok cli-pin "$PIN_C"
SETSID=
command -v setsid >/dev/null 2>&1 && SETSID="setsid -w"
expect_error 3 timeout 20 $SETSID "$P11ENROLL" --module "$SOFTHSM_MODULE" --token "$TL" \
	pin change --new-pin env:PIN_B </dev/null
# the tool's PIN callback found no terminal; the library says so, naming no flag
contains "$ERR" "no source for the user PIN and no way to ask for it here (no terminal)"
expect_error 3 timeout 20 $SETSID "$P11ENROLL" --module "$SOFTHSM_MODULE" --token "$TL" \
	--pin env:PIN_C pin change </dev/null
expect_error 3 timeout 20 $SETSID "$P11ENROLL" --module "$SOFTHSM_MODULE" --token "$TL" \
	pin init --new-pin env:PIN_B </dev/null
check "user PIN unchanged" login_ok cli-pin "$PIN_C"

finish
