#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck disable=SC2016,SC2154 # $ENV:: and the like are config text, not shell; variables set by eval
# hardening-lib.sh - the library's answers to a security review: a request
# config cannot copy the environment (a PIN given as env:) into a request,
# nor pull in other files; the env: variable is gone once read; weak keys
# are not signed for without being asked to; import writes only the
# certificates of the leaf's own chain; retire's last-valid-key guard holds
# against two retires at once; root's lock directory is not one any user can
# make first; commands that never log in do not wait on another's login.
set -u
. "$(dirname "$0")/lib.sh"
setup

SO_PIN=86420975 USER_PIN=13579864
export SO_PIN USER_PIN
unset P11ENROLL_LOCK_TIMEOUT
TL=hard
mk_token "$TL"

# pt ARGS...: the tool on token $TL, logged in with env:USER_PIN
pt() {
	p11 --token "$TL" --pin env:USER_PIN "$@"
}

# no_pin_in FILE...: none of the files holds the user PIN
no_pin_in() {
	for _f in "$@"; do
		[ -e "$_f" ] || continue
		if grep -a -q -F -e "$USER_PIN" "$_f"; then
			fail "the PIN is not in $(basename "$_f")" "found: $(grep -a -F -e "$USER_PIN" "$_f" | head -2)"
		else
			ok "the PIN is not in $(basename "$_f")"
		fi
	done
}

expect_rc 0 pt keygen --label k1 --type ec:P-256

case_ "a request config cannot copy the environment into the request"
cat >"$T/env.cnf" <<'EOC'
[req]
prompt = no
distinguished_name = dn
[dn]
CN = $ENV::USER_PIN
EOC
for cmd in "csr --key k1" "enroll --label k2 --type ec:P-256"; do
	rm -f "$T/env.csr"
	# shellcheck disable=SC2086 # the command and its options, split on purpose
	expect_error 7 pt $cmd --config "$T/env.cnf" -o "$T/env.csr"
	contains "$ERR" "request config $T/env.cnf:5: '\$' is not allowed"
	no_pin_in "$OUT" "$ERR" "$T/env.csr"
	no_file "$T/env.csr"
	# shellcheck disable=SC2086
	expect_rc 7 pt -v $cmd --config "$T/env.cnf" -o "$T/env.csr"
	no_pin_in "$OUT" "$ERR"
	no_file "$T/env.csr"
done
# ${ENV::NAME} and a plain variable, anywhere in the file
printf '[req]\nprompt = no\ndistinguished_name = dn\nx = ${ENV::USER_PIN}\n[dn]\nCN = a\n' >"$T/env2.cnf"
expect_error 7 pt csr --key k1 --config "$T/env2.cnf" -o "$T/env2.csr"
contains "$ERR" "env2.cnf:4: '\$' is not allowed"
no_file "$T/env2.csr"

case_ "a request config cannot include other files"
printf '[dn]\nCN = included\n' >"$T/inc.cnf"
printf '.include %s\n[req]\nprompt = no\ndistinguished_name = dn\n' "$T/inc.cnf" >"$T/main.cnf"
expect_error 7 pt csr --key k1 --config "$T/main.cnf" -o "$T/inc.csr"
contains "$ERR" "request config $T/main.cnf:1: .include is not allowed"
no_file "$T/inc.csr"
printf '.pragma dollarid:true\n[req]\nprompt = no\ndistinguished_name = dn\n[dn]\nCN = a\n' >"$T/pragma.cnf"
expect_error 7 pt csr --key k1 --config "$T/pragma.cnf" -o "$T/pragma.csr"
contains "$ERR" ".pragma is not allowed"

case_ "a plain request config still works (a '\$' in a comment is fine)"
printf '# costs $5\n[req]\nprompt = no\ndistinguished_name = dn\n[dn]\nCN = plain\n' >"$T/ok.cnf"
expect_rc 0 pt csr --key k1 --config "$T/ok.cnf" -o "$T/ok.csr"
check "the request verifies" req_verifies "$T/ok.csr"

