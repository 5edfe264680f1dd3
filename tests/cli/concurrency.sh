#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck disable=SC2086,SC2154,SC2016,SC2012,SC2174 # lists split on purpose, variables set by eval, sh -c code in quotes, one lock file by glob, a mode for the last directory only
# concurrency.sh - two processes at once on one token, many rounds: two
# enrolls of one label make one key pair (the other run reuses it, or fails
# with one line naming the conflict), two imports of its certificate and the
# CA certificate write each once, two enrolls of different labels both
# succeed, two keygens of one label make one pair (the other is told the
# label is taken); then the token lock itself: a bounded wait, a clear "busy" error,
# the module lock (a wait, and going on without it when held too long),
# lock directories and files that are not safe are refused.
#
# CONC_ROUNDS (default 25) sets the number of rounds.  Each round has a fresh
# token, so that listing it stays quick.
set -u
. "$(dirname "$0")/lib.sh"
setup

SO_PIN=86420975 USER_PIN=13579864
export SO_PIN USER_PIN
ROUNDS=${CONC_ROUNDS:-25}
# the lock directory of this suite alone (setup in lib.sh made it)
LOCKDIR=$XDG_RUNTIME_DIR/p11enroll
unset P11ENROLL_LOCK_TIMEOUT
start=$(mono)

# The barrier: a fifo this shell holds open for reading and writing, so
# opening it never blocks; each racer blocks reading a line from it, and
# go() writes a line per racer at once.
mkfifo "$T/barrier"
exec 3<>"$T/barrier"
NRACERS=0
PIDS=

# racer NAME ARGS...: p11enroll --module M --token $TL --pin env:USER_PIN
# --json ARGS in the background, waiting for go(); stdout in $T/NAME.out,
# stderr in $T/NAME.err.
racer() {
	_name=$1
	shift
	rm -f "$T/$_name.ready"
	(
		echo ready >"$T/$_name.ready"
		read -r _ <&3
		exec "$P11ENROLL" --module "$SOFTHSM_MODULE" --token "$TL" --pin env:USER_PIN --json \
			"$@" >"$T/$_name.out" 2>"$T/$_name.err" 3<&-
	) &
	PIDS="$PIDS $!"
	RNAMES="$RNAMES $_name"
	NRACERS=$((NRACERS + 1))
}
RNAMES=

# go: release the racers at once, wait for them; their exit statuses in $RCS.
# Each is at its read first, so that the line go() writes for it starts it
# rather than one it comes to later.
go() {
	for _n in $RNAMES; do
		wait_for "$T/$_n.ready" ready 60 || fail "racer $_n started" "no $T/$_n.ready"
	done
	RNAMES=
	_i=0
	_nl=
	while [ "$_i" -lt "$NRACERS" ]; do
		_nl="$_nl
"
		_i=$((_i + 1))
	done
	printf '%s' "$_nl" >&3
	RCS=
	for _p in $PIDS; do
		wait "$_p"
		RCS="$RCS $?"
	done
	RCS=${RCS# }
	PIDS=
	NRACERS=0
}

# SoftHSMv2's file store is not safe against a process reading a token while
# another writes it (a login rewrites the token file): C_Initialize does not
# find the token, or C_GetTokenInfo fails with CKR_GENERAL_ERROR
# (softhsm/SoftHSMv2#757).  p11enroll holds a module lock from before
# C_Initialize to the end of its login (lib/lock.c), which closes that window
# between p11enroll processes: without it a third to nine tenths of the
# rounds here hit it, with it none did (25 rounds, plain and ASan builds,
# under load).  Should SoftHSMv2 still fail a racer before p11enroll did
# anything, the round is run again (its token still checked for
# duplicates), once in the whole run and never twice for one round: a lock
# that works some of the time must not pass for one that works.  The lock's
# span is besides checked directly, with no race to win: each racing
# command waits for a held module lock before its C_Initialize, and the
# lock is held while C_Login runs (below, after the rounds).
FAULTS=0
MAX_FAULTS=1
softhsm_fault() {
	case $2 in
	4 | 5) grep -q -e 'C_GetTokenInfo' -e 'C_Initialize' -e 'C_GetSlotList' \
		-e 'no initialised token found' -e 'no token matches' "$T/$1.err" ;;
	*) return 1 ;;
	esac
}

