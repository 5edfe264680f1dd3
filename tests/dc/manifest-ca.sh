#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# manifest-ca.sh - a manifest whose identities name their CA: one at CMP
# (tests/ca/cmp-server, PBM shared secret) and one at EST
# (tests/ca/est-server.py, HTTP Basic), both real servers on 127.0.0.1.
# plan says where each goes; apply enrols both (key, certificate and chain
# on the token, verified with openssl against each test CA, the token key's
# public key in it); a second apply does nothing; inside the renewal window
# apply renews at the CA and runs the hook once per identity; a CA that is
# down fails only its identity (exit 11) and leaves no key behind; bad CA
# fields are refused with file:line (exit 7), the token unchanged.  No
# secret appears in any output or the audit log.  Every server is killed by
# its PID, also when a check fails.
set -u
. "$(dirname "$0")/../cli/lib.sh"
setup

if ! python3 -c 'import cryptography.x509' 2>/dev/null; then
	echo "SKIP: python3-cryptography is not installed"
	SKIPPED=1
	finish
fi
: "${CMP_SERVER:=$TOP_BUILDDIR/tests/ca/cmp-server}"

SERVERS=
stop_servers() {
	for _p in $SERVERS; do kill "$_p" 2>/dev/null; done
	for _p in $SERVERS; do wait "$_p" 2>/dev/null; done
	SERVERS=
}
trap 'stop_servers; cleanup' EXIT

SO_PIN=31415926 USER_PIN=Mca-Pin-5820q EST_PW=Est-Pw-77x1
CMP_SECRET=Cmp-Secret-90kk
export SO_PIN USER_PIN EST_PW
TL=mca
mk_token "$TL"
printf '%s\n' "$EST_PW" >"$T/est-pw"
printf '%s\n' "$CMP_SECRET" >"$T/cmp-secret"
chmod 600 "$T/est-pw" "$T/cmp-secret"
ALL=$T/all-output # everything the tool printed, for the secret grep
AUDIT=$T/audit.log

# the CMP CA signs its answers itself (digitalSignature, RFC 9810 5.1.3.3)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/cmp-ca.key" \
	-out "$T/cmp-ca.pem" -subj "/CN=CMP Test CA" -days 30 \
	-addext basicConstraints=critical,CA:TRUE \
	-addext keyUsage=critical,keyCertSign,cRLSign,digitalSignature >/dev/null 2>&1

# cmp_serve NAME: a cmp-server with the shared secret ref1; its port in $PORT
cmp_serve() {
	"$CMP_SERVER" "$T/cmp-ca.pem" "$T/cmp-ca.key" "$T/$1.port" ok ref1 "$T/cmp-secret" \
		2>"$T/$1.log" &
	_pid=$!
	SERVERS="$SERVERS $_pid"
	if ! wait_for "$T/$1.port" "" 60 "$_pid" || [ ! -s "$T/$1.port" ]; then
		fail "cmp-server $1 listens" "$(head -c 300 "$T/$1.log")"
		finish
	fi
	PORT=$(cat "$T/$1.port")
}
cmp_serve cmp
CMP=http://127.0.0.1:$PORT/pkix/

mkdir "$T/est"
python3 "$TOP_SRCDIR/tests/ca/est-server.py" --dir "$T/est" --port-file "$T/est/port" \
	--user alice --password-file "$T/est-pw" 2>"$T/est/stderr" &
EST_PID=$!
SERVERS="$SERVERS $EST_PID"
if ! wait_for "$T/est/port" "" 60 "$EST_PID" || [ ! -s "$T/est/port" ]; then
	fail "EST server starts" "$(head -c 600 "$T/est/stderr")"
	finish
fi
EST=https://127.0.0.1:$(cat "$T/est/port")

# a port nobody listens on: a cmp-server's, after it is gone
"$CMP_SERVER" "$T/cmp-ca.pem" "$T/cmp-ca.key" "$T/dead.port" ok 2>"$T/dead.log" &
DEAD_PID=$!
SERVERS="$SERVERS $DEAD_PID"
wait_for "$T/dead.port" "" 60 "$DEAD_PID"
DEAD=http://127.0.0.1:$(cat "$T/dead.port")/pkix/
kill "$DEAD_PID"
wait "$DEAD_PID" 2>/dev/null

cat >"$T/hook" <<EOF
#!/bin/sh
echo "\$P11ENROLL_IDENTITY \$P11ENROLL_LABEL \$P11ENROLL_OLD_KEY_URI" >>"$T/hook.log"
env >>"$T/hook.env"
EOF
chmod 755 "$T/hook"

