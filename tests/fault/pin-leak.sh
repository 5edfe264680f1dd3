#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# pin-leak.sh - the PIN-leak sweep: every command, with -v, with each PIN
# source, on success and on the failures the fault-injecting module (p11fault)
# can cause, and the PINs searched for in everything the run left: stdout
# (text or JSON), stderr, the files it wrote (requests, exports), its
# temporary and lock directories, its HOME and the token's own files.
#
# The runs are a table (one line a run: command, PIN source, fault, output
# form), built in two steps.  First each command runs cleanly once with every
# PIN source (pass:, env:, file:, fd:, the --token URI's pin-value; a source
# for the user PIN, the SO PIN and the new PIN alike) through the wrapper,
# which logs its calls.  From the env: run's log come the faults that command
# can meet: on the calls that carry a PIN (C_Login, the engine's own login
# among them, C_SetPIN, C_InitPIN, C_InitToken) the token's refusals
# (CKR_PIN_INCORRECT, CKR_PIN_LOCKED, CKR_PIN_INVALID), a C_Sign that fails
# or finds the session logged out, and CKR_DEVICE_ERROR on a few more calls.
# Each fault runs with one source, the sources taken in turn, and the output
# text and JSON in turn (P11FAULT_PIN_LEAK_FULL=1: every fault with every
# source, some three times as long).  Each run starts from a pristine copy of
# the token and must reach its fault (the wrapper's log has that call).
#
# The PINs are random 9-digit values, new each run of the script; a hit is
# the PIN as text, as hex (plain, ':' or ' ' between bytes) or as a URI
# percent-encodes it, in any case.  Any hit fails, naming the command line
# and the file.  The count of runs checked is printed, and fewer than the
# table must have makes the test fail: it never passes having looked at
# nothing.
#
# Environment: as tests/cli (lib.sh), plus P11FAULT_SO (the built wrapper),
# P11FAULT_JOBS (workers in parallel, 2), P11FAULT_PIN_LEAK_FULL and
# P11FAULT_PIN_LEAK_COMMANDS (only these, e.g. "csr-engine enroll-engine").
set -u
: "${TOP_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$TOP_SRCDIR/tests/cli/lib.sh"
: "${P11FAULT_JOBS:=2}"
: "${P11ENROLL_PROFILE_PATH:=$TOP_SRCDIR/profiles}"
: "${P11ENROLL_TOKENS_PATH:=$TOP_SRCDIR/tokens}"
export P11ENROLL_PROFILE_PATH P11ENROLL_TOKENS_PATH
need_fault_module
need_commands pkcs11-tool openssl od
setup
START=$(mono)
M=$SOFTHSM_MODULE
TL=leak
US=$(printf '\037')
TIMEOUT=
command -v timeout >/dev/null 2>&1 && TIMEOUT="timeout 120"

# the PINs: random, 9 digits, no two alike
rand_pin() {
	od -An -N4 -tu4 /dev/urandom | awk '{ printf "%09d\n", 100000000 + $1 % 900000000 }'
}
USER_PIN=$(rand_pin)
SO_PIN=$(rand_pin)
NEW_PIN=$(rand_pin)
while [ "$SO_PIN" = "$USER_PIN" ]; do SO_PIN=$(rand_pin); done
while [ "$NEW_PIN" = "$USER_PIN" ] || [ "$NEW_PIN" = "$SO_PIN" ]; do NEW_PIN=$(rand_pin); done
export USER_PIN SO_PIN NEW_PIN
echo "# PINs this run: user $USER_PIN, SO $SO_PIN, new $NEW_PIN"
mkdir -m 700 "$T/pins"
for _p in user:$USER_PIN so:$SO_PIN new:$NEW_PIN; do
	printf '%s\n' "${_p#*:}" >"$T/pins/${_p%%:*}.pin"
done
chmod 600 "$T/pins/"*.pin

# the patterns: each PIN as text, hex and percent-encoded (grep -F -i)
for _p in "$USER_PIN" "$SO_PIN" "$NEW_PIN"; do
	printf '%s\n' "$_p"
	printf '%s' "$_p" | od -An -tx1 -v | tr -d ' \n'
	echo
	printf '%s' "$_p" | od -An -tx1 -v | sed 's/^ *//; s/ *$//' | tr -s ' \n' '  ' | sed 's/ $//'
	echo
	printf '%s' "$_p" | od -An -tx1 -v | sed 's/^ *//; s/ *$//' | tr -s ' \n' '::' | sed 's/:$//'
	echo
	printf '%s' "$_p" | od -An -tx1 -v | tr -s ' \n' '%%' | sed 's/%$//'
	echo
