#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# terminal.sh - what p11enroll does on a terminal, under script(1)'s
# pseudo-terminal: the PIN prompt (no echo, the PIN never in the
# transcript, a new PIN asked twice), the elapsed time of a slow key
# generation (the fault-injecting module makes C_GenerateKeyPair take its
# time, as a smartcard does) and nothing of it without a terminal, and
# retire's question, where only "y" removes the key.
#
# Environment: as tests/cli (lib.sh), plus P11FAULT_SO, the built wrapper
# (default $TOP_BUILDDIR/tests/fault/.libs/p11fault.so).
set -u
: "${TOP_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$TOP_SRCDIR/tests/cli/lib.sh"
need_fault_module
need_commands script
setup

SO_PIN=73914628 USER_PIN=46193827 NEW_PIN=91827364
export SO_PIN USER_PIN NEW_PIN
mk_token cli-tty
TL=cli-tty
M=$SOFTHSM_MODULE

# on_tty INPUT CMD...: CMD on a pseudo-terminal; the transcript in
# $T/tty.out ($T/tty.txt without carriage returns), the exit status in RC.
# INPUT is what is typed: "PROMPT|LINE" pairs, split by newlines (printf's
# escapes); each LINE is typed once PROMPT is on the terminal, so that it
# never comes before the tool has turned echo off.
on_tty() {
	_in=$1
	shift
	# script runs its command through a shell: quote every word for it
	_cmd=
	for _w in "$@"; do
		_cmd="$_cmd '$(printf '%s' "$_w" | sed "s/'/'\\\\''/g")'"
	done
	rm -f "$T/tty.in" "$T/tty.out"
	mkfifo "$T/tty.in"
	script -qec "$_cmd" /dev/null <"$T/tty.in" >"$T/tty.out" 2>&1 &
	_pid=$!
	exec 4>"$T/tty.in"
	printf '%b' "$_in" | while IFS= read -r _pair; do
		[ -n "$_pair" ] || continue
		_i=0
		while ! grep -q -F -e "${_pair%%|*}" "$T/tty.out" 2>/dev/null && [ $_i -lt 300 ] &&
			kill -0 "$_pid" 2>/dev/null; do
			sleep 0.1
			_i=$((_i + 1))
		done
		# ON_PROMPT: a command run while the tool waits (its results in files)
		[ -z "${ON_PROMPT:-}" ] || eval "$ON_PROMPT"
		printf '%s\n' "${_pair#*|}" >&4
	done
	wait "$_pid"
	RC=$?
	exec 4>&-
	rm -f "$T/tty.in"
	tr -d '\r' <"$T/tty.out" >"$T/tty.txt"
}

case_ "the user PIN prompt: no echo, and the PIN works"
on_tty "PIN for|$USER_PIN\n" env SOFTHSM2_CONF="$SOFTHSM2_CONF" "$P11ENROLL" --module "$M" --token "$TL" \
	keygen --label typed --type ec:P-256
equal "exit status" "$RC" 0
contains "$T/tty.txt" "PIN for '$TL': "
not_contains "$T/tty.txt" "$USER_PIN"
contains "$T/tty.txt" "object=typed;type=private"

case_ "Ctrl-C at the PIN prompt: the terminal echoes again"
# ^C typed once the prompt is there: the tool dies of SIGINT (130), and
# stty, run next on the same terminal by the shell, sees echo on.  on_tty's
# background job starts with SIGINT ignored (as every asynchronous command
# of a shell without job control): the shell keeps it so, the tool gets the
# default back, as from an interactive shell.
on_tty "PIN for|\\0003\n" sh -c '"$@"; echo "rc=$?"; stty -a' sh env --default-signal=INT \
	SOFTHSM2_CONF="$SOFTHSM2_CONF" "$P11ENROLL" --module "$M" --token "$TL" list
contains "$T/tty.txt" "PIN for '$TL': "
contains "$T/tty.txt" "rc=130"
check "stty -a after it: echo" grep -q -E '(^| )echo( |;|$)' "$T/tty.txt"
check_not "stty -a after it: no -echo" grep -q -E '(^| )-echo( |;|$)' "$T/tty.txt"

case_ "waiting at the prompt, the process is not dumpable"
# PR_SET_DUMPABLE 0: no core file with a PIN in it, and /proc/PID belongs to
# root, whoever runs the tool (/proc/PID/status; the directory keeps the owner
# it was first seen with).  Seen only where the tool's user is not root:
# as root, the tool runs as nobody (setpriv) on a token of nobody's.
NOBODY=
if [ "$(id -u)" = 0 ]; then
	if command -v setpriv >/dev/null 2>&1; then
		NOBODY="setpriv --reuid=65534 --regid=65534 --clear-groups"
		ND=$T/nobody
		mkdir -p "$ND/tokens"
		printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
			"$ND/tokens" >"$ND/softhsm2.conf"
		chown -R 65534:65534 "$ND"
		chmod 711 "$T"
		$NOBODY env SOFTHSM2_CONF="$ND/softhsm2.conf" softhsm2-util --init-token --free \
			--label nob --so-pin "$SO_PIN" --pin "$USER_PIN" >/dev/null
		CONF=$ND/softhsm2.conf TK=nob NHOME=$ND
	fi
else
	CONF=$SOFTHSM2_CONF TK=$TL NHOME=$HOME
fi
if [ "$(id -u)" = 0 ] && [ -z "$NOBODY" ]; then
	left_out "no setpriv to run the tool as nobody: its /proc/PID owner says nothing as root"
