#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# status.sh - status: days left and state of each client certificate, the
# monitoring exit codes (0 ok, 1 renew soon, 2 critical/expired, 3 unknown),
# the thresholds, --json; no PIN asked or needed.
set -u
. "$(dirname "$0")/lib.sh"
setup

SO_PIN=16180339 USER_PIN=14142135
export SO_PIN USER_PIN
# a CA with 3 days left: were CA certificates counted, every token would be critical
mk_ca ca "/CN=Status CA" 3

# cert LABEL START END: on token $TL, a key LABEL and its certificate (with the CA)
cert() {
	p11 --token "$TL" --pin env:USER_PIN enroll --label "$1" --type ec:P-256 --subject "/CN=$1.example" \
		-o "$T/$1.csr" >/dev/null 2>"$T/en.err" || fail "enroll $1" "$(cat "$T/en.err")"
	ca_sign ca "$T/$1.csr" "$T/$1.pem" "$2" "$3"
	p11 --token "$TL" --pin env:USER_PIN -q import "$T/$1.pem" --chain "$T/ca.pem" --allow-expired \
		>/dev/null 2>"$T/imp.err" || fail "import $1" "$(cat "$T/imp.err")"
}
# cert_token NAME START END: a token NAME holding key and certificate NAME
cert_token() {
	mk_token "$1"
	TL=$1
	cert "$1" "$2" "$3"
}
# st TOKEN ARGS...: status of TOKEN, no PIN, nothing on stdin
st() {
	_tok=$1
	shift
	p11 --token "$_tok" "$@" </dev/null
}
# jqo FILTER: jq -r on stdout
jqo() {
	jq -r "$1" "$OUT" 2>&1
}
# line_is REGEX: stdout is one line matching the extended REGEX
line_is() {
	if [ "$(wc -l <"$OUT")" -eq 1 ] && grep -E -q -x -e "$1" "$OUT"; then
		ok "stdout: $1"
	else
		fail "stdout: $1" "got: $(head -c 400 "$OUT")"
	fi
}
# in_set NAME VALUE A B: VALUE is A or B
in_set() {
	case $2 in
	"$3" | "$4") ok "$1: $2" ;;
	*) fail "$1" "got '$2', want $3 or $4" ;;
	esac
}

cert_token s90 "$(utc '-1 day')" "$(utc '+90 days')"
cert_token s20 "$(utc '-1 day')" "$(utc '+20 days')"
cert_token s3 "$(utc '-1 day')" "$(utc '+3 days')"
# expired half a day ago: -1 days left (days are counted down, like floor)
cert_token sx "$(utc '-30 days')" "$(utc '-12 hours')"
cert_token sfuture "$(utc '+2 days')" "$(utc '+92 days')"

# token want-exit state days(a) days(b)
for spec in "s90 0 ok 89 90" "s20 1 renew-soon 19 20" "s3 2 critical 2 3" "sx 2 expired -1 -1" \
	"sfuture 2 not-yet-valid 91 92"; do
	# shellcheck disable=SC2086 # meant to split into words
	set -- $spec
	case_ "token $1: $3"
	expect_rc "$2" st "$1" status
	line_is "$3 +($4|$5) days  $1  CN=$1\\.example"
	expect_rc "$2" st "$1" --json status
	equal "JSON worst" "$(jqo .worst)" "$(echo "ok warning critical" | cut -d' ' -f$(($2 + 1)))"
	equal "JSON: one certificate, not the CA" "$(jqo '.certificates | length')" 1
	equal "JSON label, state, thresholds" \
		"$(jqo '[.token, .certificates[0].label, .certificates[0].state, .warn_days, .crit_days] | map(tostring) | join(" ")')" \
		"$1 $1 $3 30 5"
	in_set "JSON days_left" "$(jqo '.certificates[0].days_left')" "$4" "$5"
	case $(jqo '.certificates[0].uri') in
	"pkcs11:"*";token=$1;"*";object=$1;type=cert") ok "JSON uri" ;;
	*) fail "JSON uri" "$(jqo '.certificates[0].uri')" ;;
	esac
