#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck disable=SC2086,SC2154 # key type options split on purpose; uri_* set by eval
# keygen.sh - keygen: every key type, the attributes and the id as
# pkcs11-tool sees them, the URI with libp11's engine, and the errors.
set -u
. "$(dirname "$0")/lib.sh"
setup

SO_PIN=24681357 USER_PIN=75319864
export SO_PIN USER_PIN
mk_token cli-keygen
TL=cli-keygen
PINF=$(pin_file user.pin "$USER_PIN")

# bitstring_sha1 FILE: SHA-1 of the subjectPublicKey bit string (the last
# element of the DER SPKI in FILE) without its unused-bits byte
bitstring_sha1() {
	_l=$(openssl asn1parse -inform DER -in "$1" 2>/dev/null | awk '/d=1/ && /BIT STRING/' |
		sed 's/.* l= *\([0-9][0-9]*\) .*/\1/')
	[ -n "$_l" ] || { echo "no-bit-string"; return; }
	tail -c $((_l - 1)) "$1" | openssl sha1 -r | cut -d' ' -f1
}

before=$(count_objects)
equal "empty token" "$before" 0

# type label curve bits json?
for spec in "- k-rsa2048 null 2048 0" "rsa:3072 k-rsa3072 null 3072 1" \
	"rsa:4096 k-rsa4096 null 4096 1" "ec:P-256 k-p256 P-256 256 0" "ec:P-384 k-p384 P-384 384 1"; do
	set -- $spec
	type=$1 label=$2 curve=$3 bits=$4 json=$5
	case_ "keygen --label $label (type $type, json $json)"
	topt=
	[ "$type" != - ] && topt="--type $type"
	if [ "$json" = 1 ]; then
		expect_rc 0 p11 --pin "file:$PINF" --json keygen --label "$label" $topt
		kt=rsa
		[ "$curve" != null ] && kt=ec
		equal "JSON key fields" \
			"$(jq -r '[.class,.label,.key_type,.bits,.curve,.sensitive,.extractable,.always_sensitive,.never_extractable,.local]|map(tostring)|join(" ")' "$OUT")" \
			"private-key $label $kt $bits $curve true false true true true"
		uri=$(jq -r .uri "$OUT")
		jid=$(jq -r .id "$OUT")
	else
		expect_rc 0 p11 --pin "file:$PINF" keygen --label "$label" $topt
		equal "one line on stdout" "$(wc -l <"$OUT")" 1
		uri=$(cat "$OUT")
		jid=
	fi
	case $uri in
	"pkcs11:"*";token=$TL;"*";object=$label;type=private") ok "URI form: $uri" ;;
	*) fail "URI form" "got '$uri'" ;;
	esac
	equal "object count +2" "$(count_objects)" $((before + 2))
	before=$((before + 2))
	pid=$(obj ID "Private Key" "$label")
	check "one private key labelled $label, a 20-byte ID" is_sha1 "$pid"
	equal "one public key labelled $label, same ID as the private key" "$(obj ID "Public Key" "$label")" "$pid"
	equal "private key: pkcs11-tool's access flags" "$(obj Access "Private Key" "$label")" \
		"sensitive, always sensitive, never extractable, local"
	case $uri in
	*";id=$(pct "$pid");"*) ok "URI id is the pkcs11-tool ID $pid" ;;
	*) fail "URI id" "'$uri' has not id $pid" ;;
	esac
	[ -n "$jid" ] && equal "JSON id" "$jid" "$pid"
	pubkey_der "$pid" "$T/spki.der"
	equal "ID = SHA-1 of the subjectPublicKey bit string" "$(bitstring_sha1 "$T/spki.der")" "$pid"
	if [ "$curve" = null ]; then
		equal "ID = SHA-1 of the DER RSAPublicKey" "$(openssl rsa -pubin -inform DER -in "$T/spki.der" \
			-RSAPublicKey_out -outform DER 2>/dev/null | openssl sha1 -r | cut -d' ' -f1)" "$pid"
		contains "$T/objs.txt" "RSA $bits bits"
	else
		openssl pkey -pubin -inform DER -in "$T/spki.der" -noout -text >"$T/pub.txt" 2>&1
		contains "$T/pub.txt" "NIST CURVE: $curve"
	fi
	eval "uri_$(echo "$label" | tr -- '-' _)=\$uri; id_$(echo "$label" | tr -- '-' _)=\$pid"
done

case_ "the access flags above can tell an extractable key"
# The flags checked for each key above are pkcs11-tool's reading of
# CKA_SENSITIVE, CKA_EXTRACTABLE and the rest; a key pkcs11-tool itself makes
# extractable reads differently, so that check fails on a key that could
# leave the token.  (That the secret part cannot be read or wrapped out is
# checked by the token suite: C_GetAttributeValue and C_WrapKey in
# tests/token/test-keys.c, against a control key that does wrap.)
p11t --keypairgen --key-type EC:prime256v1 --label x-control --id 0c0c --extractable \
	>"$T/control.out" 2>&1 || fail "pkcs11-tool makes an extractable key" "$(head -c 300 "$T/control.out")"
