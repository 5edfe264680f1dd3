#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# sweep.sh - the fault sweep.  Each command that writes to a token is run
# once through the fault-injecting module (p11fault) to count its PKCS#11
# calls; then, from a pristine copy of the token each time, once per call
# with that call failing (CKR_DEVICE_ERROR).  An injection point holds if:
#   - the tool did not crash (exit < 128, no sanitizer report, no hang);
#   - it failed with a documented exit code (1-7), stderr's first line
#     starting with "p11enroll: ", nothing on stdout and no request file
#     left behind; or it exited 0 ("tolerated": a failure it may ignore,
#     C_Logout, C_Finalize, ...) and both the token and stdout are as after
#     a clean run (ids aside), and a request it wrote verifies;
#   - the token is consistent (pkcs11-tool, not through the wrapper): every
#     private key has its public key (same CKA_ID) and the other way round
#     (right after a failure a public key may stand alone, or a pair of
#     one label have different ids on its halves: the re-run must remove or
#     join it),
#     every certificate's id is a private key's unless it is a CA
#     certificate (CKA_CERTIFICATE_CATEGORY, by p11tool), no label on two
#     private keys, no certificate twice;
#   - after a failure, the same command run again without the fault
#     succeeds (keygen may say the label exists, exit 2, if a csr for the
#     key then works; retire may say the key is gone, exit 4, if it is) and
#     leaves the token as a clean run does.  When the failed run left the
#     token exactly as it found it (pkcs11-tool's listing byte for byte),
#     that re-run is the clean run again and is not repeated.
#   - after a failure, the token is exactly as before the command, or what
#     the command documents it leaves (tests/fault/promises.sh: enroll keeps
#     its key pair, retire cannot put back what it removed, init-token may
#     leave the new token without a user PIN, any command may fail in its
#     closing C_Logout/C_CloseSession/C_Finalize after its last write);
#     compared through the real module (p11dump), apart from the re-run
#     above, which is the second, separate promise.
# retire-last is a refusal (the only key with a valid certificate, no
# --force: exit 6): there no fault may make it succeed or change the token.
# Besides, points that held but whose error does not name the injected
# CK_RV are listed as notes (a device error reported as "not found", ...).
#
# No empty sweep: a clean run of each command must make at least the calls
# promises.sh's call_floor names, every point chosen must have a result,
# a command without results fails, and some fault must change the outcome.
# Per command and in total the sweep prints the points tried and, after
# the failures, how many were rolled back, how many left the command's
# documented exception, how many failed after the work was done, and how
# many were finished by the re-run.
#
# Environment: as tests/cli (lib.sh), plus
#   P11FAULT_SO        the built wrapper (default
#                      $TOP_BUILDDIR/tests/fault/.libs/p11fault.so)
#   P11FAULT_RV        what the failing call returns (CKR_DEVICE_ERROR)
#   P11FAULT_JOBS      workers in parallel (2)
#   P11FAULT_COMMANDS  which commands to sweep (all of them)
#   P11FAULT_POINTS    only these call indexes ("5 17 30"), for a re-check
#   P11FAULT_TIMEOUT   seconds a run may take (120)
#   P11FAULT_PERSIST   1: from the injection point on, every call fails (a
#                      token pulled out mid-command; cleanup calls fail too)
#   P11FAULT_STRIDE    S: only every S-th point (1, 1+S, ...) and the last,
#                      for a short sweep (make distcheck); 1, every point
#   P11FAULT_ROLLBACK  required (a failure not rolled back, and not the
#                      command's exception, breaks the point) or counted
#                      (only counted: the token pulled out, where the
#                      take-back calls fail too)
#   P11DUMP            the built tests/fault/p11dump
set -u
: "${TOP_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$TOP_SRCDIR/tests/cli/lib.sh"
: "${P11FAULT_RV:=CKR_DEVICE_ERROR}"
: "${P11FAULT_JOBS:=2}"
: "${P11FAULT_COMMANDS:=init-token pin-change pin-init pin-unblock keygen enroll csr import renew retire retire-last}"
: "${P11FAULT_POINTS:=}"
: "${P11FAULT_STRIDE:=1}"
: "${P11FAULT_ROLLBACK:=required}"
: "${P11DUMP:=$TOP_BUILDDIR/tests/fault/p11dump}"
PLUS=
[ "${P11FAULT_PERSIST:-0}" = 1 ] && PLUS=+
need_fault_module
. "$TOP_SRCDIR/tests/fault/promises.sh"
case $P11FAULT_STRIDE in '' | 0 | *[!0-9]*) echo "P11FAULT_STRIDE='$P11FAULT_STRIDE': want a number from 1"; exit 99 ;; esac
case $P11FAULT_ROLLBACK in required | counted) ;; *) echo "P11FAULT_ROLLBACK='$P11FAULT_ROLLBACK': want required or counted"; exit 99 ;; esac
[ -x "$P11DUMP" ] || { echo "no p11dump (P11DUMP='$P11DUMP'): build it with make check"; exit 99; }
need_commands pkcs11-tool p11tool openssl
setup
START=$(date +%s)

