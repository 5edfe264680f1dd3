# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=sh
# lib.sh - helpers for the p11enroll CLI tests; sourced, not run.
#
# Environment (set by `make check`; defaults for running a script by hand):
#   TOP_SRCDIR, TOP_BUILDDIR, P11ENROLL (the built tool), SOFTHSM_MODULE.
# Every test works in its own temporary directory with its own SoftHSMv2
# configuration; the system token directory is never touched.

CLI_DIR=$(cd "$(dirname "$0")" && pwd)
: "${TOP_SRCDIR:=$(cd "$CLI_DIR/../.." && pwd)}"
if [ -z "${TOP_BUILDDIR:-}" ]; then
	if [ -x "$PWD/src/tool/p11enroll" ]; then TOP_BUILDDIR=$PWD
	elif [ -x "$TOP_SRCDIR/build/src/tool/p11enroll" ]; then TOP_BUILDDIR=$TOP_SRCDIR/build
	else TOP_BUILDDIR=$TOP_SRCDIR
	fi
fi
: "${P11ENROLL:=$TOP_BUILDDIR/src/tool/p11enroll}"
if [ -z "${SOFTHSM_MODULE+set}" ]; then
	SOFTHSM_MODULE=
	for _m in /usr/lib/softhsm/libsofthsm2.so /usr/lib/$(uname -m)-linux-gnu/softhsm/libsofthsm2.so \
	          /usr/local/lib/softhsm/libsofthsm2.so; do
		if [ -r "$_m" ]; then SOFTHSM_MODULE=$_m; break; fi
	done
fi
export TOP_SRCDIR TOP_BUILDDIR P11ENROLL SOFTHSM_MODULE

PASSED=0
FAILED=0
SKIPPED=
CASE=
T=
OUT=
ERR=
RC=

# case_ TEXT: name the assertions that follow.
case_() {
	CASE=$1
	echo "# $CASE"
}

ok() {
	PASSED=$((PASSED + 1))
	echo "ok - ${CASE:+$CASE: }$1"
}

# fail NAME MSG
fail() {
	FAILED=$((FAILED + 1))
	echo "FAIL - ${CASE:+$CASE: }$1: $2"
}

# check NAME CMD...: pass if CMD succeeds.
check() {
	_n=$1
	shift
	if "$@" >/dev/null; then ok "$_n"; else fail "$_n" "'$*' is false"; fi
}

# check_not NAME CMD...: pass if CMD fails.
check_not() {
	_n=$1
	shift
	if "$@" >/dev/null; then fail "$_n" "'$*' succeeded"; else ok "$_n"; fi
}

# left_out WHY: checks this machine cannot run (no engine, a tool missing).
# Where every part must run (P11ENROLL_REQUIRE_ALL=1: scripts/check, CI),
# that is a failure, not a note: a skipped check never passes for one run.
left_out() {
	if [ "${P11ENROLL_REQUIRE_ALL:-0}" = 1 ]; then
		fail "left out" "$1 (P11ENROLL_REQUIRE_ALL=1: every check must run here)"
	else
		echo "# left out: $1"
	fi
}

# need_fault_module: P11FAULT_SO, the fault-injecting module (tests/fault)
# that the fault tests run the tool on, or the whole test is skipped.
need_fault_module() {
	: "${P11FAULT_SO:=$TOP_BUILDDIR/tests/fault/.libs/p11fault.so}"
	if [ ! -r "$P11FAULT_SO" ]; then
		echo "SKIP: no fault-injecting module (P11FAULT_SO='$P11FAULT_SO')"
		SKIPPED=1
		finish
	fi
}

# need_commands CMD...: each CMD on PATH, or the whole test is skipped
# (a failure under P11ENROLL_REQUIRE_ALL=1, as scripts/check runs it).
need_commands() {
	for _cmd in "$@"; do
		if ! command -v "$_cmd" >/dev/null 2>&1; then
			echo "SKIP: no $_cmd (scripts/install-deps installs it)"
			SKIPPED=1
			finish
		fi
	done
}

# finish: the summary line, and the exit status for the test driver.
finish() {
	echo "$PASSED passed, $FAILED failed"
	if [ -n "$SKIPPED" ] && [ "${P11ENROLL_REQUIRE_ALL:-0}" = 1 ]; then
		echo "FAIL - the whole test was skipped, and P11ENROLL_REQUIRE_ALL=1"
		exit 1
	fi
	[ -n "$SKIPPED" ] && exit 77
	[ "$FAILED" -gt 0 ] && exit 1
	exit 0
}

