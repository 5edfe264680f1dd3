#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# manifest.sh - plan and apply on three SoftHSMv2 tokens with twelve
# identities: plan shows twelve creations and writes nothing; apply -j 3
# makes the keys (each request checked against its key on the token with
# openssl); a second apply does nothing (exit 0); certificates dropped in the
# inbox are imported; short-lived ones are renewed, the hook run once each;
# a token failing mid-run fails only its identities, a re-run finishes them;
# bad manifests are refused with file:line; the audit log has one line per
# write and no PIN appears anywhere.
set -u
. "$(dirname "$0")/../cli/lib.sh"
setup
need_fault_module

SO_PIN=55443322
export SO_PIN
# distinct PINs, so that a leak of any one of them is found by grep
PIN1=Pin1-7391x PIN2=Pin2-8402y PIN3=Pin3-9513z
export PIN1 PIN2 PIN3
# pin_of N: the user PIN of token dc-hsmN
pin_of() {
	case $1 in 1) echo "$PIN1" ;; 2) echo "$PIN2" ;; *) echo "$PIN3" ;; esac
}

for i in 1 2 3; do
	USER_PIN=$(pin_of "$i")
	mk_token "dc-hsm$i"
done
mkdir "$T/out" "$T/in"
M=$T/m.conf
AUDIT=$T/audit.log
ALL=$T/all-output # everything the tool printed, for the PIN grep

# the hook: one line per run, and its whole environment, for the PIN grep
cat >"$T/hook" <<EOF
#!/bin/sh
echo "\$P11ENROLL_IDENTITY \$P11ENROLL_LABEL \$P11ENROLL_CSR" >>"$T/hook.log"
env >>"$T/hook.env"
EOF
chmod 755 "$T/hook"

# manifest [HSM3_MODULE]: three tokens, four identities each
manifest() {
	cat >"$M" <<EOF
# the data centre's test manifest
[defaults]
outbox = out
inbox = in
renew_days = 20
type = ec:P-256
ext = extendedKeyUsage=clientAuth
hook = $T/hook

[token hsm1]
label = dc-hsm1
pin = env:PIN1
[token hsm2]
uri = pkcs11:token=dc-hsm2
pin = env:PIN2
[token hsm3]
label = dc-hsm3
pin = file:$T/pin3
module = ${1:-$SOFTHSM_MODULE}
EOF
	for t in 1 2 3; do
		for n in a b c d; do
			type=
			[ "$n" = a ] && type="type = rsa:2048"
			cat >>"$M" <<EOF

[identity h$t$n]
token = hsm$t
label = svc-$t$n
subject = /O=Test/CN=h$t$n.example
san = DNS:h$t$n.example
$type
EOF
		done
	done
}
printf '%s\n' "$PIN3" >"$T/pin3"
chmod 600 "$T/pin3"
manifest

# run_tool WANT ARGS...: p11enroll with ARGS, its output kept for the PIN grep
run_tool() {
	_want=$1
	shift
	# on a surprise, the identities that failed and why, for the log
	expect_rc "$_want" p11 "$@" ||
		grep -h '"result":"failed"' "$OUT" | head -5 | sed 's/^/# failed: /'
	cat "$OUT" "$ERR" >>"$ALL"
}

# events ACTION RESULT: how many JSON events in $OUT have them
events() {
	jq -c --arg a "$1" --arg r "$2" 'select(.event == "identity" and .action == $a and .result == $r)' "$OUT" | wc -l
}

# n_objects N CLASS: objects of CLASS on token dc-hsmN (listed by p11enroll, logged in)
n_objects() {
	PIN=$(pin_of "$1") p11 --token "dc-hsm$1" --pin env:PIN --json list | jq --arg c "$2" '[.[] | select(.class == $c)] | length'
}

