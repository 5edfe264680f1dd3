#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# ansible.sh - the Ansible module contrib/ansible p11enroll_apply, run by
# ansible-playbook -c local against SoftHSMv2 tokens: check mode reports a
# change and writes nothing; apply makes the keys (changed); a second apply
# is not changed; a failing identity fails the task; PINs given as no_log
# parameters never appear in Ansible's output, even with -vvv.
set -u
. "$(dirname "$0")/../cli/lib.sh"
setup

need_commands ansible-playbook
SO_PIN=11223344
PIN_A=Ans-PinA-6620 PIN_B=Ans-PinB-7731
export SO_PIN
USER_PIN=$PIN_A mk_token ans-a
USER_PIN=$PIN_B mk_token ans-b
mkdir "$T/out" "$T/home" "$T/atmp"
cat >"$T/m.conf" <<EOF
[defaults]
outbox = out
type = ec:P-256
[token a]
label = ans-a
pin = env:ANS_PIN_A
[token b]
label = ans-b
pin = env:ANS_PIN_B
[identity one]
token = a
subject = /CN=one.example
[identity two]
token = a
subject = /CN=two.example
[identity three]
token = b
subject = /CN=three.example
EOF
cat >"$T/play.yml" <<EOF
- hosts: localhost
  gather_facts: false
  tasks:
    - name: tokens as the manifest says
      p11enroll_apply:
        manifest: "{{ manifest }}"
        module: "{{ softhsm }}"
        binary: "{{ p11enroll }}"
        jobs: 2
        audit: "{{ audit }}"
        pins:
          ANS_PIN_A: "{{ pin_a }}"
          ANS_PIN_B: "{{ pin_b }}"
EOF
# the PINs reach Ansible in a vars file only its owner reads, not on a command line
cat >"$T/vars.json" <<EOF
{"manifest": "$T/m.conf", "softhsm": "$SOFTHSM_MODULE", "p11enroll": "$P11ENROLL",
 "audit": "$T/audit.log", "pin_a": "$PIN_A", "pin_b": "$PIN_B",
 "ansible_python_interpreter": "/usr/bin/python3"}
EOF
chmod 600 "$T/vars.json"
HOME=$T/home ANSIBLE_LIBRARY=$TOP_SRCDIR/contrib/ansible/library ANSIBLE_LOCAL_TEMP=$T/atmp \
	ANSIBLE_REMOTE_TEMP=$T/atmp ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0 \
	ANSIBLE_HOST_KEY_CHECKING=0 ANSIBLE_LOCALHOST_WARNING=0
export HOME ANSIBLE_LIBRARY ANSIBLE_LOCAL_TEMP ANSIBLE_REMOTE_TEMP ANSIBLE_NOCOLOR \
	ANSIBLE_RETRY_FILES_ENABLED ANSIBLE_HOST_KEY_CHECKING ANSIBLE_LOCALHOST_WARNING
ALL=$T/all-output

# play WANT [ANSIBLE OPTIONS]: the playbook on localhost, output kept for the PIN grep
play() {
	_want=$1
	shift
	expect_rc "$_want" ansible-playbook -c local -i localhost, -e "@$T/vars.json" "$@" "$T/play.yml"
	cat "$OUT" "$ERR" >>"$ALL"
}
# recap WHAT: the "localhost : ok=.. changed=.. failed=.." line of the last play has WHAT
recap() {
	if grep -E '^localhost +:' "$OUT" | grep -q -E " $1 "; then
		ok "recap: $1"
	else
		fail "recap: $1" "$(grep -E '^localhost +:' "$OUT" || tail -c 600 "$OUT")"
	fi
}
n_keys() {
	PIN=$2 p11 --token "$1" --pin env:PIN --json list | jq '[.[] | select(.class == "private-key")] | length'
}

case_ "check mode: changed, nothing written"
play 0 --check -vvv
recap "changed=1"
equal "ans-a: no key" "$(n_keys ans-a "$PIN_A")" 0
equal "outbox empty" "$(find "$T/out" -type f | wc -l)" 0
check "no audit log" test ! -e "$T/audit.log"
contains "$OUT" "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"

case_ "apply: changed, keys made"
play 0 -v
recap "changed=1"
equal "ans-a: 2 keys" "$(n_keys ans-a "$PIN_A")" 2
equal "ans-b: 1 key" "$(n_keys ans-b "$PIN_B")" 1
equal "3 requests" "$(find "$T/out" -name '*.csr' | wc -l)" 3
equal "audit: 3 keygen lines" "$(jq -c 'select(.action == "keygen" and .result == "ok")' "$T/audit.log" | wc -l)" 3

case_ "second apply: not changed"
play 0 -v
recap "changed=0"
recap "failed=0"
play 0 --check
recap "changed=0"
equal "still 3 keys in all" "$(($(n_keys ans-a "$PIN_A") + $(n_keys ans-b "$PIN_B")))" 3

case_ "a failing identity fails the task"
printf '[identity four]\ntoken = b\nsubject = /CN=four.example\n' >>"$T/m.conf"
sed -i 's/"pin_b": "[^"]*"/"pin_b": "wrong-pin"/' "$T/vars.json"
play 2 -v
recap "failed=1"
contains "$OUT" "identities failed: b/three"
equal "ans-b: still 1 key" "$(n_keys ans-b "$PIN_B")" 1

case_ "no PIN in Ansible's output"
for pin in "$PIN_A" "$PIN_B"; do
	if grep -q -F -e "$pin" "$ALL"; then fail "no PIN in the output" "found"; else ok "no PIN in the output"; fi
done

finish
