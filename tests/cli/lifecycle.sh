#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# lifecycle.sh - renew keeps subject and SANs on a new key next to the old
# one; retire removes a key pair and its certificates, keeps CA
# certificates, and refuses the last valid key without --force.
set -u
. "$(dirname "$0")/lib.sh"
setup

SO_PIN=38475610 USER_PIN=91827364
export SO_PIN USER_PIN
mk_token cli-life
TL=cli-life
p() { p11 --pin env:USER_PIN "$@"; }

# a local test CA
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/ca.key" -subj "/CN=Life CA" \
	-days 30 -out "$T/ca.pem" 2>/dev/null
# sign CSR OUT: the CA's certificate for a request, 90 days, its extensions
sign() {
	openssl x509 -req -in "$1" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial \
		-days 90 -copy_extensions copy -out "$2" 2>/dev/null
}

case_ "a first certificate"
expect_rc 0 p enroll --label api --type ec:P-256 --subject "/C=US/O=Acme/CN=api.example" \
	--san DNS:api.example,DNS:api2.example,IP:192.0.2.7 --ext extendedKeyUsage=clientAuth \
	-o "$T/api.csr"
sign "$T/api.csr" "$T/api.pem"
expect_rc 0 p import "$T/api.pem" --chain "$T/ca.pem"

case_ "renew: no certificate yet is an error"
p keygen --label bare >/dev/null
expect_error 4 p renew --key bare -o "$T/bare.csr"
check "no request written" test ! -e "$T/bare.csr"

case_ "renew keeps subject, SANs and EKU on a new key"
expect_rc 0 p renew --key api -o "$T/api2.csr"
case $(cat "$OUT") in
*";object=api.2;type=private") ok "new key labelled api.2" ;;
*) fail "new key labelled api.2" "$(cat "$OUT")" ;;
esac
check "request verifies" openssl req -in "$T/api2.csr" -verify -noout
equal "same subject" "$(openssl req -in "$T/api2.csr" -noout -subject -nameopt RFC2253)" \
	"$(openssl x509 -in "$T/api.pem" -noout -subject -nameopt RFC2253)"
openssl req -in "$T/api2.csr" -noout -text >"$T/api2.txt"
openssl x509 -in "$T/api.pem" -noout -ext subjectAltName,extendedKeyUsage >"$T/api.ext"
contains "$T/api2.txt" "DNS:api.example, DNS:api2.example, IP Address:192.0.2.7"
contains "$T/api2.txt" "TLS Web Client Authentication"
check "type kept (EC P-256)" grep -q "NIST CURVE: P-256" "$T/api2.txt"
check_not "a new key, not the old one" cmp -s \
	"$(openssl req -in "$T/api.csr" -pubkey -noout >"$T/k1"; echo "$T/k1")" \
	"$(openssl req -in "$T/api2.csr" -pubkey -noout >"$T/k2"; echo "$T/k2")"
count_objects >/dev/null
equal "old key stays" "$(obj ID 'Private Key' api | wc -l)" 1
equal "old certificate stays" "$(obj ID 'Certificate' api | wc -l)" 1
check "new id differs from the old" test "$(obj ID 'Private Key' api)" != "$(obj ID 'Private Key' api.2)"

case_ "renew with overrides"
sign "$T/api2.csr" "$T/api2.pem"
expect_rc 0 p import "$T/api2.pem"
expect_rc 0 p renew --key api.2 --san DNS:api3.example --subject "/C=US/O=Acme/CN=api3.example" \
	--type rsa:2048 -o "$T/api3.csr"
case $(cat "$OUT") in
*";object=api.3;type=private") ok "next generation: api.3" ;;
*) fail "next generation: api.3" "$(cat "$OUT")" ;;
esac
openssl req -in "$T/api3.csr" -noout -text >"$T/api3.txt"
contains "$T/api3.txt" "DNS:api3.example"
not_contains "$T/api3.txt" "api2.example"
contains "$T/api3.txt" "TLS Web Client Authentication"
contains "$T/api3.txt" "rsaEncryption"

case_ "renew again before the certificate came: the successor is reused"
expect_rc 0 p renew --key api.2 -o "$T/api3b.csr"
case $(cat "$OUT") in
*";object=api.3;type=private") ok "still api.3" ;;
*) fail "still api.3" "$(cat "$OUT")" ;;
esac
contains "$ERR" "reusing 'api.3'"
equal "same key as before" "$(openssl req -in "$T/api3b.csr" -pubkey -noout)" \
	"$(openssl req -in "$T/api3.csr" -pubkey -noout)"

case_ "renew: a type the profile refuses makes no key"
before=$(count_objects)
mkdir -p "$T/profiles"
printf '[profile]\ninherits = mtls-client\nec_curves = P-256\n' >"$T/profiles/p256.conf"
P11ENROLL_PROFILE_PATH="$T/profiles:$TOP_SRCDIR/profiles" expect_rc 6 p renew --key api \
	--type ec:P-384 --profile p256 -o "$T/p384.csr"
equal "objects unchanged" "$(count_objects)" "$before"
expect_rc 2 p renew --key api --pss -o "$T/pss.csr"
equal "objects unchanged (--pss on EC)" "$(count_objects)" "$before"

case_ "renew: bad input makes no key"
before=$(count_objects)
expect_rc 2 p renew --key api.2 --subject "no-slash" -o "$T/never.csr"
equal "objects unchanged" "$(count_objects)" "$before"

case_ "retire needs --yes without a terminal"
expect_rc 2 p retire --key api </dev/null
contains "$ERR" "--yes"
equal "nothing removed" "$(count_objects)" "$before"

case_ "retire removes the key pair and its certificate, keeps the CA"
expect_rc 0 p retire --key api --yes
count_objects >/dev/null
equal "private key gone" "$(obj ID 'Private Key' api | wc -l)" 0
equal "public key gone" "$(obj ID 'Public Key' api | wc -l)" 0
equal "certificate gone" "$(obj ID 'Certificate' api | wc -l)" 0
equal "CA certificate stays" "$(obj ID 'Certificate' 'Life CA' | wc -l)" 1
equal "the successor stays" "$(obj ID 'Certificate' api.2 | wc -l)" 1
expect_rc 4 p retire --key api --yes

case_ "the last key with a valid certificate needs --force"
expect_rc 0 p retire --key api.3 --yes
before=$(count_objects)
expect_rc 6 p retire --key api.2 --yes
contains "$ERR" "--force"
equal "nothing removed" "$(count_objects)" "$before"
expect_rc 0 p --json retire --key api.2 --yes --force
check "json counts the certificate" jq -e '.certificates_removed == 1' "$OUT"
count_objects >/dev/null
equal "api.2 gone" "$(obj ID 'Private Key' api.2 | wc -l)" 0
# only the CA certificate is left: nothing to monitor is "unknown"
expect_rc 3 p11 status </dev/null
contains "$OUT" "no client certificate"
finish