SO_PIN=60718293 USER_PIN=40516273 NEW_PIN=81726354
export SO_PIN USER_PIN NEW_PIN
TL=fault-sweep
M=$SOFTHSM_MODULE
US=$(printf '\037')
TIMEOUT=
command -v timeout >/dev/null 2>&1 && TIMEOUT="timeout ${P11FAULT_TIMEOUT:-120}"

# --- the token every injection point starts from -------------------------
# base: a key without a certificate; cur and old: keys with certificates
# (cur's chain brought the CA certificate), all EC P-256: SoftHSM makes
# them fast, and no command here needs RSA.
mk_token "$TL"
mk_ca ca "/O=Test/CN=Fault CA"
for k in base cur old; do
	p11 --pin env:USER_PIN enroll --label $k --type ec:P-256 --subject "/CN=$k.example" \
		-o "$T/$k.csr" >/dev/null 2>"$T/setup.err" || fail "setup: enroll $k" "$(cat "$T/setup.err")"
	ca_sign ca "$T/$k.csr" "$T/$k.pem"
done
p11 --pin env:USER_PIN import "$T/cur.pem" --chain "$T/ca.pem" >/dev/null 2>"$T/setup.err" ||
	fail "setup: import cur" "$(cat "$T/setup.err")"
p11 --pin env:USER_PIN import "$T/old.pem" >/dev/null 2>"$T/setup.err" ||
	fail "setup: import old" "$(cat "$T/setup.err")"
cp -a "$T/tokens" "$T/snap"
# and one where cur is the only key with a valid certificate
p11 --pin env:USER_PIN retire --key old --yes >/dev/null 2>"$T/setup.err" ||
	fail "setup: retire old" "$(cat "$T/setup.err")"
cp -a "$T/tokens" "$T/snap-last"

# cmd_set NAME: the command's arguments in CMD (word-split; no blanks in $T),
# the request file it writes in REQ (or nothing), the token it starts from
# in SNAP, and its exit status on that token without a fault in EXPECT: 0,
# or for a refusal, its code (then no fault may turn it into a success or
# change the token)
cmd_set() {
	REQ='' SNAP=$T/snap EXPECT=0
	case $1 in
	init-token) CMD="--so-pin env:SO_PIN --pin env:USER_PIN init-token --label fresh" ;;
	pin-change) CMD="--pin env:USER_PIN pin change --new-pin env:NEW_PIN" ;;
	pin-init) CMD="--so-pin env:SO_PIN pin init --new-pin env:NEW_PIN" ;;
	pin-unblock) CMD="--so-pin env:SO_PIN pin unblock --new-pin env:NEW_PIN" ;;
	keygen) CMD="--pin env:USER_PIN keygen --label knew --type ec:P-256" ;;
	enroll)
		REQ=$W/out.csr
		CMD="--pin env:USER_PIN enroll --label enew --type ec:P-256 --subject /CN=enew.example -o $REQ"
		;;
	csr)
		REQ=$W/out.csr
		CMD="--pin env:USER_PIN csr --key base --subject /CN=base.example -o $REQ"
		;;
	# the engine opens the module the tool was given: libp11's calls go
	# through the fault module too, counted in the same log
	csr-engine)
		REQ=$W/out.csr
		CMD="--pin env:USER_PIN csr --backend engine --key base --subject /CN=base.example -o $REQ"
		;;
	enroll-engine)
		REQ=$W/out.csr
		CMD="--pin env:USER_PIN enroll --backend engine --label enew --type ec:P-256 --subject /CN=enew.example -o $REQ"
		;;
	import) CMD="--pin env:USER_PIN import $T/base.pem --chain $T/ca.pem" ;;
	renew)
		REQ=$W/out.csr
		CMD="--pin env:USER_PIN renew --key cur -o $REQ"
		;;
	retire) CMD="--pin env:USER_PIN retire --key old --yes" ;;
	retire-last)
		# cur is the only key with a valid certificate: refused without --force
		CMD="--pin env:USER_PIN retire --key cur --yes"
		SNAP=$T/snap-last EXPECT=6
		;;
	*) return 1 ;;
	esac
}