# ran_ok NAME RC: racer NAME succeeded, or failed with status 2 (the label
# is taken) or 5 (the token is busy) and one 'p11enroll: ' line naming the
# conflict; never a crash (a signal) or anything else.
ran_ok() {
	_e=$T/$1.err
	if [ "$2" -eq 0 ]; then
		ok "$1: exit 0"
		return
	fi
	if [ "$2" -ge 128 ]; then
		fail "$1: no crash" "exit status $2; stderr: $(head -c 400 "$_e")"
		return
	fi
	case $2 in
	2 | 5) ;;
	*) fail "$1: exit 0, 2 or 5" "exit status $2; stderr: $(head -c 400 "$_e")"; return ;;
	esac
	if [ "$(wc -l <"$_e")" -eq 1 ] && grep -q '^p11enroll: ' "$_e" &&
		grep -q -e 'already on token' -e 'is busy' "$_e"; then
		ok "$1: exit $2 with one line naming the conflict: $(cat "$_e")"
	else
		fail "$1: exit $2 with one line naming the conflict" "stderr: $(head -c 400 "$_e")"
	fi
}

# inventory: `p11enroll list` and `pkcs11-tool -O`, each summed up as
# "CLASS<tab>LABEL<tab>ID" lines (CLASS private-key, public-key, certificate)
# in $T/sum.list and $T/sum.p11t; the checks read those without more processes
inventory() {
	p11 --token "$TL" --pin env:USER_PIN --json list >"$T/list.json" 2>"$T/list.err" ||
		fail "p11enroll list" "$(head -c 400 "$T/list.err")"
	jq -r '.[] | [.class, .label, .id] | @tsv' "$T/list.json" >"$T/sum.list" 2>&1
	count_objects >/dev/null
	awk '/^[^ ]/ { if (c != "") print c "\t" l "\t" i
			c = l = i = ""
			if (index($0, "Private Key Object") == 1) c = "private-key"
			else if (index($0, "Public Key Object") == 1) c = "public-key"
			else if (index($0, "Certificate Object") == 1) c = "certificate"
			next }
		/^  label:/ { sub(/^  label: +/, ""); l = $0 }
		/^  ID:/ { sub(/^  ID: +/, ""); i = $0 }
		END { if (c != "") print c "\t" l "\t" i }' "$T/objs.txt" >"$T/sum.p11t"
}
TAB=$(printf '\t')
# counts CLASS LABEL: "N M": how many CLASS objects labelled LABEL p11enroll
# list saw, and how many pkcs11-tool saw
counts() {
	_a=0 _b=0
	while IFS=$TAB read -r _c _l _i; do
		[ "$_c" = "$1" ] && [ "$_l" = "$2" ] && _a=$((_a + 1))
	done <"$T/sum.list"
	while IFS=$TAB read -r _c _l _i; do
		[ "$_c" = "$1" ] && [ "$_l" = "$2" ] && _b=$((_b + 1))
	done <"$T/sum.p11t"
	echo "$_a $_b"
}
# idof list|p11t CLASS LABEL: the ids of those objects, one a line
idof() {
	while IFS=$TAB read -r _c _l _i; do
		[ "$_c" = "$2" ] && [ "$_l" = "$3" ] && echo "$_i"
	done <"$T/sum.$1"
}
# at_most_one CLASS LABEL: no duplicates (for a round run again)
at_most_one() {
	case $(counts "$1" "$2") in
	"0 0" | "1 1") ok "no duplicate $1 '$2'" ;;
	*) fail "no duplicate $1 '$2'" "list, pkcs11-tool: $(counts "$1" "$2")" ;;
	esac
}

# one_pair LABEL: one private and one public key labelled LABEL, by
# p11enroll list and by pkcs11-tool, with the same CKA_ID; the id in $KID.
# Returns 1 (and checks no further) if there is not exactly one pair.
one_pair() {
	KID=
	_n="$(counts private-key "$1") $(counts public-key "$1")"
	equal "$1: one private and one public key (list, pkcs11-tool; private, public)" \
		"$_n" "1 1 1 1"
	[ "$_n" = "1 1 1 1" ] || return 1
	KID=$(idof p11t private-key "$1")
	equal "$1: the same CKA_ID on both keys, by both tools" \
		"$(idof p11t public-key "$1") $(idof list private-key "$1") $(idof list public-key "$1")" \
		"$KID $KID $KID"
	check "$1: a 20-byte SHA-1 id" is_sha1 "$KID"
}

