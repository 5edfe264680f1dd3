#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# tpm2.sh - the flow (flow.sh) on tpm2-pkcs11 over a software TPM: swtpm
# listening on 127.0.0.1 (free ports), its state, tpm2-pkcs11's store and
# everything else in the test's temporary directory; swtpm is stopped by its
# PID on any exit.  Skipped (77) without swtpm, tpm2-tools, tpm2_ptool or the
# module; a failure when P11ENROLL_REQUIRE_ALL=1.
set -u
. "$(dirname "$0")/../cli/lib.sh"

: "${TPM2_PKCS11_MODULE:=/usr/lib/$(uname -m)-linux-gnu/libtpm2_pkcs11.so.1}"
need_commands swtpm tpm2_ptool tpm2_flushcontext tpm2_dictionarylockout tpm2_createprimary \
	pkcs11-tool jq bc
if [ ! -r "$TPM2_PKCS11_MODULE" ]; then
	echo "SKIP: no tpm2-pkcs11 module (TPM2_PKCS11_MODULE='$TPM2_PKCS11_MODULE')"
	SKIPPED=1
	finish
fi
setup
SWTPM_PID=
cleanup() {
	if [ -n "$SWTPM_PID" ]; then
		kill "$SWTPM_PID" 2>/dev/null
		wait "$SWTPM_PID" 2>/dev/null
	fi
	if [ -n "$T" ] && [ -d "$T" ]; then rm -rf "$T"; fi
}

# free_port: a TCP port on 127.0.0.1 nobody listens on, with the next one free too
free_port() {
	for _i in 1 2 3 4 5 6 7 8 9 10; do
		_p=$(shuf -i 20000-60000 -n 1)
		if ! ss -Hltn "sport = :$_p or sport = :$((_p + 1))" | grep -q .; then
			echo "$_p"
			return 0
		fi
	done
	return 1
}

SETUP_T0=$(date +%s.%N | cut -c1-14)
case_ "a software TPM and a tpm2-pkcs11 store"
mkdir "$T/tpmstate" "$T/store"
PORT=$(free_port) || { fail "a free port" "none found"; finish; }
swtpm socket --tpm2 --tpmstate dir="$T/tpmstate" \
	--server type=tcp,port="$PORT",bindaddr=127.0.0.1 \
	--ctrl type=tcp,port=$((PORT + 1)),bindaddr=127.0.0.1 \
	--flags not-need-init,startup-clear >"$T/swtpm.log" 2>&1 &
SWTPM_PID=$!
TPM2_PKCS11_STORE=$T/store
TPM2_PKCS11_TCTI=swtpm:host=127.0.0.1,port=$PORT
TPM2TOOLS_TCTI=$TPM2_PKCS11_TCTI
# the module's and the TSS's own logging off: stderr is one error line
TPM2_PKCS11_LOG_LEVEL=0
TSS2_LOG=all+NONE
export TPM2_PKCS11_STORE TPM2_PKCS11_TCTI TPM2TOOLS_TCTI TPM2_PKCS11_LOG_LEVEL TSS2_LOG
# swtpm answers once it listens; give it up to 5 s (a swtpm that died fails at once)
i=0
while ! tpm2_flushcontext -t >/dev/null 2>&1; do
	i=$((i + 1))
	if [ $i -ge 100 ] || ! kill -0 "$SWTPM_PID" 2>/dev/null; then
		fail "swtpm listens on 127.0.0.1:$PORT" "$(head -c 600 "$T/swtpm.log")"
		finish
	fi
	sleep 0.05
done
ok "swtpm listens on 127.0.0.1:$PORT"
# the store and its primary key; the token itself is made by init-token (C_InitToken)
check "tpm2_ptool init" tpm2_ptool init --path "$T/store"
# no resource manager: what tpm2_ptool left loaded would fill the TPM
check "tpm2_flushcontext -t" tpm2_flushcontext -t
echo "# time setup (swtpm + store): $(echo "$(date +%s.%N | cut -c1-14) - $SETUP_T0" | bc) s"

MODULE=$TPM2_PKCS11_MODULE
TL=tpm-flow
SO_PIN=11235813
TYPES="ec:P-256 ec:P-384 rsa:2048 rsa:3072"
REFUSED_TYPE=rsa:4096
REFUSED_TEXT="makes RSA keys of 1024 to 3072 bits, not rsa:4096"
ENROLL_TYPE=rsa:2048
MAY_DECRYPT=1
QUIRK_FILE=tpm2-pkcs11.conf
P11ENROLL_TOKENS_PATH=$TOP_SRCDIR/tokens
export P11ENROLL_TOKENS_PATH
. "$(dirname "$0")/flow.sh"

case_ "objects left loaded in the TPM: the message says what to run"
# three transient objects fill swtpm's slots, as a failed call can leave them
for i in 1 2 3; do
	tpm2_createprimary -C o -c "$T/leak$i.ctx" >/dev/null 2>&1
done
# (tpm2-pkcs11 writes its own ERROR: lines on stderr too: no one_error_line here)
expect_rc 5 tk list
stdout_empty
contains "$ERR" "CKR_GENERAL_ERROR): a failed call may have left objects loaded"
contains "$ERR" "run 'tpm2_flushcontext -t'"
check "tpm2_flushcontext -t" tpm2_flushcontext -t
expect_rc 0 tk list

case_ "the TPM's lockout after 3 wrong PINs (no count-low flag before): the message says what to run"
BAD_PIN=99999999
export BAD_PIN
for i in 1 2 3; do
	"$P11ENROLL" --module "$MODULE" --token "$TL" --pin env:BAD_PIN list >/dev/null 2>&1
done
expect_rc 3 "$P11ENROLL" --module "$MODULE" --token "$TL" --pin env:BAD_PIN list
contains "$ERR" "CKR_PIN_LOCKED): the TPM is in dictionary-attack lockout: run 'tpm2_dictionarylockout -c'"
not_contains "$ERR" "pin unblock"
check "tpm2_dictionarylockout -c" tpm2_dictionarylockout -c
expect_rc 0 tk list

finish
