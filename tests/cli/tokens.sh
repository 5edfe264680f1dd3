#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# tokens.sh - `tokens` and `modules`, checked against pkcs11-tool.
set -u
. "$(dirname "$0")/lib.sh"
setup

SO_PIN=35791246 USER_PIN=64219753 NEW_PIN=80246813
export SO_PIN USER_PIN NEW_PIN
LABEL="cli tokens"            # a blank, to be percent-encoded in the URI
URI_LABEL="cli%20tokens"
mk_token "$LABEL"

case_ "tokens --json"
expect_rc 0 p11 --json tokens
cp "$OUT" "$T/tokens.json"
check "stdout is a JSON array" jq -e 'type == "array"' "$T/tokens.json"
pkcs11-tool --module "$SOFTHSM_MODULE" -L >"$T/L.out" 2>&1
equal "as many slots as pkcs11-tool -L" "$(jqt 'length')" "$(grep -c '^Slot ' "$T/L.out")"
equal "one initialised token" "$(jqt '[.[] | select(.initialized == true)] | length')" 1
equal "one free token" "$(jqt '[.[] | select(.initialized == false)] | length')" 1

case_ "the initialised token"
tok=".[] | select(.initialized == true)"
equal "label" "$(jqt "$tok | .label")" "$LABEL"
serial=$(jqt "$tok | .serial")
uri=$(jqt "$tok | .uri")
sid=$(jqt "$tok | .slot_id")
check "serial is not empty" test -n "$serial"
for f in initialized user-pin-initialized login-required; do
	equal "flags has $f" "$(jqt "$tok | .flags | index(\"$f\") != null")" true
done
equal "user_pin_initialized" "$(jqt "$tok | .user_pin_initialized")" true
equal "login_required" "$(jqt "$tok | .login_required")" true
equal "token_present" "$(jqt "$tok | .token_present")" true
case $uri in pkcs11:*) ok "uri starts with pkcs11:";; *) fail "uri starts with pkcs11:" "$uri";; esac
case ";${uri#pkcs11:};" in
*";token=$URI_LABEL;"*) ok "uri has token=$URI_LABEL" ;;
*) fail "uri has token=$URI_LABEL" "$uri" ;;
esac
case ";${uri#pkcs11:};" in
*";serial=$serial;"*) ok "uri has serial=$serial" ;;
*) fail "uri has serial=$serial" "$uri" ;;
esac
contains "$T/L.out" "$serial"
contains "$T/L.out" "$LABEL"
contains "$T/L.out" "$(printf '(0x%x)' "$sid")"
equal "min_pin_len as pkcs11-tool" "$(jqt "$tok | .min_pin_len")/$(jqt "$tok | .max_pin_len")" \
	"$(sed -n 's|^ *pin min/max *: *||p' "$T/L.out" | head -n 1)"

case_ "the free token"
free=".[] | select(.initialized == false)"
fid=$(jqt "$free | .slot_id")
furi=$(jqt "$free | .uri")
equal "free token uri" "$furi" "pkcs11:slot-id=$fid"
equal "token_present" "$(jqt "$free | .token_present")" true
equal "no initialized flag" "$(jqt "$free | .flags | index(\"initialized\") == null")" true
contains "$T/L.out" "$(printf '(0x%x)' "$fid")"

case_ "tokens (text)"
expect_rc 0 p11 tokens
contains "$OUT" "$LABEL"
contains "$OUT" "$uri"
contains "$OUT" "$furi"
contains "$OUT" "$serial"

case_ "modules --json --module"
expect_rc 0 p11 --json modules
cp "$OUT" "$T/modules.json"
equal "one module" "$(jq -r 'length' "$T/modules.json")" 1
equal "path" "$(jq -r '.[0].path' "$T/modules.json")" "$SOFTHSM_MODULE"
equal "loaded" "$(jq -r '.[0].loaded' "$T/modules.json")" true
pkcs11-tool --module "$SOFTHSM_MODULE" -I >"$T/I.out" 2>&1
desc=$(jq -r '.[0].description' "$T/modules.json")
manu=$(jq -r '.[0].manufacturer' "$T/modules.json")
# SoftHSMv2 describes itself as "Implementation of PKCS11" and puts its name in the
# manufacturer: the description is compared with what pkcs11-tool reports.
# shellcheck disable=SC2016 # sh code, expanded by that shell, not here
check "description or manufacturer mentions SoftHSM" \
	sh -c 'printf "%s %s\n" "$1" "$2" | grep -qi softhsm' - "$desc" "$manu"
contains "$T/I.out" "Library          $desc (ver"
contains "$T/I.out" "Manufacturer     $manu"
contains "$T/I.out" "Cryptoki version $(jq -r '.[0].cryptoki_version' "$T/modules.json")"

case_ "modules --module by registered name"
# only where p11-kit has SoftHSMv2 registered as softhsm2
if "$P11ENROLL" --json modules 2>/dev/null | jq -e 'any(.[]; .name == "softhsm2")' >/dev/null
then
	expect_rc 0 "$P11ENROLL" --module softhsm2 --json modules
	equal "name of a module loaded by name" "$(jq -r '.[0].name' "$OUT")" softhsm2
	expect_rc 0 "$P11ENROLL" --module softhsm2 --json tokens
	equal "same tokens by name" "$(jq -r '[.[].uri] | sort | join(" ")' "$OUT")" \
		"$(jqt '[.[].uri] | sort | join(" ")')"
else
	left_out "softhsm2 is not registered with p11-kit: the module by name"
fi

case_ "the URI from tokens as --token"
expect_rc 0 p11 --token "$uri" --pin env:USER_PIN pin change --new-pin env:NEW_PIN
check "new PIN logs in (pkcs11-tool)" login_ok "$LABEL" "$NEW_PIN"
expect_rc 0 p11 --token "$uri" --pin env:NEW_PIN pin change --new-pin env:USER_PIN
check "first PIN logs in again (pkcs11-tool)" login_ok "$LABEL" "$USER_PIN"

case_ "the free token's URI as --token for init-token"
expect_rc 0 p11 --token "$furi" --so-pin env:SO_PIN --pin env:USER_PIN init-token --label second
check "second token logs in (pkcs11-tool)" login_ok second "$USER_PIN"

finish
