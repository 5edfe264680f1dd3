# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=sh
# Sourced: point SoftHSMv2 at a token directory of our own, never the
# system one.  Usage: . scripts/softhsm-env.sh DIR (bash), or
# SOFTHSM_ENV_DIR=DIR . scripts/softhsm-env.sh (sh: dash's '.' passes no
# arguments, and "$1" would be the caller's own: empty, the root directory).
softhsm_env() {
	mkdir -p "$1/tokens"
	_d=$(cd "$1" && pwd)
	cat > "$_d/softhsm2.conf" <<CONF
directories.tokendir = $_d/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
CONF
	SOFTHSM2_CONF="$_d/softhsm2.conf"
	export SOFTHSM2_CONF
}
softhsm_env "${SOFTHSM_ENV_DIR:-${1:?usage: . scripts/softhsm-env.sh DIR}}"
