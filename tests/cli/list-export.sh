#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# list-export.sh - list: the JSON schema, keys paired with certificates by
# id, a lone key and an orphaned certificate; export: the very certificate
# imported, DER or PEM, with its chain, never a PKCS#12.
set -u
. "$(dirname "$0")/lib.sh"
setup

SO_PIN=11235813 USER_PIN=21345589
export SO_PIN USER_PIN
mk_token cli-list
TL=cli-list
mk_ca ca "/O=Test/CN=List CA"

# key LABEL TYPE [sign]: enroll a key; with "sign", its certificate imported
key() {
	p11 --pin env:USER_PIN enroll --label "$1" --type "$2" --subject "/O=Acme/CN=$1.example" \
		-o "$T/$1.csr" >"$T/$1.uri" 2>"$T/en.err" || fail "enroll $1" "$(cat "$T/en.err")"
	[ "${3:-}" = sign ] || return 0
	ca_sign ca "$T/$1.csr" "$T/$1.pem"
	openssl x509 -in "$T/$1.pem" -outform DER -out "$T/$1.der"
	p11 --pin env:USER_PIN -q import "$T/$1.pem" --chain "$T/ca.pem" >"$T/$1.certuri" \
		2>"$T/imp.err" || fail "import $1" "$(cat "$T/imp.err")"
}
key web rsa:2048 sign
key api ec:P-256 sign
key lonely ec:P-256
key orphan ec:P-256 sign
equal "4 key pairs and 4 certificates" "$(count_objects)" 12
web_id=$(obj ID "Private Key" web)
orphan_id=$(obj ID "Private Key" orphan)

# ls_json: list --json into $T/list.json; jl FILTER: jq -r on it
ls_json() {
	expect_rc 0 p11 --pin env:USER_PIN --json list
	cp "$OUT" "$T/list.json"
}
jl() {
	jq -r "$1" "$T/list.json" 2>&1
}
# date_iso WHEN: openssl's date (as in -enddate) as list's ISO 8601 UTC
date_iso() {
	date -u -d "$1" +%Y-%m-%dT%H:%M:%SZ
}

case_ "list --json: every object"
ls_json
equal "12 objects" "$(jl length)" 12
equal "classes" "$(jl '[.[].class] | group_by(.) | map("\(.[0])=\(length)") | join(" ")')" \
	"certificate=4 private-key=4 public-key=4"
equal "class, label, id (hex), uri for all" "$(jl 'all(.[]; (.class | type) == "string" and
	(.label | length) > 0 and (.id | test("^[0-9a-f]{40}$")) and (.uri | startswith("pkcs11:")))')" true
# shellcheck disable=SC2016 # jq/sh code, expanded by it, not here
equal "uri type by class" "$(jl '[.[] | {"private-key": ";type=private", "public-key": ";type=public",
	certificate: ";type=cert"}[.class] as $t | select(.uri | endswith($t) | not)] | length')" 0

case_ "list --json: keys"
pk='.[] | select(.class == "private-key" and .label == "web")'
equal "rsa key fields" "$(jl "[$pk | .id, .key_type, .bits, .sensitive, .extractable, .always_sensitive,
	.never_extractable, .local, .has_certificate] | map(tostring) | join(\" \")")" \
	"$web_id rsa 2048 true false true true true true"
equal "ec key fields" "$(jl '[.[] | select(.class == "private-key" and .label == "api") | .key_type,
	.curve, .bits, .has_certificate] | map(tostring) | join(" ")')" "ec P-256 256 true"
equal "a key without certificate: has_certificate false" \
	"$(jl '.[] | select(.class == "private-key" and .label == "lonely") | .has_certificate')" false
equal "public key: same id, has_certificate" "$(jl '[.[] | select(.class == "public-key" and
	(.label == "web" or .label == "lonely")) | "\(.label)=\(.id == "'"$web_id"'")/\(.has_certificate)"] |
	sort | join(" ")')" "lonely=false/false web=true/true"

