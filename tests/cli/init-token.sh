#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# init-token.sh - initialising tokens, and what init-token refuses.
set -u
. "$(dirname "$0")/lib.sh"
setup

SO_PIN=24681357 USER_PIN=73915824 NEW_PIN=50938271
export SO_PIN USER_PIN NEW_PIN
upin=$(pin_file user.pin "$USER_PIN")

# free_id: the slot id of the only uninitialised token
free_id() {
	tokens_json
	jqt '[.[] | select(.token_present and (.initialized | not))] | if length == 1 then .[0].slot_id else "none" end'
}

case_ "init-token on the only free token"
fid=$(free_id)
check "one free token to start with" test "$fid" != none
expect_rc 0 p11 --so-pin env:SO_PIN --pin "file:$upin" init-token --label cli-init
printed=$(grep '^pkcs11:' "$OUT")
not_contains "$ERR" "chmod"
tokens_json
uri=$(jqt '.[] | select(.label == "cli-init") | .uri')
check "a URI is printed" test -n "$printed"
equal "printed URI is the token's URI in tokens" "$printed" "$uri"
equal "token is initialised" "$(jqt '.[] | select(.label == "cli-init") | .initialized')" true
equal "user PIN is initialised" \
	"$(jqt '.[] | select(.label == "cli-init") | .user_pin_initialized')" true
check "user PIN logs in (pkcs11-tool)" login_ok cli-init "$USER_PIN"
expect_rc 0 p11 --token "$printed" --pin env:USER_PIN pin change --new-pin env:NEW_PIN
expect_rc 0 p11 --token cli-init --pin env:NEW_PIN pin change --new-pin env:USER_PIN
check "user PIN logs in again (pkcs11-tool)" login_ok cli-init "$USER_PIN"
expect_rc 0 p11 --token cli-init --so-pin env:SO_PIN pin init --new-pin env:USER_PIN

case_ "init-token --json"
expect_rc 0 p11 --json --so-pin env:SO_PIN --pin env:USER_PIN init-token --label cli-json
equal "JSON label" "$(jq -r '.label' "$OUT")" cli-json
equal "JSON initialized" "$(jq -r '.initialized' "$OUT")" true
check "JSON token logs in (pkcs11-tool)" login_ok cli-json "$USER_PIN"

case_ "label of 32 bytes is accepted"
l32=abcdefghijklmnopqrstuvwxyz012345
expect_rc 0 p11 --so-pin env:SO_PIN --pin env:USER_PIN init-token --label "$l32"
tokens_json
equal "label kept whole" "$(jqt "[.[] | select(.label == \"$l32\")] | length")" 1

case_ "label longer than 32 bytes"
tokens_json
cp "$T/tokens.json" "$T/before.json"
expect_error 2 p11 --so-pin env:SO_PIN --pin env:USER_PIN init-token --label "${l32}6"
tokens_json
check "token list unchanged" cmp -s "$T/before.json" "$T/tokens.json"
# 17 two-byte characters: 34 bytes
l34=$(printf 'ééééééééééééééééé')
expect_error 2 p11 --so-pin env:SO_PIN --pin env:USER_PIN init-token --label "$l34"
tokens_json
check "token list unchanged (UTF-8 label)" cmp -s "$T/before.json" "$T/tokens.json"

case_ "already initialised token without --reinitialize"
echo "keep this" >"$T/keep.dat"
pkcs11-tool --module "$SOFTHSM_MODULE" --token-label cli-init --login --pin "$USER_PIN" \
	--write-object "$T/keep.dat" --type data --label keepme >"$T/w.out" 2>&1
check "object written (pkcs11-tool)" grep -q keepme "$T/w.out"
expect_error 2 p11 --token cli-init --so-pin env:SO_PIN --pin env:USER_PIN \
	init-token --label cli-init
contains "$ERR" "--reinitialize"
check "object still there (pkcs11-tool)" login_ok cli-init "$USER_PIN"
contains "$T/p11tool.out" keepme
sid=$(jqt '.[] | select(.label == "cli-init") | .slot_id')
expect_error 2 p11 --so-pin env:SO_PIN --pin env:USER_PIN \
	init-token --label other --slot "$sid"
contains "$ERR" "--reinitialize"

case_ "--reinitialize erases the token"
expect_rc 0 p11 --token cli-init --so-pin env:SO_PIN --pin env:NEW_PIN \
	init-token --label cli-init --reinitialize
check "new user PIN logs in (pkcs11-tool)" login_ok cli-init "$NEW_PIN"
not_contains "$T/p11tool.out" keepme

case_ "--slot with a nonexistent slot"
tokens_json
cp "$T/tokens.json" "$T/before.json"
bad=$(jqt '[.[].slot_id] | max + 1')
expect_error 4 p11 --so-pin env:SO_PIN --pin env:USER_PIN init-token --label x --slot "$bad"
tokens_json
check "token list unchanged" cmp -s "$T/before.json" "$T/tokens.json"

case_ "missing --label"
expect_error 2 p11 --so-pin env:SO_PIN --pin env:USER_PIN init-token
contains "$ERR" "--label"

case_ "user PIN shorter than min_pin_len"
fid=$(free_id)
min=$(jqt ".[] | select(.slot_id == $fid) | .min_pin_len")
if [ "$min" -gt 1 ] 2>/dev/null; then
	SHORT_PIN=$(printf '%.*s' $((min - 1)) 9182736450918273645)
	export SHORT_PIN
	expect_error 2 p11 --so-pin env:SO_PIN --pin env:SHORT_PIN init-token --label short
	tokens_json
	equal "token stays uninitialised" "$(jqt ".[] | select(.slot_id == $fid) | .initialized")" false
	equal "no token labelled short" "$(jqt '[.[] | select(.label == "short")] | length')" 0
else
	fail "min_pin_len" "cannot make a short PIN for min_pin_len '$min'"
fi

case_ "file: PIN readable by others"
wpin=$(pin_file world.pin "$USER_PIN")
chmod 644 "$wpin"
expect_rc 0 p11 --so-pin env:SO_PIN --pin "file:$wpin" init-token --label cli-world
contains "$ERR" "chmod"
contains "$ERR" "$wpin"
check "user PIN from it logs in (pkcs11-tool)" login_ok cli-world "$USER_PIN"

finish
