#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# cmp.sh - enroll and renew with a CMP server (RFC 9810): tests/ca/cmp-server
# (OpenSSL's OSSL_CMP_SRV_CTX with a test CA that really issues) on
# 127.0.0.1, and OpenSSL's own mock server (`openssl cmp -port`, one fixed
# certificate for every request) in a private network namespace.  Every
# server is killed by its PID, also when a check fails.
set -u
. "$(dirname "$0")/../cli/lib.sh"
setup

: "${CMP_SERVER:=$TOP_BUILDDIR/tests/ca/cmp-server}"
SERVERS=
stop_servers() {
	for _p in $SERVERS; do kill "$_p" 2>/dev/null; done
	for _p in $SERVERS; do wait "$_p" 2>/dev/null; done
	SERVERS=
}
trap 'stop_servers; cleanup' EXIT

SO_PIN=27182818 USER_PIN=16180339
export SO_PIN USER_PIN
mk_token ca-cmp
TL=ca-cmp
# the CA signs the server's answers itself: CMP wants digitalSignature in
# the signer's keyUsage (RFC 9810 5.1.3.3)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/ca.key" \
	-out "$T/ca.pem" -subj "/CN=CMP Test CA" -days 30 \
	-addext basicConstraints=critical,CA:TRUE \
	-addext keyUsage=critical,keyCertSign,cRLSign,digitalSignature >/dev/null 2>&1
mk_ca other "/CN=Someone Else CA"
printf 'cmp-test-secret\n' >"$T/secret"
printf 'not-the-secret\n' >"$T/wrong"
chmod 600 "$T/secret" "$T/wrong"

u() {
	p11 --token "$TL" --pin env:USER_PIN "$@"
}

# serve NAME MODE [REF SECRETFILE]: a cmp-server; its port in $PORT
serve() {
	_name=$1
	shift
	"$CMP_SERVER" "$T/ca.pem" "$T/ca.key" "$T/$_name.port" "$@" 2>"$T/$_name.log" &
	_pid=$!
	SERVERS="$SERVERS $_pid"
	if ! wait_for "$T/$_name.port" "" 30 "$_pid" || [ ! -s "$T/$_name.port" ]; then
		fail "cmp-server $_name listens" "$(head -c 300 "$T/$_name.log")"
		PORT=1
		return 1
	fi
	PORT=$(cat "$T/$_name.port")
}

# the token's objects as list --json shows them, days_left taken out: a
# certificate issued in the second before the first listing is a day shorter
# in the second one (365 days, then 364.99)
list_json() {
	u --json list 2>"$T/list.err" | jq 'map(del(.days_left))' >"$1"
}

serve pbm ok ref1 "$T/secret"
PBM=http://127.0.0.1:$PORT/pkix/
serve sig ok
SIG=http://127.0.0.1:$PORT/pkix/

case_ "enroll --cmp with a shared secret: certificate and chain on the token"
T0=$(mono)
expect_rc 0 u enroll --label web --type ec:P-256 --subject /CN=web.example --san DNS:web.example \
	--cmp "$PBM" --cmp-ref ref1 --cmp-secret file:"$T/secret"
echo "# enroll --cmp took $(since "$T0") s"
contains "$OUT" "pkcs11:"
contains "$OUT" "type=cert"
expect_rc 0 u export --cert web --chain -o "$T/web-chain.pem"
equal "exported the certificate and its CA" "$(certs_in "$T/web-chain.pem")" 2
openssl x509 -in "$T/web-chain.pem" -out "$T/web.pem"
check "openssl verify: the certificate chains to the test CA" \
	openssl verify -CAfile "$T/ca.pem" "$T/web.pem"
equal "the certificate carries the token key" "$(pub_of_cert "$T/web.pem")" "$(pub_of_key web)"
contains "$T/web.pem" "BEGIN CERTIFICATE"
openssl x509 -in "$T/web.pem" -noout -subject -ext subjectAltName >"$T/web.txt" 2>&1
contains "$T/web.txt" "CN = web.example"
contains "$T/web.txt" "DNS:web.example"
contains "$T/pbm.log" "certConf: PKIStatus: accepted"

case_ "enroll --cmp again: nothing to do, nothing sent"
snap
expect_rc 0 u enroll --label web --type ec:P-256 --subject /CN=web.example \
	--cmp "$PBM" --cmp-ref ref1 --cmp-secret file:"$T/secret"
