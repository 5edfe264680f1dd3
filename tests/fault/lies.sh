#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# lies.sh - a module that lies about counts and lengths (p11fault's
# P11FAULT_LIE): every command either succeeds (a lie that does not matter to
# it) or fails with one "p11enroll: " line and a documented exit status; none
# hangs (each run under timeout), crashes or reads past a buffer (the ASan
# build of scripts/check runs this).  Then, lie by lie, the message that names
# what the module did.
#
# Environment: as tests/cli (lib.sh), plus P11FAULT_SO, the built wrapper
# (default $TOP_BUILDDIR/tests/fault/.libs/p11fault.so).
set -u
: "${TOP_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$TOP_SRCDIR/tests/cli/lib.sh"
need_fault_module
setup

SO_PIN=61829374 USER_PIN=47302918
export SO_PIN USER_PIN
TL=fault-lies
mk_token "$TL"
# a run that takes longer than this hangs
LIMIT=${P11FAULT_LIES_TIMEOUT:-20}

# on the real module: an EC and an RSA key, the EC one with its certificate
# on the token, and a certificate for the RSA one to import under each lie
mk_ca ca "/CN=Lies CA"
for k in ec:P-256:lec rsa:2048:lrsa; do
	label=${k##*:}
	p11 --pin env:USER_PIN enroll --label "$label" --type "${k%:*}" --subject "/CN=$label" \
		-o "$T/$label.csr" >/dev/null 2>"$T/setup.err" || fail "setup $label" "$(cat "$T/setup.err")"
	ca_sign ca "$T/$label.csr" "$T/$label.pem"
done
p11 --pin env:USER_PIN import "$T/lec.pem" >/dev/null 2>"$T/setup.err" ||
	fail "setup import" "$(cat "$T/setup.err")"

# pl LIE ARGS...: the tool on the wrapper, which tells LIE
pl() {
	_lie=$1
	shift
	P11FAULT_MODULE=$SOFTHSM_MODULE P11FAULT_LIE=$_lie \
		timeout "$LIMIT" "$P11ENROLL" --module "$P11FAULT_SO" "$@"
}

# run LIE NAME ARGS...: one run, its output in $T/LIE.NAME.{out,err,rc}
run() {
	_l=$1 _n=$2
	shift 2
	pl "$_l" "$@" >"$T/$_l.$_n.out" 2>"$T/$_l.$_n.err"
	echo $? >"$T/$_l.$_n.rc"
}

# every command under LIE, one after the other
all_commands() {
	run "$1" tokens tokens
	run "$1" list --pin env:USER_PIN list
	run "$1" status --pin env:USER_PIN status
	run "$1" keygen --pin env:USER_PIN keygen --label "kg-$1" --type ec:P-256
	run "$1" csr-ec --pin env:USER_PIN csr --key lec --subject /CN=lec -o "$T/$1.ec.csr"
	run "$1" csr-rsa --pin env:USER_PIN csr --key lrsa --subject /CN=lrsa -o "$T/$1.rsa.csr"
	run "$1" import --pin env:USER_PIN import "$T/lrsa.pem"
	run "$1" export --pin env:USER_PIN export --cert lec -o "$T/$1.export.pem"
}

# honest LIE NAME: that run succeeded, or failed with a one-line error and a
# documented status; never a hang, a signal or a sanitizer report.
honest() {
	_l=$1 _n=$2
	_rc=$(cat "$T/$_l.$_n.rc")
	_what="$_n under $_l"
	if [ "$_rc" = 124 ]; then
		fail "$_what" "no answer in ${LIMIT}s: it hangs"
		return
	fi
	if [ "$_rc" -ge 128 ]; then
		fail "$_what" "killed by signal $((_rc - 128)): $(head -c 600 "$T/$_l.$_n.err")"
		return
	fi
	if grep -q -e 'Sanitizer' -e 'runtime error' "$T/$_l.$_n.err"; then
		fail "$_what" "sanitizer report: $(head -c 900 "$T/$_l.$_n.err")"
		return
	fi
	if [ "$_rc" = 0 ]; then
		ok "$_what: exit 0 (the lie does not matter here)"
		return
	fi
	if [ "$_rc" -gt 7 ]; then
		fail "$_what" "exit $_rc is no documented status: $(head -c 300 "$T/$_l.$_n.err")"
		return
	fi
	if [ "$(wc -l <"$T/$_l.$_n.err")" = 1 ] && grep -q '^p11enroll: ' "$T/$_l.$_n.err"; then
		ok "$_what: exit $_rc, $(cat "$T/$_l.$_n.err")"
	else
		fail "$_what" "exit $_rc, not one 'p11enroll: ' line: $(head -c 600 "$T/$_l.$_n.err")"
	fi
}

# Every command under the four lies of the finding; the other lies under
# the commands they are about.  Two lanes at a time (each run starts a
# process: most of the time is that).
t0=$(mono)
(
	all_commands slotlist-too-small
	all_commands findobjects-count
	run slotlist-count tokens tokens
	run slotlist-count list --pin env:USER_PIN list
) &
lane=$!
all_commands attr-length-grow
all_commands sign-length-grow
run findobjects-endless list --pin env:USER_PIN list
run attr-length-huge csr-rsa --pin env:USER_PIN csr --key lrsa --subject /CN=lrsa -o "$T/huge.csr"
wait "$lane"
# attr-stop: list's one attribute call asks every object what any key has;
# on a module that stops at the first attribute an object lacks, each
# object is read again as its class is, and the listing comes out the same
run attr-stop list-json --json --pin env:USER_PIN list
p11 --json --pin env:USER_PIN list >"$T/direct-list.json" 2>"$T/direct-list.err"
echo "# the runs took $(since "$t0") s"

seen=
for f in "$T"/*.rc; do
	f=${f##*/}
	f=${f%.rc}
	[ "${f%%.*}" = "$seen" ] || case_ "P11FAULT_LIE=${f%%.*}"
	seen=${f%%.*}
	honest "${f%%.*}" "${f#*.}"
done

# says LIE NAME STATUS TEXT: that run exited STATUS and its message has TEXT
says() {
	equal "$2 under $1: exit $3" "$(cat "$T/$1.$2.rc")" "$3"
	contains "$T/$1.$2.err" "$4"
}

case_ "what each lie is told as"
LARGER="the module returned a length larger than it announced"
says slotlist-too-small tokens 5 "C_GetSlotList: the slot list outgrew its buffer 4 times in a row"
says slotlist-count tokens 5 "C_GetSlotList: $LARGER (1002, room for 2)"
says findobjects-count list 5 "C_FindObjects: $LARGER (1064, room for 64)"
says findobjects-endless list 5 "C_FindObjects: more than 1048576 objects found"
says attr-length-huge csr-rsa 5 "C_GetAttributeValue: the module announced a value of 1099511627776 bytes"
says attr-length-grow csr-rsa 5 "C_GetAttributeValue: $LARGER"
equal "list under attr-stop: exit 0" "$(cat "$T/attr-stop.list-json.rc")" 0
equal "the token's own listing: 4 keys and 2 certificates at least" \
	"$(jq '[.[].class] | (map(select(. == "certificate")) | length) >= 2 and length >= 6' \
		"$T/direct-list.json" 2>&1)" true
check "list under attr-stop: the very listing of the token itself" \
	cmp -s "$T/attr-stop.list-json.out" "$T/direct-list.json"
# the request's signer words it by the CK_RV (-v has the length)
says sign-length-grow csr-ec 5 "C_Sign: the module hit an unrecoverable error (CKR_GENERAL_ERROR)"

finish
