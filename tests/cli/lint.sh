#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# lint.sh - profiles: lint on requests and certificates made by openssl with
# software keys, and csr --profile refusing to sign on the token.
set -u
. "$(dirname "$0")/lib.sh"
setup

export P11ENROLL_PROFILE_PATH="$TOP_SRCDIR/profiles"
sw() { openssl req -new -key "$1" -subj "$2" "$3" "$4" -out "$5" 2>/dev/null; }
openssl genrsa -out "$T/weak.key" 1024 2>/dev/null
openssl genrsa -out "$T/good.key" 2048 2>/dev/null

case_ "a request that meets mtls-client"
sw "$T/good.key" "/C=US/O=Example/CN=a.example" -addext "subjectAltName=DNS:a.example,IP:192.0.2.1" "$T/good.csr"
expect_rc 0 "$P11ENROLL" lint "$T/good.csr"
contains "$ERR" "meets profile 'mtls-client'"

case_ "every violation is listed"
sw "$T/weak.key" "/C=US/CN=*.b.example" -addext "subjectAltName=DNS:*.b.example,DNS:c.example" "$T/bad.csr"
expect_rc 6 "$P11ENROLL" lint "$T/bad.csr"
contains "$ERR" "RSA key of 1024 bits"
contains "$ERR" "no O (organizationName)"
contains "$ERR" "wildcard DNS name '*.b.example'"
contains "$ERR" "wildcard CN"
check "summary counts them" grep -q "4 violations of profile 'mtls-client'" "$ERR"
check "one line each" test "$(grep -c '^  - ' "$ERR")" -eq 4
stdout_empty

case_ "CN not among the SANs; EKU without clientAuth"
sw "$T/good.key" "/C=US/O=Example/CN=d.example" -addext "subjectAltName=DNS:e.example" "$T/cn.csr.tmp"
openssl req -new -key "$T/good.key" -subj "/C=US/O=Example/CN=d.example" \
	-addext "subjectAltName=DNS:e.example" -addext "extendedKeyUsage=serverAuth" -out "$T/cn.csr" 2>/dev/null
expect_rc 6 "$P11ENROLL" lint "$T/cn.csr"
contains "$ERR" "CN 'd.example' is not among the DNS names"
contains "$ERR" "does not include clientAuth"

case_ "--json"
expect_rc 6 "$P11ENROLL" --json lint "$T/bad.csr"
check "ok is false" jq -e '.ok == false' "$OUT"
check "four violations" jq -e '.violations | length == 4' "$OUT"

case_ "open-banking needs its attributes and a UUID OU"
sw "$T/good.key" "/C=GB/O=Bank/OU=not-a-uuid/CN=f.example" -addext "subjectAltName=DNS:f.example" "$T/ob.csr"
expect_rc 6 "$P11ENROLL" lint --profile open-banking "$T/ob.csr"
contains "$ERR" "no businessCategory"
contains "$ERR" "no UID"
contains "$ERR" "OU 'not-a-uuid' is not a UUID"
openssl req -new -key "$T/good.key" -config "$TOP_SRCDIR/tests/data/open-banking.cnf" -out "$T/ob2.csr" 2>/dev/null
expect_rc 0 "$P11ENROLL" lint --profile open-banking "$T/ob2.csr"

case_ "certificates too, PEM and DER"
openssl x509 -req -in "$T/good.csr" -signkey "$T/good.key" -days 90 -copy_extensions copy -out "$T/good.pem" 2>/dev/null
openssl x509 -in "$T/good.pem" -outform DER -out "$T/good.der"
expect_rc 0 "$P11ENROLL" lint "$T/good.pem"
expect_rc 0 "$P11ENROLL" lint "$T/good.der"

case_ "bad input"
printf 'garbage\n' >"$T/garbage.pem"
expect_rc 7 "$P11ENROLL" lint "$T/garbage.pem"
one_error_line
expect_rc 7 "$P11ENROLL" lint "$T/nonexistent.csr"
# a request whose body was altered no longer verifies
sed 's/^MII/MIJ/' "$T/good.csr" >"$T/altered.csr"
expect_rc 7 "$P11ENROLL" lint "$T/altered.csr"
expect_rc 4 "$P11ENROLL" lint --profile nosuch "$T/good.csr"
printf '[profile]\nmin_rsa_bitz = 2048\n' >"$T/typo.conf"
expect_rc 7 "$P11ENROLL" lint --profile "$T/typo.conf" "$T/good.csr"
contains "$ERR" "unknown field 'min_rsa_bitz'"

case_ "a profile value that is not one is refused, never read as off"
for bad in "cn_in_san = yse:cn_in_san = yse: use yes or no" \
	"no_wildcards = maybe:no_wildcards = maybe" \
	"min_rsa_bits = 2k:min_rsa_bits = 2k: give a number of bits" \
	"min_rsa_bits = 512:min_rsa_bits = 512" \
	"eku_includes = clientAuht:eku_includes = clientAuht is no extended key usage"; do
	printf '[profile]\n%s\n' "${bad%%:*}" >"$T/badval.conf"
	expect_error 7 "$P11ENROLL" lint --profile "$T/badval.conf" "$T/good.csr"
	contains "$ERR" "${bad#*:}"
