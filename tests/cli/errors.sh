#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# errors.sh - every error: one "p11enroll: " line on stderr, nothing on
# stdout, the documented exit status.
set -u
. "$(dirname "$0")/lib.sh"
setup

SO_PIN=13572468 USER_PIN=86420975 NEW_PIN=29384756
export SO_PIN USER_PIN NEW_PIN
unset P11E_TEST_UNSET_VARIABLE
mk_token cli-err
TL=cli-err

case_ "unknown command"
expect_error 2 p11 frobnicate
contains "$ERR" "frobnicate"

case_ "unknown global option"
expect_error 2 p11 --frobnicate tokens
contains "$ERR" "--frobnicate"

case_ "unknown command option"
expect_error 2 p11 tokens --frobnicate
expect_error 2 p11 --so-pin env:SO_PIN --pin env:USER_PIN init-token --label x --frobnicate
expect_error 2 p11 --token "$TL" --pin env:USER_PIN pin change --frobnicate env:NEW_PIN

case_ "unknown pin action"
expect_error 2 p11 --token "$TL" --pin env:USER_PIN pin frobnicate

case_ "bad PIN source"
src="bogus:x"
expect_error 2 p11 --token "$TL" --pin "$src" pin change --new-pin env:NEW_PIN
# a mistyped source may be a PIN: at most 2 of its characters may show
i=1
while [ $i -le $((${#src} - 2)) ]; do
	piece=$(printf '%s' "$src" | cut -c "$i-$((i + 2))")
	not_contains "$ERR" "$piece"
	i=$((i + 1))
done
expect_error 2 p11 --token "$TL" --so-pin "$src" pin init --new-pin env:NEW_PIN
not_contains "$ERR" "bog"

case_ "env: variable not set"
expect_error 7 p11 --token "$TL" --pin env:P11E_TEST_UNSET_VARIABLE pin change --new-pin env:NEW_PIN
contains "$ERR" "P11E_TEST_UNSET_VARIABLE"
expect_error 7 p11 --token "$TL" --pin env:USER_PIN pin change --new-pin env:P11E_TEST_UNSET_VARIABLE

case_ "missing file:"
expect_error 7 p11 --token "$TL" --pin "file:$T/no-such.pin" pin change --new-pin env:NEW_PIN
contains "$ERR" "$T/no-such.pin"

case_ "bad --token URI"
expect_error 7 p11 --token 'pkcs11:%zz' --pin env:USER_PIN pin change --new-pin env:NEW_PIN

case_ "--token label that matches nothing"
tokens_json
present=$(jqt '.[] | select(.initialized) | .label')
equal "one token present" "$present" cli-err
expect_error 4 p11 --token no-such-token --pin env:USER_PIN pin change --new-pin env:NEW_PIN
contains "$ERR" "no-such-token"
contains "$ERR" "'$present'"
check "nothing was changed: PIN still logs in (pkcs11-tool)" login_ok cli-err "$USER_PIN"

case_ "a PIN in a --token or --key URI is never repeated"
expect_error 4 p11 --token "pkcs11:token=no-such-token?pin-value=$USER_PIN" list
contains "$ERR" "no-such-token"
not_contains "$ERR" "$USER_PIN"
expect_error 4 p11 --token "$TL" --pin env:USER_PIN csr --subject /CN=x -o "$T/x.csr" \
	--key "pkcs11:object=no-such-key?pin-value=$USER_PIN"
contains "$ERR" "no-such-key"
not_contains "$ERR" "$USER_PIN"
expect_error 4 p11 --token "$TL" export --cert "pkcs11:object=no-such-cert?pin-value=$USER_PIN"
contains "$ERR" "no-such-cert"
not_contains "$ERR" "$USER_PIN"

case_ "--module that does not exist"
expect_error 4 "$P11ENROLL" --module /nonexistent.so tokens
contains "$ERR" "/nonexistent.so"
expect_error 4 "$P11ENROLL" --module p11enroll-no-such-module tokens
contains "$ERR" "p11enroll-no-such-module"
expect_error 4 env P11ENROLL_MODULE=/nonexistent.so "$P11ENROLL" tokens

case_ "two tokens with the same label"
mk_token twin
mk_token twin
tokens_json
equal "two tokens labelled twin" "$(jqt '[.[] | select(.label == "twin")] | length')" 2
expect_error 4 p11 --token twin --pin env:USER_PIN pin change --new-pin env:NEW_PIN
contains "$ERR" "matches 2 tokens"
check "first twin PIN unchanged (pkcs11-tool)" login_ok twin "$USER_PIN"
for u in $(jqt '.[] | select(.label == "twin") | .uri'); do
	expect_rc 0 p11 --token "$u" --pin env:USER_PIN pin change --new-pin env:NEW_PIN
done

case_ "no token given, several initialised"
expect_error 4 p11 --pin env:USER_PIN pin change --new-pin env:NEW_PIN

finish
