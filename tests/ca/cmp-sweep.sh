#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# cmp-sweep.sh - a fault sweep over enroll --cmp: one clean run through the
# fault-injecting module (tests/fault/p11fault) counts its PKCS#11 calls;
# then, from a pristine copy of the token each time, every call fails in
# turn (CKR_DEVICE_ERROR), against tests/ca/cmp-server.  Each point holds if
#   - the tool exited with a documented status (0-9), and a failure is one
#     "p11enroll: " line on stderr with nothing on stdout;
#   - after a failure the token holds what it held before, or only the key
#     the re-run reuses (one key pair with the label, no certificate), never
#     a certificate without its key or a second key of the label;
#   - where it left the key, the same command run again without the fault
#     ends as a clean run does: one key of the label, its certificate and
#     the CA's (where the token is as before, that re-run is the clean run).
# CMP_SWEEP_STRIDE=S tries every S-th call only (default 1).
set -u
. "$(dirname "$0")/../cli/lib.sh"
setup
need_fault_module

: "${CMP_SERVER:=$TOP_BUILDDIR/tests/ca/cmp-server}"
SERVER=
trap '[ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; cleanup' EXIT

SO_PIN=27182818 USER_PIN=16180339
export SO_PIN USER_PIN
mk_token ca-sweep
TL=ca-sweep
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/ca.key" \
	-out "$T/ca.pem" -subj "/CN=Sweep CA" -days 30 -addext basicConstraints=critical,CA:TRUE \
	-addext keyUsage=critical,keyCertSign,cRLSign,digitalSignature >/dev/null 2>&1
printf 'cmp-test-secret\n' >"$T/secret"
chmod 600 "$T/secret"
"$CMP_SERVER" "$T/ca.pem" "$T/ca.key" "$T/port" ok ref1 "$T/secret" 2>"$T/server.log" &
SERVER=$!
wait_for "$T/port" "" 30 "$SERVER" || { fail "cmp-server listens" "$(cat "$T/server.log")"; finish; }
URL=http://127.0.0.1:$(cat "$T/port")/pkix/

# an identity on the token already, so that "as before" is not "empty"
p11 --token "$TL" --pin env:USER_PIN -q enroll --label old --type ec:P-256 --subject /CN=old \
	--cmp "$URL" --cmp-ref ref1 --cmp-secret file:"$T/secret" >/dev/null
cp -a "$T/tokens" "$T/pristine"

faulty() {
	P11FAULT_MODULE=$SOFTHSM_MODULE "$P11ENROLL" --module "$P11FAULT_SO" --token "$TL" \
		--pin env:USER_PIN enroll --label web --type ec:P-256 --subject /CN=web \
		--cmp "$URL" --cmp-ref ref1 --cmp-secret file:"$T/secret"
}
restore() {
	rm -rf "$T/tokens" && cp -a "$T/pristine" "$T/tokens"
}
# counts of the label's objects: private keys, public keys, certificates
counts() {
	count_objects >/dev/null
	echo "$(obj ID "Private Key" web | wc -l) $(obj ID "Public Key" web | wc -l)" \
		"$(obj ID Certificate web | wc -l) $(grep -c ' Object;' "$T/objs.txt")"
}

case_ "a clean run, counted"
restore
BEFORE=$(count_objects)
P11FAULT_LOG=$T/calls.log faulty >"$OUT" 2>"$ERR"
equal "clean run: exit 0" "$?" 0
N=$(wc -l <"$T/calls.log")
echo "# enroll --cmp makes $N PKCS#11 calls"
check "more than 20 calls" test "$N" -gt 20
DONE=$(counts)

case_ "every call fails in turn"
STRIDE=${CMP_SWEEP_STRIDE:-1}
i=1 tried=0 failed=0 kept=0
while [ "$i" -le "$N" ]; do
	restore
	P11FAULT_FAIL=$i:CKR_DEVICE_ERROR faulty >"$OUT" 2>"$ERR"
	rc=$?
	tried=$((tried + 1))
	now=$(counts)
	if [ "$rc" -ge 10 ]; then
		fail "call $i" "exit $rc: $(head -c 300 "$ERR")"
	elif [ "$rc" -eq 0 ]; then
		[ "$now" = "$DONE" ] || fail "call $i tolerated" "token $now, a clean run gives $DONE"
	else
		failed=$((failed + 1))
		if [ "$(wc -l <"$ERR")" -ne 1 ] || ! head -n 1 "$ERR" | grep -q '^p11enroll: ' ||
			[ -s "$OUT" ]; then
			fail "call $i: one error line" "$(head -c 300 "$ERR")"
		fi
		rerun=
		case $now in
		"0 0 0 $BEFORE") ;; # as before: the re-run is the clean run again
		"1 1 0 "*) kept=$((kept + 1)) rerun=1 ;;
		*)
			fail "call $i: token as before or the key to reuse" "labelled objects $now"
			rerun=1
			;;
		esac
		if [ -n "$rerun" ]; then
			faulty >"$T/rerun.out" 2>"$T/rerun.err" ||
				fail "call $i: the re-run succeeds" "$(head -c 300 "$T/rerun.err")"
			again=$(counts)
			[ "$again" = "$DONE" ] ||
				fail "call $i: the re-run ends as a clean run" "$again, want $DONE"
		fi
	fi
	i=$((i + STRIDE))
done
ok "$tried points tried: $failed failed the command ($kept left the key the re-run reused), the rest were tolerated"
check "some fault changed the outcome" test "$failed" -gt 0

finish
