#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# hardening-tool.sh - what a hostile token or certificate cannot do to the
# terminal or to a script: labels with terminal escapes are printed
# escaped, labels that are not UTF-8 survive --json; a pass: PIN is warned
# about; output files get the umask's mode or keep their own; ec:P-521 is
# documented where it is accepted.
set -u
. "$(dirname "$0")/lib.sh"
setup

SO_PIN=38472910 USER_PIN=51739264 NEW_PIN=64829173
export SO_PIN USER_PIN NEW_PIN

ESC=$(printf '\033')
BEL=$(printf '\007')
EVIL=$(printf 'ev\033]0;PWNED\007\033[31m')
BAD=$(printf 'bad\377x')

# no_raw_controls: neither $OUT nor $ERR holds a raw ESC or BEL byte
no_raw_controls() {
	for _f in "$OUT" "$ERR"; do
		if grep -q -e "$ESC" -e "$BEL" "$_f"; then
			fail "$(basename "$_f"): no raw ESC or BEL" "$(od -c "$_f" | head -5)"
		else
			ok "$(basename "$_f"): no raw ESC or BEL"
		fi
	done
}

mk_token "$EVIL"
TL=$EVIL

case_ "a key label with terminal escapes: keygen and list print it escaped"
expect_rc 0 p11 --token "$TL" --pin env:USER_PIN keygen --label "$EVIL" --type ec:P-256
no_raw_controls
expect_rc 0 p11 --token "$TL" --pin env:USER_PIN list
no_raw_controls
contains "$OUT" "private key 'ev\\x1b]0;PWNED\\x07\\x1b[31m'"

case_ "a token label with terminal escapes: tokens, status"
expect_rc 0 p11 tokens
no_raw_controls
contains "$OUT" "label:        ev\\x1b]0;PWNED\\x07"
expect_rc 3 p11 --token "$TL" status
no_raw_controls
contains "$OUT" "no client certificate on token 'ev\\x1b]0;PWNED\\x07\\x1b[31m'"

case_ "errors quoting a label: escaped"
expect_error 4 p11 --token "$TL" --pin env:USER_PIN csr --key "$EVIL.gone" --subject /CN=x -o "$T/x.csr"
no_raw_controls
contains "$ERR" "ev\\x1b]0;PWNED\\x07\\x1b[31m.gone"
expect_error 4 p11 --token "$EVIL.gone" tokens
no_raw_controls

case_ "C1 controls, raw or encoded in UTF-8, and DEL: escaped"
C1=$(printf 'c1\302\233x\233y\177')
expect_rc 0 p11 --token "$TL" --pin env:USER_PIN keygen --label "$C1" --type ec:P-256
expect_rc 0 p11 --token "$TL" --pin env:USER_PIN list
contains "$OUT" "private key 'c1\\xc2\\x9bx\\x9by\\x7f'"

case_ "valid UTF-8 is printed as it is"
UTF=$(printf 'gr\303\274n-\342\202\254')
expect_rc 0 p11 --token "$TL" --pin env:USER_PIN keygen --label "$UTF" --type ec:P-256
expect_rc 0 p11 --token "$TL" --pin env:USER_PIN list
contains "$OUT" "private key '$UTF'"

case_ "a key label that is not UTF-8: list --json keeps it"
expect_rc 0 p11 --token "$TL" --pin env:USER_PIN keygen --label "$BAD" --type ec:P-256
expect_rc 0 p11 --token "$TL" --pin env:USER_PIN --json list
equal "the key is listed, escaped" \
	"$(jq -r '[.[] | select(.class == "private-key") | .label] | map(select(startswith("bad"))) | .[]' "$OUT")" \
	'bad\xffx'
equal "label_hex holds its bytes" \
	"$(jq -r '.[] | select(.label == "bad\\xffx" and .class == "private-key") | .label_hex' "$OUT")" \
	626164ff78
equal "only labels that are not UTF-8 have label_hex (the key and its public half, the C1 pair)" \
	"$(jq -r '[.[] | select(.label_hex != null)] | length' "$OUT")" 4
expect_rc 0 p11 --token "$TL" --pin env:USER_PIN list
contains "$OUT" "private key 'bad\\xffx'"

