#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# import.sh - import: a CA-signed certificate goes on bound to its key (the
# key's CKA_ID, as pkcs11-tool and p11tool see it), its chain once; PEM,
# DER, PKCS#7 and bundles; every refusal leaves the token as it was.
set -u
. "$(dirname "$0")/lib.sh"
setup

SO_PIN=31415926 USER_PIN=27182818
export SO_PIN USER_PIN
mk_token cli-import
TL=cli-import
mk_ca ca "/O=Test/CN=Test CA"
mk_ca ca2 "/CN=Bundle CA"
mk_ca ca3 "/CN=Other CA"

# en LABEL [TYPE]: enroll a key LABEL; request in $T/LABEL.csr, URI in $T/LABEL.uri
en() {
	p11 --pin env:USER_PIN enroll --label "$1" --type "${2:-ec:P-256}" --subject "/CN=$1.example" \
		-o "$T/$1.csr" >"$T/$1.uri" 2>"$T/en.err" || fail "enroll $1" "$(cat "$T/en.err")"
}
imp() {
	p11 --pin env:USER_PIN import "$@"
}
# p11tool_ids: "TYPE|LABEL|ID" for each object p11tool --list-all shows
p11tool_ids() {
	GNUTLS_PIN=$USER_PIN p11tool --provider "$SOFTHSM_MODULE" --login --list-all "pkcs11:token=$TL" \
		2>/dev/null | awk -F': ' '/^\tType:/ { t = $2; sub(/ \(.*/, "", t) }
			/^\tLabel:/ { l = $2 } /^\tID:/ { gsub(/:/, "", $2); print t "|" l "|" $2 }'
}
# n_certs LABEL: how many certificates labelled LABEL in the last count_objects
n_certs() {
	obj ID Certificate "$1" | wc -l
}
# uri_note NOTE: stdout is one line, the URI (in $uri); stderr says NOTE
uri_note() {
	uri=$(cat "$OUT")
	equal "stdout is one line" "$(wc -l <"$OUT")" 1
	contains "$ERR" "$1"
}

case_ "a CA-signed certificate with --chain"
en c1 rsa:2048
ca_sign ca "$T/c1.csr" "$T/c1.pem"
check "the test CA signed it" openssl verify -CAfile "$T/ca.pem" "$T/c1.pem"
n=$(count_objects)
pid=$(obj ID "Private Key" c1)
expect_rc 0 imp "$T/c1.pem" --chain "$T/ca.pem"
uri_note "1 CA certificate written"
case $uri in
"pkcs11:"*";token=$TL;id=$(pct "$pid");object=c1;type=cert") ok "cert URI with the key's id: $uri" ;;
*) fail "cert URI with the key's id $pid" "got '$uri'" ;;
esac
uri1=$uri
equal "leaf and CA written" "$(count_objects)" $((n + 2))
equal "pkcs11-tool: certificate c1 has the private key's ID" "$(obj ID Certificate c1)" "$pid"
equal "pkcs11-tool: the CA certificate on the token once" "$(n_certs "Test CA")" 1
p11tool_ids >"$T/p11tool.txt"
contains "$T/p11tool.txt" "X.509 Certificate|c1|$pid"
contains "$T/p11tool.txt" "Private key|c1|$pid"
GNUTLS_PIN=$USER_PIN p11tool --provider "$SOFTHSM_MODULE" --login --list-all \
	"pkcs11:token=$TL;object=Test%20CA;type=cert" >"$T/ca-flags.txt" 2>&1
contains "$T/ca-flags.txt" "CKA_CERTIFICATE_CATEGORY=CA"
p11t --read-object --type cert --label c1 -o "$T/c1.back" >/dev/null 2>&1
openssl x509 -in "$T/c1.pem" -outform DER -out "$T/c1.der"
check "the certificate on the token is the file's" cmp "$T/c1.back" "$T/c1.der"

case_ "import again: nothing new"
n=$(count_objects)
expect_rc 0 imp "$T/c1.pem" --chain "$T/ca.pem"
uri_note "the certificate is on the token already"
equal "the same URI" "$uri" "$uri1"
expect_rc 0 imp "$T/c1.pem" --label another
equal "--label: the URI names the certificate there" "$(cat "$OUT")" "$uri1"
expect_rc 0 p11 -q --pin env:USER_PIN import "$T/c1.pem"
equal "--quiet: stdout is the URI alone" "$(cat "$OUT")" "$uri1"
equal "no new objects" "$(count_objects)" "$n"
equal "the CA still once" "$(n_certs "Test CA")" 1

case_ "PEM, DER, PKCS#7 (PEM and DER)"
for f in pem der p7 p7der; do
	en "f-$f"
	ca_sign ca "$T/f-$f.csr" "$T/f-$f.pem"
	case $f in
	der) openssl x509 -in "$T/f-$f.pem" -outform DER -out "$T/f-$f.in" ;;
	p7) openssl crl2pkcs7 -nocrl -certfile "$T/f-$f.pem" -out "$T/f-$f.in" ;;
	p7der) openssl crl2pkcs7 -nocrl -certfile "$T/f-$f.pem" -outform DER -out "$T/f-$f.in" ;;
	*) cp "$T/f-$f.pem" "$T/f-$f.in" ;;
	esac
	n=$(count_objects)
	expect_rc 0 imp "$T/f-$f.in" --chain "$T/ca.pem"
	not_contains "$OUT" "CA certificate"
	equal "$f: one certificate written" "$(count_objects)" $((n + 1))
	equal "$f: certificate with the key's ID" "$(obj ID Certificate "f-$f")" \
		"$(obj ID "Private Key" "f-$f")"
