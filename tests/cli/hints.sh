#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# hints.sh - the library reports why a command failed (p11e_reason); the tool
# adds what to do in its own terms (an option or a command).  Each refusal
# below is one error line, its documented exit code, and the hint that names
# the option a user would change; every one left the token as it was.
set -u
. "$(dirname "$0")/lib.sh"
setup

SO_PIN=62831853 USER_PIN=14142135
export SO_PIN USER_PIN
mk_token cli-hints
TL=cli-hints
mk_ca ca "/CN=Hints CA"

u() {
	p11 --token "$TL" --pin env:USER_PIN "$@"
}
# refused RC HINT CMD...: exit RC, one error line, HINT in it
refused() {
	_rc=$1 _hint=$2
	shift 2
	expect_error "$_rc" "$@"
	contains "$ERR" "$_hint"
}

expect_rc 0 u enroll --label web --type ec:P-256 --subject /CN=web.example -o "$T/web.csr"
expect_rc 0 u enroll --label other --type ec:P-256 --subject /CN=other.example -o "$T/other.csr"
ca_sign ca "$T/web.csr" "$T/web.pem"
ca_sign ca "$T/other.csr" "$T/expired.pem" "$(utc '-30 days')" "$(utc '-1 day')"
snap

case_ "tokens and modules"
refused 4 "check --token" p11 --token no-such-token list
refused 2 "give --token a token label or a pkcs11: URI from 'p11enroll tokens'" p11 --token "" list
refused 4 "check --module" "$P11ENROLL" --module "$T/no-such-module.so" tokens

case_ "keys"
refused 4 "check --key" u csr --key no-such-key --subject /CN=x
refused 2 "give --type with the key's type" u enroll --label web --type rsa:2048 --subject /CN=x \
	-o "$T/x.csr"
refused 2 "leave out --id" u enroll --label web --type ec:P-256 --id 0102 --subject /CN=x \
	-o "$T/x.csr"
refused 2 "give --subject or a --config" u csr --key web

case_ "certificates"
refused 7 "--allow-expired" u import "$T/expired.pem"
refused 7 "give CA certificates with --chain" u import "$T/ca.pem"
refused 7 "check --key" u import "$T/web.pem" --key other
refused 4 "'p11enroll list'" u export --cert no-such-cert

case_ "the token is as it was"
unchanged

finish
