#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# template.sh - a token that does not honour the non-exportable key
# template.  Through the fault-injecting module (p11fault), the token says
# after C_GenerateKeyPair that the new private key is extractable, or not
# sensitive, or was not made on the token: keygen and enroll must refuse
# with the policy status (6), name the attribute, destroy the new pair and
# write no request, leaving the token's objects as they were.  Nor does
# enroll reuse a key already there of which the token says so; csr for it
# works, with a warning.
#
# Environment: as tests/cli (lib.sh), plus P11FAULT_SO, the built wrapper
# (default $TOP_BUILDDIR/tests/fault/.libs/p11fault.so).
set -u
: "${TOP_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$TOP_SRCDIR/tests/cli/lib.sh"
need_fault_module
setup

SO_PIN=61825374 USER_PIN=28461937
export SO_PIN USER_PIN
mk_token fault-template
TL=fault-template

# pf BOOL ARGS...: the tool on the wrapper, which reports attribute BOOL
# (HEX:0|1) whatever the object holds
pf() {
	_b=$1
	shift
	P11FAULT_MODULE=$SOFTHSM_MODULE P11FAULT_BOOL=$_b \
		"$P11ENROLL" --module "$P11FAULT_SO" --token "$TL" --pin env:USER_PIN "$@"
}

case_ "a key already there stays"
expect_rc 0 p11 --token "$TL" --pin env:USER_PIN keygen --label kept --type ec:P-256

# attribute, its type, what the token claims
for a in CKA_EXTRACTABLE:0x162:1 CKA_SENSITIVE:0x103:0 CKA_NEVER_EXTRACTABLE:0x164:0 \
	CKA_ALWAYS_SENSITIVE:0x165:0 CKA_LOCAL:0x163:0; do
	name=${a%%:*} rest=${a#*:}
	claim=FALSE
	[ "${rest#*:}" = 1 ] && claim=TRUE
	for t in ec:P-256 rsa:2048; do
		case_ "the token says $name=$claim of a new $t key"
		snap
		expect_error 6 pf "$rest" keygen --label nope --type "$t"
		contains "$ERR" "did not honour the non-exportable key template"
		contains "$ERR" "$name=$claim"
		contains "$ERR" "destroyed"
		unchanged
		snap
		expect_error 6 pf "$rest" enroll --label nope --type "$t" --subject /CN=nope \
			-o "$T/nope.csr"
		contains "$ERR" "$name=$claim"
		no_file "$T/nope.csr"
		unchanged
	done
done

case_ "enroll does not reuse a key the token says may have left it"
snap
expect_error 6 pf 0x162:1 enroll --label kept --type ec:P-256 --subject /CN=kept -o "$T/kept.csr"
contains "$ERR" "key 'kept' on the token is not one born there"
contains "$ERR" "CKA_EXTRACTABLE=TRUE"
no_file "$T/kept.csr"
unchanged
expect_error 6 pf 0x163:0 enroll --label kept --type ec:P-256 --subject /CN=kept -o "$T/kept.csr"
contains "$ERR" "CKA_LOCAL=FALSE"
unchanged

case_ "csr for such a key works, with a warning"
expect_rc 0 pf 0x162:1 csr --key kept --subject /CN=kept -o "$T/kept.csr"
contains "$ERR" "warning: key 'kept' is not one born on the token"
contains "$ERR" "CKA_EXTRACTABLE=TRUE"
check "the request verifies" req_verifies "$T/kept.csr"
expect_rc 0 p11 --token "$TL" --pin env:USER_PIN csr --key kept --subject /CN=kept -o "$T/kept.csr"
not_contains "$ERR" "warning"

case_ "the same key made where the token keeps its word"
expect_rc 0 p11 --token "$TL" --pin env:USER_PIN keygen --label nope --type ec:P-256
check "the kept key is still there" p11 --token "$TL" --pin env:USER_PIN csr --key kept \
	--subject /CN=kept -o "$T/kept.csr"
check "its request verifies" req_verifies "$T/kept.csr"

finish
