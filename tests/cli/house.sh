#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The library's house rules, checked on the source and the built objects:
# - libp11enroll speaks in reasons, never in the tool's options or commands:
#   no string literal in src/lib names a "--flag" or "p11enroll COMMAND";
# - arrows point down only: no file of src/lib calls a function of a file
#   that (transitively) calls it back (read from the objects' symbols, so a
#   call through a header still counts).
. "$(dirname "$0")/lib.sh"

case_ "src/lib names no CLI flag or command"
# the tool's commands, quoted as a message would ('renew')
cmds="($(cat "$TOP_SRCDIR"/src/tool/*.c | grep -o -E '\{ *"[a-z-]+", *cmd_' |
	sed -E 's/^\{ *"([a-z-]+)".*/\1/' | paste -sd '|'))"
# string literals only: comments may talk about the tool
hits=$(sed -E 's://.*$::' "$TOP_SRCDIR"/src/lib/*.c "$TOP_SRCDIR"/src/lib/*.h |
	grep -v -E '^\s*(\*|/\*)' |
	grep -o -E '"([^"\\]|\\.)*"' |
	grep -E -e '--[a-z]' -e '(^|[^b])p11enroll ' -e "'$cmds'")
if [ -z "$hits" ]; then
	ok "no string literal in src/lib names a flag or a command"
else
	fail "no string literal in src/lib names a flag or a command" "$hits"
fi
# the check itself: it must find a flag where there is one
probe=$(printf '%s\n' '	p11e__fail(ctx, 1, "re-run with --force");' |
	grep -o -E '"([^"\\]|\\.)*"' | grep -c -E -e '--[a-z]' -e '(^|[^b])p11enroll ')
equal "the check sees a flag in a string" "$probe" 1
case $cmds in
*'|renew|'*) ok "the command names are read from the tool's table: $cmds" ;;
*) fail "the command names are read from the tool's table" "got '$cmds'" ;;
esac

case_ "no call cycle between the files of src/lib"
objdir=$TOP_BUILDDIR/src/lib/.libs
objs=$(ls "$objdir"/libp11enroll_core_la-*.o 2>/dev/null)
if [ -z "$objs" ]; then
	fail "library objects found" "none in $objdir"
else
	ok "library objects found ($(echo "$objs" | wc -l))"
	defs=$(mktemp) edges=$(mktemp)
	for o in $objs; do
		f=${o##*libp11enroll_core_la-}
		nm -g --defined-only "$o" | awk -v f="${f%.o}" 'NF == 3 { print $3, f }'
	done | sort -u >"$defs"
	for o in $objs; do
		f=${o##*libp11enroll_core_la-}
		nm -u "$o" | awk -v f="${f%.o}" '{ print $2, f }'
	done | sort -k1,1 | join - "$defs" | awk '$2 != $3 { print $2, $3 }' | sort -u >"$edges"
	if [ ! -s "$edges" ]; then
		fail "calls between files are seen" "no edge read from the objects"
	else
		ok "calls between files are seen ($(wc -l <"$edges") arrows)"
	fi
	if loop=$(tsort "$edges" 2>&1 >/dev/null) && [ -z "$loop" ]; then
		ok "no file calls a file that calls it back"
	else
		fail "no file calls a file that calls it back" \
			"$(echo "$loop" | tr '\n' ' '); arrows: $(tr '\n' ';' <"$edges")"
	fi
	rm -f "$defs" "$edges"
fi

case_ "every source file names its licence (SPDX)"
# the man page's EXAMPLE is shown as it is, and stays without it
missing=$(cd "$TOP_SRCDIR" && for f in src/lib/*.[ch] src/tool/*.[ch] tests/*/*.[ch] tests/*.[ch] \
	tests/*/*.sh scripts/*; do
	[ "$f" = tests/lib/example-enroll.c ] && continue
	head -n 3 "$f" | grep -q 'SPDX-License-Identifier: LGPL-2.1-or-later' || echo "$f"
done)
if [ -z "$missing" ]; then
	ok "SPDX-License-Identifier in every source and script"
else
	fail "SPDX-License-Identifier in every source and script" "$(echo "$missing" | tr '\n' ' ')"
fi
check "LICENSE is the LGPL 2.1" grep -q 'GNU LESSER GENERAL PUBLIC LICENSE' "$TOP_SRCDIR/LICENSE"

finish