# --- one worker: its own token directory, its share of the commands ------

restore() {
	rm -rf "$W/tokens"
	cp -a "$SNAP" "$W/tokens"
}

# run OUT ERR [P11FAULT SETTINGS...]: the command through the wrapper; the
# exit status in RC
run() {
	_o=$1 _e=$2
	shift 2
	rm -f "$REQ"
	env P11FAULT_MODULE="$M" "$@" $TIMEOUT "$P11ENROLL" --module "$P11FAULT_SO" $CMD \
		</dev/null >"$_o" 2>"$_e"
	RC=$?
}

crashed() {
	[ "$1" -ge 128 ] || [ "$1" -eq 124 ] ||
		grep -q -e 'Segmentation' -e 'AddressSanitizer' -e 'LeakSanitizer' -e 'runtime error' "$2"
}

# objects_as PIN: the objects of $TL (pkcs11-tool -O, logged in with PIN)
# into $W/objs
objects_as() {
	pkcs11-tool --module "$M" --token-label "$TL" --login --pin "$1" -O >"$W/objs" 2>"$W/objs.err" ||
		{ : >"$W/objs"; return 1; }
}

# state FILE: what a clean run is compared with (objects of $TL with ids
# replaced by the label of the private key they pair with, which PIN logs
# in; for init-token the tokens' labels and flags and the new token's
# login) into FILE; what is inconsistent, one a line, into $W/bad.
state() {
	: >"$W/bad"
	: >"$W/orphans"
	{
		if [ "$NAME" = init-token ]; then
			pkcs11-tool --module "$M" -L 2>&1 | awk '
				/^Slot / { if (l != "") print "token " l " | " f; l = "(none)"; f = "" }
				/token label/ { sub(/^[^:]*: /, ""); l = $0 }
				/token flags/ { sub(/^[^:]*: /, ""); f = $0 }
				/token state/ { sub(/^[^:]*: +/, ""); f = $0 }
				END { if (l != "") print "token " l " | " f }' | sort
			_n=$(pkcs11-tool --module "$M" -L 2>/dev/null | grep -c 'token label *: fresh$')
			[ "$_n" -le 1 ] || echo "$_n tokens labelled 'fresh'" >>"$W/bad"
			if [ "$_n" -ge 1 ]; then
				if pkcs11-tool --module "$M" --token-label fresh --login --pin "$USER_PIN" -O \
					>/dev/null 2>&1; then
					echo "fresh: the user PIN logs in"
				else
					echo "fresh: the user PIN does not log in"
				fi
			fi
		fi
		_pin=none
		if objects_as "$USER_PIN"; then
			_pin=USER_PIN
		elif objects_as "$NEW_PIN"; then
			_pin=NEW_PIN
		fi
		echo "$TL: $_pin logs in"
		if [ "$_pin" = none ]; then
			echo "the user PIN of $TL is neither USER_PIN nor NEW_PIN: $(tail -n 1 "$W/objs.err")" \
				>>"$W/bad"
		else
			awk -v bad="$W/bad" -v orphans="$W/orphans" -v lone_ok="${LONE_PUBLIC_OK:-0}" '
			function flush() {
				if (cls != "") { n++; C[n] = cls; L[n] = lab; I[n] = id; U[n] = use; A[n] = acc; S[n] = subj; R[n] = ser }
				cls = lab = id = use = acc = subj = ser = ""
			}
			/^[^ ]/ { flush(); cls = $0; sub(/ *EC_POINT.*/, "", cls); next }
			/^  label:/ { sub(/^  label: */, ""); lab = $0; next }
			/^  ID:/ { sub(/^  ID: */, ""); id = $0; next }
			/^  Usage:/ { sub(/^  Usage: */, ""); use = $0; next }
			/^  Access:/ { sub(/^  Access: */, ""); acc = $0; next }
			/^  subject:/ { sub(/^  subject: */, ""); subj = $0; next }
			/^  serial:/ { sub(/^  serial: */, ""); ser = $0; next }
			END {
				flush()
				for (i = 1; i <= n; i++) {
					if (C[i] ~ /^Private Key/) { priv[I[i]] = L[i]; np[L[i]]++ }
					if (C[i] ~ /^Public Key/) pub[I[i]] = 1
				}
				for (i = 1; i <= n; i++)
					if (C[i] ~ /^Public Key/ && !(I[i] in priv)) lonepub[L[i]] = 1
				for (i = 1; i <= n; i++) {
					k = (I[i] in priv) ? priv[I[i]] : "-"
					print C[i] " | " L[i] " | key " k " | " U[i] " | " A[i] " | " S[i] " | " R[i]
					# a split pair (keygen cut off between setting the id on
					# one half and on the other): both halves are there, and the
					# re-run must join them again
					if (C[i] ~ /^Private Key/ && !(I[i] in pub) && !(lone_ok && (L[i] in lonepub)))
						print "private key \047" L[i] "\047 (id " I[i] ") has no public key" > bad
					if (C[i] ~ /^Public Key/ && !(I[i] in priv) && !lone_ok)
						print "public key \047" L[i] "\047 (id " I[i] ") has no private key" > bad
					if (C[i] ~ /^Certificate/) {
						if (!(I[i] in priv))
							print I[i] "|" L[i] > orphans
						if (nc[S[i] "|" R[i]]++ == 1)
							print "certificate " S[i] " serial " R[i] " is on the token twice" > bad
					}
				}
				for (l in np)
					if (np[l] > 1)
						print np[l] " private keys labelled \047" l "\047" > bad
			}' "$W/objs" | sort
		fi
	} >"$1"
	cp "$W/objs" "$1.raw" 2>/dev/null || : >"$1.raw"
	# a certificate without a private key must be a CA certificate
	while IFS='|' read -r _id _label; do
		if ! grep -q -F -x "$_id|$_label|CA" "$W/ca.cache" 2>/dev/null &&
			! grep -q -F -x "$_id|$_label|-" "$W/ca.cache" 2>/dev/null; then
			p11tool --provider "$M" --list-all-certs "pkcs11:token=$TL" 2>/dev/null | awk '
				/^Object/ { if (id != "") print id "|" l "|" ca; id = l = ""; ca = "-" }
				/^\tLabel:/ { sub(/^\tLabel: /, ""); l = $0 }
				/^\tFlags:/ && /CKA_CERTIFICATE_CATEGORY=CA/ { ca = "CA" }
				/^\tID:/ { sub(/^\tID: /, ""); gsub(/:/, ""); id = $0 }
				END { if (id != "") print id "|" l "|" ca }' >>"$W/ca.cache"
		fi
		grep -q -F -x "$_id|$_label|CA" "$W/ca.cache" ||
			echo "certificate '$_label' (id $_id) belongs to no private key and is no CA certificate" \
				>>"$W/bad"
	done <"$W/orphans"
}