case_ "the env: variable is gone once the PIN is read"
# the fault-injecting wrapper makes C_Login slow and logs it on entry:
# while the tool is in it, the PIN has been read, and its environment (as
# /proc shows it to the user's other processes) must not hold it any more
if [ -r "${P11FAULT_SO:=$TOP_BUILDDIR/tests/fault/.libs/p11fault.so}" ]; then
	rm -f "$T/slow.log"
	env P11FAULT_MODULE="$SOFTHSM_MODULE" P11FAULT_LOG="$T/slow.log" P11FAULT_SLOW=C_Login:1500 \
		"$P11ENROLL" --module "$P11FAULT_SO" --token "$TL" --pin env:USER_PIN list \
		>"$T/envl.out" 2>"$T/envl.err" &
	bg=$!
	if wait_for "$T/slow.log" C_Login 60 "$bg"; then
		tr '\0' '\n' <"/proc/$bg/environ" >"$T/environ" 2>/dev/null
		check "the tool's environment was read (in C_Login)" grep -q '^SOFTHSM2_CONF=' "$T/environ"
		check_not "USER_PIN holds no PIN any more" grep -q '^USER_PIN=.' "$T/environ"
		no_pin_in "$T/environ"
		# the PIN's buffer is locked in memory (pin.c): VmLck above 0;
		# AddressSanitizer ignores mlock, so its build cannot show it
		if ldd "$P11ENROLL" "$TOP_BUILDDIR/src/lib/.libs/libp11enroll.so" 2>/dev/null |
			grep -q 'libasan'; then
			echo "# an ASan build ignores mlock: VmLck is checked in the plain build"
		else
			lck=$(sed -n 's/^VmLck:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$bg/status" 2>/dev/null)
			check "the PIN's memory is locked (VmLck ${lck:-?} kB)" test "${lck:-0}" -gt 0
		fi
	else
		fail "the tool reached C_Login" "$(cat "$T/envl.err")"
	fi
	wait "$bg"
	equal "list: exit 0" "$?" 0
else
	left_out "no fault-injecting module (P11FAULT_SO): the environment during C_Login"
fi

case_ "a weak key is not signed for unless asked"
p11t --keypairgen --key-type rsa:1024 --label weak --id 0a >/dev/null 2>&1 ||
	fail "pkcs11-tool makes an RSA-1024 key" "$(p11t --keypairgen --key-type rsa:1024 --label weak --id 0a 2>&1 | tail -1)"
expect_error 6 pt csr --key weak --subject /CN=weak -o "$T/weak.csr"
contains "$ERR" "key 'weak' is RSA-1024: a request needs at least RSA-2048"
contains "$ERR" "--allow-weak"
no_file "$T/weak.csr"
expect_rc 0 pt csr --key weak --subject /CN=weak --allow-weak -o "$T/weak.csr"
contains "$ERR" "warning: key 'weak' is RSA-1024"
check "with --allow-weak: the request verifies" req_verifies "$T/weak.csr"
expect_rc 0 pt csr --key k1 --subject /CN=strong -o "$T/strong.csr"
stdout_empty

case_ "import writes only the CA certificates of the leaf's chain"
mk_ca root "/CN=Hard Root"
mk_ca int "/CN=Hard Int"
# the intermediate, issued by the root
openssl req -new -key "$T/int.key" -subj "/CN=Hard Int" -out "$T/int.csr" 2>/dev/null
ca_sign root "$T/int.csr" "$T/int.pem" "$(utc '-1 hour')" "$(utc '+90 days')" v3_ca
mk_ca other "/CN=Other CA"
# same name as the root, another key: only a signature tells them apart
mk_ca fake "/CN=Hard Root"
expect_rc 0 pt enroll --label leaf --type ec:P-256 --subject /CN=leaf -o "$T/leaf.csr"
ca_sign int "$T/leaf.csr" "$T/leaf.pem"
snap
cat "$T/int.pem" "$T/root.pem" "$T/other.pem" >"$T/mixed.pem"
expect_error 7 pt import "$T/leaf.pem" --chain "$T/mixed.pem"
contains "$ERR" "CA certificate '/CN=Other CA' in $T/mixed.pem is not in the chain of '/CN=leaf'"
contains "$ERR" "remove it"
unchanged
cat "$T/int.pem" "$T/fake.pem" >"$T/forged.pem"
expect_error 7 pt import "$T/leaf.pem" --chain "$T/forged.pem"
contains "$ERR" "CA certificate '/CN=Hard Root' in $T/forged.pem"
unchanged
# in the certificate file itself, not --chain
cat "$T/leaf.pem" "$T/other.pem" >"$T/leaf+other.pem"
expect_error 7 pt import "$T/leaf+other.pem"
contains "$ERR" "in $T/leaf+other.pem"
unchanged
cat "$T/root.pem" "$T/int.pem" >"$T/good.pem"
expect_rc 0 pt --json import "$T/leaf.pem" --chain "$T/good.pem"
equal "leaf, intermediate and root: two CA certificates written" "$(jq -r .chain_written "$OUT" 2>&1)" 2

case_ "two retires of the two last valid keys: one is refused"
# each retire is held at its first C_DestroyObject (the fault module's
# gate) or, waiting for the token lock, says so (-v); once both are there,
# the gate opens.  Without the lock both would have passed the guard.
if [ -r "$P11FAULT_SO" ]; then
	TR=hard-retire
	mk_token "$TR"
	for k in r1 r2; do
		expect_rc 0 p11 --token "$TR" --pin env:USER_PIN enroll --label $k --type ec:P-256 \
			--subject /CN=$k -o "$T/$k.csr"
		ca_sign root "$T/$k.csr" "$T/$k.pem"
		expect_rc 0 p11 --token "$TR" --pin env:USER_PIN import "$T/$k.pem"
	done
	rm -f "$T/gate" "$T"/ret-*
	for k in r1 r2; do
		env P11FAULT_MODULE="$SOFTHSM_MODULE" P11FAULT_LOG="$T/ret-$k.log" \
			P11FAULT_GATE="C_DestroyObject:$T/gate" "$P11ENROLL" --module "$P11FAULT_SO" \
			--token "$TR" --pin env:USER_PIN -v retire --key $k --yes \
			>"$T/ret-$k.out" 2>"$T/ret-$k.err" &
		eval "pid_$k=\$!"
	done
	# there: at the gate, or waiting for the lock
	there() {
		_n=0
		for _k in r1 r2; do
			if grep -q C_DestroyObject "$T/ret-$_k.log" 2>/dev/null ||
				grep -q 'is busy, another process holds its lock' "$T/ret-$_k.err" 2>/dev/null; then
				_n=$((_n + 1))
			fi
		done
		[ "$_n" -eq 2 ]
	}
	end=$(awk -v a="$(mono)" 'BEGIN { print a + 60 }')
	while ! there && num_le "$(mono)" "$end"; do sleep 0.05; done
	check "both retires are past their plan (at the gate or the lock)" there
	touch "$T/gate"
	wait "$pid_r1"
	rc1=$?
	wait "$pid_r2"
	rc2=$?
	equal "one retire removed its key, the other was refused (exit statuses, sorted)" \
		"$(printf '%s\n' "$rc1" "$rc2" | sort -n | tr '\n' ' ')" "0 6 "
	for k in r1 r2; do
		eval "rc=\$rc$(echo $k | cut -c2)"
		[ "$rc" -eq 6 ] || continue
		contains "$T/ret-$k.err" "key '$k' is the only key on token '$TR' with a valid certificate"
	done
	p11 --token "$TR" --pin env:USER_PIN --json list >"$T/ret.json" 2>/dev/null
	equal "one key with its certificate is left" \
		"$(jq -r '[.[] | select(.class != "public-key") | .class] | sort | join(" ")' "$T/ret.json" 2>&1)" \
		"certificate private-key"
else
	left_out "no fault-injecting module (P11FAULT_SO): two retires at once"
fi

case_ "root without XDG_RUNTIME_DIR: /run/p11enroll, whatever /tmp/p11enroll-0 is"
# In a mount namespace of this test's own: a tmpfs as /run (the real one is
# not touched) and, bound over /tmp/p11enroll-0, a directory of another user
# (nobody), as any local user could make it before root's first run.
if [ "$(id -u)" -ne 0 ]; then
	left_out "not root: root's lock directory"
elif ! command -v unshare >/dev/null 2>&1 || ! unshare -m true 2>/dev/null; then
	left_out "no mount namespace (unshare -m): root's lock directory"
else
	mkdir -m 700 "$T/hostile"
	chown nobody "$T/hostile" 2>/dev/null || chown 65534 "$T/hostile"
	[ -d /tmp/p11enroll-0 ] || mkdir -m 700 /tmp/p11enroll-0
	mkdir -m 755 "$T/rtd"
	# shellcheck disable=SC2016 # the inner script's own variables
	unshare -m sh -c '
		mount --make-rprivate / 2>/dev/null
		mount -t tmpfs -o mode=755 none /run || exit 90
		mount --bind "$1/hostile" /tmp/p11enroll-0 || exit 91
		echo "tmp owner $(stat -c %u /tmp/p11enroll-0)"
		env -u XDG_RUNTIME_DIR -u RUNTIME_DIRECTORY "$2" --module "$3" --token "$4" \
			--pin env:USER_PIN keygen --label rootkg --type ec:P-256 >"$1/root.out" 2>"$1/root.err"
		echo "keygen $?"
		echo "run $(stat -c "%a %u" /run/p11enroll 2>&1)"
		echo "locks $(ls /run/p11enroll | grep -c "^token-.*\.lock$")"
		env -u XDG_RUNTIME_DIR RUNTIME_DIRECTORY="$1/rtd:/elsewhere" "$2" --module "$3" --token "$4" \
			--pin env:USER_PIN keygen --label rootkg2 --type ec:P-256 >"$1/root2.out" 2>"$1/root2.err"
		echo "keygen2 $?"
	' sh "$T" "$P11ENROLL" "$SOFTHSM_MODULE" "$TL" >"$T/ns.txt" 2>&1
	equal "in the namespace, /tmp/p11enroll-0 is another user's" "$(grep '^tmp owner' "$T/ns.txt")" \
		"tmp owner 65534"
	equal "keygen as root works (exit 0)" "$(grep '^keygen ' "$T/ns.txt")" "keygen 0"
	check_not "and says nothing of /tmp/p11enroll-0" grep -q p11enroll-0 "$T/root.err"
	equal "/run/p11enroll: made, mode 700, root's" "$(grep '^run ' "$T/ns.txt")" "run 700 0"
	equal "the token's lock file in it" "$(grep '^locks ' "$T/ns.txt")" "locks 1"
	equal "with RUNTIME_DIRECTORY (systemd): keygen works (exit 0)" \
		"$(grep '^keygen2 ' "$T/ns.txt")" "keygen2 0"
	check "the lock file in its first directory's p11enroll" \
		sh -c "ls '$T/rtd/p11enroll/' | grep -q '^token-.*\.lock\$'"
	[ -s "$T/root.err" ] && echo "# root.err: $(head -c 300 "$T/root.err")"
	grep -v '^tmp owner\|^keygen\|^run \|^locks ' "$T/ns.txt" | sed 's/^/# /'
fi

case_ "commands that never log in do not wait for the module lock, nor keep it"
modlock() {
	echo "$XDG_RUNTIME_DIR/p11enroll/module-$(printf %s "$1" | sha256sum | cut -c1-32).lock"
}
MODF=$(modlock "$SOFTHSM_MODULE")
check "the module lock file is there" test -f "$MODF"
rm -f "$T/held" "$T/release"
flock "$MODF" sh -c 'echo held >"$1/held"; while [ ! -e "$1/release" ]; do sleep 0.05; done' sh "$T" &
holder=$!
check "another process holds the module lock" wait_for "$T/held" held 30
for cmd in status tokens; do
	rm -f "$T/nw.done"
	( env P11ENROLL_LOCK_TIMEOUT=60 "$P11ENROLL" --module "$SOFTHSM_MODULE" --token "$TL" -v $cmd \
		>"$T/nw-$cmd.out" 2>"$T/nw-$cmd.err"
	echo "rc $?" >"$T/nw.done" ) &
	check "$cmd: done while the lock is still held" wait_for "$T/nw.done" "rc " 30
	check "$cmd: the holder still holds it" kill -0 "$holder"
	case $cmd in
	status) check "$cmd: a monitoring exit code (0 to 3)" grep -q '^rc [0-3]$' "$T/nw.done" ;;
	*) check "$cmd: exit 0" grep -q '^rc 0$' "$T/nw.done" ;;
	esac
	contains "$T/nw-$cmd.err" "not waiting, this command does not log in"
	not_contains "$T/nw-$cmd.err" "log in to a token"
done
touch "$T/release"
wait "$holder"
if [ -r "$P11FAULT_SO" ]; then
	# status held at its first C_GetSlotList, after C_Initialize: the lock is free
	rm -f "$T/gate2" "$T/st.log"
	env P11FAULT_MODULE="$SOFTHSM_MODULE" P11FAULT_LOG="$T/st.log" P11FAULT_GATE="C_GetSlotList:$T/gate2" \
		"$P11ENROLL" --module "$P11FAULT_SO" --token "$TL" status >/dev/null 2>"$T/st.err" &
	bg=$!
	if wait_for "$T/st.log" C_Initialize 60 "$bg" && wait_for "$T/st.log" C_GetSlotList 60 "$bg"; then
		flock -n -E 99 "$(modlock "$P11FAULT_SO")" true
		equal "while status reads the token, the module lock is free (flock -n: 0)" "$?" 0
	else
		fail "status reached C_GetSlotList" "$(cat "$T/st.err")"
	fi
	touch "$T/gate2"
	wait "$bg"
else
	left_out "no fault-injecting module (P11FAULT_SO): the module lock after C_Initialize"
fi

finish