case_ "bad manifests: file:line, exit 7, nothing done"
cp "$M" "$T/bad.conf"
printf '[identity bad]\ntoken = hsm1\nsubject = /CN=x\ncolour = blue\n' >>"$T/bad.conf"
line=$(grep -n '^colour' "$T/bad.conf" | cut -d: -f1)
run_tool 7 apply "$T/bad.conf"
contains "$ERR" "manifest $T/bad.conf:$line: unknown field 'colour' in [identity bad]"
one_error_line
stdout_empty
cp "$M" "$T/bad.conf"
printf '[identity bad]\ntoken = hsm1\nsubject = /CN=x\ntype = rsa:1000\n' >>"$T/bad.conf"
line=$(grep -n '^type = rsa:1000' "$T/bad.conf" | cut -d: -f1)
run_tool 7 plan "$T/bad.conf"
contains "$ERR" "bad.conf:$line: [identity bad] type = rsa:1000"
cp "$M" "$T/bad.conf"
printf '[identity bad]\ntoken = hsm1\nsubject = /CN=x\nest = https://ca.example/.well-known/est\n' >>"$T/bad.conf"
run_tool 7 apply "$T/bad.conf"
contains "$ERR" "est = https://ca.example/.well-known/est: add ca_trust = FILE or ca_fingerprint"
sed 's/^pin = env:PIN1$/pin = pass:1234/' "$M" >"$T/bad.conf"
run_tool 7 apply "$T/bad.conf"
contains "$ERR" "never the PIN itself"
not_contains "$ERR" "1234"
printf '[identity bad]\ntoken = hsm9\nsubject = /CN=x\noutbox = /tmp\n' >"$T/bad.conf"
run_tool 7 apply "$T/bad.conf"
contains "$ERR" "there is no [token hsm9]"
printf '[token t]\nlabel = x\n.include /etc/passwd\n' >"$T/bad.conf"
run_tool 7 apply "$T/bad.conf"
contains "$ERR" "bad.conf:3: .include is not allowed"
run_tool 2 apply "$M" -j 0
contains "$ERR" "-j '0' is not a number from 1 to 64"
run_tool 2 plan
contains "$ERR" "the MANIFEST is missing"
run_tool 2 plan "$M" "$M"
contains "$ERR" "one MANIFEST, not more"
run_tool 2 plan --colour "$M"
one_error_line
run_tool 0 plan --help
contains "$OUT" "plan"
for i in 1 2 3; do
	equal "dc-hsm$i: no keys after refused manifests" "$(n_objects "$i" private-key)" 0
done
check "no audit log made" test ! -e "$AUDIT"

case_ "plan: twelve creations, no writes, no PIN needed"
env -u PIN1 -u PIN2 "$P11ENROLL" --module "$SOFTHSM_MODULE" --json plan "$M" >"$OUT" 2>"$ERR"
equal "plan exit 0" "$?" 0
cat "$OUT" "$ERR" >>"$ALL"
equal "12 'create' events, planned" "$(events create planned)" 12
equal "summary: 12 planned" "$(jq -r 'select(.event == "summary") | .planned' "$OUT")" 12
for i in 1 2 3; do
	equal "dc-hsm$i: still no keys" "$(n_objects "$i" private-key)" 0
done
equal "outbox empty" "$(find "$T/out" -type f | wc -l)" 0
run_tool 0 plan "$M"
contains "$OUT" "hsm3/h3d: create: planned"
contains "$OUT" "plan: 12 identities: 12 to change, 0 unchanged, 0 failed"

case_ "apply -j 3: twelve keys and requests"
run_tool 10 --json apply "$M" -j 3 --audit "$AUDIT" --prometheus "$T/apply.prom"
equal "12 'create' events, ok" "$(events create ok)" 12
equal "summary: exit 10" "$(jq -r 'select(.event == "summary") | .exit' "$OUT")" 10
contains "$T/apply.prom" "p11enroll_apply_last_exit_code 10"
contains "$T/apply.prom" 'p11enroll_apply_identities{result="changed"} 12'
for i in 1 2 3; do
	equal "dc-hsm$i: 4 private keys" "$(n_objects "$i" private-key)" 4