# what the diff of two state files says, on one line
state_diff() {
	diff "$1" "$2" | grep '^[<>]' | head -4 | tr '\n' ';' | sed 's/;$//'
}

# result lines for the parent, fields split by US (\037): a held point, a
# broken one, a note
held() { printf 'H%s%s%s%s%s%s%s%s%s%s\n' "$US" "$NAME" "$US" "$1" "$US" "$FUNC" "$US" "$2" "$US" "$3" >>"$RES"; }
broke() { printf 'F%s%s%s%s%s%s%s%s%s%s%s%s\n' "$US" "$NAME" "$US" "$1" "$US" "$FUNC" "$US" "$2" "$US" "$3" "$US" "$4" >>"$RES"; }
note() { printf 'X%s%s%s%s%s%s%s%s%s%s\n' "$US" "$NAME" "$US" "$1" "$US" "$FUNC" "$US" "$2" "$US" "$3" >>"$RES"; }

# same_state A B: two states (and their raw listings) are the same
same_state() {
	cmp -s "$1" "$2" && cmp -s "$1.raw" "$2.raw"
}

# stdout without what differs from run to run (ids, token serials)
norm_out() {
	sed -e 's/id=[^;]*;//g' -e 's/serial=[^;]*;//g' "$1"
}

# points N: the injection points to try of a command making N calls
points() {
	if [ -n "$P11FAULT_POINTS" ]; then
		for _p in $P11FAULT_POINTS; do [ "$_p" -le "$1" ] && echo "$_p"; done
	else
		seq 1 "$P11FAULT_STRIDE" "$1"
		[ $((($1 - 1) % P11FAULT_STRIDE)) -eq 0 ] || echo "$1"
	fi
}

