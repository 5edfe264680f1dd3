#!/bin/sh
# library.sh - libp11enroll(3)'s EXAMPLE, built against the installed-style
# library (public header, exported symbols only) as tests/lib/example-enroll:
# the page shows exactly that program, and it enrols a key on a fresh token,
# writes a request OpenSSL verifies, and reuses the key when run again.
set -u
. "$(dirname "$0")/lib.sh"
setup

EX=$TOP_BUILDDIR/tests/lib/example-enroll
SO_PIN=27364519 USER_PIN=91736452
export SO_PIN USER_PIN
mk_token demo
TL=demo

case_ "the man page shows the program that is built"
awk '/^# EXAMPLE/{e=1} e&&/^```$/{if(c){exit} c=1; next} c{print}' \
	"$TOP_SRCDIR/docs/man/libp11enroll.md" >"$T/example.c"
check "EXAMPLE = tests/lib/example-enroll.c" cmp -s "$T/example.c" \
	"$TOP_SRCDIR/tests/lib/example-enroll.c"
check "it is built" test -x "$EX"

case_ "the example enrols a key"
P11ENROLL_MODULE=$SOFTHSM_MODULE
export P11ENROLL_MODULE
expect_rc 0 "$EX"
cp "$OUT" "$T/ex.csr"
check "the request verifies" req_verifies "$T/ex.csr"
contains "$ERR" "new key pkcs11:"
contains "$ERR" "object=client;type=private"
equal "the request's public key is the token's" "$(req_pubkey "$T/ex.csr")" \
	"$(p11 --token demo --pin env:USER_PIN csr --key client --subject /CN=x | openssl req -pubkey -noout 2>&1)"

case_ "run again: the key is reused"
expect_rc 0 "$EX"
contains "$ERR" "reused key pkcs11:"
equal "one private key labelled client" "$(p11t -O --type privkey 2>/dev/null | grep -c 'label: *client$')" 1

case_ "a failure: the status as the exit code, one message"
USER_PIN=00000000
expect_rc 3 "$EX"
contains "$ERR" "enrol: "
contains "$ERR" "CKR_PIN_INCORRECT"
not_contains "$ERR" "00000000"

finish