done
equal "the CA still once" "$(n_certs "Test CA")" 1

case_ "a PEM bundle: another client's certificate, the leaf, the CA; --label"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/sw.key" \
	-subj /CN=software -out "$T/sw.csr" 2>/dev/null
ca_sign ca3 "$T/sw.csr" "$T/sw.pem"
en bundle
ca_sign ca2 "$T/bundle.csr" "$T/bundle.pem"
cat "$T/sw.pem" "$T/bundle.pem" "$T/ca2.pem" >"$T/bundle-all.pem"
n=$(count_objects)
expect_rc 0 imp "$T/bundle-all.pem" --label "bundle cert"
contains "$ERR" "skipped certificate 'software'"
equal "leaf and CA written, not the other client's" "$(count_objects)" $((n + 2))
not_contains "$T/objs.txt" "CN=software"
equal "leaf labelled 'bundle cert', the key's ID" "$(obj ID Certificate "bundle cert")" \
	"$(obj ID "Private Key" bundle)"
equal "the bundle's CA once" "$(n_certs "Bundle CA")" 1
p11 --pin env:USER_PIN --json list >"$T/list.json" 2>&1
equal "list: the bundle's CA is an authority, the leaf is not" \
	"$(jq -r '[.[] | select(.label == "Bundle CA" or .label == "bundle cert") | .authority] | sort | join(" ")' \
		"$T/list.json")" "false true"

# refused ARGS...: import ARGS refused with status $1; the token as it was
refused() {
	_w=$1
	shift
	snap
	expect_error "$_w" imp "$@"
	unchanged
}

case_ "refused: the key is not on the token"
refused 4 "$T/sw.pem" --chain "$T/ca3.pem"
contains "$ERR" "no private key"

case_ "refused: --key names another key"
en spare
ca_sign ca3 "$T/spare.csr" "$T/spare.pem"
refused 7 "$T/spare.pem" --key c1 --chain "$T/ca3.pem"
contains "$ERR" "another key"

case_ "refused: CA certificates only, garbage, truncated files, a bad chain"
refused 7 "$T/ca3.pem"
contains "$ERR" "only CA certificates"
head -c 700 /dev/urandom >"$T/garbage.bin"
refused 7 "$T/garbage.bin"
printf 'hello\nworld\n' >"$T/garbage.txt"
refused 7 "$T/garbage.txt"
head -c $(($(wc -c <"$T/spare.pem") / 2)) "$T/spare.pem" >"$T/half.pem"
refused 7 "$T/half.pem"
openssl x509 -in "$T/spare.pem" -outform DER -out "$T/spare.der"
head -c $(($(wc -c <"$T/spare.der") / 2)) "$T/spare.der" >"$T/half.der"
refused 7 "$T/half.der"
cat "$T/spare.der" "$T/spare.der" >"$T/twice.der"
refused 7 "$T/twice.der"
refused 7 "$T/spare.pem" --chain "$T/half.pem"
refused 7 "$T/spare.pem" --chain "$T/missing.pem"
refused 7 "$T/missing.pem"

case_ "refused: wrong PIN"
snap
# -q: the one line is the refusal, not the pass: warning
expect_error 3 p11 -q --pin pass:99999999 import "$T/spare.pem"
unchanged

case_ "refused: not valid yet, then --allow-expired"
en late
ca_sign ca "$T/late.csr" "$T/late.pem" "$(utc '+2 days')" "$(utc '+92 days')"
refused 7 "$T/late.pem"
contains "$ERR" "not valid yet"
n=$(count_objects)
expect_rc 0 imp "$T/late.pem" --allow-expired
equal "then imported" "$(count_objects)" $((n + 1))
equal "with the key's ID" "$(obj ID Certificate late)" "$(obj ID "Private Key" late)"

case_ "refused: expired"
en old
ca_sign ca "$T/old.csr" "$T/old.pem" "$(utc '-30 days')" "$(utc '-1 day')"
refused 7 "$T/old.pem"
contains "$ERR" "expired"
not_contains "$T/snap2.txt" "old.example"

case_ "expired, with --allow-expired: imported"
n=$(count_objects)
expect_rc 0 imp "$T/old.pem" --allow-expired
equal "then imported" "$(count_objects)" $((n + 1))
equal "with the key's ID" "$(obj ID Certificate old)" "$(obj ID "Private Key" old)"

case_ "refused: a CA certificate for a key on the token, given as the leaf"
en cakey
ca_sign ca "$T/cakey.csr" "$T/cakey.pem" "" "" v3_ca
check "it is a CA certificate" sh -c "openssl x509 -in '$T/cakey.pem' -noout -text | grep -q 'CA:TRUE'"
refused 7 "$T/cakey.pem"
contains "$ERR" "only CA certificates"
refused 7 "$T/cakey.pem" --key cakey

case_ "--key, the right one"
n=$(count_objects)
expect_rc 0 imp "$T/spare.pem" --key spare --chain "$T/ca3.pem"
equal "leaf and CA written" "$(count_objects)" $((n + 2))
equal "with the key's ID" "$(obj ID Certificate spare)" "$(obj ID "Private Key" spare)"

finish