sweep_one() {
	NAME=$1
	RES=$T/res.$NAME
	: >"$RES"
	cmd_set "$NAME"

	# the state before, and the clean run: the calls to fail and the state
	# to compare with
	restore
	DUMP0=$W/dump0.$NAME
	if ! dump "$DUMP0"; then
		echo "E${US}$NAME${US}cannot list the token before the command: $(cat "$DUMP0")" >>"$RES"
		return
	fi
	state "$W/initial.$NAME"
	INITIAL=$W/initial.$NAME
	restore
	run "$W/clean.out" "$W/clean.err" P11FAULT_LOG="$W/clean.log.$NAME"
	if [ "$RC" -ne "$EXPECT" ]; then
		echo "E${US}$NAME${US}the run without fault: exit $RC, not $EXPECT: $(head -n 1 "$W/clean.err")" >>"$RES"
		return
	fi
	state "$W/clean.$NAME"
	CLEAN=$W/clean.$NAME
	if [ -s "$W/bad" ]; then
		echo "E${US}$NAME${US}the run without fault leaves an inconsistent token: $(head -n 1 "$W/bad")" >>"$RES"
		return
	fi
	norm_out "$W/clean.out" >"$W/clean.out.$NAME"
	N=$(wc -l <"$W/clean.log.$NAME")
	# the last call that writes: a failure after it has nothing to take back
	LASTW=$(grep -n -E "$WRITES" "$W/clean.log.$NAME" | tail -n 1 | cut -d : -f 1)
	LASTW=${LASTW:-0}
	echo "N${US}$NAME${US}$N${US}$EXPECT${US}$LASTW" >>"$RES"
	# where libp11's calls begin: it loads the module a second time
	ENGINE_AT=$(grep -n '^C_GetFunctionList$' "$W/clean.log.$NAME" | sed -n '2s/:.*//p')
	ENGINE_AT=${ENGINE_AT:-$N}
	case $NAME in
	*-engine)
		# without libp11's own C_Initialize in the log its calls were not seen
		[ "$(grep -c '^C_Initialize$' "$W/clean.log.$NAME")" -ge 2 ] ||
			echo "E${US}$NAME${US}the engine's calls are not in the fault module's log" >>"$RES"
		;;
	esac

	for i in $(points "$N"); do
		FUNC=$(sed -n "${i}p" "$W/clean.log.$NAME")
		why=
		RB=- RERUN=-
		restore
		run "$W/out" "$W/err" P11FAULT_FAIL="$i$PLUS:$P11FAULT_RV"
		rc=$RC
		first=$(head -n 1 "$W/err")
		if known_failure; then
			held "$i" "$rc" "known: $KNOWN"
			printf 'P%s%s%s%s%s%s%s%s\n' "$US" "$NAME" "$US" "$i" "$US" "$RB" "$US" "$RERUN" >>"$RES"
			continue
		fi
		if crashed "$rc" "$W/err"; then
			broke "$i" "$rc" "crashed or hung: $(grep -m 1 -e Sanitizer -e 'runtime error' -e Segmentation "$W/err")" "$first"
			printf 'P%s%s%s%s%s%s%s%s\n' "$US" "$NAME" "$US" "$i" "$US" "$RB" "$US" "$RERUN" >>"$RES"
			continue
		fi
		# the listing first (the logins of state may change the PIN
		# counters), where a rollback is to be checked
		[ "$rc" -ne 0 ] && [ "$EXPECT" -eq 0 ] && dump "$W/dump"
		# right after a failure a public key may stand alone (a retire cut
		# short between the private and the public half), or a pair be split
		# (a keygen cut short between the ids of its halves): the re-run
		# below must remove or join it; everywhere else it is an inconsistency
		LONE_PUBLIC_OK=1
		state "$W/st"
		LONE_PUBLIC_OK=0
		kind=held
		if [ "$rc" -ne 0 ]; then
			[ "$rc" -le 7 ] || why="$why; exit $rc is no documented code"
			case $first in
			"p11enroll: "*) ;;
			*) why="$why; stderr's first line does not start with 'p11enroll: '" ;;
			esac
			[ -s "$W/out" ] && why="$why; stdout not empty on failure: $(head -n 1 "$W/out" | cut -c 1-160)"
			[ -n "$REQ" ] && [ -e "$REQ" ] && why="$why; request file left behind"
			grep -q -F -e "$P11FAULT_RV" "$W/err" ||
				note "$i" "$rc" "the error does not name $P11FAULT_RV: $first"
			if [ "$EXPECT" -eq 0 ]; then
				rollback
				if [ "$RB" = N ] && [ "$P11FAULT_ROLLBACK" = counted ]; then
					RB=L
				elif [ "$RB" = N ]; then
					why="$why; not rolled back, and not what $NAME may leave (promises.sh): $RB_DIFF"
				fi
			fi
		fi
		[ -s "$W/bad" ] && why="$why; token inconsistent: $(tr '\n' ';' <"$W/bad" | sed 's/;$//')"

		if [ "$EXPECT" -ne 0 ]; then
			# a refusal: no fault makes it go through, or changes anything
			[ "$rc" -eq 0 ] && why="$why; the refusal (exit $EXPECT) was skipped"
			same_state "$W/st" "$INITIAL" ||
				why="$why; the token changed: $(state_diff "$INITIAL" "$W/st")"
		elif [ "$rc" -eq 0 ]; then
			# a failure it may ignore: the run must have done all of its job
			if cmp -s "$W/st" "$CLEAN"; then
				kind=tolerated
			else
				why="$why; exit 0 but the token differs from a clean run: $(state_diff "$CLEAN" "$W/st")"
			fi
			norm_out "$W/out" | cmp -s - "$W/clean.out.$NAME" ||
				why="$why; exit 0 but stdout differs from a clean run: $(norm_out "$W/out" | head -n 1 | cut -c 1-200)"
			if [ -n "$REQ" ] && ! req_verifies "$REQ"; then
				why="$why; exit 0 without a request that verifies"
			fi
		else
			# the command did its work on the token (and wrote no request) and
			# still said it failed
			[ -z "$REQ" ] && cmp -s "$W/st" "$CLEAN" && ! cmp -s "$CLEAN" "$INITIAL" && kind=completed
			if same_state "$W/st" "$INITIAL"; then
				# the token is as before the clean run, which succeeded from there:
				# running the command again is that run again
				:
			else
				# the same command again without the fault
				_why0=$why
				run "$W/out2" "$W/err2"
				rc2=$RC
				if crashed "$rc2" "$W/err2"; then
					why="$why; the re-run crashed: exit $rc2"
				else
					state "$W/st2"
					again=no
					if [ "$rc2" -eq 0 ]; then
						again=yes
					elif [ "$NAME" = keygen ] && [ "$rc2" -eq 2 ] && grep -q already "$W/err2"; then
						# the label is there: the key must be usable
						again="the key was there"
						if ! env P11FAULT_MODULE="$M" $TIMEOUT "$P11ENROLL" --module "$P11FAULT_SO" \
							--pin env:USER_PIN csr --key knew --subject /CN=knew.example \
							-o "$W/knew.csr" </dev/null >/dev/null 2>"$W/err3" ||
							! req_verifies "$W/knew.csr"; then
							why="$why; the re-run says the key is there, but a csr for it fails: $(head -n 1 "$W/err3")"
						fi
					elif [ "$NAME" = retire ] && [ "$rc2" -eq 4 ] && cmp -s "$W/st2" "$CLEAN"; then
						again="the key was gone"
					fi
					[ "$again" = no ] &&
						why="$why; the re-run without fault failed: exit $rc2: $(head -n 1 "$W/err2")"
					if [ -s "$W/bad" ]; then
						why="$why; after the re-run the token is inconsistent: $(tr '\n' ';' <"$W/bad" | sed 's/;$//')"
					elif [ "$again" != no ] && ! cmp -s "$W/st2" "$CLEAN"; then
						why="$why; after the re-run the token differs from a clean run: $(state_diff "$CLEAN" "$W/st2")"
					fi
					case $again in yes | no) ;; *) kind="$kind, re-run: $again" ;; esac
				fi
				RERUN=K
				[ "$why" = "$_why0" ] || RERUN=F
			fi
		fi
		printf 'P%s%s%s%s%s%s%s%s\n' "$US" "$NAME" "$US" "$i" "$US" "$RB" "$US" "$RERUN" >>"$RES"
		if [ -z "$why" ]; then
			held "$i" "$rc" "$kind"
		else
			broke "$i" "$rc" "${why#; }" "$first"
		fi
	done
}