echo "# $ROUNDS rounds"
mk_ca ca "/CN=Conc CA"
r=1
attempt=1
NTOKENS=0
while [ "$r" -le "$ROUNDS" ]; do
	if [ "$attempt" -eq 1 ]; then case_ "round $r"; else case_ "round $r, attempt $attempt"; fi
	TL=conc-$r-$attempt
	mk_token "$TL"
	NTOKENS=$((NTOKENS + 1))
	type=ec:P-256
	[ $((r % 5)) -eq 0 ] && type=rsa:2048
	S=same I=same D=diff
	rm -f "$T"/e?.csr "$T"/d?.csr
	racer ea enroll --label "$S" --type "$type" --subject "/CN=$S.a" -o "$T/ea.csr"
	racer eb enroll --label "$S" --type "$type" --subject "/CN=$S.b" -o "$T/eb.csr"
	go
	set -- $RCS
	rea=$1 reb=$2
	# the imports: a certificate from the CA for the key the enrolls made
	if [ "$rea" -eq 0 ]; then csr=$T/ea.csr; else csr=$T/eb.csr; fi
	if [ "$rea" -ne 0 ] && [ "$reb" -ne 0 ]; then
		csr=$T/$I.csr
		p11 --token "$TL" --pin env:USER_PIN enroll --label "$I" --type "$type" --subject "/CN=$I" \
			-o "$csr" >/dev/null 2>"$T/en.err" || fail "enroll $I" "$(cat "$T/en.err")"
	fi
	ca_sign ca "$csr" "$T/$I.pem"
	racer ia import "$T/$I.pem" --chain "$T/ca.pem"
	racer ib import "$T/$I.pem" --chain "$T/ca.pem"
	go
	set -- $RCS
	ria=$1 rib=$2
	racer da enroll --label "${D}a" --type ec:P-256 --subject "/CN=${D}a" -o "$T/da.csr"
	racer db enroll --label "${D}b" --type ec:P-256 --subject "/CN=${D}b" -o "$T/db.csr"
	go
	set -- $RCS
	rda=$1 rdb=$2
	racer ka keygen --label kg --type ec:P-256
	racer kb keygen --label kg --type ec:P-256
	go
	set -- $RCS
	rka=$1 rkb=$2
	inventory

	faulted=
	for x in ea:$rea eb:$reb ia:$ria ib:$rib da:$rda db:$rdb ka:$rka kb:$rkb; do
		if softhsm_fault "${x%:*}" "${x#*:}"; then
			faulted="$faulted ${x%:*}"
			echo "# SoftHSMv2 fault, ${x%:*}: $(cat "$T/${x%:*}.err")"
		fi
	done
	if [ -n "$faulted" ]; then
		FAULTS=$((FAULTS + 1))
		for cl in private-key public-key; do
			at_most_one $cl "$S"
			at_most_one $cl "${D}a"
			at_most_one $cl "${D}b"
			at_most_one $cl kg
		done
		at_most_one certificate "$I"
		at_most_one certificate "Conc CA"
		softhsm2-util --delete-token --token "$TL" >/dev/null 2>&1
		if [ "$attempt" -ge 2 ] || [ "$FAULTS" -gt "$MAX_FAULTS" ]; then
			fail "round $r" "SoftHSMv2 faults in $attempt attempts, $FAULTS in all"
			r=$((r + 1))
			attempt=1
		else
			attempt=$((attempt + 1))
		fi
		continue
	fi

	case_ "round $r: two enrolls of one label ($type)"
	ran_ok ea "$rea"
	ran_ok eb "$reb"
	if [ "$rea" -ne 0 ] && [ "$reb" -ne 0 ]; then
		fail "one enroll succeeded" "exit statuses $rea $reb"
	fi
	if one_pair "$S"; then
		w=
		for j in a b; do
			eval "rc=\$re$j"
			[ "$rc" -eq 0 ] || continue
			w=${w:-e$j}
			check "e$j: the request verifies" req_verifies "$T/e$j.csr"
		done
		pubkey_der "$KID" "$T/tok.der"
		equal "$w: the request's public key is the token's (pkcs11-tool)" \
			"$(req_pubkey "$T/$w.csr")" "$(openssl pkey -pubin -inform DER -in "$T/tok.der" 2>&1)"
		if [ "$rea" -eq 0 ] && [ "$reb" -eq 0 ]; then
			equal "both requests carry the same public key" "$(req_pubkey "$T/ea.csr")" \
				"$(req_pubkey "$T/eb.csr")"
			equal "both name the key (JSON id), one made it, the other reused it" \
				"$(jq -s -r '[.[] | "\(.id) \(.reused)"] | sort | join(" ")' "$T/ea.out" "$T/eb.out" 2>&1)" \
				"$KID false $KID true"
		else
			equal "$w names the key (JSON id)" "$(jq -r .id "$T/$w.out" 2>&1)" "$KID"
		fi
	fi

	case_ "round $r: two imports of one certificate and its CA"
	ran_ok ia "$ria"
	ran_ok ib "$rib"
	if [ "$ria" -ne 0 ] && [ "$rib" -ne 0 ]; then
		fail "one import succeeded" "exit statuses $ria $rib"
	fi
	equal "one certificate '$I' (for the key of the enrolls), one CA certificate (list, pkcs11-tool)" \
		"$(counts certificate "$I") $(counts certificate "Conc CA")" "1 1 1 1"
	iid=$(idof p11t private-key "$I")
	equal "the certificate has its key's CKA_ID" "$(idof p11t certificate "$I")" "$iid"
	if [ "$ria" -eq 0 ] && [ "$rib" -eq 0 ]; then
		equal "both name the certificate and its key; one wrote it and the CA, the other found them" \
			"$(jq -s -c '[.[] | [.uri, .key_uri]] | unique | length' "$T/ia.out" "$T/ib.out" 2>&1) $(
			jq -s -c '[.[] | [.already, .chain_written]] | sort' "$T/ia.out" "$T/ib.out" 2>&1)" \
			"1 [[false,1],[true,0]]"
	fi
	for j in a b; do
		eval "rc=\$ri$j"
		[ "$rc" -eq 0 ] || continue
		case $(jq -r .key_uri "$T/i$j.out" 2>&1) in
		*";id=$(pct "$iid");"*) ok "i$j: JSON key_uri has the key's id" ;;
		*) fail "i$j: JSON key_uri has the key's id $iid" "$(head -c 300 "$T/i$j.out")" ;;
		esac
		break
	done

	case_ "round $r: two keygens of one label"
	equal "one keygen made the key, the other was told the label is taken (exit statuses, sorted)" \
		"$(printf '%s\n' "$rka" "$rkb" | sort -n | tr '\n' ' ')" "0 2 "
	one_pair kg
	for j in a b; do
		eval "rc=\$rk$j"
		[ "$rc" -eq 2 ] || continue
		case $(head -n 1 "$T/k$j.err") in
		"p11enroll: label 'kg' is already on token"*) ok "k$j: one line names the taken label" ;;
		*) fail "k$j: one line names the taken label" "$(cat "$T/k$j.err")" ;;
		esac
	done

	case_ "round $r: two enrolls of two labels"
	for j in a b; do
		eval "rc=\$rd$j"
		if [ "$rc" -eq 0 ]; then
			ok "d$j: exit 0"
		else
			fail "d$j: exit 0" "exit status $rc; stderr: $(head -c 400 "$T/d$j.err")"
		fi
	done
	for j in a b; do
		one_pair "$D$j" || continue
		check "d$j: the request verifies" req_verifies "$T/d$j.csr"
		eval "DID$j=\$KID"
	done
	equal "both name their new key (JSON id, reused)" \
		"$(jq -s -r '[.[] | "\(.id) \(.reused)"] | join(" ")' "$T/da.out" "$T/db.out" 2>&1)" \
		"${DIDa:-} false ${DIDb:-} false"
	unset DIDa DIDb

	softhsm2-util --delete-token --token "$TL" >/dev/null 2>&1 ||
		fail "delete token $TL" "softhsm2-util --delete-token failed"
	r=$((r + 1))
	attempt=1