done >"$T/patterns"
equal "15 patterns, none empty" "$(grep -c . "$T/patterns")" 15

# --- the token every run starts from --------------------------------------
# k: a key with its certificate and the CA's (csr, export, renew, list,
# status); i: a key whose certificate is in $T/i.pem, not yet on the token
# (import); old: a key without a certificate (retire).  EC P-256: SoftHSM
# makes them fast.
mk_token "$TL"
mk_ca ca "/O=Test/CN=Leak CA"
# k's request meets the mtls-client profile (lint)
for k in k i old; do
	p11 --token "$TL" --pin env:USER_PIN enroll --label $k --type ec:P-256 \
		--subject "/C=US/O=Example/CN=$k.example" --san "DNS:$k.example" \
		-o "$T/$k.csr" >/dev/null 2>"$T/setup.err" ||
		fail "setup: enroll $k" "$(cat "$T/setup.err")"
done
ca_sign ca "$T/k.csr" "$T/k.pem"
ca_sign ca "$T/i.csr" "$T/i.pem"
p11 --token "$TL" --pin env:USER_PIN import "$T/k.pem" --chain "$T/ca.pem" >/dev/null \
	2>"$T/setup.err" || fail "setup: import k" "$(cat "$T/setup.err")"
cp -a "$T/tokens" "$T/snap"
mkdir "$T/empty"

# the searcher must find what it is for, and nothing in a token untouched
printf 'pin-value=%s\n' "$USER_PIN" >"$T/control.txt"
printf '%s' "$SO_PIN" | od -An -tx1 >"$T/control.hex"
check "control: the search finds a PIN as text" grep -q -F -i -f "$T/patterns" "$T/control.txt"
check "control: and as a hex dump" grep -q -F -i -f "$T/patterns" "$T/control.hex"
check_not "the pristine token's files hold no PIN" grep -r -q -F -i -f "$T/patterns" "$T/snap"
rm -f "$T/control.txt" "$T/control.hex"

# --- the table ------------------------------------------------------------
SOURCES="pass env file fd uri"
COMMANDS="tokens init-token pin-change pin-init pin-unblock keygen csr-provider csr-engine
	enroll-provider enroll-engine import list status export renew-provider renew-engine
	retire lint"
ENG=$(openssl version -e | sed 's/^ENGINESDIR: "\(.*\)"/\1/')/pkcs11.so
if [ -n "${P11FAULT_PIN_LEAK_COMMANDS:-}" ]; then
	for c in $P11FAULT_PIN_LEAK_COMMANDS; do
		case " $(echo $COMMANDS) " in *" $c "*) ;; *) fail "P11FAULT_PIN_LEAK_COMMANDS" "no command '$c'" ;; esac
	done
	COMMANDS=$P11FAULT_PIN_LEAK_COMMANDS
fi
if [ ! -r "$ENG" ]; then
	left_out "no pkcs11 engine at $ENG: the engine backend's runs"
	COMMANDS=$(echo $COMMANDS | tr ' ' '\n' | grep -v -e '-engine$' | tr '\n' ' ')
fi

# src ROLE SOURCE: the source option for the user, SO or new PIN; with the
# URI's pin-value only the user PIN rides in the URI, the others come from
# the environment
src() {
	case $2 in
	pass) eval "echo pass:\$$(echo "$1" | tr a-z A-Z)_PIN" ;;
	env) echo "env:$(echo "$1" | tr a-z A-Z)_PIN" ;;
	file) echo "file:$T/pins/$1.pin" ;;
	fd) case $1 in user) echo fd:3 ;; so) echo fd:4 ;; new) echo fd:5 ;; esac ;;
	uri) case $1 in user) ;; *) echo "env:$(echo "$1" | tr a-z A-Z)_PIN" ;; esac ;;
	esac
}

