#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# guard.sh - the PIN lockout guard, seen through the fault-injecting module
# (p11fault): with a token that reports a last try or a locked PIN, the
# commands refuse before any C_Login (or C_SetPIN/C_InitPIN/C_InitToken) is
# sent; --force spends a last try, never a locked PIN; a "count low" only
# warns; a PIN the token rejected is never sent a second time.
#
# Environment: as tests/cli (lib.sh), plus P11FAULT_SO, the built wrapper
# (default $TOP_BUILDDIR/tests/fault/.libs/p11fault.so).
set -u
: "${TOP_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$TOP_SRCDIR/tests/cli/lib.sh"
need_fault_module
setup

SO_PIN=52840917 USER_PIN=36092751 PIN_B=74915038 PIN_D=19283746
export SO_PIN USER_PIN PIN_B PIN_D
unset NOT_SET_ANYWHERE
mk_token fault-guard
TL=fault-guard
LOG=$T/calls.log
FLAGS='' FAIL='' FAIL_FUNC=''

# pf ARGS...: the tool on the wrapper, which reports $FLAGS in the token
# flags, fails as $FAIL/$FAIL_FUNC say and logs every call to a fresh $LOG.
pf() {
	rm -f "$LOG"
	P11FAULT_MODULE=$SOFTHSM_MODULE P11FAULT_LOG=$LOG P11FAULT_TOKEN_FLAGS=$FLAGS \
		P11FAULT_FAIL=$FAIL P11FAULT_FAIL_FUNC=$FAIL_FUNC \
		"$P11ENROLL" --module "$P11FAULT_SO" "$@"
}

# calls NAME: how many times the last pf run called NAME.
calls() {
	if [ -r "$LOG" ]; then grep -c -x "$1" "$LOG"; else echo 0; fi
}

# ncalls NAME WANT: an assertion on calls NAME.
ncalls() {
	equal "$2 x $1" "$(calls "$1")" "$2"
}

# no_pin_sent: the last run sent no PIN to the token at all.
no_pin_sent() {
	if [ ! -s "$LOG" ]; then
		fail "no PIN sent" "no call log: did the wrapper load?"
		return
	fi
	_sent=
	for _f in C_Login C_SetPIN C_InitPIN C_InitToken; do
		[ "$(calls $_f)" = 0 ] || _sent="$_sent $_f x $(calls $_f)"
	done
	if [ -z "$_sent" ]; then ok "no C_Login/C_SetPIN/C_InitPIN/C_InitToken"; else fail "no PIN sent" "log has$_sent"; fi
}

pubs() {
	count_objects >/dev/null
	obj ID "Private Key" "$1" | wc -l
}

# the key the csr commands sign with
p11 --pin env:USER_PIN keygen --label gk --type ec:P-256 >/dev/null 2>"$T/keygen.err" ||
	fail "setup keygen" "$(cat "$T/keygen.err")"

case_ "the wrapper is transparent"
p11 --pin env:USER_PIN list >"$T/direct.out" 2>&1
expect_rc 0 pf --pin env:USER_PIN list
check "same listing as the module itself" cmp -s "$OUT" "$T/direct.out"
equal "call 1 is C_GetFunctionList" "$(sed -n 1p "$LOG")" C_GetFunctionList
equal "call 2 is C_Initialize" "$(sed -n 2p "$LOG")" C_Initialize
ncalls C_Login 1
ncalls C_Finalize 1

case_ "tokens shows the PIN state the token reports"
# flag bits and their names, text and JSON; each alone, so that one name
# cannot stand for another
for f in 0x10000:user-pin-count-low 0x20000:user-pin-final-try 0x40000:user-pin-locked \
	0x80000:user-pin-to-be-changed 0x100000:so-pin-count-low 0x200000:so-pin-final-try \
	0x400000:so-pin-locked 0x800000:so-pin-to-be-changed; do
	FLAGS=${f%%:*}
	expect_rc 0 pf --json tokens
	equal "$FLAGS: JSON flags" "$(jq -r --arg l "$TL" '.[] | select(.label == $l) |
		[.flags[] | select(test("pin-(count|final|locked|to-be)"))] | join(" ")' "$OUT" 2>&1)" "${f#*:}"
	expect_rc 0 pf tokens
	contains "$OUT" "${f#*:}"
