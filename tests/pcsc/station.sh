#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# station.sh - 'p11enroll station': card after card on a real pcsc-lite
# stack (pcscd, vpcd, vicc in private namespaces: lib.sh).  The virtual card
# (vicc) backs no PKCS#11 token, so the card part runs on the virtual reader
# (insert, remove: the station's events) and the token part on SoftHSMv2's
# blank token (recipe: token = blank, init = yes), which a fresh module load
# offers anew after each initialisation: three cards in a row, three result
# lines, three new tokens with their keys, the requests in the outbox
# verified by openssl; a card whose token fails mid-way (the fault module,
# its count shared by the per-card workers) is reported and keeps no key,
# the next card succeeds, exit 11; Ctrl-C while waiting is exit 130 at
# once; a bad recipe is exit 7 naming file and line; the reader's own slot
# (OpenSC) when the recipe asks for it.
set -u
: "${TOP_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$TOP_SRCDIR/tests/cli/lib.sh"
. "$TOP_SRCDIR/tests/pcsc/lib.sh"
pcsc_netns "$@"
pcsc_need
need_commands jq openssl pkcs11-tool
setup
OPENSC=/usr/lib/$(uname -m)-linux-gnu/opensc-pkcs11.so
: "${P11FAULT_SO:=$TOP_BUILDDIR/tests/fault/.libs/p11fault.so}"
SO_PIN=station-so-1234
USER_PIN=station-user-1234
export SO_PIN USER_PIN
mkdir "$T/out" "$T/in"

