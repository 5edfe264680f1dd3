#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# default-module.sh - no --module and no P11ENROLL_MODULE: p11-kit's proxy,
# which serves every module registered with p11-kit as one, on a private
# p11-kit registry that holds this test's SoftHSM and p11-kit's trust module
# (two modules: the token of a label is found in whichever holds it).
#
# The private registry is $HOME/.config/pkcs11: pkcs11.conf says
# "user-config: only" (p11-kit then reads no system module file), and
# modules/ registers the modules.  p11-kit 0.24 reads no user configuration
# for root ("skipping user config in program running as root"), so as root
# the tool runs in a user namespace as uid 1000 (unshare --map-user), where
# the test's files are still its own.  Without user namespaces, root falls
# back to the machine's registry when it registers SoftHSM (SOFTHSM2_CONF
# points it at this test's tokens); else the test is skipped.
set -u
. "$(dirname "$0")/lib.sh"
setup

SO_PIN=86420135 USER_PIN=13572468
export SO_PIN USER_PIN
TL="cli default module"
mk_token "$TL"

mkdir -p "$T/home/.config/pkcs11/modules" "$T/run"
chmod 700 "$T/run"
echo "user-config: only" >"$T/home/.config/pkcs11/pkcs11.conf"
echo "module: $SOFTHSM_MODULE" >"$T/home/.config/pkcs11/modules/p11e-softhsm.module"
TRUST=
if [ -r "$(pkg-config --variable=p11_module_path p11-kit-1 2>/dev/null)/p11-kit-trust.so" ]; then
	TRUST=1
	# without its system file's "disable-in: p11-kit-proxy": the proxy serves it too
	echo "module: p11-kit-trust.so" >"$T/home/.config/pkcs11/modules/p11e-trust.module"
fi

NS=
REGISTRY=private
if [ "$(id -u)" = 0 ]; then
	if unshare --user --map-user=1000 --map-group=1000 true 2>/dev/null; then
		NS="unshare --user --map-user=1000 --map-group=1000"
	elif cat /etc/pkcs11/modules/*.module /usr/share/p11-kit/modules/*.module 2>/dev/null |
		grep -q 'libsofthsm2'; then
		REGISTRY=system
		TRUST=
		echo "# root without user namespaces: on the machine's p11-kit registry"
	else
		echo "SKIP: root without user namespaces, and no SoftHSM registered with p11-kit"
		SKIPPED=1
		finish
	fi
fi

# pd ARGS...: the tool with no --module, on the private registry
pd() {
	# shellcheck disable=SC2086 # NS is a command and its options, or nothing
	HOME=$T/home XDG_RUNTIME_DIR=$T/run $NS "$P11ENROLL" "$@"
}

case_ "tokens, no --module ($REGISTRY registry)"
expect_rc 0 pd --json tokens
cp "$OUT" "$T/tokens.json"
equal "our token, once" "$(jqt "[.[] | select(.label == \"$TL\")] | length")" 1
equal "its URI names it" \
	"$(jqt ".[] | select(.label == \"$TL\") | .uri | test(\"token=cli%20default%20module\")")" true
if [ -n "$TRUST" ]; then
	equal "and the trust module's token" \
		"$(jqt '[.[] | select(.label == "System Trust")] | length')" 1
fi
expect_rc 0 pd tokens
contains "$OUT" "label:        $TL"

if [ "$REGISTRY" = private ]; then
	case_ "modules, no --module: the registered modules, not the proxy"
	expect_rc 0 pd modules
	contains "$OUT" "p11e-softhsm: $SOFTHSM_MODULE"
	[ -n "$TRUST" ] && contains "$OUT" "p11e-trust: "
	not_contains "$OUT" "p11-kit-proxy"
fi

case_ "keygen, csr and list with --token, no --module"
expect_rc 0 pd --token "$TL" --pin env:USER_PIN keygen --label dm-key --type ec:P-256
expect_rc 0 pd --token "$TL" --pin env:USER_PIN csr --key dm-key --subject /CN=dm.example \
	-o "$T/dm.csr"
check "the request verifies" req_verifies "$T/dm.csr"
expect_rc 0 pd --token "$TL" --pin env:USER_PIN --json list
check "list has the key" jq -e '[.[] | select(.label == "dm-key" and .class == "private-key")]
	| length == 1' "$OUT"
expect_rc 0 pd --token "pkcs11:token=cli%20default%20module" --pin env:USER_PIN list

case_ "a label no module has"
expect_error 4 pd --token "no such token" --pin env:USER_PIN list
contains "$ERR" "no such token"

case_ "P11ENROLL_MODULE still wins over the default"
P11ENROLL_MODULE=$T/no-such-module.so
export P11ENROLL_MODULE
expect_error 4 pd tokens
contains "$ERR" "no-such-module.so"
unset P11ENROLL_MODULE

finish
