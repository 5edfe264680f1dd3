#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# library.sh - libp11enroll(3)'s EXAMPLE, built against the installed-style
# library (public header, exported symbols only) as tests/lib/example-enroll:
# the page shows exactly that program, and it enrols a key on a fresh token,
# writes a request OpenSSL verifies, and reuses the key when run again.  The
# library exports exactly the functions of p11enroll.h, each as P11E_1.0 or,
# added since, in the version script's P11E_1.1 node, and
# the example also builds, through pkg-config, against a 'make install' copy
# (the installed headers are complete).
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

case_ "the exports: every function of p11enroll.h, p11enroll-reader.h and p11enroll-ca.h, versioned P11E_1.0 or P11E_1.1, nothing else"
SO=$TOP_BUILDDIR/src/lib/.libs/libp11enroll.so
sed -n 's/^[a-z][a-z0-9_ *]*[ *]\(p11e_[a-z0-9_]*\)(.*/\1/p' "$TOP_SRCDIR/src/lib/p11enroll.h" \
	"$TOP_SRCDIR/src/lib/p11enroll-reader.h" "$TOP_SRCDIR/src/lib/p11enroll-ca.h" |
	sort >"$T/declared"
objdump -T "$SO" | awk '$2 == "g" && $4 != "*UND*" && $NF != $6 {print $(NF-1), $NF}' |
	sort -k 2 >"$T/exported"
check "the header declares functions" test "$(wc -l <"$T/declared")" -gt 50
equal "exported = declared" "$(awk '{print $2}' "$T/exported")" "$(cat "$T/declared")"
equal "every export is P11E_1.0 or P11E_1.1" \
	"$(awk '$1 != "P11E_1.0" && $1 != "P11E_1.1"' "$T/exported")" ""
# the 1.1 node lists exactly what came in 1.1
sed -n '/^P11E_1.1 {/,/^}/s/^[[:space:]]*\(p11e_[a-z0-9_]*\);$/\1/p' \
	"$TOP_SRCDIR/src/lib/libp11enroll.sym" | sort >"$T/sym-1.1"
equal "P11E_1.1 exports = the 1.1 node" "$(awk '$1 == "P11E_1.1" {print $2}' "$T/exported" | sort)" \
	"$(cat "$T/sym-1.1")"
check "P11E_1.1 has functions" test -s "$T/sym-1.1"

case_ "the example builds through pkg-config against an installed copy"
make -s -C "$TOP_BUILDDIR" install DESTDIR="$T/inst" >"$T/install.log" 2>&1
check "make install DESTDIR=" test -s "$T/inst$(pkg-config --variable=includedir \
	"$TOP_BUILDDIR/src/lib/p11enroll.pc")/p11enroll-version.h"
PKG_CONFIG_SYSROOT_DIR=$T/inst
PKG_CONFIG_PATH=$T/inst$(pkg-config --variable=libdir "$TOP_BUILDDIR/src/lib/p11enroll.pc")/pkgconfig
export PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_PATH
# the build's compiler and sanitizer flags: an ASan library needs an ASan program
MK_CC=$(sed -n 's/^CC = //p' "$TOP_BUILDDIR/Makefile")
MK_SAN=$(sed -n 's/^SAN_CFLAGS = //p' "$TOP_BUILDDIR/Makefile")
# shellcheck disable=SC2086,SC2046 # word splitting of the flags is meant
check "compiled and linked" ${MK_CC:-cc} $MK_SAN -Wall -Werror -o "$T/example" \
	"$TOP_SRCDIR/tests/lib/example-enroll.c" $(pkg-config --cflags --libs p11enroll)
unset PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_PATH
LD_LIBRARY_PATH=$(dirname "$(find "$T/inst" -name 'libp11enroll.so.1' | head -n 1)")
export LD_LIBRARY_PATH
equal "it runs with the installed library" \
	"$(ldd "$T/example" | awk '/libp11enroll/ {print $3}')" "$LD_LIBRARY_PATH/libp11enroll.so.1"
P11ENROLL_MODULE=$SOFTHSM_MODULE
export P11ENROLL_MODULE
expect_rc 0 "$T/example"
check "its request verifies" req_verifies "$OUT"
unset LD_LIBRARY_PATH
p11 --token demo --pin env:USER_PIN retire --key client --yes --force >/dev/null 2>&1

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