M=$T/m.conf
# manifest RENEW_DAYS: the token, one identity at CMP and one at EST
# (ca_trust relative to the manifest's directory)
manifest() {
	cat >"$M" <<EOF
[defaults]
type = ec:P-256
renew_days = $1
hook = $T/hook
ca_timeout = 30

[token t]
label = $TL
pin = env:USER_PIN

[identity c]
token = t
label = cmpkey
subject = /CN=cmp.example
san = DNS:cmp.example
cmp = $CMP
cmp_ref = ref1
cmp_secret = file:$T/cmp-secret
ca_trust = cmp-ca.pem

[identity e]
token = t
label = estkey
subject = /CN=est.example
est = $EST
ca_trust = est/ca.pem
auth_user = alice
auth_password = env:EST_PW
EOF
}
manifest 30

run_tool() {
	_want=$1
	shift
	expect_rc "$_want" p11 "$@" ||
		grep -h '"result":"failed"' "$OUT" | head -5 | sed 's/^/# failed: /'
	cat "$OUT" "$ERR" >>"$ALL"
}
# events ACTION RESULT: how many identity events in $OUT have them
events() {
	jq -c --arg a "$1" --arg r "$2" 'select(.event == "identity" and .action == $a and .result == $r)' "$OUT" | wc -l
}
n_keys() {
	p11 --token "$TL" --pin env:USER_PIN --json list | jq '[.[] | select(.class == "private-key")] | length'
}
# cert_is_key LABEL CA: the certificate of LABEL verifies against CA and holds the key's public key
cert_is_key() {
	p11 --token "$TL" export --cert "$1" -o "$T/$1.pem" >/dev/null 2>&1
	check "$1: certificate verifies against $(basename "$2")" \
		openssl verify -CAfile "$2" "$T/$1.pem"
	count_objects >/dev/null
	pubkey_der "$(obj ID "Private Key" "$1")" "$T/tok.der"
	openssl x509 -in "$T/$1.pem" -noout -pubkey | openssl pkey -pubin -outform DER -out "$T/crt.der"
	check "$1: the certificate's key is the token key" cmp -s "$T/tok.der" "$T/crt.der"
}

case_ "bad CA fields: file:line, exit 7, token unchanged"
# bad NAME TEXT EXPECT: an identity with TEXT appended is refused with EXPECT at TEXT's line
bad() {
	{
		cat "$M"
		printf '\n[identity bad]\ntoken = t\nsubject = /CN=bad\n'
		printf '%s\n' "$2"
	} >"$T/bad.conf"
	_line=$(grep -n -F -x "$(printf '%s\n' "$2" | tail -1)" "$T/bad.conf" | tail -1 | cut -d: -f1)
	run_tool 7 apply "$T/bad.conf"
	contains "$ERR" "manifest $T/bad.conf:$_line: [identity bad] $3"
	one_error_line
}
bad both "$(printf 'cmp = %s\nca_trust = est/ca.pem\nest = %s' "$CMP" "$EST")" \
	"est = $EST: give cmp or est, not both"
bad untrusted "est = $EST" "est = $EST: add ca_trust = FILE or ca_fingerprint"
bad ref "$(printf 'cmp = %s\ncmp_ref = ref1' "$CMP")" \
	"cmp_ref = ref1: cmp_ref and cmp_secret go together"
bad estonly "$(printf 'cmp = %s\nauth_user = alice' "$CMP")" \
	"auth_user = alice: goes with est, not cmp"
bad cmponly "$(printf 'est = %s\nca_trust = est/ca.pem\ncmp_ref = r' "$EST")" \
	"cmp_ref = r: goes with cmp, not est"
bad fp "$(printf 'est = %s\nca_fingerprint = SHA256:abcd' "$EST")" \
	"ca_fingerprint = SHA256:abcd: give SHA256: and 32 bytes of hex"
bad noca "auth_key = cmpkey" "auth_key = cmpkey: goes with cmp = URL or est = URL"
bad timeout "$(printf 'cmp = %s\nca_timeout = 0' "$CMP")" \
	"ca_timeout = 0: give a number of seconds, 1 to 3600"
bad https "cmp = https://127.0.0.1/pkix/" "cmp = https://127.0.0.1/pkix/: give http://"
bad pass "$(printf 'cmp = %s\ncmp_ref = ref1\ncmp_secret = pass:%s' "$CMP" "$CMP_SECRET")" \
	"cmp_secret: a secret's source is env:VAR, file:PATH or fd:N"