cleanup() {
	if [ -n "$T" ] && [ -d "$T" ]; then rm -rf "$T"; fi
}

# setup: temp dir, a private SoftHSMv2 configuration, cleanup on exit.
# Skips the whole test (77) if there is no usable SoftHSMv2 module.
setup() {
	if [ -z "$SOFTHSM_MODULE" ] || [ ! -r "$SOFTHSM_MODULE" ]; then
		echo "SKIP: no SoftHSMv2 module (SOFTHSM_MODULE='$SOFTHSM_MODULE')"
		SKIPPED=1
		finish
	fi
	T=$(mktemp -d "${TMPDIR:-/tmp}/p11enroll-cli.XXXXXX") || { echo "mktemp failed"; exit 99; }
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	mkdir "$T/tokens"
	cat >"$T/softhsm2.conf" <<EOF
directories.tokendir = $T/tokens
objectstore.backend = file
log.level = ERROR
EOF
	SOFTHSM2_CONF=$T/softhsm2.conf
	export SOFTHSM2_CONF
	unset P11ENROLL_MODULE
	# the tool's lock files (lock.c) are per test too: tests that run side
	# by side with the same module never wait for each other, so no
	# "waiting for another process" note lands in a stderr a test checks
	XDG_RUNTIME_DIR=$T/run
	export XDG_RUNTIME_DIR
	mkdir -m 700 "$XDG_RUNTIME_DIR"
	OUT=$T/stdout
	ERR=$T/stderr
}

# p11 ARGS...: the tool, on the SoftHSMv2 module.
p11() {
	"$P11ENROLL" --module "$SOFTHSM_MODULE" "$@"
}

# expect_rc WANT CMD...: run CMD, stdout to $OUT, stderr to $ERR, status in
# $RC; returns 0 if the status is WANT.
expect_rc() {
	_want=$1
	shift
	"$@" >"$OUT" 2>"$ERR"
	RC=$?
	_cmd=$(echo "$*" | sed "s|$P11ENROLL --module $SOFTHSM_MODULE|p11|; s|$P11ENROLL|p11enroll|")
	if [ "$RC" -eq "$_want" ]; then
		ok "exit $_want: $_cmd"
		return 0
	fi
	fail "exit $_want: $_cmd" "exit status $RC; stderr: $(head -c 600 "$ERR")"
	return 1
}

# contains FILE TEXT / not_contains FILE TEXT: fixed-string search.
contains() {
	if grep -F -q -e "$2" "$1"; then
		ok "$(basename "$1") has '$2'"
	else
		fail "$(basename "$1") has '$2'" "not found in: $(head -c 600 "$1")"
	fi
}

not_contains() {
	if grep -F -q -e "$2" "$1"; then
		fail "$(basename "$1") lacks '$2'" "found: $(grep -F -e "$2" "$1" | head -3)"
	else
		ok "$(basename "$1") lacks '$2'"
	fi
}

# equal NAME GOT WANT
equal() {
	if [ "$2" = "$3" ]; then ok "$1"; else fail "$1" "got '$2', want '$3'"; fi
}

# one_error_line: $ERR is exactly one line starting with "p11enroll: ".
one_error_line() {
	_lines=$(wc -l <"$ERR")
	if [ "$_lines" -eq 1 ] && head -n 1 "$ERR" | grep -q '^p11enroll: '; then
		ok "one 'p11enroll: ' line on stderr"
	else
		fail "one 'p11enroll: ' line on stderr" "$_lines lines: $(head -c 600 "$ERR")"
	fi
}

stdout_empty() {
	if [ -s "$OUT" ]; then
		fail "stdout empty" "stdout: $(head -c 300 "$OUT")"
	else
		ok "stdout empty"
	fi
}

# expect_error WANT CMD...: status WANT, one error line, nothing on stdout.
expect_error() {
	expect_rc "$@"
	one_error_line
	stdout_empty
}

# --- time, for tests that wait on another process ---

# mono: seconds since boot to 1/100 s (/proc/uptime): a clock nobody sets,
# for durations; date(1) gives wall time, which may jump.
mono() {
	cut -d' ' -f1 /proc/uptime
}

# since T0: seconds from T0 (a mono reading) to now, two decimals.
since() {
	awk -v a="$1" -v b="$(mono)" 'BEGIN { printf "%.2f\n", b - a }'
}

# num_le A B: A <= B, decimal numbers.
num_le() {
	awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'
}