done
FLAGS=
expect_rc 0 pf --json tokens
equal "no flag: no PIN state in JSON" "$(jq -r --arg l "$TL" '.[] | select(.label == $l) |
	[.flags[] | select(test("pin-(count|final|locked|to-be)"))] | length' "$OUT" 2>&1)" 0

# the commands that log in as user, one a line (word-split; fd 3 in the loops)
cat >"$T/user.cmds" <<EOF
pin change --new-pin env:PIN_B
keygen --label g-new --type ec:P-256
csr --key gk --subject /CN=guard.example -o $T/guard.csr
list
EOF

case_ "user PIN final try: refused, nothing sent"
FLAGS=0x20000
while read -r cmd <&3; do
	rm -f "$T/guard.csr"
	expect_error 3 pf --pin env:USER_PIN $cmd
	contains "$ERR" "one try left"
	contains "$ERR" "--force"
	no_pin_sent
done 3<"$T/user.cmds"
equal "no key g-new" "$(pubs g-new)" 0
no_file "$T/guard.csr"
check "the user PIN still logs in (pkcs11-tool)" login_ok "$TL" "$USER_PIN"
# refused before the PIN source is even read: an unset variable is not the error
expect_error 3 pf --pin env:NOT_SET_ANYWHERE list
contains "$ERR" "one try left"
no_pin_sent

case_ "user PIN final try with --force: the commands go on"
expect_rc 0 pf --force --pin env:USER_PIN list
contains "$ERR" "spending the last user PIN try"
ncalls C_Login 1
expect_rc 0 pf --force --pin env:USER_PIN csr --key gk --subject /CN=guard.example -o "$T/guard.csr"
check "the request verifies" req_verifies "$T/guard.csr"
ncalls C_Login 1
expect_rc 0 pf --force --pin env:USER_PIN keygen --label g-new --type ec:P-256
equal "key g-new made" "$(pubs g-new)" 1
ncalls C_Login 1
expect_rc 0 pf --force --pin env:USER_PIN pin change --new-pin env:PIN_B
ncalls C_Login 1
ncalls C_SetPIN 1
check "the new PIN logs in (pkcs11-tool)" login_ok "$TL" "$PIN_B"
p11 --pin env:PIN_B pin change --new-pin env:USER_PIN >/dev/null 2>&1 ||
	fail "PIN back to USER_PIN" "pin change failed"

case_ "user PIN locked: refused even with --force, says to unblock"
FLAGS=0x40000
for force in "" --force; do
	while read -r cmd <&3; do
		rm -f "$T/guard.csr"
		expect_error 3 pf $force --pin env:USER_PIN $cmd
		contains "$ERR" "locked"
		contains "$ERR" "pin unblock"
		no_pin_sent
	done 3<"$T/user.cmds"
done
no_file "$T/guard.csr"
check "the user PIN still logs in (pkcs11-tool)" login_ok "$TL" "$USER_PIN"

case_ "user PIN locked: pin unblock (as SO) is what works"
expect_rc 0 pf --so-pin env:SO_PIN pin unblock --new-pin env:USER_PIN
ncalls C_Login 1
ncalls C_InitPIN 1
check "the PIN set by unblock logs in (pkcs11-tool)" login_ok "$TL" "$USER_PIN"

# the commands that log in as SO
cat >"$T/so.cmds" <<EOF
pin init --new-pin env:PIN_B
pin unblock --new-pin env:PIN_B
--token $TL init-token --label $TL --reinitialize
EOF

case_ "SO PIN final try: refused, nothing sent"
FLAGS=0x200000
while read -r cmd <&3; do
	expect_error 3 pf --so-pin env:SO_PIN --pin env:USER_PIN $cmd
	contains "$ERR" "SO PIN"
	contains "$ERR" "one try left"
	no_pin_sent
done 3<"$T/so.cmds"
check "the user PIN unchanged (pkcs11-tool)" login_ok "$TL" "$USER_PIN"
equal "the token not erased" "$(pubs gk)" 1
# a user login is not guarded by the SO flags
expect_rc 0 pf --pin env:USER_PIN list
ncalls C_Login 1

case_ "SO PIN final try with --force: pin init goes on"
expect_rc 0 pf --force --so-pin env:SO_PIN pin init --new-pin env:PIN_B
contains "$ERR" "spending the last SO PIN try"
ncalls C_Login 1
ncalls C_InitPIN 1
check "the PIN set by SO logs in (pkcs11-tool)" login_ok "$TL" "$PIN_B"
p11 --pin env:PIN_B pin change --new-pin env:USER_PIN >/dev/null 2>&1 ||
	fail "PIN back to USER_PIN" "pin change failed"