worker() {
	W=$T/w$1
	mkdir -p "$W"
	cat >"$W/softhsm2.conf" <<EOF
directories.tokendir = $W/tokens
objectstore.backend = file
log.level = ERROR
EOF
	SOFTHSM2_CONF=$W/softhsm2.conf
	export SOFTHSM2_CONF
	# the next command nobody has taken (mkdir is atomic)
	for _c in $ORDER; do
		if mkdir "$T/taken.$_c" 2>/dev/null; then
			sweep_one "$_c"
		fi
	done
}

# the biggest first, so that the workers end together
ORDER=
for _c in enroll-engine retire renew retire-last csr-engine enroll keygen import csr init-token pin-init pin-unblock pin-change; do
	case " $P11FAULT_COMMANDS " in *" $_c "*) ORDER="$ORDER $_c" ;; esac
done
for _c in $P11FAULT_COMMANDS; do
	case " $ORDER " in *" $_c "*) ;; *) W=$T; cmd_set "$_c" || fail "P11FAULT_COMMANDS" "no command '$_c'" ;; esac
done

PIDS=
_j=0
while [ "$_j" -lt "$P11FAULT_JOBS" ]; do
	(worker "$_j") &
	PIDS="$PIDS $!"
	_j=$((_j + 1))
done
trap 'kill $PIDS 2>/dev/null; exit 130' INT TERM
wait