case_ "list --json: certificates"
c='.[] | select(.class == "certificate" and .label == "web")'
equal "subject, issuer" "$(jl "[$c | .subject, .issuer] | join(\"|\")")" \
	"CN=web.example,O=Acme|CN=List CA,O=Test"
equal "serial (hex)" "$(jl "$c | .serial")" \
	"$(openssl x509 -in "$T/web.pem" -noout -serial | cut -d= -f2)"
equal "not_before" "$(jl "$c | .not_before")" \
	"$(date_iso "$(openssl x509 -in "$T/web.pem" -noout -startdate | cut -d= -f2)")"
equal "not_after" "$(jl "$c | .not_after")" \
	"$(date_iso "$(openssl x509 -in "$T/web.pem" -noout -enddate | cut -d= -f2)")"
# whole days, rounded down: 89 a moment after signing, 90 if the clocks of
# openssl and the tool disagree by a second
case $(jl "$c | .days_left") in
89 | 90) ok "days_left of a 90-day certificate: $(jl "$c | .days_left")" ;;
*) fail "days_left of a 90-day certificate" "got '$(jl "$c | .days_left")', want 89 or 90" ;;
esac
equal "key_id, authority" "$(jl "[$c | .key_id, .authority] | map(tostring) | join(\" \")")" \
	"$web_id false"
equal "the CA: authority, no key" \
	"$(jl '[.[] | select(.label == "List CA") | .class, .authority, .key_id] | map(tostring) | join(" ")')" \
	"certificate true null"
expect_rc 0 p11 --pin env:USER_PIN list
contains "$OUT" "private key 'lonely' (no certificate yet)"
contains "$OUT" "certificate 'List CA' (CA)"
not_contains "$OUT" "(no key on the token)"

case_ "the private key removed: the certificate has no key"
p11t --delete-object --type privkey --id "$orphan_id" >"$T/del.out" 2>&1
equal "the private key is gone" "$(count_objects; obj ID "Private Key" orphan)" 11
ls_json
equal "orphan: key_id null" \
	"$(jl '.[] | select(.class == "certificate" and .label == "orphan") | .key_id')" null
equal "web: key_id still set" "$(jl "$c | .key_id")" "$web_id"
expect_rc 0 p11 --pin env:USER_PIN list
contains "$OUT" "certificate 'orphan' (no key on the token)"

# ex ARGS...: export, no PIN, nothing on stdin
ex() {
	p11 export "$@" </dev/null
}

case_ "export: the certificate imported"
expect_rc 0 ex --cert web
check "PEM = the CA-signed file" cmp "$OUT" "$T/web.pem"
expect_rc 0 ex --cert web --der
check "DER = the CA-signed certificate" cmp "$OUT" "$T/web.der"
expect_rc 0 ex --cert "$(cat "$T/api.certuri")"
check "by URI" cmp "$OUT" "$T/api.pem"
expect_rc 0 ex --cert orphan -o "$T/orphan.out" --der
stdout_empty
check "-o FILE" cmp "$T/orphan.out" "$T/orphan.der"
expect_rc 0 ex --cert web --out "$T/web.out"
check "--out FILE" cmp "$T/web.out" "$T/web.pem"

case_ "export --chain"
expect_rc 0 ex --cert web --chain -o "$T/chain.pem"
equal "two certificates" "$(certs_in "$T/chain.pem")" 2
awk '/BEGIN CERT/ { n++ } { print > (dir "/part" n ".pem") }' dir="$T" "$T/chain.pem"
check "first the leaf" cmp "$T/part1.pem" "$T/web.pem"
check "then the CA" cmp "$T/part2.pem" "$T/ca.pem"
check "openssl verify -CAfile the chain" openssl verify -CAfile "$T/chain.pem" "$T/web.pem"
expect_rc 0 ex --cert "List CA" --chain
check "a root alone" cmp "$OUT" "$T/ca.pem"