# cmd_set NAME SOURCE: the whole command line in CMD (word-split; no blanks
# in $T), global options before the command, as p11enroll(1) writes them;
# the token directory it starts from in SNAP
cmd_set() {
	SNAP=$T/snap
	_tok="--token $TL"
	_u="--pin $(src user "$2")"
	if [ "$2" = uri ]; then
		_tok="--token pkcs11:token=$TL?pin-value=$USER_PIN"
		_u=
	fi
	_so="--so-pin $(src so "$2")"
	_new="--new-pin $(src new "$2")"
	case $1 in
	tokens) CMD="$_tok $_u -v tokens" ;;
	init-token)
		SNAP=$T/empty
		# the URI's pin-value is not the PIN init-token sets: that comes from --pin
		[ "$2" = uri ] && _tok="--token pkcs11:?pin-value=$USER_PIN" _u="--pin env:USER_PIN" || _tok=
		CMD="$_tok $_so $_u -v init-token --label fresh"
		;;
	pin-change) CMD="$_tok $_u -v pin change $_new" ;;
	pin-init) CMD="$_tok $_so $_u -v pin init $_new" ;;
	pin-unblock) CMD="$_tok $_so $_u -v pin unblock $_new" ;;
	keygen) CMD="$_tok $_u -v keygen --label knew --type ec:P-256" ;;
	csr-*) CMD="$_tok $_u -v csr --backend ${1#csr-} --key k --subject /CN=leak.example -o out.csr" ;;
	enroll-*)
		CMD="$_tok $_u -v enroll --backend ${1#enroll-} --label enew --type ec:P-256"
		CMD="$CMD --subject /CN=enew.example -o out.csr"
		;;
	import) CMD="$_tok $_u -v import $T/i.pem --chain $T/ca.pem" ;;
	list) CMD="$_tok $_u -v list" ;;
	status) CMD="$_tok $_u -v status" ;;
	export) CMD="$_tok $_u -v export --cert k --chain -o out.pem" ;;
	renew-*) CMD="$_tok $_u -v renew --backend ${1#renew-} --key k -o renew.csr" ;;
	retire) CMD="$_tok $_u -v retire --key old --yes" ;;
	lint) CMD="$_tok $_u -v lint $T/k.csr --profile mtls-client" ;;
	*) return 1 ;;
	esac
}

# the JSON form, in turn, so that each command and each source has both
json_of() {
	[ $(($1 % 2)) -eq 1 ] && echo --json || echo -
}

# --- one run --------------------------------------------------------------

# In the build tree the tool is libtool's wrapper script, which costs more
# than most runs here: run the program it runs, with the library path it sets.
BIN=$P11ENROLL
_real=$(dirname "$P11ENROLL")/.libs/$(basename "$P11ENROLL")
_lib=$(sed -n 's/^ *LD_LIBRARY_PATH="\([^:"]*\):.*/\1/p' "$P11ENROLL" 2>/dev/null | head -n 1)
if [ -x "$_real" ] && [ -n "$_lib" ] &&
	[ "$(LD_LIBRARY_PATH=$_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} "$_real" --version 2>&1)" = \
	"$("$P11ENROLL" --version 2>&1)" ]; then
	BIN=$_real
	LD_LIBRARY_PATH=$_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
	export LD_LIBRARY_PATH
fi