else
	rm -f "$T/tool.pid" "$T/owner"
	# shellcheck disable=SC2016 # expanded by on_tty's eval, at the prompt
	ON_PROMPT='stat -c "%u %U" /proc/$(cat "$T/tool.pid")/status >"$T/owner"; grep "^Uid:" /proc/$(cat "$T/tool.pid")/status >>"$T/owner"'
	# exec all the way down (sh, setpriv, env, libtool's wrapper): $$ is the tool;
	# $NOBODY is words or nothing
	# shellcheck disable=SC2016,SC2086
	on_tty "PIN for|$USER_PIN\n" sh -c 'echo $$ >"$0"; exec "$@"' "$T/tool.pid" $NOBODY \
		env HOME="$NHOME" SOFTHSM2_CONF="$CONF" "$P11ENROLL" --module "$M" --token "$TK" list
	ON_PROMPT=
	equal "exit status" "$RC" 0
	check "/proc/PID was looked at" test -s "$T/owner"
	equal "/proc/PID/status belongs to root, not the tool's user ($(sed -n 2p "$T/owner" | tr -s '\t' ' '))" \
		"$(head -n 1 "$T/owner" | cut -d' ' -f1)" 0
	check_not "the tool's user is not root" grep -q "^Uid:[[:space:]]*0[[:space:]]" "$T/owner"
fi

case_ "a wrong PIN typed: refused once, never asked again"
on_tty "PIN for|00000000\n" env SOFTHSM2_CONF="$SOFTHSM2_CONF" "$P11ENROLL" --module "$M" \
	--token "$TL" list
equal "exit status" "$RC" 3
contains "$T/tty.txt" "CKR_PIN_INCORRECT"
equal "asked once" "$(grep -o "PIN for '$TL': " "$T/tty.txt" | wc -l)" 1
not_contains "$T/tty.txt" "00000000"

case_ "a new PIN is asked twice; two that differ change nothing"
on_tty "PIN for|$NEW_PIN\nRepeat it|12121212\n" env SOFTHSM2_CONF="$SOFTHSM2_CONF" "$P11ENROLL" --module "$M" \
	--token "$TL" --pin env:USER_PIN pin change
equal "exit status" "$RC" 3
contains "$T/tty.txt" "Repeat it: "
contains "$T/tty.txt" "the two PINs differ"
not_contains "$T/tty.txt" "$NEW_PIN"
check "the old PIN still logs in (pkcs11-tool)" login_ok "$TL" "$USER_PIN"
on_tty "PIN for|$NEW_PIN\nRepeat it|$NEW_PIN\n" env SOFTHSM2_CONF="$SOFTHSM2_CONF" "$P11ENROLL" --module "$M" \
	--token "$TL" --pin env:USER_PIN pin change
equal "exit status" "$RC" 0
not_contains "$T/tty.txt" "$NEW_PIN"
check "the new PIN logs in (pkcs11-tool)" login_ok "$TL" "$NEW_PIN"
USER_PIN=$NEW_PIN

case_ "a slow key generation: the seconds on the terminal"
# C_GenerateKeyPair takes 2.4 s and more: at least two seconds are counted,
# and no more than the whole command took by a clock of ours (however slow
# this machine is); each second once, in order, up to the total
t0=$(mono)
on_tty "" env SOFTHSM2_CONF="$SOFTHSM2_CONF" P11FAULT_MODULE="$M" \
	P11FAULT_SLOW=C_GenerateKeyPair:2400 "$P11ENROLL" --module "$P11FAULT_SO" --token "$TL" \
	--pin env:USER_PIN keygen --label slow --type ec:P-256
dt=$(since "$t0")
equal "exit status" "$RC" 0
n=$(sed -n 's/.*done in \([0-9][0-9]*\) s$/\1/p' "$T/tty.txt")
check "'done in N s' ($n), N >= 2" test "${n:-0}" -ge 2
check "N s no more than the command took ($dt s)" num_le "${n:-0}" "$dt"
equal "the seconds counted: 1 to N, once each" \
	"$(tr '\r' '\n' <"$T/tty.out" | sed -n 's/^generating the key\.\.\. \([0-9][0-9]*\) s$/\1/p' | tr '\n' ' ')" \
	"$(seq -s ' ' 1 "${n:-0}") "
contains "$T/tty.txt" "object=slow;type=private"

case_ "the same without a terminal: no seconds"
expect_rc 0 env P11FAULT_MODULE="$M" P11FAULT_SLOW=C_GenerateKeyPair:1500 "$P11ENROLL" \
	--module "$P11FAULT_SO" --token "$TL" --pin env:USER_PIN keygen --label slow2 --type ec:P-256
not_contains "$ERR" " s"
check "stderr is empty" test ! -s "$ERR"

case_ "retire asks on a terminal; anything but y keeps the key"
for answer in n "" no x; do
	on_tty "[y/N]|$answer\n" env SOFTHSM2_CONF="$SOFTHSM2_CONF" "$P11ENROLL" --module "$M" \
		--token "$TL" --pin env:USER_PIN retire --key slow2
	contains "$T/tty.txt" "[y/N]"
	check "answer '$answer': the key is still there" p11 --token "$TL" --pin env:USER_PIN \
		csr --key slow2 --subject /CN=slow2 -o "$T/slow2.csr"
done
on_tty "[y/N]|y\n" env SOFTHSM2_CONF="$SOFTHSM2_CONF" "$P11ENROLL" --module "$M" --token "$TL" \
	--pin env:USER_PIN retire --key slow2
equal "answer y: exit status" "$RC" 0
expect_error 4 p11 --token "$TL" --pin env:USER_PIN csr --key slow2 --subject /CN=slow2 \
	-o "$T/slow2.csr"
contains "$ERR" "no private key 'slow2'"

finish
