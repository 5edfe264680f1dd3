#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# csr.sh - csr: PEM, DER, stdout; every key type, digest and PSS; the
# tests/data configs against `openssl req` with a software key; the
# command-line subject, SAN and extensions; the errors.
set -u
. "$(dirname "$0")/lib.sh"
setup

SO_PIN=86421357 USER_PIN=35791246
export SO_PIN USER_PIN
mk_token cli-csr
TL=cli-csr
DATA=$TOP_SRCDIR/tests/data

for k in r2048:rsa:2048 e256:ec:P-256 e384:ec:P-384; do
	p11 --pin env:USER_PIN --json keygen --label "${k%%:*}" --type "${k#*:}" >"$T/${k%%:*}.json" ||
		echo "keygen ${k#*:} failed"
done
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/sw.key" 2>/dev/null

# csr ARGS...: p11enroll csr, logged in
csr() {
	p11 --pin env:USER_PIN csr "$@"
}
# text FILE: `openssl req -text` of a PEM request into $T/text
text() {
	openssl req -in "$1" -noout -text >"$T/text" 2>&1
}
# req_info DERFILE: the CertificationRequestInfo's bytes (what is signed), in hex
req_info() {
	# shellcheck disable=SC2046 # meant to split into words
	set -- "$1" $(openssl asn1parse -inform DER -in "$1" 2>/dev/null |
		awk '/d=1/ { print; exit }' |
		sed 's/^ *\([0-9]*\):d=1 *hl= *\([0-9]*\) *l= *\([0-9]*\) .*/\1 \2 \3/')
	[ $# = 4 ] || return 1
	od -An -v -tx1 -j "$2" -N $(($3 + $4)) "$1" | tr -d ' \n'
}
# subject FILE: the subject, RFC 2253 with the string types
subject() {
	openssl req -in "$1" -noout -subject -nameopt RFC2253,show_type 2>&1
}
# subject_hex FILE: the DER of the subject (the first SEQUENCE in the
# CertificationRequestInfo), in hex
subject_hex() {
	_f=$1
	openssl req -in "$_f" -outform DER -out "$T/req.der" 2>/dev/null || { echo "unreadable $_f"; return; }
	# shellcheck disable=SC2046 # meant to split into words
	set -- $(openssl asn1parse -inform DER -in "$T/req.der" |
		awk '/d=2/ && /cons: SEQUENCE/ { print; exit }' |
		sed 's/^ *\([0-9]*\):d=2 *hl= *\([0-9]*\) *l= *\([0-9]*\) .*/\1 \2 \3/')
	[ $# = 3 ] || { echo "no subject in $_f"; return; }
	tail -c +$(($1 + 1)) "$T/req.der" | head -c $(($2 + $3)) | od -An -tx1 | tr -d ' \n'
}
# extensions FILE: the Requested Extensions block of `openssl req -text`
extensions() {
	openssl req -in "$1" -noout -text | sed -n '/Requested Extensions/,/Signature Algorithm/p'
}
# token_pubkey LABEL: the token's public key for LABEL, PEM
token_pubkey() {
	pubkey_der "$(jq -r .id "$T/$1.json")" "$T/tok.der"
	openssl pkey -pubin -inform DER -in "$T/tok.der" 2>&1
}

case_ "PEM to a file"
expect_rc 0 csr --key r2048 --subject /CN=pem.example -o "$T/pem.csr"
stdout_empty
check "openssl req -verify" req_verifies "$T/pem.csr"
equal "PEM" "$(head -n 1 "$T/pem.csr")" "-----BEGIN CERTIFICATE REQUEST-----"
equal "subject" "$(subject "$T/pem.csr")" "subject=CN=UTF8STRING:pem.example"

case_ "--der"
expect_rc 0 csr --key r2048 --subject /CN=der.example --der -o "$T/der.csr"
check "openssl req -inform DER -verify" req_verifies "$T/der.csr" -inform DER
check_not "not PEM" grep -q -e BEGIN "$T/der.csr"

case_ "stdout"
expect_rc 0 csr --key e256 --subject /CN=stdout.example
check "the request on stdout verifies" req_verifies "$OUT"
equal "subject" "$(subject "$OUT")" "subject=CN=UTF8STRING:stdout.example"

for k in r2048:sha256WithRSAEncryption e256:ecdsa-with-SHA256 e384:ecdsa-with-SHA256; do
	label=${k%%:*}
	case_ "key $label"
	expect_rc 0 csr --key "$label" --subject "/O=Acme/CN=$label" -o "$T/$label.csr"
	check "verifies" req_verifies "$T/$label.csr"
	text "$T/$label.csr"
	contains "$T/text" "Signature Algorithm: ${k#*:}"
	equal "public key = the token's" "$(req_pubkey "$T/$label.csr")" "$(token_pubkey "$label")"
done
contains "$T/text" "NIST CURVE: P-384"

case_ "--digest and --pss"
for d in r2048:sha384:sha384WithRSAEncryption r2048:sha512:sha512WithRSAEncryption \
	e256:sha512:ecdsa-with-SHA512 e384:sha384:ecdsa-with-SHA384; do
	# shellcheck disable=SC2046 # meant to split into words
	set -- $(echo "$d" | tr : ' ')
	expect_rc 0 csr --key "$1" --subject /CN=digest --digest "$2" -o "$T/d.csr"
	check "verifies" req_verifies "$T/d.csr"
	text "$T/d.csr"
	contains "$T/text" "Signature Algorithm: $3"
done
for d in sha256:0x20 sha512:0x40; do
	expect_rc 0 csr --key r2048 --subject /CN=pss --pss --digest "${d%:*}" -o "$T/pss.csr"
	check "verifies" req_verifies "$T/pss.csr"
	text "$T/pss.csr"
	contains "$T/text" "Signature Algorithm: rsassaPss"
	contains "$T/text" "Hash Algorithm: ${d%:*}"
	contains "$T/text" "Mask Algorithm: mgf1 with ${d%:*}"
	contains "$T/text" "Salt Length: ${d#*:}"
done

case_ "--backend engine"
ENG=$(grep -s '^#define P11E_ENGINE_PATH' "$TOP_BUILDDIR/config.h" | cut -d'"' -f2)
if grep -q '^#define P11E_HAVE_ENGINE 1' "$TOP_BUILDDIR/config.h" && [ -r "$ENG" ]; then
	for k in r2048:sha384WithRSAEncryption e256:ecdsa-with-SHA384; do
		expect_rc 0 csr --key "${k%:*}" --subject /CN=engine --digest sha384 --backend engine \
			-o "$T/eng.csr"
		check "verifies" req_verifies "$T/eng.csr"
		text "$T/eng.csr"
		contains "$T/text" "Signature Algorithm: ${k#*:}"
		equal "public key = the token's" "$(req_pubkey "$T/eng.csr")" "$(token_pubkey "${k%:*}")"
	done
	# the same inputs give the same request: PKCS#1 v1.5 signatures are
	# deterministic, so for RSA it is the same bytes; for ECDSA, the same
	# CertificationRequestInfo (all but the signature)
	for k in r2048 e256; do
		for b in provider engine; do
			expect_rc 0 csr --key "$k" --config "$DATA/open-banking.cnf" --backend "$b" --der \
				-o "$T/same-$b.der"
			req_info "$T/same-$b.der" >"$T/same-$b.info"
		done
		check "$k: provider and engine: the same request info" cmp -s "$T/same-provider.info" \
			"$T/same-engine.info"
		check "$k: the request info is there" test -s "$T/same-engine.info"
		[ "$k" = r2048 ] && check "r2048: provider and engine: the same request, byte for byte" \
			cmp -s "$T/same-provider.der" "$T/same-engine.der"
	done
	expect_error 2 csr --key r2048 --subject /CN=engine --pss --backend engine -o "$T/err.csr"
	contains "$ERR" "--pss"
	no_file "$T/err.csr"
else
	left_out "no ENGINE support or no libp11 engine: --backend engine"
fi

for c in mtls-client multi-rdn open-banking; do
	case_ "--config $c.cnf = openssl req -new -config"
	f=$DATA/$c.cnf
	expect_rc 0 csr --key r2048 --config "$f" -o "$T/$c.p11.csr"
	openssl req -new -key "$T/sw.key" -config "$f" -out "$T/$c.sw.csr" 2>"$T/sw.err" ||
		fail "openssl req -config $c.cnf" "$(cat "$T/sw.err")"
	check "verifies" req_verifies "$T/$c.p11.csr"
	equal "subject (RFC 2253, types)" "$(subject "$T/$c.p11.csr")" "$(subject "$T/$c.sw.csr")"
	equal "subject DER" "$(subject_hex "$T/$c.p11.csr")" "$(subject_hex "$T/$c.sw.csr")"
	equal "requested extensions" "$(extensions "$T/$c.p11.csr")" "$(extensions "$T/$c.sw.csr")"
	if grep -q '^default_bits' "$f"; then
		contains "$ERR" "note: $f:$(grep -n -m 1 "^default_bits" "$f" | cut -d: -f1): [req] default_bits ignored"
	else
		not_contains "$ERR" "default_bits"
	fi
done

case_ "--subject with a multi-valued RDN"
s="/C=US/O=Acme/CN=a+serialNumber=1"
expect_rc 0 csr --key e256 --subject "$s" -o "$T/mv.csr"
openssl req -new -key "$T/sw.key" -subj "$s" -out "$T/mv.sw.csr" 2>/dev/null
equal "subject" "$(openssl req -in "$T/mv.csr" -noout -subject -nameopt RFC2253)" \
	"subject=serialNumber=1+CN=a,O=Acme,C=US"
equal "subject DER = openssl req -subj" "$(subject_hex "$T/mv.csr")" "$(subject_hex "$T/mv.sw.csr")"

case_ "--san twice, over the config's"
expect_rc 0 csr --key r2048 --config "$DATA/mtls-client.cnf" --san DNS:a.example,IP:192.0.2.1 \
	--san DNS:b.example,IP:192.0.2.2 -o "$T/san.csr"
text "$T/san.csr"
contains "$T/text" "DNS:a.example, IP Address:192.0.2.1, DNS:b.example, IP Address:192.0.2.2"
not_contains "$T/text" "DNS:api.payments.example"
equal "one subjectAltName" "$(grep -c 'Subject Alternative Name' "$T/text")" 1

case_ "--ext over the config's"
sed 's/clientAuth/serverAuth/' "$DATA/mtls-client.cnf" >"$T/server.cnf"
expect_rc 0 csr --key r2048 --config "$T/server.cnf" -o "$T/srv.csr"
text "$T/srv.csr"
contains "$T/text" "TLS Web Server Authentication"
expect_rc 0 csr --key r2048 --config "$T/server.cnf" --ext extendedKeyUsage=clientAuth -o "$T/ext.csr"
text "$T/ext.csr"
contains "$T/text" "TLS Web Client Authentication"
not_contains "$T/text" "TLS Web Server Authentication"
equal "one extendedKeyUsage" "$(grep -c 'Extended Key Usage' "$T/text")" 1
contains "$T/text" "IP Address:192.0.2.10"

case_ "config errors"
sed '/^default_bits/d' "$DATA/mtls-client.cnf" >"$T/base.cnf"
expect_rc 0 csr --key r2048 --config "$T/base.cnf" -o "$T/base.csr"
check "the base config: nothing on stderr" test ! -s "$ERR"
# bad NAME SED: a copy of base.cnf, edited
bad() {
	sed "$2" "$T/base.cnf" >"$T/$1.cnf"
}
bad nosuch 's/^distinguished_name = dn/distinguished_name = nosuch/'
bad badip 's/^IP.1 = .*/IP.1 = 300.1.1.1/'
bad emptycn 's/^CN = .*/CN =/'
bad field 's/^\[req\]/[req]\nfrobnicate = 1/'
bad syntax 's/^\[dn\]/[broken\n[dn]/'
bad badext 's/^extendedKeyUsage = .*/extendedKeyUsage = frobAuth/'
bad noext 's/^req_extensions = ext/req_extensions = nosuch/'
bad badattr 's/^OU = /frobnicateName = /'
# at NAME PATTERN: "NAME.cnf:LINE:", the line of the first match of PATTERN
at() {
	echo "$1.cnf:$(grep -n -m 1 "$2" "$T/$1.cnf" | cut -d: -f1):"
}
# each error names the file and the line of the mistake, and what it is
for e in "nosuch|$(at nosuch '^distinguished_name')|[nosuch]" \
	"badip|$(at badip '^IP.1')|300.1.1.1" \
	"emptycn|$(at emptycn '^CN =')|CN is empty" \
	"field|$(at field '^frobnicate')|frobnicate" \
	"syntax|$(at syntax '^\[broken')|" \
	"badext|$(at badext '^extendedKeyUsage')|extendedKeyUsage" \
	"noext|$(at noext '^req_extensions')|[nosuch]" \
	"badattr|$(at badattr '^frobnicateName')|frobnicateName"; do
	name=${e%%|*} rest=${e#*|}
	expect_error 7 csr --key r2048 --config "$T/$name.cnf" -o "$T/err.csr"
	contains "$ERR" "$T/${rest%%|*}"
	contains "$ERR" "${rest#*|}"
	no_file "$T/err.csr"
done
expect_error 7 csr --key r2048 --config "$T/missing.cnf" -o "$T/err.csr"
contains "$ERR" "$T/missing.cnf"
no_file "$T/err.csr"

case_ "usage errors"
expect_error 2 csr --key r2048 --subject CN=x -o "$T/err.csr"
contains "$ERR" "'CN=x'"
expect_error 2 csr --key r2048 --subject /CN=x --digest md5 -o "$T/err.csr"
contains "$ERR" "md5"
expect_error 2 csr --key e256 --subject /CN=x --pss -o "$T/err.csr"
contains "$ERR" "--pss"
expect_error 2 csr --key r2048 --subject /CN=x --backend nosuch -o "$T/err.csr"
contains "$ERR" "nosuch"
expect_error 4 csr --key nosuch --subject /CN=x -o "$T/err.csr"
contains "$ERR" "nosuch"
no_file "$T/err.csr"

case_ "output errors"
expect_error 7 csr --key r2048 --subject /CN=x -o "$T/nodir/x.csr"
contains "$ERR" "$T/nodir/x.csr"
no_file "$T/nodir"
mkdir "$T/adir"
expect_error 7 csr --key r2048 --subject /CN=x -o "$T/adir"
contains "$ERR" "$T/adir"
equal "no stray temporary files" "$(find "$T" -name '*.tmp-*')" ""

finish
