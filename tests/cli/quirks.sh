#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# quirks.sh - token quirk files: found on $P11ENROLL_TOKENS_PATH, shown by
# `tokens`, applied by keygen (RSA size limit, CKA_EXTRACTABLE left out,
# CKA_ID kept) and import (private certificates), and a malformed one
# refused with its name.
set -u
. "$(dirname "$0")/lib.sh"
setup

SO_PIN=13572468 USER_PIN=86427531
export SO_PIN USER_PIN
mk_token cli-quirks
TL=cli-quirks
PINF=$(pin_file user.pin "$USER_PIN")
Q=$T/quirks
mkdir "$Q"
P11ENROLL_TOKENS_PATH=$Q
export P11ENROLL_TOKENS_PATH

# bitstring_sha1 FILE: SHA-1 of the subjectPublicKey bit string of the DER
# SPKI in FILE (the id keygen derives when it can set one)
bitstring_sha1() {
	_l=$(openssl asn1parse -inform DER -in "$1" 2>/dev/null | awk '/d=1/ && /BIT STRING/' |
		sed 's/.* l= *\([0-9][0-9]*\) .*/\1/')
	[ -n "$_l" ] || { echo "no-bit-string"; return; }
	tail -c $((_l - 1)) "$1" | openssl sha1 -r | cut -d' ' -f1
}

# quirks LINES...: $Q/softhsm-test.conf matching SoftHSMv2, with these [quirks]
quirks() {
	{
		printf '[match]\nmanufacturer = SoftHSM project\nmodel = SoftHSM v2*\n[quirks]\n'
		for _l in "$@"; do printf '%s\n' "$_l"; done
	} >"$Q/softhsm-test.conf"
}

case_ "the shipped files: tokens names softhsm2.conf"
P11ENROLL_TOKENS_PATH=$TOP_SRCDIR/tokens expect_rc 0 p11 tokens
contains "$OUT" "quirks:       softhsm2.conf"

case_ "tokens --json: no quirk file matches"
# shadows an installed softhsm2.conf of the same name later on the path
printf '[match]\nmanufacturer = Nobody\n' >"$Q/softhsm2.conf"
expect_rc 0 p11 --json tokens
cp "$OUT" "$T/tokens.json"
equal "every token has quirks null" "$(jqt '[.[] | select(.token_present) | .quirks] | unique | tostring')" '[null]'
expect_rc 0 p11 tokens
contains "$OUT" "quirks:       (none)"

case_ "max_rsa_bits = 2048"
quirks "max_rsa_bits = 2048"
expect_rc 0 p11 --json tokens
cp "$OUT" "$T/tokens.json"
equal "tokens --json names the file" "$(jqt ".[] | select(.label == \"$TL\") | .quirks")" softhsm-test.conf
expect_rc 0 p11 --token "$TL" tokens
contains "$OUT" "quirks:       softhsm-test.conf"
before=$(count_objects)
expect_error 6 p11 --pin "file:$PINF" keygen --label big --type rsa:3072
contains "$ERR" "at most 2048 bits, not 3072"
contains "$ERR" "token '$TL'"
contains "$ERR" "softhsm-test.conf"
equal "nothing was created" "$(count_objects)" "$before"
expect_error 6 p11 --pin "file:$PINF" enroll --label big2 --type rsa:4096 --subject /CN=big2
contains "$ERR" "at most 2048 bits, not 4096"
equal "enroll: nothing was created" "$(count_objects)" "$before"
expect_rc 0 p11 --pin "file:$PINF" keygen --label small --type rsa:2048
equal "rsa:2048 is made" "$(count_objects)" $((before + 2))
before=$((before + 2))

case_ "min_rsa_bits = 3072"
quirks "min_rsa_bits = 3072"
expect_error 6 p11 --pin "file:$PINF" keygen --label tiny --type rsa:2048
contains "$ERR" "at least 3072 bits, not 2048"
equal "nothing was created" "$(count_objects)" "$before"

