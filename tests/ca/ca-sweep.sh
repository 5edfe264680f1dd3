#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# ca-sweep.sh - a fault sweep over enroll at a CA, once for each protocol:
# enroll --cmp against tests/ca/cmp-server and enroll --est against
# tests/ca/est-server.py.  One clean run through the fault-injecting module
# (tests/fault/p11fault) counts its PKCS#11 calls; then, from a pristine
# copy of the token each time, every call fails in turn (CKR_DEVICE_ERROR).
# Each point holds if
#   - the tool exited with a documented status (0-9), and a failure is one
#     "p11enroll: " line on stderr with nothing on stdout;
#   - after a failure the token holds what it held before, or only the key
#     the re-run reuses (one key pair with the label, no certificate), never
#     a certificate without its key or a second key of the label;
#   - that key stays only where enroll keeps it for the next run: a fault
#     after C_GenerateKeyPair and up to the request's C_Sign, before the CA
#     is asked; from then on a failure takes the key back (ca-flow.c);
#   - where it left the key, the same command run again without the fault
#     ends as a clean run does: one key of the label, its certificate and
#     the CA's (where the token is as before, that re-run is the clean run).
# CA_SWEEP_STRIDE=S (else P11FAULT_STRIDE, as make distcheck in scripts/check
# sets it) tries every S-th call only (default 1).
set -u
. "$(dirname "$0")/../cli/lib.sh"
setup
need_fault_module

if ! python3 -c 'import cryptography.x509' 2>/dev/null; then
	echo "SKIP: python3-cryptography is not installed (the EST test server)"
	SKIPPED=1
	finish
fi

: "${CMP_SERVER:=$TOP_BUILDDIR/tests/ca/cmp-server}"
SRVPIDS=
stop_servers() {
	for _p in $SRVPIDS; do kill "$_p" 2>/dev/null; done
}
trap 'stop_servers; cleanup' EXIT

SO_PIN=27182818 USER_PIN=16180339
export SO_PIN USER_PIN

# the CMP server, with its own CA and the shared secret
mkdir -p "$T/cmp"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/cmp/ca.key" \
	-out "$T/cmp/ca.pem" -subj "/CN=Sweep CA" -days 30 -addext basicConstraints=critical,CA:TRUE \
	-addext keyUsage=critical,keyCertSign,cRLSign,digitalSignature >/dev/null 2>&1
printf 'cmp-test-secret\n' >"$T/secret"
printf 's3cret-est\n' >"$T/est-pw"
chmod 600 "$T/secret" "$T/est-pw"
"$CMP_SERVER" "$T/cmp/ca.pem" "$T/cmp/ca.key" "$T/cmp/port" ok ref1 "$T/secret" \
	2>"$T/cmp/server.log" &
SRVPIDS="$SRVPIDS $!"
wait_for "$T/cmp/port" "" 30 "$!" || { fail "cmp-server listens" "$(cat "$T/cmp/server.log")"; finish; }
CMP_URL=http://127.0.0.1:$(cat "$T/cmp/port")/pkix/

# the EST server, which makes its own CA and TLS certificate in its directory
mkdir -p "$T/est"
python3 "$TOP_SRCDIR/tests/ca/est-server.py" --dir "$T/est" --port-file "$T/est/port" \
	--user alice --password-file "$T/est-pw" 2>"$T/est/stderr" &
SRVPIDS="$SRVPIDS $!"
if ! wait_for "$T/est/port" "" 60 "$!" || [ ! -s "$T/est/port" ]; then
	fail "the EST server starts" "$(head -c 600 "$T/est/stderr")"
	finish
fi
EST_URL=https://127.0.0.1:$(cat "$T/est/port")

# the CA options of each protocol
ca_args() {
	case $1 in
	cmp) echo "--cmp $CMP_URL --cmp-ref ref1 --cmp-secret file:$T/secret" ;;
	est) echo "--est $EST_URL --ca-trust $T/est/ca.pem --auth-user alice --auth-password file:$T/est-pw" ;;
	esac
}
faulty() {
	# shellcheck disable=SC2046 # the CA options are words without blanks
	P11FAULT_MODULE=$SOFTHSM_MODULE "$P11ENROLL" --module "$P11FAULT_SO" --token "$TL" \
		--pin env:USER_PIN enroll --label web --type ec:P-256 --subject /CN=web \
		$(ca_args "$PROTO")
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

for PROTO in cmp est; do
	TL=ca-sweep-$PROTO
	mk_token "$TL"
	# an identity on the token already, so that "as before" is not "empty"
	# shellcheck disable=SC2046
	p11 --token "$TL" --pin env:USER_PIN -q enroll --label old --type ec:P-256 --subject /CN=old \
		$(ca_args "$PROTO") >/dev/null
	rm -rf "$T/pristine" && cp -a "$T/tokens" "$T/pristine"

	case_ "enroll --$PROTO: a clean run, counted"
	restore
	BEFORE=$(count_objects)
	P11FAULT_LOG=$T/calls.log faulty >"$OUT" 2>"$ERR"
	equal "clean run: exit 0" "$?" 0
	N=$(wc -l <"$T/calls.log")
	# the calls from the key's generation to the request's signature
	GEN=$(grep -n '^C_GenerateKeyPair' "$T/calls.log" | head -n 1 | cut -d: -f1)
	SIG=$(awk -v g="${GEN:-0}" 'NR > g && /^C_Sign$/ {print NR; exit}' "$T/calls.log")
	rm -f "$T/calls.log"
	echo "# enroll --$PROTO makes $N PKCS#11 calls; the key is made at $GEN, the request signed at $SIG"
	check "more than 20 calls" test "$N" -gt 20
	check "a key generated, then a request signed" test "${GEN:-0}" -gt 0 -a "${SIG:-0}" -gt "${GEN:-0}"
	DONE=$(counts)

	case_ "enroll --$PROTO: every call fails in turn"
	STRIDE=${CA_SWEEP_STRIDE:-${P11FAULT_STRIDE:-1}}
	i=1 tried=0 failed=0 kept=0 asbefore=0
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
			"0 0 0 $BEFORE") asbefore=$((asbefore + 1)) ;; # the re-run is the clean run again
			"1 1 0 "*)
				kept=$((kept + 1)) rerun=1
				if [ "$i" -le "$GEN" ] || [ "$i" -gt "$SIG" ]; then
					fail "call $i: the key is taken back once the CA was asked" \
						"the key stayed after a fault outside calls $GEN+1..$SIG"
				fi
				;;
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
	ok "$tried points tried: $failed failed the command ($asbefore left the token as before, $kept left the key the re-run reused), the rest were tolerated"
	equal "every point from 1 to $N tried" "$tried" "$(((N + STRIDE - 1) / STRIDE))"
	check "some fault changed the outcome" test "$failed" -gt 0
done

finish