# wait_for FILE TEXT [SECS [PID]]: returns 0 as soon as FILE holds TEXT (a
# fixed string), 1 after SECS (default 60) seconds without, or as soon as
# process PID has ended without writing it.  The event is what ends the wait,
# never the time: SECS only bounds a test whose event never comes.
wait_for() {
	_wf_end=$(awk -v a="$(mono)" -v b="${3:-60}" 'BEGIN { print a + b }')
	while ! grep -q -F -e "$2" "$1" 2>/dev/null; do
		if [ -n "${4:-}" ] && ! kill -0 "$4" 2>/dev/null; then
			grep -q -F -e "$2" "$1" 2>/dev/null
			return
		fi
		num_le "$(mono)" "$_wf_end" || return 1
		sleep 0.05
	done
}

# mk_token LABEL: initialise the free SoftHSMv2 token with $SO_PIN and
# $USER_PIN, independently of p11enroll where softhsm2-util is there.
mk_token() {
	if command -v softhsm2-util >/dev/null 2>&1; then
		softhsm2-util --init-token --free --label "$1" --so-pin "$SO_PIN" \
			--pin "$USER_PIN" >/dev/null
	else
		p11 --so-pin env:SO_PIN --pin env:USER_PIN -q init-token --label "$1" >/dev/null
	fi
}

# tokens_json: `p11enroll --json tokens` into $T/tokens.json.
tokens_json() {
	p11 --json tokens >"$T/tokens.json" 2>"$T/tokens.err"
}

# jqt FILTER: jq -r on $T/tokens.json
jqt() {
	jq -r "$1" "$T/tokens.json"
}

# login_ok LABEL PIN: the user PIN logs in, by pkcs11-tool (not p11enroll).
login_ok() {
	pkcs11-tool --module "$SOFTHSM_MODULE" --token-label "$1" --login --pin "$2" -O \
		>"$T/p11tool.out" 2>&1
}

# pin_file NAME VALUE: a PIN file only its owner can read; prints its path.
pin_file() {
	printf '%s\n' "$2" >"$T/$1"
	chmod 600 "$T/$1"
	echo "$T/$1"
}

# --- token objects, seen by other tools (keygen, csr and enroll tests) ---

# p11t ARGS...: pkcs11-tool on token $TL, logged in with $USER_PIN.
p11t() {
	pkcs11-tool --module "$SOFTHSM_MODULE" --token-label "$TL" --login --pin "$USER_PIN" "$@"
}

# count_objects: `pkcs11-tool -O` into $T/objs.txt; prints the object count.
count_objects() {
	p11t -O >"$T/objs.txt" 2>"$T/objs.err" || echo "pkcs11-tool -O failed" >>"$T/objs.txt"
	grep -c ' Object;' "$T/objs.txt"
}

# obj FIELD CLASS LABEL: FIELD (ID, Access, ...) of each "CLASS Object"
# ("Private Key", "Public Key", "Certificate") labelled LABEL in the last
# count_objects listing, one a line.
obj() {
	awk -v f="$1" -v c="$2" -v l="$3" '
		/^[^ ]/ { cls = $0; lab = ""; next }
		/^  label:/ { sub(/^  label: +/, ""); lab = $0; next }
		index(cls, c " Object") == 1 && lab == l && index($0, "  " f ":") == 1 {
			sub(/^ +[^:]+: +/, ""); print }' "$T/objs.txt"
}

# pct HEX: an id as p11enroll's URIs write it (%0A%0B...).
pct() {
	echo "$1" | tr 'a-f' 'A-F' | sed 's/../%&/g'
}

# pubkey_der ID FILE: the public key object with CKA_ID ID, as a DER
# SubjectPublicKeyInfo in FILE; by pkcs11-tool, or by p11tool where
# pkcs11-tool cannot (OpenSC 0.23 fails on P-384: "cannot create EVP_PKEY").
pubkey_der() {
	rm -f "$T/pub.raw" "$T/pub.pem" "$2"
	if p11t --read-object --type pubkey --id "$1" -o "$T/pub.raw" >/dev/null 2>&1; then
		openssl pkey -pubin -inform DER -in "$T/pub.raw" -outform DER -out "$2"
	else
		GNUTLS_PIN=$USER_PIN p11tool --provider "$SOFTHSM_MODULE" --login --export-pubkey \
			--outfile "$T/pub.pem" "pkcs11:token=$TL;id=$(pct "$1");type=public" >/dev/null 2>&1
		openssl pkey -pubin -in "$T/pub.pem" -outform DER -out "$2"
	fi 2>/dev/null
}

# is_sha1 TEXT: TEXT is one line of 40 lowercase hex digits.
is_sha1() {
	[ "$(printf '%s\n' "$1" | wc -l)" = 1 ] && printf '%s\n' "$1" | grep -q -x '[0-9a-f]\{40\}'
}