# --- the results, command by command -------------------------------------
TRIED=0 HELD=0 ROLLED=0 EXC=0 DONE=0 LEFT=0 RERUNS=0
for NAME in $P11FAULT_COMMANDS; do
	RES=$T/res.$NAME
	case_ "$NAME"
	# a command without results was not swept: that is no pass
	if [ ! -s "$RES" ]; then
		fail "$NAME" "no results: the command was not swept"
		continue
	fi
	if grep -q "^E$US" "$RES"; then
		fail "$NAME" "$(grep "^E$US" "$RES" | cut -d "$US" -f 3-)"
		continue
	fi
	IFS=$US read -r _t _n n expect lastw <<EOF
$(grep "^N$US" "$RES")
EOF
	floor=$(call_floor "$NAME")
	if [ "${n:-0}" -lt "$floor" ]; then
		fail "$NAME" "a clean run made ${n:-0} PKCS#11 calls, fewer than the $floor it makes at least: the fault module does not see them"
		continue
	fi
	while IFS=$US read -r tag _name i func rc why first; do
		case $tag in
		H) ok "#$i $func: exit $rc ($why)" ;;
		F) fail "#$i $func" "exit $rc: $why [stderr: ${first:-(empty)}]" ;;
		esac
	done <"$RES"
	# every point chosen has exactly one result
	miss=
	for i in $(points "$n"); do
		[ "$(grep -c "^[HF]$US$NAME$US$i$US" "$RES")" -eq 1 ] || miss="$miss #$i"
	done
	[ -z "$miss" ] || fail "points without exactly one result" "${miss# }"
	# and some fault changed the outcome: else none was injected
	changed=$(grep "^[HF]$US" "$RES" | cut -d "$US" -f 5 | grep -c -v -x "$expect")
	[ "$changed" -gt 0 ] || fail "no fault changed the outcome" "every point exited $expect, as without a fault"
	tried=$(grep -c "^[HF]$US" "$RES")
	h=$(grep -c "^H$US" "$RES")
	r=$(grep -c "^P$US.*${US}R$US" "$RES")
	x=$(grep -c "^P$US.*${US}E$US" "$RES")
	c=$(grep -c "^P$US.*${US}C$US" "$RES")
	l=$(grep -c "^P$US.*${US}L$US" "$RES")
	k=$(grep -c "^P$US.*${US}K\$" "$RES")
	if [ "$expect" -ne 0 ]; then
		echo "# $NAME: $tried of $n points tried (floor $floor), $h held (a refusal, exit $expect without a fault)"
	else
		echo "# $NAME: $tried of $n points tried (floor $floor, last write #$lastw), $h held" \
			"($(grep -c "^H$US.*${US}tolerated" "$RES") tolerated with exit 0);" \
			"after a failure: rolled back $r, exception $x, completed $c, left $l;" \
			"re-run completed $k$(grep -c "^H$US.*${US}known: " "$RES" | sed 's/^0$//; s/^[1-9].*/; known failures &/')"
	fi
	TRIED=$((TRIED + tried))
	HELD=$((HELD + h))
	ROLLED=$((ROLLED + r)) EXC=$((EXC + x)) DONE=$((DONE + c)) LEFT=$((LEFT + l)) RERUNS=$((RERUNS + k))
