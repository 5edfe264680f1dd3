#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# est.sh - EST (RFC 7030) against tests/ca/est-server.py, a real server on
# 127.0.0.1 that issues from its own test CA: cacerts, enroll --est from a
# blank label, idempotent re-run, renew --est authenticated over TLS by the
# old key on the token, and the refusals (wrong password, untrusted server,
# wrong fingerprint, server down, garbage, a certificate for another key,
# pending, a server that never answers) with their exit codes and the token
# unchanged.  Every server is killed by its PID, also when a check fails.
set -u
. "$(dirname "$0")/../cli/lib.sh"
setup

if ! python3 -c 'import cryptography.x509' 2>/dev/null; then
	echo "SKIP: python3-cryptography is not installed"
	SKIPPED=1
	finish
fi

SRVPIDS=
stop_servers() {
	for _p in $SRVPIDS; do kill "$_p" 2>/dev/null; done
	SRVPIDS=
}
trap 'stop_servers; cleanup' EXIT

SO_PIN=62831853 USER_PIN=14142135 EST_PW=s3cret-est
export SO_PIN USER_PIN EST_PW
printf '%s\n' "$EST_PW" >"$T/est-pw"

# start_server NAME [ARGS]: a server in $T/NAME, its port in $PORT_NAME...
# sets PORT and the server's PID in SRVPIDS; CA files come from the first one
start_server() {
	_n=$1
	shift
	mkdir -p "$T/$_n"
	python3 "$TOP_SRCDIR/tests/ca/est-server.py" --dir "$T/$_n" --port-file "$T/$_n/port" \
		--user alice --password-file "$T/est-pw" "$@" 2>"$T/$_n/stderr" &
	_pid=$!
	SRVPIDS="$SRVPIDS $_pid"
	if ! wait_for "$T/$_n/port" "" 60 "$_pid" || [ ! -s "$T/$_n/port" ]; then
		fail "EST server $_n starts" "$(head -c 600 "$T/$_n/stderr")"
		finish
	fi
	PORT=$(cat "$T/$_n/port")
}

start_server main --csrattrs
URL=https://127.0.0.1:$PORT
CA=$T/main/ca.pem
CAKEY=$T/main/ca.key
FP=$(openssl x509 -in "$CA" -noout -fingerprint -sha256 | sed 's/.*=//')

TL=est
mk_token "$TL"
u() {
	p11 --token est --pin env:USER_PIN "$@"
}
# u with HTTP Basic as alice after the command's own options
ua() {
	u "$@" --auth-user alice --auth-password env:EST_PW
}

case_ "cacerts"
expect_rc 0 p11 cacerts --est "$URL" --ca-trust "$CA" -o "$T/cacerts.pem"
contains "$OUT" "subject: CN=EST Test CA"
contains "$OUT" "sha256:  $FP"
equal "PEM written is the CA" "$(openssl x509 -in "$T/cacerts.pem" -noout -fingerprint -sha256)" \
	"$(openssl x509 -in "$CA" -noout -fingerprint -sha256)"
expect_rc 0 p11 --json cacerts --est "$URL/.well-known/est" --ca-fingerprint "SHA256:$FP"
equal "JSON fingerprint" "$(jq -r '.[0].sha256' "$OUT")" \
	"$(echo "$FP" | tr -d : | tr 'A-F' 'a-f')"

case_ "enroll --est on a blank label"
expect_rc 0 ua enroll --label web --type ec:P-256 --subject /CN=web.example \
	--san DNS:web.example --est "$URL" --ca-trust "$CA"
contains "$ERR" "the CA asks the request for: challengePassword, extendedKeyUsage"
u export --cert web -o "$T/web.pem" >/dev/null 2>&1
check "issued certificate verifies with the CA" openssl verify -CAfile "$CA" "$T/web.pem"
equal "certificate's key is the token key" "$(pub_of_cert "$T/web.pem")" "$(pub_of_key web)"
u --json list >"$T/list.json" 2>/dev/null
equal "key non-extractable" \
	"$(jq -r '.[] | select(.class=="private-key" and .label=="web") | "\(.extractable) \(.sensitive) \(.never_extractable)"' "$T/list.json")" \
	"false true true"
equal "CA certificate on the token" \
	"$(jq -r '[.[] | select(.class=="certificate" and .subject=="CN=EST Test CA")] | length' "$T/list.json")" 1
equal "leaf paired with the key" \
	"$(jq -r '.[] | select(.class=="certificate" and .subject=="CN=web.example") | .key_id != null' "$T/list.json")" true
equal "one issued" "$(grep -c simpleenroll "$T/main/issued.log")" 1

case_ "enroll --est again: nothing to do"
expect_rc 0 ua enroll --label web --type ec:P-256 --subject /CN=web.example --est "$URL" \
	--ca-trust "$CA"
contains "$ERR" "has its certificate already: nothing to do"
equal "still one issued" "$(grep -c simpleenroll "$T/main/issued.log")" 1

case_ "renew --est over TLS with the old key"
expect_rc 0 u --json renew --key web --est "$URL" --ca-trust "$CA"
equal "new key label" "$(jq -r .label "$OUT")" web.2
u --json list >"$T/list2.json" 2>/dev/null
equal "two keys" "$(jq '[.[] | select(.class=="private-key")] | length' "$T/list2.json")" 2
equal "two client certificates" \
	"$(jq '[.[] | select(.class=="certificate" and .subject=="CN=web.example")] | length' "$T/list2.json")" 2
u export --cert web.2 -o "$T/web2.pem" >/dev/null 2>&1
check "new certificate verifies" openssl verify -CAfile "$CA" "$T/web2.pem"
equal "reenroll was used" "$(grep -c simplereenroll "$T/main/issued.log")" 1
expect_rc 0 p11 --token est status
contains "$OUT" "web.2"