count_objects >/dev/null
case $(obj Access "Private Key" x-control) in
*"never extractable"* | "") fail "control: an extractable key's flags" "$(obj Access "Private Key" x-control)" ;;
*extractable*) ok "control: pkcs11-tool reads an extractable key as such" ;;
*) fail "control: an extractable key's flags" "$(obj Access "Private Key" x-control)" ;;
esac
p11t --delete-object --type privkey --id 0c0c >/dev/null 2>&1
p11t --delete-object --type pubkey --id 0c0c >/dev/null 2>&1
equal "control key gone" "$(count_objects)" "$before"

case_ "the URI with libp11's engine"
ENG=$(openssl version -e | sed 's/^ENGINESDIR: "\(.*\)"/\1/')/pkcs11.so
if [ -r "$ENG" ]; then
	for k in rsa2048 p256; do
		eval "uri=\$uri_k_$k"
		PKCS11_MODULE_PATH=$SOFTHSM_MODULE openssl req -new -engine pkcs11 -keyform engine \
			-key "$uri;pin-value=$USER_PIN" -subj /CN=x -out "$T/e-$k.csr" >"$T/eng.out" 2>&1
		check "openssl req -engine pkcs11 made a request ($k)" test -s "$T/e-$k.csr"
		check "it verifies" req_verifies "$T/e-$k.csr"
		expect_rc 0 p11 --pin "file:$PINF" csr --key "$uri" --subject /CN=x -o "$T/p-$k.csr"
		equal "engine's public key = p11enroll's ($k)" "$(req_pubkey "$T/e-$k.csr")" \
			"$(req_pubkey "$T/p-$k.csr")"
	done
else
	left_out "no pkcs11 engine at $ENG: the engine checks"
fi

case_ "--id"
expect_rc 0 p11 --pin "file:$PINF" keygen --label k-id --id 0a0b0c --type ec:P-256
uri_id=$(cat "$OUT")
contains "$OUT" ";id=%0A%0B%0C;object=k-id;type=private"
n=$(count_objects)
equal "private key id (pkcs11-tool)" "$(obj ID "Private Key" k-id)" 0a0b0c
equal "public key id (pkcs11-tool)" "$(obj ID "Public Key" k-id)" 0a0b0c

case_ "label or id already there"
expect_error 2 p11 --pin "file:$PINF" keygen --label k-id
contains "$ERR" "${uri_id%;type=*}"
expect_error 2 p11 --pin "file:$PINF" keygen --label k-rsa3072 --type ec:P-256
contains "$ERR" "${uri_k_rsa3072%;type=*}"
expect_error 2 p11 --pin "file:$PINF" keygen --label k-other --id 0A0B0C
contains "$ERR" "0a0b0c"
equal "no new objects" "$(count_objects)" "$n"

case_ "bad arguments"
expect_error 2 p11 --pin "file:$PINF" keygen --label k-bad --type rsa:1024
contains "$ERR" "rsa:1024"
expect_error 2 p11 --pin "file:$PINF" keygen --type ec:P-256
contains "$ERR" "--label"
expect_error 2 p11 --pin "file:$PINF" keygen --label k-bad --id xyz
equal "no new objects" "$(count_objects)" "$n"

case_ "the token's key sizes and mechanisms (C_GetMechanismInfo), asked before generating"
# the fault wrapper narrows what SoftHSMv2 reports: RSA 1024..3072 bits, no EC
if [ -r "${P11FAULT_SO:=$TOP_BUILDDIR/tests/fault/.libs/p11fault.so}" ]; then
	fk() {
		env P11FAULT_MODULE="$SOFTHSM_MODULE" P11FAULT_LOG="$T/mech.log" P11FAULT_MECH="$1" \
			"$P11ENROLL" --module "$P11FAULT_SO" --token "$TL" --pin "file:$PINF" keygen \
			--label k-mech --type "$2"
	}
	: >"$T/mech.log"
	expect_error 6 fk 0:1024:3072 rsa:4096
	contains "$ERR" "makes RSA keys of 1024 to 3072 bits, not rsa:4096"
	contains "$ERR" "choose a --type the token can make"
	check_not "no C_GenerateKeyPair" grep -q C_GenerateKeyPair "$T/mech.log"
	expect_error 6 fk 1040:0:0 ec:P-256
	contains "$ERR" "cannot make EC keys (it has no CKM_EC_KEY_PAIR_GEN)"
	expect_error 6 fk 1040:256:256 ec:P-384
	contains "$ERR" "makes EC keys of 256 to 256 bits, not ec:P-384"
	check_not "no C_GenerateKeyPair" grep -q C_GenerateKeyPair "$T/mech.log"
	equal "no new objects" "$(count_objects)" "$n"
	expect_rc 0 fk 0:1024:3072 rsa:3072
	n=$((n + 2))
else
	left_out "no fault-injecting module (P11FAULT_SO): the token's key sizes"
fi

case_ "wrong PIN"
BADF=$(pin_file bad.pin 11112222)
expect_error 3 p11 --pin "file:$BADF" keygen --label k-badpin
contains "$ERR" "CKR_PIN_INCORRECT"
equal "no new objects" "$(count_objects)" "$n"
not_contains "$T/objs.txt" "k-badpin"

finish