done
equal "12 requests in the outbox" "$(find "$T/out" -name '*.csr' | wc -l)" 12
# each request: signed by its key on the token, for the subject asked for
for t in 1 2 3; do
	TL=dc-hsm$t
	USER_PIN=$(pin_of "$t")
	count_objects >/dev/null
	for n in a b c d; do
		csr=$(ls "$T"/out/*-svc-$t$n.csr)
		check "h$t$n: request verifies" req_verifies "$csr"
		subj=$(openssl req -in "$csr" -noout -subject -nameopt compat)
		equal "h$t$n: subject" "$subj" "subject=/O=Test/CN=h$t$n.example"
		id=$(obj ID "Private Key" "svc-$t$n")
		pubkey_der "$id" "$T/tok.der"
		openssl req -in "$csr" -noout -pubkey | openssl pkey -pubin -outform DER -out "$T/csr.der"
		check "h$t$n: the request's key is the token's key $id" cmp -s "$T/tok.der" "$T/csr.der"
	done
done
ec=$(openssl req -in "$(ls "$T"/out/*-svc-1b.csr)" -noout -text | grep -c 'id-ecPublicKey')
equal "svc-1b is an EC key (from [defaults])" "$ec" 1
rsa=$(openssl req -in "$(ls "$T"/out/*-svc-1a.csr)" -noout -text | grep -c 'Public-Key: (2048 bit)')
equal "svc-1a is RSA-2048 (its own type)" "$rsa" 1
equal "audit: 12 keygen lines, ok" "$(jq -c 'select(.action == "keygen" and .result == "ok")' "$AUDIT" | wc -l)" 12
check "audit log is 0600" test "$(stat -c %a "$AUDIT")" = 600

case_ "second apply: nothing to do, exit 0"
run_tool 0 apply "$M" -j 3 --audit "$AUDIT"
contains "$OUT" "apply: 12 identities: 0 changed, 12 unchanged, 0 failed"
contains "$OUT" "hsm2/h2c: nothing: unchanged, waiting for its certificate"
equal "still 12 requests" "$(find "$T/out" -name '*.csr' | wc -l)" 12
equal "audit: still 12 lines" "$(wc -l <"$AUDIT")" 12

case_ "certificates in the inbox are imported, with their chain"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/ca.key" -out "$T/ca.pem" \
	-subj "/CN=DC Test CA" -days 365 2>/dev/null
for t in 1 2 3; do
	for n in a b c d; do
		days=90
		# three of them are short-lived: inside the 20-day renewal window
		case $t$n in 1b | 2c | 3d) days=5 ;; esac
		openssl x509 -req -in "$(ls "$T"/out/*-svc-$t$n.csr)" -CA "$T/ca.pem" -CAkey "$T/ca.key" \
			-set_serial "0x$t$n$t$n" -days $days -out "$T/leaf.pem" 2>/dev/null
		cat "$T/leaf.pem" "$T/ca.pem" >"$T/in/h$t$n.pem"
	done
done
openssl x509 -req -in "$(ls "$T"/out/*-svc-1a.csr)" -CA "$T/ca.pem" -CAkey "$T/ca.key" \
	-days 30 -out "$T/in/h1a.crt" 2>/dev/null
# someone else's certificate in the inbox is no one's here
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
	-out "$T/in/stranger.pem" -subj /CN=stranger -days 30 2>/dev/null
run_tool 0 --json plan "$M"
equal "plan: 12 imports" "$(events import planned)" 12
run_tool 10 --json apply "$M" -j 2 --audit "$AUDIT"
equal "12 imports ok" "$(events import ok)" 12
for i in 1 2 3; do
	equal "dc-hsm$i: 4 certificates bound to keys" \
		"$(PIN=$(pin_of "$i") p11 --token "dc-hsm$i" --pin env:PIN --json list |
			jq '[.[] | select(.class == "certificate" and .key_id != null)] | length')" 4
done
equal "audit: 12 import lines with serial and SHA-256" \
	"$(jq -c 'select(.action == "import" and .result == "ok" and (.cert_sha256 | length) == 64 and .cert_serial != null)' "$AUDIT" | wc -l)" 12
fp=$(openssl x509 -in "$T/in/h2b.pem" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g')
equal "audit: h2b's fingerprint is its certificate's" \
	"$(jq -r 'select(.action == "import" and .identity == "h2b") | .cert_sha256' "$AUDIT")" "$fp"

case_ "renewal inside the window: three renewed, the hook once each"
run_tool 0 --json plan "$M"
equal "plan: 3 renewals" "$(events renew planned)" 3
equal "plan: h1b has 4 days left" "$(jq -r 'select(.identity == "h1b") | .days_left' "$OUT")" 4
run_tool 10 --json apply "$M" -j 3 --audit "$AUDIT"
equal "3 renewals ok" "$(events renew ok)" 3
equal "9 unchanged" "$(jq -c 'select(.result == "unchanged")' "$OUT" | wc -l)" 9
for l in svc-1b.2 svc-2c.2 svc-3d.2; do
	csr=$(ls "$T"/out/*-$l.csr 2>/dev/null)
	check "$l: request in the outbox" test -f "$csr"
	check "$l: request verifies" req_verifies "$csr"
done
equal "hook ran 3 times" "$(wc -l <"$T/hook.log")" 3
contains "$T/hook.log" "h2c svc-2c.2 $T/out/"
not_contains "$T/hook.env" "PIN1="
contains "$T/hook.env" "P11ENROLL_KEY_URI=pkcs11:"
contains "$T/hook.env" "P11ENROLL_OLD_KEY_URI=pkcs11:"
equal "audit: 3 renew lines" "$(jq -c 'select(.action == "renew" and .result == "ok")' "$AUDIT" | wc -l)" 3
run_tool 0 apply "$M" -j 3 --audit "$AUDIT"
equal "hook still ran 3 times" "$(wc -l <"$T/hook.log")" 3
contains "$OUT" "hsm1/h1b: nothing: unchanged, waiting for its certificate"

case_ "a token failing mid-run fails only its own identities"
manifest "$P11FAULT_SO"
for t in 1 2 3; do
	for n in e f; do
		printf '\n[identity h%s%s]\ntoken = hsm%s\nsubject = /CN=h%s%s.example\n' \
			"$t" "$n" "$t" "$t" "$n" >>"$M"
	done
done
# hsm3's module fails every key generation after its first.  While hsm3 is
# reached through the fault module, workers run one at a time (-j 1): the
# module lock that keeps one process's C_Initialize out of another's C_Login
# (SoftHSMv2 rewrites the token file there, softhsm/SoftHSMv2#757) is per
# module path, and the fault module and SoftHSMv2 are two paths to one store.
P11FAULT_MODULE=$SOFTHSM_MODULE P11FAULT_FAIL_FUNC=C_GenerateKeyPair \
	P11FAULT_FAIL=2+:CKR_DEVICE_ERROR
export P11FAULT_MODULE P11FAULT_FAIL_FUNC P11FAULT_FAIL
run_tool 11 --json apply "$M" -j 1 --audit "$AUDIT"
jq -c "select(.result == \"failed\") | .identity + \": \" + .error" "$OUT" | sed "s/^/# failed: /"
equal "5 created" "$(events create ok)" 5
equal "1 failed" "$(jq -c 'select(.result == "failed")' "$OUT" | wc -l)" 1
equal "the failure is h3f's, on hsm3" "$(jq -r 'select(.result == "failed") | .token + "/" + .identity' "$OUT")" hsm3/h3f
equal "its error names the device" "$(jq -r 'select(.result == "failed") | .error | test("C_GenerateKeyPair: .*CKR_DEVICE_ERROR")' "$OUT")" true
equal "summary: exit 11" "$(jq -r 'select(.event == "summary") | .exit' "$OUT")" 11
equal "audit: a failed keygen line" "$(jq -c 'select(.result == "failed" and .action == "keygen")' "$AUDIT" | wc -l)" 1
unset P11FAULT_FAIL P11FAULT_FAIL_FUNC
run_tool 10 --json apply "$M" -j 1 --audit "$AUDIT" --prometheus "$T/apply.prom"
equal "re-run: h3f created" "$(jq -r 'select(.result == "ok") | .identity' "$OUT")" h3f
contains "$T/apply.prom" "p11enroll_apply_last_exit_code 10"
run_tool 0 apply "$M" -j 1
contains "$OUT" "apply: 18 identities: 0 changed, 18 unchanged, 0 failed"

case_ "status --prometheus: days left per certificate, due and expired counts"
run_tool 0 status --prometheus -o "$T/certs.prom"
stdout_empty
contains "$T/certs.prom" 'p11enroll_certificate_days_left{token="dc-hsm1",serial="'
check "svc-1b: 4 days left" grep -q '^p11enroll_certificate_days_left{token="dc-hsm1",.*label="svc-1b",.*} 4$' "$T/certs.prom"
check "svc-2a: 89 days left" grep -q '^p11enroll_certificate_days_left{token="dc-hsm2",.*label="svc-2a",.*} 89$' "$T/certs.prom"
check "dc-hsm3: 1 due" grep -q '^p11enroll_certificates_due{token="dc-hsm3",.*} 1$' "$T/certs.prom"
check "dc-hsm3: 4 certificates" grep -q '^p11enroll_certificates{token="dc-hsm3",.*} 4$' "$T/certs.prom"
check "dc-hsm2: none expired" grep -q '^p11enroll_certificates_expired{token="dc-hsm2",.*} 0$' "$T/certs.prom"
# the exposition format: the samples of a family in one group, after its TYPE
equal "each family in one group" "$(grep -v '^#' "$T/certs.prom" | sed 's/[{ ].*//' | uniq | sort | uniq -d)" ""
equal "no temporary file left" "$(find "$T" -maxdepth 1 -name 'certs.prom.tmp*' | wc -l)" 0
run_tool 0 --token dc-hsm2 status --prometheus
not_contains "$OUT" 'token="dc-hsm1"'
contains "$OUT" 'p11enroll_certificates{token="dc-hsm2",'
run_tool 3 status -o "$T/x.prom"
contains "$ERR" "-o goes with --prometheus"

case_ "the audit log: one line per write, no PIN anywhere"
# writes: 12 keygens, 12 imports, 3 renewals, 6 keygens (one failed first)
equal "ok lines" "$(jq -c 'select(.result == "ok")' "$AUDIT" | wc -l)" 33
equal "every line has time, host, token serial, identity and a result" \
	"$(jq -c 'select(.time and .host and (.token_serial | length) > 0 and .identity and .result)' "$AUDIT" | wc -l)" \
	"$(wc -l <"$AUDIT")"
equal "every ok line names the objects written" \
	"$(jq -c 'select(.result == "ok" and (.objects | length) > 0)' "$AUDIT" | wc -l)" 33
for pin in "$PIN1" "$PIN2" "$PIN3" "$SO_PIN"; do
	for f in "$AUDIT" "$ALL" "$T/hook.env" "$T/hook.log"; do
		if grep -q -F -e "$pin" "$f"; then
			fail "no PIN in $(basename "$f")" "a PIN was found"
		else
			ok "no PIN in $(basename "$f")"
		fi
	done
done

finish