case_ "a certificate label that is not UTF-8: status --json keeps it"
mk_ca ca "/CN=Hardening CA"
expect_rc 0 p11 --token "$TL" --pin env:USER_PIN csr --key "$BAD" --subject "/CN=bad.example" \
	-o "$T/bad.csr"
ca_sign ca "$T/bad.csr" "$T/bad.pem"
expect_rc 0 p11 --token "$TL" --pin env:USER_PIN import "$T/bad.pem" --label "$BAD"
expect_rc 0 p11 --token "$TL" --json status
equal "the certificate is there" "$(jq -r '.certificates | length' "$OUT")" 1
equal "its label, escaped" "$(jq -r '.certificates[0].label' "$OUT")" 'bad\xffx'
equal "its label_hex" "$(jq -r '.certificates[0].label_hex' "$OUT")" 626164ff78
equal "the token's label: escapes are JSON's own" "$(jq -r '.token' "$OUT")" "$EVIL"
expect_rc 0 p11 --token "$TL" status
contains "$OUT" "bad\\xffx"

case_ "a token label that is not UTF-8: tokens --json, pin change --json"
mk_token "$BAD"
expect_rc 0 p11 --json tokens
equal "both tokens listed" "$(jq -r '[.[] | select(.token_present and .initialized)] | length' "$OUT")" 2
equal "the label, escaped" "$(jq -r '.[] | select(.label_hex == "626164ff78") | .label' "$OUT")" 'bad\xffx'
expect_rc 0 p11 --token "$BAD" --pin env:USER_PIN --json pin change --new-pin env:NEW_PIN
equal "the JSON names the token" "$(jq -r '.token_hex' "$OUT")" 626164ff78
contains "$ERR" "user PIN of token 'bad\\xffx' changed"
check "the new PIN logs in" login_ok "$BAD" "$NEW_PIN"

case_ "pass: PINs: one warning per run, none with -q"
expect_rc 0 p11 --token "$TL" --pin "pass:$USER_PIN" --so-pin "pass:$SO_PIN" list
equal "one warning" "$(grep -c 'warning: a pass: PIN is on the command line' "$ERR")" 1
not_contains "$ERR" "$USER_PIN"
expect_rc 0 p11 -q --token "$TL" --pin "pass:$USER_PIN" list
check "stderr empty with -q" test ! -s "$ERR"
expect_rc 0 p11 --token "$TL" --pin env:USER_PIN list
check "no warning for env:" test ! -s "$ERR"

case_ "output files: new ones by the umask, replaced ones keep their mode"
rm -f "$T/m.csr"
(umask 077 && p11 --token "$TL" --pin env:USER_PIN csr --key "$UTF" --subject /CN=m -o "$T/m.csr") \
	>"$OUT" 2>"$ERR"
equal "umask 077: a new file is 0600" "$(stat -c %a "$T/m.csr")" 600
rm -f "$T/m.csr"
(umask 022 && p11 --token "$TL" --pin env:USER_PIN csr --key "$UTF" --subject /CN=m -o "$T/m.csr") \
	>"$OUT" 2>"$ERR"
equal "umask 022: a new file is 0644" "$(stat -c %a "$T/m.csr")" 644
chmod 640 "$T/m.csr"
(umask 000 && p11 --token "$TL" --pin env:USER_PIN csr --key "$UTF" --subject /CN=m2 -o "$T/m.csr") \
	>"$OUT" 2>"$ERR"
equal "an existing 0640 file stays 0640" "$(stat -c %a "$T/m.csr")" 640
check "and was replaced" sh -c "openssl req -in '$T/m.csr' -noout -subject | grep -q m2"

case_ "ec:P-521: in --help and the man pages, and generated"
for c in keygen enroll; do
	expect_rc 0 "$P11ENROLL" "$c" --help
	contains "$OUT" "ec:P-521"
	contains "$TOP_SRCDIR/docs/man/p11enroll-$c.md" "ec:P-521"
done
expect_rc 0 p11 --token "$TL" --pin env:USER_PIN keygen --label p521 --type ec:P-521
expect_rc 0 p11 --token "$TL" --pin env:USER_PIN list
contains "$OUT" "ec:P-521"

finish
