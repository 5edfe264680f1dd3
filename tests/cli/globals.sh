#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# globals.sh - global options after the command as before it; the command's
# own options (and their values) are never taken for global ones.
set -u
. "$(dirname "$0")/lib.sh"
setup

SO_PIN=24681357 USER_PIN=75318642
export SO_PIN USER_PIN
mk_token cli-globals
TL=cli-globals

case_ "tokens --json is --json tokens"
expect_rc 0 p11 --json tokens
cp "$OUT" "$T/before.json"
check "JSON" jq -e 'type == "array"' "$T/before.json"
expect_rc 0 p11 tokens --json
check "the same bytes" cmp -s "$OUT" "$T/before.json"
expect_rc 0 "$P11ENROLL" tokens --module "$SOFTHSM_MODULE" --json
check "--module after the command too" cmp -s "$OUT" "$T/before.json"
expect_rc 0 "$P11ENROLL" tokens --json --module="$SOFTHSM_MODULE"
check "--module=PATH after the command" cmp -s "$OUT" "$T/before.json"

case_ "--module X list is list --module X"
p11 --token "$TL" --pin env:USER_PIN keygen --label k1 --type ec:P-256 >/dev/null 2>&1
expect_rc 0 "$P11ENROLL" --module "$SOFTHSM_MODULE" --token "$TL" --pin env:USER_PIN --json list
cp "$OUT" "$T/list.json"
equal "the key is listed" "$(jq -r '[.[] | select(.class == "private-key") | .label] | join(",")' "$T/list.json")" k1
expect_rc 0 "$P11ENROLL" list --module "$SOFTHSM_MODULE" --token "$TL" --pin env:USER_PIN --json
check "the same bytes" cmp -s "$OUT" "$T/list.json"
expect_rc 0 "$P11ENROLL" --json list --token "$TL" --module "$SOFTHSM_MODULE" --pin env:USER_PIN
check "some before, some after" cmp -s "$OUT" "$T/list.json"

case_ "-v and -q after the command"
expect_rc 0 p11 tokens
not_contains "$ERR" "C_GetSlotList"
expect_rc 0 p11 tokens -v
contains "$ERR" "C_GetSlotList"
expect_rc 0 p11 tokens --verbose
contains "$ERR" "C_GetSlotList"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/sw.key" \
	-subj "/C=US/O=Example/CN=a.example" -addext "subjectAltName=DNS:a.example" \
	-out "$T/sw.csr" 2>/dev/null
export P11ENROLL_PROFILE_PATH="$TOP_SRCDIR/profiles"
expect_rc 0 "$P11ENROLL" lint "$T/sw.csr"
contains "$ERR" "meets profile"
expect_rc 0 "$P11ENROLL" lint "$T/sw.csr" -q
check "-q: nothing on stderr" test ! -s "$ERR"

case_ "a value of the command's option is the command's"
# a key labelled "--json": the label, not the global option
expect_rc 0 p11 --token "$TL" --pin env:USER_PIN keygen --label --json --type ec:P-256
check_not "stdout is not JSON" jq -e . "$OUT"
expect_rc 0 p11 --token "$TL" --pin env:USER_PIN --json list
equal "the key is labelled --json" \
	"$(jq -r '[.[] | select(.class == "private-key" and .label == "--json")] | length' "$OUT")" 1
# -o takes the next word too
cd "$T" || exit 99
expect_rc 0 p11 --token "$TL" --pin env:USER_PIN csr --key k1 --subject /CN=k1 -o -v
check "the request went to the file '-v'" req_verifies ./-v
not_contains "$ERR" "C_Sign"
cd - >/dev/null || exit 99

case_ "-- ends the options"
expect_error 7 "$P11ENROLL" lint -- --json
contains "$ERR" "--json"

case_ "a global option needs its value after the command too"
expect_error 2 p11 tokens --module
contains "$ERR" "'--module' needs a value"
expect_error 2 p11 tokens --json=yes
contains "$ERR" "'--json' takes no value"
# abbreviations are for before the command only
expect_error 2 p11 tokens --js
expect_rc 0 "$P11ENROLL" --mod "$SOFTHSM_MODULE" --js tokens
check "before the command, abbreviated" cmp -s "$OUT" "$T/before.json"

case_ "a clash: retire --force is retire's own"
mk_ca gca "/CN=Globals CA"
expect_rc 0 p11 --token "$TL" --pin env:USER_PIN enroll --label only --type ec:P-256 \
	--subject /CN=only -o "$T/only.csr"
ca_sign gca "$T/only.csr" "$T/only.pem"
expect_rc 0 p11 --token "$TL" --pin env:USER_PIN import "$T/only.pem"
# the global --force (last PIN try) does not lift retire's check, before or after
expect_error 6 p11 --token "$TL" --pin env:USER_PIN --force retire --key only --yes
contains "$ERR" "only"
expect_rc 0 p11 --token "$TL" --pin env:USER_PIN retire --key only --yes --force
contains "$ERR" "only"
expect_rc 0 p11 --token "$TL" --pin env:USER_PIN --json list
equal "retired" "$(jq -r '[.[] | select(.label == "only")] | length' "$OUT")" 0
expect_rc 0 p11 retire --help
contains "$OUT" "the global --force"

# For each command, every option its --help shows with a value: the word
# after it stays its value.  "CMD --OPT --json --help" prints the help
# (--json is OPT's value, --help the command's) or refuses '--json' as
# OPT's value; had --json been taken for the global option, the command
# would see "--OPT --help" and do neither.  And a command option named like
# a global one is said to be the command's own in its --help.
case_ "every command's options with a value, from its --help"
expect_rc 0 "$P11ENROLL" --help
globals=$(sed -n '/^Options:$/,/^$/p' "$OUT" | grep -oE -e '--[a-z-]+' | sort -u)
commands=$(sed -n '/^Commands:$/,/^$/p' "$OUT" | sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p' | grep -v '^help$')
check "--help lists commands" test -n "$commands"
for cmd in $commands; do
	"$P11ENROLL" "$cmd" --help >"$T/help" 2>&1
	# "  --key URI|LABEL", "  -o, --out FILE": a word in capitals after the name
	sed -n '/^Options:$/,/^$/p' "$T/help" |
		sed -n 's/^ *\(-[a-z], \)\{0,1\}\(--[a-z-]*\) [A-Z].*/\2/p' >"$T/valued"
	sed -n '/^Options:$/,/^$/p' "$T/help" |
		sed -n 's/^ *\(-[a-z]\), --[a-z-]* [A-Z].*/\1/p' >>"$T/valued"
	while read -r o; do
		"$P11ENROLL" "$cmd" "$o" --json --help >"$T/out" 2>&1
		if cmp -s "$T/out" "$T/help" || grep -q -F -e "'--json'" "$T/out"; then
			ok "$cmd $o: the next word is its value"
		else
			fail "$cmd $o: the next word is its value" \
				"'$cmd $o --json --help' did not print the help: add '${o#--}=' to $cmd's options in src/tool/main.c ($(head -c 200 "$T/out"))"
		fi
	done <"$T/valued"
	sed -n '/^Options:$/,/^$/p' "$T/help" | grep -oE -e '--[a-z-]+' | sort -u >"$T/named"
	while read -r o; do
		[ "$o" = --help ] && continue
		if printf '%s\n' "$globals" | grep -q -x -e "$o"; then
			contains "$T/help" "the global $o"
		fi
	done <"$T/named"
done

finish