not_contains "$ERR" "$CMP_SECRET"
# a station's card is all or nothing, and its take-back knows no CA yet
printf '[identity r]\nsubject = /CN=r\ncmp = %s\n' "$CMP" >"$T/recipe.conf"
run_tool 7 station --recipe "$T/recipe.conf"
contains "$ERR" "recipe $T/recipe.conf:3: [identity r] cmp = $CMP: a recipe's identities use outbox and inbox"
equal "no keys after refused manifests" "$(n_keys)" 0

case_ "[defaults] CA fields go to the identities they fit"
cat >"$T/mixed.conf" <<EOF
[defaults]
est = $EST
ca_trust = est/ca.pem
auth_user = alice
auth_password = env:EST_PW
ca_timeout = 10
[token t]
label = $TL
[identity byest]
token = t
subject = /CN=a
[identity bycmp]
token = t
subject = /CN=b
cmp = $CMP
cmp_ref = ref1
cmp_secret = env:NOPE
[identity bad]
token = t
subject = /CN=c
est = https://127.0.0.1:1
ca_fingerprint = SHA256:$(printf '%064d' 0)
EOF
line=$(grep -n '^ca_fingerprint' "$T/mixed.conf" | cut -d: -f1)
run_tool 7 plan "$T/mixed.conf"
contains "$ERR" "mixed.conf:$line: [identity bad] ca_fingerprint = SHA256:"
contains "$ERR" "give ca_trust or ca_fingerprint, not both"
sed -i '/^\[identity bad\]$/,$d' "$T/mixed.conf"
run_tool 0 plan "$T/mixed.conf"
contains "$OUT" "t/byest: create: planned, enroll at $EST"
contains "$OUT" "t/bycmp: create: planned, enroll at $CMP"
# no CA in [defaults]: its CA fields are for the identities that name one
sed -e '/^est = /d' -e 's/^\[identity byest\]$/[identity byoutbox]/' \
	-e 's|^subject = /CN=a$|subject = /CN=a\noutbox = out|' "$T/mixed.conf" >"$T/mixed2.conf"
run_tool 0 plan "$T/mixed2.conf"
contains "$OUT" "t/byoutbox: create: planned"
not_contains "$OUT" "t/byoutbox: create: planned, enroll"
contains "$OUT" "t/bycmp: create: planned, enroll at $CMP"
printf 'auth_user = bob\n' >>"$T/mixed2.conf"
line=$(grep -n '^auth_user = bob' "$T/mixed2.conf" | cut -d: -f1)
run_tool 7 plan "$T/mixed2.conf"
contains "$ERR" "mixed2.conf:$line: [identity bycmp] auth_user = bob: goes with est, not cmp"

case_ "plan: enroll at each CA, nothing written"
env -u USER_PIN -u EST_PW "$P11ENROLL" --module "$SOFTHSM_MODULE" plan "$M" >"$OUT" 2>"$ERR"
equal "plan exit 0" "$?" 0
cat "$OUT" "$ERR" >>"$ALL"
contains "$OUT" "t/c: create: planned, enroll at $CMP"
contains "$OUT" "t/e: create: planned, enroll at $EST"
contains "$OUT" "plan: 2 identities: 2 to change, 0 unchanged, 0 failed"
equal "still no keys" "$(n_keys)" 0

case_ "apply: both enrolled at their CA"
T0=$(mono)
run_tool 10 --json apply "$M" --audit "$AUDIT"
echo "# apply (2 identities at CAs, -j 1) took $(since "$T0") s"
equal "2 'create' events, ok" "$(events create ok)" 2
equal "CMP event names its CA" "$(jq -r 'select(.identity == "c") | .ca' "$OUT")" "$CMP"
cert_is_key cmpkey "$T/cmp-ca.pem"
cert_is_key estkey "$T/est/ca.pem"
equal "2 keys" "$(n_keys)" 2
equal "EST: one issued" "$(grep -c simpleenroll "$T/est/issued.log")" 1
equal "audit: 2 enroll lines, ok" \
	"$(jq -c 'select(.action == "enroll" and .result == "ok")' "$AUDIT" | wc -l)" 2
equal "audit: EST line names its CA and 2 objects" \
	"$(jq -r 'select(.identity == "e") | "\(.ca) \(.objects | length)"' "$AUDIT")" "$EST 2"
no_file "$T/hook.log"

case_ "second apply: nothing to do, exit 0"
run_tool 0 apply "$M" --audit "$AUDIT"
contains "$OUT" "apply: 2 identities: 0 changed, 2 unchanged, 0 failed"
equal "EST: still one issued" "$(grep -c simpleenroll "$T/est/issued.log")" 1
equal "audit: still 2 lines" "$(wc -l <"$AUDIT")" 2