contains "$ERR" "has its certificate already"
contains "$OUT" "pkcs11:"
unchanged

case_ "a key an interrupted run left is reused"
expect_rc 0 u enroll --label mail --type ec:P-256 --subject /CN=mail.example -o "$T/mail.csr"
KEY_BEFORE=$(pub_of_key mail)
expect_rc 0 u enroll --label mail --type ec:P-256 --subject /CN=mail.example \
	--cmp "$PBM" --cmp-ref ref1 --cmp-secret file:"$T/secret"
contains "$ERR" "reused key 'mail'"
expect_rc 0 u export --cert mail -o "$T/mail.pem"
equal "the certificate is for the key the first run made" "$(pub_of_cert "$T/mail.pem")" "$KEY_BEFORE"

case_ "wrong secret: refused in words, exit 9, token unchanged"
snap
list_json "$T/before.json"
expect_error 9 u enroll --label db --type ec:P-256 --subject /CN=db.example \
	--cmp "$PBM" --cmp-ref ref1 --cmp-secret file:"$T/wrong"
contains "$ERR" "refused"
contains "$ERR" "PKIStatus: rejection"
contains "$ERR" "PKIFailureInfo: badRequest"
contains "$ERR" "wrong pbm value"
contains "$ERR" "check --cmp-ref and --cmp-secret"
not_contains "$ERR" "not-the-secret"
list_json "$T/after.json"
check "list --json unchanged" cmp -s "$T/before.json" "$T/after.json"
unchanged

case_ "renew --cmp: key update (kur) signed by the old key"
expect_rc 0 u renew --key web --cmp "$SIG" --ca-trust "$T/ca.pem"
contains "$OUT" "pkcs11:"
list_json "$T/renewed.json"
equal "two keys for web" "$(jq -r '[.[] | select(.class == "private-key" and (.label | startswith("web")))] | length' "$T/renewed.json")" 2
expect_rc 0 u export --cert web.2 -o "$T/web2.pem"
equal "the new certificate carries the new key" "$(pub_of_cert "$T/web2.pem")" "$(pub_of_key web.2)"
check "the new key differs from the old" test "$(pub_of_key web.2)" != "$(pub_of_key web)"
check "openssl verify: the new certificate" openssl verify -CAfile "$T/ca.pem" "$T/web2.pem"
expect_rc 0 u export --cert web -o "$T/web-again.pem"
check "the old certificate stays" cmp -s "$T/web.pem" "$T/web-again.pem"
expect_rc 0 u status
contains "$OUT" "web"
contains "$OUT" "web.2"
contains "$T/sig.log" "certConf: PKIStatus: accepted"

case_ "enroll --cmp --auth-key: signed by a token key and its certificate"
expect_rc 0 u enroll --label api --type ec:P-256 --subject /CN=api.example \
	--cmp "$SIG" --auth-key web --ca-trust "$T/ca.pem"
expect_rc 0 u export --cert api -o "$T/api.pem"
equal "api's certificate carries api's key" "$(pub_of_cert "$T/api.pem")" "$(pub_of_key api)"

case_ "untrusted server: its signature does not chain to --ca-trust"
snap
expect_error 9 u enroll --label x1 --type ec:P-256 --subject /CN=x1 \
	--cmp "$SIG" --auth-key web --ca-trust "$T/other.pem"
contains "$ERR" "not protected by a secret or certificate we trust"
contains "$ERR" "--ca-trust"
unchanged

case_ "server down"
serve gone ok ref1 "$T/secret"
GONE=http://127.0.0.1:$PORT/pkix/
stop_servers
serve pbm ok ref1 "$T/secret"
PBM=http://127.0.0.1:$PORT/pkix/
snap
# OpenSSL tries a refused connection again until --timeout is up
expect_error 9 u enroll --label x2 --type ec:P-256 --subject /CN=x2 \
	--cmp "$GONE" --cmp-ref ref1 --cmp-secret file:"$T/secret" --timeout 2
contains "$ERR" "is not reachable"
contains "$ERR" "connect timeout"
contains "$ERR" "check the --cmp or --est URL (host and port)"
unchanged

case_ "garbage and HTTP errors"
serve junk garbage
expect_error 9 u enroll --label x3 --type ec:P-256 --subject /CN=x3 \
	--cmp "http://127.0.0.1:$PORT/" --cmp-ref ref1 --cmp-secret file:"$T/secret"