case_ "enroll --est with --auth-key (TLS client certificate) and a fingerprint"
expect_rc 0 u enroll --label api --type ec:P-256 --subject /CN=api.example --est "$URL" \
	--ca-fingerprint "SHA256:$FP" --auth-key web.2
u export --cert api -o "$T/api.pem" >/dev/null 2>&1
check "certificate verifies" openssl verify -CAfile "$CA" "$T/api.pem"
equal "two simpleenroll" "$(grep -c '^simpleenroll' "$T/main/issued.log")" 2

case_ "RSA: the token signs TLS 1.3's CertificateVerify with RSA-PSS"
expect_rc 0 ua enroll --label rsa --type rsa:2048 --subject /CN=rsa.example --est "$URL" \
	--ca-trust "$CA"
expect_rc 0 u renew --key rsa --est "$URL" --ca-trust "$CA"
u export --cert rsa.2 -o "$T/rsa2.pem" >/dev/null 2>&1
check "renewed RSA certificate verifies" openssl verify -CAfile "$CA" "$T/rsa2.pem"

snap
case_ "re-enrolment with another subject: the server refuses"
expect_error 9 u renew --key api --subject /CN=someone.else --est "$URL" --ca-trust "$CA"
contains "$ERR" "EST simplereenroll at 127.0.0.1: HTTP 400 Bad Request"
unchanged

u --json list 2>/dev/null | jq 'map(del(.days_left))' >"$T/before.json"
case_ "wrong password"
printf 'wrong\n' >"$T/wrong-pw"
expect_error 9 u --quiet enroll --label other --type ec:P-256 --subject /CN=other \
	--est "$URL" --ca-trust "$CA" --auth-user alice --auth-password "file:$T/wrong-pw"
contains "$ERR" "EST simpleenroll at 127.0.0.1: HTTP 401 Unauthorized: the server refused the credentials"
contains "$ERR" "check --auth-user and --auth-password"
u --json list 2>/dev/null | jq 'map(del(.days_left))' >"$T/after.json"
check "list --json the same before and after" cmp -s "$T/before.json" "$T/after.json"
unchanged

snap
case_ "untrusted server"
start_server other
expect_error 9 ua enroll --label x1 --type ec:P-256 --subject /CN=x1 --est "$URL" \
	--ca-trust "$T/other/ca.pem"
contains "$ERR" "EST cacerts at 127.0.0.1: TLS: the server's certificate is not trusted: "
contains "$ERR" "check --ca-trust"
unchanged

case_ "wrong fingerprint"
OFP=$(openssl x509 -in "$T/other/ca.pem" -noout -fingerprint -sha256 | sed 's/.*=//')
expect_error 9 ua enroll --label x1 --type ec:P-256 --subject /CN=x1 --est "$URL" \
	--ca-fingerprint "SHA256:$OFP"
contains "$ERR" "no CA certificate has the SHA-256 fingerprint"
unchanged
expect_error 2 p11 cacerts --est "$URL"
contains "$ERR" "--ca-trust FILE or --ca-fingerprint"

case_ "server down"
DOWN=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
expect_error 9 ua enroll --label x1 --type ec:P-256 --subject /CN=x1 \
	--est "https://127.0.0.1:$DOWN" --ca-trust "$CA"
contains "$ERR" "cannot connect to 127.0.0.1 port $DOWN: Connection refused"
unchanged

start_server junk --mode junk --ca-cert "$CA" --ca-key "$CAKEY"
PORT_junk=$PORT
start_server otherkey --mode otherkey --ca-cert "$CA" --ca-key "$CAKEY"
PORT_otherkey=$PORT
start_server pending --mode pending --ca-cert "$CA" --ca-key "$CAKEY"
PORT_pending=$PORT

case_ "garbage answer"
expect_error 9 ua enroll --label x1 --type ec:P-256 --subject /CN=x1 \
	--est "https://127.0.0.1:$PORT_junk" --ca-trust "$CA"
contains "$ERR" "EST simpleenroll: the answer is not base64"
unchanged

case_ "a certificate for another key"
expect_error 9 ua enroll --label x1 --type ec:P-256 --subject /CN=x1 \
	--est "https://127.0.0.1:$PORT_otherkey" --ca-trust "$CA"
contains "$ERR" "the CA returned a certificate for another key than 'x1': refused, nothing was written"
unchanged

case_ "pending"
expect_error 9 ua enroll --label x1 --type ec:P-256 --subject /CN=x1 \
	--est "https://127.0.0.1:$PORT_pending" --ca-trust "$CA"
contains "$ERR" "HTTP 202 Accepted: the request is pending at the CA"
contains "$ERR" "run the same command again later"
# the CA holds the request for that key: it stays, and the next run reuses it
ua enroll --label x1 --type ec:P-256 --subject /CN=x1 \
	--est "https://127.0.0.1:$PORT_pending" --ca-trust "$CA" >"$OUT" 2>"$ERR"
equal "exit 9 again, pending" "$?" 9
u --json list >"$T/list3.json" 2>/dev/null
equal "one key x1, reused" \
	"$(jq '[.[] | select(.class=="private-key" and .label=="x1")] | length' "$T/list3.json")" 1
u retire --key x1 --yes >/dev/null 2>&1
unchanged

case_ "a server that never answers"
start_server hang --mode hang --ca-cert "$CA" --ca-key "$CAKEY"
t0=$(mono)
expect_error 8 ua enroll --label x1 --type ec:P-256 --subject /CN=x1 \
	--est "https://127.0.0.1:$PORT" --ca-trust "$CA" --timeout 2
contains "$ERR" "no answer within 2 s"
check "bounded: under 20 s" num_le "$(since "$t0")" 20
unchanged

stop_servers
finish