case_ "SO PIN locked: refused even with --force"
FLAGS=0x400000
for force in "" --force; do
	while read -r cmd <&3; do
		expect_error 3 pf $force --so-pin env:SO_PIN --pin env:USER_PIN $cmd
		contains "$ERR" "SO PIN"
		contains "$ERR" "locked"
		no_pin_sent
	done 3<"$T/so.cmds"
done
check "the user PIN unchanged (pkcs11-tool)" login_ok "$TL" "$USER_PIN"
equal "the token not erased" "$(pubs gk)" 1

case_ "user PIN count low: a warning, not a refusal"
FLAGS=0x10000
expect_rc 0 pf --pin env:USER_PIN list
contains "$ERR" "reports failed user PIN tries"
ncalls C_Login 1
expect_rc 0 pf --pin env:USER_PIN csr --key gk --subject /CN=guard.example -o "$T/low.csr"
contains "$ERR" "reports failed user PIN tries"
check "the request verifies" req_verifies "$T/low.csr"
ncalls C_Login 1
expect_rc 0 pf --pin env:USER_PIN pin change --new-pin env:PIN_B
ncalls C_SetPIN 1
expect_rc 0 pf --pin env:PIN_B pin change --new-pin env:USER_PIN

case_ "SO PIN count low: a warning, not a refusal"
FLAGS=0x100000
expect_rc 0 pf --so-pin env:SO_PIN pin init --new-pin env:USER_PIN
contains "$ERR" "reports failed SO PIN tries"
ncalls C_Login 1
ncalls C_InitPIN 1
FLAGS=''

case_ "a rejected user PIN is never retried"
expect_error 3 pf --pin env:PIN_D pin change --new-pin env:PIN_B
contains "$ERR" "CKR_PIN_INCORRECT"
ncalls C_Login 1
ncalls C_SetPIN 0
# the token now reports failed tries: a warning line comes first
expect_rc 3 pf --pin env:PIN_D list
contains "$ERR" "CKR_PIN_INCORRECT"
stdout_empty
ncalls C_Login 1
expect_rc 3 pf --pin env:PIN_D keygen --label g-wrong --type ec:P-256
contains "$ERR" "CKR_PIN_INCORRECT"
stdout_empty
ncalls C_Login 1
ncalls C_GenerateKeyPair 0
check "the user PIN unchanged (pkcs11-tool)" login_ok "$TL" "$USER_PIN"

case_ "a rejected SO PIN is never retried"
expect_error 3 pf --so-pin env:PIN_D pin init --new-pin env:PIN_B
contains "$ERR" "CKR_PIN_INCORRECT"
ncalls C_Login 1
ncalls C_InitPIN 0
check "the user PIN unchanged (pkcs11-tool)" login_ok "$TL" "$USER_PIN"

case_ "a rejection the token makes up (right PIN, C_Login fails) is not retried either"
for rv in CKR_PIN_INCORRECT CKR_PIN_LOCKED; do
	FAIL_FUNC=C_Login FAIL=1:$rv
	expect_error 3 pf --pin env:USER_PIN keygen --label g-wrong --type ec:P-256
	contains "$ERR" "$rv"
	ncalls C_Login 1
	ncalls C_GenerateKeyPair 0
	expect_error 3 pf --pin env:USER_PIN pin change --new-pin env:PIN_B
	ncalls C_Login 1
	ncalls C_SetPIN 0
done
FAIL='' FAIL_FUNC=''
contains "$ERR" "pin unblock"
equal "no key g-wrong" "$(pubs g-wrong)" 0
check "the user PIN unchanged (pkcs11-tool)" login_ok "$TL" "$USER_PIN"

case_ "SO PIN final try with --force: init-token --reinitialize goes on"
FLAGS=0x200000
expect_rc 0 pf --force --so-pin env:SO_PIN --pin env:USER_PIN --token "$TL" init-token \
	--label "$TL" --reinitialize
ncalls C_InitToken 1
FLAGS=''
check "the user PIN logs in on the new token (pkcs11-tool)" login_ok "$TL" "$USER_PIN"
equal "the token is empty" "$(count_objects)" 0

finish