done

case_ "the CA certificate is on the tokens, not counted"
TL=s90
count_objects >/dev/null
equal "token s90 holds the CA" "$(obj ID Certificate "Status CA" | wc -l)" 1

case_ "thresholds move the state"
expect_rc 0 st s20 status --warn-days 10
line_is "ok +(19|20) days  s20  .*"
expect_rc 2 st s20 status --warn-days 30 --crit-days 25
line_is "critical +(19|20) days  s20  .*"
expect_rc 1 st s90 status --warn-days 100
line_is "renew-soon +(89|90) days  s90  .*"
expect_rc 1 st s3 status --crit-days 2
line_is "renew-soon +(2|3) days  s3  .*"
expect_rc 0 st s3 status --crit-days 0 --warn-days 0
expect_rc 2 st sx status --crit-days 0 --warn-days 0
line_is "expired +-1 days  sx  .*"
expect_rc 1 st s20 --json status --warn-days 21 --crit-days 1
equal "JSON thresholds" "$(jqo '[.worst, .warn_days, .crit_days, .certificates[0].state] | join(" ")')" \
	"warning 21 1 renew-soon"

case_ "two certificates on one token: the worst counts"
mk_token mix
TL=mix
cert m-long "$(utc '-1 day')" "$(utc '+200 days')"
cert m-soon "$(utc '-1 day')" "$(utc '+10 days')"
expect_rc 1 st mix --json status
equal "worst" "$(jqo .worst)" warning
equal "per-certificate states" \
	"$(jqo '[.certificates[] | "\(.label)=\(.state)"] | sort | join(" ")')" "m-long=ok m-soon=renew-soon"
expect_rc 0 st mix status --warn-days 5 --crit-days 1
equal "two lines" "$(wc -l <"$OUT")" 2

case_ "no PIN needed: a wrong one is never tried"
expect_rc 0 st s90 --pin pass:00000000 status

case_ "no client certificate: unknown"
mk_token empty
TL=empty
p11 --token empty --pin env:USER_PIN keygen --label lonely --type ec:P-256 >/dev/null 2>&1
equal "a key pair, no certificate" "$(count_objects)" 2
expect_rc 3 st empty status
contains "$OUT" "no client certificate"
expect_rc 3 st empty --json status
equal "JSON" "$(jqo '[.worst, (.certificates | length)] | map(tostring) | join(" ")')" "unknown 0"
mk_token caonly
TL=caonly
openssl x509 -in "$T/ca.pem" -outform DER -out "$T/ca.der"
p11t --write-object "$T/ca.der" --type cert --label ca --id 01 >/dev/null 2>&1
equal "the CA certificate is there" "$(count_objects)" 1
expect_rc 3 st caonly status
contains "$OUT" "no client certificate"
# an X.509 v1 self-signed root (no basicConstraints) is an authority too
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/v1.key" \
	-subj "/CN=V1 Root" -out "$T/v1.csr" 2>/dev/null
openssl x509 -req -in "$T/v1.csr" -signkey "$T/v1.key" -days 30 -outform DER -out "$T/v1.der" 2>/dev/null
check "a v1 certificate" sh -c "openssl x509 -inform DER -in '$T/v1.der' -noout -text | grep -q 'Version: 1 (0x0)'"
p11t --write-object "$T/v1.der" --type cert --label v1root --id 02 >/dev/null 2>&1
equal "the v1 root is there" "$(count_objects)" 2
expect_rc 3 st caonly status
contains "$OUT" "no client certificate"

case_ "bad arguments: unknown (3)"
for a in "--warn-days x" "--warn-days -1" "--warn-days 3651" "--crit-days 1x" "--warn-days=" \
	"--warn-days 5 --crit-days 6" "--bogus" "extra"; do
	# shellcheck disable=SC2086 # meant to split into words
	expect_error 3 st s90 status $a
done
expect_rc 3 st no-such-token status

finish