case_ "omit_extractable = yes"
quirks "omit_extractable = yes"
expect_rc 0 p11 --pin "file:$PINF" -v --json keygen --label noext --type ec:P-256
contains "$ERR" "CKA_EXTRACTABLE left out of the template (token quirk file softhsm-test.conf)"
equal "read back: not extractable, never extractable" \
	"$(jq -r '[.extractable,.never_extractable,.sensitive,.always_sensitive,.local]|map(tostring)|join(" ")' "$OUT")" \
	"false true true true true"
equal "object count +2" "$(count_objects)" $((before + 2))
before=$((before + 2))
equal "pkcs11-tool: never extractable" "$(obj Access "Private Key" noext)" \
	"sensitive, always sensitive, never extractable, local"

case_ "set_id_after_generation = no"
quirks "set_id_after_generation = no"
expect_rc 0 p11 --pin "file:$PINF" --json keygen --label keepid --type ec:P-256
jid=$(jq -r .id "$OUT")
check "a 20-byte id" is_sha1 "$jid"
contains "$ERR" "cannot change CKA_ID after generation"
contains "$ERR" "keeps the random id $jid"
count_objects >/dev/null
pid=$(obj ID "Private Key" keepid)
equal "the private key has the id" "$pid" "$jid"
equal "the public key has the same id" "$(obj ID "Public Key" keepid)" "$jid"
pubkey_der "$pid" "$T/keepid.der"
sha=$(bitstring_sha1 "$T/keepid.der")
check "the public key was read" is_sha1 "$sha"
check_not "the id is not the SHA-1 of the public key" test "$sha" = "$jid"
expect_rc 0 p11 --pin "file:$PINF" keygen --label withid --id 0a0b0c --type ec:P-256
count_objects >/dev/null
equal "--id is still used" "$(obj ID "Private Key" withid)" 0a0b0c
not_contains "$ERR" "random id"

case_ "certificate_private = yes"
quirks "certificate_private = yes"
mk_ca qca "/CN=Quirk CA"
expect_rc 0 p11 --pin "file:$PINF" enroll --label privcert --type ec:P-256 --subject /CN=privcert \
	-o "$T/privcert.csr"
ca_sign qca "$T/privcert.csr" "$T/privcert.pem"
expect_rc 0 p11 --pin "file:$PINF" import "$T/privcert.pem"
pkcs11-tool --module "$SOFTHSM_MODULE" --token-label "$TL" --list-objects --type cert \
	>"$T/pub-certs.txt" 2>&1
not_contains "$T/pub-certs.txt" "privcert"
pkcs11-tool --module "$SOFTHSM_MODULE" --token-label "$TL" --login --pin "$USER_PIN" \
	--list-objects --type cert >"$T/all-certs.txt" 2>&1
contains "$T/all-certs.txt" "privcert"
# without the quirk, a certificate is public
quirks "omit_extractable = no"
expect_rc 0 p11 --pin "file:$PINF" enroll --label pubcert --type ec:P-256 --subject /CN=pubcert \
	-o "$T/pubcert.csr"
ca_sign qca "$T/pubcert.csr" "$T/pubcert.pem"
expect_rc 0 p11 --pin "file:$PINF" import "$T/pubcert.pem"
pkcs11-tool --module "$SOFTHSM_MODULE" --token-label "$TL" --list-objects --type cert \
	>"$T/pub-certs.txt" 2>&1
contains "$T/pub-certs.txt" "pubcert"

