#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# help-man.sh - the man pages and --help name the same options; the man
# pages are built and render.
set -u
. "$(dirname "$0")/lib.sh"

T=$(mktemp -d "${TMPDIR:-/tmp}/p11enroll-cli.XXXXXX") || exit 99
trap cleanup EXIT
trap 'exit 130' INT TERM
OUT=$T/stdout
ERR=$T/stderr
MAN_SRC=$TOP_SRCDIR/docs/man
MAN_OUT=$TOP_BUILDDIR/docs/man

# long options in the OPTIONS section of a man page source
man_options() {
	sed -n '/^# OPTIONS$/,/^# /p' "$1" | grep -oE -e '--[a-z-]+' | sed 's/-*$//' | sort -u
}

# long options in the "Options:" block of a help text (up to a blank line)
help_options() {
	sed -n '/^Options:$/,/^$/p' "$1" | grep -oE -e '--[a-z-]+' | sed 's/-*$//' | sort -u
}

# compare_options PAGE HELPFILE
compare_options() {
	man_options "$MAN_SRC/$1.md" >"$T/man.opts"
	help_options "$2" >"$T/help.opts"
	if [ ! -s "$T/man.opts" ] || [ ! -s "$T/help.opts" ]; then
		fail "$1: options" "no options found (man: $(wc -l <"$T/man.opts"), help: $(wc -l <"$T/help.opts"))"
		return
	fi
	if cmp -s "$T/man.opts" "$T/help.opts"; then
		ok "$1: OPTIONS and --help name the same options ($(tr '\n' ' ' <"$T/help.opts"))"
	else
		fail "$1: OPTIONS and --help name the same options" \
			"only in $1.md: $(comm -23 "$T/man.opts" "$T/help.opts" | tr '\n' ' '); only in --help: $(comm -13 "$T/man.opts" "$T/help.opts" | tr '\n' ' ')"
	fi
}

case_ "p11enroll --help"
expect_rc 0 "$P11ENROLL" --help
cp "$OUT" "$T/main.help"
check "stderr empty" test ! -s "$ERR"
compare_options p11enroll "$T/main.help"
expect_rc 0 "$P11ENROLL" help
check "'help' prints the same as --help" cmp -s "$OUT" "$T/main.help"

# the commands --help lists, but help itself
commands=$(sed -n '/^Commands:$/,/^$/p' "$T/main.help" | sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p' | grep -v '^help$')
check "--help lists commands" test -n "$commands"

for cmd in $commands; do
	case_ "$cmd --help"
	if [ ! -f "$MAN_SRC/p11enroll-$cmd.md" ]; then
		fail "man page source" "no $MAN_SRC/p11enroll-$cmd.md"
		continue
	fi
	expect_rc 0 "$P11ENROLL" "$cmd" --help
	cp "$OUT" "$T/$cmd.help"
	check "stderr empty" test ! -s "$ERR"
	compare_options "p11enroll-$cmd" "$T/$cmd.help"
	expect_rc 0 "$P11ENROLL" help "$cmd"
	check "'help $cmd' prints the same as '$cmd --help'" cmp -s "$OUT" "$T/$cmd.help"
done

case_ "help of an unknown command"
expect_error 2 "$P11ENROLL" help frobnicate

case_ "every man page source has a command"
for md in "$MAN_SRC"/p11enroll-*.md; do
	c=${md##*/p11enroll-}
	c=${c%.md}
	# a file format (p11enroll-manifest(5)) is no command
	sed -n '1p' "$md" | grep -q '^% [^ ]* 1 ' || continue
	# shellcheck disable=SC2086 # meant to split into words
	case " $(printf '%s ' $commands)" in
	*" $c "*) ok "$c is a command" ;;
	*) fail "$c is a command" "p11enroll --help does not list $c" ;;
	esac
done

case_ "man pages"
for md in "$MAN_SRC"/*.md; do
	page=$(basename "$md" .md)
	# the section from the title line: "% NAME 1 ..." (commands), 3 (the library), 5 (files)
	sec=$(sed -n '1s/^% [^ ]* \([0-9]\) .*/\1/p' "$md")
	man1=$MAN_OUT/$page.${sec:-1}
	if [ ! -f "$man1" ]; then
		fail "$page.${sec:-1} built" "no $man1 (make -C $TOP_BUILDDIR docs/man/$page.${sec:-1})"
		continue
	fi
	ok "$page.${sec:-1} built"
	if [ -n "$(find "$md" -newer "$man1")" ]; then
		fail "$page.${sec:-1} up to date" "$md is newer than $man1"
	else
		ok "$page.${sec:-1} up to date"
	fi
	MANWIDTH=80 MANPAGER=cat PAGER=cat man -l "$man1" >"$T/$page.txt" 2>"$T/$page.err"
	rc=$?
	equal "man -l $page.${sec:-1} exits 0" "$rc" 0
	if [ -s "$T/$page.err" ]; then
		fail "man -l $page.${sec:-1} has no errors" "$(head -c 600 "$T/$page.err")"
	else
		ok "man -l $page.${sec:-1} has no errors"
	fi
	contains "$T/$page.txt" "NAME"
	contains "$T/$page.txt" "$page - "
	man_options "$md" >"$T/man.opts"
	# shellcheck disable=SC2013 # one option a word
	for o in $(cat "$T/man.opts"); do
		contains "$T/$page.txt" "$o"
	done
done

finish
