#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# units.sh - the systemd units: systemd-analyze verify passes on copies
# whose ExecStart is the built tool; the timer is daily, randomised and
# persistent; exit 10 (changes made) is a success of the service, 11 is not;
# make install puts both under the unit directory given.
set -u
. "$(dirname "$0")/../cli/lib.sh"
setup

need_commands systemd-analyze
SRC=$TOP_SRCDIR/systemd
mkdir "$T/units" "$T/etc"
BIN=$(dirname "$P11ENROLL")
sed -e "s|@bindir@|$BIN|g" -e "s|@sysconfdir@|$T/etc|g" "$SRC/p11enroll-apply.service.in" \
	>"$T/units/p11enroll-apply.service"
cp "$SRC/p11enroll-apply.timer" "$T/units/"

case_ "systemd-analyze verify"
for u in p11enroll-apply.service p11enroll-apply.timer; do
	# --man=no: the man pages are not installed here
	expect_rc 0 systemd-analyze verify --man=no "$T/units/$u"
	# verify names a problem on stderr, and may still exit 0
	if [ -s "$ERR" ]; then fail "$u: no complaint" "$(head -c 600 "$ERR")"; else ok "$u: no complaint"; fi
done
# the checker can fail: a unit with a mistake is refused
sed 's/^Type=oneshot/Type=oneshoot/' "$T/units/p11enroll-apply.service" >"$T/units/bad.service"
systemd-analyze verify --man=no "$T/units/bad.service" >"$OUT" 2>"$ERR"
contains "$ERR" "Failed to parse service type"

case_ "what the units say"
S=$T/units/p11enroll-apply.service
contains "$S" "SuccessExitStatus=10"
contains "$S" "Type=oneshot"
contains "$S" "ExecStart=$BIN/p11enroll -q apply $T/etc/p11enroll/manifest.conf --audit syslog"
not_contains "$S" "SuccessExitStatus=10 11"
contains "$T/units/p11enroll-apply.timer" "OnCalendar=daily"
contains "$T/units/p11enroll-apply.timer" "RandomizedDelaySec="
contains "$T/units/p11enroll-apply.timer" "Persistent=true"
contains "$T/units/p11enroll-apply.timer" "WantedBy=timers.target"
# the service line, run as systemd would (no manifest: refused, bad input)
expect_rc 7 "$BIN/p11enroll" -q apply "$T/etc/p11enroll/manifest.conf" --audit syslog
contains "$ERR" "manifest $T/etc/p11enroll/manifest.conf"

case_ "make install puts both under the unit directory"
if [ -f "$TOP_BUILDDIR/Makefile" ] && grep -q '^systemdsystemunitdir = ' "$TOP_BUILDDIR/Makefile"; then
	make -s -C "$TOP_BUILDDIR" install-systemdsystemunitDATA DESTDIR="$T/dest" \
		systemdsystemunitdir=/lib/systemd/system >"$OUT" 2>"$ERR"
	equal "make install-systemdsystemunitDATA exits 0" "$?" 0
	check "service installed" test -f "$T/dest/lib/systemd/system/p11enroll-apply.service"
	check "timer installed" test -f "$T/dest/lib/systemd/system/p11enroll-apply.timer"
	bindir=$(sed -n 's/^bindir = //p' "$TOP_BUILDDIR/Makefile")
	check "its ExecStart is the installed tool's" \
		grep -q "^ExecStart=.*/p11enroll -q apply .*/p11enroll/manifest.conf" \
		"$T/dest/lib/systemd/system/p11enroll-apply.service"
	not_contains "$T/dest/lib/systemd/system/p11enroll-apply.service" "@bindir@"
	check "bindir known ($bindir)" test -n "$bindir"
else
	left_out "make install: no build tree with systemd units at $TOP_BUILDDIR"
fi

finish