contains "$ERR" "nothing usable"
serve e500 http500
expect_error 9 u enroll --label x3 --type ec:P-256 --subject /CN=x3 \
	--cmp "http://127.0.0.1:$PORT/" --cmp-ref ref1 --cmp-secret file:"$T/secret"
contains "$ERR" "500"
serve rej reject ref1 "$T/secret"
expect_error 9 u enroll --label x3 --type ec:P-256 --subject /CN=x3 \
	--cmp "http://127.0.0.1:$PORT/" --cmp-ref ref1 --cmp-secret file:"$T/secret"
contains "$ERR" "PKIStatus: rejection"
contains "$ERR" "badCertTemplate"
contains "$ERR" "the test CA rejects every request"
unchanged

case_ "--timeout: a server that never answers"
serve mute silent
T0=$(mono)
expect_error 8 u enroll --label x4 --type ec:P-256 --subject /CN=x4 \
	--cmp "http://127.0.0.1:$PORT/" --cmp-ref ref1 --cmp-secret file:"$T/secret" --timeout 2
contains "$ERR" "no answer within 2 s"
check "gave up within 30 s" num_le "$(since "$T0")" 30
unchanged
stop_servers

case_ "OpenSSL's mock server answers with a certificate for another key"
# openssl cmp -port listens on every address: in a namespace of its own
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/fixed.key" \
	-out "$T/fixed.pem" -subj /CN=fixed -days 30 >/dev/null 2>&1
cat >"$T/mock.sh" <<EOF
ip link set lo up
openssl cmp -port 18529 -srv_ref ref1 -srv_secret pass:cmp-test-secret \\
	-srv_cert "$T/fixed.pem" -srv_key "$T/fixed.key" -rsp_cert "$T/fixed.pem" \\
	>"$T/mock.log" 2>&1 &
echo \$! >"$T/mock.pid"
trap 'kill "\$(cat "$T/mock.pid")" 2>/dev/null' EXIT
# the tool waits for the port itself: a connection refused is retried here
i=0
while ! (exec 3<>/dev/tcp/127.0.0.1/18529) 2>/dev/null; do
	i=\$((i + 1)); [ \$i -gt 600 ] && break; sleep 0.05
done
"\$@"
echo \$? >"$T/mock.rc"
EOF
if unshare -n true 2>/dev/null && command -v ip >/dev/null; then
	list_json "$T/before.json"
	snap
	unshare -n bash "$T/mock.sh" "$P11ENROLL" --module "$SOFTHSM_MODULE" --token "$TL" \
		--pin env:USER_PIN enroll --label x5 --type ec:P-256 --subject /CN=x5 \
		--cmp http://127.0.0.1:18529/ --cmp-ref ref1 --cmp-secret file:"$T/secret" \
		>"$OUT" 2>"$ERR"
	equal "exit 9" "$(cat "$T/mock.rc")" 9
	one_error_line
	contains "$ERR" "issued a certificate for another public key"
	list_json "$T/after.json"
	check "list --json unchanged" cmp -s "$T/before.json" "$T/after.json"
	unchanged
else
	left_out "no network namespaces here (unshare -n) for openssl cmp's mock server"
fi

case_ "usage"
expect_error 2 u enroll --label y --subject /CN=y --cmp "$PBM" --cmp-secret file:"$T/secret"
contains "$ERR" "--cmp-secret and --cmp-ref go together"
expect_error 2 u enroll --label y --subject /CN=y --cmp "$PBM"
contains "$ERR" "--cmp-secret and --cmp-ref, or --auth-key"
expect_error 2 u enroll --label y --subject /CN=y --ca-trust "$T/ca.pem"
contains "$ERR" "go with --cmp URL"
expect_error 2 u enroll --label y --subject /CN=y --cmp "$PBM" --cmp-ref r --cmp-secret file:"$T/secret" -o "$T/y.csr"
expect_error 2 u enroll --label y --subject /CN=y --cmp https://127.0.0.1/ --cmp-ref r --cmp-secret file:"$T/secret"
contains "$ERR" "https is not supported"
expect_error 2 u enroll --label y --subject /CN=y --cmp "$PBM" --cmp-ref r --cmp-secret file:"$T/secret" --timeout 0

finish