done
# an extended key usage given as an OID matches only that OID, also among
# usages OpenSSL has no name for
openssl req -new -key "$T/good.key" -subj "/C=US/O=Example/CN=a.example" \
	-addext "subjectAltName=DNS:a.example" -addext "extendedKeyUsage=clientAuth,1.3.6.1.4.1.99999.2" \
	-out "$T/eku.csr" 2>/dev/null
printf '[profile]\neku_includes = 1.3.6.1.5.5.7.3.2\n' >"$T/ekuoid.conf"
expect_rc 0 "$P11ENROLL" lint --profile "$T/ekuoid.conf" "$T/eku.csr"
printf '[profile]\neku_includes = 1.3.6.1.4.1.99999.2\n' >"$T/ekuknown.conf"
expect_rc 0 "$P11ENROLL" lint --profile "$T/ekuknown.conf" "$T/eku.csr"
printf '[profile]\neku_includes = 1.3.6.1.4.1.99999.1\n' >"$T/ekuother.conf"
expect_rc 6 "$P11ENROLL" lint --profile "$T/ekuother.conf" "$T/eku.csr"
contains "$ERR" "extendedKeyUsage does not include 1.3.6.1.4.1.99999.1"

case_ "what the data-file loader refuses (as for quirk files), with file:line"
printf '[profile]\n.include %s/profiles/mtls-client.conf\n' "$TOP_SRCDIR" >"$T/incl.conf"
expect_error 7 "$P11ENROLL" lint --profile "$T/incl.conf" "$T/good.csr"
contains "$ERR" "$T/incl.conf:2: .include is not allowed"
# shellcheck disable=SC2016 # the '$' is for the profile, not for the shell
printf '[profile]\nec_curves = ${ENV::P11E_LINT_CURVES}\n' >"$T/var.conf"
expect_error 7 env P11E_LINT_CURVES=P-256 "$P11ENROLL" lint --profile "$T/var.conf" "$T/good.csr"
contains "$ERR" "$T/var.conf:2: '\$' is not allowed"
not_contains "$ERR" "P-256"
head -c 70000 /dev/zero | tr '\0' '#' >"$T/huge.conf"
expect_error 7 "$P11ENROLL" lint --profile "$T/huge.conf" "$T/good.csr"
contains "$ERR" "is over 65536 bytes"
printf '[profile]\nno_wildcards = TRUE\n[checks]\n' >"$T/section.conf"
expect_error 7 "$P11ENROLL" lint --profile "$T/section.conf" "$T/good.csr"
contains "$ERR" "$T/section.conf:3: unknown section [checks]"

case_ "a user's own profile from P11ENROLL_PROFILE_PATH"
mkdir "$T/profiles"
printf '[profile]\ninherits = mtls-client\nmin_rsa_bits = 3072\n' >"$T/profiles/strict.conf"
P11ENROLL_PROFILE_PATH="$T/profiles:$TOP_SRCDIR/profiles" expect_rc 6 "$P11ENROLL" lint --profile strict "$T/good.csr"
contains "$ERR" "needs at least 3072"

case_ "csr --profile: the token never signs a request that breaks it"
SO_PIN=so-pin-77 USER_PIN=user-pin-77 TL=lint
export SO_PIN USER_PIN
p11 -q --so-pin env:SO_PIN --pin env:USER_PIN init-token --label lint >/dev/null
p11 --pin env:USER_PIN keygen --label k >/dev/null
expect_rc 6 p11 --pin env:USER_PIN csr --key k --profile mtls-client \
	--subject "/C=US/CN=*.x.example" --san "DNS:*.x.example" -o "$T/refused.csr"
contains "$ERR" "no O (organizationName)"
contains "$ERR" "wildcard DNS name"
check "no request written" test ! -e "$T/refused.csr"
expect_rc 0 p11 --pin env:USER_PIN csr --key k --profile mtls-client \
	--subject "/C=US/O=Example/CN=g.example" --san DNS:g.example --ext extendedKeyUsage=clientAuth -o "$T/ok.csr"
expect_rc 0 "$P11ENROLL" lint "$T/ok.csr"

case_ "enroll --profile refuses a key type before making it"
printf '[profile]\ninherits = mtls-client\nec_curves = P-256\n' >"$T/profiles/p256only.conf"
before=$(count_objects)
check "pkcs11-tool lists the token's objects" test "$before" -ge 2
P11ENROLL_PROFILE_PATH="$T/profiles:$TOP_SRCDIR/profiles" expect_rc 6 p11 --pin env:USER_PIN enroll \
	--label p384 --type ec:P-384 --profile p256only --subject "/C=US/O=E/CN=h.example" --san DNS:h.example
check "no key was made" test "$(count_objects)" = "$before"

finish
