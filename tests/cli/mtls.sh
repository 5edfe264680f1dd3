#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# mtls.sh - a real mutual-TLS handshake with the key on the token: enroll,
# a CA signs, import, export; curl signs with the key through libp11's
# engine (the URI enroll printed) against openssl s_server on 127.0.0.1,
# which asks for and verifies the client certificate.  A certificate of
# another key, or none, fails the handshake.
set -u
. "$(dirname "$0")/lib.sh"
setup

ENGINE=${PKCS11_ENGINE:-$(pkg-config --variable=enginesdir libcrypto 2>/dev/null)/pkcs11.so}
need_commands curl openssl timeout
[ -r "$ENGINE" ] || { echo "SKIP: no libp11 engine at '$ENGINE'"; SKIPPED=1; finish; }

SO_PIN=36912151 USER_PIN=48121620
export SO_PIN USER_PIN
mk_token cli-mtls
TL=cli-mtls
mk_ca clientca "/O=Test/CN=Client CA"
mk_ca srvca "/O=Test/CN=Server CA"
SRV=
trap '[ -n "$SRV" ] && kill "$SRV" 2>/dev/null; cleanup' EXIT

# the engine for curl, from a config of our own
cat >"$T/openssl.cnf" <<EOF
openssl_conf = init
[init]
engines = engines
[engines]
pkcs11 = pkcs11_section
[pkcs11_section]
engine_id = pkcs11
dynamic_path = $ENGINE
MODULE_PATH = $SOFTHSM_MODULE
init = 0
EOF

# client LABEL TYPE: a token key, its certificate from the client CA, imported,
# then exported again by p11enroll into $T/LABEL.crt; key URI in $T/LABEL.uri
client() {
	p11 --pin env:USER_PIN enroll --label "$1" --type "$2" --subject "/O=Test/CN=$1.example" \
		-o "$T/$1.csr" >"$T/$1.uri" 2>"$T/en.err" || fail "enroll $1" "$(cat "$T/en.err")"
	ca_sign clientca "$T/$1.csr" "$T/$1.pem"
	p11 --pin env:USER_PIN -q import "$T/$1.pem" --chain "$T/clientca.pem" >/dev/null \
		2>"$T/imp.err" || fail "import $1" "$(cat "$T/imp.err")"
	p11 export --cert "$1" -o "$T/$1.crt" 2>"$T/exp.err" || fail "export $1" "$(cat "$T/exp.err")"
}

case_ "the client keys: on the token, certificates imported and exported"
client alice rsa:2048
client bob ec:P-256
for who in alice bob; do
	case $(cat "$T/$who.uri") in
	"pkcs11:"*";token=$TL;"*";object=$who;type=private") ok "$who: a key URI" ;;
	*) fail "$who: a key URI" "got '$(cat "$T/$who.uri")'" ;;
	esac
	check "$who: the exported certificate is the CA's" cmp "$T/$who.crt" "$T/$who.pem"
done
equal "2 key pairs, 2 certificates, the CA" "$(count_objects)" 7

case_ "the server: software key, its own CA, 127.0.0.1 only"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/srv.key" \
	-subj /CN=localhost -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" -out "$T/srv.csr" 2>/dev/null
ca_sign srvca "$T/srv.csr" "$T/srv.pem" "" "" server
# a random port in 20000-39999, again if it is taken; s_server ends by itself
for _ in 1 2 3 4 5 6 7 8; do
	PORT=$((20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 20000))
	timeout 60 openssl s_server -accept "127.0.0.1:$PORT" -cert "$T/srv.pem" -key "$T/srv.key" \
		-Verify 1 -verify_return_error -CAfile "$T/clientca.pem" -www >"$T/srv.log" 2>&1 &
	SRV=$!
	i=0
	while [ $i -lt 30 ] && kill -0 "$SRV" 2>/dev/null && ! grep -q '^ACCEPT' "$T/srv.log"; do
		sleep 0.1
		i=$((i + 1))
	done
	grep -q '^ACCEPT' "$T/srv.log" && kill -0 "$SRV" 2>/dev/null && break
	kill "$SRV" 2>/dev/null
	SRV=
done
check "s_server listening on 127.0.0.1:${PORT}" test -n "$SRV"

# tls ARGS...: curl https://127.0.0.1:PORT/ into $T/resp.html, bounded in time
tls() {
	rm -f "$T/resp.html"
	env OPENSSL_CONF="$T/openssl.cnf" timeout 20 curl -sS --cacert "$T/srvca.pem" \
		-o "$T/resp.html" "$@" "https://127.0.0.1:$PORT/"
}
# key_of LABEL: the key URI enroll printed, with the PIN for the engine
key_of() {
	echo "$(cat "$T/$1.uri");pin-value=$USER_PIN"
}
# peer_cert: the client certificate s_server -www saw, PEM, into $T/peer.pem
peer_cert() {
	sed -n '/^Client certificate/,/END CERTIFICATE/p' "$T/resp.html" |
		sed -n '/BEGIN CERTIFICATE/,/END CERTIFICATE/p' >"$T/peer.pem"
}

for spec in "alice rsa" "bob ec"; do
	# shellcheck disable=SC2086 # meant to split into words
	set -- $spec
	case_ "handshake: $1's token key ($2, engine) with its exported certificate"
	expect_rc 0 tls --engine pkcs11 --key-type ENG --key "$(key_of "$1")" --cert "$T/$1.crt"
	check "the server answered" test -s "$T/resp.html"
	contains "$T/resp.html" "Subject: O=Test, CN=$1.example"
	peer_cert
	check "the certificate the server saw is the exported one" cmp "$T/peer.pem" "$T/$1.crt"
	contains "$T/srv.log" "depth=0 O = Test, CN = $1.example"
done
not_contains "$T/srv.log" "error"

case_ "a certificate of another key: no handshake"
lines=$(wc -l <"$T/srv.log")
expect_rc 58 tls --engine pkcs11 --key-type ENG --key "$(key_of alice)" --cert "$T/bob.crt"
no_file "$T/resp.html"
expect_rc 58 tls --engine pkcs11 --key-type ENG --key "$(key_of bob)" --cert "$T/alice.crt"
no_file "$T/resp.html"
check_not "the server saw no third client" sh -c "tail -n +$((lines + 1)) '$T/srv.log' | grep -q 'depth=0'"

case_ "no client certificate: the server refuses"
check_not "curl without a client certificate fails" tls 2>/dev/null
no_file "$T/resp.html"
contains "$T/srv.log" "peer did not return a certificate"

case_ "a certificate from a CA the server does not trust"
openssl req -new -key "$T/srv.key" -subj /CN=stranger -out "$T/str.csr" 2>/dev/null
ca_sign srvca "$T/str.csr" "$T/str.pem"
check_not "curl with an untrusted client certificate fails" tls --cert "$T/str.pem" --key "$T/srv.key" 2>/dev/null
no_file "$T/resp.html"
contains "$T/srv.log" "certificate verify failed"

finish