done
[ "$TRIED" -gt 0 ] || fail "the sweep" "no injection point was tried"
echo "# $TRIED injection points tried, $HELD held ($P11FAULT_RV${PLUS:+ from the point on}, $(($(date +%s) - START)) s)"
echo "# after a failure: rolled back $ROLLED / exception $EXC / completed after the last write $DONE / left for the re-run $LEFT (rollback $P11FAULT_ROLLBACK); re-run completed $RERUNS"
if cat "$T"/res.* 2>/dev/null | grep -q "^X$US"; then
	echo "# notes (points that held, but whose error does not say what failed):"
	for NAME in $P11FAULT_COMMANDS; do
		[ -r "$T/res.$NAME" ] || continue
		# one line per message, with the points that gave it
		grep "^X$US" "$T/res.$NAME" | sed "s|$T/|\$T/|g" | awk -F "$US" -v name="$NAME" '
			{ k = "exit " $5 ": " $6; if (!(k in c)) order[++n] = k
			  if (c[k]++ < 6) pts[k] = pts[k] " #" $3 " " $4 }
			END { for (j = 1; j <= n; j++) { k = order[j]
				print "#   " name pts[k] (c[k] > 6 ? " and " c[k] - 6 " more" : "") ": " k } }'
	done
fi
if [ "$HELD" -ne "$TRIED" ]; then
	echo "# points that did not hold:"
	cat "$T"/res.* | grep "^F$US" | while IFS=$US read -r _t name i func rc why first; do
		echo "#   $name #$i $func: exit $rc: $why [stderr: ${first:-(empty)}]"
	done
fi
finish
