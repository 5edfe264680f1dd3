# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=sh
# flow.sh - the whole p11enroll flow on a token other than SoftHSMv2; sourced
# by a setup script (tpm2.sh, opencryptoki.sh) after lib.sh's setup, with:
#   MODULE          the module file
#   TL              the label init-token gives the token
#   SO_PIN          the SO PIN init-token is given (env:SO_PIN)
#   TYPES           key types the token makes, e.g. "rsa:2048 ec:P-256"
#   REFUSED_TYPE    a key type keygen must refuse before generating ...
#   REFUSED_TEXT    ... with this text in the message
#   ENROLL_TYPE     the key type of the enrolled identities
#   MAY_DECRYPT     1 if the token's quirk file declares key_may_decrypt
#   QUIRK_FILE      the quirk file `tokens` must name for the token
# and prints ok/FAIL lines; the setup script calls finish.

USER_PIN=31415926 NEW_PIN=27182818
export SO_PIN USER_PIN NEW_PIN

# tk ARGS...: the tool on the token, logged in with the user PIN
tk() {
	"$P11ENROLL" --module "$MODULE" --token "$TL" --pin env:USER_PIN "$@"
}
# now: seconds since the epoch to a thousandth
now() {
	date +%s.%N | cut -c1-14
}
# timed NAME CMD...: run CMD (output to $T/timed.*), print "# time NAME: S s"
timed() {
	_n=$1
	shift
	_t0=$(now)
	"$@" >"$T/timed.out" 2>"$T/timed.err"
	_rc=$?
	echo "# time $_n: $(echo "$(now) - $_t0" | bc) s (exit $_rc)"
	return $_rc
}
# jfield LABEL CLASS FIELD: a field of `list --json`'s object ($OUT)
jfield() {
	jq -r ".[] | select(.label == \"$1\" and .class == \"$2\") | .$3" "$OUT"
}

FLOW_T0=$(now)

case_ "init-token with C_InitToken, and the user PIN"
expect_rc 0 "$P11ENROLL" --module "$MODULE" --so-pin env:SO_PIN --pin env:USER_PIN init-token \
	--label "$TL"
expect_rc 0 "$P11ENROLL" --module "$MODULE" --token "$TL" tokens
contains "$OUT" "quirks:       $QUIRK_FILE"

case_ "pin change"
expect_rc 0 tk pin change --new-pin env:NEW_PIN
USER_PIN=$NEW_PIN
expect_rc 0 tk list

case_ "keygen: every type the token makes"
for type in $TYPES; do
	l=k-$(echo "$type" | tr -d ':-')
	expect_rc 0 tk --json keygen --label "$l" --type "$type"
	equal "$type: never extractable, sensitive, local" \
		"$(jq -r '[.never_extractable,.sensitive,.local]|map(tostring)|join(" ")' "$OUT")" \
		"true true true"
	if [ "$MAY_DECRYPT" = 1 ] && [ "${type%%:*}" = rsa ]; then
		contains "$ERR" "note: this token's keys may also decrypt (tokens/$QUIRK_FILE)"
	fi
done

case_ "keygen: what the token cannot make is refused before generating"
expect_error 6 tk keygen --label refused --type "$REFUSED_TYPE"
contains "$ERR" "$REFUSED_TEXT"
contains "$ERR" "choose a --type the token can make"
expect_rc 0 tk list
not_contains "$OUT" "refused"

case_ "csr with both backends"
first=k-$(echo "${TYPES%% *}" | tr -d ':-')
for b in provider engine; do
	expect_rc 0 tk csr --key "$first" --subject "/CN=$b.example" --backend "$b" -o "$T/$b.csr"
	check "openssl verifies the $b request" req_verifies "$T/$b.csr"
done

case_ "enroll, import with the chain, list, status, export"
mk_ca ca "/CN=Other Token CA"
expect_rc 0 tk enroll --label web --type "$ENROLL_TYPE" --subject /CN=web.example \
	--san DNS:web.example -o "$T/web.csr"
check "openssl verifies the request" req_verifies "$T/web.csr"
ca_sign ca "$T/web.csr" "$T/web.pem"
expect_rc 0 tk import "$T/web.pem" --chain "$T/ca.pem"
expect_rc 0 tk --json list
equal "the certificate pairs with its key" \
	"$(jq -r '[.[] | select(.class == "certificate" and .key_id != null)] | length' "$OUT")" 1
equal "the CA certificate is there" \
	"$(jq -r '[.[] | select(.class == "certificate" and .authority)] | length' "$OUT")" 1
if [ "$MAY_DECRYPT" = 1 ] && [ "${ENROLL_TYPE%%:*}" = rsa ]; then
	equal "list --json: decrypt (declared)" "$(jfield web private-key decrypt)" true
	expect_rc 0 tk list
	contains "$OUT" "may decrypt:  yes (CKA_DECRYPT; tokens/$QUIRK_FILE)"
else
	equal "list --json: decrypt" "$(jfield web private-key decrypt)" false
fi
expect_rc 0 tk status
contains "$OUT" "web"
expect_rc 0 tk export --cert web --chain -o "$T/web-chain.pem"
check "the exported chain verifies" openssl verify -CAfile "$T/ca.pem" "$T/web-chain.pem"

case_ "renew, import the successor, retire the old key"
expect_rc 0 tk renew --key web -o "$T/web2.csr"
check "openssl verifies the renewal request" req_verifies "$T/web2.csr"
ca_sign ca "$T/web2.csr" "$T/web2.pem"
expect_rc 0 tk import "$T/web2.pem"
expect_rc 0 tk retire --key web --yes
expect_rc 0 tk --json list
equal "one client certificate left" \
	"$(jq -r '[.[] | select(.class == "certificate" and .key_id != null)] | length' "$OUT")" 1
equal "the old key is gone" "$(jfield web private-key label)" ""

case_ "enroll twice: the key is reused"
expect_rc 0 tk enroll --label twice --type "$ENROLL_TYPE" --subject /CN=twice -o "$T/t1.csr"
expect_rc 0 tk enroll --label twice --type "$ENROLL_TYPE" --subject /CN=twice -o "$T/t2.csr"
contains "$ERR" "reusing key 'twice'"
equal "same public key" "$(openssl req -in "$T/t1.csr" -pubkey -noout | openssl sha1 -r)" \
	"$(openssl req -in "$T/t2.csr" -pubkey -noout | openssl sha1 -r)"

echo "# time flow: $(echo "$(now) - $FLOW_T0" | bc) s"

case_ "timings against pkcs11-tool on the same token (one run each, for the notes)"
pt() {
	pkcs11-tool --module "$MODULE" --token-label "$TL" --login --pin "$USER_PIN" "$@"
}
ttype=${ENROLL_TYPE}
timed "p11enroll keygen $ttype" tk keygen --label time-p11e --type "$ttype"
timed "pkcs11-tool keypairgen $ttype" pt --keypairgen --key-type "$ttype" --label time-pt \
	--id 7171
timed "p11enroll csr" tk csr --key time-p11e --subject /CN=t -o "$T/time.csr"
printf 'to be signed' | openssl sha256 -binary >"$T/tbs"
timed "pkcs11-tool sign (one signature)" pt --sign --id 7171 -m "$([ "${ttype%%:*}" = ec ] &&
	echo ECDSA || echo RSA-PKCS)" -i "$T/tbs" -o "$T/sig"
timed "p11enroll list" tk list
timed "pkcs11-tool list-objects" pt -O