# recipe FILE [STATION LINES]: the recipe of the tests, two identities
recipe() {
	_f=$1
	shift
	{
		echo "[station]"
		if [ $# -gt 0 ]; then printf '%s\n' "$@"; else
			printf '%s\n' "token = blank" "init = yes" "label = card-%n" \
				"pin = env:USER_PIN" "so_pin = env:SO_PIN"
		fi
		cat <<'EOR'

[defaults]
outbox = out
inbox = in
type = ec:P-256
ext = extendedKeyUsage=clientAuth

[identity mtls]
subject = /C=GB/O=Example Ltd/CN=client.example.com
san = DNS:client.example.com

[identity sign]
label = signing
type = ec:P-384
subject = /C=GB/O=Example Ltd/CN=signer
EOR
	} >"$_f"
}
recipe "$T/station.recipe"

case_ "a bad recipe"
printf '[station]\ncolour = blue\n[identity a]\nsubject = /CN=a\noutbox = out\n' >"$T/bad1.recipe"
expect_error 7 p11 station --recipe "$T/bad1.recipe" --count 1
equal "file:line" "$(cat "$ERR")" \
	"p11enroll: recipe $T/bad1.recipe:2: unknown field 'colour' in [station]: check its spelling"
printf '[station]\n[identity a]\ntoken = hsm1\nsubject = /CN=a\noutbox = out\n' >"$T/bad2.recipe"
expect_error 7 p11 station --recipe "$T/bad2.recipe" --count 1
contains "$ERR" "bad2.recipe:3: [identity a] token = hsm1: a recipe's identities are on the card's token"
printf '[station]\npin = 123456\n[identity a]\nsubject = /CN=a\noutbox = out\n' >"$T/bad3.recipe"
expect_error 7 p11 station --recipe "$T/bad3.recipe" --count 1
contains "$ERR" "bad3.recipe:2: [station] pin: a PIN source is env:VAR, file:PATH or fd:N"
not_contains "$ERR" "123456"
printf '[token t]\nlabel = t\n[identity a]\nsubject = /CN=a\noutbox = out\n' >"$T/bad4.recipe"
expect_error 7 p11 station --recipe "$T/bad4.recipe" --count 1
contains "$ERR" "bad4.recipe:1: unknown section [token t]"
printf '[station]\ninit = yes\n[identity a]\nsubject = /CN=a\noutbox = out\n' >"$T/bad5.recipe"
expect_error 7 p11 station --recipe "$T/bad5.recipe" --count 1
contains "$ERR" "bad5.recipe:2: [station] init = yes needs the label"
expect_error 2 p11 station --count 1
expect_error 2 p11 station --recipe "$T/station.recipe" --count 0
equal "a manifest is no recipe" "$(p11 plan "$T/station.recipe" 2>&1)" \
	"p11enroll: manifest $T/station.recipe:1: unknown section [station]: a manifest has [defaults], [token NAME] and [identity NAME]"

case_ "no pcscd"
PCSCLITE_CSOCK_NAME=$T/no-pcscd.comm
export PCSCLITE_CSOCK_NAME
expect_error 5 p11 station --recipe "$T/station.recipe" --count 1
contains "$ERR" "no PC/SC daemon is running"

pcsc_start

# card N ERR PID: play card N: insert it when the station asks, take it
# out when the station says so (after the card's result line)
card() {
	wait_for "$2" "card $1: insert a card" 60 "$3" || { fail "card $1 awaited" "$(cat "$2")"; return 1; }
	T0=$(mono)
	vicc_start 35963
	wait_for "$2" "card $1: take the card out" 120 "$3" || { fail "card $1 done" "$(cat "$2")"; return 1; }
	echo "# card $1: from starting vicc to 'take the card out': $(since "$T0") s"
	vicc_stop
	# pcscd has seen it go: the next station starts with an empty reader
	"$P11ENROLL" wait --removed --timeout 60 >/dev/null || fail "card $1 gone" "pcscd still sees it"
}

case_ "three cards in a row"
ALL0=$(mono)
p11 station --recipe "$T/station.recipe" --count 3 >"$T/st.out" 2>"$T/st.err" &
ST_PID=$!
for n in 1 2 3; do card "$n" "$T/st.err" "$ST_PID" || break; done
wait "$ST_PID"
equal "exit status" "$?" 0
echo "# three cards: $(since "$ALL0") s"
equal "three result lines" "$(wc -l <"$T/st.out")" 3
for n in 1 2 3; do
	L=$(sed -n "${n}p" "$T/st.out")
	S=$(echo "$L" | sed -n "s/^card $n: ok, token 'card-$n' (serial \([0-9a-f]*\)), initialised: .*/\1/p")
	check "line $n: ok, card-$n initialised ($L)" test -n "$S"
	equal "line $n" "$L" "card $n: ok, token 'card-$n' (serial $S), initialised: mtls: create ok, request $T/out/$S-mtls.csr; sign: create ok, request $T/out/$S-signing.csr"
	check "request $n (mtls) verifies" req_verifies "$T/out/$S-mtls.csr"
	check "request $n (signing) verifies" req_verifies "$T/out/$S-signing.csr"
	equal "subject $n" "$(openssl req -in "$T/out/$S-mtls.csr" -noout -subject -nameopt compat)" \
		"subject=/C=GB/O=Example Ltd/CN=client.example.com"
	contains "$T/out/$S-mtls.csr" "CERTIFICATE REQUEST"
	openssl req -in "$T/out/$S-mtls.csr" -noout -text >"$T/req.txt"
	contains "$T/req.txt" "DNS:client.example.com"
	contains "$T/req.txt" "TLS Web Client Authentication"
	# the token's keys, seen by pkcs11-tool: what the request carries is on it
	TL=card-$n
	count_objects >/dev/null
	equal "card-$n: private keys" "$(grep -c '^Private Key Object' "$T/objs.txt")" 2
	equal "card-$n: mtls key sensitive, never extractable" \
		"$(obj Access "Private Key" mtls)" "sensitive, always sensitive, never extractable, local"
	check "card-$n: signing key" grep -q "label: *signing" "$T/objs.txt"
done
equal "stderr: a running count" "$(grep -c '^station: [0-9] done' "$T/st.err")" 5
contains "$T/st.err" "station: 1 done, 1 ok, 0 failed; last: card 1 ok, token card-1; card 2: insert a card"
contains "$T/st.err" "station: 3 cards, 3 ok, 0 failed"
equal "one blank token is left" "$(p11 --json tokens | jq '[.[] | select(.initialized == false)] | length')" 1

case_ "a card again: never initialised again, its certificate from the inbox"
S1=$(sed -n "s/^card 1: ok, token 'card-1' (serial \([0-9a-f]*\)).*/\1/p" "$T/st.out")
mk_ca ca "/CN=Station Test CA"
ca_sign ca "$T/out/$S1-mtls.csr" "$T/in/$S1-mtls.pem"
cat "$T/ca.pem" >>"$T/in/$S1-mtls.pem"
TL=card-1
count_objects >/dev/null
ID_BEFORE=$(obj ID "Private Key" mtls)
recipe "$T/again.recipe" "token = pkcs11:token=card-1" "init = yes" "label = again-%n" \
	"pin = env:USER_PIN" "so_pin = env:SO_PIN"
p11 station --recipe "$T/again.recipe" --count 1 >"$T/again.out" 2>"$T/again.err" &
ST_PID=$!
card 1 "$T/again.err" "$ST_PID"
wait "$ST_PID"
equal "exit status" "$?" 0
equal "the line" "$(cat "$T/again.out")" \
	"card 1: ok, token 'card-1' (serial $S1): mtls: import ok, certificate $T/in/$S1-mtls.pem; sign: nothing unchanged"
count_objects >/dev/null
equal "the same mtls key" "$(obj ID "Private Key" mtls)" "$ID_BEFORE"
equal "two certificates: the client's and its CA's" "$(grep -c '^Certificate Object' "$T/objs.txt")" 2
equal "still two private keys" "$(grep -c '^Private Key Object' "$T/objs.txt")" 2

case_ "a card whose token fails mid-way"
if [ -r "$P11FAULT_SO" ]; then
	# C_GenerateKeyPair calls counted over every card's worker: card 1 makes
	# calls 1 and 2, card 2's second identity (signing) fails at call 4
	recipe "$T/fault.recipe" "token = blank" "init = yes" "label = fault-%n" \
		"pin = env:USER_PIN" "so_pin = env:SO_PIN"
	rm -f "$T/count"
	P11FAULT_MODULE=$SOFTHSM_MODULE P11FAULT_COUNT=$T/count P11FAULT_FAIL_FUNC=C_GenerateKeyPair \
		P11FAULT_FAIL=4:CKR_DEVICE_ERROR "$P11ENROLL" --module "$P11FAULT_SO" --json \
		station --recipe "$T/fault.recipe" --count 3 >"$T/f.out" 2>"$T/f.err" &
	ST_PID=$!
	for n in 1 2 3; do card "$n" "$T/f.err" "$ST_PID" || break; done
	wait "$ST_PID"
	equal "exit status: some failed" "$?" 11
	equal "three JSON lines" "$(jq -s length "$T/f.out")" 3
	equal "results" "$(jq -r .result "$T/f.out" | tr '\n' ' ')" "ok failed ok "
	equal "card 2: mtls made, then undone" "$(jq -r 'select(.card == 2) | .identities[0].result' "$T/f.out")" undone
	equal "card 2: signing failed" "$(jq -r 'select(.card == 2) | .identities[1].result' "$T/f.out")" failed
	contains "$T/f.out" "C_GenerateKeyPair"
	contains "$T/f.out" "CKR_DEVICE_ERROR"
	S2=$(jq -r 'select(.card == 2) | .serial' "$T/f.out")
	no_file "$T/out/$S2-mtls.csr"
	no_file "$T/out/$S2-signing.csr"
	TL=fault-2
	equal "fault-2: initialised, and no object on it" "$(count_objects)" 0
	for n in 1 3; do
		S=$(jq -r "select(.card == $n) | .serial" "$T/f.out")
		check "card $n: both requests" test -s "$T/out/$S-signing.csr"
		TL=fault-$n
		equal "fault-$n: four objects (two key pairs)" "$(count_objects)" 4
	done
	contains "$T/f.err" "station: 3 cards, 2 ok, 1 failed"
	# a plain enroll of the same identities, for the station's overhead per card
	T0=$(mono)
	p11 --so-pin env:SO_PIN --pin env:USER_PIN -q init-token --label plain >/dev/null
	p11 --token plain --pin env:USER_PIN -q enroll --label mtls --type ec:P-256 \
		--subject "/C=GB/O=Example Ltd/CN=client.example.com" --san DNS:client.example.com \
		--ext extendedKeyUsage=clientAuth -o "$T/plain1.csr" >/dev/null &&
		p11 --token plain --pin env:USER_PIN -q enroll --label signing --type ec:P-384 \
			--subject "/C=GB/O=Example Ltd/CN=signer" --ext extendedKeyUsage=clientAuth \
			-o "$T/plain2.csr" >/dev/null
	equal "plain enroll" "$?" 0
	PLAIN_S=$(since "$T0")
	CARD_S=$(jq -r 'select(.card == 3) | .seconds * 1000 | round / 1000' "$T/f.out")
	FIRST_S=$(jq -r 'select(.card == 3) | .first_call_seconds * 1000 | round / 1000' "$T/f.out")
	echo "# measured: card 3 from its arrival to its result $CARD_S s (first PKCS#11 call after $FIRST_S s); init-token + two enrolls as three commands: $PLAIN_S s"
else
	left_out "the fault-injecting module ($P11FAULT_SO)"
fi

case_ "Ctrl-C during a card: the card is finished first"
if [ -r "$P11FAULT_SO" ]; then
	# the worker is held at its first key generation (the gate) while the
	# station gets SIGINT; the gate opens; the card must come out whole
	recipe "$T/int.recipe" "token = blank" "init = yes" "label = held-%n" \
		"pin = env:USER_PIN" "so_pin = env:SO_PIN"
	: >"$T/gate.log"
	P11FAULT_MODULE=$SOFTHSM_MODULE P11FAULT_LOG=$T/gate.log \
		P11FAULT_GATE=C_GenerateKeyPair:$T/gate env --default-signal=INT "$P11ENROLL" \
		--module "$P11FAULT_SO" station --recipe "$T/int.recipe" --count 3 \
		>"$T/held.out" 2>"$T/held.err" &
	ST_PID=$!
	wait_for "$T/held.err" "card 1: insert a card" 60 "$ST_PID" || fail "station waits" "$(cat "$T/held.err")"
	vicc_start 35963
	wait_for "$T/gate.log" "C_GenerateKeyPair" 60 "$ST_PID" || fail "the worker is at the gate" "$(cat "$T/held.err")"
	kill -INT "$ST_PID"
	touch "$T/gate"
	wait "$ST_PID"
	equal "died of SIGINT, after the card" "$?" 130
	vicc_stop
	S=$(sed -n "s/^card 1: ok, token 'held-1' (serial \([0-9a-f]*\)), initialised: .*/\1/p" "$T/held.out")
	check "card 1 finished ($(cat "$T/held.out"))" test -n "$S"
	equal "one line" "$(wc -l <"$T/held.out")" 1
	check "its second request" test -s "$T/out/$S-signing.csr"
	TL=held-1
	equal "held-1: two key pairs" "$(count_objects)" 4
	not_contains "$T/held.err" "card 2: insert a card"
else
	left_out "the fault-injecting module ($P11FAULT_SO)"
fi

case_ "the reader's own slot"
recipe "$T/reader.recipe" "pin = env:USER_PIN"
if [ -r "$OPENSC" ]; then
	# OpenSC tries each of its card drivers on a card it does not know, for
	# every call (15 s on the virtual card): one driver says "not mine" as well
	printf 'app default {\n\tcard_drivers = openpgp;\n}\n' >"$T/opensc.conf"
	OPENSC_CONF=$T/opensc.conf "$P11ENROLL" --module "$OPENSC" station \
		--recipe "$T/reader.recipe" --count 1 >"$T/r.out" 2>"$T/r.err" &
	ST_PID=$!
	card 1 "$T/r.err" "$ST_PID"
	wait "$ST_PID"
	equal "exit status" "$?" 11
	# OpenSC names the slot after the reader; the virtual card is no card it knows
	equal "the line" "$(cat "$T/r.out")" \
		"card 1: FAILED: the card's reader has no token in the module: is the card one the module knows?"
else
	left_out "OpenSC's PKCS#11 module ($OPENSC)"
fi
p11 station --recipe "$T/reader.recipe" --count 1 >"$T/r.out" 2>"$T/r.err" &
ST_PID=$!
card 1 "$T/r.err" "$ST_PID"
wait "$ST_PID"
equal "SoftHSM: exit status" "$?" 11
contains "$T/r.out" "card 1: FAILED: no slot of the module names the card's reader"

case_ "Ctrl-C while waiting"
# a background job of a script ignores SIGINT: give the tool the default
env --default-signal=INT "$P11ENROLL" --module "$SOFTHSM_MODULE" station \
	--recipe "$T/station.recipe" >"$T/int.out" 2>"$T/int.err" &
ST_PID=$!
wait_for "$T/int.err" "card 1: insert a card" 60 "$ST_PID" || fail "station waits" "$(cat "$T/int.err")"
T0=$(mono)
kill -INT "$ST_PID"
wait "$ST_PID"
RC=$?
INT_S=$(since "$T0")
equal "died of SIGINT" "$RC" 130
check "ended within 5 s ($INT_S s)" num_le "$INT_S" 5
equal "nothing printed" "$(cat "$T/int.out")" ""

finish