case_ "inside the renewal window: renewed at the CA, the hook once each"
manifest 400
run_tool 0 plan "$M"
contains "$OUT" "t/c: renew ("
contains "$OUT" "planned, renew at $CMP"
contains "$OUT" "planned, renew at $EST"
T0=$(mono)
run_tool 10 --json apply "$M" --audit "$AUDIT"
echo "# renew apply (2 identities at CAs) took $(since "$T0") s"
equal "2 'renew' events, ok" "$(events renew ok)" 2
equal "new labels" "$(jq -r 'select(.event == "identity") | .key_uri' "$OUT" | sed 's/.*object=\([^;]*\).*/\1/' | sort | tr '\n' ' ')" \
	"cmpkey.2 estkey.2 "
cert_is_key cmpkey.2 "$T/cmp-ca.pem"
cert_is_key estkey.2 "$T/est/ca.pem"
equal "EST: reenroll used" "$(grep -c simplereenroll "$T/est/issued.log")" 1
equal "hook ran twice (once per identity)" "$(wc -l <"$T/hook.log")" 2
contains "$T/hook.log" "c cmpkey.2 pkcs11:"
contains "$T/hook.log" "e estkey.2 pkcs11:"
equal "4 keys (old ones stay)" "$(n_keys)" 4
equal "audit: 2 renew lines, ok" \
	"$(jq -c 'select(.action == "renew" and .result == "ok")' "$AUDIT" | wc -l)" 2

case_ "a CA that is down fails only its identity"
manifest 30
cat >>"$M" <<EOF

[identity down]
token = t
label = downkey
subject = /CN=down.example
cmp = $DEAD
cmp_ref = ref1
cmp_secret = file:$T/cmp-secret
# OpenSSL tries a refused connection again until the time is up
ca_timeout = 2

[identity e2]
token = t
label = est2
subject = /CN=est2.example
est = $EST
ca_fingerprint = SHA256:$(openssl x509 -in "$T/est/ca.pem" -noout -fingerprint -sha256 | sed 's/.*=//')
auth_user = alice
auth_password = file:$T/est-pw
EOF
run_tool 11 --json apply "$M" --audit "$AUDIT"
equal "down: failed" "$(jq -r 'select(.identity == "down") | .result' "$OUT")" failed
jq -r 'select(.identity == "down") | "\(.error) [\(.reason)]"' "$OUT" >"$T/down.txt"
contains "$T/down.txt" "is not reachable"
echo "# down: $(cat "$T/down.txt")"
equal "e2: enrolled (fingerprint trust)" "$(jq -r 'select(.identity == "e2") | .result' "$OUT")" ok
equal "c and e: unchanged" "$(jq -r 'select(.identity == "c" or .identity == "e") | .result' "$OUT" | sort -u)" unchanged
cert_is_key est2 "$T/est/ca.pem"
equal "no key left for downkey" \
	"$(p11 --token "$TL" --pin env:USER_PIN --json list | jq '[.[] | select(.label == "downkey")] | length')" 0
equal "5 keys" "$(n_keys)" 5
equal "summary exit 11" "$(jq -r 'select(.event == "summary") | .exit' "$OUT")" 11
equal "audit: the failed enroll logged" \
	"$(jq -r 'select(.identity == "down") | .result' "$AUDIT")" failed

case_ "time per identity: CA against outbox"
mkdir "$T/out"
cat >"$T/ob.conf" <<EOF
[token t]
label = $TL
pin = env:USER_PIN
[identity o]
token = t
label = obkey
type = ec:P-256
subject = /CN=ob.example
outbox = out
EOF
T0=$(mono)
run_tool 10 apply "$T/ob.conf"
echo "# apply (1 identity to the outbox) took $(since "$T0") s"
sed -i 's/^\(subject = \/CN=ob.example\)$/\1\ncmp = '"$(echo "$CMP" | sed 's|/|\\/|g')"'\ncmp_ref = ref1\ncmp_secret = env:CMP_SECRET_ENV/; s/^outbox = out$//; s/^label = obkey$/label = cakey/' "$T/ob.conf"
T0=$(mono)
CMP_SECRET_ENV=$CMP_SECRET run_tool 10 apply "$T/ob.conf"
echo "# apply (1 identity at CMP) took $(since "$T0") s"

case_ "no secret anywhere"
cat "$AUDIT" "$T/hook.env" >>"$ALL"
for s in "$USER_PIN" "$EST_PW" "$CMP_SECRET"; do
	check_not "not in the output, audit or hook environment: ${s%%-*}..." grep -q -F -e "$s" "$ALL"
done

stop_servers
finish