case_ "a malformed quirk file"
quirks "omit_extractible = yes"
before=$(count_objects)
expect_error 7 p11 --pin "file:$PINF" keygen --label bad --type ec:P-256
contains "$ERR" "$Q/softhsm-test.conf"
contains "$ERR" "'omit_extractible'"
contains "$ERR" "[quirks]"
equal "nothing was created" "$(count_objects)" "$before"
expect_error 7 p11 tokens
contains "$ERR" "softhsm-test.conf"
# a broken file for another token breaks this one too: no token runs without its quirks
quirks "omit_extractable = yes"
printf '[match]\nmanufacturer = Nobody\n[quirks]\nmax_rsa_bits = lots\n' >"$Q/other.conf"
expect_error 7 p11 --json tokens
contains "$ERR" "other.conf"
contains "$ERR" "max_rsa_bits"
rm -f "$Q/other.conf"
printf '[match\n' >"$Q/syntax.conf"
expect_error 7 p11 tokens
contains "$ERR" "syntax.conf:1"
rm -f "$Q/syntax.conf"

case_ "the user's own quirk files: \$XDG_CONFIG_HOME/p11enroll/tokens, after the path's"
mkdir -p "$T/xdg/p11enroll/tokens"
printf '[match]\nmanufacturer = SoftHSM project\n[quirks]\nmax_rsa_bits = 2048\n' \
	>"$T/xdg/p11enroll/tokens/mine.conf"
rm -f "$Q/softhsm-test.conf"
XDG_CONFIG_HOME=$T/xdg expect_rc 0 p11 --token "$TL" tokens
contains "$OUT" "quirks:       mine.conf"
# the same name earlier on the path shadows it
printf '[match]\nmanufacturer = Nobody\n' >"$Q/mine.conf"
XDG_CONFIG_HOME=$T/xdg expect_rc 0 p11 --token "$TL" tokens
contains "$OUT" "quirks:       (none)"
rm -f "$Q/mine.conf"
# a boolean spelt as profiles spell it (the same parser)
printf '[match]\nmanufacturer = SoftHSM project\n[quirks]\nomit_extractable = TRUE\n' \
	>"$T/xdg/p11enroll/tokens/mine.conf"
XDG_CONFIG_HOME=$T/xdg expect_rc 0 p11 --pin "file:$PINF" -v keygen --label xdg --type ec:P-256
contains "$ERR" "CKA_EXTRACTABLE left out of the template (token quirk file mine.conf)"


case_ "[match] library: the module's manufacturerID (C_GetInfo)"
rm -f "$Q/softhsm-test.conf"
printf '[match]\nlibrary = SoftHSM*\n[quirks]\n' >"$Q/by-library.conf"
expect_rc 0 p11 --token "$TL" tokens
contains "$OUT" "quirks:       by-library.conf"
printf '[match]\nlibrary = Nobody*\n[quirks]\n' >"$Q/by-library.conf"
expect_rc 0 p11 --token "$TL" tokens
contains "$OUT" "quirks:       (none)"
rm -f "$Q/by-library.conf"

case_ "key_may_decrypt = yes: the template leaves CKA_VERIFY/CKA_DECRYPT to the token, and says so"
# SoftHSMv2 makes an RSA private key that decrypts when the template is silent
quirks "key_may_decrypt = yes"
expect_rc 0 p11 --pin "file:$PINF" keygen --label maydec --type rsa:2048
contains "$ERR" "note: this token's keys may also decrypt (tokens/softhsm-test.conf)"
expect_rc 0 p11 --pin "file:$PINF" --json list
equal "list --json: decrypt true (read back)" \
	"$(jq -r '.[] | select(.label == "maydec" and .class == "private-key") | .decrypt' "$OUT")" true
expect_rc 0 p11 --pin "file:$PINF" list
contains "$OUT" "may decrypt:  yes (CKA_DECRYPT; tokens/softhsm-test.conf)"
quirks "key_may_decrypt = no"
expect_rc 0 p11 --pin "file:$PINF" keygen --label nodec --type rsa:2048
not_contains "$ERR" "may also decrypt"
expect_rc 0 p11 --pin "file:$PINF" --json list
equal "without the quirk: decrypt false" \
	"$(jq -r '.[] | select(.label == "nodec" and .class == "private-key") | .decrypt' "$OUT")" false
before=$(count_objects)