# run_one ID NAME SOURCE FAULT JSON: the run in its own directory $W/r (a
# fresh copy of the token, its own lock, temporary and home directories,
# the working directory the files are written to); one result line in $RES:
#   R ID NAME SOURCE FAULT JSON RC REACHED VERBOSE HITS
run_one() {
	_id=$1 _name=$2 _src=$3 _fault=$4 _json=$5
	cmd_set "$_name" "$_src" || { echo "E$US$_id${US}no command $_name" >>"$RES"; return; }
	_r=$W/r
	rm -rf "$_r"
	mkdir -p "$_r/run" "$_r/tmp" "$_r/home" "$_r/work"
	chmod 700 "$_r/run"
	cp -a "$SNAP" "$_r/tokens"
	cat >"$_r/softhsm2.conf" <<EOF
directories.tokendir = $_r/tokens
objectstore.backend = file
log.level = ERROR
EOF
	_f= _ff= _n=0
	if [ "$_fault" != - ]; then
		# FUNC:N:RV
		_ff=${_fault%%:*}
		_n=${_fault#*:}
		_n=${_n%%:*}
		_f="P11FAULT_FAIL=$_n:${_fault##*:} P11FAULT_FAIL_FUNC=$_ff"
	fi
	_j=
	[ "$_json" = - ] || _j=$_json
	(cd "$_r/work" && env SOFTHSM2_CONF="$_r/softhsm2.conf" XDG_RUNTIME_DIR="$_r/run" \
		TMPDIR="$_r/tmp" HOME="$_r/home" P11FAULT_MODULE="$M" P11FAULT_LOG="$_r/calls.log" $_f \
		$TIMEOUT "$BIN" --module "$P11FAULT_SO" $_j $CMD \
		>"$_r/stdout" 2>"$_r/stderr" 3<"$T/pins/user.pin" 4<"$T/pins/so.pin" 5<"$T/pins/new.pin" \
		</dev/null)
	_rc=$?
	_reached=-
	if [ -n "$_ff" ]; then
		_c=$(grep -c -x "$_ff" "$_r/calls.log" 2>/dev/null)
		if [ "${_c:-0}" -ge "$_n" ]; then
			_reached=yes
		else
			_reached=no
		fi
	fi
	_verbose=no
	grep -q '^p11enroll: C_[A-Za-z]*: CKR_' "$_r/stderr" && _verbose=yes
	# the token's files too: a PIN must not end up in an object either
	_hits=$(grep -r -l -F -i -f "$T/patterns" "$_r" 2>/dev/null | sed "s|^$_r/||" | tr '\n' ' ')
	if [ -n "$_hits" ]; then
		mkdir -p "$T/leaks/$_id"
		for _h in $_hits; do
			grep -a -F -i -f "$T/patterns" "$_r/$_h" | head -n 3 | cut -c 1-300 \
				>"$T/leaks/$_id/$(echo "$_h" | tr / _)"
		done
	fi
	echo "R$US$_id$US$_name$US$_src$US$_fault$US$_json$US$_rc$US$_reached$US$_verbose$US${_hits% }" >>"$RES"
	[ -z "$_f" ] && [ "$_src" = env ] && cp "$_r/calls.log" "$T/calls.$_name" 2>/dev/null
	return 0
}

# worker J TABLE: runs the table's lines nobody has taken (mkdir is atomic)
worker() {
	W=$T/w$1
	RES=$T/res.$1
	mkdir -p "$W"
	while IFS=$US read -r _id _name _src _fault _json; do
		mkdir "$T/taken.$_id" 2>/dev/null || continue
		run_one "$_id" "$_name" "$_src" "$_fault" "$_json"
	done <"$2"
}

# sweep TABLE: the workers over TABLE, to its end
sweep() {
	PIDS=
	_j=0
	while [ "$_j" -lt "$P11FAULT_JOBS" ]; do
		(worker "$_j" "$1") &
		PIDS="$PIDS $!"
		_j=$((_j + 1))
	done
	trap 'kill $PIDS 2>/dev/null; exit 130' INT TERM
	wait
	trap 'exit 130' INT TERM
}

# --- step 1: every command cleanly, with every source ----------------------
ID=0
for c in $COMMANDS; do
	for s in $SOURCES; do
		ID=$((ID + 1))
		echo "c$ID$US$c$US$s$US-$US$(json_of "$ID")"
	done
done >"$T/table.clean"
sweep "$T/table.clean"

# --- step 2: the faults each command meets, from its env: run's call log ----
# faults NAME: FUNC:N:RV lines: the token's refusals of a PIN, a C_Sign
# that finds the session logged out, then device errors on a few calls
faults() {
	_log=$T/calls.$1
	[ -s "$_log" ] || return 0
	_cnt() { grep -c -x "$1" "$_log"; }
	_l=$(_cnt C_Login)
	if [ "$_l" -gt 0 ]; then
		echo "C_Login:1:CKR_PIN_INCORRECT"
		# the engine's own login comes last
		[ "$_l" -gt 1 ] && echo "C_Login:$_l:CKR_PIN_INCORRECT"
		echo "C_Login:1:CKR_PIN_LOCKED"
	fi
	if [ "$(_cnt C_SetPIN)" -gt 0 ]; then
		echo "C_SetPIN:1:CKR_PIN_INCORRECT"
		echo "C_SetPIN:1:0xA1"
	fi
	[ "$(_cnt C_InitPIN)" -gt 0 ] && echo "C_InitPIN:1:0xA1"
	[ "$(_cnt C_InitToken)" -gt 0 ] && echo "C_InitToken:1:CKR_PIN_INCORRECT"
	[ "$(_cnt C_Sign)" -gt 0 ] && echo "C_Sign:1:CKR_USER_NOT_LOGGED_IN"
	for _fn in C_GetTokenInfo C_OpenSession C_Login C_FindObjectsInit C_GenerateKeyPair \
		C_CreateObject C_DestroyObject C_Sign C_SetPIN C_InitPIN C_InitToken; do
		_k=$(_cnt "$_fn")
		[ "$_k" -gt 0 ] || continue
		echo "$_fn:1:CKR_DEVICE_ERROR"
		[ "$_k" -gt 1 ] && case $_fn in C_Login | C_Sign) echo "$_fn:$_k:CKR_DEVICE_ERROR" ;; esac
	done
	return 0
}

