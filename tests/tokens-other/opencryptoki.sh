#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# opencryptoki.sh - the flow (flow.sh) on openCryptoki's soft token.
#
# openCryptoki 3.8 reads /etc/opencryptoki/opencryptoki.conf and keeps the
# soft token in /var/lib/opencryptoki/swtok; neither can be redirected (no
# environment variable for them in 3.8: usr/include/slotmgr.h and
# usr/lib/common/loadsave.c name the paths at build time; the only variables
# it reads are PKCS11_SHMEM_FILE, PKCS_APP_STORE and the trace level), and pkcsslotd, the slot daemon every process talks to, is one per
# machine.  So this test runs only where it may own them: as root, with no
# pkcsslotd running.  It moves an existing swtok aside and puts it back, and
# starts and stops its own pkcsslotd by PID, on any exit.  Skipped (77)
# otherwise or without the packages; a failure when P11ENROLL_REQUIRE_ALL=1.
set -u
. "$(dirname "$0")/../cli/lib.sh"

: "${OCK_MODULE:=/usr/lib/$(uname -m)-linux-gnu/opencryptoki/libopencryptoki.so.0}"
OCK_LIB=/var/lib/opencryptoki
SWTOK=$OCK_LIB/swtok
SLOTD_PIDFILE=/var/run/pkcsslotd.pid
# alive PID: the process runs (a zombie nobody reaped does not count)
alive() {
	ps -o stat= -p "$1" 2>/dev/null | grep -q '^[^Z]'
}
skip() {
	echo "SKIP: $1"
	SKIPPED=1
	finish
}
for tool in pkcsslotd pkcs11-tool jq bc; do
	command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] ||
		skip "$tool is not installed (scripts/install-deps)"
done
[ -r "$OCK_MODULE" ] || skip "no openCryptoki module (OCK_MODULE='$OCK_MODULE')"
if [ ! -d "$OCK_LIB" ] || [ ! -w "$OCK_LIB" ]; then
	skip "$OCK_LIB is not writable here (run as root)"
fi
command -v flock >/dev/null 2>&1 || skip "flock is not installed"
# one such test at a time on this machine (two builds' make check): wait for the other
exec 9>"$OCK_LIB/.p11enroll-test.lock"
flock -w 600 9 || skip "another test held $OCK_LIB/.p11enroll-test.lock for 10 minutes"
if [ -s "$SLOTD_PIDFILE" ] && alive "$(cat "$SLOTD_PIDFILE")"; then
	skip "a pkcsslotd is running already (PID $(cat "$SLOTD_PIDFILE")): not ours to stop"
fi
setup
SLOTD_PID=
SAVED=
cleanup() {
	if [ -n "$SLOTD_PID" ]; then
		kill "$SLOTD_PID" 2>/dev/null
		# pkcsslotd is not our child: wait for it to go, at most 5 s
		_i=0
		while alive "$SLOTD_PID" && [ $_i -lt 100 ]; do
			sleep 0.05
			_i=$((_i + 1))
		done
	fi
	if [ -n "$SAVED" ] && [ -d "$SAVED" ]; then
		rm -rf "$SWTOK"
		mv "$SAVED" "$SWTOK"
	fi
	if [ -n "$T" ] && [ -d "$T" ]; then rm -rf "$T"; fi
}

SETUP_T0=$(date +%s.%N | cut -c1-14)
case_ "a fresh soft token and our own pkcsslotd"
if [ -e "$SWTOK" ]; then
	# next to it, not in $T: a test killed hard leaves it where it can be found
	SAVED=$OCK_LIB/swtok.p11enroll-saved.$$
	mv "$SWTOK" "$SAVED" || { fail "move $SWTOK aside" "mv failed"; finish; }
fi
mkdir -p "$SWTOK/TOK_OBJ"
chgrp -R pkcs11 "$SWTOK" 2>/dev/null
chmod -R 0770 "$SWTOK"
PATH=$PATH:/usr/sbin
rm -f "$SLOTD_PIDFILE"
check "pkcsslotd starts" pkcsslotd
# it forks into the background; the daemon writes its PID file
i=0
while [ ! -s "$SLOTD_PIDFILE" ] && [ $i -lt 100 ]; do
	sleep 0.05
	i=$((i + 1))
done
[ -s "$SLOTD_PIDFILE" ] && SLOTD_PID=$(cat "$SLOTD_PIDFILE")
check "pkcsslotd wrote its PID" test -n "$SLOTD_PID"
[ -n "$SLOTD_PID" ] || finish
echo "# time setup (pkcsslotd + empty swtok): $(echo "$(date +%s.%N | cut -c1-14) - $SETUP_T0" | bc) s"

MODULE=$OCK_MODULE
TL=ock-flow
# the soft token's SO PIN before its first C_InitToken (openCryptoki's documented default)
SO_PIN=87654321
TYPES="rsa:2048 rsa:3072 rsa:4096"
REFUSED_TYPE=ec:P-256
REFUSED_TEXT="cannot make EC keys (it has no CKM_EC_KEY_PAIR_GEN)"
ENROLL_TYPE=rsa:2048
MAY_DECRYPT=0
QUIRK_FILE=opencryptoki.conf
P11ENROLL_TOKENS_PATH=$TOP_SRCDIR/tokens
export P11ENROLL_TOKENS_PATH
. "$(dirname "$0")/flow.sh"

case_ "CKA_CERTIFICATE_CATEGORY: left out by the quirk file; without it, refused and retried"
for l in cat-q cat-noq; do
	expect_rc 0 tk enroll --label $l --type rsa:2048 --subject /CN=$l -o "$T/$l.csr"
	ca_sign ca "$T/$l.csr" "$T/$l.pem"
done
expect_rc 0 tk import "$T/cat-q.pem"
not_contains "$ERR" "refused CKA_CERTIFICATE_CATEGORY"
mkdir "$T/no-quirks"
P11ENROLL_TOKENS_PATH=$T/no-quirks XDG_CONFIG_HOME=$T/no-quirks expect_rc 0 tk import "$T/cat-noq.pem"
contains "$ERR" "refused CKA_CERTIFICATE_CATEGORY (CKR_ATTRIBUTE_TYPE_INVALID)"

finish