# no_file FILE: an assertion that FILE was not created.
no_file() {
	check_not "no $(basename "$1")" test -e "$1"
}

# req_verifies FILE [OPENSSL REQ OPTIONS]: the request's self-signature verifies.
req_verifies() {
	_f=$1
	shift
	openssl req -in "$_f" "$@" -verify -noout >/dev/null 2>&1
}

# req_pubkey FILE: the request's public key, PEM.
req_pubkey() {
	openssl req -in "$1" -pubkey -noout 2>&1
}

# --- certificates (import, status, list/export and mTLS tests) ---

# utc OFFSET: the time OFFSET from now ('+20 days', '-12 hours') as
# openssl ca's -startdate/-enddate want it (UTC, YYYYMMDDHHMMSSZ).
utc() {
	date -u -d "$1" +%Y%m%d%H%M%SZ
}

# mk_ca NAME SUBJECT [DAYS]: a software test CA in $T/NAME.key, $T/NAME.pem
# (basicConstraints CA:TRUE) and its openssl ca state in $T/NAME.d.
mk_ca() {
	mkdir -p "$T/$1.d/new"
	: >"$T/$1.d/index.txt"
	echo 1000 >"$T/$1.d/serial"
	cat >"$T/$1.d/ca.cnf" <<EOC
[ca]
default_ca = test_ca
[test_ca]
database = $T/$1.d/index.txt
new_certs_dir = $T/$1.d/new
serial = $T/$1.d/serial
default_md = sha256
policy = any
copy_extensions = copy
unique_subject = no
[any]
organizationName = optional
commonName = supplied
[client]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
[server]
basicConstraints = CA:FALSE
extendedKeyUsage = serverAuth
[req]
distinguished_name = dn
[dn]
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
EOC
	openssl req -x509 -config "$T/$1.d/ca.cnf" -extensions v3_ca -newkey ec \
		-pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/$1.key" -out "$T/$1.pem" \
		-subj "$2" -days "${3:-365}" >/dev/null 2>&1 || echo "mk_ca $1 failed" >&2
}

# ca_sign CA CSR OUT [START END [EXT]]: OUT (PEM) is the request CSR signed
# by CA, valid from START to END (utc form; default an hour ago to 90 days
# on) with the extensions of section EXT (default client: EKU clientAuth);
# the request's own extensions are copied.
ca_sign() {
	openssl ca -batch -notext -config "$T/$1.d/ca.cnf" -cert "$T/$1.pem" -keyfile "$T/$1.key" \
		-in "$2" -out "$3" -startdate "${4:-$(utc '-1 hour')}" -enddate "${5:-$(utc '+90 days')}" \
		-extensions "${6:-client}" >"$T/ca_sign.log" 2>&1 ||
		echo "ca_sign $*: $(cat "$T/ca_sign.log")" >&2
}

# snap: `pkcs11-tool -O` of token $TL into $T/snap.txt, to compare later.
snap() {
	p11t -O >"$T/snap.txt" 2>"$T/snap.err" ||
		fail "pkcs11-tool -O lists the token" "$(head -c 300 "$T/snap.err")"
}

# unchanged: an assertion that the object listing is byte-for-byte $T/snap.txt
# (a listing that fails is never "unchanged")
unchanged() {
	if ! p11t -O >"$T/snap2.txt" 2>"$T/snap.err"; then
		fail "token objects unchanged" "pkcs11-tool -O failed: $(head -c 300 "$T/snap.err")"
	elif cmp -s "$T/snap.txt" "$T/snap2.txt"; then
		ok "token objects unchanged"
	else
		fail "token objects unchanged" "$(diff "$T/snap.txt" "$T/snap2.txt" | head -20)"
	fi
}

# certs_in FILE: how many certificates a PEM file holds.
certs_in() {
	grep -c -- '-----BEGIN CERTIFICATE-----' "$1"
}

# pub_of_cert PEM / pub_of_key LABEL: the public key of a certificate file,
# or of the key pair LABEL on token $TL (read by pkcs11-tool), DER in hex
pub_of_cert() {
	openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER | od -An -tx1 | tr -d ' \n'
}
pub_of_key() {
	pkcs11-tool --module "$SOFTHSM_MODULE" --token-label "$TL" --read-object --type pubkey \
		--label "$1" -o "$T/pub.der" >/dev/null 2>&1
	openssl pkey -pubin -inform DER -in "$T/pub.der" -outform DER | od -An -tx1 | tr -d ' \n'
}