done
echo "# $ROUNDS rounds in $(since "$start") s; $FAULTS run again after a SoftHSMv2 fault"
rm -f "$T"/*.csr "$T"/*.out "$T"/*.err

case_ "one lock file a token, in a private directory"
check "lock directory: $LOCKDIR" test -d "$LOCKDIR"
equal "lock directory: mode 700" "$(stat -c %a "$LOCKDIR" 2>&1)" 700
equal "a lock file for each token" "$(find "$LOCKDIR" -name 'token-*.lock' | wc -l)" "$NTOKENS"
equal "lock files: mode 600" "$(find "$LOCKDIR" -name 'token-*.lock' ! -perm 600 | wc -l)" 0

# the token for the rest
TL=cli-conc
mk_token "$TL"
rm -f "$LOCKDIR"/*.lock
# en LABEL [ENV...]: enroll LABEL on $TL, with ENV settings (and -v if
# EN_V=-v)
EN_V=
en() {
	_l=$1
	shift
	env "$@" "$P11ENROLL" --module "$SOFTHSM_MODULE" --token "$TL" --pin env:USER_PIN $EN_V enroll \
		--label "$_l" --type ec:P-256 --subject "/CN=$_l" -o "$T/$_l.csr"
}
t0=$(mono)
expect_rc 0 en first
# what a run takes here and now, to bound the waits below at any load
BASE=$(since "$t0")
set -- "$LOCKDIR"/token-*.lock
LOCKF=$1
set -- "$LOCKDIR"/module-*.lock
MODF=$1
tokens_json
tj() {
	jq -r --arg l "$TL" ".[] | select(.label == \$l) | .$1" "$T/tokens.json"
}
equal "the token's lock file: token-SHA256(manufacturer, model, serial).lock" \
	"$(basename "$LOCKF")" "token-$(printf '%s\0%s\0%s\0' "$(tj manufacturer)" "$(tj model)" \
		"$(tj serial)" | sha256sum | cut -d' ' -f1).lock"

# hold [FILE]: another process holds the token's lock (or FILE) until
# release() (or 30 s)
hold() {
	rm -f "$T/held" "$T/release"
	flock "${1:-$LOCKF}" sh -c 'touch "$1/held"; i=0; while [ ! -e "$1/release" ] && [ $i -lt 600 ]; do
		sleep 0.05; i=$((i + 1)); done' sh "$T" &
	HOLDER=$!
	i=0
	while [ ! -e "$T/held" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
	check "another process holds the lock" test -e "$T/held"
}
release() {
	touch "$T/release"
	wait "$HOLDER"
}

case_ "busy: a bounded wait, then one clear line"
hold
snap
t0=$(mono)
expect_error 5 en busy P11ENROLL_LOCK_TIMEOUT=1
dt=$(since "$t0")
contains "$ERR" "token '$TL' is busy"
contains "$ERR" "$LOCKF"
contains "$ERR" "P11ENROLL_LOCK_TIMEOUT"
contains "$ERR" "retry"
# at least the second it was given; far less than the default 30 s, however
# slow this machine is (a whole enroll took $BASE s)
check "gave up after the 1 s it was given ($dt s)" \
	awk -v d="$dt" -v b="$BASE" 'BEGIN { exit !(d >= 1 && d <= 4 + 3 * b) }'
no_file "$T/busy.csr"
unchanged
mk_ca cab "/CN=Busy CA"
EN_V=-v
en wait >/dev/null 2>"$T/wait.err" &
bg=$!
EN_V=
check "another enroll waits while the lock is held (it says so)" \
	wait_for "$T/wait.err" "is busy, another process holds its lock" 60 "$bg"
check "and is still waiting" kill -0 "$bg"
release
wait "$bg"
equal "then goes on: exit 0" "$?" 0
contains "$T/wait.err" "taken after"
check "its request verifies" req_verifies "$T/wait.csr"
ca_sign cab "$T/wait.csr" "$T/wait.pem"
hold
snap
expect_error 5 env P11ENROLL_LOCK_TIMEOUT=0 "$P11ENROLL" --module "$SOFTHSM_MODULE" \
	--token "$TL" --pin env:USER_PIN import "$T/wait.pem"
contains "$ERR" "is busy"
unchanged
release
expect_rc 0 p11 --token "$TL" --pin env:USER_PIN import "$T/wait.pem"

case_ "the holder lets go once the waiter has noted the wait"
hold
t0=$(mono)
en late P11ENROLL_LOCK_TIMEOUT=120 >/dev/null 2>"$T/late.err" &
bg=$!
check "the waiter notes the wait" \
	wait_for "$T/late.err" "note: waiting for token '$TL': another process is changing it" 120 "$bg"
dt=$(since "$t0")
check "after 2 s of it ($dt s)" num_le 2 "$dt"
release
wait "$bg"
equal "then goes on: exit 0" "$?" 0
check "the request verifies" req_verifies "$T/late.csr"

case_ "the module lock: one lock file for the module, mode 600"
check "module-*.lock is there" test -f "$MODF"
equal "mode 600" "$(stat -c %a "$MODF" 2>&1)" 600
equal "one for the one module" "$(find "$LOCKDIR" -name 'module-*.lock' | wc -l)" 1

case_ "the module lock: each racing command waits for it before C_Initialize"
# enroll, keygen and import at once, while another process holds the lock:
# each says it waits, and none has made a call yet; then all go on
hold "$MODF"
t0=$(mono)
W_PIDS=
for w in enroll keygen import; do
	case $w in
	enroll) set -- enroll --label modwait --type ec:P-256 --subject /CN=modwait -o "$T/modwait.csr" ;;
	keygen) set -- keygen --label modkg --type ec:P-256 ;;
	import) set -- import "$T/wait.pem" ;;
	esac
	env P11ENROLL_LOCK_TIMEOUT=120 "$P11ENROLL" --module "$SOFTHSM_MODULE" --token "$TL" \
		--pin env:USER_PIN -v "$@" >"$T/mw-$w.out" 2>"$T/mw-$w.err" &
	W_PIDS="$W_PIDS $w:$!"
done
for wp in $W_PIDS; do
	check "${wp%:*}: notes the wait" wait_for "$T/mw-${wp%:*}.err" \
		"note: waiting for another process using $SOFTHSM_MODULE (module lock $MODF" 120 "${wp#*:}"
done
for wp in $W_PIDS; do
	check_not "${wp%:*}: no C_Initialize while the lock is held" grep -q C_Initialize "$T/mw-${wp%:*}.err"
	check "${wp%:*}: still waiting" kill -0 "${wp#*:}"
done
dt=$(since "$t0")
check "they waited for the holder, 2 s and more ($dt s)" num_le 2 "$dt"
release
for wp in $W_PIDS; do
	wait "${wp#*:}"
	equal "${wp%:*}: then goes on: exit 0" "$?" 0
	contains "$T/mw-${wp%:*}.err" "C_Login: CKR_OK"
done
check "the request verifies" req_verifies "$T/modwait.csr"

case_ "the module lock: held while C_Login runs"
# the wrapper makes C_Login slow and logs it on entry; while the tool is in
# it (its -v line for C_Login not yet written), the lock must be taken.  A
# look that comes after C_Login returned proves nothing and is made again.
if [ -r "${P11FAULT_SO:=$TOP_BUILDDIR/tests/fault/.libs/p11fault.so}" ]; then
	looked=
	for attempt in 1 2 3; do
		rm -rf "$T/run2" "$T/slow.log"
		mkdir -m 700 "$T/run2"
		env XDG_RUNTIME_DIR="$T/run2" P11FAULT_MODULE="$SOFTHSM_MODULE" P11FAULT_LOG="$T/slow.log" \
			P11FAULT_SLOW=C_Login:$((1500 * attempt)) "$P11ENROLL" --module "$P11FAULT_SO" \
			--token "$TL" --pin env:USER_PIN -v list >/dev/null 2>"$T/slow.err" &
		bg=$!
		wait_for "$T/slow.log" C_Login 120 "$bg"
		flock -n -E 99 "$(ls "$T/run2/p11enroll/"module-*.lock 2>/dev/null | head -n 1)" true
		frc=$?
		grep -q 'C_Login:' "$T/slow.err" || looked=$frc
		wait "$bg"
		equal "list through the slow wrapper: exit 0" "$?" 0
		[ -n "$looked" ] && break
		echo "# C_Login had returned before the look (attempt $attempt): again, slower"
	done
	equal "in C_Login, another process cannot take the module lock (flock -n: 99)" "${looked:-none}" 99
else
	left_out "no fault-injecting module (P11FAULT_SO): the lock during C_Login"
fi

case_ "the module lock is best effort: held too long, the run goes on with a warning"
hold "$MODF"
expect_rc 0 en modlate P11ENROLL_LOCK_TIMEOUT=1
contains "$ERR" "warning: another process has held the module lock $MODF for 1 s: going on without it"
check "the request verifies" req_verifies "$T/modlate.csr"
release

case_ "a bad P11ENROLL_LOCK_TIMEOUT"
for v in soon -1 1.5; do
	snap
	expect_error 2 en badto "P11ENROLL_LOCK_TIMEOUT=$v"
	contains "$ERR" "P11ENROLL_LOCK_TIMEOUT"
	unchanged
done

# unsafe DIR WHAT: the lock directory DIR/p11enroll or a file in it is
# refused (status 6, one line saying WHAT), the token as it was
unsafe() {
	snap
	expect_error 6 en unsafe XDG_RUNTIME_DIR="$1"
	contains "$ERR" "$1/p11enroll"
	contains "$ERR" "$2"
	no_file "$T/unsafe.csr"
	unchanged
}
case_ "a lock directory others can write to is refused"
mkdir -p "$T/open/p11enroll"
chmod 777 "$T/open/p11enroll"
unsafe "$T/open" "mode 777"
case_ "a lock directory others can read is refused"
chmod 755 "$T/open/p11enroll"
unsafe "$T/open" "mode 755"
case_ "a lock directory of another user is refused"
if [ "$(id -u)" -eq 0 ] && chown 1:1 "$T/open/p11enroll" 2>/dev/null; then
	chmod 700 "$T/open/p11enroll"
	unsafe "$T/open" "owner uid 1"
else
	left_out "not root: a directory of another user cannot be made"
fi
case_ "a symbolic link as the lock directory is refused"
mkdir -p "$T/link" "$T/elsewhere"
chmod 700 "$T/elsewhere"
ln -s "$T/elsewhere" "$T/link/p11enroll"
unsafe "$T/link" "symbolic link"
check "nothing made where it points" test -z "$(ls "$T/elsewhere")"
case_ "a lock file that is a symbolic link is refused"
mkdir -m 700 -p "$T/flink/p11enroll"
ln -s "$T/target" "$T/flink/p11enroll/$(basename "$LOCKF")"
unsafe "$T/flink" "symbolic link"
no_file "$T/target"
case_ "a relative XDG_RUNTIME_DIR is ignored: then RUNTIME_DIRECTORY (systemd's)"
mkdir -m 755 "$T/rtd"
expect_rc 0 en relative XDG_RUNTIME_DIR=run RUNTIME_DIRECTORY="$T/rtd"
check "the token's lock file in \$RUNTIME_DIRECTORY/p11enroll" test -f "$T/rtd/p11enroll/$(basename "$LOCKF")"
equal "\$RUNTIME_DIRECTORY/p11enroll: mode 700" "$(stat -c %a "$T/rtd/p11enroll" 2>&1)" 700

if [ "$(id -u)" -ne 0 ]; then
	case_ "without XDG_RUNTIME_DIR: /tmp/p11enroll-UID, made 700"
	d=/tmp/p11enroll-$(id -u)
	expect_rc 0 en notmp -u XDG_RUNTIME_DIR -u RUNTIME_DIRECTORY
	check "$d is a directory" test -d "$d" -a ! -L "$d"
	equal "$d: mode 700" "$(stat -c %a "$d" 2>&1)" 700
	equal "$d: ours" "$(stat -c %u "$d" 2>&1)" "$(id -u)"
	check "the token's lock file in it" test -f "$d/$(basename "$LOCKF")"
	rm -f "$d/$(basename "$LOCKF")"
else
	# root's /run/p11enroll is checked in a mount namespace of its own,
	# with a hostile /tmp/p11enroll-0: hardening-lib.sh
	echo "# root without XDG_RUNTIME_DIR: see hardening-lib.sh"
fi

echo "# took $(since "$start") s"
finish
