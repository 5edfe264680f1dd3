#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# enroll.sh - enroll: a new key and its request, the key reused on the next
# run (never duplicated), refused with another type, another id or a
# certificate; bad request input leaves the token as it was.
set -u
. "$(dirname "$0")/lib.sh"
setup

SO_PIN=19283746 USER_PIN=56473829
export SO_PIN USER_PIN
mk_token cli-enroll
TL=cli-enroll
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/sw.key" 2>/dev/null

# en ARGS...: p11enroll enroll, logged in
en() {
	p11 --pin env:USER_PIN enroll "$@"
}
# jqo FILTER: jq -r on stdout
jqo() {
	jq -r "$1" "$OUT" 2>&1
}

case_ "first run: a new key"
equal "empty token" "$(count_objects)" 0
expect_rc 0 en --label web --subject /O=Acme/CN=web.example -o "$T/web1.csr"
equal "one line on stdout" "$(wc -l <"$OUT")" 1
uri=$(cat "$OUT")
case $uri in
"pkcs11:"*";token=$TL;id="*";object=web;type=private") ok "URI form: $uri" ;;
*) fail "URI form" "got '$uri'" ;;
esac
not_contains "$ERR" "reusing"
n=$(count_objects)
equal "a key pair on the token" "$n" 2
pid=$(obj ID "Private Key" web)
check "private key labelled web, a 20-byte ID" is_sha1 "$pid"
equal "public key labelled web, the same ID" "$(obj ID "Public Key" web)" "$pid"
equal "private key: pkcs11-tool's access flags" "$(obj Access "Private Key" web)" \
	"sensitive, always sensitive, never extractable, local"
contains "$T/objs.txt" "RSA 2048 bits"
case $uri in
*";id=$(pct "$pid");"*) ok "URI id is the pkcs11-tool ID" ;;
*) fail "URI id" "'$uri' has not id $pid" ;;
esac
check "the request verifies" req_verifies "$T/web1.csr"
equal "subject" "$(openssl req -in "$T/web1.csr" -noout -subject -nameopt RFC2253 2>&1)" \
	"subject=CN=web.example,O=Acme"
pubkey_der "$pid" "$T/tok.der"
equal "request's public key = the token's" "$(req_pubkey "$T/web1.csr")" \
	"$(openssl pkey -pubin -inform DER -in "$T/tok.der" 2>&1)"

case_ "second run: the key reused"
expect_rc 0 en --label web --subject /O=Acme/CN=web.example -o "$T/web2.csr"
contains "$ERR" "reusing key 'web'"
equal "the same URI" "$(cat "$OUT")" "$uri"
equal "no new objects" "$(count_objects)" "$n"
equal "one private key labelled web" "$(obj ID "Private Key" web)" "$pid"
check "the new request verifies" req_verifies "$T/web2.csr"
equal "the same public key" "$(req_pubkey "$T/web2.csr")" "$(req_pubkey "$T/web1.csr")"
expect_rc 0 en --label web --subject /CN=other.example --type rsa:2048 --id "$pid" -o "$T/web3.csr"
contains "$ERR" "reusing"
equal "the new subject" "$(openssl req -in "$T/web3.csr" -noout -subject -nameopt RFC2253 2>&1)" \
	"subject=CN=other.example"
equal "the same public key" "$(req_pubkey "$T/web3.csr")" "$(req_pubkey "$T/web1.csr")"

case_ "to stdout"
expect_rc 0 en --label web --subject /CN=web.example
check "stdout is the request" req_verifies "$OUT"
not_contains "$OUT" "pkcs11:"
equal "the same public key" "$(req_pubkey "$OUT")" "$(req_pubkey "$T/web1.csr")"

case_ "the existing key does not fit"
expect_error 2 en --label web --type ec:P-256 --subject /CN=web.example -o "$T/err.csr"
contains "$ERR" "rsa:2048"
contains "$ERR" "ec:P-256"
expect_error 2 en --label web --type rsa:3072 --subject /CN=web.example -o "$T/err.csr"
expect_error 2 en --label web --id 0102 --subject /CN=web.example -o "$T/err.csr"
contains "$ERR" "another id"
no_file "$T/err.csr"
equal "no new objects" "$(count_objects)" "$n"

case_ "bad request input: no key made"
sed '/^default_bits/d; s/^IP.1 = .*/IP.1 = 300.1.1.1/' "$TOP_SRCDIR/tests/data/mtls-client.cnf" \
	>"$T/badip.cnf"
expect_error 7 en --label fresh --config "$T/badip.cnf" -o "$T/err.csr"
contains "$ERR" "$T/badip.cnf"
expect_error 7 en --label fresh --config "$T/missing.cnf" -o "$T/err.csr"
expect_error 2 en --label fresh --subject CN=no-slash -o "$T/err.csr"
expect_error 2 en --label fresh --subject /CN=x --digest md5 -o "$T/err.csr"
expect_error 2 en --label fresh --type ec:P-521x --subject /CN=x -o "$T/err.csr"
no_file "$T/err.csr"
equal "no new objects" "$(count_objects)" "$n"
not_contains "$T/objs.txt" "fresh"

case_ "--json"
expect_rc 0 p11 --pin env:USER_PIN --json enroll --label api --type ec:P-256 --subject /CN=api \
	-o "$T/api1.csr"
equal "JSON: new key" "$(jqo '[.label,.key_type,.curve,.never_extractable,.reused,.csr]|map(tostring)|join(" ")')" \
	"api ec P-256 true false $T/api1.csr"
api_uri=$(jqo .uri)
api_id=$(jqo .id)
equal "JSON id = pkcs11-tool's" "$(count_objects >/dev/null; obj ID "Private Key" api)" "$api_id"
check "the request verifies" req_verifies "$T/api1.csr"
expect_rc 0 p11 --pin env:USER_PIN --json enroll --label api --type ec:P-256 --subject /CN=api \
	-o "$T/api2.csr"
equal "JSON: reused" "$(jqo '[.label,.reused,.csr,.uri == "'"$api_uri"'"]|map(tostring)|join(" ")')" \
	"api true $T/api2.csr true"
equal "the same public key" "$(req_pubkey "$T/api2.csr")" "$(req_pubkey "$T/api1.csr")"
equal "object count" "$(count_objects)" $((n + 2))
n=$((n + 2))

case_ "a certificate for the key: no reuse"
openssl x509 -req -in "$T/web1.csr" -signkey "$T/sw.key" -days 1 -out "$T/cert.pem" 2>/dev/null
openssl x509 -in "$T/cert.pem" -outform DER -out "$T/cert.der"
p11t --write-object "$T/cert.der" --type cert --id "$pid" --label web >"$T/w.out" 2>&1 ||
	fail "pkcs11-tool --write-object" "$(cat "$T/w.out")"
equal "certificate with the key's ID" "$(count_objects >/dev/null; obj ID Certificate web)" "$pid"
n=$((n + 1))
expect_error 2 en --label web --subject /CN=web.example -o "$T/web4.csr"
contains "$ERR" "renew"
contains "$ERR" "'web'"
no_file "$T/web4.csr"
expect_error 2 p11 --pin env:USER_PIN --json enroll --label web --subject /CN=web.example \
	-o "$T/web4.csr"
equal "no new objects" "$(count_objects)" "$n"
equal "still one private key labelled web" "$(obj ID "Private Key" web)" "$pid"
expect_rc 0 en --label api --type ec:P-256 --subject /CN=api -o "$T/api3.csr"
contains "$ERR" "reusing key 'api'"

finish