case_ "export: refused"
expect_error 2 ex --cert web --pkcs12
contains "$ERR" "never leaves"
# the message names the key itself, as enroll printed its URI
contains "$ERR" "--key '$(cat "$T/web.uri")'"
contains "$ERR" "-keyform engine -key '$(cat "$T/web.uri")'"
expect_error 2 ex --cert web --pfx -o "$T/web.p12"
no_file "$T/web.p12"
expect_error 2 ex --cert nosuch --pkcs12
contains "$ERR" "pkcs11:...;type=private"
expect_error 2 p11 --token no-such-token export --cert web --pkcs12
contains "$ERR" "never leaves"
expect_error 2 ex --cert web --chain --der
expect_error 2 ex --chain
expect_error 4 ex --cert nosuch
contains "$ERR" "no certificate 'nosuch'"
expect_error 4 ex --cert lonely

case_ "export: a label of several certificates, the one that runs longest"
ca_sign ca "$T/api.csr" "$T/short.pem" "$(utc '-1 hour')" "$(utc '+30 days')"
openssl x509 -in "$T/short.pem" -outform DER -out "$T/short.der"
for order in "api short" "short api"; do
	# shellcheck disable=SC2086 # meant to split into words
	set -- $order
	p11t --write-object "$T/$1.der" --type cert --label "twin $order" --id 01 >/dev/null 2>&1
	p11t --write-object "$T/$2.der" --type cert --label "twin $order" --id 01 >/dev/null 2>&1
	expect_rc 0 ex --cert "twin $order"
	check "written $order: the 90-day one" cmp "$OUT" "$T/api.pem"
done

case_ "list: one search; objects of other classes left out, keys of other types listed"
ls_json
before=$(jl length)
printf 'a note, not a key\n' >"$T/note.txt"
p11t --write-object "$T/note.txt" --type data --label note >/dev/null 2>&1 ||
	fail "pkcs11-tool --write-object --type data" "could not write a data object"
p11t --keygen --key-type AES:16 --label aes-key >/dev/null 2>&1 ||
	fail "pkcs11-tool --keygen AES:16" "could not make a secret key"
p11t --keypair --key-type EC:edwards25519 --label ed-key --id 0e0e >/dev/null 2>&1 ||
	fail "pkcs11-tool --keypair EC:edwards25519" "could not make an Ed25519 key pair"
ls_json
equal "the Ed25519 pair listed, the data object and the secret key not" "$(jl length)" \
	"$((before + 2))"
equal "no data object, no secret key" "$(jl '[.[] | select(.label == "note" or .label == "aes-key")] | length')" 0
equal "both halves of the Ed25519 pair, by label and id" \
	"$(jl '[.[] | select(.label == "ed-key") | "\(.class) \(.id)"] | sort | join(",")')" \
	"private-key 0e0e,public-key 0e0e"
equal "the Ed25519 pair's type: other" \
	"$(jl '[.[] | select(.label == "ed-key") | .key_type] | join(",")')" "other,other"
equal "the rest as before: web's key" "$(jl "[$pk | .key_type, .bits] | join(\" \")")" "rsa 2048"
if ! p11t --keypair --key-type EC:secp384r1 --label half --id 0f0f >/dev/null 2>&1 ||
	! p11t --delete-object --type pubkey --id 0f0f >/dev/null 2>&1; then
	fail "pkcs11-tool --keypair EC:secp384r1" "could not make a lone EC private key"
fi
ls_json
equal "an EC private key without its public half: the curve from its own CKA_EC_PARAMS" \
	"$(jl '[.[] | select(.label == "half") | "\(.class) \(.key_type) \(.curve)"] | join(",")')" \
	"private-key ec P-384"
expect_rc 0 p11 -v --pin env:USER_PIN list
equal "one C_FindObjectsInit for the whole listing" \
	"$(grep -c 'C_FindObjectsInit' "$ERR")" 1

finish