# each fault with one source, in turn (a command's first fault with the
# source after its predecessor's), or with every source
NC=0
for c in $COMMANDS; do
	NC=$((NC + 1))
	faults "$c" >"$T/faults.$c"
	NF=$NC
	while read -r f; do
		NF=$((NF + 1))
		if [ "${P11FAULT_PIN_LEAK_FULL:-0}" = 1 ]; then
			for s in $SOURCES; do
				ID=$((ID + 1))
				echo "f$ID$US$c$US$s$US$f$US$(json_of "$ID")"
			done
		else
			set -- $SOURCES
			shift $((NF % $#))
			ID=$((ID + 1))
			echo "f$ID$US$c$US$1$US$f$US$(json_of "$ID")"
		fi
	done <"$T/faults.$c"
done >"$T/table.faults"
for c in $COMMANDS; do
	echo "# $c: $(grep -c . "$T/faults.$c") faults: $(tr '\n' ' ' <"$T/faults.$c")"
done
sweep "$T/table.faults"

# --- the results -----------------------------------------------------------
cat "$T"/res.* >"$T/results" 2>/dev/null
if grep -q "^E$US" "$T/results"; then
	fail "the table" "$(grep "^E$US" "$T/results" | cut -d "$US" -f 3- | head -n 3)"
fi
CHECKED=0 CLEAN=0 FAULTED=0 FAILED_BY=0 HITS=0
while IFS=$US read -r tag id name src fault json rc reached verbose hits; do
	[ "$tag" = R ] || continue
	cmd_set "$name" "$src"
	line=$(echo "p11enroll --module p11fault.so $([ "$json" = - ] || echo "$json ")$CMD" |
		sed "s|$T/|\$T/|g")
	CHECKED=$((CHECKED + 1))
	if [ -n "$hits" ]; then
		HITS=$((HITS + 1))
		fail "$name, $src, ${fault#-}" "a PIN in $hits (exit $rc): $line; $(
			cat "$T/leaks/$id/"* 2>/dev/null | head -n 3 | tr '\n' ' ')"
	fi
	case $name in lint) ;; *)
		[ "$verbose" = yes ] || fail "$name, $src, ${fault#-}: -v logged the calls" "$line (exit $rc)" ;;
	esac
	if [ "$fault" = - ]; then
		CLEAN=$((CLEAN + 1))
		[ "$rc" -eq 0 ] || fail "$name, $src: a clean run succeeds" "exit $rc: $line"
	else
		FAULTED=$((FAULTED + 1))
		[ "$reached" = yes ] || fail "$name, $src, $fault: the fault was reached" "$line"
		[ "$rc" -ne 0 ] && FAILED_BY=$((FAILED_BY + 1))
	fi
done <"$T/results"
[ "$HITS" -eq 0 ] && ok "no PIN in $CHECKED runs"

# the floors: every command with every source, and faults for all but lint
NCMD=$(echo $COMMANDS | wc -w)
NSRC=$(echo $SOURCES | wc -w)
check "commands to run ($NCMD)" test "$NCMD" -gt 0
equal "clean runs: every command with every source" "$CLEAN" $((NCMD * NSRC))
equal "runs in the table, run" "$CHECKED" "$ID"
for c in $COMMANDS; do
	[ "$c" = lint ] && continue
	check "$c: faults to inject (from its call log)" test -s "$T/faults.$c"
done
NFC=$(echo $COMMANDS | tr ' ' '\n' | grep -c -v -x lint)
check "at least 5 runs with a fault a command ($FAULTED for $NFC), most of them failed by it ($FAILED_BY)" \
	test "$FAULTED" -ge $((5 * NFC)) -a "$FAILED_BY" -ge $((FAULTED / 2))
echo "# $CHECKED runs checked ($CLEAN clean, $FAULTED with a fault of which $FAILED_BY failed)," \
	"$HITS with a PIN; $(since "$START") s"
finish