# fp LOG FUNC RV ARGS...: the tool through the fault wrapper, whose first call
# to FUNC answers RV
fp() {
	_log=$1 _func=$2 _rv=$3
	shift 3
	env P11FAULT_MODULE="$SOFTHSM_MODULE" P11FAULT_LOG="$_log" P11FAULT_FAIL_FUNC="$_func" \
		P11FAULT_FAIL="1:$_rv" "$P11ENROLL" --module "$P11FAULT_SO" --token "$TL" "$@"
}
if [ -r "${P11FAULT_SO:=$TOP_BUILDDIR/tests/fault/.libs/p11fault.so}" ]; then
	case_ "a token that refuses CKA_CERTIFICATE_CATEGORY: import retries once without it"
	quirks "omit_extractable = no"
	mk_ca cca "/CN=Category CA"
	for l in cat-a cat-b; do
		expect_rc 0 p11 --pin "file:$PINF" enroll --label $l --type ec:P-256 --subject /CN=$l \
			-o "$T/$l.csr"
		ca_sign cca "$T/$l.csr" "$T/$l.pem"
	done
	: >"$T/cat.log"
	expect_rc 0 fp "$T/cat.log" C_CreateObject CKR_ATTRIBUTE_TYPE_INVALID --pin "file:$PINF" \
		import "$T/cat-a.pem"
	contains "$ERR" "refused CKA_CERTIFICATE_CATEGORY (CKR_ATTRIBUTE_TYPE_INVALID)"
	equal "two C_CreateObject calls" "$(grep -c '^C_CreateObject' "$T/cat.log")" 2

	case_ "omit_certificate_category = yes: not in the template; a refusal names the template"
	quirks "omit_certificate_category = yes"
	: >"$T/cat.log"
	expect_error 5 fp "$T/cat.log" C_CreateObject CKR_ATTRIBUTE_TYPE_INVALID --pin "file:$PINF" \
		import "$T/cat-b.pem"
	contains "$ERR" "the template was CKA_CLASS, CKA_CERTIFICATE_TYPE"
	contains "$ERR" "CKA_VALUE, CKA_ID"
	not_contains "$ERR" "CKA_CERTIFICATE_CATEGORY"
	equal "one C_CreateObject call" "$(grep -c '^C_CreateObject' "$T/cat.log")" 1
	expect_rc 0 p11 --pin "file:$PINF" import "$T/cat-b.pem"

	case_ "a refused key template names its optional attributes"
	quirks "omit_extractable = no"
	before=$(count_objects)
	expect_error 5 fp "$T/kg.log" C_GenerateKeyPair CKR_ATTRIBUTE_VALUE_INVALID \
		--pin "file:$PINF" keygen --label refused --type ec:P-256
	contains "$ERR" "CKR_ATTRIBUTE_VALUE_INVALID"
	contains "$ERR" "optional attributes were CKA_VERIFY, CKA_DECRYPT=FALSE, CKA_EXTRACTABLE=FALSE"
	equal "nothing was created" "$(count_objects)" "$before"

	case_ "hint_lockout / hint_general_error: the token's own advice replaces the generic one"
	quirks 'hint_lockout = "clear the lockout with frob-lockout"' \
		'hint_general_error = "flush with frob-flush"'
	expect_error 3 fp "$T/h.log" C_Login CKR_PIN_LOCKED --pin "file:$PINF" list
	contains "$ERR" "CKR_PIN_LOCKED): clear the lockout with frob-lockout"
	not_contains "$ERR" "pin unblock"
	expect_error 5 fp "$T/h.log" C_Login CKR_GENERAL_ERROR --pin "file:$PINF" list
	contains "$ERR" "CKR_GENERAL_ERROR): flush with frob-flush"
	quirks "omit_extractable = no"
	expect_error 3 fp "$T/h.log" C_Login CKR_PIN_LOCKED --pin "file:$PINF" list
	contains "$ERR" "pin unblock"
	not_contains "$ERR" "frob-lockout"
else
	left_out "no fault-injecting module (P11FAULT_SO): certificate category, hints"
fi

finish
